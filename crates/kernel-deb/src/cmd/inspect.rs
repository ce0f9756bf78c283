//! `kernel-deb inspect DEB` (`samekernel::inspect`): exit 0 consistent, 1 a mismatch,
//! 2 bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use samekernel::inspect::inspect;

/// Read a linux-image .deb's kernel banner and embedded config; check them against
/// the build record and toolchain fingerprint.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The linux-image .deb.
    pub deb: PathBuf,
    /// The build record [default: BUILD-RECORD beside the .deb]; TOOLCHAIN is read from
    /// beside the record when present.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Also print the embedded .config.
    #[arg(long)]
    pub config: bool,
    /// A JSON report on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: InspectArgs) -> Result<ExitCode> {
    let limits = debdiff::Limits::default();
    let inspection = match inspect(&args.deb, args.record.as_deref(), &limits) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("kernel-deb: inspect: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let ok = inspection.consistent();
    if args.json {
        let report = serde_json::json!({
            "kernel": inspection.kernel, "checks": inspection.checks, "consistent": ok,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", inspection.render_text(args.config));
    }
    Ok(ExitCode::from(if ok { 0 } else { 1 }))
}
