//! `kernel-deb verify`: do enough independent witnesses vouch for these .debs?
//!
//! ```text
//! kernel-deb verify DEB... --policy P --testimonies DIR|URL... --keyring FILE... [--json] [--at TIME]
//! ```
//!
//! Testimonies come from local directories (every `*.asc` file in them; other
//! files are ignored, except the data file `X` of a detached signature `X.asc`)
//! and from HTTP(S) mirrors. A URL is either one testimony file, or a plain-text
//! index whose name ends in `.txt` (conventionally `testimonies.txt`) listing one
//! file name per line (`#` comments and blank lines ignored), each fetched
//! relative to the index. Directory listings are not scraped: they are not
//! portable. The same file name from two sources must be byte-identical, else
//! verification stops and names both sources.
//!
//! Each .deb is identified by its own control fields (Package, Version,
//! Architecture) and its streamed sha256. The output is the who-agrees matrix
//! (.deb × witness: agree / DISSENT / silent / invalid, with reasons) and the
//! verdict, then any testimony file skipped by the size/count limits or for not
//! being a regular file; `--json` prints the same as JSON on stdout. The work is
//! done by `samekernel::verify`; this command parses arguments, prints and maps
//! exit codes.
//!
//! Exit codes:
//! - 0: every .deb passed the policy;
//! - 3: not enough agreeing witness groups for some .deb (and no dissent);
//! - 4: a trusted witness dissented (built a different file) for some .deb;
//! - 1: bad input or other error (unreadable policy/keyring/.deb, mirrors that
//!   disagree, network failure or a mirror silent for `--http-idle-timeout`);
//! - 2: usage error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use samekernel::verify::{HttpTimeouts, Report, TrustInputs, verify};
use testimony::collect::Limits;

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
    /// Reference time for signature and age checks: Unix seconds or
    /// YYYY-MM-DDTHH:MM:SSZ [default: now].
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Longest silence of a testimony mirror, in seconds, before giving up.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub http_idle_timeout: u64,
}

impl TrustArgs {
    /// The library's inputs (default limits).
    pub(crate) fn inputs(&self) -> Result<TrustInputs> {
        Ok(TrustInputs {
            policy: self.policy.clone(),
            sources: self.testimonies.clone(),
            keyrings: self.keyring.clone(),
            at: parse_time(self.at.as_deref())?,
            limits: Limits::default(),
            http: HttpTimeouts {
                idle: Duration::from_secs(self.http_idle_timeout.max(1)),
                ..HttpTimeouts::default()
            },
        })
    }
}

/// Arguments of `kernel-deb verify`.
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
    print_report(&report, args.json)?;
    Ok(ExitCode::from(report.verdict.exit_code()))
}

/// The table, or JSON on stdout.
pub(crate) fn print_report(report: &Report, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

/// Parses `--at`.
pub(crate) fn parse_time(s: Option<&str>) -> Result<SystemTime> {
    let Some(s) = s else {
        return Ok(SystemTime::now());
    };
    let secs = match s.parse::<u64>() {
        Ok(n) => n,
        Err(_) => testimony::canonical::parse_utc(s).with_context(|| {
            format!("--at {s:?}: expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ")
        })?,
    };
    Ok(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse() {
        assert_eq!(parse_time(Some("0")).unwrap(), SystemTime::UNIX_EPOCH);
        assert_eq!(
            parse_time(Some("1970-01-02T00:00:00Z")).unwrap(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(86400)
        );
        assert!(parse_time(Some("yesterday")).is_err());
    }
}
