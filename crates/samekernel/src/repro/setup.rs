//! Preparing one side on disk: its directories, fake tools, a private cache that
//! shares the source blobs by hard link, the throwaway user, the disorderfs view.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::ReproError;
use super::command::{FAKE_TOOLS, OTHER_USER, SidePaths};
use super::variation::{Variation, VariationSet};

/// Creates the side's directories and fake tools, links the cache, and for
/// user_group creates the throwaway user and hands it the side's directories.
/// Returns the disorderfs mount to unmount afterwards (fileordering).
pub fn prepare_side(
    paths: &SidePaths,
    user_cache: &Path,
    vary: &VariationSet,
) -> Result<Option<Mount>, ReproError> {
    if paths.view.exists() {
        return Err(ReproError::Setup {
            path: paths.view.clone(),
            problem: "already exists; the check builds in fresh directories".into(),
        });
    }
    for d in [&paths.root, &paths.home, &paths.fake_bin, &paths.view] {
        create_dir(d)?;
    }
    write_fake_tools(&paths.fake_bin)?;
    link_tree(user_cache, &paths.cache)?;
    let backing = paths.root.join("view-backing");
    if vary.contains(Variation::FileOrdering) {
        create_dir(&backing)?;
    }
    if vary.contains(Variation::UserGroup) {
        ensure_user()?;
        chown_dirs(&paths.root)?;
        chown_dirs(&paths.view)?;
    }
    if vary.contains(Variation::FileOrdering) {
        let multi_user = vary.contains(Variation::UserGroup);
        return Ok(Some(Mount::disorderfs(&backing, &paths.view, multi_user)?));
    }
    Ok(None)
}

fn create_dir(d: &Path) -> Result<(), ReproError> {
    std::fs::create_dir_all(d).map_err(|e| ReproError::io(d, e))?;
    // Traversable by the other user (user_group) whatever the caller's umask.
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| ReproError::io(d, e))
}

/// Scripts that print a fake version and succeed: a build that runs the first
/// `gcc` in PATH, or asks `date`/`hostname`, would change.
fn write_fake_tools(dir: &Path) -> Result<(), ReproError> {
    for tool in FAKE_TOOLS {
        let p = dir.join(tool);
        std::fs::write(&p, format!("#!/bin/sh\necho fake-{tool} 99.9\nexit 0\n"))
            .and_then(|()| std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)))
            .map_err(|e| ReproError::io(&p, e))?;
    }
    Ok(())
}

/// Mirrors `src` into `dst`: directories created, files hard-linked (copied when
/// linking fails), so both sides read the same verified blobs without copying
/// hundreds of MiB. A missing `src` gives an empty cache (the build fetches).
pub fn link_tree(src: &Path, dst: &Path) -> Result<(), ReproError> {
    create_dir(dst)?;
    let Ok(entries) = std::fs::read_dir(src) else {
        return Ok(());
    };
    for e in entries {
        let e = e.map_err(|e| ReproError::io(src, e))?;
        let (from, to) = (e.path(), dst.join(e.file_name()));
        let kind = e.file_type().map_err(|err| ReproError::io(&from, err))?;
        if kind.is_dir() {
            link_tree(&from, &to)?;
        } else if kind.is_file() && std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).map_err(|err| ReproError::io(&to, err))?;
        }
    }
    Ok(())
}

/// Gives the throwaway user every directory under `root` (files stay as they
/// are: hard-linked cache blobs must keep their owner).
fn chown_dirs(root: &Path) -> Result<(), ReproError> {
    run(Command::new("chown").arg(OTHER_USER).arg(root))?;
    run(Command::new("find")
        .arg(root)
        .args(["-type", "d", "-exec", "chown", OTHER_USER, "{}", "+"]))
}

/// Creates the throwaway user (no login shell, no home) unless it exists.
fn ensure_user() -> Result<(), ReproError> {
    let exists = Command::new("id")
        .arg(OTHER_USER)
        .output()
        .is_ok_and(|o| o.status.success());
    if exists {
        return Ok(());
    }
    run(Command::new("useradd").args([
        "--system",
        "--user-group",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        OTHER_USER,
    ]))
}

/// A FUSE mount, unmounted on drop.
#[derive(Debug)]
pub struct Mount {
    point: PathBuf,
}

impl Mount {
    /// `disorderfs --shuffle-dirents=yes backing point` (with `--multi-user=yes`
    /// when another user builds in it).
    pub fn disorderfs(backing: &Path, point: &Path, multi_user: bool) -> Result<Mount, ReproError> {
        let mut c = Command::new("disorderfs");
        c.arg("--shuffle-dirents=yes");
        if multi_user {
            c.arg("--multi-user=yes");
        }
        run(c.arg(backing).arg(point))?;
        Ok(Mount {
            point: point.to_owned(),
        })
    }

    /// The mount point.
    pub fn point(&self) -> &Path {
        &self.point
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("fusermount")
            .arg("-u")
            .arg(&self.point)
            .status();
    }
}

/// Runs a setup program; its stderr becomes the error.
fn run(c: &mut Command) -> Result<(), ReproError> {
    let shown = std::iter::once(c.get_program())
        .chain(c.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ");
    match c.output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(ReproError::Program {
            command: shown,
            problem: format!(
                "{}: {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ),
        }),
        Err(e) => Err(ReproError::Program {
            command: shown,
            problem: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repro::command::Side;

    #[test]
    fn a_side_gets_its_fake_tools_and_a_linked_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("user-cache");
        std::fs::create_dir_all(cache.join("blobs/ab")).unwrap();
        std::fs::write(cache.join("blobs/ab/cd"), b"blob").unwrap();
        let set = VariationSet::parse_list("exec_path,build_path").unwrap();
        let paths = SidePaths::new(&tmp.path().join("base"), Side::Experiment, &set);
        assert!(prepare_side(&paths, &cache, &set).unwrap().is_none());

        let out = Command::new(paths.fake_bin.join("gcc"))
            .arg("--version")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "fake-gcc 99.9\n");
        use std::os::unix::fs::MetadataExt;
        let (a, b) = (
            std::fs::metadata(cache.join("blobs/ab/cd")).unwrap(),
            std::fs::metadata(paths.cache.join("blobs/ab/cd")).unwrap(),
        );
        assert_eq!(a.ino(), b.ino(), "the cache blob is shared, not copied");
        // A side whose work directory already exists is refused.
        std::fs::create_dir_all(&paths.view).unwrap();
        let err = prepare_side(&paths, &cache, &set).unwrap_err().to_string();
        assert!(err.contains("already exists"), "{err}");
    }

    #[test]
    fn a_missing_user_cache_gives_an_empty_one() {
        let tmp = tempfile::tempdir().unwrap();
        link_tree(&tmp.path().join("nope"), &tmp.path().join("c")).unwrap();
        assert_eq!(std::fs::read_dir(tmp.path().join("c")).unwrap().count(), 0);
    }
}
