//! The appended-signature trailer of a kernel module, as `scripts/sign-file` writes it
//! and the kernel's `mod_check_sig` reads it:
//!
//! ```text
//! <module body> <CMS signature, DER> <struct module_signature, 12 bytes> "~Module signature appended~\n"
//! ```
//!
//! `struct module_signature` is `algo`, `hash`, `id_type`, `signer_len`, `key_id_len`
//! (one byte each), three pad bytes and `sig_len` (big-endian u32). For a CMS/PKCS#7
//! signature everything but `id_type` (= [`PKEY_ID_PKCS7`]) and `sig_len` is zero, and
//! the kernel refuses anything else.

/// The magic string that ends a signed module.
pub const MAGIC: &[u8] = b"~Module signature appended~\n";
/// Size of `struct module_signature`.
pub const INFO_LEN: usize = 12;
/// `id_type` of a signature in a PKCS#7/CMS message (the only kind the kernel accepts).
pub const PKEY_ID_PKCS7: u8 = 2;
/// The largest signature [`append`] writes (the kernel has no limit below `u32`; real
/// signatures are a few hundred bytes, so anything near this is a mistake).
pub const MAX_SIGNATURE_LEN: usize = 1 << 20;

/// Why a trailer is malformed or cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrailerError {
    /// The module ends with the magic but is too short to hold the information block.
    #[error("ends with the signature magic but has only {len} bytes (need at least {})", MAGIC.len() + INFO_LEN)]
    Truncated {
        /// The module's length.
        len: usize,
    },
    /// `id_type` is not PKCS#7 (PGP and X.509 ids are refused by the kernel too).
    #[error("signature id_type is {0}, expected {PKEY_ID_PKCS7} (PKCS#7)")]
    NotPkcs7(u8),
    /// A field that must be zero for PKCS#7 is not.
    #[error("signature information field {field} is {value}, expected 0")]
    NonZeroField {
        /// `algo`, `hash`, `signer_len`, `key_id_len` or `pad`.
        field: &'static str,
        /// Its value.
        value: u8,
    },
    /// `sig_len` is zero.
    #[error("signature length is 0")]
    EmptySignature,
    /// `sig_len` claims more bytes than precede the information block.
    #[error("signature length {sig_len} exceeds the {available} bytes before the trailer")]
    SignatureTooLong {
        /// The claimed length.
        sig_len: u32,
        /// The bytes available.
        available: usize,
    },
    /// [`append`] was given a module that already carries a signature.
    #[error("the module is already signed")]
    AlreadySigned,
    /// [`append`] was given a signature over [`MAX_SIGNATURE_LEN`].
    #[error("signature of {0} bytes is over the {MAX_SIGNATURE_LEN}-byte limit")]
    SignatureTooLarge(usize),
}

/// A signed module split into its parts (borrowed from the module's bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    /// The module as it was before signing.
    pub body: &'a [u8],
    /// The CMS signature (DER), as given to [`append`].
    pub signature: &'a [u8],
}

/// Splits `module` into body and signature; `Ok(None)` when it carries no trailer (does
/// not end with [`MAGIC`]). Checks the information block as the kernel does.
pub fn split(module: &[u8]) -> Result<Option<Signed<'_>>, TrailerError> {
    let Some(rest) = module.strip_suffix(MAGIC) else {
        return Ok(None);
    };
    if rest.len() < INFO_LEN {
        return Err(TrailerError::Truncated { len: module.len() });
    }
    let (before, info) = rest.split_at(rest.len() - INFO_LEN);
    if info[2] != PKEY_ID_PKCS7 {
        return Err(TrailerError::NotPkcs7(info[2]));
    }
    let named = [
        ("algo", info[0]),
        ("hash", info[1]),
        ("signer_len", info[3]),
        ("key_id_len", info[4]),
        ("pad", info[5] | info[6] | info[7]),
    ];
    if let Some(&(field, value)) = named.iter().find(|(_, v)| *v != 0) {
        return Err(TrailerError::NonZeroField { field, value });
    }
    let sig_len = u32::from_be_bytes([info[8], info[9], info[10], info[11]]);
    if sig_len == 0 {
        return Err(TrailerError::EmptySignature);
    }
    let n = usize::try_from(sig_len).unwrap_or(usize::MAX);
    // The kernel wants a non-empty body as well (sig_len < file_len - sizeof info).
    if n >= before.len() {
        return Err(TrailerError::SignatureTooLong {
            sig_len,
            available: before.len(),
        });
    }
    let (body, signature) = before.split_at(before.len() - n);
    Ok(Some(Signed { body, signature }))
}

/// The module without its signature (the module itself when unsigned).
pub fn strip(module: &[u8]) -> Result<&[u8], TrailerError> {
    Ok(split(module)?.map_or(module, |s| s.body))
}

/// The bytes appended after the body for `signature`: the signature, the information
/// block and [`MAGIC`].
pub fn trailer(signature: &[u8]) -> Result<Vec<u8>, TrailerError> {
    if signature.is_empty() {
        return Err(TrailerError::EmptySignature);
    }
    if signature.len() > MAX_SIGNATURE_LEN {
        return Err(TrailerError::SignatureTooLarge(signature.len()));
    }
    let mut out = Vec::with_capacity(signature.len() + INFO_LEN + MAGIC.len());
    out.extend_from_slice(signature);
    out.extend_from_slice(&[0, 0, PKEY_ID_PKCS7, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&(signature.len() as u32).to_be_bytes());
    out.extend_from_slice(MAGIC);
    Ok(out)
}

/// `body` with `signature` appended (what `sign-file` writes). Refuses an already
/// signed body: two trailers would verify the first signature over the wrong bytes.
pub fn append(body: &[u8], signature: &[u8]) -> Result<Vec<u8>, TrailerError> {
    if body.ends_with(MAGIC) {
        return Err(TrailerError::AlreadySigned);
    }
    let t = trailer(signature)?;
    let mut out = Vec::with_capacity(body.len() + t.len());
    out.extend_from_slice(body);
    out.extend_from_slice(&t);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_signed_module_splits_into_what_was_appended() {
        let signed = append(b"\x7fELF body", b"\x30\x82sig").unwrap();
        assert!(signed.ends_with(MAGIC));
        let s = split(&signed).unwrap().unwrap();
        assert_eq!(s.body, b"\x7fELF body");
        assert_eq!(s.signature, b"\x30\x82sig");
        assert_eq!(strip(&signed).unwrap(), b"\x7fELF body");
        assert_eq!(split(b"\x7fELF").unwrap(), None);
        assert_eq!(strip(b"\x7fELF").unwrap(), b"\x7fELF");
    }

    #[test]
    fn the_information_block_is_sign_files() {
        let t = trailer(&[0xAB; 300]).unwrap();
        let info = &t[300..312];
        assert_eq!(info, [0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 44]);
        assert_eq!(&t[312..], MAGIC);
    }

    #[test]
    fn malformed_trailers_are_named() {
        let good = append(b"body", b"sig").unwrap();
        let at = |i: usize, v: u8| {
            let mut m = good.clone();
            let k = m.len() - MAGIC.len() - INFO_LEN + i;
            m[k] = v;
            m
        };
        assert_eq!(split(&at(2, 1)), Err(TrailerError::NotPkcs7(1)));
        assert_eq!(
            split(&at(0, 5)),
            Err(TrailerError::NonZeroField {
                field: "algo",
                value: 5
            })
        );
        assert_eq!(
            split(&at(6, 1)),
            Err(TrailerError::NonZeroField {
                field: "pad",
                value: 1
            })
        );
        assert_eq!(split(&at(11, 0)), Err(TrailerError::EmptySignature));
        assert_eq!(
            split(&at(11, 7)),
            Err(TrailerError::SignatureTooLong {
                sig_len: 7,
                available: 7
            })
        );
        let short = [&b"12345"[..], MAGIC].concat();
        assert_eq!(
            split(&short),
            Err(TrailerError::Truncated { len: short.len() })
        );
        assert_eq!(append(&good, b"x"), Err(TrailerError::AlreadySigned));
        assert_eq!(append(b"b", b""), Err(TrailerError::EmptySignature));
        assert!(matches!(
            append(b"b", &vec![0; MAX_SIGNATURE_LEN + 1]),
            Err(TrailerError::SignatureTooLarge(_))
        ));
    }

    proptest! {
        #[test]
        fn append_then_split_round_trips(body in proptest::collection::vec(any::<u8>(), 1..300),
                                         sig in proptest::collection::vec(any::<u8>(), 1..300)) {
            prop_assume!(!body.ends_with(MAGIC));
            let signed = append(&body, &sig).unwrap();
            let s = split(&signed).unwrap().unwrap();
            prop_assert_eq!(s.body, &body[..]);
            prop_assert_eq!(s.signature, &sig[..]);
        }

        #[test]
        fn hostile_bytes_split_or_fail_within_the_input(
            head in proptest::collection::vec(any::<u8>(), 0..64),
            info in proptest::collection::vec(any::<u8>(), 0..16),
            magic in any::<bool>()) {
            let mut m = head;
            m.extend_from_slice(&info);
            if magic { m.extend_from_slice(MAGIC); }
            match split(&m) {
                Ok(Some(s)) => {
                    prop_assert!(!s.signature.is_empty() && !s.body.is_empty());
                    prop_assert_eq!(s.body.len() + s.signature.len() + INFO_LEN + MAGIC.len(), m.len());
                    prop_assert_eq!(&m[..s.body.len()], s.body);
                    let again = append(s.body, s.signature);
                    // A body that itself ends with the magic cannot be re-signed.
                    if let Ok(again) = again { prop_assert_eq!(again, m); }
                }
                Ok(None) => prop_assert!(!m.ends_with(MAGIC)),
                Err(_) => prop_assert!(m.ends_with(MAGIC)),
            }
        }
    }
}
