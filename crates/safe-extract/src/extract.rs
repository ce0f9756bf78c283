//! The extractor: one entry at a time from a [`TarReader`] into a fresh directory.
//!
//! Rules (each refusal is a typed [`Refusal`]):
//!
//! * the destination must not exist; the tree is built in a temporary directory beside it
//!   and renamed into place only when every entry extracted cleanly;
//! * paths are normalized components: relative, no `..`, no NUL (and UTF-8 if the policy
//!   says so); with a [`Policy::top_dir`], every entry lives in that single directory,
//!   which becomes the destination;
//! * every ancestor of an entry must be a directory this extraction made (nothing is
//!   written through a symlink or into a file); a path appears once;
//! * files are created with `O_CREAT|O_EXCL`; each declared size is checked against the
//!   per-file limit and the remaining uncompressed budget before any data is read;
//! * symlinks are created last, once every one of them is resolved through the archive's
//!   own links (chains, loops) and shown to stay inside the tree; absolute targets are
//!   refused, or — for packages, whose links are relative to the install root — resolved
//!   from the tree's root ([`AbsoluteSymlinks`]) and never followed here;
//! * hard links must name a regular file extracted earlier;
//! * devices and FIFOs are refused; owners are never applied.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::atomic::{TempTree, parent_of};
use crate::error::{Error, LimitKind, PathProblem, Refusal, Result};
use crate::path::{components, is_traversal};
use crate::quote::Quoted;
use crate::tar::{TarEntry, TarEntryKind, TarReader};

/// What to do with absolute symlink targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbsoluteSymlinks {
    /// Refuse them (source trees).
    Refuse,
    /// Create them as they are; for the escape check they resolve from the tree's root,
    /// as they will once the tree is installed at `/` (packages:
    /// `/lib/modules/V/build -> /usr/src/linux-headers-V`).
    KeepRootRelative,
}

/// Which permissions and mtimes the extracted tree gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modes {
    /// The archive's permission bits (setuid/setgid/sticky only if `keep_special_bits`)
    /// and mtimes.
    FromArchive {
        /// Keep setuid, setgid and sticky bits.
        keep_special_bits: bool,
    },
    /// Directories 0755; files 0755 if any execute bit was set, else 0644; mtimes left to
    /// the caller.
    Fixed,
}

/// The extraction policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The single top directory every entry must be in (a source tarball's
    /// `linux-6.12/`); the destination receives its contents. `None`: the archive's root
    /// is the destination (a package's `./`).
    pub top_dir: Option<String>,
    /// Absolute symlink targets.
    pub absolute_symlinks: AbsoluteSymlinks,
    /// Permissions and mtimes.
    pub modes: Modes,
    /// Refuse names and link targets that are not UTF-8.
    pub utf8_names: bool,
}

impl Policy {
    /// A `.deb` data tree: modes and mtimes from the archive, special bits dropped,
    /// absolute symlinks kept (root-relative), any bytes in names.
    pub fn package() -> Self {
        Policy {
            top_dir: None,
            absolute_symlinks: AbsoluteSymlinks::KeepRootRelative,
            modes: Modes::FromArchive {
                keep_special_bits: false,
            },
            utf8_names: false,
        }
    }

    /// A source tarball with the single top directory `top_dir`: fixed modes, UTF-8 names,
    /// no absolute symlinks.
    pub fn source(top_dir: &str) -> Self {
        Policy {
            top_dir: Some(top_dir.to_owned()),
            absolute_symlinks: AbsoluteSymlinks::Refuse,
            modes: Modes::Fixed,
            utf8_names: true,
        }
    }
}

/// Counts of what was extracted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
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

/// `N files, N directories, N symlinks, N hard links, N bytes`.
impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Summary {
            files,
            dirs,
            symlinks,
            hard_links,
            bytes,
        } = self;
        write!(
            f,
            "{files} files, {dirs} directories, {symlinks} symlinks, {hard_links} hard links, {bytes} bytes"
        )
    }
}

/// Extracts `tar` into `dest`, which must not exist yet (see the module docs).
/// On any error nothing is left behind.
pub fn extract<R: Read>(tar: &mut TarReader<R>, dest: &Path, policy: &Policy) -> Result<Summary> {
    let tree = TempTree::beside(dest, ".safe-extract-")
        .map_err(|e| Error::io(parent_of(dest), e))?
        .ok_or_else(|| Error::DestinationExists {
            path: dest.to_path_buf(),
        })?;
    let mut x = Extraction::new(tree.path(), policy);
    while let Some(e) = tar.next_entry()? {
        x.add(&e, tar)?;
    }
    x.finish(tar)?;
    tree.persist().map_err(|e| Error::io(dest, e))?;
    Ok(x.summary)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir { explicit: bool },
    File,
    Symlink(Vec<u8>),
}

/// Why a symlink's resolution failed.
enum LinkProblem {
    Escapes,
    Absolute,
    Loop,
}

struct Extraction<'p> {
    root: PathBuf,
    policy: &'p Policy,
    /// Everything made so far, by normalized path below the root (`a/b`).
    nodes: HashMap<Vec<u8>, Node>,
    symlinks: Vec<(Vec<u8>, Vec<u8>)>,
    /// Explicit directory modes and mtimes, applied last.
    dir_modes: Vec<(Vec<u8>, u32, i64)>,
    seen_top: bool,
    summary: Summary,
    buf: Vec<u8>,
}

impl<'p> Extraction<'p> {
    fn new(root: &Path, policy: &'p Policy) -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(Vec::new(), Node::Dir { explicit: false });
        Extraction {
            root: root.to_path_buf(),
            policy,
            nodes,
            symlinks: Vec::new(),
            dir_modes: Vec::new(),
            seen_top: false,
            summary: Summary {
                dirs: 1,
                ..Summary::default()
            },
            buf: vec![0u8; 128 << 10],
        }
    }

    fn path_of(&self, key: &[u8]) -> PathBuf {
        self.root.join(std::ffi::OsStr::from_bytes(key))
    }

    /// The entry's components below the destination; `None` for an entry to skip (a
    /// `./` root entry above the top directory).
    fn place<'a, R: Read>(
        &mut self,
        raw: &'a [u8],
        tar: &TarReader<R>,
    ) -> Result<Option<Vec<&'a [u8]>>> {
        let entry = || Quoted::new(raw);
        let comps = components(raw, self.policy.utf8_names)
            .map_err(|p| tar.refused(path_refusal(entry(), p)))?;
        let Some(top) = &self.policy.top_dir else {
            return Ok(Some(comps));
        };
        if comps.is_empty() {
            return Ok(None);
        }
        if comps[0] != top.as_bytes() {
            return Err(tar.refused(Refusal::OutsideTopDir {
                entry: entry(),
                top_dir: Quoted::from(top.as_str()),
            }));
        }
        self.seen_top = true;
        Ok(Some(comps[1..].to_vec()))
    }

    fn add<R: Read>(&mut self, e: &TarEntry, tar: &mut TarReader<R>) -> Result<()> {
        let entry = Quoted::new(&e.name);
        let Some(rel) = self.place(&e.name, tar)? else {
            if e.kind != TarEntryKind::Dir {
                return Err(tar.refused(Refusal::TopDirNotADirectory { entry }));
            }
            return Ok(());
        };
        let key = rel.join(&b'/');
        if rel.is_empty() {
            if e.kind != TarEntryKind::Dir {
                return Err(tar.refused(Refusal::TopDirNotADirectory { entry }));
            }
            self.dir_modes.push((key, e.mode, e.mtime));
            return Ok(());
        }
        self.make_ancestors(&rel, &entry, tar)?;
        let existing = self.nodes.get(&key).cloned();
        if e.kind == TarEntryKind::Dir && existing == Some(Node::Dir { explicit: false }) {
            self.nodes.insert(key.clone(), Node::Dir { explicit: true });
            self.dir_modes.push((key, e.mode, e.mtime));
            return Ok(());
        }
        if existing.is_some() {
            return Err(tar.refused(Refusal::Duplicate { entry }));
        }
        let write_err = |cause: io::Error| Error::Write {
            archive: tar.archive().to_owned(),
            entry: entry.clone(),
            cause,
        };
        let node = match &e.kind {
            TarEntryKind::Dir => {
                fs::create_dir(self.path_of(&key)).map_err(write_err)?;
                self.dir_modes.push((key.clone(), e.mode, e.mtime));
                self.summary.dirs += 1;
                Node::Dir { explicit: true }
            }
            TarEntryKind::File => {
                self.write_file(e, &key, &entry, tar)?;
                Node::File
            }
            TarEntryKind::Symlink { target } => {
                self.check_link_target(&entry, target, tar)?;
                self.symlinks.push((key.clone(), target.clone()));
                Node::Symlink(target.clone())
            }
            TarEntryKind::HardLink { target } => {
                let to = self.hard_link_target(&entry, target, tar)?;
                fs::hard_link(self.path_of(&to), self.path_of(&key)).map_err(write_err)?;
                self.summary.hard_links += 1;
                Node::File
            }
            TarEntryKind::CharDev { .. } => return Err(device(tar, entry, "character device")),
            TarEntryKind::BlockDev { .. } => return Err(device(tar, entry, "block device")),
            TarEntryKind::Fifo => return Err(device(tar, entry, "FIFO")),
        };
        self.nodes.insert(key, node);
        Ok(())
    }

    /// Every ancestor must be a directory we made; missing ones are created.
    fn make_ancestors<R: Read>(
        &mut self,
        rel: &[&[u8]],
        entry: &Quoted,
        tar: &TarReader<R>,
    ) -> Result<()> {
        for i in 1..rel.len() {
            let anc = rel[..i].join(&b'/');
            match self.nodes.get(&anc) {
                Some(Node::Dir { .. }) => {}
                Some(Node::Symlink(_)) => {
                    return Err(tar.refused(Refusal::ThroughLink {
                        entry: entry.clone(),
                        link: Quoted::new(&anc),
                    }));
                }
                Some(Node::File) => {
                    return Err(tar.refused(Refusal::ThroughFile {
                        entry: entry.clone(),
                        file: Quoted::new(&anc),
                    }));
                }
                None => {
                    fs::create_dir(self.path_of(&anc)).map_err(|cause| Error::Write {
                        archive: tar.archive().to_owned(),
                        entry: entry.clone(),
                        cause,
                    })?;
                    self.nodes.insert(anc, Node::Dir { explicit: false });
                    self.summary.dirs += 1;
                }
            }
        }
        Ok(())
    }

    fn write_file<R: Read>(
        &mut self,
        e: &TarEntry,
        key: &[u8],
        entry: &Quoted,
        tar: &mut TarReader<R>,
    ) -> Result<()> {
        let max = tar.limits().max_file_size;
        if e.size > max {
            return Err(tar.limit_error(LimitKind::FileSize, max));
        }
        let path = self.path_of(key);
        let write_err = |archive: &str, cause: io::Error| Error::Write {
            archive: archive.to_owned(),
            entry: entry.clone(),
            cause,
        };
        // O_CREAT|O_EXCL: never follows or reuses an existing name.
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|c| write_err(tar.archive(), c))?;
        loop {
            let n = tar.read_data(&mut self.buf)?;
            if n == 0 {
                break;
            }
            f.write_all(&self.buf[..n])
                .map_err(|c| write_err(tar.archive(), c))?;
            self.summary.bytes += n as u64;
        }
        let (mode, mtime) = match self.policy.modes {
            Modes::Fixed if e.mode & 0o111 != 0 => (0o755, None),
            Modes::Fixed => (0o644, None),
            Modes::FromArchive { keep_special_bits } => {
                (e.mode & special_mask(keep_special_bits), Some(e.mtime))
            }
        };
        finish_file(&f, mode, mtime).map_err(|c| write_err(tar.archive(), c))?;
        self.summary.files += 1;
        Ok(())
    }

    fn check_link_target<R: Read>(
        &self,
        entry: &Quoted,
        target: &[u8],
        tar: &TarReader<R>,
    ) -> Result<()> {
        let bad = |problem| {
            tar.refused(Refusal::BadLinkTarget {
                entry: entry.clone(),
                target: Quoted::new(target),
                problem,
            })
        };
        if target.is_empty() {
            return Err(bad(PathProblem::Empty));
        }
        if self.policy.utf8_names && std::str::from_utf8(target).is_err() {
            return Err(bad(PathProblem::NotUtf8));
        }
        if target[0] == b'/' && self.policy.absolute_symlinks == AbsoluteSymlinks::Refuse {
            return Err(tar.refused(Refusal::AbsoluteLink {
                entry: entry.clone(),
                target: Quoted::new(target),
            }));
        }
        Ok(())
    }

    /// The key of the regular file a hard link names (archive paths, as entries).
    fn hard_link_target<R: Read>(
        &self,
        entry: &Quoted,
        target: &[u8],
        tar: &TarReader<R>,
    ) -> Result<Vec<u8>> {
        let refuse = || {
            tar.refused(Refusal::HardLink {
                entry: entry.clone(),
                target: Quoted::new(target),
            })
        };
        let comps = components(target, self.policy.utf8_names).map_err(|_| refuse())?;
        let rel = match &self.policy.top_dir {
            Some(top) if comps.first() == Some(&top.as_bytes()) => &comps[1..],
            Some(_) => return Err(refuse()),
            None => &comps[..],
        };
        let key = rel.join(&b'/');
        if self.nodes.get(&key) != Some(&Node::File) {
            return Err(refuse());
        }
        Ok(key)
    }

    /// Resolves every symlink, creates them, applies directory modes.
    fn finish<R: Read>(&mut self, tar: &TarReader<R>) -> Result<()> {
        if let Some(top) = &self.policy.top_dir
            && !self.seen_top
        {
            return Err(tar.refused(Refusal::MissingTopDir {
                top_dir: Quoted::from(top.as_str()),
            }));
        }
        for (key, target) in &self.symlinks {
            let dir: Vec<Vec<u8>> = key.split(|&b| b == b'/').map(<[u8]>::to_vec).collect();
            let (entry, target_q) = (Quoted::new(key), Quoted::new(target));
            self.resolve(&dir[..dir.len() - 1], target, 0)
                .map_err(|p| {
                    tar.refused(match p {
                        LinkProblem::Escapes => Refusal::LinkEscapes {
                            entry,
                            target: target_q,
                        },
                        LinkProblem::Absolute => Refusal::AbsoluteLink {
                            entry,
                            target: target_q,
                        },
                        LinkProblem::Loop => Refusal::LinkLoop {
                            entry,
                            target: target_q,
                        },
                    })
                })?;
        }
        for (key, target) in &self.symlinks {
            std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), self.path_of(key))
                .map_err(|cause| Error::Write {
                    archive: tar.archive().to_owned(),
                    entry: Quoted::new(key),
                    cause,
                })?;
            self.summary.symlinks += 1;
        }
        self.apply_dir_modes(tar)
    }

    /// Where `target`, relative to directory `dir`, ends up after following the archive's
    /// own symlinks; it must stay inside the tree.
    fn resolve(
        &self,
        dir: &[Vec<u8>],
        target: &[u8],
        depth: u32,
    ) -> Result<Vec<Vec<u8>>, LinkProblem> {
        if depth > 40 {
            return Err(LinkProblem::Loop);
        }
        let mut cur = if target.first() == Some(&b'/') {
            match self.policy.absolute_symlinks {
                AbsoluteSymlinks::Refuse => return Err(LinkProblem::Absolute),
                AbsoluteSymlinks::KeepRootRelative => Vec::new(),
            }
        } else {
            dir.to_vec()
        };
        for c in target.split(|&b| b == b'/') {
            match c {
                b"" | b"." => {}
                b".." => {
                    cur.pop().ok_or(LinkProblem::Escapes)?;
                }
                name => {
                    cur.push(name.to_vec());
                    if let Some(Node::Symlink(t)) = self.nodes.get(&cur.join(&b'/')) {
                        let parent = cur[..cur.len() - 1].to_vec();
                        cur = self.resolve(&parent, t, depth + 1)?;
                    }
                }
            }
        }
        Ok(cur)
    }

    /// Directories last, deepest first, so read-only modes do not block extraction.
    fn apply_dir_modes<R: Read>(&mut self, tar: &TarReader<R>) -> Result<()> {
        let mut dirs: Vec<(Vec<u8>, u32, Option<i64>)> = match self.policy.modes {
            Modes::Fixed => self
                .nodes
                .iter()
                .filter(|(_, n)| matches!(n, Node::Dir { .. }))
                .map(|(k, _)| (k.clone(), 0o755, None))
                .collect(),
            Modes::FromArchive { keep_special_bits } => {
                let mask = special_mask(keep_special_bits);
                let mut v: Vec<_> = self
                    .nodes
                    .iter()
                    .filter(|(_, n)| **n == Node::Dir { explicit: false })
                    .map(|(k, _)| (k.clone(), 0o755, None))
                    .collect();
                v.extend(
                    self.dir_modes
                        .iter()
                        .map(|(k, m, t)| (k.clone(), m & mask, Some(*t))),
                );
                v
            }
        };
        dirs.sort_by_key(|(k, ..)| {
            std::cmp::Reverse((k.iter().filter(|&&b| b == b'/').count(), !k.is_empty()))
        });
        for (key, mode, mtime) in dirs {
            let p = self.path_of(&key);
            let set = || -> io::Result<()> {
                fs::set_permissions(&p, fs::Permissions::from_mode(mode))?;
                if let Some(t) = mtime {
                    File::open(&p)?.set_modified(to_system_time(t))?;
                }
                Ok(())
            };
            set().map_err(|cause| Error::Write {
                archive: tar.archive().to_owned(),
                entry: Quoted::new(&key),
                cause,
            })?;
        }
        Ok(())
    }
}

fn path_refusal(entry: Quoted, problem: PathProblem) -> Refusal {
    if is_traversal(problem) {
        Refusal::Traversal { entry, problem }
    } else {
        Refusal::BadPath { entry, problem }
    }
}

fn device<R: Read>(tar: &TarReader<R>, entry: Quoted, kind: &'static str) -> Error {
    tar.refused(Refusal::Device { entry, kind })
}

fn special_mask(keep_special_bits: bool) -> u32 {
    if keep_special_bits { 0o7777 } else { 0o777 }
}

fn finish_file(f: &File, mode: u32, mtime: Option<i64>) -> io::Result<()> {
    // On the open file: the umask may have narrowed the mode at creation.
    f.set_permissions(fs::Permissions::from_mode(mode))?;
    if let Some(t) = mtime {
        f.set_modified(to_system_time(t))?;
    }
    Ok(())
}

fn to_system_time(t: i64) -> SystemTime {
    if t >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(t as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(t.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::Summary;

    #[test]
    fn a_summary_reads_as_one_line_of_counts() {
        let s = Summary {
            files: 3,
            dirs: 2,
            symlinks: 1,
            hard_links: 0,
            bytes: 42,
        };
        assert_eq!(
            s.to_string(),
            "3 files, 2 directories, 1 symlinks, 0 hard links, 42 bytes"
        );
    }
}
