//! `kernel-deb verify`: the who-agrees matrix and verdict of `samekernel::verify`
//! (sources: `testimony::collect`). Exit codes: 0 every .deb passed, 3 not enough
//! agreeing witness groups, 4 a trusted witness dissented, 1 bad input or error.

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
