//! [`DebReader`]: opens any `.deb` (ours, dpkg-deb's, Debian's), lists members and
//! entries, parses the control area, streams data out, and extracts safely.
//!
//! The file is untrusted. Every ar header is bounds-checked against the file size
//! before anything is read, members are read positionally (no shared seek state),
//! decoders have bounded memory, and the tar stream goes through the bounded
//! [`TarReader`](crate::TarReader).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::compress::{self, Compressor};
use crate::control::Control;
use crate::error::{Error, Result};
use crate::extract::{self, ExtractOptions, ExtractSummary};
use crate::tar_read::{ReadLimits, TarEntry, TarEntryKind, TarReader};
use safe_extract::{Quoted, Refusal};

/// Most ar members accepted in one `.deb` (dpkg writes 3; signing tools add a few `_` members).
const MAX_MEMBERS: usize = 64;
/// Largest uncompressed control member.
const MAX_CONTROL_TAR: u64 = 256 << 20;

/// One member of the ar container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArMember {
    /// Member name without padding or GNU `/` terminator.
    pub name: String,
    /// Offset of the member's 60-byte header in the file.
    pub header_offset: u64,
    /// Offset of its data.
    pub data_offset: u64,
    /// Data size in bytes.
    pub size: u64,
    /// mtime from the header.
    pub mtime: i64,
    /// uid from the header.
    pub uid: u64,
    /// gid from the header.
    pub gid: u64,
    /// mode from the header.
    pub mode: u32,
}

/// A file of the control area, read into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlFile {
    /// Name relative to the control area (`control`, `postinst`, …).
    pub name: String,
    /// Its tar header.
    pub entry: TarEntry,
    /// Its contents.
    pub contents: Vec<u8>,
}

/// Positional reads from a `.deb`'s bytes: a [`File`], or a byte slice in memory.
pub trait DebSource {
    /// Reads up to `buf.len()` bytes at `offset`; 0 means end of data.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// Total length.
    fn len(&self) -> io::Result<u64>;
    /// Whether there are no bytes.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
}

impl DebSource for File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        FileExt::read_at(self, buf, offset)
    }
    fn len(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
}

impl DebSource for &[u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(<[u8]>::len(self));
        let n = buf.len().min(<[u8]>::len(self) - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
    fn len(&self) -> io::Result<u64> {
        Ok(<[u8]>::len(self) as u64)
    }
}

/// An opened `.deb`.
#[derive(Debug)]
pub struct DebReader<S: DebSource = File> {
    file: S,
    display: String,
    len: u64,
    members: Vec<ArMember>,
    version: String,
    control_idx: usize,
    data_idx: usize,
    limits: ReadLimits,
}

impl DebReader<File> {
    /// Opens and checks the container structure of the `.deb` at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = safe_extract::regular::open_regular(path).map_err(|e| Error::io(path, e))?;
        DebReader::from_source(file, &path.display().to_string())
    }
}

impl<S: DebSource> DebReader<S> {
    /// Reads a `.deb` from any [`DebSource`] (an open file, bytes in memory);
    /// `display` names it in errors.
    pub fn from_source(file: S, display: &str) -> Result<Self> {
        let len = file.len().map_err(|e| Error::io(display, e))?;
        let mut r = DebReader {
            file,
            display: display.to_owned(),
            len,
            members: Vec::new(),
            version: String::new(),
            control_idx: usize::MAX,
            data_idx: usize::MAX,
            limits: ReadLimits::default(),
        };
        r.parse_ar()?;
        Ok(r)
    }

    /// Replaces the limits used for the tar members.
    pub fn with_limits(mut self, limits: ReadLimits) -> Self {
        self.limits = limits;
        self
    }

    fn ar_err(&self, offset: u64, reason: impl Into<String>) -> Error {
        Error::Ar {
            file: self.display.clone(),
            offset,
            reason: reason.into(),
        }
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            match self.file.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => return Err(self.ar_err(offset, "unexpected end of file")),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.ar_err(offset, format!("read failed: {e}"))),
            }
        }
        Ok(())
    }

    fn parse_ar(&mut self) -> Result<()> {
        let mut magic = [0u8; 8];
        if self.len < 8 {
            return Err(self.ar_err(0, "file too short to be a .deb"));
        }
        self.read_at(&mut magic, 0)?;
        if &magic != b"!<arch>\n" {
            return Err(self.ar_err(0, "not an ar archive (bad magic)"));
        }
        let mut off = 8u64;
        while off < self.len {
            if self.members.len() >= MAX_MEMBERS {
                return Err(self.ar_err(off, "too many members"));
            }
            if self.len - off < 60 {
                return Err(self.ar_err(off, "truncated member header"));
            }
            let mut h = [0u8; 60];
            self.read_at(&mut h, off)?;
            if &h[58..60] != b"`\n" {
                return Err(self.ar_err(off, "bad member header terminator"));
            }
            let text = |r: std::ops::Range<usize>| -> Result<String> {
                std::str::from_utf8(&h[r])
                    .map(|s| s.trim_end_matches(' ').to_owned())
                    .map_err(|_| self.ar_err(off, "member header is not ASCII"))
            };
            let mut name = text(0..16)?;
            if name.ends_with('/') {
                name.pop();
            }
            if name.is_empty() || name.starts_with('/') || name.starts_with("#1/") {
                return Err(self.ar_err(off, format!("unsupported member name {name:?}")));
            }
            let dec = |r: std::ops::Range<usize>, what: &str| -> Result<i64> {
                let s = text(r)?;
                if s.is_empty() {
                    return Ok(0);
                }
                s.parse::<i64>()
                    .map_err(|_| self.ar_err(off, format!("malformed {what} field {s:?}")))
            };
            let size = dec(48..58, "size")?;
            let size = u64::try_from(size).map_err(|_| self.ar_err(off, "negative size"))?;
            let data_offset = off + 60;
            if size > self.len - data_offset {
                return Err(self.ar_err(
                    off,
                    format!("member {name:?} claims {size} bytes, past the end of the file"),
                ));
            }
            let mode_s = text(40..48)?;
            let mode = if mode_s.is_empty() {
                0
            } else {
                u32::from_str_radix(&mode_s, 8)
                    .map_err(|_| self.ar_err(off, format!("malformed mode field {mode_s:?}")))?
            };
            let member = ArMember {
                name,
                header_offset: off,
                data_offset,
                size,
                mtime: dec(16..28, "mtime")?,
                uid: u64::try_from(dec(28..34, "uid")?)
                    .map_err(|_| self.ar_err(off, "negative uid"))?,
                gid: u64::try_from(dec(34..40, "gid")?)
                    .map_err(|_| self.ar_err(off, "negative gid"))?,
                mode,
            };
            off = data_offset + size + (size & 1);
            self.members.push(member);
        }
        self.check_structure()
    }

    fn check_structure(&mut self) -> Result<()> {
        let first = self
            .members
            .first()
            .ok_or_else(|| self.ar_err(8, "no members"))?
            .clone();
        if first.name != "debian-binary" {
            return Err(self.ar_err(
                first.header_offset,
                format!("first member is {:?}, not debian-binary", first.name),
            ));
        }
        if first.size > 64 {
            return Err(self.ar_err(first.header_offset, "debian-binary is too large"));
        }
        let mut v = vec![0u8; first.size as usize];
        self.read_at(&mut v, first.data_offset)?;
        let v = String::from_utf8(v)
            .map_err(|_| self.ar_err(first.data_offset, "debian-binary is not text"))?;
        let version = v.lines().next().unwrap_or("").to_owned();
        if !version.starts_with("2.") {
            return Err(self.ar_err(
                first.data_offset,
                format!("unsupported .deb format version {version:?}"),
            ));
        }
        self.version = version;
        for (i, m) in self.members.iter().enumerate().skip(1) {
            if m.name.starts_with('_') {
                continue;
            }
            let (slot, kind) = if let Some(ext) = m.name.strip_prefix("control.tar") {
                (&mut self.control_idx, ext)
            } else if let Some(ext) = m.name.strip_prefix("data.tar") {
                if self.control_idx == usize::MAX {
                    return Err(Error::Ar {
                        file: self.display.clone(),
                        offset: m.header_offset,
                        reason: "data member before the control member".into(),
                    });
                }
                (&mut self.data_idx, ext)
            } else {
                return Err(Error::Ar {
                    file: self.display.clone(),
                    offset: m.header_offset,
                    reason: format!("unexpected member {:?}", m.name),
                });
            };
            if *slot != usize::MAX {
                return Err(Error::Ar {
                    file: self.display.clone(),
                    offset: m.header_offset,
                    reason: format!("duplicate member {:?}", m.name),
                });
            }
            if Compressor::from_extension(kind).is_none() {
                return Err(Error::Compression {
                    member: m.name.clone(),
                    reason: format!("unsupported compression {kind:?} in {}", self.display),
                });
            }
            *slot = i;
        }
        if self.control_idx == usize::MAX {
            return Err(self.ar_err(8, "no control.tar member"));
        }
        if self.data_idx == usize::MAX {
            return Err(self.ar_err(8, "no data.tar member"));
        }
        Ok(())
    }

    /// The ar members in file order.
    pub fn members(&self) -> &[ArMember] {
        &self.members
    }

    /// The format version from `debian-binary` (e.g. `2.0`).
    pub fn format_version(&self) -> &str {
        &self.version
    }

    /// The control member.
    pub fn control_member(&self) -> &ArMember {
        &self.members[self.control_idx]
    }

    /// The data member.
    pub fn data_member(&self) -> &ArMember {
        &self.members[self.data_idx]
    }

    /// The raw (compressed) bytes of a member, streamed.
    pub fn member_reader(&self, m: &ArMember) -> impl Read + '_ {
        PositionalReader {
            file: &self.file,
            pos: m.data_offset,
            end: m.data_offset + m.size,
        }
    }

    fn tar_of(&self, idx: usize, max_total: u64) -> Result<TarReader<Box<dyn Read + '_>>> {
        let m = &self.members[idx];
        let ext = m.name.split_once(".tar").map(|x| x.1).unwrap_or("");
        let comp = Compressor::from_extension(ext).expect("checked when opened");
        let dec = compress::decoder(comp, self.member_reader(m), &m.name)?;
        let mut limits = self.limits;
        limits.max_total = limits.max_total.min(max_total);
        // The compressed size is known (and checked against the file): output beyond
        // ratio × input is a bomb, whatever the entries claim.
        Ok(
            TarReader::new(dec, &format!("{}: {}", self.display, m.name), limits)
                .with_input_size(m.size),
        )
    }

    /// The data member's tar stream, decompressed.
    pub fn data_tar(&self) -> Result<TarReader<Box<dyn Read + '_>>> {
        self.tar_of(self.data_idx, u64::MAX)
    }

    /// The control member's tar stream, decompressed.
    pub fn control_tar(&self) -> Result<TarReader<Box<dyn Read + '_>>> {
        self.tar_of(self.control_idx, MAX_CONTROL_TAR)
    }

    /// Every regular file of the control area, in archive order. Entries whose path
    /// is absolute or contains `..`, and duplicates, are errors.
    pub fn control_files(&self) -> Result<Vec<ControlFile>> {
        let mut tar = self.control_tar()?;
        let mut out: Vec<ControlFile> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while let Some(e) = tar.next_entry()? {
            let norm = safe_extract::path::normalize(&e.name).map_err(|problem| {
                tar.refused(Refusal::Traversal {
                    entry: Quoted::new(&e.name),
                    problem,
                })
            })?;
            if !seen.insert(norm.clone()) {
                return Err(tar
                    .refused(Refusal::Duplicate {
                        entry: Quoted::new(&e.name),
                    })
                    .into());
            }
            if e.kind == TarEntryKind::File {
                let contents = tar.read_data_to_vec()?;
                out.push(ControlFile {
                    name: String::from_utf8_lossy(&norm).into_owned(),
                    entry: e,
                    contents,
                });
            }
        }
        Ok(out)
    }

    /// The parsed `control` file.
    pub fn control(&self) -> Result<Control> {
        let files = self.control_files()?;
        let origin = format!("{}: {}", self.display, self.control_member().name);
        let f = files
            .iter()
            .find(|f| f.name == "control")
            .ok_or_else(|| Error::ControlFile {
                origin: origin.clone(),
                reason: "no `control` file in the control member; this is not a valid \
                         binary package"
                    .into(),
            })?;
        let text = std::str::from_utf8(&f.contents).map_err(|e| Error::ControlFile {
            origin: origin.clone(),
            reason: format!(
                "`control` is not UTF-8 (invalid byte at offset {}); dpkg requires UTF-8",
                e.valid_up_to()
            ),
        })?;
        Control::parse(text, &format!("{origin}: control"))
    }

    /// Streams the data member's entries (headers only), one at a time: memory stays
    /// bounded whatever the number of entries.
    pub fn data_entries(&self) -> Result<DataEntries<'_>> {
        Ok(DataEntries {
            tar: self.data_tar()?,
            done: false,
        })
    }

    /// Lists the data member's entries (headers only), all in memory; prefer
    /// [`data_entries`](Self::data_entries) for untrusted packages.
    pub fn list_data(&self) -> Result<Vec<TarEntry>> {
        self.data_entries()?.collect()
    }

    /// Safely extracts the data tree into `dest`, which must not exist yet; see
    /// [`extract`](crate::extract) for what is refused.
    pub fn extract_data(&self, dest: &Path, opts: &ExtractOptions) -> Result<ExtractSummary> {
        let mut tar = self.data_tar()?;
        let member = format!("{}: {}", self.display, self.data_member().name);
        extract::extract_tar(&mut tar, &member, dest, opts)
    }

    /// The path or name the reader was opened with.
    pub fn display_name(&self) -> &str {
        &self.display
    }

    /// Size of the `.deb` file.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty (never true for an opened `.deb`).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Path for messages.
    pub fn path_buf(&self) -> PathBuf {
        PathBuf::from(&self.display)
    }
}

/// The data member's entries, streamed ([`DebReader::data_entries`]). Stops after the
/// first error.
pub struct DataEntries<'a> {
    tar: TarReader<Box<dyn Read + 'a>>,
    done: bool,
}

impl Iterator for DataEntries<'_> {
    type Item = Result<TarEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.tar.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e.into()))
            }
        }
    }
}

struct PositionalReader<'a, S> {
    file: &'a S,
    pos: u64,
    end: u64,
}

impl<S: DebSource> Read for PositionalReader<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end - self.pos;
        if left == 0 {
            return Ok(0);
        }
        let k = (buf.len() as u64).min(left) as usize;
        let n = self.file.read_at(&mut buf[..k], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while being read",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}
