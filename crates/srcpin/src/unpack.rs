//! Safe unpacking of a source tarball, by the shared [`safe_extract`] core with the
//! source policy ([`safe_extract::Policy::source`]).
//!
//! Policy (every violation is an [`Error::Unpack`] holding a typed
//! [`safe_extract::Refusal`]; the caller throws the whole destination away):
//!
//! * Only regular files, directories, symlinks and hard links to earlier regular files of the
//!   same tree. Devices, FIFOs, GNU sparse files and unknown types are refused. PAX global
//!   headers (git archive's commit id) are skipped.
//! * Paths must be valid UTF-8, relative, without `..` or NUL, and inside the single
//!   expected top directory.
//! * No path may appear twice, and no entry may live below a symlink or a file (so nothing is
//!   ever written through a symlink). Symlinks are created last, after every one of them has
//!   been resolved (through the other symlinks of the archive) and shown to stay inside the
//!   top directory. Absolute symlink targets are refused.
//! * Modes are fixed: directories 0755, files 0755 if any execute bit was set, else 0644. No
//!   setuid/setgid/sticky bits, no owners, no xattrs.
//! * Limits ([`UnpackLimits`]): entry count, bytes per file, total bytes, and — when the
//!   compressed size is known — a ratio to it, checked against every header before any data
//!   is read. GNU long names and PAX records are bounded (64 KiB): a 1 GiB long name costs
//!   nothing and is quoted in the error cut to a few hundred bytes.
//!
//! The destination must be a fresh, empty directory; mtimes are normalised afterwards with
//! [`normalize_mtimes`].

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use safe_extract::{Limits, Policy, TarReader};

use crate::error::{Error, Result};

/// Decompression-bomb limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackLimits {
    /// Maximum number of archive entries.
    pub max_entries: u64,
    /// Maximum size of one file.
    pub max_file_size: u64,
    /// Maximum total size of all files.
    pub max_total_bytes: u64,
    /// Maximum ratio of uncompressed to compressed bytes (when the compressed size is known).
    pub max_ratio: u64,
}

impl Default for UnpackLimits {
    /// Generous for a kernel tree (6.12: ~90k entries, ~1.5 GB, 10× its xz size): 1M entries,
    /// 1 GiB per file, 8 GiB in total, 64× the compressed size.
    fn default() -> Self {
        UnpackLimits {
            max_entries: 1_000_000,
            max_file_size: 1 << 30,
            max_total_bytes: 8 << 30,
            max_ratio: 64,
        }
    }
}

impl UnpackLimits {
    /// The reader limits these translate to (headers and padding count towards the total).
    pub fn reader_limits(&self) -> Limits {
        Limits {
            max_entries: self.max_entries,
            max_file_size: self.max_file_size,
            max_data_total: self.max_total_bytes,
            // Headers and padding: at most 1 KiB per entry on top of the data.
            max_total: self
                .max_total_bytes
                .saturating_add(self.max_entries.saturating_mul(1024)),
            max_ratio: self.max_ratio,
            ratio_allowance: 4 << 20,
            ..Limits::default()
        }
    }
}

/// Unpacks the tar stream `reader` into the empty directory `dest`, which afterwards holds
/// exactly `dest/<top_dir>`. `archive` names the archive in errors. Returns the top
/// directory's path.
pub fn unpack_tar<R: Read>(
    reader: R,
    dest: &Path,
    top_dir: &str,
    limits: &UnpackLimits,
    archive: &str,
) -> Result<PathBuf> {
    unpack_tar_sized(reader, None, dest, top_dir, limits, archive)
}

/// [`unpack_tar`] with the compressed input's size, which bounds the output by
/// [`UnpackLimits::max_ratio`].
pub fn unpack_tar_sized<R: Read>(
    reader: R,
    compressed_size: Option<u64>,
    dest: &Path,
    top_dir: &str,
    limits: &UnpackLimits,
    archive: &str,
) -> Result<PathBuf> {
    if fs::read_dir(dest)
        .map_err(|e| Error::io(dest, e))?
        .next()
        .is_some()
    {
        return Err(Error::OutputExists {
            path: dest.to_path_buf(),
        });
    }
    let mut tar = TarReader::new(reader, archive, limits.reader_limits());
    if let Some(n) = compressed_size {
        tar = tar.with_input_size(n);
    }
    let top = dest.join(top_dir);
    safe_extract::extract(&mut tar, &top, &Policy::source(top_dir))?;
    Ok(top)
}

/// Sets the mtime (and atime) of `root` and everything below it to `epoch`, without
/// following symlinks.
pub fn normalize_mtimes(root: &Path, epoch: u64) -> Result<()> {
    let t = filetime::FileTime::from_unix_time(i64::try_from(epoch).unwrap_or(i64::MAX), 0);
    // The directory listing says what each entry is (no stat per file): a kernel tree
    // has ~92,000 entries.
    fn set(p: &Path, kind: fs::FileType, t: filetime::FileTime) -> Result<()> {
        if kind.is_symlink() {
            return filetime::set_symlink_file_times(p, t, t).map_err(|e| Error::io(p, e));
        }
        if kind.is_dir() {
            for e in fs::read_dir(p).map_err(|e| Error::io(p, e))? {
                let e = e.map_err(|e| Error::io(p, e))?;
                let path = e.path();
                let kind = e.file_type().map_err(|e| Error::io(&path, e))?;
                set(&path, kind, t)?;
            }
        }
        filetime::set_file_times(p, t, t).map_err(|e| Error::io(p, e))
    }
    let kind = fs::symlink_metadata(root)
        .map_err(|e| Error::io(root, e))?
        .file_type();
    set(root, kind, t)
}
