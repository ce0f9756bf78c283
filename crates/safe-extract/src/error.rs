//! Typed errors. A [`Refusal`] says which rule an entry broke; an [`Error`] adds the archive.
//!
//! Messages are complete on one line and carry no `source()` chain, so `anyhow`'s `{:#}`
//! never prints a cause twice. Untrusted names are always [`Quoted`] (escaped, cut).

use std::io;
use std::path::PathBuf;

use crate::quote::Quoted;

/// Why a path is not acceptable as an archive entry name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    /// Starts with `/`.
    Absolute,
    /// Has a `..` component.
    DotDot,
    /// Contains a NUL byte.
    Nul,
    /// Is not UTF-8 (refused where the policy asks for UTF-8 names).
    NotUtf8,
    /// Is empty.
    Empty,
}

impl std::fmt::Display for PathProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PathProblem::Absolute => "absolute path",
            PathProblem::DotDot => "`..` component (path traversal)",
            PathProblem::Nul => "NUL byte in the path",
            PathProblem::NotUtf8 => "path is not UTF-8",
            PathProblem::Empty => "empty path",
        })
    }
}

/// Which limit an archive exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// Number of entries.
    Entries,
    /// Length of a path or link target.
    PathLength,
    /// Size of a GNU long-name or PAX record.
    ExtensionRecord,
    /// Uncompressed bytes in total (the cap).
    TotalSize,
    /// Sum of the declared file sizes.
    DataSize,
    /// Uncompressed bytes relative to the compressed input (ratio × input + allowance).
    Ratio,
    /// Size of one file.
    FileSize,
    /// Size of one file read into memory.
    InMemoryFile,
}

impl std::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LimitKind::Entries => "number of entries",
            LimitKind::PathLength => "path length",
            LimitKind::ExtensionRecord => "extension record size",
            LimitKind::TotalSize => "uncompressed size",
            LimitKind::DataSize => "total size of the files",
            LimitKind::Ratio => "uncompressed size for the compressed input (decompression bomb?)",
            LimitKind::FileSize => "file size",
            LimitKind::InMemoryFile => "in-memory file size",
        })
    }
}

/// An entry broke a rule of the safe extractor or the bounded reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The path is absolute or climbs with `..`.
    #[error("entry {entry}: {problem}; refused")]
    Traversal {
        /// The entry.
        entry: Quoted,
        /// What is wrong with its path.
        problem: PathProblem,
    },
    /// The path is malformed (NUL, not UTF-8, empty).
    #[error("entry {entry}: {problem}; refused")]
    BadPath {
        /// The entry.
        entry: Quoted,
        /// What is wrong with its path.
        problem: PathProblem,
    },
    /// An ancestor of the entry is a symlink: writing there would write through it.
    #[error("entry {entry}: its parent {link} is a symlink; nothing is written through a link")]
    ThroughLink {
        /// The entry.
        entry: Quoted,
        /// The symlink on its path.
        link: Quoted,
    },
    /// An ancestor of the entry is not a directory.
    #[error("entry {entry}: its parent {file} is not a directory")]
    ThroughFile {
        /// The entry.
        entry: Quoted,
        /// The non-directory on its path.
        file: Quoted,
    },
    /// A symlink resolves (through the archive's own links) to outside the tree.
    #[error("symlink {entry} -> {target} points outside the extracted tree")]
    LinkEscapes {
        /// The symlink.
        entry: Quoted,
        /// Its target.
        target: Quoted,
    },
    /// A symlink target is absolute and the policy refuses those.
    #[error("symlink {entry} -> {target}: absolute targets are not allowed here")]
    AbsoluteLink {
        /// The symlink.
        entry: Quoted,
        /// Its target.
        target: Quoted,
    },
    /// A symlink is part of a loop (or a chain over 40 links).
    #[error("symlink {entry} -> {target} is part of a symlink loop")]
    LinkLoop {
        /// The symlink.
        entry: Quoted,
        /// Its target.
        target: Quoted,
    },
    /// A symlink target is empty or not UTF-8 where UTF-8 is required.
    #[error("symlink {entry}: bad target {target}: {problem}")]
    BadLinkTarget {
        /// The symlink.
        entry: Quoted,
        /// Its target.
        target: Quoted,
        /// What is wrong.
        problem: PathProblem,
    },
    /// A hard link does not name a regular file extracted earlier in the same tree.
    #[error(
        "hard link {entry} -> {target}: the target must be a regular file extracted earlier in the same tree"
    )]
    HardLink {
        /// The hard link.
        entry: Quoted,
        /// Its target.
        target: Quoted,
    },
    /// A device node or FIFO.
    #[error("entry {entry}: {kind}s are never extracted")]
    Device {
        /// The entry.
        entry: Quoted,
        /// `character device`, `block device` or `FIFO`.
        kind: &'static str,
    },
    /// An entry type this reader does not handle (GNU sparse, contiguous, …).
    #[error("entry at offset {offset}: unsupported tar entry type {typeflag:?}")]
    UnsupportedType {
        /// Offset of its header in the uncompressed stream.
        offset: u64,
        /// The type flag.
        typeflag: char,
    },
    /// The same path twice.
    #[error("entry {entry} appears twice")]
    Duplicate {
        /// The entry.
        entry: Quoted,
    },
    /// An entry outside the single top directory a source tarball must have.
    #[error("entry {entry} is outside the top directory {top_dir}")]
    OutsideTopDir {
        /// The entry.
        entry: Quoted,
        /// The expected top directory.
        top_dir: Quoted,
    },
    /// The top directory entry is not a directory.
    #[error("entry {entry}: the top directory must be a directory")]
    TopDirNotADirectory {
        /// The entry.
        entry: Quoted,
    },
    /// No entry of the archive is in the expected top directory.
    #[error("no top directory {top_dir} (empty archive, or a different one?)")]
    MissingTopDir {
        /// The expected top directory.
        top_dir: Quoted,
    },
    /// A limit was exceeded.
    #[error("{which} exceeds the limit of {limit}{}", entry.as_ref().map(|e| format!(" (at entry {e})")).unwrap_or_default())]
    LimitExceeded {
        /// Which limit.
        which: LimitKind,
        /// The limit in force.
        limit: u64,
        /// The entry being read, when there is one.
        entry: Option<Quoted>,
    },
}

/// Errors of the reader and the extractor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An entry was refused (see [`Refusal`]).
    #[error("{archive}: {refusal}")]
    Refused {
        /// The archive (e.g. `x.deb: data.tar.xz`).
        archive: String,
        /// Why.
        refusal: Refusal,
    },
    /// The tar stream is malformed.
    #[error("{archive}: tar header at offset {offset}: {problem}")]
    Malformed {
        /// The archive.
        archive: String,
        /// Offset in the uncompressed stream.
        offset: u64,
        /// What is wrong.
        problem: String,
    },
    /// Reading (decompressing) the input failed.
    #[error("{archive}: read error at uncompressed offset {offset}: {cause}")]
    Read {
        /// The archive.
        archive: String,
        /// Offset in the uncompressed stream.
        offset: u64,
        /// The underlying error.
        cause: io::Error,
    },
    /// The destination of an extraction already exists.
    #[error("{}: already exists; extract into a new path (or remove it first)", path.display())]
    DestinationExists {
        /// The destination.
        path: PathBuf,
    },
    /// Writing an entry failed (the message names the entry, never a temporary path).
    #[error("{archive}: cannot write entry {entry}: {cause}")]
    Write {
        /// The archive.
        archive: String,
        /// The entry.
        entry: Quoted,
        /// The underlying error.
        cause: io::Error,
    },
    /// A file-system operation on a user-visible path failed.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The path (never a temporary one).
        path: PathBuf,
        /// The underlying error.
        cause: io::Error,
    },
}

impl Error {
    /// The refusal, if this is one (tests match on its variant).
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Error::Refused { refusal, .. } => Some(refusal),
            _ => None,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, cause: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause,
        }
    }
}

/// Shorthand for `Result<T, safe_extract::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
