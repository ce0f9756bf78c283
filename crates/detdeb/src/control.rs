//! `DEBIAN/control` (one deb822 paragraph), `DEBIAN/md5sums`, and `Installed-Size`.
//!
//! Field order: [`Control::sort_fields`] puts fields in the order `dpkg-gencontrol`
//! writes a binary package's control file (`Dpkg::Control::FieldsCore`,
//! `CTRL_PKG_DEB`), unknown fields after the known ones in their original order.
//! Parsing is strict: one paragraph, no duplicate fields (dpkg refuses them too),
//! field names of printable ASCII without `:`, continuation lines start with a
//! space or tab.

use std::fmt::Write as _;
use std::io::Read;

use md5::{Digest, Md5};

use crate::error::{Error, Result};
use crate::tree::{Entry, EntryKind, FileSource};

/// The order dpkg-gencontrol writes a binary package's fields in (lower-cased).
pub const DPKG_DEB_FIELD_ORDER: &[&str] = &[
    "package",
    "package-type",
    "source",
    "version",
    "kernel-version",
    "built-for-profiles",
    "auto-built-package",
    "architecture",
    "subarchitecture",
    "installer-menu-item",
    "build-essential",
    "essential",
    "protected",
    "origin",
    "bugs",
    "maintainer",
    "installed-size",
    "pre-depends",
    "depends",
    "recommends",
    "suggests",
    "enhances",
    "conflicts",
    "breaks",
    "replaces",
    "provides",
    "built-using",
    "static-built-using",
    "section",
    "priority",
    "multi-arch",
    "homepage",
    "description",
    "tag",
    "task",
];

/// One deb822 paragraph, fields in order. Values hold continuation lines verbatim
/// (`"line one\n line two"`); the first line is trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Control {
    fields: Vec<(String, String)>,
}

impl Control {
    /// An empty paragraph.
    pub fn new() -> Self {
        Control::default()
    }

    /// Parses one paragraph. `origin` names the text in errors (a path, or
    /// `control member of x.deb`).
    pub fn parse(text: &str, origin: &str) -> Result<Control> {
        let err = |line: usize, reason: &str| Error::Control {
            origin: origin.to_owned(),
            line,
            reason: reason.to_owned(),
        };
        let mut c = Control::new();
        let mut ended_at = None;
        for (i, line) in text.split('\n').enumerate() {
            let n = i + 1;
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                if !c.fields.is_empty() && ended_at.is_none() {
                    ended_at = Some(n);
                }
                continue;
            }
            if ended_at.is_some() {
                return Err(err(n, "more than one paragraph"));
            }
            if line.starts_with(' ') || line.starts_with('\t') {
                let Some((_, v)) = c.fields.last_mut() else {
                    return Err(err(n, "continuation line before any field"));
                };
                v.push('\n');
                v.push_str(line.trim_end());
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(err(n, "expected `Field: value`"));
            };
            if name.is_empty()
                || name.starts_with(['#', '-'])
                || !name.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(err(n, &format!("invalid field name {name:?}")));
            }
            if c.get(name).is_some() {
                return Err(err(n, &format!("duplicate field {name:?}")));
            }
            c.fields.push((name.to_owned(), value.trim().to_owned()));
        }
        if c.fields.is_empty() {
            return Err(err(1, "empty control paragraph"));
        }
        Ok(c)
    }

    /// The value of `name` (case-insensitive), if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sets `name` (keeping its position if present, else appending).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .fields
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some((_, v)) => *v = value,
            None => self.fields.push((name.to_owned(), value)),
        }
    }

    /// Removes `name`; returns its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self
            .fields
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(name))?;
        Some(self.fields.remove(i).1)
    }

    /// Fields in order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Reorders fields as dpkg-gencontrol writes them (see [`DPKG_DEB_FIELD_ORDER`]).
    pub fn sort_fields(&mut self) {
        let rank = |k: &str| {
            let k = k.to_ascii_lowercase();
            DPKG_DEB_FIELD_ORDER
                .iter()
                .position(|f| *f == k)
                .unwrap_or(DPKG_DEB_FIELD_ORDER.len())
        };
        self.fields.sort_by_key(|(k, _)| rank(k));
    }

    /// Checks the fields dpkg-deb requires to build a package.
    pub fn check_required(&self, origin: &str) -> Result<()> {
        for f in ["Package", "Version", "Architecture"] {
            if self.get(f).is_none_or(str::is_empty) {
                return Err(Error::Control {
                    origin: origin.to_owned(),
                    line: 1,
                    reason: format!("missing required field {f}"),
                });
            }
        }
        Ok(())
    }

    /// The paragraph as text, ending in a newline.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.fields {
            if v.starts_with('\n') {
                let _ = writeln!(s, "{k}:{v}");
            } else {
                let _ = writeln!(s, "{k}: {v}");
            }
        }
        s
    }
}

/// The `DEBIAN/md5sums` file: `<md5 hex>  <path>` lines, paths relative without `./`,
/// sorted by byte order (as `dh_md5sums` does with `LC_ALL=C sort`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Md5Sums {
    /// (path, digest) pairs in file order.
    pub entries: Vec<(Vec<u8>, [u8; 16])>,
}

impl Md5Sums {
    /// Digests every regular file and hard link of `data` (hard links repeat their
    /// target's digest, as `md5sum` over `find -type f` does), skipping `exclude`
    /// (conffiles, given as relative paths).
    pub fn from_entries(data: &[Entry], exclude: &[&[u8]]) -> Result<Md5Sums> {
        let mut by_path: std::collections::HashMap<&[u8], [u8; 16]> = Default::default();
        let mut out = Vec::new();
        for e in data {
            let digest = match &e.kind {
                EntryKind::File { source, .. } => md5_of(source)?,
                EntryKind::HardLink { target } => match by_path.get(target.as_slice()) {
                    Some(d) => *d,
                    None => continue,
                },
                _ => continue,
            };
            by_path.insert(&e.path, digest);
            if !exclude.contains(&e.path.as_slice()) {
                out.push((e.path.clone(), digest));
            }
        }
        out.sort();
        Ok(Md5Sums { entries: out })
    }

    /// Parses an md5sums file.
    pub fn parse(text: &[u8], origin: &str) -> Result<Md5Sums> {
        let mut entries = Vec::new();
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let bad = |reason: &str| Error::Control {
                origin: origin.to_owned(),
                line: i + 1,
                reason: reason.to_owned(),
            };
            if line.len() < 35 || &line[32..34] != b"  " {
                return Err(bad("expected `<32 hex digits>  <path>`"));
            }
            let mut digest = [0u8; 16];
            for (j, d) in digest.iter_mut().enumerate() {
                let hex = std::str::from_utf8(&line[2 * j..2 * j + 2])
                    .map_err(|_| bad("digest is not hex"))?;
                *d = u8::from_str_radix(hex, 16).map_err(|_| bad("digest is not hex"))?;
            }
            entries.push((line[34..].to_vec(), digest));
        }
        Ok(Md5Sums { entries })
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (path, d) in &self.entries {
            for b in d {
                out.extend_from_slice(format!("{b:02x}").as_bytes());
            }
            out.extend_from_slice(b"  ");
            out.extend_from_slice(path);
            out.push(b'\n');
        }
        out
    }
}

fn md5_of(source: &FileSource) -> Result<[u8; 16]> {
    let mut h = Md5::new();
    match source {
        FileSource::Bytes(b) => h.update(b),
        FileSource::Path(p) => {
            let mut f = std::fs::File::open(p).map_err(|e| Error::io(p, e))?;
            let mut buf = vec![0u8; 128 << 10];
            loop {
                let n = f.read(&mut buf).map_err(|e| Error::io(p, e))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
        }
    }
    Ok(h.finalize().into())
}

/// `Installed-Size` in KiB as dpkg-gencontrol computes it: each regular file or
/// symlink counts its size rounded up to KiB (at least 1), hard links once, every
/// other entry (directories included) 1.
pub fn installed_size_kib(data: &[Entry]) -> u64 {
    data.iter()
        .map(|e| match &e.kind {
            EntryKind::File { size, .. } => size.div_ceil(1024).max(1),
            EntryKind::Symlink { target } => (target.len() as u64).div_ceil(1024).max(1),
            EntryKind::HardLink { .. } => 0,
            _ => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_write_keep_continuations() {
        let t = "Package: x\nVersion: 1\nDescription: short\n long line\n .\n more\n";
        let c = Control::parse(t, "t").unwrap();
        assert_eq!(c.get("description"), Some("short\n long line\n .\n more"));
        assert_eq!(c.to_text(), t);
    }

    #[test]
    fn refuses_duplicates_and_garbage() {
        assert!(Control::parse("A: 1\na: 2\n", "t").is_err());
        assert!(Control::parse("no colon here\n", "t").is_err());
        assert!(Control::parse(" cont\n", "t").is_err());
        assert!(Control::parse("A: 1\n\nB: 2\n", "t").is_err());
    }

    #[test]
    fn sorts_like_dpkg_gencontrol() {
        let mut c = Control::parse(
            "Description: d\nX-Custom: 1\nDepends: a\nPackage: p\nVersion: 1\nArchitecture: all\n",
            "t",
        )
        .unwrap();
        c.sort_fields();
        let keys: Vec<_> = c.fields().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "Package",
                "Version",
                "Architecture",
                "Depends",
                "Description",
                "X-Custom"
            ]
        );
    }

    #[test]
    fn md5sums_round_trip_and_hard_links() {
        let data = vec![
            Entry::file("usr/a", 0o644, &b"hello\n"[..]),
            Entry::hard_link("usr/b", "usr/a", 0o644),
            Entry::dir("usr", 0o755),
        ];
        let m = Md5Sums::from_entries(&data, &[]).unwrap();
        let text = m.to_bytes();
        assert_eq!(
            String::from_utf8(text.clone()).unwrap(),
            "b1946ac92492d2347c6235b4d2611184  usr/a\nb1946ac92492d2347c6235b4d2611184  usr/b\n"
        );
        assert_eq!(Md5Sums::parse(&text, "t").unwrap(), m);
    }

    #[test]
    fn installed_size_counts_like_dpkg_gencontrol() {
        let data = vec![
            Entry::dir("", 0o755),
            Entry::file("a", 0o644, vec![0u8; 1025]),
            Entry::file("e", 0o644, Vec::new()),
            Entry::hard_link("b", "a", 0o644),
            Entry::symlink("l", "a"),
        ];
        assert_eq!(installed_size_kib(&data), 1 + 2 + 1 + 1);
    }
}
