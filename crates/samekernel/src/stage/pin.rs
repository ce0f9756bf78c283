//! Stages 1–2, pin and source: fetch and verify the pin (srcpin), then safe-unpack
//! and patch it into the work directory.

use std::path::{Path, PathBuf};

use srcpin::identity::manifest_identity;
use srcpin::{
    FetchProgress, FetchedSources, Fetcher, Manifest, Sha256Digest, Source, UnpackLimits,
};

/// A pin whose sources are fetched and verified.
#[derive(Debug, Clone)]
pub struct PinnedSource {
    /// The pin.
    pub manifest: Manifest,
    /// Its identity ([`srcpin::identity`]), the build record's `manifest_sha256`.
    pub identity: Sha256Digest,
    /// The verified cache blobs.
    pub fetched: FetchedSources,
}

/// Why the pin stages failed.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// srcpin's error (names the file or URL).
    #[error(transparent)]
    Source(#[from] srcpin::Error),
    /// The pin's SOURCE_DATE_EPOCH does not fit a signed 64-bit time.
    #[error("source-date-epoch {0} is out of range")]
    EpochRange(u64),
    /// The unpacked tree could not be resolved.
    #[error("{}: {source}", path.display())]
    Io {
        /// The tree.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl PinnedSource {
    /// SOURCE_DATE_EPOCH as kbuild-env and detdeb take it.
    pub fn source_date_epoch(&self) -> Result<i64, PinError> {
        let sde = self.fetched.source_date_epoch;
        i64::try_from(sde).map_err(|_| PinError::EpochRange(sde))
    }

    /// The version the packages carry before `+sk.`: the Debian source package's
    /// version when pinned that way, else the kernel release up to its first `-`.
    pub fn package_version_base(&self, kernel_release: &str) -> String {
        match &self.manifest.source {
            Source::DebianPackage(d) => d.version.clone(),
            Source::Tarball(_) => kernel_release
                .split('-')
                .next()
                .unwrap_or(kernel_release)
                .to_owned(),
        }
    }

    /// The source tarball's own name (the cache stores it under its digest).
    pub fn tarball_name(&self) -> String {
        match &self.manifest.source {
            Source::DebianPackage(d) => d
                .member
                .path
                .rsplit('/')
                .next()
                .unwrap_or(&d.member.path)
                .to_owned(),
            Source::Tarball(t) => t.file_name.clone(),
        }
    }

    /// The pin in words, for changelogs and descriptions.
    pub fn description(&self) -> String {
        match &self.manifest.source {
            Source::DebianPackage(d) => format!("Debian's {} {}", d.package, d.version),
            Source::Tarball(t) => format!("the tarball {}", t.file_name),
        }
    }
}

/// Stage 1: fetch and verify every artifact of `manifest`.
pub fn fetch_pin(
    manifest: &Manifest,
    fetcher: &Fetcher,
    progress: &mut dyn FetchProgress,
) -> Result<PinnedSource, PinError> {
    let fetched = srcpin::fetch_sources(manifest, fetcher, progress)?;
    Ok(PinnedSource {
        manifest: manifest.clone(),
        identity: manifest_identity(manifest),
        fetched,
    })
}

/// Stage 2: unpack and patch into `dest` (which must not exist, or be empty);
/// returns the tree's canonical path (kbuild and the prefix maps need it).
pub fn unpack_source(
    pinned: &PinnedSource,
    dest: &Path,
    progress: &mut dyn FetchProgress,
) -> Result<PathBuf, PinError> {
    let src = srcpin::prepare_source(&pinned.fetched, dest, &UnpackLimits::default(), progress)?;
    std::fs::canonicalize(&src).map_err(|source| PinError::Io { path: src, source })
}
