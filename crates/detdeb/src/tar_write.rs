//! A tar writer whose bytes equal GNU tar 1.34's `--format=gnu` output, as dpkg-deb
//! drives it (`tar -cf - --format=gnu --mtime @N --clamp-mtime --owner root:0
//! --group root:0 --null --no-unquote --no-recursion -T -`).
//!
//! What GNU tar writes (checked against the real tool by the tests):
//!
//! * 512-byte headers; numeric fields are zero-padded octal with a trailing NUL
//!   (`mode`/`uid`/`gid` 7 digits, `size`/`mtime` 11 digits); values too large for
//!   octal use GNU base-256 (high bit set, big-endian two's complement).
//! * `chksum` is 6 octal digits, NUL, space, summed with the field as spaces.
//! * magic `"ustar  \0"` (old GNU), `uname`/`gname` `root`, `devmajor`/`devminor`
//!   all NUL except for character and block devices; atime/ctime/offset unused.
//! * directory names end in `/`; symlinks have mode 0777 as stored by the kernel
//!   and size 0; a second path to an inode (hard link) is a type-`1` entry naming
//!   the first path, with size 0.
//! * a name longer than 100 bytes is preceded by a `././@LongLink` entry of type
//!   `L` (a link target longer than 100 bytes: type `K`, written first), whose data
//!   is the name plus a NUL; that header has mode 0644, uid/gid 0, mtime 0 and
//!   `root`/`root`. The real header then carries the first 100 bytes.
//! * the archive ends with two zero blocks and is padded with zeros to a multiple
//!   of the 10240-byte record (blocking factor 20).

use std::io::{self, Read, Write};

pub use crate::tar_read::TarEntryKind;

/// Bytes per tar block.
pub const BLOCK: usize = 512;
/// Bytes per tar record (GNU tar's default blocking factor 20).
pub const RECORD: u64 = 10240;

fn typeflag(kind: &TarEntryKind) -> u8 {
    match kind {
        TarEntryKind::File => b'0',
        TarEntryKind::HardLink { .. } => b'1',
        TarEntryKind::Symlink { .. } => b'2',
        TarEntryKind::CharDev { .. } => b'3',
        TarEntryKind::BlockDev { .. } => b'4',
        TarEntryKind::Dir => b'5',
        TarEntryKind::Fifo => b'6',
    }
}

/// One tar header's worth of metadata. Owner is always `root:0`/`root:0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarHeader {
    /// The archived name, e.g. `./usr/bin/x` (for directories without the trailing `/`;
    /// the writer adds it).
    pub name: Vec<u8>,
    /// Permission bits including setuid/setgid/sticky (`& 0o7777` is stored).
    pub mode: u32,
    /// Modification time, already clamped by the caller.
    pub mtime: i64,
    /// Data size: the number of bytes `append` copies for a [`TarEntryKind::File`];
    /// must be 0 for every other kind.
    pub size: u64,
    /// What the entry is (the same type the reader returns).
    pub kind: TarEntryKind,
}

/// Streams a GNU tar archive into `W`.
pub struct GnuTarWriter<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> GnuTarWriter<W> {
    /// Starts an archive.
    pub fn new(out: W) -> Self {
        GnuTarWriter { out, written: 0 }
    }

    /// Appends an entry; for [`TarEntryKind::File`], `data` must yield exactly `size` bytes.
    pub fn append(&mut self, header: &TarHeader, data: Option<&mut dyn Read>) -> io::Result<()> {
        let mut name = header.name.clone();
        if header.kind == TarEntryKind::Dir && !name.ends_with(b"/") {
            name.push(b'/');
        }
        let is_file = header.kind == TarEntryKind::File;
        if !is_file && header.size != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "only regular files carry data",
            ));
        }
        let size = header.size;
        let linkname: &[u8] = match &header.kind {
            TarEntryKind::Symlink { target } | TarEntryKind::HardLink { target } => target,
            _ => &[],
        };
        if linkname.len() > 100 {
            self.write_long(b'K', linkname)?;
        }
        if name.len() > 100 {
            self.write_long(b'L', &name)?;
        }
        let mut block = [0u8; BLOCK];
        put_str(&mut block[0..100], &name);
        put_num(&mut block[100..108], i64::from(header.mode & 0o7777));
        put_num(&mut block[108..116], 0);
        put_num(&mut block[116..124], 0);
        put_num(&mut block[124..136], size as i64);
        put_num(&mut block[136..148], header.mtime);
        block[156] = typeflag(&header.kind);
        put_str(&mut block[157..257], linkname);
        match header.kind {
            TarEntryKind::CharDev { major, minor } | TarEntryKind::BlockDev { major, minor } => {
                put_num(&mut block[329..337], i64::from(major));
                put_num(&mut block[337..345], i64::from(minor));
            }
            _ => {}
        }
        self.finish_header(&mut block)?;
        match data {
            Some(data) if is_file => self.copy_data(data, size, &header.name)?,
            None if size > 0 => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "file entry without data",
                ));
            }
            _ => {}
        }
        Ok(())
    }

    fn write_long(&mut self, typeflag: u8, value: &[u8]) -> io::Result<()> {
        let mut block = [0u8; BLOCK];
        put_str(&mut block[0..100], b"././@LongLink");
        put_num(&mut block[100..108], 0o644);
        put_num(&mut block[108..116], 0);
        put_num(&mut block[116..124], 0);
        put_num(&mut block[124..136], value.len() as i64 + 1);
        put_num(&mut block[136..148], 0);
        block[156] = typeflag;
        self.finish_header(&mut block)?;
        let mut data = value.to_vec();
        data.push(0);
        self.out.write_all(&data)?;
        self.written += data.len() as u64;
        self.pad()
    }

    fn finish_header(&mut self, block: &mut [u8; BLOCK]) -> io::Result<()> {
        block[257..265].copy_from_slice(b"ustar  \0");
        put_str(&mut block[265..297], b"root");
        put_str(&mut block[297..329], b"root");
        block[148..156].fill(b' ');
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        let ck = format!("{sum:06o}\0 ");
        block[148..156].copy_from_slice(ck.as_bytes());
        self.out.write_all(block)?;
        self.written += BLOCK as u64;
        Ok(())
    }

    fn copy_data(&mut self, data: &mut dyn Read, size: u64, name: &[u8]) -> io::Result<()> {
        let copied = io::copy(&mut data.take(size), &mut self.out)?;
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: file shrank while being archived ({copied} of {size} bytes)",
                    String::from_utf8_lossy(name)
                ),
            ));
        }
        self.written += size;
        self.pad()
    }

    fn pad(&mut self) -> io::Result<()> {
        let rem = (self.written % BLOCK as u64) as usize;
        if rem != 0 {
            let zeros = [0u8; BLOCK];
            self.out.write_all(&zeros[..BLOCK - rem])?;
            self.written += (BLOCK - rem) as u64;
        }
        Ok(())
    }

    /// Writes the end-of-archive blocks and record padding; returns the writer and
    /// the archive's total size.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        let end = self.written + 2 * BLOCK as u64;
        let total = end.div_ceil(RECORD) * RECORD;
        let zeros = [0u8; BLOCK];
        while self.written < total {
            self.out.write_all(&zeros)?;
            self.written += BLOCK as u64;
        }
        Ok((self.out, self.written))
    }
}

/// Copies `s` into a fixed field, NUL-padded; `s` is truncated to the field if longer.
fn put_str(field: &mut [u8], s: &[u8]) {
    let n = s.len().min(field.len());
    field[..n].copy_from_slice(&s[..n]);
}

/// GNU tar's numeric encoding: zero-padded octal of `len - 1` digits and a NUL when it
/// fits, else base-256 (negative values always base-256).
fn put_num(field: &mut [u8], value: i64) {
    let digits = field.len() - 1;
    let max_octal: i64 = (1i64 << (3 * digits as u32)) - 1;
    if (0..=max_octal).contains(&value) {
        let s = format!("{value:0digits$o}");
        field[..digits].copy_from_slice(s.as_bytes());
        field[digits] = 0;
    } else {
        let bytes = value.to_be_bytes();
        let n = field.len();
        let fill = if value < 0 { 0xff } else { 0 };
        field.fill(fill);
        let take = n.min(8);
        field[n - take..].copy_from_slice(&bytes[8 - take..]);
        field[0] = if value < 0 { 0xff } else { 0x80 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_octal_and_base256() {
        let mut f = [0u8; 12];
        put_num(&mut f, 0o644);
        assert_eq!(&f, b"00000000644\0");
        put_num(&mut f, 0o77777777777);
        assert_eq!(&f, b"77777777777\0");
        put_num(&mut f, 0o77777777777 + 1);
        assert_eq!(f[0], 0x80);
        assert_eq!(&f[4..], &(0o77777777777i64 + 1).to_be_bytes());
        put_num(&mut f, -1);
        assert!(f.iter().all(|&b| b == 0xff));
    }

    #[test]
    fn empty_archive_is_one_record() {
        let (out, n) = GnuTarWriter::new(Vec::new()).finish().unwrap();
        assert_eq!(n, RECORD);
        assert_eq!(out, vec![0u8; RECORD as usize]);
    }
}
