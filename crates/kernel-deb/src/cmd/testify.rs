//! `kernel-deb testify`: a build record becomes a clearsigned v2 testimony (and with
//! `--v1` the seed's v1 form beside it), signed by a key file or gpg (`testimony::testify`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use testimony::build_record::BuildRecord;
use testimony::signer::Signer;
use testimony::testify::{DEFAULT_CANARY, Testify, TestifyError, v1_path};

use super::verify::parse_time;

/// Turn a build record into a signed testimony (v2, optionally also v1).
#[derive(Debug, clap::Args)]
pub struct TestifyArgs {
    /// The build record written by `kernel-deb build`.
    #[arg(long, value_name = "R")]
    pub record: PathBuf,
    /// Unencrypted OpenPGP secret key file to sign with.
    #[arg(long, value_name = "KEYFILE", conflicts_with = "gpg_key")]
    #[arg(required_unless_present = "gpg_key")]
    pub key: Option<PathBuf>,
    /// Sign with `gpg --clearsign --local-user ID` instead.
    #[arg(long, value_name = "ID")]
    pub gpg_key: Option<String>,
    /// Your name or pseudonym.
    #[arg(long)]
    pub name: String,
    /// How you reviewed the source: 0 none, 2 glanced, 4 compared to reviewed versions,
    /// 8 reviewed from scratch, 10 deep review.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=10))]
    pub review: u8,
    /// Security of the build computer: 0-50 regular, 50-100 hardened, 100-200 +airgap,
    /// 200-300 +open hardware.
    #[arg(long, value_parser = clap::value_parser!(u16).range(0..=300))]
    pub trust: u16,
    /// The law jurisdiction you are under.
    #[arg(long)]
    pub jurisdiction: Option<String>,
    /// The computer system used, e.g. "Debian 12.11".
    #[arg(long)]
    pub computer_system: Option<String>,
    /// The canary statement [default: the seed's no-gag-order statement].
    #[arg(long, conflicts_with = "no_canary")]
    pub canary: Option<String>,
    /// Leave the canary statement out.
    #[arg(long)]
    pub no_canary: bool,
    /// A line of free human statement (repeatable).
    #[arg(long)]
    pub statement: Vec<String>,
    /// When you built: Unix seconds or YYYY-MM-DDTHH:MM:SSZ [default: now].
    #[arg(long, value_name = "TIME")]
    pub build_date: Option<String>,
    /// Also write the seed's v1 format to OUT.v1.asc.
    #[arg(long)]
    pub v1: bool,
    /// Where to write the clearsigned v2 testimony.
    #[arg(short = 'o', long = "output", value_name = "OUT.asc")]
    pub output: PathBuf,
}

pub fn run(args: TestifyArgs) -> Result<ExitCode> {
    let record = BuildRecord::read(&args.record)?;
    let signer = match (&args.key, &args.gpg_key) {
        (Some(k), _) => Signer::from_key_file(k)?,
        (_, id) => Signer::Gpg(id.clone().context("give --key or --gpg-key")?, None),
    };
    let request = Testify {
        name: args.name,
        code_review: args.review,
        computer_trust: args.trust,
        jurisdiction: args.jurisdiction,
        computer_system: args.computer_system,
        canary: (!args.no_canary).then(|| args.canary.unwrap_or_else(|| DEFAULT_CANARY.into())),
        statement: args.statement,
        build_date: parse_time("--build-date", args.build_date.as_deref())?,
        with_v1: args.v1,
    };
    let signed = request.sign(&record, &signer).map_err(|e| match e {
        TestifyError::NotCanonical(e) => anyhow::Error::new(e).context(
            "a flag value cannot be written canonically (line break, control character, or leading/trailing space?)",
        ),
        e => e.into(),
    })?;
    let v1 = signed.v1.as_ref().map(|text| (v1_path(&args.output), text));
    for (path, text) in std::iter::once((args.output.clone(), &signed.v2)).chain(v1) {
        // Temp file next to it, fsync, rename: never a half-written testimony.
        detdeb::safe_extract::atomic::write_file(&path, text.as_bytes(), 0o644, ".testimony-")
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
