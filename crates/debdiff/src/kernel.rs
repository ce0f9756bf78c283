//! Kernel-specific payloads: the embedded `.config` (IKCONFIG), the module
//! signature appendix, and the compressed payload of a bzImage.

use std::io::Read;

use crate::limits::Limits;

/// Start marker of IKCONFIG's gzip payload (`kernel/configs.c`).
pub const IKCFG_START: &[u8] = b"IKCFG_ST";
/// End marker of IKCONFIG's gzip payload.
pub const IKCFG_END: &[u8] = b"IKCFG_ED";
/// The magic string ending a signed module (`include/linux/module_signature.h`).
pub const MODULE_SIG_MAGIC: &[u8] = b"~Module signature appended~\n";
/// Size of `struct module_signature` that precedes the magic.
const MODULE_SIG_INFO: usize = 12;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The embedded `.config` text, if the file carries an IKCONFIG payload.
/// `Err` when the markers are there but the payload does not decode in bounds.
pub fn ikconfig(data: &[u8], limits: &Limits) -> Option<Result<Vec<u8>, String>> {
    let start = find(data, IKCFG_START)? + IKCFG_START.len();
    let Some(len) = find(&data[start..], IKCFG_END) else {
        return Some(Err("IKCFG_ST without IKCFG_ED".into()));
    };
    Some(gunzip_bounded(
        &data[start..start + len],
        limits.max_decompressed,
    ))
}

fn gunzip_bounded(gz: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("IKCONFIG gzip payload: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!("IKCONFIG payload larger than {limit} bytes"));
    }
    Ok(out)
}

/// A module split into its body and its signature appendix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedModule<'d> {
    /// The ELF image before the appendix.
    pub body: &'d [u8],
    /// The PKCS#7 signature, `struct module_signature` and magic.
    pub signature: &'d [u8],
}

/// Splits a signed module; `None` when there is no (well-formed) appendix.
pub fn split_module_signature(data: &[u8]) -> Option<SignedModule<'_>> {
    let before_magic = data.len().checked_sub(MODULE_SIG_MAGIC.len())?;
    if &data[before_magic..] != MODULE_SIG_MAGIC {
        return None;
    }
    let info_at = before_magic.checked_sub(MODULE_SIG_INFO)?;
    let info = &data[info_at..before_magic];
    let sig_len = u32::from_be_bytes([info[8], info[9], info[10], info[11]]) as usize;
    let body_end = info_at.checked_sub(sig_len)?;
    Some(SignedModule {
        body: &data[..body_end],
        signature: &data[body_end..],
    })
}

/// The compressed payload of an x86 bzImage, and the codec it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BzPayload<'d> {
    /// The setup code and header before the protected-mode kernel.
    pub setup: &'d [u8],
    /// The payload bytes (`payload_offset`/`payload_length` of the setup header).
    pub payload: &'d [u8],
    /// Codec name from the payload's magic (`gzip`, `xz`, `zstd`, `lz4`, …).
    pub codec: &'static str,
}

fn le32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// Finds the payload through the boot protocol setup header (version ≥ 2.08).
pub fn bzimage_payload(data: &[u8]) -> Option<BzPayload<'_>> {
    if data.get(0x202..0x206)? != b"HdrS" {
        return None;
    }
    let version = u16::from_le_bytes(data.get(0x206..0x208)?.try_into().ok()?);
    if version < 0x0208 {
        return None;
    }
    let setup_sects = match *data.get(0x1f1)? {
        0 => 4,
        n => n as usize,
    };
    let pm_start = (setup_sects + 1) * 512;
    let off = pm_start.checked_add(le32(data, 0x248)? as usize)?;
    let len = le32(data, 0x24c)? as usize;
    let payload = data.get(off..off.checked_add(len)?)?;
    let codec = match payload {
        [0x1f, 0x8b, ..] => "gzip",
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => "xz",
        [0x28, 0xb5, 0x2f, 0xfd, ..] => "zstd",
        [0x02, 0x21, 0x4c, 0x18, ..] => "lz4",
        [b'B', b'Z', b'h', ..] => "bzip2",
        [0x89, b'L', b'Z', b'O', ..] => "lzo",
        [0x5d, 0, ..] => "lzma",
        _ => "unknown",
    };
    Some(BzPayload {
        setup: data.get(..pm_start)?,
        payload,
        codec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn signed(body: &[u8], sig: &[u8]) -> Vec<u8> {
        let mut v = body.to_vec();
        v.extend_from_slice(sig);
        let mut info = [0u8; MODULE_SIG_INFO];
        info[8..].copy_from_slice(&(sig.len() as u32).to_be_bytes());
        v.extend_from_slice(&info);
        v.extend_from_slice(MODULE_SIG_MAGIC);
        v
    }

    proptest! {
        #[test]
        fn module_signature_round_trip(body in proptest::collection::vec(any::<u8>(), 0..300),
                                       sig in proptest::collection::vec(any::<u8>(), 0..300)) {
            let v = signed(&body, &sig);
            let s = split_module_signature(&v).expect("well-formed appendix");
            prop_assert_eq!(s.body, &body[..]);
            prop_assert_eq!(s.signature.len(), sig.len() + MODULE_SIG_INFO + MODULE_SIG_MAGIC.len());
        }

        #[test]
        fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = split_module_signature(&data);
            let _ = bzimage_payload(&data);
            let _ = ikconfig(&data, &Limits::default());
        }

        #[test]
        fn ikconfig_round_trip(text in "[A-Z_=a-z0-9\n]{0,500}") {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
            let mut blob = b"junk".to_vec();
            blob.extend_from_slice(IKCFG_START);
            blob.extend_from_slice(&gz.finish().unwrap());
            blob.extend_from_slice(IKCFG_END);
            let got = ikconfig(&blob, &Limits::default()).unwrap().unwrap();
            prop_assert_eq!(got, text.into_bytes());
        }
    }

    #[test]
    fn bzimage_header() {
        let mut d = vec![0u8; 4096];
        d[0x1f1] = 1;
        d[0x202..0x206].copy_from_slice(b"HdrS");
        d[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
        d[0x248..0x24c].copy_from_slice(&16u32.to_le_bytes());
        d[0x24c..0x250].copy_from_slice(&6u32.to_le_bytes());
        d[1024 + 16..1024 + 22].copy_from_slice(&[0xfd, b'7', b'z', b'X', b'Z', 0]);
        let p = bzimage_payload(&d).unwrap();
        assert_eq!(p.codec, "xz");
        assert_eq!(p.payload.len(), 6);
        assert_eq!(p.setup.len(), 1024);
    }
}
