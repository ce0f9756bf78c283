//! Gathering testimony files from directories and mirrors.
//!
//! Files are keyed by file name. The same name from two sources must be
//! byte-identical, otherwise [`Collection::add`] refuses with
//! [`Error::MirrorConflict`]: mirrors that disagree about a signed file are a
//! sign of tampering (or of a witness saying two things), and the user must hear
//! about it. In directories, every `*.asc` file is read and everything else is
//! ignored, except the data file a detached signature `X.asc` covers (`X`).
//!
//! Memory stays flat in the number of testimonies: local files are remembered by
//! path and read again one at a time when checked, and [`Collection::evidence`] keeps only what the
//! verdict needs ([`Evidence::compact`]). Checking runs on all CPUs.
//!
//! HTTP fetching itself is left to the caller (the `kernel-deb` binary); this
//! module only decides what the bytes mean.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::canonical;
use crate::error::Error;
use crate::evidence::Evidence;
use crate::verify::Keyring;

#[derive(Debug, Clone)]
enum Content {
    Memory(Vec<u8>),
    File(PathBuf),
}

#[derive(Debug, Clone)]
struct Entry {
    source: String,
    content: Content,
}

impl Entry {
    fn bytes(&self) -> Result<std::borrow::Cow<'_, [u8]>, String> {
        match &self.content {
            Content::Memory(b) => Ok(std::borrow::Cow::Borrowed(b)),
            Content::File(p) => std::fs::read(p)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| format!("{}: {e}", p.display())),
        }
    }
}

/// Testimony files by name, each with its first source.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    files: BTreeMap<String, Entry>,
}

/// Is this a cleartext-signed message (rather than a detached signature)?
pub fn is_cleartext(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .any(|l| l.strip_suffix(b"\r").unwrap_or(l) == b"-----BEGIN PGP SIGNED MESSAGE-----")
}

impl Collection {
    fn insert(
        &mut self,
        name: &str,
        source: &str,
        bytes: &[u8],
        content: Content,
    ) -> Result<(), Error> {
        if let Some(old) = self.files.get(name) {
            let old_bytes = old.bytes().map_err(|e| Error::pgp(&old.source, e))?;
            if *old_bytes != *bytes {
                return Err(Error::MirrorConflict {
                    name: name.into(),
                    first: old.source.clone(),
                    first_sha256: canonical::sha256_hex(&old_bytes),
                    second: source.into(),
                    second_sha256: canonical::sha256_hex(bytes),
                });
            }
            return Ok(());
        }
        self.files.insert(
            name.into(),
            Entry {
                source: source.into(),
                content,
            },
        );
        Ok(())
    }

    /// Adds a file `name` from `source` (a URL, or any label), held in memory.
    pub fn add(&mut self, name: &str, source: &str, bytes: Vec<u8>) -> Result<(), Error> {
        if let Some(old) = self.files.get(name) {
            let old_bytes = old.bytes().map_err(|e| Error::pgp(&old.source, e))?;
            if *old_bytes != *bytes {
                return Err(Error::MirrorConflict {
                    name: name.into(),
                    first: old.source.clone(),
                    first_sha256: canonical::sha256_hex(&old_bytes),
                    second: source.into(),
                    second_sha256: canonical::sha256_hex(&bytes),
                });
            }
            return Ok(());
        }
        self.files.insert(
            name.into(),
            Entry {
                source: source.into(),
                content: Content::Memory(bytes),
            },
        );
        Ok(())
    }

    /// Adds a local file under its file name and returns its bytes. Only the
    /// path is kept: the file is read again when checked, and its signature is
    /// checked on the bytes read then.
    pub fn add_file(&mut self, path: &Path) -> Result<Vec<u8>, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.insert(
            &name,
            &path.display().to_string(),
            &bytes,
            Content::File(path.to_path_buf()),
        )?;
        Ok(bytes)
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
            if name.ends_with(".asc")
                && e.file_type()
                    .map_err(|er| Error::io(e.path(), er))?
                    .is_file()
            {
                names.push(name);
            }
        }
        names.sort();
        for name in &names {
            let path = dir.join(name);
            let detached = !is_cleartext(&self.add_file(&path)?);
            let dpath = dir.join(name.trim_end_matches(".asc"));
            if detached && dpath.is_file() {
                self.add_file(&dpath)?;
            }
        }
        Ok(names.len())
    }

    fn check_one(&self, name: &str, e: &Entry, keyring: &Keyring, at: SystemTime) -> Evidence {
        let bytes = match e.bytes() {
            Ok(b) => b,
            Err(err) => return Evidence::failed(&e.source, err),
        };
        let mut ev = if is_cleartext(&bytes) {
            Evidence::from_cleartext(&bytes, keyring, at, &e.source)
        } else {
            match self.files.get(name.trim_end_matches(".asc")) {
                Some(d) => match d.bytes() {
                    Ok(data) => Evidence::from_detached(&data, &bytes, keyring, at, &e.source),
                    Err(err) => Evidence::failed(&e.source, err),
                },
                None => Evidence::failed(
                    &e.source,
                    format!(
                        "detached signature without its data file {:?}",
                        name.trim_end_matches(".asc")
                    ),
                ),
            }
        };
        ev.compact();
        ev
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
