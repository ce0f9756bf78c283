//! `kernel-deb testify`: turn a build record into a signed testimony.
//!
//! ```text
//! kernel-deb testify --record R (--key KEYFILE | --gpg-key ID) --name NAME
//!     --review N --trust N [--jurisdiction J] [--computer-system S] [--canary TEXT | --no-canary]
//!     [--statement LINE]... [--build-date TIME] [--v1] -o OUT.asc
//! ```
//!
//! Writes a clearsigned v2 testimony to OUT.asc; with `--v1` also the seed's v1
//! form to OUT.v1.asc (same name with `.v1` before `.asc`). Signing uses the
//! unencrypted OpenPGP secret key in KEYFILE (as exported by `sq` or
//! `gpg --export-secret-keys`), or is handed to `gpg --clearsign --local-user ID`
//! (your gpg-agent asks for the passphrase). The signed text is checked against
//! the key before anything is written: the v2 `witness-fingerprint` is the
//! signing key's primary fingerprint.
//!
//! Exit codes: 0 written, 1 error, 2 usage error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use testimony::build_record::BuildRecord;
use testimony::sign::SigningKey;
use testimony::signer::Signer;
use testimony::v1::{V1Info, V1Testimony};
use testimony::v2::{TestimonyV2, WitnessInfo};

use super::verify::parse_time;

/// The seed's canary statement, on one line.
pub const DEFAULT_CANARY: &str = "I hereby freely say that I am not, and I never was, and I do not suspect to be in foreseeable future, under ANY form of NDA or gag order (nor ANY influence) that could in any way affect this verification testimony.";

/// Arguments of `kernel-deb testify`.
#[derive(Debug, clap::Args)]
pub struct TestifyArgs {
    /// The build record written by `kernel-deb build`.
    #[arg(long, value_name = "R")]
    pub record: PathBuf,
    /// Unencrypted OpenPGP secret key file to sign with.
    #[arg(
        long,
        value_name = "KEYFILE",
        conflicts_with = "gpg_key",
        required_unless_present = "gpg_key"
    )]
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
    for p in write(&args)? {
        println!("{}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Temp file next to `path`, fsync, rename: never a half-written testimony.
fn write_atomic(path: &Path, text: &str) -> Result<()> {
    detdeb::safe_extract::atomic::write_file(path, text.as_bytes(), 0o644, ".testimony-")
        .with_context(|| format!("cannot write {}", path.display()))
}

fn v1_path(out: &Path) -> PathBuf {
    let s = out.to_string_lossy();
    PathBuf::from(match s.strip_suffix(".asc") {
        Some(stem) => format!("{stem}.v1.asc"),
        None => format!("{s}.v1.asc"),
    })
}

fn write(args: &TestifyArgs) -> Result<Vec<PathBuf>> {
    let rtext = std::fs::read_to_string(&args.record)
        .with_context(|| format!("reading {}", args.record.display()))?;
    let record =
        BuildRecord::parse(&rtext).map_err(|e| e.with_origin(args.record.display().to_string()))?;
    let signer = match (&args.key, &args.gpg_key) {
        (Some(k), _) => {
            let bytes = std::fs::read(k).with_context(|| format!("reading key {}", k.display()))?;
            Signer::Key(Box::new(SigningKey::from_bytes(
                &bytes,
                &k.display().to_string(),
            )?))
        }
        (None, Some(id)) => Signer::Gpg(id.clone(), None),
        (None, None) => bail!("give --key KEYFILE or --gpg-key ID"),
    };
    let fingerprint = signer.fingerprint()?;
    let canary = if args.no_canary {
        None
    } else {
        Some(args.canary.clone().unwrap_or_else(|| DEFAULT_CANARY.into()))
    };
    let witness = WitnessInfo {
        name: args.name.clone(),
        fingerprint,
        jurisdiction: args.jurisdiction.clone(),
        computer_system: args.computer_system.clone(),
        code_review: args.review,
        computer_trust: args.trust,
        canary,
        statement: args.statement.clone(),
    };
    let build_date = secs(parse_time(args.build_date.as_deref())?);
    let v2 = TestimonyV2::from_build_record(&record, witness, build_date);
    v2.validate().context("a flag value cannot be written canonically (line break, control character, or leading/trailing space?)")?;
    let mut written = Vec::new();
    write_atomic(&args.output, &signer.clearsign(&v2.to_text())?)?;
    written.push(args.output.clone());
    if args.v1 {
        let info = V1Info {
            name: args.name.clone(),
            code_review: args.review,
            computer_trust: args.trust,
            computer_system: args.computer_system.clone(),
            jurisdiction: args
                .jurisdiction
                .clone()
                .unwrap_or_else(|| "not stated".into()),
            sources_sign_by_fpr: None,
        };
        let v1 = V1Testimony::from_build_record(&record, &info);
        let p = v1_path(&args.output);
        write_atomic(&p, &signer.clearsign(&v1.to_text())?)?;
        written.push(p);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use testimony::canonical::sha256_hex;
    use testimony::verify::{Keyring, verify_cleartext};

    use super::*;

    fn keys() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/testimony/keys")
    }

    fn fpr(name: &str) -> String {
        let list = std::fs::read_to_string(keys().join("fingerprints.txt")).unwrap();
        let line = list
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap();
        line.split_once(' ').unwrap().1.to_string()
    }

    fn alice_keyring() -> Keyring {
        Keyring::from_bytes(&std::fs::read(keys().join("alice.cert")).unwrap(), "alice").unwrap()
    }

    /// A build record with `n` files per package: about 100 bytes a line.
    fn record(n: usize) -> BuildRecord {
        let mut r = testimony::build_record::BuildRecord {
            source: testimony::build_record::SourcePin {
                manifest_sha256: sha256_hex(b"m"),
                tarball_name: "linux.tar.xz".into(),
                tarball_sha256: sha256_hex(b"t"),
                source_date_epoch: 1,
            },
            toolchain: Default::default(),
            kernel_config_sha256: sha256_hex(b"c"),
            hardening: None,
            module_cert_sha256: None,
            debs: vec![testimony::build_record::DebRecord {
                file_name: "sk-test_1.0-1_all.deb".into(),
                package: "sk-test".into(),
                version: "1.0-1".into(),
                architecture: "all".into(),
                size: 1,
                sha256: sha256_hex(b"deb"),
                files: (0..n)
                    .map(|i| testimony::build_record::FileHash {
                        path: format!("lib/modules/6.12.38/kernel/drivers/some/module-{i:06}.ko"),
                        sha256: sha256_hex(i.to_string().as_bytes()),
                    })
                    .collect(),
            }],
        };
        r.normalize();
        r
    }

    #[test]
    fn testify_writes_signed_v2_and_v1_and_refuses_non_canonical_values() {
        let dir = tempfile::tempdir().unwrap();
        let rec = record(3);
        let rp = dir.path().join("build-record.txt");
        std::fs::write(&rp, rec.to_text()).unwrap();
        let args = |name: &str, out: &str| TestifyArgs {
            record: rp.clone(),
            key: Some(keys().join("alice.key")),
            gpg_key: None,
            name: name.into(),
            review: 4,
            trust: 50,
            jurisdiction: Some("Iceland".into()),
            computer_system: None,
            canary: None,
            no_canary: false,
            statement: vec!["built twice".into()],
            build_date: Some("1780185600".into()),
            v1: true,
            output: dir.path().join(out),
        };
        let written = write(&args("alice", "alice.asc")).unwrap();
        assert_eq!(
            written,
            vec![
                dir.path().join("alice.asc"),
                dir.path().join("alice.v1.asc")
            ]
        );
        let v = verify_cleartext(
            &std::fs::read(&written[0]).unwrap(),
            &alice_keyring(),
            SystemTime::now(),
            "t",
        )
        .unwrap();
        let t = TestimonyV2::parse(&v.text).unwrap();
        assert_eq!(
            (t.witness.fingerprint.as_str(), t.debs[0].sha256.as_str()),
            (fpr("alice").as_str(), rec.debs[0].sha256.as_str())
        );
        // A value that cannot be canonical is refused before signing.
        assert!(write(&args("alice\nwitness-code-review=10", "x.asc")).is_err());
        assert!(!dir.path().join("x.asc").exists());
    }
}
