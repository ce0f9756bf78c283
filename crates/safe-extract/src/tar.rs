//! A strict, bounded tar reader for untrusted input.
//!
//! Why not the `tar` crate here: it reads GNU long-name and PAX extension records
//! into memory whatever size their header claims, so a small compressed member can
//! demand gigabytes; and its errors do not say where in the stream they happened.
//! This reader keeps every extension record under [`Limits::max_extension`],
//! counts entries and bytes, verifies header checksums, and reports the member name
//! and byte offset of every problem.
//!
//! Accepted: GNU (`ustar  \0`) and POSIX (`ustar\0` `00`, with the `prefix` field)
//! headers; types `0`/NUL/`7` (file), `1`, `2`, `3`, `4`, `5`, `6`; GNU `L`/`K`; PAX
//! `x` (`path`, `linkpath`, `size`, `mtime`, `uid`, `gid`) and `g` (skipped).
//! Anything else is an error, not a guess.

use std::io::{self, Read};

use crate::error::{Error, LimitKind, PathProblem, Refusal, Result};
use crate::quote::Quoted;

/// Limits applied while reading and extracting untrusted tar streams.
///
/// The uncompressed size is capped twice: by [`max_total`](Self::max_total), and — once the
/// compressed input's size is known ([`TarReader::with_input_size`]) — by
/// `max_ratio × input + ratio_allowance`, so a 132 KB package cannot expand to 4 GiB.
/// Every entry's declared size is checked against what is left before its data is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest number of entries in one member.
    pub max_entries: u64,
    /// Longest path or link target, in bytes.
    pub max_path: usize,
    /// Largest GNU long-name or PAX record, in bytes.
    pub max_extension: u64,
    /// Largest total uncompressed size of one member (headers and data).
    pub max_total: u64,
    /// Largest single file kept in memory by the reader (control files).
    pub max_in_memory_file: u64,
    /// Largest single extracted file.
    pub max_file_size: u64,
    /// Largest sum of the declared sizes of all files (data only; [`max_total`](Self::max_total)
    /// also counts headers and padding).
    pub max_data_total: u64,
    /// Largest uncompressed/compressed size ratio (applied when the input size is known).
    pub max_ratio: u64,
    /// Uncompressed bytes allowed on top of the ratio (small inputs, tar padding).
    pub ratio_allowance: u64,
}

impl Default for Limits {
    /// One million entries, 4096-byte paths, 64 KiB extension records, 64 GiB of
    /// uncompressed data per stream, 16 MiB per in-memory control file, 16 GiB per file,
    /// and at most 256 × the compressed size + 64 MiB. (Kernel packages and source
    /// tarballs expand 3–12×; a zero-filled bomb expands over 1000×.)
    fn default() -> Self {
        Limits {
            max_entries: 1_000_000,
            max_path: 4096,
            max_extension: 64 << 10,
            max_total: 64 << 30,
            max_in_memory_file: 16 << 20,
            max_file_size: 16 << 30,
            max_data_total: 64 << 30,
            max_ratio: 256,
            ratio_allowance: 64 << 20,
        }
    }
}

/// What a tar entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TarEntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink {
        /// Its target, as stored.
        target: Vec<u8>,
    },
    /// A hard link.
    HardLink {
        /// The archived name it links to.
        target: Vec<u8>,
    },
    /// A character device.
    CharDev {
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
    /// A block device.
    BlockDev {
        /// Major number.
        major: u32,
        /// Minor number.
        minor: u32,
    },
    /// A FIFO.
    Fifo,
}

/// One entry's header, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry {
    /// The archived name (e.g. `./usr/bin/x`, directories with a trailing `/`).
    pub name: Vec<u8>,
    /// What it is.
    pub kind: TarEntryKind,
    /// Permission bits (`& 0o7777`).
    pub mode: u32,
    /// Numeric owner.
    pub uid: u64,
    /// Numeric group.
    pub gid: u64,
    /// Owner name.
    pub uname: String,
    /// Group name.
    pub gname: String,
    /// Modification time.
    pub mtime: i64,
    /// Data size (0 for everything but files).
    pub size: u64,
    /// Offset of this entry's (first) header in the uncompressed stream.
    pub offset: u64,
}

impl TarEntry {
    /// The name lossily decoded, for messages.
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// Reads entries one at a time; each entry's data can be read before moving on.
pub struct TarReader<R> {
    inner: R,
    member: String,
    limits: Limits,
    /// The uncompressed-size budget in force and which limit sets it.
    budget: (u64, LimitKind),
    /// Name of the entry whose data is being read, for messages.
    current: Option<Quoted>,
    offset: u64,
    entries: u64,
    /// Data bytes of the current entry not yet read.
    remaining: u64,
    /// Sum of the declared sizes of the files so far.
    data_total: u64,
    /// Padding after the current entry's data.
    padding: u64,
    finished: bool,
}

struct Extensions {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
    mtime: Option<i64>,
    uid: Option<u64>,
    gid: Option<u64>,
}

/// An entry's own header block, where it is, where its first extension header
/// was, and the size the header declares.
struct EntryHeader {
    h: [u8; 512],
    at: u64,
    first_offset: u64,
    size: u64,
}

impl<R: Read> TarReader<R> {
    /// Reads the tar stream `inner`, naming it `member` in errors.
    pub fn new(inner: R, member: &str, limits: Limits) -> Self {
        TarReader {
            inner,
            member: member.to_owned(),
            limits,
            budget: (limits.max_total, LimitKind::TotalSize),
            current: None,
            offset: 0,
            entries: 0,
            remaining: 0,
            data_total: 0,
            padding: 0,
            finished: false,
        }
    }

    /// Bounds the uncompressed size by the compressed input's size `compressed`
    /// (`max_ratio × compressed + ratio_allowance`, never above `max_total`).
    pub fn with_input_size(mut self, compressed: u64) -> Self {
        let by_ratio = compressed
            .saturating_mul(self.limits.max_ratio)
            .saturating_add(self.limits.ratio_allowance);
        if by_ratio < self.budget.0 {
            self.budget = (by_ratio, LimitKind::Ratio);
        }
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The archive name used in messages.
    pub fn archive(&self) -> &str {
        &self.member
    }

    /// Uncompressed bytes this stream may still produce.
    pub fn remaining_budget(&self) -> u64 {
        self.budget.0.saturating_sub(self.offset)
    }

    /// An error naming this archive.
    pub fn refused(&self, refusal: Refusal) -> Error {
        Error::Refused {
            archive: self.member.clone(),
            refusal,
        }
    }

    /// The error for exceeding limit `which` (value `limit`), naming the current entry.
    pub fn limit_error(&self, which: LimitKind, limit: u64) -> Error {
        self.refused(Refusal::LimitExceeded {
            which,
            limit,
            entry: self.current.clone(),
        })
    }

    /// The error for exceeding the uncompressed-size budget.
    pub fn budget_error(&self) -> Error {
        self.limit_error(self.budget.1, self.budget.0)
    }

    fn err(&self, offset: u64, reason: impl Into<String>) -> Error {
        Error::Malformed {
            archive: self.member.clone(),
            offset,
            problem: reason.into(),
        }
    }

    fn io_err(&self, e: io::Error) -> Error {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            self.err(
                self.offset,
                "truncated archive (an entry claims more data than there is)",
            )
        } else {
            Error::Read {
                archive: self.member.clone(),
                offset: self.offset,
                cause: e,
            }
        }
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        let n = buf.len() as u64;
        if self.offset + n > self.budget.0 {
            return Err(self.budget_error());
        }
        self.inner.read_exact(buf).map_err(|e| self.io_err(e))?;
        self.offset += n;
        Ok(())
    }

    fn skip(&mut self, mut n: u64) -> Result<()> {
        let mut buf = [0u8; 8192];
        while n > 0 {
            let k = n.min(buf.len() as u64) as usize;
            self.read_exact(&mut buf[..k])?;
            n -= k as u64;
        }
        Ok(())
    }

    fn read_blob(&mut self, size: u64) -> Result<Vec<u8>> {
        if size > self.limits.max_extension {
            return Err(self.limit_error(LimitKind::ExtensionRecord, self.limits.max_extension));
        }
        let mut v = vec![0u8; size as usize];
        self.read_exact(&mut v)?;
        self.skip(pad512(size))?;
        Ok(v)
    }

    /// Advances to the next entry (skipping unread data of the current one).
    /// Returns `None` at the end-of-archive marker.
    pub fn next_entry(&mut self) -> Result<Option<TarEntry>> {
        if self.finished {
            return Ok(None);
        }
        let rest = self.remaining + self.padding;
        self.skip(rest)?;
        self.remaining = 0;
        self.padding = 0;
        self.current = None;
        let mut ext = Extensions {
            path: None,
            link: None,
            size: None,
            mtime: None,
            uid: None,
            gid: None,
        };
        let Some(header) = self.entry_header(&mut ext)? else {
            return Ok(None);
        };
        self.entry(header, ext).map(Some)
    }

    /// Reads headers up to the entry's own, gathering GNU long names/links and PAX
    /// records into `ext` (global PAX headers are read and ignored); `None` at the
    /// end-of-archive marker, which may not follow an extension header.
    fn entry_header(&mut self, ext: &mut Extensions) -> Result<Option<EntryHeader>> {
        let mut first_offset = None;
        loop {
            let at = self.offset;
            let mut h = [0u8; 512];
            self.read_exact(&mut h)?;
            if h.iter().all(|&b| b == 0) {
                if first_offset.is_some() {
                    return Err(self.err(at, "end-of-archive marker after an extension header"));
                }
                self.finished = true;
                return Ok(None);
            }
            first_offset.get_or_insert(at);
            self.check_header(&h, at)?;
            let size = self.num(&h[124..136], at, "size")?;
            match h[156] {
                b'L' => {
                    let mut v = self.read_blob(size)?;
                    strip_nul(&mut v);
                    ext.path = Some(v);
                }
                b'K' => {
                    let mut v = self.read_blob(size)?;
                    strip_nul(&mut v);
                    ext.link = Some(v);
                }
                b'x' => {
                    let v = self.read_blob(size)?;
                    self.parse_pax(&v, at, ext)?;
                }
                b'g' => {
                    self.read_blob(size)?;
                }
                _ => {
                    return Ok(Some(EntryHeader {
                        h,
                        at,
                        first_offset: first_offset.unwrap_or(at),
                        size,
                    }));
                }
            }
        }
    }

    /// The entry of `header` with `ext`'s overrides: counted against the entry
    /// limit, its name and link checked (non-empty, within the path limit, no NUL),
    /// its kind, numbers and data size admitted.
    fn entry(&mut self, header: EntryHeader, mut ext: Extensions) -> Result<TarEntry> {
        let EntryHeader { h, at, size, .. } = header;
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(self.limit_error(LimitKind::Entries, self.limits.max_entries));
        }
        let name = ext.path.take().unwrap_or_else(|| header_name(&h));
        let link = ext.link.take().unwrap_or_else(|| field_bytes(&h[157..257]));
        if name.is_empty() {
            return Err(self.err(at, "entry with an empty name"));
        }
        if name.len() > self.limits.max_path || link.len() > self.limits.max_path {
            self.current = Some(Quoted::new(&name));
            return Err(self.limit_error(LimitKind::PathLength, self.limits.max_path as u64));
        }
        if name.contains(&0) || link.contains(&0) {
            return Err(self.refused(Refusal::BadPath {
                entry: Quoted::new(&name),
                problem: PathProblem::Nul,
            }));
        }
        self.current = Some(Quoted::new(&name));
        let size = ext.size.take().unwrap_or(size);
        let kind = self.entry_kind(h[156], link, &h, at)?;
        if kind != TarEntryKind::File && size != 0 {
            return Err(self.err(at, "non-file entry with data"));
        }
        let mode = self.num(&h[100..108], at, "mode")?;
        let uid = match ext.uid.take() {
            Some(u) => u,
            None => self.num(&h[108..116], at, "uid")?,
        };
        let gid = match ext.gid.take() {
            Some(g) => g,
            None => self.num(&h[116..124], at, "gid")?,
        };
        let mtime = match ext.mtime.take() {
            Some(t) => t,
            None => self.signed_num(&h[136..148], at, "mtime")?,
        };
        self.admit_data(&kind, size)?;
        self.remaining = size;
        self.padding = pad512(size);
        Ok(TarEntry {
            name,
            kind,
            mode: (mode & 0o7777) as u32,
            uid,
            gid,
            uname: String::from_utf8_lossy(&field_bytes(&h[265..297])).into_owned(),
            gname: String::from_utf8_lossy(&field_bytes(&h[297..329])).into_owned(),
            mtime,
            size,
            offset: header.first_offset,
        })
    }

    /// The entry's kind from its typeflag; devices carry their numbers, links `link`.
    fn entry_kind(
        &self,
        typeflag: u8,
        link: Vec<u8>,
        h: &[u8; 512],
        at: u64,
    ) -> Result<TarEntryKind> {
        Ok(match typeflag {
            b'0' | 0 | b'7' => TarEntryKind::File,
            b'1' => TarEntryKind::HardLink { target: link },
            b'2' => TarEntryKind::Symlink { target: link },
            b'3' | b'4' => {
                let major = self.num(&h[329..337], at, "devmajor")?;
                let minor = self.num(&h[337..345], at, "devminor")?;
                let (major, minor) = (
                    u32::try_from(major).map_err(|_| self.err(at, "devmajor out of range"))?,
                    u32::try_from(minor).map_err(|_| self.err(at, "devminor out of range"))?,
                );
                if typeflag == b'3' {
                    TarEntryKind::CharDev { major, minor }
                } else {
                    TarEntryKind::BlockDev { major, minor }
                }
            }
            b'5' => TarEntryKind::Dir,
            b'6' => TarEntryKind::Fifo,
            other => {
                return Err(self.refused(Refusal::UnsupportedType {
                    offset: at,
                    typeflag: char::from(other),
                }));
            }
        })
    }

    /// Counts `size` bytes of data against the per-file, ratio and total limits before
    /// any of it is read.
    fn admit_data(&mut self, kind: &TarEntryKind, size: u64) -> Result<()> {
        if *kind == TarEntryKind::File && size > self.limits.max_file_size {
            return Err(self.limit_error(LimitKind::FileSize, self.limits.max_file_size));
        }
        if size > self.remaining_budget() {
            return Err(self.budget_error());
        }
        self.data_total = self.data_total.saturating_add(size);
        if self.data_total > self.limits.max_data_total {
            return Err(self.limit_error(LimitKind::DataSize, self.limits.max_data_total));
        }
        Ok(())
    }

    /// Reads (part of) the current entry's data; returns 0 at its end.
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let k = (buf.len() as u64).min(self.remaining) as usize;
        self.read_exact(&mut buf[..k])?;
        self.remaining -= k as u64;
        Ok(k)
    }

    /// The current entry's data as a reader (errors become `io::Error`s that carry
    /// this crate's message).
    pub fn data_reader(&mut self) -> DataReader<'_, R> {
        DataReader { tar: self }
    }

    /// Reads the whole current entry into memory, refusing files over
    /// [`Limits::max_in_memory_file`].
    pub fn read_data_to_vec(&mut self) -> Result<Vec<u8>> {
        if self.remaining > self.limits.max_in_memory_file {
            return Err(self.limit_error(LimitKind::InMemoryFile, self.limits.max_in_memory_file));
        }
        let mut v = vec![0u8; self.remaining as usize];
        self.read_exact(&mut v)?;
        self.remaining = 0;
        Ok(v)
    }

    /// Data bytes of the current entry not read yet.
    pub fn data_remaining(&self) -> u64 {
        self.remaining
    }

    /// Bytes of uncompressed stream consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn check_header(&self, h: &[u8; 512], at: u64) -> Result<()> {
        let magic = &h[257..265];
        if magic != b"ustar  \0" && &magic[..6] != b"ustar\0" {
            return Err(self.err(at, "not a ustar or GNU tar header"));
        }
        let stored = self.num(&h[148..156], at, "chksum")?;
        let unsigned: u64 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        let signed: i64 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    i64::from(b as i8)
                }
            })
            .sum();
        if stored != unsigned && stored as i64 != signed {
            return Err(self.err(at, "header checksum mismatch"));
        }
        Ok(())
    }

    fn num(&self, field: &[u8], at: u64, what: &str) -> Result<u64> {
        let v = self.signed_num(field, at, what)?;
        u64::try_from(v).map_err(|_| self.err(at, format!("negative {what}")))
    }

    fn signed_num(&self, field: &[u8], at: u64, what: &str) -> Result<i64> {
        parse_numeric(field).ok_or_else(|| self.err(at, format!("malformed {what} field")))
    }

    fn parse_pax(&self, data: &[u8], at: u64, ext: &mut Extensions) -> Result<()> {
        let mut rest = data;
        while !rest.is_empty() {
            let bad = || self.err(at, "malformed PAX record");
            let sp = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
            let len: usize = std::str::from_utf8(&rest[..sp])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(bad)?;
            if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
                return Err(bad());
            }
            let rec = &rest[sp + 1..len - 1];
            let eq = rec.iter().position(|&b| b == b'=').ok_or_else(bad)?;
            let (key, value) = (&rec[..eq], &rec[eq + 1..]);
            let int = |v: &[u8]| -> Result<i64> {
                let s = std::str::from_utf8(v).map_err(|_| bad())?;
                let whole = s.split('.').next().unwrap_or("");
                whole.parse().map_err(|_| bad())
            };
            match key {
                b"path" => ext.path = Some(value.to_vec()),
                b"linkpath" => ext.link = Some(value.to_vec()),
                b"size" => ext.size = Some(u64::try_from(int(value)?).map_err(|_| bad())?),
                b"mtime" => ext.mtime = Some(int(value)?),
                b"uid" => ext.uid = Some(u64::try_from(int(value)?).map_err(|_| bad())?),
                b"gid" => ext.gid = Some(u64::try_from(int(value)?).map_err(|_| bad())?),
                _ => {}
            }
            rest = &rest[len..];
        }
        Ok(())
    }
}

/// See [`TarReader::data_reader`].
pub struct DataReader<'a, R> {
    tar: &'a mut TarReader<R>,
}

impl<R: Read> Read for DataReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tar
            .read_data(buf)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
    }
}

fn pad512(n: u64) -> u64 {
    (512 - n % 512) % 512
}

fn strip_nul(v: &mut Vec<u8>) {
    while v.last() == Some(&0) {
        v.pop();
    }
}

fn field_bytes(f: &[u8]) -> Vec<u8> {
    let end = f.iter().position(|&b| b == 0).unwrap_or(f.len());
    f[..end].to_vec()
}

/// Octal (spaces/NUL-terminated, leading spaces allowed) or GNU base-256.
pub fn parse_numeric(field: &[u8]) -> Option<i64> {
    if let Some(&first) = field.first()
        && first & 0x80 != 0
    {
        // Base-256, two's complement, big-endian; bit 6 of the first byte is the sign.
        let negative = first & 0x40 != 0;
        let mut v: i128 = if negative { -1 } else { 0 };
        for (i, &b) in field.iter().enumerate() {
            let b = if i == 0 {
                (b & 0x7f) | if negative { 0x80 } else { 0 }
            } else {
                b
            };
            v = (v << 8) | i128::from(b);
            if !(i128::from(i64::MIN)..=i128::from(i64::MAX)).contains(&v) {
                return None;
            }
        }
        return i64::try_from(v).ok();
    }
    let s: &[u8] = {
        let start = field.iter().position(|&b| b != b' ').unwrap_or(field.len());
        let f = &field[start..];
        let end = f
            .iter()
            .position(|&b| b == 0 || b == b' ')
            .unwrap_or(f.len());
        if f[end..].iter().any(|&b| b != 0 && b != b' ') {
            return None;
        }
        &f[..end]
    };
    if s.is_empty() {
        return Some(0);
    }
    let mut v: i64 = 0;
    for &c in s {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(i64::from(c - b'0'))?;
    }
    Some(v)
}

/// The name in a header: ustar's `prefix/name` unless the header is GNU's (whose long
/// names come as a separate `L` entry instead).
fn header_name(h: &[u8; 512]) -> Vec<u8> {
    let name = field_bytes(&h[0..100]);
    let prefix = field_bytes(&h[345..500]);
    if &h[257..265] == b"ustar  \0" || prefix.is_empty() {
        return name;
    }
    let mut p = prefix;
    p.push(b'/');
    p.extend_from_slice(&name);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_fields() {
        assert_eq!(parse_numeric(b"0000644\0"), Some(0o644));
        assert_eq!(parse_numeric(b"  644 \0"), Some(0o644));
        assert_eq!(parse_numeric(b"\0\0\0"), Some(0));
        assert_eq!(parse_numeric(b"0009\0"), None);
        assert_eq!(parse_numeric(b"12 3\0"), None);
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[11] = 5;
        assert_eq!(parse_numeric(&f), Some(5));
        assert_eq!(parse_numeric(&[0xff; 12]), Some(-1));
    }
}
