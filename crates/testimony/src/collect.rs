//! Gathering testimony files from directories and mirrors, within bounds.
//!
//! Files are keyed by file name. The same name from two sources must be
//! byte-identical, otherwise [`Collection::add`] refuses with
//! [`Error::MirrorConflict`]: mirrors that disagree about a signed file are a
//! sign of tampering (or of a witness saying two things), and the user must hear
//! about it. In directories, every `*.asc` file is read and everything else is
//! ignored, except the data file a detached signature `X.asc` covers (`X`).
//!
//! # Bounds
//!
//! Testimonies are untrusted input, so memory and time are bounded by
//! [`Limits`]: bytes per file, number of files, bytes in all. Whatever is left
//! out is not silently dropped: it is a typed [`Skipped`] entry the caller
//! shows. Local files are opened **once** (`O_NONBLOCK`, then `fstat` on the
//! open descriptor): only regular files are read, so a FIFO or device swapped
//! in under a testimony's name cannot block, and the bytes checked are the
//! bytes read. [`Evidence::compact`] then drops what the verdict does not use.
//!
//! # Mirror indexes
//!
//! A mirror publishes a plain-text index (`testimonies.txt`): one file name
//! per line, `#` comments and blank lines ignored. [`parse_index`] reads it and
//! refuses any name that could leave the mirror's directory ([`is_safe_name`]:
//! no `/`, `\`, `..`, control or non-ASCII characters). HTTP itself is left to
//! the caller (samekernel's `verify`); this module only decides what the bytes
//! mean.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use crate::canonical;
use crate::error::Error;
use crate::evidence::Evidence;
use crate::verify::Keyring;

/// How much testimony input is read at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Bytes per file. The v2 testimony of a default kernel build is about
    /// 1 MiB (one line per file in the packages), so the default is 16 MiB.
    pub max_file_bytes: u64,
    /// Number of files (testimonies and detached data files).
    pub max_files: usize,
    /// Bytes in all files together.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    /// 16 MiB per file, 4096 files, 256 MiB in all.
    fn default() -> Self {
        Limits {
            max_file_bytes: 16 << 20,
            max_files: 4096,
            max_total_bytes: 256 << 20,
        }
    }
}

/// A file that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Skipped {
    /// Larger than [`Limits::max_file_bytes`].
    TooLarge {
        /// File or URL.
        origin: String,
        /// The limit.
        limit: u64,
    },
    /// [`Limits::max_files`] files were already read.
    TooMany {
        /// File or URL.
        origin: String,
        /// The limit.
        limit: usize,
    },
    /// Reading it would pass [`Limits::max_total_bytes`].
    TotalTooLarge {
        /// File or URL.
        origin: String,
        /// The limit.
        limit: u64,
    },
    /// A directory or index listed more files than [`Limits::max_files`]
    /// leaves room for: the last `count` (in name / index order) were not read.
    LeftOut {
        /// The directory or index.
        origin: String,
        /// How many were left out.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a regular file (a FIFO, device, socket or directory).
    NotRegular {
        /// The path.
        origin: String,
        /// What it is.
        kind: String,
    },
}

impl Skipped {
    /// How many files this entry stands for (a [`Skipped::LeftOut`] counts
    /// every entry it left out).
    pub fn files(&self) -> usize {
        match self {
            Skipped::LeftOut { count, .. } => *count,
            _ => 1,
        }
    }
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skipped::TooLarge { origin, limit } => {
                write!(
                    f,
                    "{origin}: skipped: larger than {limit} bytes (the per-file limit)"
                )
            }
            Skipped::TooMany { origin, limit } => {
                write!(
                    f,
                    "{origin}: skipped: {limit} testimony files were already read (the file limit)"
                )
            }
            Skipped::TotalTooLarge { origin, limit } => write!(
                f,
                "{origin}: skipped: the testimonies read so far come near {limit} bytes (the total limit)"
            ),
            Skipped::LeftOut {
                origin,
                count,
                limit,
            } => write!(
                f,
                "{origin}: {count} more listed file(s) skipped: at most {limit} testimony files are read (the file limit)"
            ),
            Skipped::NotRegular { origin, kind } => {
                write!(f, "{origin}: skipped: a {kind}, not a regular file")
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    source: String,
    bytes: Vec<u8>,
}

/// Testimony files by name, each with its first source, within [`Limits`].
#[derive(Debug, Clone, Default)]
pub struct Collection {
    files: BTreeMap<String, Entry>,
    limits: Limits,
    total: u64,
    skipped: Vec<Skipped>,
}

/// Is this a cleartext-signed message (rather than a detached signature)?
pub fn is_cleartext(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .any(|l| l.strip_suffix(b"\r").unwrap_or(l) == b"-----BEGIN PGP SIGNED MESSAGE-----")
}

/// Whether bytes could be a detached OpenPGP signature: armored, or a binary
/// packet (the first byte of every OpenPGP packet has its top bit set).
fn looks_like_signature(bytes: &[u8]) -> bool {
    let armored = bytes
        .split(|&b| b == b'\n')
        .any(|l| l.trim_ascii() == b"-----BEGIN PGP SIGNATURE-----");
    armored || bytes.first().is_some_and(|b| b & 0x80 != 0)
}

/// Whether an index entry is a plain file name that stays in the mirror's
/// directory: printable ASCII, no `/`, `\`, `..`, not `.`.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && !name.contains('/')
        && !name.contains('\\')
        && !name.contains("..")
        && name.bytes().all(|b| b.is_ascii_graphic())
}

/// Reads a mirror index: one file name per line, `#` comments and blank lines
/// ignored. Refuses the whole index if any name is unsafe ([`is_safe_name`]),
/// naming the line: an index that points outside its mirror is hostile.
pub fn parse_index(text: &str, origin: &str) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if !is_safe_name(l) {
            return Err(Error::UnsafeIndexEntry {
                origin: origin.into(),
                line: no + 1,
                name: l.into(),
            });
        }
        names.push(l.to_string());
    }
    Ok(names)
}

/// What a file is, for [`Skipped::NotRegular`].
fn kind(t: std::fs::FileType) -> &'static str {
    if t.is_fifo() {
        "FIFO"
    } else if t.is_dir() {
        "directory"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() || t.is_block_device() {
        "device"
    } else {
        "special file"
    }
}

impl Collection {
    /// An empty collection with these limits.
    pub fn with_limits(limits: Limits) -> Collection {
        Collection {
            limits,
            ..Collection::default()
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// What was not read, in order.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Records a file the caller did not read (e.g. an HTTP body over the limit).
    pub fn skip(&mut self, s: Skipped) {
        self.skipped.push(s);
    }

    /// Keeps the first names of a listing that fit in the file limit; records
    /// the rest as one [`Skipped::LeftOut`].
    pub fn fit(&mut self, origin: &str, names: &mut Vec<String>) {
        let room = self.limits.max_files.saturating_sub(self.files.len());
        if names.len() > room {
            self.skipped.push(Skipped::LeftOut {
                origin: origin.into(),
                count: names.len() - room,
                limit: self.limits.max_files,
            });
            names.truncate(room);
        }
    }

    /// The most bytes the next file may have: the per-file limit, or less when
    /// the total is nearly used up. `Err` says why nothing more may be read.
    pub fn budget(&self, origin: &str) -> Result<u64, Skipped> {
        if self.files.len() >= self.limits.max_files {
            return Err(Skipped::TooMany {
                origin: origin.into(),
                limit: self.limits.max_files,
            });
        }
        match self.limits.max_total_bytes.saturating_sub(self.total) {
            0 => Err(Skipped::TotalTooLarge {
                origin: origin.into(),
                limit: self.limits.max_total_bytes,
            }),
            left => Ok(left.min(self.limits.max_file_bytes)),
        }
    }

    /// Adds a file `name` from `source` (a URL, or any label), held in memory.
    /// Over the limits, the file is recorded as [`Skipped`] and `Ok(false)`
    /// returned.
    pub fn add(&mut self, name: &str, source: &str, bytes: Vec<u8>) -> Result<bool, Error> {
        if let Some(old) = self.files.get(name) {
            if old.bytes != bytes {
                return Err(Error::MirrorConflict {
                    name: name.into(),
                    first: old.source.clone(),
                    first_sha256: canonical::sha256_hex(&old.bytes),
                    second: source.into(),
                    second_sha256: canonical::sha256_hex(&bytes),
                });
            }
            return Ok(true);
        }
        match self.budget(source) {
            Err(s) => {
                self.skipped.push(s);
                return Ok(false);
            }
            Ok(b) if bytes.len() as u64 > b => {
                self.skipped.push(self.over(source, b));
                return Ok(false);
            }
            Ok(_) => {}
        }
        self.total += bytes.len() as u64;
        let entry = Entry {
            source: source.into(),
            bytes,
        };
        self.files.insert(name.into(), entry);
        Ok(true)
    }

    /// Which limit a file over `budget` bytes passes.
    fn over(&self, origin: &str, budget: u64) -> Skipped {
        if budget < self.limits.max_file_bytes {
            Skipped::TotalTooLarge {
                origin: origin.into(),
                limit: self.limits.max_total_bytes,
            }
        } else {
            Skipped::TooLarge {
                origin: origin.into(),
                limit: self.limits.max_file_bytes,
            }
        }
    }

    /// Reads a local file **once** under its file name: opened without
    /// blocking, checked to be a regular file on the open descriptor, read up
    /// to the budget. Returns the bytes kept (`None`: skipped, see
    /// [`Collection::skipped`]).
    pub fn add_file(&mut self, path: &Path) -> Result<Option<&[u8]>, Error> {
        let origin = canonical::shown_name(&path.display().to_string());
        let budget = match self.budget(&origin) {
            Ok(b) => b,
            Err(s) => {
                self.skipped.push(s);
                return Ok(None);
            }
        };
        let bytes = match read_regular(path, budget).map_err(|e| Error::io(path, e))? {
            Found::Bytes(b) => b,
            Found::NotRegular(kind) => {
                self.skipped.push(Skipped::NotRegular {
                    origin,
                    kind: kind.into(),
                });
                return Ok(None);
            }
            Found::OverBudget => {
                self.skipped.push(self.over(&origin, budget));
                return Ok(None);
            }
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !self.add(&name, &origin, bytes)? {
            return Ok(None);
        }
        Ok(self.files.get(&name).map(|e| e.bytes.as_slice()))
    }

    /// Whether a file of this name is present.
    pub fn contains(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Reads every `*.asc` in `dir` (not recursive), plus the data file of each
    /// detached signature. Returns how many `.asc` files were read.
    pub fn add_dir(&mut self, dir: &Path) -> Result<usize, Error> {
        let mut names: Vec<String> = Vec::new();
        for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let e = e.map_err(|e| Error::io(dir, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".asc") {
                names.push(name);
            }
        }
        names.sort();
        self.fit(
            &canonical::shown_name(&dir.display().to_string()),
            &mut names,
        );
        let mut read = 0;
        for name in &names {
            let Some(bytes) = self.add_file(&dir.join(name))? else {
                continue;
            };
            read += 1;
            if !is_cleartext(bytes) {
                let data = dir.join(name.trim_end_matches(".asc"));
                if std::fs::symlink_metadata(&data).is_ok() {
                    self.add_file(&data)?;
                }
            }
        }
        Ok(read)
    }

    fn check_one(&self, name: &str, e: &Entry, keyring: &Keyring, at: SystemTime) -> Evidence {
        let mut ev = self.check_full(name, e, keyring, at);
        ev.compact();
        ev
    }

    /// Checks the `*.asc` file read from `origin` again, keeping the per-file
    /// hashes that [`Collection::evidence`] drops (to explain one dissent).
    pub fn full_evidence(
        &self,
        origin: &str,
        keyring: &Keyring,
        at: SystemTime,
    ) -> Option<Evidence> {
        let (name, e) =
            (self.files.iter()).find(|(n, e)| n.ends_with(".asc") && e.source == origin)?;
        Some(self.check_full(name, e, keyring, at))
    }

    fn check_full(&self, name: &str, e: &Entry, keyring: &Keyring, at: SystemTime) -> Evidence {
        if is_cleartext(&e.bytes) {
            Evidence::from_cleartext(&e.bytes, keyring, at, &e.source)
        } else {
            let data_name = name.trim_end_matches(".asc");
            match self.files.get(data_name) {
                Some(d) => Evidence::from_detached(&d.bytes, &e.bytes, keyring, at, &e.source),
                None if looks_like_signature(&e.bytes) => Evidence::failed(
                    &e.source,
                    format!("detached signature without its data file {data_name:?}"),
                ),
                None => Evidence::failed(
                    &e.source,
                    "neither a clearsigned testimony (no BEGIN PGP SIGNED MESSAGE line) nor an OpenPGP signature",
                ),
            }
        }
    }

    /// Checks every `*.asc` file, cleartext ones alone and detached ones against
    /// their data file, on all CPUs; results are in file-name order.
    pub fn evidence(&self, keyring: &Keyring, at: SystemTime) -> Vec<Evidence> {
        let jobs: Vec<(&String, &Entry)> = self
            .files
            .iter()
            .filter(|(n, _)| n.ends_with(".asc"))
            .collect();
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, jobs.len().max(1));
        let chunk = jobs.len().div_ceil(workers).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|(n, e)| self.check_one(n, e, keyring, at))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("verification worker panicked"))
                .collect()
        })
    }
}

/// What [`read_regular`] found.
enum Found {
    Bytes(Vec<u8>),
    NotRegular(&'static str),
    OverBudget,
}

fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

/// Opens `path` for reading if it is a regular file, without blocking on a FIFO
/// (for the .deb and record a user names; `InvalidInput` says what it is instead).
pub(crate) fn open_regular(path: &Path) -> std::io::Result<File> {
    let f = open_nonblocking(path)?;
    let t = f.metadata()?.file_type();
    if !t.is_file() {
        let what = format!("a {}, not a regular file", kind(t));
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, what));
    }
    Ok(f)
}

/// Opens `path` once without blocking and reads it if it is a regular file of
/// at most `budget` bytes. The type and size are checked on the open
/// descriptor, and the size again while reading, so a file that grows cannot
/// pass.
fn read_regular(path: &Path, budget: u64) -> std::io::Result<Found> {
    let f = open_nonblocking(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Ok(Found::NotRegular(kind(meta.file_type())));
    }
    if meta.len() > budget {
        return Ok(Found::OverBudget);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(budget + 1).read_to_end(&mut bytes)?;
    Ok(if bytes.len() as u64 <= budget {
        Found::Bytes(bytes)
    } else {
        Found::OverBudget
    })
}
