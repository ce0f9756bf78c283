//! `kernel-deb fetch`: progress on stderr, the verified tarball's path on stdout.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use srcpin::{Cache, FetchEvent, FetchOptions, FetchProgress, Fetcher, Manifest};

/// Fetch and verify every source and patch of a pin into the cache.
#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// The pin (TOML); the built-in default (Debian 12 linux-source-6.12) when absent.
    #[arg(long, value_name = "M")]
    pub manifest: Option<PathBuf>,
    /// Cache directory [default: $SAMEKERNEL_CACHE, else $XDG_CACHE_HOME/samekernel].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

pub fn run(args: FetchArgs) -> Result<ExitCode> {
    let manifest = load_manifest(args.manifest.as_deref())?;
    let fetcher = make_fetcher(args.cache)?;
    let mut ui = ProgressUi::new();
    let fetched = srcpin::fetch_sources(&manifest, &fetcher, &mut ui)?;
    ui.finish();
    for s in &fetched.signers {
        eprintln!("good signature by pinned signer {s}");
    }
    for p in &fetched.patches {
        eprintln!("verified patch {}: {}", p.name, p.path.display());
    }
    println!("{}", fetched.tarball.display());
    Ok(ExitCode::SUCCESS)
}

/// Reads `--manifest`, or the built-in default.
pub(crate) fn load_manifest(path: Option<&Path>) -> Result<Manifest> {
    Ok(match path {
        Some(p) => Manifest::from_path(p)?,
        None => Manifest::builtin_default(),
    })
}

/// `--cache` or the default cache location, absolute, so the printed blob paths do
/// not depend on the working directory.
pub(crate) fn cache_root(cache: Option<PathBuf>) -> Result<PathBuf> {
    let root = cache
        .or_else(Cache::default_root)
        .context("no cache directory: pass --cache DIR or set SAMEKERNEL_CACHE")?;
    Ok(std::path::absolute(root)?)
}

/// A fetcher over [`cache_root`].
pub(crate) fn make_fetcher(cache: Option<PathBuf>) -> Result<Fetcher> {
    let cache = Cache::new(cache_root(cache)?);
    Ok(Fetcher::new(cache, FetchOptions::default()))
}

/// Draws srcpin's progress events on stderr.
pub(crate) struct ProgressUi {
    tty: bool,
    bar: Option<ProgressBar>,
}

impl ProgressUi {
    pub(crate) fn new() -> ProgressUi {
        ProgressUi {
            tty: std::io::stderr().is_terminal(),
            bar: None,
        }
    }

    pub(crate) fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }

    fn line(&mut self, msg: String) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => eprintln!("{msg}"),
        }
    }
}

impl FetchProgress for ProgressUi {
    fn event(&mut self, event: &FetchEvent<'_>) {
        if event.ends_download() {
            self.finish();
        }
        match event {
            FetchEvent::Start { what, total, .. } if self.tty && *total > 0 => {
                let bar = ProgressBar::new(*total);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                    )
                    .expect("static template")
                    .progress_chars("=> "),
                );
                bar.set_message(what.to_string());
                self.bar = Some(bar);
            }
            FetchEvent::Progress { so_far, .. } => {
                if let Some(b) = &self.bar {
                    b.set_position(*so_far);
                }
            }
            _ => {}
        }
        if let Some(line) = event.message() {
            self.line(line);
        }
    }
}
