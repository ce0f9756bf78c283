//! `kernel-deb pin`: write a manifest pinning what apt offers now, and show what changed
//! compared with the built-in default.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use srcpin::Manifest;

use super::fetch::{ProgressUi, make_fetcher};

/// Write a manifest pinning what apt offers now; show what changed.
#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// Debian package whose apt candidate to pin, e.g. linux-source-6.12.
    #[arg(long, value_name = "PKG")]
    pub debian_package: String,
    /// Where to write the manifest (atomically).
    #[arg(short, long, value_name = "M.toml")]
    pub output: PathBuf,
    /// Cache directory [default: $SAMEKERNEL_CACHE, else $XDG_CACHE_HOME/samekernel].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

pub fn run(args: PinArgs) -> Result<ExitCode> {
    let fetcher = make_fetcher(args.cache)?;
    let mut ui = ProgressUi::new();
    let manifest = srcpin::pin::pin_debian_package(&args.debian_package, &fetcher, &mut ui)?;
    ui.finish();
    srcpin::write_atomically(&args.output, manifest.to_toml_string().as_bytes())?;
    let changes = manifest.changes_from(&Manifest::builtin_default());
    if changes.is_empty() {
        println!("identical to the built-in default pin");
    } else {
        println!("changes from the built-in default pin:");
        for c in changes {
            println!("  {c}");
        }
    }
    println!("wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
