//! `kernel-deb fetch`, `source` and `pin`: a pin's sources into the cache (progress on
//! stderr, the verified tarball's path on stdout), the patched tree (appearing whole at
//! `--out`), and a new pin from what apt offers (srcpin).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use srcpin::{Cache, FetchOptions, Fetcher, Manifest, UnpackLimits};

use super::term::Term;

/// The pin and the cache of `fetch` and `source`.
#[derive(Debug, clap::Args)]
pub struct PinnedArgs {
    /// The pin (TOML); the built-in default (Debian 12 linux-source-6.12) when absent.
    #[arg(long, value_name = "M")]
    pub manifest: Option<PathBuf>,
    #[command(flatten)]
    pub cache: CacheArg,
}

/// Where fetched sources are kept.
#[derive(Debug, Clone, clap::Args)]
pub struct CacheArg {
    /// Cache directory [default: $SAMEKERNEL_CACHE, else $XDG_CACHE_HOME/samekernel].
    #[arg(long = "cache", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl CacheArg {
    /// A fetcher over [`cache_root`].
    pub(crate) fn fetcher(&self) -> Result<Fetcher> {
        let cache = Cache::new(cache_root(self.dir.clone())?);
        Ok(Fetcher::new(cache, FetchOptions::default()))
    }
}

/// `--cache DIR` or the default, absolute (printed paths must not depend on the cwd).
pub(crate) fn cache_root(dir: Option<PathBuf>) -> Result<PathBuf> {
    let root = (dir.or_else(Cache::default_root))
        .context("no cache directory: pass --cache DIR or set SAMEKERNEL_CACHE")?;
    Ok(std::path::absolute(root)?)
}

impl PinnedArgs {
    /// Fetches and verifies every source and patch of the pin.
    fn fetch(&self, ui: &mut Term) -> Result<srcpin::FetchedSources> {
        let manifest = match &self.manifest {
            Some(p) => Manifest::from_path(p)?,
            None => Manifest::builtin_default(),
        };
        let fetcher = self.cache.fetcher()?;
        Ok(srcpin::fetch_sources(&manifest, &fetcher, ui)?)
    }
}

/// Fetch and verify every source and patch of a pin into the cache.
#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub pinned: PinnedArgs,
}

pub fn run(args: FetchArgs) -> Result<ExitCode> {
    let mut ui = Term::new(false);
    let fetched = args.pinned.fetch(&mut ui)?;
    ui.finish();
    ui.lines(&fetched.verified_lines());
    println!("{}", fetched.tarball.display());
    Ok(ExitCode::SUCCESS)
}

/// Safe-unpack the pinned source into a directory and apply its patches.
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// Where the patched source tree appears (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub pinned: PinnedArgs,
}

pub fn source(args: SourceArgs) -> Result<ExitCode> {
    srcpin::check_output_free(&args.out)?; // before any download
    let mut ui = Term::new(false);
    let fetched = args.pinned.fetch(&mut ui)?;
    let out = srcpin::prepare_source(&fetched, &args.out, &UnpackLimits::default(), &mut ui)?;
    ui.finish();
    eprintln!("SOURCE_DATE_EPOCH={}", fetched.source_date_epoch);
    println!("{}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Write a manifest pinning what apt offers now; show what changed.
#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// Debian package whose apt candidate to pin, e.g. linux-source-6.12.
    #[arg(long, value_name = "PKG")]
    pub debian_package: String,
    /// Where to write the manifest (atomically).
    #[arg(short, long, value_name = "M.toml")]
    pub output: PathBuf,
    #[command(flatten)]
    pub cache: CacheArg,
}

pub fn pin(args: PinArgs) -> Result<ExitCode> {
    let mut ui = Term::new(false);
    let fetcher = args.cache.fetcher()?;
    let manifest = srcpin::pin::pin_debian_package(&args.debian_package, &fetcher, &mut ui)?;
    ui.finish();
    srcpin::write_atomically(&args.output, manifest.to_toml_string().as_bytes())?;
    let changes = manifest.changes_from(&Manifest::builtin_default());
    match changes.is_empty() {
        true => println!("identical to the built-in default pin"),
        false => println!("changes from the built-in default pin:"),
    }
    changes
        .iter()
        .for_each(|c| println!("  {}", super::shown(&c.to_string())));
    println!("wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
