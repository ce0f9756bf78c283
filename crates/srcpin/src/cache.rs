//! A content-addressed blob cache: `<root>/blobs/sha256/<hex>`.
//!
//! Blobs are written to a temporary file in `<root>/tmp` (same file system), fsynced and
//! renamed into place, then the directory is fsynced. A blob is re-hashed every time it is
//! handed out; a blob whose bytes do not match its name is removed and reported, never used.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::digest::Sha256Digest;
use crate::error::{Error, Result};
use crate::manifest::FileDigest;

/// Environment variable that overrides the cache location.
pub const CACHE_ENV: &str = "SAMEKERNEL_CACHE";

/// The outcome of a cache lookup.
#[derive(Debug)]
pub enum Lookup {
    /// The blob is present and verified.
    Hit(PathBuf),
    /// The blob is absent.
    Miss,
    /// The blob was present but corrupt; it has been removed. The error describes it.
    Corrupt(Error),
}

/// A content-addressed store of verified blobs.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// Uses `root` as the cache directory (created on demand).
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// The default location: `$SAMEKERNEL_CACHE`, else `$XDG_CACHE_HOME/samekernel`, else
    /// `$HOME/.cache/samekernel`. Returns `None` when none of these is set.
    pub fn default_root() -> Option<PathBuf> {
        let nonempty = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(p) = nonempty(CACHE_ENV) {
            return Some(p);
        }
        if let Some(p) = nonempty("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
            return Some(p.join("samekernel"));
        }
        nonempty("HOME").map(|h| h.join(".cache").join("samekernel"))
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with digest `sha256` lives (whether or not it exists).
    pub fn blob_path(&self, sha256: &Sha256Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join("sha256")
            .join(sha256.to_string())
    }

    /// The directory for temporary files (same file system as the blobs).
    pub fn tmp_dir(&self) -> Result<PathBuf> {
        let dir = self.root.join("tmp");
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(dir)
    }

    /// Looks up a blob and re-verifies its size and digest.
    pub fn lookup(&self, want: &FileDigest) -> Result<Lookup> {
        let path = self.blob_path(&want.sha256);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let (actual, size) = Sha256Digest::of_reader(file).map_err(|e| Error::io(&path, e))?;
        if actual == want.sha256 && size == want.size {
            return Ok(Lookup::Hit(path));
        }
        fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Lookup::Corrupt(Error::CorruptCacheEntry { path, actual }))
    }

    /// Moves an already verified temporary file (created in [`Cache::tmp_dir`]) into the
    /// store under `sha256`, durably.
    pub fn commit(&self, tmp: tempfile::NamedTempFile, sha256: &Sha256Digest) -> Result<PathBuf> {
        let dest = self.blob_path(sha256);
        let dir = dest.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(tmp.path(), e))?;
        set_mode(tmp.path(), 0o444)?;
        tmp.persist(&dest).map_err(|e| Error::io(&dest, e.error))?;
        sync_dir(dir)?;
        Ok(dest)
    }

    /// Creates an empty temporary file in [`Cache::tmp_dir`].
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile> {
        let dir = self.tmp_dir()?;
        tempfile::Builder::new()
            .prefix(".part-")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(&dir, e))
    }
}

pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| Error::io(path, e))
}

/// fsyncs a directory so a rename inside it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Writes `bytes` to `path` atomically: temp file in the same directory, fsync, rename,
/// fsync of the directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    safe_extract::atomic::write_file(path, bytes, 0o644, ".srcpin-").map_err(|e| Error::io(path, e))
}

impl Cache {
    /// Moves an already verified file on the cache's file system into the store.
    pub fn commit_path(&self, file: &Path, sha256: &Sha256Digest) -> Result<PathBuf> {
        let dest = self.blob_path(sha256);
        let dir = dest.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        File::open(file)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(file, e))?;
        set_mode(file, 0o444)?;
        fs::rename(file, &dest).map_err(|e| Error::io(&dest, e))?;
        sync_dir(dir)?;
        Ok(dest)
    }
}
