//! `kernel-deb source`: the patched tree appears whole at `--out`; its path on stdout.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use srcpin::UnpackLimits;

use super::fetch::{ProgressUi, load_manifest, make_fetcher};

/// Safe-unpack the pinned source into a directory and apply its patches.
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// Where the patched source tree appears (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The pin (TOML); the built-in default when absent.
    #[arg(long, value_name = "M")]
    pub manifest: Option<PathBuf>,
    /// Cache directory [default: $SAMEKERNEL_CACHE, else $XDG_CACHE_HOME/samekernel].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

pub fn run(args: SourceArgs) -> Result<ExitCode> {
    // Fail before any download when the output directory is in the way.
    if std::fs::read_dir(&args.out).is_ok_and(|mut d| d.next().is_some()) {
        anyhow::bail!(
            "{}: refusing to overwrite an existing non-empty directory",
            args.out.display()
        );
    }
    let manifest = load_manifest(args.manifest.as_deref())?;
    let fetcher = make_fetcher(args.cache)?;
    let mut ui = ProgressUi::new();
    let fetched = srcpin::fetch_sources(&manifest, &fetcher, &mut ui)?;
    let out = srcpin::prepare_source(&fetched, &args.out, &UnpackLimits::default(), &mut ui)?;
    ui.finish();
    eprintln!("SOURCE_DATE_EPOCH={}", fetched.source_date_epoch);
    println!("{}", out.display());
    Ok(ExitCode::SUCCESS)
}
