//! Stage 1: the pinned module-signing certificate in the build.
//!
//! The certificate (PEM) is copied, certificate blocks only, to a *fixed relative path*
//! in the object tree, `certs/samekernel-module-cert-<16 hex of its sha256>.pem`, and
//! `CONFIG_SYSTEM_TRUSTED_KEYS` names that path: the string lands in the embedded
//! `.config`, so it must not depend on where the build runs, and naming the digest in it
//! binds the certificate into the config's sha256 (and so the package version).

use std::fs;
use std::path::{Path, PathBuf};

use kbuild_env::KernelConfig;
use sha2::{Digest, Sha256};

use crate::gate::{ConfigGate, Finding, Severity};
use crate::record::hex;

/// The largest certificate file read (a few certificates are a few KiB).
const MAX_CERT_FILE: u64 = 1 << 20;

/// Why the module certificate cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// It could not be read or placed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds a private key: it would be copied into the build tree.
    #[error("{}: holds a private key; give the certificate only (the key never enters a build)", path.display())]
    HoldsPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// No `-----BEGIN CERTIFICATE-----` block, or more than one, or too large.
    #[error("{}: {problem}", path.display())]
    NotACertificate {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// openssl cannot read it.
    #[error("{}: {source}", path.display())]
    Openssl {
        /// The file.
        path: PathBuf,
        /// openssl's complaint.
        source: modsign::OpensslError,
    },
}

/// The persistent module-signing certificate a build pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleCert {
    /// Where it was read from.
    pub path: PathBuf,
    /// The one PEM certificate block, as placed in the tree.
    pub pem: String,
    /// sha256 of [`ModuleCert::pem`] (the build record's `module-cert-sha256`).
    pub sha256: String,
}

impl ModuleCert {
    /// Reads and checks `path`: exactly one PEM certificate that openssl reads, and no
    /// private key anywhere in the file.
    pub fn load(path: &Path) -> Result<ModuleCert, CertError> {
        let io = |source| CertError::Io {
            path: path.to_path_buf(),
            source,
        };
        let not = |problem: &str| CertError::NotACertificate {
            path: path.to_path_buf(),
            problem: problem.to_owned(),
        };
        let mut text = String::new();
        let file = safe_extract::regular::open_regular(path).map_err(io)?;
        std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_CERT_FILE + 1), &mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_CERT_FILE {
            return Err(not("over 1 MiB: not a certificate file"));
        }
        if text.contains("PRIVATE KEY-----") {
            return Err(CertError::HoldsPrivateKey {
                path: path.to_path_buf(),
            });
        }
        let pem = single_certificate(&text).map_err(not)?;
        // openssl reads the copy we will place, not the file (which may hold more).
        let scratch = tempfile::NamedTempFile::new().map_err(io)?;
        fs::write(scratch.path(), &pem).map_err(io)?;
        modsign::Openssl::default()
            .certificate_subject(scratch.path())
            .map_err(|source| CertError::Openssl {
                path: path.to_path_buf(),
                source,
            })?;
        let sha256 = hex(&Sha256::digest(pem.as_bytes()));
        Ok(ModuleCert {
            path: path.to_path_buf(),
            pem,
            sha256,
        })
    }

    /// The certificate's path relative to the object tree (`CONFIG_SYSTEM_TRUSTED_KEYS`).
    pub fn tree_path(&self) -> String {
        format!("certs/samekernel-module-cert-{}.pem", &self.sha256[..16])
    }

    /// Writes the certificate to [`ModuleCert::tree_path`] under `obj`.
    pub fn place(&self, obj: &Path) -> Result<PathBuf, CertError> {
        let path = obj.join(self.tree_path());
        let io = |source| CertError::Io {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(path.parent().expect("has a parent")).map_err(io)?;
        fs::write(&path, &self.pem).map_err(io)?;
        Ok(path)
    }

    /// The Kconfig fragment of stage 1: signature checking on and enforced (sha512,
    /// KSPP), no key and no signing in the build, the certificate as a trusted key, RSA
    /// and SHA-512 built in (the kernel cannot load the module that would verify a
    /// module), SHA-256 built in (Debian's kernel hashes every validly signed module with
    /// sha256 to look it up in the blacklist, and fails the load with ENOENT without
    /// it), no module compression (signatures cover the modules as packaged).
    pub fn fragment(&self) -> String {
        format!(
            "# samekernel two-stage module signing (stage 1): the pinned certificate\n\
             # (sha256 {}) is a trusted key; modules are signed after the build.\n\
             CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_FORCE=y\n# CONFIG_MODULE_SIG_ALL is not set\n\
             CONFIG_MODULE_SIG_SHA512=y\nCONFIG_MODULE_SIG_KEY=\"\"\nCONFIG_MODULE_SIG_KEY_TYPE_RSA=y\n\
             CONFIG_SYSTEM_TRUSTED_KEYRING=y\nCONFIG_SYSTEM_TRUSTED_KEYS=\"{}\"\n\
             CONFIG_CRYPTO_RSA=y\nCONFIG_CRYPTO_SHA512=y\nCONFIG_CRYPTO_SHA256=y\n\
             # CONFIG_MODULE_COMPRESS is not set\n",
            self.sha256,
            self.tree_path()
        )
    }

    /// The gate that checks the resolved config really is stage 1 for this certificate.
    pub fn gate(&self) -> ModuleSigningGate {
        ModuleSigningGate {
            trusted_keys: self.tree_path(),
        }
    }
}

/// The one `CERTIFICATE` block of `text`, normalized to LF line ends.
fn single_certificate(text: &str) -> Result<String, &'static str> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start..];
        let end = after
            .find(END)
            .ok_or("a certificate block has no END line")?;
        blocks.push(&after[..end + END.len()]);
        rest = &after[end + END.len()..];
    }
    match blocks.as_slice() {
        [] => Err("no PEM certificate (-----BEGIN CERTIFICATE-----)"),
        [one] => Ok(one.lines().map(|l| format!("{}\n", l.trim_end())).collect()),
        _ => Err("more than one certificate: pin exactly one"),
    }
}

/// Refuses a resolved config that is not stage 1 of two-stage signing for the pinned
/// certificate: each wrong option is a blocking finding naming it.
#[derive(Debug, Clone)]
pub struct ModuleSigningGate {
    trusted_keys: String,
}

impl ConfigGate for ModuleSigningGate {
    fn name(&self) -> &'static str {
        "module-signing"
    }

    fn check(&self, c: &KernelConfig) -> Vec<Finding> {
        let string = |sym: &str| c.get(sym).and_then(|v| v.as_str());
        let yes = |sym: &str| matches!(c.get(sym), Some(kbuild_env::config::ConfigValue::Yes));
        let wants: [(&str, bool, &str); 9] = [
            (
                "CONFIG_MODULE_SIG",
                yes("CONFIG_MODULE_SIG"),
                "module signature checking must be on",
            ),
            (
                "CONFIG_MODULE_SIG_FORCE",
                yes("CONFIG_MODULE_SIG_FORCE"),
                "unsigned modules must be refused",
            ),
            (
                "CONFIG_MODULE_SIG_ALL",
                !c.is_enabled("CONFIG_MODULE_SIG_ALL"),
                "the build must not sign (no key in stage 1)",
            ),
            (
                "CONFIG_MODULE_SIG_KEY",
                string("CONFIG_MODULE_SIG_KEY") == Some(""),
                "must be \"\": kbuild would otherwise generate or use a key",
            ),
            (
                "CONFIG_SYSTEM_TRUSTED_KEYS",
                string("CONFIG_SYSTEM_TRUSTED_KEYS") == Some(self.trusted_keys.as_str()),
                "must name the pinned certificate's fixed path",
            ),
            (
                "CONFIG_CRYPTO_RSA",
                yes("CONFIG_CRYPTO_RSA"),
                "RSA must be built in to verify signatures",
            ),
            (
                "CONFIG_CRYPTO_SHA512",
                yes("CONFIG_CRYPTO_SHA512"),
                "SHA-512 must be built in to verify signatures",
            ),
            (
                "CONFIG_CRYPTO_SHA256",
                yes("CONFIG_CRYPTO_SHA256"),
                "SHA-256 must be built in: Debian's kernel hashes each signed module with it for the blacklist",
            ),
            (
                "CONFIG_MODULE_COMPRESS",
                !c.is_enabled("CONFIG_MODULE_COMPRESS")
                    || c.is_enabled("CONFIG_MODULE_COMPRESS_NONE"),
                "compressed modules cannot carry detached signatures here",
            ),
        ];
        wants
            .into_iter()
            .filter(|(_, ok, _)| !ok)
            .map(|(sym, _, why)| Finding {
                gate: "module-signing",
                severity: Severity::Blocking,
                item: sym.to_owned(),
                message: format!(
                    "{sym} is {}: {why} (two-stage module signing)",
                    c.get(sym)
                        .map_or_else(|| "not set".to_owned(), ToString::to_string)
                ),
            })
            .collect()
    }
}
