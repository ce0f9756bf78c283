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

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use testimony::build_record::BuildRecord;
use testimony::canonical::Fingerprint;
use testimony::sign::{SigningKey, sign_cleartext};
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

enum Signer {
    Key(Box<SigningKey>),
    /// A gpg key id, and the GnuPG home to use (None: gpg's default).
    Gpg(String, Option<PathBuf>),
}

fn gpg(home: &Option<PathBuf>) -> Command {
    let mut c = Command::new("gpg");
    if let Some(h) = home {
        c.env("GNUPGHOME", h);
    }
    c
}

impl Signer {
    fn fingerprint(&self) -> Result<Fingerprint> {
        match self {
            Signer::Key(k) => Ok(k.fingerprint()),
            Signer::Gpg(id, home) => {
                let out = gpg(home)
                    .args([
                        "--batch",
                        "--with-colons",
                        "--fingerprint",
                        "--list-secret-keys",
                        id,
                    ])
                    .output()
                    .context("running gpg")?;
                if !out.status.success() {
                    bail!(
                        "gpg has no secret key {id:?}: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                }
                let text = String::from_utf8_lossy(&out.stdout);
                let fprs: Vec<&str> = text
                    .lines()
                    .filter(|l| l.starts_with("fpr:"))
                    .filter_map(|l| l.split(':').nth(9))
                    .collect();
                let sec_count = text.lines().filter(|l| l.starts_with("sec:")).count();
                if sec_count != 1 {
                    bail!(
                        "gpg key id {id:?} matches {sec_count} secret keys; give a full fingerprint"
                    );
                }
                fprs.first()
                    .and_then(|f| Fingerprint::parse(f))
                    .with_context(|| format!("no v4 fingerprint for gpg key {id:?}"))
            }
        }
    }

    fn clearsign(&self, text: &str) -> Result<String> {
        match self {
            Signer::Key(k) => Ok(sign_cleartext(text, k, SystemTime::now())?),
            Signer::Gpg(id, home) => {
                let mut c = gpg(home)
                    .args(["--clearsign", "--local-user", id])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .context("running gpg --clearsign")?;
                c.stdin.take().expect("piped").write_all(text.as_bytes())?;
                let out = c.wait_with_output()?;
                if !out.status.success() {
                    bail!("gpg --clearsign failed ({})", out.status);
                }
                Ok(String::from_utf8(out.stdout).context("gpg output is not UTF-8")?)
            }
        }
    }
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
    std::fs::write(&args.output, signer.clearsign(&v2.to_text())?)
        .with_context(|| format!("writing {}", args.output.display()))?;
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
        std::fs::write(&p, signer.clearsign(&v1.to_text())?)
            .with_context(|| format!("writing {}", p.display()))?;
        written.push(p);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::super::verify::decide;
    use super::super::verify::tests::{AT, keys, make_deb, trust};
    use super::*;

    #[test]
    fn gpg_hand_off_signs_with_the_named_key() {
        let home = tempfile::tempdir().unwrap();
        let st = Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args(["--batch", "--quiet", "--import"])
            .arg(keys().join("alice.key"))
            .status()
            .unwrap();
        assert!(st.success());
        let fpr = super::super::verify::tests::fpr("alice");
        let s = Signer::Gpg(fpr.clone(), Some(home.path().to_path_buf()));
        assert_eq!(s.fingerprint().unwrap().as_str(), fpr);
        let signed = s.clearsign("a=b\n").unwrap();
        let keyring = testimony::verify::Keyring::from_bytes(
            &std::fs::read(keys().join("alice.cert")).unwrap(),
            "alice",
        )
        .unwrap();
        let v = testimony::verify::verify_cleartext(
            signed.as_bytes(),
            &keyring,
            SystemTime::now(),
            "gpg",
        )
        .unwrap();
        assert_eq!(v.good_signers()[0].as_str(), fpr);
        assert_eq!(v.text, "a=b\n");
        let missing = Signer::Gpg("nobody@example.org".into(), Some(home.path().to_path_buf()));
        assert!(missing.fingerprint().is_err());
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", home.path())
            .args(["--kill", "all"])
            .status();
    }

    #[test]
    fn testify_then_verify() {
        let dir = tempfile::tempdir().unwrap();
        let (deb, rec) = make_deb(dir.path(), "good");
        let rp = dir.path().join("build-record.txt");
        std::fs::write(&rp, rec.to_text()).unwrap();
        let t = dir.path().join("t");
        std::fs::create_dir(&t).unwrap();
        for who in ["alice", "bob"] {
            let args = TestifyArgs {
                record: rp.clone(),
                key: Some(keys().join(format!("{who}.key"))),
                gpg_key: None,
                name: who.into(),
                review: 4,
                trust: 50,
                jurisdiction: Some("Iceland".into()),
                computer_system: None,
                canary: None,
                no_canary: false,
                statement: vec!["built twice".into()],
                build_date: Some((AT - 86400).to_string()),
                v1: who == "bob",
                output: t.join(format!("{who}.asc")),
            };
            let written = write(&args).unwrap();
            assert_eq!(written.len(), if who == "bob" { 2 } else { 1 });
        }
        assert!(t.join("bob.v1.asc").exists());
        // Signed "now": verify at now.
        let mut targs = trust(dir.path(), vec![t.display().to_string()]);
        targs.at = None;
        let v = decide(std::slice::from_ref(&deb), &targs).unwrap();
        assert_eq!(v.exit_code(), 0, "{}", v.to_table());
        // A value that cannot be canonical is refused before signing.
        let bad = TestifyArgs {
            record: rp,
            key: Some(keys().join("alice.key")),
            gpg_key: None,
            name: "alice\nwitness-code-review=10".into(),
            review: 0,
            trust: 0,
            jurisdiction: None,
            computer_system: None,
            canary: None,
            no_canary: true,
            statement: vec![],
            build_date: None,
            v1: false,
            output: dir.path().join("x.asc"),
        };
        assert!(write(&bad).is_err());
        assert!(!dir.path().join("x.asc").exists());
    }
}
