//! Typed errors. Each names the input (file, member, entry) and the problem, so a
//! caller can show it as it is. Differences are never errors: only input that
//! cannot be read, or that exceeds a [`Limits`](crate::Limits) bound.

use std::path::PathBuf;

/// Why a diff could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A `.deb` is malformed or hostile (from detdeb's reader).
    #[error("{0}")]
    Deb(#[from] detdeb::Error),
    /// A build record does not parse (the parse error names the file).
    #[error("{source}")]
    Record {
        /// The record file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: testimony::ParseError,
    },
    /// The two inputs are not the same kind of thing, or not a kind we read.
    #[error("{0}")]
    BadInput(String),
    /// A bound of [`Limits`](crate::Limits) was exceeded.
    #[error("{item}: {what} exceeds the limit of {limit}")]
    Limit {
        /// The file or member being read.
        item: String,
        /// What grew too large.
        what: &'static str,
        /// The limit in force.
        limit: u64,
    },
    /// A nested stream (`.ko.xz`, `.gz`, a vmlinuz payload) could not be decoded.
    #[error("{item}: {reason}")]
    Decode {
        /// The file being decoded.
        item: String,
        /// What failed.
        reason: String,
    },
}

/// Shorthand for `Result<T, debdiff::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
