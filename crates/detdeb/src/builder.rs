//! [`DebBuilder`]: packs a control area and a data tree into a `.deb` that is a pure
//! function of (entries, contents, SOURCE_DATE_EPOCH, compression parameters).
//!
//! The layout is dpkg-deb 1.21's (`src/deb/build.c`, `lib/dpkg/ar.c`):
//!
//! * `!<arch>\n`, then the members `debian-binary` (`2.0\n`), `control.tar<ext>`,
//!   `data.tar<ext>`; both tar members use the same compressor
//!   (`--uniform-compression`, dpkg-deb's default since 1.19).
//! * each ar header is `%-16s%-12d%-6d%-6d%-8o%-10d` + `` `\n `` of name (no `/`
//!   terminator), mtime = SOURCE_DATE_EPOCH, uid 0, gid 0, mode `100644`, size; odd
//!   members are followed by one `\n`.
//! * the control tar is written with `--mode u+rw,go=rX` and root ownership;
//!   the data tar with root ownership (`--root-owner-group`). In both, mtimes are
//!   clamped *down* to SOURCE_DATE_EPOCH, never raised (`--clamp-mtime`).
//!
//! The data member is streamed straight into the output file and its ar header is
//! patched once its size is known, so nothing is held in memory but the (small)
//! control member and the codecs' own windows.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::compress::{CompressionParams, Encoder};
use crate::control::{Control, Md5Sums};
use crate::error::{Error, Result};
use crate::tar_write::{GnuTarWriter, TarEntryKind, TarHeader};
use crate::tree::{self, Entry, EntryKind, FileSource, WalkOptions};

/// Maintainer scripts dpkg-deb checks the permissions of.
const MAINTAINER_SCRIPTS: &[&str] = &["preinst", "postinst", "prerm", "postrm", "config"];

/// What [`DebBuilder::write_to_path`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebSummary {
    /// Final path.
    pub path: PathBuf,
    /// Size of the `.deb` in bytes.
    pub size: u64,
    /// Size of the compressed control member.
    pub control_member_size: u64,
    /// Size of the compressed data member.
    pub data_member_size: u64,
    /// Size of the uncompressed data tar stream.
    pub data_tar_size: u64,
}

/// Builds one `.deb`. See the crate docs for examples.
#[derive(Debug, Clone)]
pub struct DebBuilder {
    control: Vec<Entry>,
    data: Vec<Entry>,
    params: CompressionParams,
    source_date_epoch: i64,
}

impl DebBuilder {
    /// Reads a staging directory laid out as for `dpkg-deb --build`: `DIR/DEBIAN/`
    /// holds the control area, everything else (except top-level names starting with
    /// `DEBIAN`) is the data tree. Checks what dpkg-deb checks: a parseable `control`
    /// with Package/Version/Architecture, control directory mode 0755..0775,
    /// maintainer scripts regular files with mode 0555..0775. Device nodes and FIFOs
    /// are refused unless `allow_special` is set.
    pub fn from_staging_dir(
        dir: &Path,
        source_date_epoch: i64,
        allow_special: bool,
    ) -> Result<Self> {
        let ctrl_dir = dir.join("DEBIAN");
        let meta = std::fs::symlink_metadata(&ctrl_dir).map_err(|e| Error::io(&ctrl_dir, e))?;
        if !meta.is_dir() {
            return Err(Error::staging(&ctrl_dir, "control area is not a directory"));
        }
        let m = meta.permissions().mode() & 0o7777;
        if !(0o755..=0o775).contains(&m) {
            return Err(Error::staging(
                &ctrl_dir,
                format!(
                    "control directory has bad permissions {m:03o} (must be >=0755 and <=0775)"
                ),
            ));
        }
        let control = tree::walk_dir(&ctrl_dir, WalkOptions::default())?;
        let data = tree::walk_dir(
            dir,
            WalkOptions {
                skip_debian: true,
                symlinks_last: true,
                allow_special,
            },
        )?;
        let b = DebBuilder {
            control,
            data,
            params: CompressionParams::default(),
            source_date_epoch,
        };
        b.check_control_area(&ctrl_dir)?;
        Ok(b)
    }

    /// Builds from in-memory entries. `control` holds the control area's files
    /// (`control`, `md5sums`, maintainer scripts…), `data` the package tree; paths
    /// are relative (`usr/bin/x`), missing parent directories are added with mode
    /// 0755, and both lists are put in dpkg-deb's order.
    pub fn from_entries(
        control: Vec<Entry>,
        data: Vec<Entry>,
        source_date_epoch: i64,
    ) -> Result<Self> {
        let b = DebBuilder {
            control: tree::prepare_entries(control, false)?,
            data: tree::prepare_entries(data, true)?,
            params: CompressionParams::default(),
            source_date_epoch,
        };
        b.check_control_area(Path::new("DEBIAN"))?;
        Ok(b)
    }

    /// Chooses the compressor (default: xz level 6, as dpkg-deb).
    pub fn compression(mut self, params: CompressionParams) -> Self {
        self.params = params;
        self
    }

    /// Adds (or replaces) `md5sums` in the control area, digesting every regular
    /// file of the data tree except `conffiles` listed in the control area.
    pub fn with_md5sums(mut self) -> Result<Self> {
        let conffiles: Vec<Vec<u8>> = match self.control_file_bytes("conffiles")? {
            Some(t) => t
                .split(|&b| b == b'\n')
                .filter_map(|l| {
                    let l = l.strip_prefix(b"/")?;
                    Some(l.to_vec())
                })
                .collect(),
            None => Vec::new(),
        };
        let exclude: Vec<&[u8]> = conffiles.iter().map(Vec::as_slice).collect();
        let sums = Md5Sums::from_entries(&self.data, &exclude)?;
        self.control.retain(|e| e.path != b"md5sums");
        self.control
            .push(Entry::file("md5sums", 0o644, sums.to_bytes()));
        tree::sort_dpkg(&mut self.control, false);
        Ok(self)
    }

    /// The data tree's entries in archive order.
    pub fn data_entries(&self) -> &[Entry] {
        &self.data
    }

    /// The control area's entries in archive order.
    pub fn control_entries(&self) -> &[Entry] {
        &self.control
    }

    /// The parsed `control` file.
    pub fn control(&self) -> Result<Control> {
        let bytes = self
            .control_file_bytes("control")?
            .ok_or_else(|| Error::staging("DEBIAN/control", "missing control file"))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::staging("DEBIAN/control", "control file is not UTF-8"))?;
        Control::parse(&text, "DEBIAN/control")
    }

    fn control_file_bytes(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(e) = self.control.iter().find(|e| e.path == name.as_bytes()) else {
            return Ok(None);
        };
        match &e.kind {
            EntryKind::File { source, .. } => Ok(Some(match source {
                FileSource::Bytes(b) => b.to_vec(),
                FileSource::Path(p) => std::fs::read(p).map_err(|err| Error::io(p, err))?,
            })),
            _ => Err(Error::staging(
                format!("DEBIAN/{name}"),
                "not a regular file",
            )),
        }
    }

    fn check_control_area(&self, ctrl_dir: &Path) -> Result<()> {
        let c = self.control()?;
        c.check_required(&ctrl_dir.join("control").display().to_string())?;
        for e in &self.control {
            let name = String::from_utf8_lossy(&e.path);
            if !MAINTAINER_SCRIPTS.contains(&name.as_ref()) {
                continue;
            }
            let path = ctrl_dir.join(name.as_ref());
            match e.kind {
                EntryKind::File { .. } | EntryKind::Symlink { .. } => {}
                _ => {
                    return Err(Error::staging(
                        path,
                        "maintainer script is not a plain file or symlink",
                    ));
                }
            }
            let m = e.mode & 0o7777;
            if !matches!(e.kind, EntryKind::Symlink { .. }) && !(0o555..=0o775).contains(&m) {
                return Err(Error::staging(
                    path,
                    format!(
                        "maintainer script has bad permissions {m:03o} (must be >=0555 and <=0775)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Writes the `.deb` into `out`, which must be positioned at the start of an
    /// empty, seekable sink. Returns the sink.
    pub fn write<W: Write + Seek + Send>(&self, mut out: W) -> Result<(W, DebSummary)> {
        let io_err = |e: io::Error| Error::io("<output>", e);
        self.params
            .validate()
            .map_err(|r| Error::staging("<compression>", r))?;
        let ext = self.params.compressor.extension();
        let sde = self.source_date_epoch;

        // Control member: small, built in memory.
        let control_bytes = {
            let enc = Encoder::new(Vec::new(), &self.params).map_err(io_err)?;
            let (enc, _) = write_tar(&self.control, enc, sde, control_mode)?;
            enc.finish().map_err(io_err)?
        };

        out.write_all(b"!<arch>\n").map_err(io_err)?;
        write_member(&mut out, "debian-binary", sde, b"2.0\n").map_err(io_err)?;
        write_member(&mut out, &format!("control.tar{ext}"), sde, &control_bytes)
            .map_err(io_err)?;

        // Data member: header with a placeholder size, stream, then patch the size.
        let data_name = format!("data.tar{ext}");
        let header_pos = out.stream_position().map_err(io_err)?;
        out.write_all(&ar_header(&data_name, sde, 0))
            .map_err(io_err)?;
        let (data_size, tar_size) = {
            let counting = CountingWriter {
                inner: BufWriter::with_capacity(256 << 10, &mut out),
                count: 0,
            };
            let enc = Encoder::new(counting, &self.params).map_err(io_err)?;
            // Like dpkg-deb's tar | compressor pipe: reading and archiving files on
            // this thread, compressing on another.
            let (enc, tar_size) = pipelined(enc, |w| {
                let (_, n) = write_tar(&self.data, w, sde, |e| e.mode)?;
                Ok(n)
            })?;
            let mut counting = enc.finish().map_err(io_err)?;
            counting.inner.flush().map_err(io_err)?;
            (counting.count, tar_size)
        };
        let end = out.stream_position().map_err(io_err)?;
        out.seek(SeekFrom::Start(header_pos)).map_err(io_err)?;
        out.write_all(&ar_header(&data_name, sde, data_size))
            .map_err(io_err)?;
        out.seek(SeekFrom::Start(end)).map_err(io_err)?;
        let mut total = end;
        if data_size % 2 == 1 {
            out.write_all(b"\n").map_err(io_err)?;
            total += 1;
        }
        out.flush().map_err(io_err)?;
        Ok((
            out,
            DebSummary {
                path: PathBuf::new(),
                size: total,
                control_member_size: control_bytes.len() as u64,
                data_member_size: data_size,
                data_tar_size: tar_size,
            },
        ))
    }

    /// Writes the `.deb` to `path` atomically: a temporary file in the same
    /// directory, fsynced, renamed over `path`. On error nothing is left behind.
    pub fn write_to_path(&self, path: &Path) -> Result<DebSummary> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".detdeb-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, e))?;
        let (file, mut summary) = self
            .write(tmp.as_file())
            .map_err(|e| relabel_output(e, path))?;
        file.sync_all().map_err(|e| Error::io(path, e))?;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::io(tmp.path(), e))?;
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
        if let Ok(d) = File::open(dir) {
            // Make the rename itself durable; failure here is not worth an error.
            let _ = d.sync_all();
        }
        summary.path = path.to_owned();
        Ok(summary)
    }
}

fn relabel_output(e: Error, path: &Path) -> Error {
    match e {
        Error::Io { path: p, cause } if p == Path::new("<output>") => Error::io(path, cause),
        other => other,
    }
}

/// `tar --mode u+rw,go=rX` as GNU tar applies it (gnulib `mode_adjust`): the owner
/// gains rw; group and other get exactly r, plus x when the entry is a directory or
/// has any execute bit; `=` for g and o also clears setgid (files) and sticky.
fn control_mode(e: &Entry) -> u32 {
    let m = e.mode & 0o7777;
    let is_dir = e.kind == EntryKind::Dir;
    let x = is_dir || m & 0o111 != 0;
    let go = if x { 0o055 } else { 0o044 };
    let mut keep = m & 0o4700; // setuid and the owner bits
    if is_dir {
        keep |= m & 0o2000; // gnulib preserves a directory's setgid on `=`
    }
    keep | 0o600 | go
}

fn write_tar<W: Write>(
    entries: &[Entry],
    out: W,
    sde: i64,
    mode_of: impl Fn(&Entry) -> u32,
) -> Result<(W, u64)> {
    let mut tar = GnuTarWriter::new(out);
    for e in entries {
        let name = e.archive_name();
        let display = || PathBuf::from(String::from_utf8_lossy(&name).into_owned());
        let (kind, size) = match &e.kind {
            EntryKind::Dir => (TarEntryKind::Dir, 0),
            EntryKind::File { size, .. } => (TarEntryKind::File, *size),
            EntryKind::Symlink { target } => (
                TarEntryKind::Symlink {
                    target: target.clone(),
                },
                0,
            ),
            EntryKind::HardLink { target } => {
                let mut t = b"./".to_vec();
                t.extend_from_slice(target);
                (TarEntryKind::HardLink { target: t }, 0)
            }
            EntryKind::CharDev { major, minor } => (
                TarEntryKind::CharDev {
                    major: *major,
                    minor: *minor,
                },
                0,
            ),
            EntryKind::BlockDev { major, minor } => (
                TarEntryKind::BlockDev {
                    major: *major,
                    minor: *minor,
                },
                0,
            ),
            EntryKind::Fifo => (TarEntryKind::Fifo, 0),
        };
        let header = TarHeader {
            name: name.clone(),
            mode: mode_of(e),
            mtime: e.mtime.min(sde),
            size,
            kind,
        };
        let res = match &e.kind {
            EntryKind::File {
                source: FileSource::Path(p),
                ..
            } => {
                let mut f = File::open(p).map_err(|err| Error::io(p, err))?;
                tar.append(&header, Some(&mut f as &mut dyn Read))
                    .map_err(|err| Error::io(p, err))
            }
            EntryKind::File {
                source: FileSource::Bytes(b),
                ..
            } => tar
                .append(&header, Some(&mut &b[..] as &mut dyn Read))
                .map_err(|err| Error::io(display(), err)),
            _ => tar
                .append(&header, None)
                .map_err(|err| Error::io(display(), err)),
        };
        res?;
    }
    tar.finish().map_err(|e| Error::io("<tar stream>", e))
}

/// One ar member header as dpkg writes it.
fn ar_header(name: &str, mtime: i64, size: u64) -> Vec<u8> {
    let h = format!(
        "{name:<16}{mtime:<12}{:<6}{:<6}{:<8o}{size:<10}`\n",
        0, 0, 0o100644
    );
    debug_assert_eq!(h.len(), 60);
    h.into_bytes()
}

fn write_member<W: Write>(out: &mut W, name: &str, mtime: i64, data: &[u8]) -> io::Result<()> {
    out.write_all(&ar_header(name, mtime, data.len() as u64))?;
    out.write_all(data)?;
    if data.len() % 2 == 1 {
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Runs `produce` on this thread, writing into a bounded channel of chunks that a
/// second thread drains into `sink`. Returns the sink and `produce`'s result.
fn pipelined<W: Write + Send>(
    mut sink: W,
    produce: impl FnOnce(&mut ChunkSender) -> Result<u64>,
) -> Result<(W, u64)> {
    const CHUNK: usize = 256 << 10;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    std::thread::scope(|scope| {
        let consumer = scope.spawn(move || -> io::Result<W> {
            for chunk in rx {
                sink.write_all(&chunk)?;
            }
            Ok(sink)
        });
        let mut sender = ChunkSender {
            tx: Some(tx),
            buf: Vec::with_capacity(CHUNK),
            chunk: CHUNK,
        };
        let produced = produce(&mut sender).and_then(|n| {
            sender
                .flush_chunk()
                .map_err(|e| Error::io("<compressor>", e))?;
            Ok(n)
        });
        drop(sender);
        let consumed = consumer.join().expect("compressor thread panicked");
        match (produced, consumed) {
            (Ok(n), Ok(sink)) => Ok((sink, n)),
            // The consumer's error explains a producer's broken pipe.
            (_, Err(e)) => Err(Error::io("<output>", e)),
            (Err(e), Ok(_)) => Err(e),
        }
    })
}

/// The producer side of [`pipelined`].
struct ChunkSender {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    buf: Vec<u8>,
    chunk: usize,
}

impl ChunkSender {
    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.buf, Vec::with_capacity(self.chunk));
        self.tx
            .as_ref()
            .expect("sender is live until dropped")
            .send(full)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "compressor thread stopped"))
    }
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = (self.chunk - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == self.chunk {
            self.flush_chunk()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ar_header_is_dpkg_layout() {
        let h = ar_header("debian-binary", 1700000000, 4);
        assert_eq!(
            h,
            b"debian-binary   1700000000  0     0     100644  4         `\n".to_vec()
        );
    }

    #[test]
    fn control_mode_matches_u_rw_go_rx() {
        let f = |mode, dir: bool| {
            let e = if dir {
                Entry::dir("d", mode)
            } else {
                Entry::file("f", mode, Vec::new())
            };
            control_mode(&e)
        };
        assert_eq!(f(0o600, false), 0o644);
        assert_eq!(f(0o700, false), 0o755);
        assert_eq!(f(0o444, false), 0o644);
        assert_eq!(f(0o501, false), 0o755);
        assert_eq!(f(0o2775, false), 0o755);
        assert_eq!(f(0o700, true), 0o755);
    }
}
