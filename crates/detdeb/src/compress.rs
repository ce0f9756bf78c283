//! Member compressors, set up exactly as dpkg-deb 1.21 sets up its in-process codecs.
//!
//! What dpkg-deb does (read from `lib/dpkg/compress.c` of dpkg 1.21.22, and checked
//! byte for byte by this crate's tests against the machine's `dpkg-deb`):
//!
//! | `-Z`   | library  | setup                                                                 | default level |
//! |--------|----------|-----------------------------------------------------------------------|---------------|
//! | `gzip` | zlib     | `gzdopen(fd, "w9 ")`: gzip wrapper, no name, mtime 0, OS byte 3 (Unix) | 9             |
//! | `xz`   | liblzma  | `lzma_stream_encoder_mt`, preset N, CRC64 check, `block_size = 0`      | 6             |
//! | `zstd` | libzstd  | `ZSTD_c_compressionLevel` N, `ZSTD_c_checksumFlag` 1, `nbWorkers` = CPUs when > 1 | 3 |
//! | `none` | —        | the tar stream as is                                                   | —             |
//!
//! Two consequences matter for determinism:
//!
//! * **xz**: dpkg-deb always uses the *multi-threaded* encoder (it only lowers the
//!   thread count under memory pressure). With `block_size = 0` liblzma cuts blocks
//!   of 3 × the dictionary size (24 MiB at preset 6) whatever the thread count, and
//!   records sizes in every block header, so the bytes do not depend on the CPU
//!   count. We use the same encoder with the same options.
//! * **zstd**: dpkg-deb sets `nbWorkers` only when the machine has more than one CPU,
//!   and libzstd's single-threaded and multi-threaded modes emit different frames.
//!   libzstd guarantees identical output for every `nbWorkers >= 1`, so we *always*
//!   set at least one worker: our output equals dpkg-deb's on any multi-core
//!   machine, whatever the number of CPUs of the machine running us.
//!
//! gzip goes through flate2's zlib backend (the system zlib, which is what dpkg links)
//! rather than miniz: deflate streams differ between implementations.
//!
//! The codec libraries are linked from the system (`pkg-config`), as dpkg does; their
//! versions are part of a build's toolchain fingerprint.

use std::io::{self, Read, Write};
use std::str::FromStr;

use crate::error::{Error, Result};

/// A member compressor, as named by `dpkg-deb -Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compressor {
    /// `-Zgzip` (`.gz`).
    Gzip,
    /// `-Zxz` (`.xz`), dpkg-deb's default.
    Xz,
    /// `-Zzstd` (`.zst`).
    Zstd,
    /// `-Znone` (no extension).
    None,
}

impl Compressor {
    /// The member-name extension dpkg-deb uses (`""` for [`Compressor::None`]).
    pub fn extension(self) -> &'static str {
        match self {
            Compressor::Gzip => ".gz",
            Compressor::Xz => ".xz",
            Compressor::Zstd => ".zst",
            Compressor::None => "",
        }
    }

    /// dpkg-deb's default level for this compressor.
    pub fn default_level(self) -> u32 {
        match self {
            Compressor::Gzip => 9,
            Compressor::Xz => 6,
            Compressor::Zstd => 3,
            Compressor::None => 0,
        }
    }

    /// The valid level range (inclusive).
    pub fn level_range(self) -> (u32, u32) {
        match self {
            Compressor::Gzip => (1, 9),
            Compressor::Xz => (0, 9),
            Compressor::Zstd => (1, 22),
            Compressor::None => (0, 0),
        }
    }

    /// The name used on the command line (`gzip`, `xz`, `zstd`, `none`).
    pub fn name(self) -> &'static str {
        match self {
            Compressor::Gzip => "gzip",
            Compressor::Xz => "xz",
            Compressor::Zstd => "zstd",
            Compressor::None => "none",
        }
    }

    /// Recognises a member-name extension (`.gz`, `.xz`, `.zst`, or none).
    pub fn from_extension(ext: &str) -> Option<Compressor> {
        match ext {
            ".gz" => Some(Compressor::Gzip),
            ".xz" => Some(Compressor::Xz),
            ".zst" => Some(Compressor::Zstd),
            "" => Some(Compressor::None),
            _ => None,
        }
    }
}

impl FromStr for Compressor {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "gzip" | "gz" => Ok(Compressor::Gzip),
            "xz" => Ok(Compressor::Xz),
            "zstd" | "zst" => Ok(Compressor::Zstd),
            "none" => Ok(Compressor::None),
            other => Err(format!(
                "unknown compressor {other:?} (expected gzip, xz, zstd or none)"
            )),
        }
    }
}

impl std::fmt::Display for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A compressor and its level.
///
/// `threads` only changes speed, never bytes: see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionParams {
    /// Which codec.
    pub compressor: Compressor,
    /// Level; [`Compressor::default_level`] gives dpkg-deb's.
    pub level: u32,
    /// Worker threads (0: xz one per available CPU, zstd one). Never affects output.
    pub threads: u32,
}

impl CompressionParams {
    /// dpkg-deb's defaults for `compressor`.
    pub fn new(compressor: Compressor) -> Self {
        CompressionParams {
            compressor,
            level: compressor.default_level(),
            threads: 0,
        }
    }

    /// Same, with an explicit level (checked by [`CompressionParams::validate`]).
    pub fn with_level(mut self, level: u32) -> Self {
        self.level = level;
        self
    }

    /// Checks the level is in range for the compressor.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let (lo, hi) = self.compressor.level_range();
        if self.compressor != Compressor::None && !(lo..=hi).contains(&self.level) {
            return Err(format!(
                "{} level {} is out of range {lo}..={hi}",
                self.compressor, self.level
            ));
        }
        Ok(())
    }

    fn worker_threads(&self) -> u32 {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism()
                .map(|n| n.get() as u32)
                .unwrap_or(1)
        }
    }
}

impl Default for CompressionParams {
    fn default() -> Self {
        CompressionParams::new(Compressor::Xz)
    }
}

/// A streaming compressor writing into `W`. Call [`Encoder::finish`] to flush the
/// trailer and get `W` back.
pub enum Encoder<W: Write> {
    /// gzip through zlib.
    Gzip(flate2::write::GzEncoder<W>),
    /// xz through liblzma's multi-threaded encoder.
    Xz(xz2::write::XzEncoder<W>),
    /// zstd through libzstd with at least one worker, fed as dpkg-deb feeds it.
    Zstd(ZstdDpkgWriter<W>),
    /// No compression.
    None(W),
}

impl<W: Write> Encoder<W> {
    /// Sets up the encoder exactly as dpkg-deb does (see the module docs).
    pub fn new(out: W, params: &CompressionParams) -> io::Result<Self> {
        params
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(match params.compressor {
            Compressor::Gzip => Encoder::Gzip(
                flate2::GzBuilder::new()
                    .operating_system(3)
                    .write(out, flate2::Compression::new(params.level)),
            ),
            Compressor::Xz => {
                let stream = xz2::stream::MtStreamBuilder::new()
                    .preset(params.level)
                    .check(xz2::stream::Check::Crc64)
                    .block_size(0)
                    .timeout_ms(0)
                    .threads(params.worker_threads())
                    .encoder()
                    .map_err(io::Error::other)?;
                Encoder::Xz(xz2::write::XzEncoder::new_stream(out, stream))
            }
            // One worker unless asked: the bytes are the same for any count >= 1, and
            // on Debian's linux-image tree one worker was as fast as two (it compresses
            // while this process archives) with a 59 MB instead of 70 MB peak RSS.
            Compressor::Zstd => Encoder::Zstd(ZstdDpkgWriter::new(
                out,
                params.level as i32,
                params.threads.max(1),
            )?),
            Compressor::None => Encoder::None(out),
        })
    }

    /// Writes the trailer and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Gzip(e) => e.finish(),
            Encoder::Xz(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
            Encoder::None(w) => Ok(w),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Xz(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
            Encoder::None(w) => w.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Gzip(e) => e.write_all(buf),
            Encoder::Xz(e) => e.write_all(buf),
            Encoder::Zstd(e) => e.write_all(buf),
            Encoder::None(w) => w.write_all(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Gzip(e) => e.flush(),
            Encoder::Xz(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
            Encoder::None(w) => w.flush(),
        }
    }
}

/// Drives libzstd with dpkg-deb's exact call pattern.
///
/// dpkg-deb reads its input in chunks of `ZSTD_CStreamInSize()` bytes and calls
/// `ZSTD_compressStream2` with `ZSTD_e_continue` for each full chunk, then with
/// `ZSTD_e_end` for the final short (possibly empty) chunk. The pattern is visible
/// in the output: when the whole input fits in the first chunk, libzstd learns the
/// total size on that first call and writes a single-segment frame header with the
/// content size; otherwise the frame has no content size. We buffer the same way.
pub struct ZstdDpkgWriter<W: Write> {
    cctx: zstd::zstd_safe::CCtx<'static>,
    out: W,
    chunk: Vec<u8>,
    chunk_size: usize,
    outbuf: Vec<u8>,
}

impl<W: Write> ZstdDpkgWriter<W> {
    fn new(out: W, level: i32, workers: u32) -> io::Result<Self> {
        use zstd::zstd_safe::{CCtx, CParameter};
        let mut cctx = CCtx::create();
        let set = |cctx: &mut CCtx<'static>, p: CParameter| {
            cctx.set_parameter(p).map(|_| ()).map_err(zstd_err)
        };
        set(&mut cctx, CParameter::CompressionLevel(level))?;
        set(&mut cctx, CParameter::ChecksumFlag(true))?;
        // Always multi-threaded (>= 1 worker): see the module docs.
        set(&mut cctx, CParameter::NbWorkers(workers))?;
        let chunk_size = CCtx::in_size();
        Ok(ZstdDpkgWriter {
            cctx,
            out,
            chunk: Vec::with_capacity(chunk_size),
            chunk_size,
            outbuf: vec![0u8; CCtx::out_size()],
        })
    }

    /// Compresses the buffered chunk with `directive` until libzstd has taken all of
    /// it (and, for `e_end`, flushed the frame).
    fn compress_chunk(
        &mut self,
        directive: zstd::zstd_safe::zstd_sys::ZSTD_EndDirective,
    ) -> io::Result<()> {
        use zstd::zstd_safe::{InBuffer, OutBuffer, zstd_sys::ZSTD_EndDirective};
        let mut input = InBuffer::around(&self.chunk);
        loop {
            let mut output = OutBuffer::around(&mut self.outbuf[..]);
            let remaining = self
                .cctx
                .compress_stream2(&mut output, &mut input, directive)
                .map_err(zstd_err)?;
            let produced = output.pos();
            self.out.write_all(&self.outbuf[..produced])?;
            let done = match directive {
                ZSTD_EndDirective::ZSTD_e_end => remaining == 0,
                _ => input.pos() == self.chunk.len(),
            };
            if done {
                break;
            }
        }
        self.chunk.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<W> {
        self.compress_chunk(zstd::zstd_safe::zstd_sys::ZSTD_EndDirective::ZSTD_e_end)?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ZstdDpkgWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.chunk_size - self.chunk.len();
        let n = room.min(buf.len());
        self.chunk.extend_from_slice(&buf[..n]);
        if self.chunk.len() == self.chunk_size {
            self.compress_chunk(zstd::zstd_safe::zstd_sys::ZSTD_EndDirective::ZSTD_e_continue)?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        // Flushing mid-stream would change the frame; only `finish` ends it.
        self.out.flush()
    }
}

fn zstd_err(code: usize) -> io::Error {
    io::Error::other(format!("zstd: {}", zstd::zstd_safe::get_error_name(code)))
}

/// Memory the xz decoder may use on untrusted input (xz -9 needs 65 MiB).
const XZ_DECODER_MEMLIMIT: u64 = 128 << 20;
/// Largest zstd window accepted on untrusted input (2^27 = 128 MiB, zstd's own default cap).
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// Returns a streaming decoder for `compressor` over `input`, with bounded memory.
pub fn decoder<'a, R: Read + 'a>(
    compressor: Compressor,
    input: R,
    member: &str,
) -> Result<Box<dyn Read + 'a>> {
    let err = |e: io::Error| Error::Compression {
        member: member.to_owned(),
        reason: format!("cannot set up the {compressor} decoder: {e}"),
    };
    Ok(match compressor {
        Compressor::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Compressor::Xz => {
            let stream = xz2::stream::Stream::new_stream_decoder(
                XZ_DECODER_MEMLIMIT,
                xz2::stream::CONCATENATED,
            )
            .map_err(|e| err(io::Error::other(e)))?;
            Box::new(xz2::read::XzDecoder::new_stream(
                io::BufReader::new(input),
                stream,
            ))
        }
        Compressor::Zstd => {
            let mut d = zstd::stream::read::Decoder::new(input).map_err(err)?;
            d.window_log_max(ZSTD_WINDOW_LOG_MAX).map_err(err)?;
            Box::new(d)
        }
        Compressor::None => Box::new(input),
    })
}
