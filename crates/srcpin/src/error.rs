//! The crate's error type.
//!
//! Every variant names the thing it is about (a file, a URL, an archive entry, a patch and
//! hunk) and what was wrong with it, so a one-line rendering (`{err}`) is enough for a user.

use std::io;
use std::path::PathBuf;

use crate::digest::Sha256Digest;

/// Everything that can go wrong while reading a pin, fetching, verifying, caching,
/// unpacking or patching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The manifest is not valid TOML or does not match the schema.
    #[error("manifest {origin}: {message}")]
    Manifest {
        /// Where the manifest came from (a path, or `built-in default`).
        origin: String,
        /// What is wrong with it.
        message: String,
    },

    /// A local file or directory could not be read or written.
    ///
    /// The I/O error is part of the message (not a `source()`), so `{err:#}` chains stay on
    /// one line without repeating it.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        error: io::Error,
    },

    /// One mirror failed to deliver an artifact.
    #[error("{url}: {problem}")]
    Download {
        /// The URL that was tried (displays without credentials).
        url: crate::url::MirrorUrl,
        /// What went wrong.
        problem: String,
    },

    /// Every URL of an artifact failed; the individual failures are listed in order.
    #[error("{what}: no mirror delivered a verified copy ({})", join_failures(.failures))]
    AllMirrorsFailed {
        /// The artifact (e.g. `source linux-6.12.1.tar.xz`).
        what: String,
        /// One error per URL tried.
        failures: Vec<Error>,
    },

    /// The bytes have the wrong size.
    #[error("{what}: size mismatch: pinned {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The artifact or file.
        what: String,
        /// Pinned size.
        expected: u64,
        /// Observed size (or a lower bound when the data was too long).
        actual: u64,
    },

    /// The bytes have the wrong SHA-256.
    #[error("{what}: sha256 mismatch: pinned {expected}, got {actual}")]
    DigestMismatch {
        /// The artifact or file.
        what: String,
        /// Pinned digest.
        expected: Sha256Digest,
        /// Observed digest.
        actual: Sha256Digest,
    },

    /// A cache entry did not match its name; it was removed and is refetched.
    #[error("cache entry {} is corrupt (sha256 {actual}); removed", path.display())]
    CorruptCacheEntry {
        /// The blob path.
        path: PathBuf,
        /// Its actual digest.
        actual: Sha256Digest,
    },

    /// apt no longer offers the pinned Debian package version.
    #[error(
        "apt does not serve {package}={version} (it may have been superseded, or the package \
         lists are stale: try `apt-get update`); re-pin with \
         `kernel-deb pin --debian-package {package} -o manifest.toml` \
         and pass `--manifest manifest.toml`{}",
        if detail.is_empty() { String::new() } else { format!(" [apt-get: {detail}]") }
    )]
    DebianVersionNotServed {
        /// Package name.
        package: String,
        /// Pinned version.
        version: String,
        /// apt-get's own message, trimmed.
        detail: String,
    },

    /// An external command (apt-get, apt-cache) failed.
    #[error("`{command}` failed: {problem}")]
    Command {
        /// The command line.
        command: String,
        /// Its stderr or exit status.
        problem: String,
    },

    /// The .deb file is malformed or lacks the pinned member.
    #[error("{}: {problem}", deb.display())]
    Deb {
        /// The .deb file.
        deb: PathBuf,
        /// What is wrong.
        problem: String,
    },

    /// An OpenPGP signature check failed.
    #[error("{what}: signature check failed: {problem}")]
    Signature {
        /// The artifact whose signature was checked.
        what: String,
        /// A description of every signature's fate.
        problem: String,
    },

    /// The safe unpacker refused the archive: an entry broke a rule, the tar stream is
    /// malformed, or a limit was exceeded. [`safe_extract::Error::refusal`] says which rule.
    #[error(transparent)]
    Unpack(#[from] safe_extract::Error),

    /// The archive is malformed or exceeds a limit.
    #[error("{archive}: {problem}")]
    Archive {
        /// The archive being unpacked.
        archive: String,
        /// What is wrong.
        problem: String,
    },

    /// A patch could not be parsed or applied.
    #[error("patch {patch}: {problem}")]
    Patch {
        /// The patch name from the manifest.
        patch: String,
        /// The file and hunk that failed, and why.
        problem: String,
    },

    /// The output directory already exists and is not empty.
    #[error("{}: refusing to overwrite an existing non-empty directory", path.display())]
    OutputExists {
        /// The directory.
        path: PathBuf,
    },
}

fn join_failures(failures: &[Error]) -> String {
    if failures.is_empty() {
        return "no URLs".to_owned();
    }
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error: source,
        }
    }
}

/// Shorthand for `Result<T, srcpin::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
