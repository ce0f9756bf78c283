//! Detached CMS signatures over a module body, made and checked with the `openssl` CLI.
//!
//! Signing uses the flags `scripts/sign-file` passes to `CMS_sign` (binary, detached, no
//! certificates, no signed attributes, no S/MIME capabilities), so the signature is what
//! the kernel's own tool would append; with an RSA key (PKCS#1 v1.5) and no signing-time
//! attribute it is also the same bytes every time. Verification trusts exactly one
//! certificate: the signer must be found in it (`-nointern -certfile`), and the
//! certificate's own chain is not walked (`-noverify`), as the kernel only asks whether a
//! key in its keyring made the signature.
//!
//! Every input and output goes through files in a private temporary directory: no child
//! ever holds more than a pipe's worth of our data, and its stdout/stderr are drained
//! together by [`std::process::Command::output`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::pkcs11::{Pkcs11Problem, redact_pin};

/// The private key that signs.
#[derive(Clone, PartialEq, Eq)]
pub enum Key {
    /// A PEM private key file (never copied, only named to openssl).
    File(PathBuf),
    /// A `pkcs11:` URI, used through openssl's `pkcs11` engine
    /// (Debian: `libengine-pkcs11-openssl`).
    Pkcs11(String),
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::File(p) => write!(f, "Key::File({})", p.display()),
            // A URI may carry `pin-value=`: never print it.
            Key::Pkcs11(uri) => write!(f, "Key::Pkcs11({})", redact_pin(uri)),
        }
    }
}

/// The digest of the signature (`CONFIG_MODULE_SIG_HASH`); must be built into the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Digest {
    /// sha256
    Sha256,
    /// sha384
    Sha384,
    /// sha512 (KSPP's recommendation, the kernel's default)
    #[default]
    Sha512,
}

impl Digest {
    /// openssl's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha256 => "sha256",
            Digest::Sha384 => "sha384",
            Digest::Sha512 => "sha512",
        }
    }
}

/// openssl could not be run, or failed.
#[derive(Debug, thiserror::Error)]
pub enum OpensslError {
    /// The program could not be started.
    #[error("cannot run {}: {source} (install openssl)", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A temporary file could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// openssl exited with an error.
    #[error("openssl {action} failed ({status}): {stderr}")]
    Failed {
        /// `cms -sign`, `x509`…
        action: &'static str,
        /// Its exit status.
        status: String,
        /// Its stderr, trimmed and cut to 1 KiB.
        stderr: String,
    },
    /// openssl could not sign with a `pkcs11:` key. Neither field holds the PIN: both
    /// went through [`redact_pin`].
    #[error("PKCS#11 key {uri}: {problem} ({status}): {stderr}")]
    Pkcs11 {
        /// The key's URI, `pin-value` redacted.
        uri: String,
        /// Why, as far as openssl's messages tell.
        problem: Pkcs11Problem,
        /// openssl's exit status.
        status: String,
        /// Its stderr, trimmed, cut to 1 KiB and `pin-value` redacted.
        stderr: String,
    },
}

/// Why a signature does not verify against the pinned certificate.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The signer is not the pinned certificate (signed by another key).
    #[error("not signed by the pinned certificate: {0}")]
    UnknownSigner(String),
    /// The signer is right but the signature does not match these bytes.
    #[error("the signature does not match the module's bytes: {0}")]
    BadSignature(String),
    /// The signature is not a CMS message openssl can read.
    #[error("the signature is not a readable CMS message: {0}")]
    Malformed(String),
    /// openssl could not be run.
    #[error(transparent)]
    Openssl(#[from] OpensslError),
}

/// The `openssl` program to run.
#[derive(Debug, Clone)]
pub struct Openssl {
    program: PathBuf,
    env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
}

impl Default for Openssl {
    fn default() -> Openssl {
        Openssl::at("openssl")
    }
}

/// A private scratch directory for one openssl run.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Result<Scratch, OpensslError> {
        tempfile::Builder::new()
            .prefix("modsign-")
            .tempdir()
            .map(Scratch)
            .map_err(|source| OpensslError::Io {
                path: std::env::temp_dir(),
                source,
            })
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, OpensslError> {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).map_err(|source| OpensslError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

impl Openssl {
    /// Runs a given `openssl` program (e.g. a full path).
    pub fn at(program: impl Into<PathBuf>) -> Openssl {
        Openssl {
            program: program.into(),
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for every openssl run, on top of ours: what a
    /// PKCS#11 module reads, e.g. `SOFTHSM2_CONF`, or `OPENSSL_CONF` for the engine.
    pub fn env(
        mut self,
        name: impl Into<std::ffi::OsString>,
        value: impl Into<std::ffi::OsString>,
    ) -> Openssl {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Runs `openssl args…`; `Ok(())` on success, otherwise its cut stderr.
    fn run(&self, action: &'static str, args: &[&std::ffi::OsStr]) -> Result<(), OpensslError> {
        let out = Command::new(&self.program)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .map_err(|source| OpensslError::Spawn {
                program: self.program.clone(),
                source,
            })?;
        if out.status.success() {
            return Ok(());
        }
        let mut stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        if stderr.len() > 1024 {
            let cut = (0..=1024)
                .rev()
                .find(|&i| stderr.is_char_boundary(i))
                .unwrap_or(0);
            stderr.truncate(cut);
        }
        Err(OpensslError::Failed {
            action,
            status: out.status.to_string(),
            stderr,
        })
    }

    /// A detached CMS signature (DER) over `body` by `key`, whose certificate is `cert`
    /// (PEM): exactly what `sign-file` appends.
    pub fn sign(
        &self,
        body: &[u8],
        cert: &Path,
        key: &Key,
        digest: Digest,
    ) -> Result<Vec<u8>, OpensslError> {
        let s = Scratch::new()?;
        let input = s.write("body", body)?;
        let output = s.path("signature");
        let mut args: Vec<&std::ffi::OsStr> = [
            "cms",
            "-sign",
            "-binary",
            "-noattr",
            "-nocerts",
            "-nosmimecap",
            "-outform",
            "DER",
            "-md",
            digest.name(),
        ]
        .into_iter()
        .map(std::ffi::OsStr::new)
        .collect();
        args.extend([
            "-in".as_ref(),
            input.as_os_str(),
            "-out".as_ref(),
            output.as_os_str(),
            "-signer".as_ref(),
            cert.as_os_str(),
        ]);
        match key {
            Key::File(path) => args.extend(["-inkey".as_ref(), path.as_os_str()]),
            Key::Pkcs11(uri) => args.extend(
                [
                    "-engine",
                    "pkcs11",
                    "-keyform",
                    "engine",
                    "-inkey",
                    uri.as_str(),
                ]
                .map(std::ffi::OsStr::new),
            ),
        }
        self.run("cms -sign", &args)
            .map_err(|e| pkcs11_failure(e, key))?;
        std::fs::read(&output).map_err(|source| OpensslError::Io {
            path: output,
            source,
        })
    }

    /// Checks that `signature` (detached CMS, DER) is a valid signature over `body` by
    /// the key of `cert` (PEM), and by no other.
    pub fn verify(&self, body: &[u8], signature: &[u8], cert: &Path) -> Result<(), VerifyError> {
        let s = Scratch::new()?;
        let content = s.write("body", body)?;
        let sig = s.write("signature", signature)?;
        let args: Vec<&std::ffi::OsStr> = vec![
            "cms".as_ref(),
            "-verify".as_ref(),
            "-binary".as_ref(),
            "-inform".as_ref(),
            "DER".as_ref(),
            "-in".as_ref(),
            sig.as_os_str(),
            "-content".as_ref(),
            content.as_os_str(),
            "-certfile".as_ref(),
            cert.as_os_str(),
            "-nointern".as_ref(),
            "-noverify".as_ref(),
            "-out".as_ref(),
            "/dev/null".as_ref(),
        ];
        match self.run("cms -verify", &args) {
            Ok(()) => Ok(()),
            Err(OpensslError::Failed { stderr, .. }) => Err(classify(stderr)),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes a new RSA `bits` signing key (`key`, PEM, unencrypted, mode
    /// 0600 by openssl) and its self-signed certificate (`cert`, PEM, valid 100 years),
    /// with the extensions of the kernel's `certs/default_x509.genkey`
    /// (`basicConstraints=critical,CA:FALSE`, `keyUsage=digitalSignature`, key ids) and
    /// subject `CN=<common_name>`: what kbuild would generate, made once and kept.
    pub fn new_signing_key(
        &self,
        key: &Path,
        cert: &Path,
        common_name: &str,
        bits: u32,
    ) -> Result<(), OpensslError> {
        let s = Scratch::new()?;
        let conf = s.write(
            "x509.genkey",
            format!(
                "[ req ]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n\
                 [ dn ]\nCN = {common_name}\n\
                 [ ext ]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature\n\
                 subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
            )
            .as_bytes(),
        )?;
        let newkey = format!("rsa:{bits}");
        let args: Vec<&std::ffi::OsStr> = vec![
            "req".as_ref(),
            "-new".as_ref(),
            "-nodes".as_ref(),
            "-utf8".as_ref(),
            "-x509".as_ref(),
            "-sha512".as_ref(),
            "-days".as_ref(),
            "36500".as_ref(),
            "-batch".as_ref(),
            "-newkey".as_ref(),
            newkey.as_ref(),
            "-config".as_ref(),
            conf.as_os_str(),
            "-keyout".as_ref(),
            key.as_os_str(),
            "-out".as_ref(),
            cert.as_os_str(),
        ];
        self.run("req -x509", &args)
    }

    /// Checks that `cert` is a readable PEM certificate; returns its subject line.
    pub fn certificate_subject(&self, cert: &Path) -> Result<String, OpensslError> {
        let s = Scratch::new()?;
        let out = s.path("subject");
        self.run(
            "x509",
            &[
                "x509".as_ref(),
                "-noout".as_ref(),
                "-subject".as_ref(),
                "-in".as_ref(),
                cert.as_os_str(),
                "-out".as_ref(),
                out.as_os_str(),
            ],
        )?;
        let text = std::fs::read_to_string(&out)
            .map_err(|source| OpensslError::Io { path: out, source })?;
        Ok(text.trim().to_owned())
    }
}

/// A failed signing run with a `pkcs11:` key, told as such and with its PIN redacted.
fn pkcs11_failure(e: OpensslError, key: &Key) -> OpensslError {
    match (e, key) {
        (OpensslError::Failed { status, stderr, .. }, Key::Pkcs11(uri)) => OpensslError::Pkcs11 {
            uri: redact_pin(uri),
            problem: Pkcs11Problem::classify(&stderr),
            status,
            stderr: redact_pin(&stderr),
        },
        (e, _) => e,
    }
}

/// Sorts openssl's `cms -verify` complaint into a reason.
fn classify(stderr: String) -> VerifyError {
    let s = stderr.to_ascii_lowercase();
    if s.contains("signer certificate not found") || s.contains("no signer certificate") {
        VerifyError::UnknownSigner(stderr)
    } else if s.contains("verify error")
        || s.contains("signature failure")
        || s.contains("digest failure")
        || s.contains("bad signature")
    {
        VerifyError::BadSignature(stderr)
    } else {
        VerifyError::Malformed(stderr)
    }
}
