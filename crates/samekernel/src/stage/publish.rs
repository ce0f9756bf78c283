//! Stage 8, publish: the finished set is assembled in a directory beside `--out` (same
//! filesystem) and renamed into place, so `--out` is either untouched or complete.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// Why the output could not be prepared or published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// `--out` has something in it already.
    #[error("{}: refusing to overwrite an existing non-empty directory", out.display())]
    NotEmpty {
        /// The output directory.
        out: PathBuf,
    },
    /// Creating, renaming or removing a directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    |source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Refuses an output directory that exists and is not empty (checked before any
/// work, and again when publishing).
pub fn check_out_free(out: &Path) -> Result<(), PublishError> {
    if fs::read_dir(out).is_ok_and(|mut d| d.next().is_some()) {
        return Err(PublishError::NotEmpty {
            out: out.to_path_buf(),
        });
    }
    Ok(())
}

/// A fresh directory beside `out` for the results; it disappears unless published.
#[derive(Debug)]
pub struct Results {
    dir: TempDir,
}

impl Results {
    /// Creates it (and `out`'s parent).
    pub fn beside(out: &Path) -> Result<Results, PublishError> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io(&parent))?;
        let dir = tempfile::Builder::new()
            .prefix(".kernel-deb-out-")
            .tempdir_in(&parent)
            .map_err(io(&parent))?;
        Ok(Results { dir })
    }

    /// The directory to fill.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Renames the results to `out` (mode 0755), replacing an empty `out`.
    pub fn publish(self, out: &Path) -> Result<(), PublishError> {
        check_out_free(out)?;
        if out.exists() {
            fs::remove_dir(out).map_err(io(out))?;
        }
        let path = self.dir.path().to_path_buf();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).map_err(io(&path))?;
        let kept = self.dir.keep();
        fs::rename(&kept, out).map_err(|source| {
            // Not published: do not leave the hidden directory behind.
            let _ = fs::remove_dir_all(&kept);
            PublishError::Io {
                path: out.to_path_buf(),
                source,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_appear_whole_at_out_and_nothing_is_left_beside_it() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("out");
        fs::create_dir(&out).unwrap(); // an empty --out is replaced
        let results = Results::beside(&out).unwrap();
        fs::write(results.path().join("a.deb"), b"deb").unwrap();
        assert!(
            fs::read_dir(&out).unwrap().next().is_none(),
            "nothing before publish"
        );
        results.publish(&out).unwrap();
        assert_eq!(fs::read(out.join("a.deb")).unwrap(), b"deb");
        let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
        let names: Vec<_> = fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out"]);
    }

    #[test]
    fn a_non_empty_out_is_refused_and_left_alone() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("mine"), b"keep").unwrap();
        let err = check_out_free(&out).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("refusing to overwrite an existing non-empty directory")
        );
        let results = Results::beside(&out).unwrap();
        fs::write(results.path().join("a.deb"), b"deb").unwrap();
        assert!(matches!(
            results.publish(&out),
            Err(PublishError::NotEmpty { .. })
        ));
        assert_eq!(fs::read(out.join("mine")).unwrap(), b"keep");
        assert!(!out.join("a.deb").exists());
        assert_eq!(
            fs::read_dir(t.path()).unwrap().count(),
            1,
            "results removed"
        );
    }
}
