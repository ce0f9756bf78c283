//! Typed errors. Every variant names the file, member or entry it is about, so a
//! caller can print it as-is to a user.

use std::io;
use std::path::PathBuf;

/// Errors from writing or reading a `.deb`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation on a named path failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory the operation was about.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The staging tree or in-memory entry list cannot be packed the way dpkg-deb would.
    #[error("{path}: {reason}")]
    Staging {
        /// The offending path (in the staging tree, or the entry path).
        path: PathBuf,
        /// What is wrong with it.
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

    /// A tar member is malformed or hostile.
    #[error("{member}: tar header at offset {offset}: {reason}")]
    Tar {
        /// The ar member holding the tar stream (e.g. `data.tar.xz`).
        member: String,
        /// Byte offset of the offending header in the *uncompressed* tar stream.
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

    /// A configured limit was exceeded while reading untrusted input.
    #[error("{member}: {what} exceeds the limit of {limit}")]
    Limit {
        /// The member or file being read.
        member: String,
        /// What grew too large (for example `uncompressed size`).
        what: &'static str,
        /// The limit in force.
        limit: u64,
    },

    /// A safe extraction refused an entry.
    #[error("{member}: entry {entry:?} refused: {reason}")]
    Refused {
        /// The member holding the entry.
        member: String,
        /// The entry path as written in the archive.
        entry: String,
        /// Why it was refused.
        reason: String,
    },
}

/// Shorthand for `Result<T, detdeb::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn staging(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Staging {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
