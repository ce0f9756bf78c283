//! A kernel image `.deb` read whole into memory and written back with detdeb: the one
//! place stage 2 and the signed-package check touch package bytes. Reading and writing
//! an unchanged package gives the same bytes (the module tests check it), so stage 2's
//! package differs from stage 1's only where the signatures were appended.

use std::io::Read;
use std::path::{Path, PathBuf};

use detdeb::{
    CompressionParams, Compressor, Control, ControlFile, DebBuilder, DebReader, Entry, TarEntry,
    TarEntryKind,
};

/// A package could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DebError {
    /// detdeb refused or failed.
    #[error("{}: {source}", path.display())]
    Deb {
        /// The package.
        path: PathBuf,
        /// Why.
        source: detdeb::Error,
    },
    /// Reading an entry's data failed.
    #[error("{}: {entry}: {source}", path.display())]
    Read {
        /// The package.
        path: PathBuf,
        /// The entry.
        entry: String,
        /// Why.
        source: std::io::Error,
    },
    /// The data member's compression is not one detdeb writes.
    #[error("{}: unknown data member {member}", path.display())]
    UnknownCompression {
        /// The package.
        path: PathBuf,
        /// The member's name.
        member: String,
    },
}

/// One data entry with, for regular files, its contents.
#[derive(Debug, Clone)]
pub struct DataItem {
    /// The tar header as read.
    pub entry: TarEntry,
    /// The contents of a regular file (`None` for everything else).
    pub contents: Option<Vec<u8>>,
}

impl DataItem {
    /// The path without the leading `./` (empty for the root).
    pub fn path(&self) -> String {
        relative(&self.entry.name)
    }
}

/// A whole package in memory.
#[derive(Debug, Clone)]
pub struct DebContents {
    /// Where it was read from.
    pub path: PathBuf,
    /// The parsed `control` file.
    pub control: Control,
    /// Every file of the control area, in archive order.
    pub control_files: Vec<ControlFile>,
    /// Every data entry, in archive order.
    pub data: Vec<DataItem>,
    /// The data member's compressor.
    pub compressor: Compressor,
}

fn relative(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    let s = s.strip_prefix("./").unwrap_or(&s);
    s.trim_end_matches('/').to_owned()
}

/// Is `path` (relative, as [`DataItem::path`]) a loadable kernel module?
pub fn is_module(path: &str) -> bool {
    path.ends_with(".ko")
        && (path.starts_with("lib/modules/") || path.starts_with("usr/lib/modules/"))
}

/// Reads `path` whole (bounded by detdeb's default limits).
pub fn read_deb(path: &Path) -> Result<DebContents, DebError> {
    let deb = |source| DebError::Deb {
        path: path.to_path_buf(),
        source,
    };
    let r = DebReader::open(path).map_err(deb)?;
    let member = r.data_member().name.clone();
    let compressor = match member.strip_prefix("data.tar").unwrap_or("?") {
        ".zst" => Compressor::Zstd,
        ".xz" => Compressor::Xz,
        ".gz" => Compressor::Gzip,
        "" => Compressor::None,
        _ => {
            return Err(DebError::UnknownCompression {
                path: path.to_path_buf(),
                member,
            });
        }
    };
    let control_files = r.control_files().map_err(deb)?;
    let control = r.control().map_err(deb)?;
    let mut data = Vec::new();
    let mut tar = r.data_tar().map_err(deb)?;
    while let Some(entry) = tar.next_entry().map_err(|e| deb(e.into()))? {
        let contents = if entry.kind == TarEntryKind::File {
            let mut v = Vec::new();
            tar.data_reader()
                .read_to_end(&mut v)
                .map_err(|source| DebError::Read {
                    path: path.to_path_buf(),
                    entry: entry.name_lossy(),
                    source,
                })?;
            Some(v)
        } else {
            None
        };
        data.push(DataItem { entry, contents });
    }
    Ok(DebContents {
        path: path.to_path_buf(),
        control,
        control_files,
        data,
        compressor,
    })
}

/// The data entries as detdeb entries (mtimes kept).
pub fn data_entries(data: &[DataItem]) -> Vec<Entry> {
    data.iter()
        .filter_map(|d| {
            let path = d.path().into_bytes();
            // The root (`./`) is added by detdeb, as for every package.
            if path.is_empty() {
                return None;
            }
            let e = &d.entry;
            let entry = match &e.kind {
                TarEntryKind::Dir => Entry::dir(path, e.mode),
                TarEntryKind::File => {
                    Entry::file(path, e.mode, d.contents.clone().unwrap_or_default())
                }
                TarEntryKind::Symlink { target } => Entry::symlink(path, target.clone()),
                TarEntryKind::HardLink { target } => {
                    Entry::hard_link(path, relative(target).into_bytes(), e.mode)
                }
                // A kernel image package has none; dpkg-deb would refuse them unasked too.
                _ => return None,
            };
            Some(entry.with_mtime(e.mtime))
        })
        .collect()
}

impl DebContents {
    /// Packs these contents into `out` with the package's own compressor: every mtime
    /// as read (clamped to the newest of them, which leaves each unchanged), `md5sums`
    /// recomputed from the data.
    pub fn write(&self, out: &Path) -> Result<(), DebError> {
        let deb = |source| DebError::Deb {
            path: out.to_path_buf(),
            source,
        };
        let data = data_entries(&self.data);
        let control: Vec<Entry> = self
            .control_files
            .iter()
            .filter(|f| f.name != "md5sums")
            .map(|f| {
                let bytes = if f.name == "control" {
                    self.control.to_text().into_bytes()
                } else {
                    f.contents.clone()
                };
                Entry::file(f.name.clone().into_bytes(), f.entry.mode, bytes)
                    .with_mtime(f.entry.mtime)
            })
            .collect();
        let newest = self
            .data
            .iter()
            .map(|d| d.entry.mtime)
            .chain(self.control_files.iter().map(|f| f.entry.mtime))
            .max()
            .unwrap_or(0);
        DebBuilder::from_entries(control, data, newest)
            .map_err(deb)?
            .compression(CompressionParams::new(self.compressor))
            .with_md5sums()
            .map_err(deb)?
            .write_to_path(out)
            .map_err(deb)?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small linux-image-like package built by detdeb: two modules, vmlinuz, a
    /// directory tree, a symlink and a maintainer script.
    pub(crate) fn fake_image(dir: &Path, modules: &[(&str, &[u8])]) -> PathBuf {
        let mut data = vec![
            Entry::dir(&b"boot"[..], 0o755),
            Entry::file(&b"boot/vmlinuz-6.12.0-sk"[..], 0o644, &b"MZ kernel"[..]),
            Entry::symlink(&b"boot/vmlinuz"[..], &b"vmlinuz-6.12.0-sk"[..]),
        ];
        for (path, bytes) in modules {
            data.push(Entry::file(path.as_bytes().to_vec(), 0o644, bytes.to_vec()));
        }
        let control = Control::parse(
            "Package: linux-image-6.12.0-sk\nSource: linux-samekernel\nVersion: 6.12.0-1+sk.abc\nArchitecture: amd64\nMaintainer: x <x@example.org>\nInstalled-Size: 1\nDescription: test\n",
            "fake",
        )
        .unwrap();
        let ctrl = vec![
            Entry::file(&b"control"[..], 0o644, control.to_text().into_bytes()),
            Entry::file(&b"postinst"[..], 0o755, &b"#!/bin/sh\nexit 0\n"[..]),
        ];
        let out = dir.join("linux-image-6.12.0-sk_6.12.0-1+sk.abc_amd64.deb");
        DebBuilder::from_entries(ctrl, data, 1_700_000_000)
            .unwrap()
            .compression(CompressionParams::new(Compressor::Zstd))
            .with_md5sums()
            .unwrap()
            .write_to_path(&out)
            .unwrap();
        out
    }

    #[test]
    fn reading_and_writing_an_unchanged_package_gives_the_same_bytes() {
        let t = tempfile::tempdir().unwrap();
        let deb = fake_image(
            t.path(),
            &[("lib/modules/6.12.0-sk/kernel/a.ko", b"\x7fELF a")],
        );
        let contents = read_deb(&deb).unwrap();
        assert_eq!(contents.compressor, Compressor::Zstd);
        let modules: Vec<String> = contents
            .data
            .iter()
            .map(DataItem::path)
            .filter(|p| is_module(p))
            .collect();
        assert_eq!(modules, ["lib/modules/6.12.0-sk/kernel/a.ko"]);
        let again = t.path().join("again.deb");
        contents.write(&again).unwrap();
        assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&deb).unwrap());
    }
}
