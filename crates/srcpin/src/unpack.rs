//! A safe tar unpacker for hostile input.
//!
//! Policy (every violation is an [`Error::UnsafeEntry`] or [`Error::Archive`], and the caller
//! throws the whole destination away):
//!
//! * Only regular files, directories, symlinks and hard links to earlier regular files of the
//!   same tree. Devices, FIFOs, GNU sparse files and unknown types are refused. PAX global
//!   headers (git archive's commit id) are skipped.
//! * Paths must be valid UTF-8, relative, without `..`, NUL or empty components (a leading
//!   `./` is allowed), and inside the single expected top directory.
//! * No path may appear twice, and no entry may live below a symlink or a file (so nothing is
//!   ever written through a symlink). Symlinks are created last, after every one of them has
//!   been resolved (through the other symlinks of the archive) and shown to stay inside the
//!   top directory. Absolute symlink targets are refused.
//! * Modes are fixed: directories 0755, files 0755 if any execute bit was set, else 0644. No
//!   setuid/setgid/sticky bits, no owners, no xattrs.
//! * Limits: entry count, bytes per file and total bytes ([`UnpackLimits`]), checked against
//!   the header before any data is read and again while copying.
//!
//! The destination must be a fresh, empty directory that nobody else writes to (a temporary
//! directory); mtimes are normalised afterwards with [`normalize_mtimes`].

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::cache::set_mode;
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
}

impl Default for UnpackLimits {
    /// Generous for a kernel tree (6.12: ~90k entries, ~1.5 GB): 1M entries, 1 GiB per file,
    /// 8 GiB in total.
    fn default() -> Self {
        UnpackLimits {
            max_entries: 1_000_000,
            max_file_size: 1 << 30,
            max_total_bytes: 8 << 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir { explicit: bool },
    File,
    Symlink(String),
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
    let arch_err = |problem: String| Error::Archive {
        archive: archive.to_owned(),
        problem,
    };
    if fs::read_dir(dest)
        .map_err(|e| Error::io(dest, e))?
        .next()
        .is_some()
    {
        return Err(arch_err(format!(
            "destination {} is not empty",
            dest.display()
        )));
    }
    let mut ar = tar::Archive::new(reader);
    ar.set_ignore_zeros(false);
    let mut nodes: HashMap<Vec<String>, Node> = HashMap::new();
    let mut symlinks: Vec<(Vec<String>, String)> = Vec::new();
    let mut entries = 0u64;
    let mut total = 0u64;
    for entry in ar.entries().map_err(|e| arch_err(e.to_string()))? {
        let mut entry = entry.map_err(|e| arch_err(format!("malformed tar: {e}")))?;
        entries += 1;
        if entries > limits.max_entries {
            return Err(arch_err(format!(
                "more than {} entries (decompression-bomb limit)",
                limits.max_entries
            )));
        }
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::XGlobalHeader {
            continue;
        }
        let raw = entry.path_bytes().into_owned();
        if kind == tar::EntryType::Directory && (raw == b"./" || raw == b".") {
            continue; // `tar -C dir .` style root entry
        }
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let unsafe_entry = |problem: String| Error::UnsafeEntry {
            archive: archive.to_owned(),
            entry: shown.clone(),
            problem,
        };
        let rel = archive_path(&raw).map_err(&unsafe_entry)?;
        if rel[0] != top_dir {
            return Err(unsafe_entry(format!(
                "outside the top directory {top_dir:?}"
            )));
        }
        if rel.len() == 1 && kind != tar::EntryType::Directory {
            return Err(unsafe_entry("the top directory must be a directory".into()));
        }
        // Every ancestor must be a directory we created (never a symlink or a file).
        for i in 1..rel.len() {
            let anc = &rel[..i];
            match nodes.get(anc) {
                Some(Node::Dir { .. }) => {}
                Some(Node::Symlink(_)) => {
                    return Err(unsafe_entry(format!(
                        "path goes through the symlink {:?}",
                        anc.join("/")
                    )));
                }
                Some(Node::File) => {
                    return Err(unsafe_entry(format!(
                        "path goes through the file {:?}",
                        anc.join("/")
                    )));
                }
                None => {
                    let p = join(dest, anc);
                    fs::create_dir(&p).map_err(|e| Error::io(&p, e))?;
                    nodes.insert(anc.to_vec(), Node::Dir { explicit: false });
                }
            }
        }
        let path = join(dest, &rel);
        match kind {
            tar::EntryType::Directory => match nodes.get_mut(&rel) {
                Some(Node::Dir { explicit }) if !*explicit => *explicit = true,
                Some(_) => return Err(unsafe_entry("duplicate path".into())),
                None => {
                    fs::create_dir(&path).map_err(|e| Error::io(&path, e))?;
                    nodes.insert(rel, Node::Dir { explicit: true });
                }
            },
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if nodes.contains_key(&rel) {
                    return Err(unsafe_entry("duplicate path".into()));
                }
                let size = entry.size();
                if size > limits.max_file_size {
                    return Err(unsafe_entry(format!(
                        "claims {size} bytes, over the per-file limit of {} (decompression bomb?)",
                        limits.max_file_size
                    )));
                }
                if total.saturating_add(size) > limits.max_total_bytes {
                    return Err(arch_err(format!(
                        "more than {} bytes in total (decompression-bomb limit)",
                        limits.max_total_bytes
                    )));
                }
                let exec = entry
                    .header()
                    .mode()
                    .map(|m| m & 0o111 != 0)
                    .unwrap_or(false);
                let mode = if exec { 0o755 } else { 0o644 };
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(mode)
                    .open(&path)
                    .map_err(|e| Error::io(&path, e))?;
                let n = io::copy(&mut (&mut entry).take(size), &mut f)
                    .map_err(|e| Error::io(&path, e))?;
                if n != size {
                    return Err(unsafe_entry(format!("truncated: {n} of {size} bytes")));
                }
                total += n;
                // On the open file: the umask may have narrowed `mode` at creation.
                f.set_permissions(fs::Permissions::from_mode(mode))
                    .map_err(|e| Error::io(&path, e))?;
                drop(f);
                nodes.insert(rel, Node::File);
            }
            tar::EntryType::Symlink => {
                if nodes.contains_key(&rel) {
                    return Err(unsafe_entry("duplicate path".into()));
                }
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| unsafe_entry("symlink without a target".into()))?
                    .into_owned();
                let target = String::from_utf8(target)
                    .map_err(|_| unsafe_entry("non-UTF-8 symlink target".into()))?;
                if target.is_empty() || target.contains('\0') {
                    return Err(unsafe_entry("empty symlink target".into()));
                }
                if target.starts_with('/') {
                    return Err(unsafe_entry(format!("absolute symlink target {target:?}")));
                }
                nodes.insert(rel.clone(), Node::Symlink(target.clone()));
                symlinks.push((rel, target));
            }
            tar::EntryType::Link => {
                if nodes.contains_key(&rel) {
                    return Err(unsafe_entry("duplicate path".into()));
                }
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| unsafe_entry("hard link without a target".into()))?
                    .into_owned();
                let trel = archive_path(&target).map_err(|p| {
                    unsafe_entry(format!(
                        "hard link target {:?}: {p}",
                        String::from_utf8_lossy(&target)
                    ))
                })?;
                if nodes.get(&trel) != Some(&Node::File) {
                    return Err(unsafe_entry(format!(
                        "hard link to {:?}, which is not an earlier regular file of this tree",
                        String::from_utf8_lossy(&target)
                    )));
                }
                let tpath = join(dest, &trel);
                fs::hard_link(&tpath, &path).map_err(|e| Error::io(&path, e))?;
                nodes.insert(rel, Node::File);
            }
            other => {
                return Err(unsafe_entry(format!(
                    "entry type {other:?} is not allowed (only files, directories, symlinks, hard links)"
                )));
            }
        }
    }
    if !nodes.contains_key(&vec![top_dir.to_owned()]) {
        return Err(arch_err(format!(
            "no top directory {top_dir:?} (empty archive?)"
        )));
    }
    for (rel, target) in &symlinks {
        resolve(&rel[..rel.len() - 1], target, &nodes, 0).map_err(|problem| {
            Error::UnsafeEntry {
                archive: archive.to_owned(),
                entry: rel.join("/"),
                problem: format!("symlink to {target:?} {problem}"),
            }
        })?;
    }
    for (rel, target) in &symlinks {
        let p = join(dest, rel);
        std::os::unix::fs::symlink(target, &p).map_err(|e| Error::io(&p, e))?;
    }
    for (rel, node) in &nodes {
        if matches!(node, Node::Dir { .. }) {
            set_mode(&join(dest, rel), 0o755)?;
        }
    }
    Ok(dest.join(top_dir))
}

/// Splits an archive path into checked components.
fn archive_path(raw: &[u8]) -> Result<Vec<String>, String> {
    let s = std::str::from_utf8(raw).map_err(|_| "path is not UTF-8".to_owned())?;
    if s.contains('\0') {
        return Err("path contains NUL".into());
    }
    if s.starts_with('/') {
        return Err("absolute path".into());
    }
    let mut s = s;
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    let s = s.strip_suffix('/').unwrap_or(s);
    let mut out = Vec::new();
    for c in s.split('/') {
        match c {
            "" => return Err("empty path component".into()),
            "." => return Err("'.' path component".into()),
            ".." => return Err("'..' path component (traversal)".into()),
            c => out.push(c.to_owned()),
        }
    }
    Ok(out)
}

/// Resolves `target` relative to directory `dir` through the archive's own symlinks; the
/// result must stay inside the top directory (`dir[0]`).
fn resolve(
    dir: &[String],
    target: &str,
    nodes: &HashMap<Vec<String>, Node>,
    depth: u32,
) -> Result<Vec<String>, String> {
    if depth > 40 {
        return Err("is part of a symlink loop".into());
    }
    if target.starts_with('/') {
        return Err("is absolute".into());
    }
    let mut cur = dir.to_vec();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if cur.len() <= 1 {
                    return Err("escapes the tree".into());
                }
                cur.pop();
            }
            name => {
                cur.push(name.to_owned());
                if let Some(Node::Symlink(t)) = nodes.get(&cur) {
                    let parent = cur[..cur.len() - 1].to_vec();
                    cur = resolve(&parent, t, nodes, depth + 1)?;
                }
            }
        }
    }
    Ok(cur)
}

fn join(dest: &Path, rel: &[String]) -> PathBuf {
    let mut p = dest.to_path_buf();
    p.extend(rel);
    p
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
