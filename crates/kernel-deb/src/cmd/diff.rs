//! `kernel-deb diff A B` (debdiff): exit 0 identical, 1 different, 2 bad input.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

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
    let limits = debdiff::Limits {
        max_file_bytes: args.max_file_mib << 20,
        max_decompressed: args.max_file_mib << 20,
        ..debdiff::Limits::default()
    };
    let report = match debdiff::diff_paths(&args.a, &args.b, &limits) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kernel-deb diff: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(report.render().as_bytes())?;
    }
    Ok(ExitCode::from(if report.is_identical() { 0 } else { 1 }))
}
