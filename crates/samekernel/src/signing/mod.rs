//! Two-stage reproducible module signing (the kernel's reproducible-builds notes,
//! "Module signing"): witnesses can rebuild and testify about the modules without ever
//! holding the signing key, and users still get a kernel that refuses unsigned modules.
//!
//! | stage | who | what | here |
//! |---|---|---|---|
//! | 1 | everyone | build with the *certificate* of a persistent key built in (`CONFIG_SYSTEM_TRUSTED_KEYS`), `MODULE_SIG_FORCE`, `MODULE_SIG_KEY=""`, `MODULE_SIG_ALL` off: unsigned modules, the same bytes for all | [`cert`]: `BuildPlan::module_cert` (`kernel-deb build --module-cert CERT`) |
//! | sign | the key holder | a detached signature per `.ko` of the unsigned image, one artefact with an index and its own sha256 | [`sign_modules`] (`kernel-deb sign-modules`) |
//! | 2 | anyone | append the signatures, pack the signed image | [`attach_signatures`] (`kernel-deb attach-signatures`) |
//! | check | witnesses, users | the signed package differs from the testified unsigned one only by valid signatures | [`check_signed`] (`kernel-deb verify-signed`) |
//!
//! ```no_run
//! use std::path::Path;
//! use samekernel::signing::{attach_signatures, check_signed, sign_modules};
//!
//! let unsigned = Path::new("out/linux-image-6.12.117-samekernel_6.12.117-1+sk.0123456789ab_amd64.deb");
//! let cert = Path::new("/etc/samekernel/module-cert.pem");
//! let key = modsign::Key::File("/secure/module-key.pem".into());
//!
//! // The key holder, once per release:
//! let published = sign_modules(unsigned, cert, &key, Path::new("signatures"))?;
//! println!("{}  {}", published.sha256, published.path.display());
//!
//! // Anyone, with the artefact:
//! let signed = attach_signatures(unsigned, &published.path, cert, Path::new("signed"))?;
//!
//! // A witness who testified about `unsigned`:
//! let check = check_signed(unsigned, &signed, cert)?;
//! assert!(check.passes(), "{:?}", check.differences);
//! # Ok::<(), samekernel::signing::SigningError>(())
//! ```
//!
//! The key is never read by samekernel (openssl is given its path or `pkcs11:` URI),
//! a key file inside the output directory or beside the unsigned package is refused
//! ([`refuse_key_inside`]), and a "certificate" file holding a private key is refused
//! before anything is copied into a build tree ([`cert::CertError::HoldsPrivateKey`]).

use std::path::{Path, PathBuf};

pub mod artefact;
pub mod cert;
pub mod check;
pub mod deb;
pub mod stage2;
#[cfg(test)]
mod tests;

pub use modsign::pkcs11::pin_value_in;
pub use modsign::{Key, Openssl};

pub use artefact::{ArtefactError, ModuleSignature, SignatureSet};
pub use cert::{CertError, ModuleCert, ModuleSigningGate};
pub use check::{Difference, SignatureProblem, SignedCheck, check_signed};
pub use stage2::{
    PublishedSignatures, SIGNED_VERSION_SUFFIX, attach_signatures, refuse_key_inside, sign_modules,
    signed_version,
};

/// Why signing, attaching or checking failed (a failed *check* is not an error: see
/// [`SignedCheck::differences`]).
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The certificate cannot be used.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// A package could not be read or written.
    #[error(transparent)]
    Deb(#[from] deb::DebError),
    /// The signature artefact cannot be read.
    #[error(transparent)]
    Artefact(#[from] ArtefactError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A hash could not be computed.
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
    /// The key file is inside a directory whose contents may be published.
    #[error("{}: the signing key is inside {}; keep it outside the source tree, work and output directories", key.display(), dir.display())]
    KeyInside {
        /// The key.
        key: PathBuf,
        /// The directory.
        dir: PathBuf,
    },
    /// The unsigned package already carries a signed module.
    #[error("{path}: already signed (stage 1 packages carry unsigned modules)")]
    AlreadySigned {
        /// The module.
        path: String,
    },
    /// openssl could not sign.
    #[error("{path}: signing failed: {source}")]
    Sign {
        /// The module.
        path: String,
        /// Why.
        source: modsign::OpensslError,
    },
    /// A fresh signature does not verify against the certificate (wrong key for it).
    #[error("{path}: the signature does not verify against the certificate: {source}")]
    KeyNotForCert {
        /// The module.
        path: String,
        /// Why.
        source: modsign::VerifyError,
    },
    /// The artefact is for another package or certificate.
    #[error("{}: does not match {what}", artefact.display())]
    ArtefactMismatch {
        /// The artefact.
        artefact: PathBuf,
        /// What differs.
        what: &'static str,
    },
    /// A module of the package has no signature in the artefact.
    #[error("{path}: no signature in the artefact")]
    NoSignature {
        /// The module.
        path: String,
    },
    /// The artefact signs a module the package does not have.
    #[error("{path}: signed in the artefact but not in the package")]
    NotInPackage {
        /// The module.
        path: String,
    },
    /// A module is not the one that was signed.
    #[error("{path}: the module's sha256 is not the one the artefact signed")]
    ModuleChanged {
        /// The module.
        path: String,
    },
    /// A signature cannot be appended.
    #[error("{path}: {source}")]
    Trailer {
        /// The module.
        path: String,
        /// Why.
        source: modsign::TrailerError,
    },
    /// The package lacks a control field.
    #[error("{}: control has no {field}", path.display())]
    MissingField {
        /// The package.
        path: PathBuf,
        /// The field.
        field: &'static str,
    },
    /// The output file exists already.
    #[error("{}: already exists", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
}

/// The directory a file is in (`.` for a bare name).
pub(crate) fn parent_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
