//! Packing a staged tree into a `.deb` with detdeb, after normalizing its modes.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use detdeb::{CompressionParams, Compressor, DebBuilder};

use crate::builddeb::PackageMeta;

/// Why a staged tree could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// Normalizing a mode failed, or the output exists already.
    #[error("{}: {problem}", path.display())]
    Tree {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// detdeb refused the tree or could not write the package.
    #[error("{}: {source}", stage.display())]
    Deb {
        /// The staged tree.
        stage: PathBuf,
        /// detdeb's error.
        source: detdeb::Error,
    },
}

fn tree_error(path: &Path) -> impl FnOnce(std::io::Error) -> PackError + '_ {
    |e| PackError::Tree {
        path: path.to_path_buf(),
        problem: e.to_string(),
    }
}

/// Normalizes modes like dh_fixperms, so the umask and the tools' own choices do not
/// reach the package: directories 0755; files 0755 when any execute bit is set, else
/// 0644; no setuid/setgid/sticky; `DEBIAN/` maintainer scripts 0755.
pub fn fix_permissions(root: &Path) -> Result<(), PackError> {
    let meta = fs::symlink_metadata(root).map_err(tree_error(root))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = meta.permissions().mode();
    let new = if meta.is_dir() || mode & 0o111 != 0 {
        0o755
    } else {
        0o644
    };
    if mode & 0o7777 != new {
        fs::set_permissions(root, fs::Permissions::from_mode(new)).map_err(tree_error(root))?;
    }
    if meta.is_dir() {
        for e in fs::read_dir(root).map_err(tree_error(root))? {
            fix_permissions(&e.map_err(tree_error(root))?.path())?;
        }
    }
    Ok(())
}

/// Packs a staged tree (with its `DEBIAN/control`) into
/// `out_dir/<pkg>_<version without epoch>_<arch>.deb` with md5sums, refusing to
/// overwrite. Returns the path.
pub fn pack(
    stage: &Path,
    out_dir: &Path,
    meta: &PackageMeta,
    compressor: Compressor,
) -> Result<PathBuf, PackError> {
    fix_permissions(stage)?;
    let deb = |source| PackError::Deb {
        stage: stage.to_path_buf(),
        source,
    };
    let b = DebBuilder::from_staging_dir(stage, meta.source_date_epoch, false)
        .map_err(deb)?
        .compression(CompressionParams::new(compressor))
        .with_md5sums()
        .map_err(deb)?;
    let pkg = b
        .control()
        .map_err(deb)?
        .get("Package")
        .map(str::to_owned)
        .ok_or_else(|| PackError::Tree {
            path: stage.join("DEBIAN/control"),
            problem: "no Package field".into(),
        })?;
    // Debian file names drop the epoch.
    let version = meta
        .version
        .split_once(':')
        .map_or(meta.version.as_str(), |v| v.1);
    let out = out_dir.join(format!("{pkg}_{version}_{}.deb", meta.target.debian_arch));
    if out.exists() {
        return Err(PackError::Tree {
            path: out,
            problem: "already exists".into(),
        });
    }
    b.write_to_path(&out).map_err(deb)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_normalized_like_dh_fixperms() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("d");
        fs::create_dir(&d).unwrap();
        let f = d.join("f");
        let x = d.join("x");
        fs::write(&f, b"").unwrap();
        fs::write(&x, b"").unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o4600)).unwrap();
        fs::set_permissions(&x, fs::Permissions::from_mode(0o700)).unwrap();
        fix_permissions(t.path()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!((mode(&d), mode(&f), mode(&x)), (0o755, 0o644, 0o755));
    }
}
