//! One file's two versions: unwrap nested compression, then explain the
//! difference as ELF, kernel payload, text or bytes.

use std::io::Read;

use detdeb::Compressor;

use crate::limits::Limits;
use crate::report::{CauseKind, Finding, ItemDiff};
use crate::{elf, kernel, strings, text};

/// Explains why `a` and `b` (the two versions of `name`) differ, into `item`.
pub fn explain(item: &mut ItemDiff, name: &str, a: &[u8], b: &[u8], limits: &Limits) {
    explain_at(item, name, a, b, limits, 0);
    if item.causes.is_empty() && a != b {
        item.causes.push(Finding::new(
            CauseKind::Bytes,
            "bytes outside every inspected part (headers or padding)",
        ));
    }
    item.sort_causes();
}

fn explain_at(item: &mut ItemDiff, name: &str, a: &[u8], b: &[u8], limits: &Limits, depth: u32) {
    if a == b {
        return;
    }
    if depth < limits.max_nesting
        && let Some((codec, inner)) = nested_codec(name, a, b)
    {
        let nesting = Nesting {
            codec,
            inner,
            decode: decompress,
            same_inside: Finding::new(
                CauseKind::Compression,
                format!(
                    "{codec} stream only (header or settings; the decompressed {inner} is identical)"
                ),
            ),
        };
        return explain_nested(item, nesting, a, b, limits, depth);
    }
    if let (Some(pa), Some(pb)) = (kernel::bzimage_payload(a), kernel::bzimage_payload(b)) {
        return explain_bzimage(item, name, pa, pb, limits, depth);
    }
    match (
        kernel::split_module_signature(a),
        kernel::split_module_signature(b),
    ) {
        (Some(sa), Some(sb)) if sa.body == sb.body => {
            item.causes.push(Finding::new(
                CauseKind::ModuleSignature,
                "module signature appendix only (the module body is identical)",
            ));
            return;
        }
        (Some(sa), Some(sb)) => {
            item.notes
                .push("signature appendix differs too (it signs the differing body)".into());
            return explain_at(item, name, sa.body, sb.body, limits, depth);
        }
        (Some(_), None) | (None, Some(_)) => item.causes.push(Finding::new(
            CauseKind::ModuleSignature,
            "module signed on one side only",
        )),
        (None, None) => {}
    }
    explain_leaf(item, name, a, b, limits);
}

fn explain_leaf(item: &mut ItemDiff, name: &str, a: &[u8], b: &[u8], limits: &Limits) {
    explain_ikconfig(item, a, b, limits);
    match (elf::parse(a), elf::parse(b)) {
        (Some(Ok(ea)), Some(Ok(eb))) => return elf::classify(&ea, &eb, limits, item),
        (Some(Err(e)), _) | (_, Some(Err(e))) => item.notes.push(e),
        _ => {}
    }
    if text::is_text(a) && text::is_text(b) {
        return explain_text(item, name, a, b, limits);
    }
    let (oa, ob) = strings::one_sided(
        &strings::printable_strings(a, limits.max_strings),
        &strings::printable_strings(b, limits.max_strings),
    );
    item.causes
        .extend(strings::classify(&oa, &ob, "strings", limits));
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    item.causes.push(Finding::new(
        CauseKind::Bytes,
        format!(
            "bytes ({} vs {} bytes, first difference at offset {at})",
            a.len(),
            b.len()
        ),
    ));
}

fn explain_text(item: &mut ItemDiff, name: &str, a: &[u8], b: &[u8], limits: &Limits) {
    let (ta, tb) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let diff = text::line_diff(&ta, &tb);
    item.text_diff = Some(text::render_unified(&diff, name, limits.max_diff_lines));
    let (removed, added) = text::changed_lines(&diff);
    item.causes
        .extend(strings::classify(&removed, &added, "changed lines", limits));
    item.causes.push(Finding::new(CauseKind::Text, "text"));
}

fn explain_ikconfig(item: &mut ItemDiff, a: &[u8], b: &[u8], limits: &Limits) {
    match (kernel::ikconfig(a, limits), kernel::ikconfig(b, limits)) {
        (Some(Ok(ca)), Some(Ok(cb))) if ca != cb => {
            item.causes.push(Finding::new(
                CauseKind::EmbeddedConfig,
                "IKCONFIG payload (kernel/configs)",
            ));
            item.text_diff = Some(text::unified(
                &ca,
                &cb,
                ".config (IKCONFIG)",
                limits.max_diff_lines,
            ));
        }
        (Some(Err(e)), _) | (_, Some(Err(e))) => item.notes.push(e),
        (Some(_), None) | (None, Some(_)) => item.causes.push(Finding::new(
            CauseKind::EmbeddedConfig,
            "IKCONFIG payload on one side only",
        )),
        _ => {}
    }
}

/// `(codec, inner name)` when both sides are the same kind of compressed stream.
fn nested_codec<'n>(name: &'n str, a: &[u8], b: &[u8]) -> Option<(Compressor, &'n str)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let (codec, magic): (Compressor, &[u8]) = match ext {
        "gz" => (Compressor::Gzip, b"\x1f\x8b"),
        "xz" => (Compressor::Xz, b"\xfd7zXZ\0"),
        "zst" => (Compressor::Zstd, b"\x28\xb5\x2f\xfd"),
        _ => return None,
    };
    (a.starts_with(magic) && b.starts_with(magic)).then_some((codec, stem))
}

/// Decompresses `data`, refusing more than `limit` bytes of output.
pub fn decompress(
    codec: Compressor,
    data: &[u8],
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let dec = detdeb::compress::decoder(codec, data, name).map_err(|e| e.to_string())?;
    read_bounded(dec, codec, name, limit)
}

/// Reads all of `r`, refusing more than `limit` bytes.
fn read_bounded(
    r: impl Read,
    codec: Compressor,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    r.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("{name}: {codec} stream: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!(
            "{name}: decompresses to more than the limit of {limit} bytes"
        ));
    }
    Ok(out)
}

/// A bounded decompression: (codec, bytes, name for messages, limit).
type Decoder = fn(Compressor, &[u8], &str, u64) -> Result<Vec<u8>, String>;

/// How a nested stream is unwrapped, and what equal insides mean.
struct Nesting<'n> {
    codec: Compressor,
    inner: &'n str,
    decode: Decoder,
    same_inside: Finding,
}

fn explain_nested(
    item: &mut ItemDiff,
    n: Nesting<'_>,
    a: &[u8],
    b: &[u8],
    limits: &Limits,
    depth: u32,
) {
    let decode = |d: &[u8]| (n.decode)(n.codec, d, n.inner, limits.max_decompressed);
    match decode(a).and_then(|x| Ok((x, decode(b)?))) {
        Ok((da, db)) if da == db => item.causes.push(n.same_inside),
        Ok((da, db)) => {
            item.notes
                .push(format!("compared after {} decompression", n.codec));
            explain_at(item, n.inner, &da, &db, limits, depth + 1);
        }
        Err(e) => {
            item.notes.push(format!("not decompressed: {e}"));
            explain_leaf(item, n.inner, a, b, limits);
        }
    }
}

fn explain_bzimage(
    item: &mut ItemDiff,
    name: &str,
    pa: kernel::BzPayload<'_>,
    pb: kernel::BzPayload<'_>,
    limits: &Limits,
    depth: u32,
) {
    if pa.setup != pb.setup {
        item.notes.push("bzImage setup code/header differs".into());
    }
    let codec = match (pa.codec, pb.codec) {
        ("gzip", "gzip") => Compressor::Gzip,
        ("xz", "xz") => Compressor::Xz,
        ("zstd", "zstd") => Compressor::Zstd,
        (x, y) => {
            item.notes
                .push(format!("bzImage payload ({x} / {y}) not decoded"));
            return explain_leaf(item, name, pa.payload, pb.payload, limits);
        }
    };
    // Kernel payloads end with a 4-byte size after the stream; decoders stop at
    // the stream's end, so only the stream is read.
    let vmlinux = format!("{name} (payload vmlinux)");
    let nesting = Nesting {
        codec,
        inner: &vmlinux,
        decode: decompress_first_stream,
        same_inside: Finding::new(
            CauseKind::Code,
            "bzImage setup code/header only (the payload decompresses to the same vmlinux)",
        ),
    };
    explain_nested(item, nesting, pa.payload, pb.payload, limits, depth);
}

/// Memory the xz decoder may use on a payload (xz -9 needs 65 MiB; liblzma refused a
/// 6.12 x86 bzImage payload with 128 MiB).
const XZ_MEMLIMIT: u64 = 256 << 20;

/// Like [`decompress`] but reads a single stream and ignores what follows it (a
/// bzImage payload ends with its 4-byte size after the stream).
pub fn decompress_first_stream(
    codec: Compressor,
    data: &[u8],
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let r: Box<dyn Read> = match codec {
        Compressor::Gzip => Box::new(flate2::read::GzDecoder::new(data)),
        Compressor::Xz => {
            let s = xz2::stream::Stream::new_stream_decoder(XZ_MEMLIMIT, 0)
                .map_err(|e| e.to_string())?;
            Box::new(xz2::read::XzDecoder::new_stream(data, s))
        }
        Compressor::Zstd => {
            let mut d = zstd::stream::read::Decoder::new(data)
                .map_err(|e| e.to_string())?
                .single_frame();
            d.window_log_max(27).map_err(|e| e.to_string())?;
            Box::new(d)
        }
        Compressor::None => Box::new(data),
    };
    read_bounded(r, codec, name, limit)
}
