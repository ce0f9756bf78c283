//! Typed errors. Every error names where the bad input came from (a file name,
//! a URL or `(text)` when the caller gave none) and what is wrong with it.

use std::path::PathBuf;

/// Which text format a [`ParseError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The seed's original testimony format ([`crate::v1`]).
    V1,
    /// The canonical machine format ([`crate::v2`]).
    V2,
    /// A build record ([`crate::build_record`]).
    BuildRecord,
    /// A policy file ([`crate::policy`]).
    Policy,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::V1 => "v1 testimony",
            Format::V2 => "v2 testimony",
            Format::BuildRecord => "build record",
            Format::Policy => "policy",
        })
    }
}

/// A text that is not valid in its format.
///
/// `line` is 1-based; 0 means "the text as a whole" (for example an empty text or
/// a missing final newline).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// Where the text came from; `(text)` until [`ParseError::with_origin`] names it.
    pub origin: String,
    /// The format being parsed.
    pub format: Format,
    /// 1-based line number, 0 for the whole text.
    pub line: usize,
    /// What is wrong, in words.
    pub problem: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // "line 0" means the whole text: name no line rather than a wrong one.
        match self.line {
            0 => write!(f, "{}: {}: {}", self.origin, self.format, self.problem),
            n => write!(
                f,
                "{}: {}: line {n}: {}",
                self.origin, self.format, self.problem
            ),
        }
    }
}

impl ParseError {
    /// The error without its origin (`v1 testimony: line 2: …`), for a message
    /// that names the file itself.
    pub fn without_origin(&self) -> String {
        match self.line {
            0 => format!("{}: {}", self.format, self.problem),
            n => format!("{}: line {n}: {}", self.format, self.problem),
        }
    }

    pub(crate) fn new(format: Format, line: usize, problem: impl Into<String>) -> Self {
        ParseError {
            origin: "(text)".into(),
            format,
            line,
            problem: problem.into(),
        }
    }

    /// Names the file or URL the text came from.
    #[must_use]
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }
}

/// Everything else that can go wrong: I/O, OpenPGP material, signing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A text failed to parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// OpenPGP material (a key, a keyring, a signature) is unusable.
    #[error("{origin}: OpenPGP: {problem}")]
    OpenPgp {
        /// Where the material came from.
        origin: String,
        /// What is wrong, in words.
        problem: String,
    },
    /// A mirror index names something other than a plain file name.
    #[error(
        "{origin}: line {line}: refusing {name:?}: an index lists plain file names only (no /, \\, .., spaces or control characters)"
    )]
    UnsafeIndexEntry {
        /// The index URL.
        origin: String,
        /// 1-based line.
        line: usize,
        /// The entry.
        name: String,
    },
    /// The same testimony file name came from two mirrors with different bytes.
    #[error(
        "mirrors disagree about {name}: {first} and {second} serve different bytes (sha256 {first_sha256} vs {second_sha256})"
    )]
    MirrorConflict {
        /// The file name.
        name: String,
        /// The first source.
        first: String,
        /// Its sha256.
        first_sha256: String,
        /// The second, conflicting source.
        second: String,
        /// Its sha256.
        second_sha256: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn pgp(origin: impl Into<String>, problem: impl std::fmt::Display) -> Self {
        Error::OpenPgp {
            origin: origin.into(),
            problem: format!("{problem:#}"),
        }
    }
}
