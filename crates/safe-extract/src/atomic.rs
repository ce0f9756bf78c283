//! Nothing half-written: files via temp file + fsync + rename, trees via a fresh temporary
//! directory beside the destination that is renamed into place only when complete.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The directory a new `path` is created in (`.` for a bare name).
pub fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// fsyncs a directory so a rename inside it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `bytes` to `path` atomically (temp file named `<prefix>*` in the same directory,
/// fsync, mode `mode`, rename, fsync of the directory). The `io::Error` does not name
/// `path`: callers add it to their own error.
pub fn write_file(path: &Path, bytes: &[u8], mode: u32, prefix: &str) -> io::Result<()> {
    let dir = parent_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile_in(dir)
        .map_err(without_temp_path)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// A fresh, empty temporary directory beside a destination that must not exist yet.
/// Dropped without [`persist`](Self::persist), it is removed with everything in it.
#[derive(Debug)]
pub struct TempTree {
    tmp: tempfile::TempDir,
    dest: PathBuf,
}

impl TempTree {
    /// Creates `<parent of dest>/<prefix>XXXX`. `Ok(None)` if `dest` already exists.
    pub fn beside(dest: &Path, prefix: &str) -> io::Result<Option<TempTree>> {
        if fs::symlink_metadata(dest).is_ok() {
            return Ok(None);
        }
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(parent_of(dest))
            .map_err(without_temp_path)?;
        Ok(Some(TempTree {
            tmp,
            dest: dest.to_path_buf(),
        }))
    }

    /// Where to build the tree.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Renames the finished tree to the destination and fsyncs its parent.
    pub fn persist(self) -> io::Result<PathBuf> {
        let root = self.tmp.keep();
        if let Err(e) = fs::rename(&root, &self.dest) {
            let _ = fs::remove_dir_all(&root);
            return Err(e);
        }
        sync_dir(parent_of(&self.dest))?;
        Ok(self.dest)
    }
}

/// tempfile's errors end in `at path "<dir>/.prefix-XXXX"`: a name the user never
/// chose and that no longer exists. Callers name the directory themselves.
fn without_temp_path(e: io::Error) -> io::Error {
    let text = e.to_string();
    match text.split_once(" at path \"") {
        Some((problem, _)) => io::Error::new(e.kind(), problem.to_string()),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_name_the_temporary_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let e = TempTree::beside(&missing.join("dest"), ".tmp-tree-")
            .err()
            .unwrap();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(!e.to_string().contains(".tmp-tree-"), "{e}");
        let e = write_file(&missing.join("f"), b"x", 0o644, ".tmp-file-").unwrap_err();
        assert!(!e.to_string().contains(".tmp-file-"), "{e}");
    }
}
