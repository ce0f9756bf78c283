//! `kernel-deb verify` and `install` (`samekernel::verify`, `samekernel::install`).
//! Exit codes: 0 every .deb passed, 3 not enough agreeing witness groups (or a
//! testimony left unread by a limit: `Decision::Incomplete`), 4 a trusted
//! witness dissented, 1 bad input or error; `install` also 5 when dpkg failed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use samekernel::install::{DpkgTarget, install};
use samekernel::verify::{TrustInputs, verify};

/// Where testimonies come from and what decides.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustArgs {
    /// Policy file (TOML): witnesses, threshold, minimums, dissent rule.
    #[arg(long, value_name = "P")]
    pub policy: PathBuf,
    /// Directories of *.asc testimonies, or http(s) URLs of testimony files or of a
    /// testimonies.txt index.
    #[arg(long = "testimonies", value_name = "DIR|URL", required = true, num_args = 1..)]
    pub testimonies: Vec<String>,
    /// OpenPGP certificates of the witnesses (armored or binary; repeatable).
    #[arg(long, value_name = "FILE", required = true)]
    pub keyring: Vec<PathBuf>,
    /// Time of signature and age checks: Unix seconds or YYYY-MM-DDTHH:MM:SSZ [default: now]
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Longest silence of a testimony mirror, in seconds, before giving up.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub http_idle_timeout: u64,
}

impl TrustArgs {
    /// The library's inputs (default limits).
    pub(crate) fn inputs(self) -> Result<TrustInputs> {
        let mut inputs = TrustInputs::new(self.policy, self.testimonies, self.keyring);
        let at = parse_time("--at", self.at.as_deref())?;
        inputs.at = UNIX_EPOCH + Duration::from_secs(at);
        inputs.http.idle = Duration::from_secs(self.http_idle_timeout);
        Ok(inputs)
    }
}

/// Check .debs against signed testimonies and a policy; print who agrees.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The .deb files to decide about.
    #[arg(value_name = "DEB", required = true)]
    pub debs: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Print the verdict as JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    let report = verify(&args.debs, &args.trust.inputs()?)?;
    match args.json {
        true => println!("{}", serde_json::to_string_pretty(&report)?),
        false => print!("{}", super::shown(&report.to_table())),
    }
    Ok(ExitCode::from(report.verdict.exit_code()))
}

/// Verify, then install with dpkg only if the policy passed.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The .deb files to verify and install.
    #[arg(value_name = "DEB", required = true)]
    pub debs: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Install into this dpkg root (`dpkg --root DIR`) instead of the running system.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

pub fn install_run(args: InstallArgs) -> Result<ExitCode> {
    let target = DpkgTarget { root: args.root };
    let done = install(&args.debs, &args.trust.inputs()?, &target)?;
    let (line, code) = done.summary();
    print!("{}", super::shown(&done.report.to_table()));
    println!("{}", super::shown(&line));
    Ok(ExitCode::from(code))
}

/// `--at`, `--build-date` as Unix seconds [default: now].
pub(crate) fn parse_time(flag: &str, s: Option<&str>) -> Result<u64> {
    let Some(s) = s else {
        return Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs());
    };
    let expected = "expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ";
    testimony::canonical::parse_time_arg(s).with_context(|| format!("{flag} {s:?}: {expected}"))
}
