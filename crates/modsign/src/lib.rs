//! Linux kernel module signatures, for signing *after* a reproducible build.
//!
//! A kernel with `CONFIG_MODULE_SIG` checks each module it loads for a signature appended
//! to the file by `scripts/sign-file`. When kbuild signs during the build with a key it
//! generated (`MODULE_SIG_ALL`, `MODULE_SIG_KEY=certs/signing_key.pem`), no two builds
//! are the same. The kernel's reproducible-builds notes describe the way out: build with
//! only the *certificate* of a persistent key built in, no key, no signing; sign the
//! modules afterwards, out of band; attach the signatures. This crate is the format and
//! the two cryptographic steps of that scheme, and nothing else (no .deb, no kbuild).
//!
//! # The trailer
//!
//! [`trailer`] reads and writes what `sign-file` appends: the CMS signature (DER), a
//! 12-byte `struct module_signature` (`id_type` = PKCS#7, `sig_len` big-endian) and the
//! magic `"~Module signature appended~\n"`, with the kernel's own checks and typed
//! errors for hostile input.
//!
//! ```
//! use modsign::trailer::{self, TrailerError};
//!
//! let module = b"\x7fELF...the module...".to_vec();
//! let signature = b"\x30\x82...DER CMS...".to_vec();
//! let signed = trailer::append(&module, &signature)?;
//! assert!(signed.ends_with(trailer::MAGIC));
//!
//! let parts = trailer::split(&signed)?.expect("signed");
//! assert_eq!(parts.body, &module[..]);
//! assert_eq!(parts.signature, &signature[..]);
//!
//! // An unsigned module has no trailer; a second signature is refused.
//! assert_eq!(trailer::split(&module)?, None);
//! assert_eq!(trailer::append(&signed, &signature), Err(TrailerError::AlreadySigned));
//! # Ok::<(), TrailerError>(())
//! ```
//!
//! # Signing and verifying
//!
//! [`Openssl::sign`] makes the detached signature with the flags `sign-file` uses (binary,
//! detached, no certificates, no signed attributes); the key is a PEM file or a `pkcs11:`
//! URI ([`Key`]). [`Openssl::verify`] checks a signature against one pinned certificate
//! and says why it fails ([`VerifyError::UnknownSigner`] for another key,
//! [`VerifyError::BadSignature`] for changed bytes). [`sign_module`] and
//! [`verify_module`] do both steps on whole module files.
//!
//! ```no_run
//! use std::path::Path;
//! use modsign::{Digest, Key, Openssl};
//!
//! let openssl = Openssl::default();
//! let cert = Path::new("/etc/signing/module-cert.pem");
//! let key = Key::File("/etc/signing/module-key.pem".into());
//! let module = std::fs::read("test_module.ko")?;
//!
//! // Stage 1 output is unsigned; the signature travels on its own…
//! let signature = openssl.sign(&module, cert, &key, Digest::Sha512)?;
//! // …and stage 2 appends it.
//! let signed = modsign::trailer::append(&module, &signature)?;
//! modsign::verify_module(&openssl, &signed, cert)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A persistent key of the kind kbuild would generate (RSA, self-signed, the extensions of
//! `certs/default_x509.genkey`) is made once with [`Openssl::new_signing_key`]:
//!
//! ```no_run
//! # use std::path::Path;
//! modsign::Openssl::default().new_signing_key(
//!     Path::new("/secure/module-key.pem"),
//!     Path::new("/etc/samekernel/module-cert.pem"),
//!     "Example distribution module signing",
//!     4096,
//! )?;
//! # Ok::<(), modsign::OpensslError>(())
//! ```
//!
//! With an RSA key the signature is deterministic (PKCS#1 v1.5, no signing time), so
//! signing the same module twice gives the same bytes; ECDSA signatures differ per run
//! (random nonce) but verify all the same.
//!
//! # Keys on a token
//!
//! `Key::Pkcs11("pkcs11:token=…;object=…;type=private;pin-value=…")` signs through
//! openssl's `pkcs11` engine (Debian: `libengine-pkcs11-openssl`); the token's module is
//! found through p11-kit, and [`Openssl::env`] passes what it reads (e.g.
//! `SOFTHSM2_CONF`). The signature is the same bytes as with the key as a PEM file
//! (`tests/pkcs11.rs` proves it on a SoftHSM2 token). A refused key is an
//! [`OpensslError::Pkcs11`] naming the URI and a [`Pkcs11Problem`]; the PIN is never in
//! an error or a `Debug` string ([`pkcs11::redact_pin`]):
//!
//! ```
//! use modsign::{Key, pkcs11::redact_pin};
//!
//! let key = Key::Pkcs11("pkcs11:token=hsm;object=modkey;type=private;pin-value=1234".into());
//! assert!(!format!("{key:?}").contains("1234"));
//! assert_eq!(
//!     redact_pin("pkcs11:object=modkey;pin-value=1234"),
//!     "pkcs11:object=modkey;pin-value=<redacted>"
//! );
//! ```
//!
//! Without `pin-value` the engine asks for the PIN on the terminal.
//!
//! # Invariants
//!
//! * The key is only ever *named* to openssl: never read, copied or written by this crate.
//! * A `pkcs11:` URI's `pin-value` is redacted in every error and `Debug` output.
//! * Children are fed and drained through files, never through a pipe we fill.
//! * Every parse of untrusted bytes ([`trailer::split`]) is bounded by the input's length
//!   and returns a typed error; it is fuzzed (`fuzz/fuzz_targets/modsign_trailer.rs`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod openssl;
pub mod pkcs11;
pub mod trailer;

pub use openssl::{Digest, Key, Openssl, OpensslError, VerifyError};
pub use pkcs11::Pkcs11Problem;
pub use trailer::{Signed, TrailerError};

/// Why a module's appended signature is not valid for the pinned certificate.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The module carries no signature.
    #[error("the module is not signed")]
    Unsigned,
    /// The trailer is malformed.
    #[error(transparent)]
    Trailer(#[from] TrailerError),
    /// The signature does not verify.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// `module` with a fresh signature by `key` appended (what `sign-file` does in place).
pub fn sign_module(
    openssl: &Openssl,
    module: &[u8],
    cert: &std::path::Path,
    key: &Key,
    digest: Digest,
) -> Result<Vec<u8>, ModuleError> {
    if module.ends_with(trailer::MAGIC) {
        return Err(TrailerError::AlreadySigned.into());
    }
    let signature = openssl
        .sign(module, cert, key, digest)
        .map_err(VerifyError::from)?;
    Ok(trailer::append(module, &signature)?)
}

/// Checks that `module` carries a well-formed signature made by `cert`'s key over the
/// rest of its bytes; returns the split module.
pub fn verify_module<'a>(
    openssl: &Openssl,
    module: &'a [u8],
    cert: &std::path::Path,
) -> Result<Signed<'a>, ModuleError> {
    let parts = trailer::split(module)?.ok_or(ModuleError::Unsigned)?;
    openssl.verify(parts.body, parts.signature, cert)?;
    Ok(parts)
}
