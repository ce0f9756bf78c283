//! Safe extraction of an untrusted tar stream into a fresh directory.
//!
//! Policy (each refusal is an [`Error::Refused`] naming the entry):
//!
//! * the destination must not exist; everything is written into a temporary
//!   directory beside it, which is renamed into place only when the whole stream
//!   extracted cleanly (on error it is removed: nothing half-written);
//! * paths must be relative, without `..`; duplicates are refused;
//! * nothing is ever written *through* a symlink or into a non-directory: every
//!   parent of an entry must be a directory this extraction created;
//! * symlinks: absolute targets are kept (in a package they are relative to the
//!   install root, e.g. `/lib/modules/V/build -> /usr/src/linux-headers-V`, and
//!   are never followed here); relative targets that climb above the tree are refused;
//! * hard links must name a regular file extracted earlier;
//! * device nodes and FIFOs are refused;
//! * setuid, setgid and sticky bits are dropped unless
//!   [`ExtractOptions::keep_special_bits`]; owners are not applied.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};
use crate::tar_read::{TarEntryKind, TarReader};
use crate::tree::normalize_path;

/// Options for safe extraction.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Keep setuid/setgid/sticky bits (dropped by default).
    pub keep_special_bits: bool,
}

/// Counts of what was extracted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractSummary {
    /// Regular files.
    pub files: u64,
    /// Directories (the root included).
    pub dirs: u64,
    /// Symlinks.
    pub symlinks: u64,
    /// Hard links.
    pub hard_links: u64,
    /// Bytes of file data written.
    pub bytes: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Made {
    Dir,
    File,
    Other,
}

/// Extracts `tar` into `dest` (see the module docs for the policy).
pub fn extract_tar<R: Read>(
    tar: &mut TarReader<R>,
    member: &str,
    dest: &Path,
    opts: &ExtractOptions,
) -> Result<ExtractSummary> {
    if fs::symlink_metadata(dest).is_ok() {
        return Err(Error::io(
            dest,
            io::Error::new(io::ErrorKind::AlreadyExists, "destination already exists"),
        ));
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".detdeb-extract-")
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    let root = tmp.path().to_path_buf();
    let mut made: HashMap<Vec<u8>, Made> = HashMap::new();
    made.insert(Vec::new(), Made::Dir);
    let mut dir_modes: Vec<(PathBuf, u32, i64)> = Vec::new();
    let mut summary = ExtractSummary {
        dirs: 1,
        ..Default::default()
    };
    let mask = if opts.keep_special_bits {
        0o7777
    } else {
        0o777
    };
    let mut buf = vec![0u8; 128 << 10];

    while let Some(e) = tar.next_entry()? {
        let refuse = |reason: &str| Error::Refused {
            member: member.to_owned(),
            entry: e.name_lossy(),
            reason: reason.to_owned(),
        };
        let norm = normalize_path(&e.name).map_err(refuse)?;
        let target = root.join(bytes_path(&norm));
        if norm.is_empty() {
            if e.kind != TarEntryKind::Dir {
                return Err(refuse("the root entry is not a directory"));
            }
            dir_modes.push((root.clone(), e.mode & mask, e.mtime));
            continue;
        }
        if made.contains_key(&norm) {
            return Err(refuse("duplicate entry"));
        }
        // Every parent must be a directory we made; create missing ones (0755).
        let mut p = Vec::new();
        for comp in norm
            .split(|&c| c == b'/')
            .collect::<Vec<_>>()
            .split_last()
            .unwrap()
            .1
        {
            if !p.is_empty() {
                p.push(b'/');
            }
            p.extend_from_slice(comp);
            match made.get(&p) {
                Some(Made::Dir) => {}
                Some(_) => {
                    return Err(refuse(
                        "a parent path is not a directory (write through a link?)",
                    ));
                }
                None => {
                    let d = root.join(bytes_path(&p));
                    fs::create_dir(&d).map_err(|err| Error::io(&d, err))?;
                    made.insert(p.clone(), Made::Dir);
                    summary.dirs += 1;
                }
            }
        }
        let kind = match &e.kind {
            TarEntryKind::Dir => {
                fs::create_dir(&target).map_err(|err| Error::io(&target, err))?;
                dir_modes.push((target.clone(), e.mode & mask, e.mtime));
                summary.dirs += 1;
                Made::Dir
            }
            TarEntryKind::File => {
                let mut f = OpenOptions::new()
                    .write(true)
                    // O_CREAT|O_EXCL: never follows or reuses an existing name.
                    .create_new(true)
                    .mode(0o600)
                    .open(&target)
                    .map_err(|err| Error::io(&target, err))?;
                loop {
                    let n = tar.read_data(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    f.write_all(&buf[..n])
                        .map_err(|err| Error::io(&target, err))?;
                    summary.bytes += n as u64;
                }
                finish_file(&f, &target, e.mode & mask, e.mtime)?;
                summary.files += 1;
                Made::File
            }
            TarEntryKind::Symlink { target: t } => {
                if t.is_empty() || t.contains(&0) {
                    return Err(refuse("empty or NUL-containing symlink target"));
                }
                if t.first() != Some(&b'/') && escapes(&norm, t) {
                    return Err(refuse("symlink target escapes the tree"));
                }
                std::os::unix::fs::symlink(bytes_path(t), &target)
                    .map_err(|err| Error::io(&target, err))?;
                summary.symlinks += 1;
                Made::Other
            }
            TarEntryKind::HardLink { target: t } => {
                let tn =
                    normalize_path(t).map_err(|_| refuse("hard link target escapes the tree"))?;
                if made.get(&tn) != Some(&Made::File) {
                    return Err(refuse(
                        "hard link target is not a regular file extracted earlier",
                    ));
                }
                fs::hard_link(root.join(bytes_path(&tn)), &target)
                    .map_err(|err| Error::io(&target, err))?;
                summary.hard_links += 1;
                Made::Other
            }
            TarEntryKind::CharDev { .. } | TarEntryKind::BlockDev { .. } => {
                return Err(refuse("device nodes are not extracted"));
            }
            TarEntryKind::Fifo => return Err(refuse("FIFOs are not extracted")),
        };
        made.insert(norm, kind);
    }
    // Directories last, deepest first, so read-only modes do not block extraction.
    for (d, mode, mtime) in dir_modes.into_iter().rev() {
        fs::set_permissions(&d, fs::Permissions::from_mode(mode)).map_err(|e| Error::io(&d, e))?;
        if let Ok(f) = File::open(&d) {
            let _ = f.set_modified(to_system_time(mtime));
        }
    }
    let root = tmp.keep();
    fs::rename(&root, dest).map_err(|e| {
        let _ = fs::remove_dir_all(&root);
        Error::io(dest, e)
    })?;
    Ok(summary)
}

fn finish_file(f: &File, path: &Path, mode: u32, mtime: i64) -> Result<()> {
    f.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(path, e))?;
    f.set_modified(to_system_time(mtime))
        .map_err(|e| Error::io(path, e))
}

fn to_system_time(t: i64) -> SystemTime {
    if t >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(t as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(t.unsigned_abs())
    }
}

fn bytes_path(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

/// Whether the relative symlink at `link` (a normalized path) pointing at `target`
/// climbs above the tree root, resolving lexically.
fn escapes(link: &[u8], target: &[u8]) -> bool {
    let mut depth: i64 = link.split(|&c| c == b'/').count() as i64 - 1;
    for comp in target.split(|&c| c == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::escapes;

    #[test]
    fn lexical_escape_check() {
        assert!(!escapes(b"usr/lib/x", b"../share/y"));
        assert!(!escapes(b"usr/lib/x", b"../../etc"));
        assert!(escapes(b"usr/lib/x", b"../../../etc"));
        assert!(escapes(b"x", b".."));
        assert!(!escapes(b"a/x", b"./../b"));
    }
}
