//! The entries of a tar member, and the order dpkg-deb archives them in.
//!
//! dpkg-deb walks the tree itself (`lib/dpkg/treewalk.c`) and feeds GNU tar the
//! list: depth first, a directory before its contents, the entries of each directory
//! sorted by `strcmp` of their *names* — which is not the same as sorting whole paths
//! (`a/b` comes before `a-c`, although `-` < `/`). For the data member it then moves
//! every symlink, in walk order, after everything else, so that no symlink precedes
//! its target; and it skips every top-level name that *starts with* `DEBIAN` (a
//! `strncmp`, so `DEBIAN.orig` is skipped too). [`sort_dpkg`] reproduces that order
//! for any list of entries, on disk or in memory.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

/// Where a regular file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    /// Read from this path when packing.
    Path(PathBuf),
    /// These bytes.
    Bytes(Arc<[u8]>),
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file of `size` bytes.
    File {
        /// Where the bytes come from.
        source: FileSource,
        /// Its size; the packer checks the source still has exactly this many bytes.
        size: u64,
    },
    /// A symbolic link (the target is stored as is).
    Symlink {
        /// The link target.
        target: Vec<u8>,
    },
    /// A second name for an earlier regular file of the same member.
    HardLink {
        /// The earlier entry's path (relative, like [`Entry::path`]).
        target: Vec<u8>,
    },
    /// A character device (only packed when special files are allowed).
    CharDev {
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
    /// A block device (only packed when special files are allowed).
    BlockDev {
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
    /// A FIFO (only packed when special files are allowed).
    Fifo,
}

/// One entry of a member: a path relative to the member root (`b""` is the root
/// itself, archived as `./`), its kind, permission bits and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative path without a leading `./` or trailing `/`; components separated by `/`.
    pub path: Vec<u8>,
    /// What it is.
    pub kind: EntryKind,
    /// Permission bits (`& 0o7777` is used).
    pub mode: u32,
    /// Modification time in seconds since the epoch, before clamping.
    pub mtime: i64,
}

impl Entry {
    /// A directory entry.
    pub fn dir(path: impl Into<Vec<u8>>, mode: u32) -> Self {
        Entry {
            path: path.into(),
            kind: EntryKind::Dir,
            mode,
            mtime: i64::MAX,
        }
    }

    /// A regular file with in-memory contents.
    pub fn file(path: impl Into<Vec<u8>>, mode: u32, contents: impl Into<Arc<[u8]>>) -> Self {
        let contents: Arc<[u8]> = contents.into();
        Entry {
            path: path.into(),
            kind: EntryKind::File {
                size: contents.len() as u64,
                source: FileSource::Bytes(contents),
            },
            mode,
            mtime: i64::MAX,
        }
    }

    /// A symbolic link.
    pub fn symlink(path: impl Into<Vec<u8>>, target: impl Into<Vec<u8>>) -> Self {
        Entry {
            path: path.into(),
            kind: EntryKind::Symlink {
                target: target.into(),
            },
            mode: 0o777,
            mtime: i64::MAX,
        }
    }

    /// A hard link to the earlier regular file `target`.
    pub fn hard_link(path: impl Into<Vec<u8>>, target: impl Into<Vec<u8>>, mode: u32) -> Self {
        Entry {
            path: path.into(),
            kind: EntryKind::HardLink {
                target: target.into(),
            },
            mode,
            mtime: i64::MAX,
        }
    }

    /// Sets the modification time (entries made by the constructors above carry
    /// `i64::MAX`, which the packer clamps to SOURCE_DATE_EPOCH).
    pub fn with_mtime(mut self, mtime: i64) -> Self {
        self.mtime = mtime;
        self
    }

    /// The name as archived: `./` + path (the root is `./`).
    pub fn archive_name(&self) -> Vec<u8> {
        let mut n = b"./".to_vec();
        n.extend_from_slice(&self.path);
        n
    }

    pub(crate) fn is_symlink(&self) -> bool {
        matches!(self.kind, EntryKind::Symlink { .. })
    }
}

/// dpkg's walk order: component-wise byte comparison, a parent before its children.
pub fn dpkg_path_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let mut ca = a.split(|&c| c == b'/').filter(|c| !c.is_empty());
    let mut cb = b.split(|&c| c == b'/').filter(|c| !c.is_empty());
    loop {
        match (ca.next(), cb.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match x.cmp(y) {
                Ordering::Equal => continue,
                other => return other,
            },
        }
    }
}

/// Sorts entries in dpkg-deb's walk order; with `symlinks_last` (the data member),
/// moves symlinks after everything else keeping their relative order.
pub fn sort_dpkg(entries: &mut [Entry], symlinks_last: bool) {
    entries.sort_by(|a, b| dpkg_path_cmp(&a.path, &b.path));
    if symlinks_last {
        // A stable sort on one boolean key keeps walk order within each group.
        entries.sort_by_key(Entry::is_symlink);
    }
}

/// Checks an entry path is relative, normalized and free of `..`, and returns it
/// without leading `./` or trailing `/`.
pub fn normalize_path(path: &[u8]) -> std::result::Result<Vec<u8>, &'static str> {
    use safe_extract::PathProblem;
    safe_extract::path::normalize(path).map_err(|p| match p {
        PathProblem::Nul => "path contains a NUL byte",
        PathProblem::Absolute => "absolute path",
        PathProblem::DotDot => "path contains a `..` component",
        PathProblem::NotUtf8 => "path is not UTF-8",
        PathProblem::Empty => "empty path",
    })
}

/// Validates and completes an in-memory entry list: paths normalized, no
/// duplicates, hard links pointing at earlier regular files, missing parent
/// directories added (mode 0755), then sorted as dpkg-deb would.
pub fn prepare_entries(entries: Vec<Entry>, symlinks_last: bool) -> Result<Vec<Entry>> {
    let (mut out, mut seen) = normalized_unique(entries)?;
    add_missing_parents(&mut out, &mut seen);
    check_parents_are_dirs(&out)?;
    sort_dpkg(&mut out, symlinks_last);
    assign_hard_link_data(&mut out)?;
    Ok(out)
}

fn staging_error(path: &[u8], problem: &'static str) -> Error {
    Error::staging(PathBuf::from(std::ffi::OsStr::from_bytes(path)), problem)
}

/// Each path (and hard-link target) normalized; the root a directory; no path
/// twice. Returns the entries and the set of their paths.
fn normalized_unique(entries: Vec<Entry>) -> Result<(Vec<Entry>, BTreeSet<Vec<u8>>)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(entries.len() + 1);
    for mut e in entries {
        let display = PathBuf::from(std::ffi::OsStr::from_bytes(&e.path));
        e.path = normalize_path(&e.path).map_err(|r| Error::staging(&display, r))?;
        if e.path.is_empty() && e.kind != EntryKind::Dir {
            return Err(Error::staging(
                display,
                "the root entry must be a directory",
            ));
        }
        if let EntryKind::HardLink { target } = &mut e.kind {
            *target = normalize_path(target).map_err(|r| Error::staging(&display, r))?;
        }
        if !seen.insert(e.path.clone()) {
            return Err(Error::staging(display, "duplicate entry"));
        }
        out.push(e);
    }
    Ok((out, seen))
}

/// Adds every missing ancestor directory (and the root) with mode 0755.
fn add_missing_parents(out: &mut Vec<Entry>, seen: &mut BTreeSet<Vec<u8>>) {
    let mut missing = BTreeSet::new();
    for e in out.iter() {
        let mut p = e.path.as_slice();
        while let Some(i) = p.iter().rposition(|&c| c == b'/') {
            p = &p[..i];
            if !seen.contains(p) {
                missing.insert(p.to_vec());
            }
        }
        if !e.path.is_empty() && !seen.contains(&b""[..]) {
            missing.insert(Vec::new());
        }
    }
    for p in missing {
        seen.insert(p.clone());
        out.push(Entry::dir(p, 0o755));
    }
}

/// Refuses an entry whose parent is in the list as something other than a directory.
fn check_parents_are_dirs(out: &[Entry]) -> Result<()> {
    let non_dirs: BTreeSet<&[u8]> = out
        .iter()
        .filter(|e| e.kind != EntryKind::Dir)
        .map(|e| e.path.as_slice())
        .collect();
    for e in out {
        let parent = match e.path.iter().rposition(|&c| c == b'/') {
            Some(i) => &e.path[..i],
            None => &b""[..],
        };
        if !e.path.is_empty() && non_dirs.contains(parent) {
            return Err(staging_error(&e.path, "parent is not a directory"));
        }
    }
    Ok(())
}

/// A hard link names a regular file of the (sorted) list. As GNU tar does for an
/// inode with several names, the name that comes first in archive order carries
/// the data and the others become links to it, whichever one the caller called
/// the file.
fn assign_hard_link_data(out: &mut [Entry]) -> Result<()> {
    for (file, first) in first_name_of_each_linked_file(out)? {
        if first == file {
            continue;
        }
        // Move the data to `first`; `file` and the other links point at it.
        let data = std::mem::replace(&mut out[file].kind, EntryKind::Dir);
        let old_target = out[file].path.clone();
        let new_target = out[first].path.clone();
        out[first].kind = data;
        out[file].kind = EntryKind::HardLink {
            target: new_target.clone(),
        };
        for e in out.iter_mut() {
            if let EntryKind::HardLink { target } = &mut e.kind
                && *target == old_target
                && e.path != new_target
            {
                *target = new_target.clone();
            }
        }
    }
    Ok(())
}

/// For each regular file that hard links name: (its index, the index of the first
/// of its names in archive order).
fn first_name_of_each_linked_file(out: &[Entry]) -> Result<HashMap<usize, usize>> {
    let index: HashMap<&[u8], usize> = out
        .iter()
        .enumerate()
        .map(|(i, e)| (e.path.as_slice(), i))
        .collect();
    let mut first_of_group: HashMap<usize, usize> = HashMap::new();
    for (i, e) in out.iter().enumerate() {
        let EntryKind::HardLink { target } = &e.kind else {
            continue;
        };
        let file = match index.get(target.as_slice()) {
            Some(&f) if matches!(out[f].kind, EntryKind::File { .. }) => f,
            _ => {
                return Err(staging_error(
                    &e.path,
                    "hard link target is not a regular file of the package",
                ));
            }
        };
        let first = first_of_group.entry(file).or_insert(file);
        if i < *first {
            *first = i;
        }
    }
    Ok(first_of_group)
}

/// Options for [`walk_dir`].
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions {
    /// Skip top-level names starting with `DEBIAN` (the data member).
    pub skip_debian: bool,
    /// Move symlinks last (the data member).
    pub symlinks_last: bool,
    /// Accept device nodes and FIFOs (refused by default).
    pub allow_special: bool,
}

/// Walks a directory on disk into entries, in dpkg-deb's order. Files are not read;
/// inodes seen twice (hard links) become [`EntryKind::HardLink`] to the first path.
pub fn walk_dir(root: &Path, opts: WalkOptions) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let meta = fs::symlink_metadata(root).map_err(|e| Error::io(root, e))?;
    if !meta.is_dir() {
        return Err(Error::staging(root, "not a directory"));
    }
    out.push(Entry {
        path: Vec::new(),
        kind: EntryKind::Dir,
        mode: meta.mode() & 0o7777,
        mtime: meta.mtime(),
    });
    let mut inodes = HashMap::new();
    walk_into(root, root, &mut out, &mut inodes, opts)?;
    sort_dpkg(&mut out, opts.symlinks_last);
    // Hard links in archive order: the first path to an inode carries the data,
    // later ones become links to it (as GNU tar does).
    let mut first_path: HashMap<(u64, u64), Vec<u8>> = HashMap::new();
    for e in &mut out {
        if let Some(key) = inodes.get(&e.path) {
            match first_path.get(key) {
                Some(first) => {
                    e.kind = EntryKind::HardLink {
                        target: first.clone(),
                    }
                }
                None => {
                    first_path.insert(*key, e.path.clone());
                }
            }
        }
    }
    Ok(out)
}

/// (dev, ino) of walked regular files with more than one link, by relative path.
type MultiLinked = HashMap<Vec<u8>, (u64, u64)>;

fn walk_into(
    root: &Path,
    dir: &Path,
    out: &mut Vec<Entry>,
    inodes: &mut MultiLinked,
    opts: WalkOptions,
) -> Result<()> {
    let mut names = Vec::new();
    for de in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let de = de.map_err(|e| Error::io(dir, e))?;
        names.push(de.file_name());
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for name in names {
        if opts.skip_debian && dir == root && name.as_bytes().starts_with(b"DEBIAN") {
            continue;
        }
        let path = dir.join(&name);
        if name.as_bytes().contains(&b'\n') {
            return Err(Error::staging(&path, "newline not allowed in pathname"));
        }
        let rel = path
            .strip_prefix(root)
            .expect("walked path is under root")
            .as_os_str()
            .as_bytes()
            .to_vec();
        let m = fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
        let ft = m.file_type();
        let kind = if ft.is_dir() {
            EntryKind::Dir
        } else if ft.is_file() {
            EntryKind::File {
                source: FileSource::Path(path.clone()),
                size: m.len(),
            }
        } else if ft.is_symlink() {
            let t = fs::read_link(&path).map_err(|e| Error::io(&path, e))?;
            EntryKind::Symlink {
                target: t.as_os_str().as_bytes().to_vec(),
            }
        } else if ft.is_socket() {
            return Err(Error::staging(&path, "sockets cannot be archived"));
        } else if !opts.allow_special {
            return Err(Error::staging(
                &path,
                "device nodes and FIFOs are refused unless special files are allowed",
            ));
        } else if ft.is_fifo() {
            EntryKind::Fifo
        } else {
            let rdev = m.rdev();
            let (major, minor) = (dev_major(rdev), dev_minor(rdev));
            if ft.is_char_device() {
                EntryKind::CharDev { major, minor }
            } else {
                EntryKind::BlockDev { major, minor }
            }
        };
        let is_dir = kind == EntryKind::Dir;
        if ft.is_file() && m.nlink() > 1 {
            inodes.insert(rel.clone(), (m.dev(), m.ino()));
        }
        out.push(Entry {
            path: rel,
            kind,
            mode: m.mode() & 0o7777,
            mtime: m.mtime(),
        });
        if is_dir {
            walk_into(root, &path, out, inodes, opts)?;
        }
    }
    Ok(())
}

/// glibc's `major()` for a Linux `dev_t`.
fn dev_major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0x0000_0fff)) as u32
}

/// glibc's `minor()` for a Linux `dev_t`.
fn dev_minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0x0000_00ff)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_order_is_per_directory_not_per_path() {
        let mut v: Vec<&[u8]> = vec![b"a-c", b"a/b", b"a", b"", b"a/b/c", b"B"];
        v.sort_by(|a, b| dpkg_path_cmp(a, b));
        assert_eq!(v, vec![&b""[..], b"B", b"a", b"a/b", b"a/b/c", b"a-c"]);
    }

    #[test]
    fn normalize_refuses_escapes() {
        assert_eq!(normalize_path(b"./usr//bin/").unwrap(), b"usr/bin");
        assert!(normalize_path(b"/etc/passwd").is_err());
        assert!(normalize_path(b"usr/../../x").is_err());
        assert_eq!(normalize_path(b"./").unwrap(), b"");
    }

    #[test]
    fn prepare_adds_parents_and_orders_symlinks_last() {
        let v = prepare_entries(
            vec![
                Entry::symlink("usr/lib/l", "x"),
                Entry::file("usr/lib/x", 0o644, &b"hi"[..]),
                Entry::file("etc/y", 0o644, &b""[..]),
            ],
            true,
        )
        .unwrap();
        let names: Vec<_> = v
            .iter()
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "",
                "etc",
                "etc/y",
                "usr",
                "usr/lib",
                "usr/lib/x",
                "usr/lib/l"
            ]
        );
    }

    #[test]
    fn prepare_refuses_duplicates_and_dangling_hard_links() {
        let dup = prepare_entries(
            vec![Entry::dir("a", 0o755), Entry::dir("./a/", 0o755)],
            false,
        );
        assert!(matches!(dup, Err(Error::Staging { .. })));
        let dangling = prepare_entries(vec![Entry::hard_link("a", "b", 0o644)], false);
        assert!(matches!(dangling, Err(Error::Staging { .. })));
    }

    #[test]
    fn first_name_in_archive_order_carries_hard_linked_data() {
        let v = prepare_entries(
            vec![
                Entry::file("z", 0o644, &b"data"[..]),
                Entry::hard_link("a", "z", 0o644),
                Entry::hard_link("m", "z", 0o644),
            ],
            true,
        )
        .unwrap();
        assert!(
            matches!(&v[1].kind, EntryKind::File { size: 4, .. }),
            "{v:?}"
        );
        assert_eq!(
            v[2].kind,
            EntryKind::HardLink {
                target: b"a".to_vec()
            }
        );
        assert_eq!(
            v[3].kind,
            EntryKind::HardLink {
                target: b"a".to_vec()
            }
        );
    }

    #[test]
    fn dev_numbers_split_like_glibc() {
        // makedev(0x1234, 0x56789) with glibc's layout:
        // minor bits 0-7 and 20-43, major bits 8-19 and 44-63.
        let (major, minor): (u64, u64) = (0x1234, 0x56789);
        let dev =
            ((major & 0xfff) << 8) | ((major >> 12) << 44) | (minor & 0xff) | ((minor >> 8) << 20);
        assert_eq!((dev_major(dev), dev_minor(dev)), (0x1234, 0x56789));
    }
}
