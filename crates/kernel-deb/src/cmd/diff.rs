//! `kernel-deb diff A B` (debdiff) and `kernel-deb inspect DEB` (`samekernel::inspect`):
//! exit 0 identical / consistent, 1 different / a mismatch, 2 bad input.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use super::Exit;

/// Compare two .debs, directories of .debs or build records; name the cause.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// Side A: a .deb, a directory of .debs, or a BUILD-RECORD (or its directory).
    pub a: PathBuf,
    /// Side B: the same kind of input as A.
    pub b: PathBuf,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Largest file (and nested decompression) to inspect, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    pub max_file_mib: u64,
}

pub fn run(args: DiffArgs) -> Result<ExitCode> {
    let limits = debdiff::Limits::with_max_file_mib(args.max_file_mib);
    let report = debdiff::diff_paths(&args.a, &args.b, &limits)
        .map_err(|e| Exit(2, format!("kernel-deb diff: {e}")))?;
    let text = match args.json {
        true => serde_json::to_string_pretty(&report)? + "\n",
        false => super::shown(&report.render()),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(ExitCode::from(if report.is_identical() { 0 } else { 1 }))
}

/// Read a linux-image .deb's kernel banner and embedded config; check them against
/// the build record and toolchain fingerprint.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The linux-image .deb.
    pub deb: PathBuf,
    /// The build record [default: BUILD-RECORD beside the .deb; TOOLCHAIN beside it].
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Also print the embedded .config.
    #[arg(long)]
    pub config: bool,
    /// A JSON report on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn inspect(args: InspectArgs) -> Result<ExitCode> {
    let limits = debdiff::Limits::default();
    let inspection = samekernel::inspect::inspect(&args.deb, args.record.as_deref(), &limits)
        .map_err(|e| Exit(2, format!("kernel-deb: inspect: {e}")))?;
    let ok = inspection.consistent();
    if args.json {
        let report = serde_json::json!({
            "kernel": inspection.kernel, "checks": inspection.checks, "consistent": ok,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", super::shown(&inspection.render_text(args.config)));
    }
    Ok(ExitCode::from(if ok { 0 } else { 1 }))
}
