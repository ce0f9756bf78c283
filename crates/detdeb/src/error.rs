//! Typed errors. Every variant names the file, member or entry it is about, so a
//! caller can print it as-is to a user. No variant has a `source()`: the cause is part
//! of the one-line message, so `anyhow`'s `{:#}` never prints it twice.

use std::io;
use std::path::PathBuf;

/// Errors from writing or reading a `.deb`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation on a named path failed.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file or directory the operation was about.
        path: PathBuf,
        /// The underlying error (in the message, not a `source()`).
        cause: io::Error,
    },

    /// The staging tree or in-memory entry list cannot be packed the way dpkg-deb would.
    #[error("{path}: {reason}")]
    Staging {
        /// The offending path (in the staging tree, or the entry path).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The control area has no usable `control` file (missing, not UTF-8).
    #[error("{origin}: {reason}")]
    ControlFile {
        /// The package and member (e.g. `x.deb: control.tar.xz`).
        origin: String,
        /// What is wrong, and what to do.
        reason: String,
    },

    /// A `control` file (deb822) is malformed.
    #[error("{origin}: line {line}: {reason}")]
    Control {
        /// Where the text came from (a path, or `control member`).
        origin: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },

    /// A `.deb` (ar container) is malformed or hostile.
    #[error("{file}: ar archive at offset {offset}: {reason}")]
    Ar {
        /// The .deb being read.
        file: String,
        /// Byte offset of the offending header in the .deb.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// A compressed stream could not be decoded, or is of an unsupported kind.
    #[error("{member}: {reason}")]
    Compression {
        /// The member whose stream failed.
        member: String,
        /// What failed.
        reason: String,
    },

    /// A tar member is malformed, hostile or over a limit; or extraction refused an
    /// entry. Match [`safe_extract::Error::refusal`] for the rule it broke. Boxed: a
    /// refusal quotes entry names, and every `Result<_, detdeb::Error>` would otherwise
    /// carry its size.
    #[error(transparent)]
    Archive(Box<safe_extract::Error>),
}

/// Shorthand for `Result<T, detdeb::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<safe_extract::Error> for Error {
    fn from(e: safe_extract::Error) -> Self {
        Error::Archive(Box::new(e))
    }
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    pub(crate) fn staging(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Staging {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
