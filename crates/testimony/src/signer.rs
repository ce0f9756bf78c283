//! Who signs a testimony: an unencrypted OpenPGP secret key file (signed here with
//! Sequoia), or a key in the user's GnuPG, handed to `gpg --clearsign --local-user ID`
//! (gpg-agent asks for the passphrase).
//!
//! ```no_run
//! use testimony::signer::Signer;
//! let signer = Signer::Gpg("0123456789ABCDEF0123456789ABCDEF01234567".into(), None);
//! let fpr = signer.fingerprint()?;
//! let signed = signer.clearsign("format=samekernel-testimony-v2\n")?;
//! # Ok::<(), testimony::signer::SignerError>(())
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::canonical::Fingerprint;
use crate::sign::{SigningKey, sign_cleartext};

/// Why a signer could not name its key or sign.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// Sequoia refused the key or the signing.
    #[error(transparent)]
    Key(#[from] crate::error::Error),
    /// gpg could not be started or its pipes failed.
    #[error("{what}: {source}")]
    Io {
        /// The step, e.g. `running gpg --clearsign`.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// gpg said no.
    #[error("{0}")]
    Gpg(String),
}

/// The key a testimony is signed with.
pub enum Signer {
    /// A Sequoia secret key, loaded from a file.
    Key(Box<SigningKey>),
    /// A gpg key id, and the GnuPG home to use (None: gpg's default).
    Gpg(String, Option<PathBuf>),
}

fn gpg(home: &Option<PathBuf>) -> Command {
    let mut c = Command::new("gpg");
    if let Some(h) = home {
        c.env("GNUPGHOME", h);
    }
    c
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> SignerError + '_ {
    move |source| SignerError::Io {
        what: what.into(),
        source,
    }
}

impl Signer {
    /// The unencrypted OpenPGP secret key in the file at `path` (as exported by `sq`
    /// or `gpg --export-secret-keys`).
    pub fn from_key_file(path: &std::path::Path) -> Result<Signer, SignerError> {
        let shown = path.display().to_string();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut crate::collect::open_regular(path).map_err(io(&format!("reading key {shown}")))?,
            &mut bytes,
        )
        .map_err(io(&format!("reading key {shown}")))?;
        Ok(Signer::Key(Box::new(SigningKey::from_bytes(
            &bytes, &shown,
        )?)))
    }

    /// The signing key's primary fingerprint (what the v2 `witness-fingerprint` says).
    pub fn fingerprint(&self) -> Result<Fingerprint, SignerError> {
        match self {
            Signer::Key(k) => Ok(k.fingerprint()),
            Signer::Gpg(id, home) => gpg_fingerprint(id, home),
        }
    }

    /// `text` as an OpenPGP cleartext-signed message.
    pub fn clearsign(&self, text: &str) -> Result<String, SignerError> {
        match self {
            Signer::Key(k) => Ok(sign_cleartext(text, k, SystemTime::now())?),
            Signer::Gpg(id, home) => gpg_clearsign(id, home, text),
        }
    }
}

fn gpg_fingerprint(id: &str, home: &Option<PathBuf>) -> Result<Fingerprint, SignerError> {
    let out = gpg(home)
        .args([
            "--batch",
            "--with-colons",
            "--fingerprint",
            "--list-secret-keys",
            id,
        ])
        .output()
        .map_err(io("running gpg"))?;
    if !out.status.success() {
        return Err(SignerError::Gpg(format!(
            "gpg has no secret key {id:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let sec_count = text.lines().filter(|l| l.starts_with("sec:")).count();
    if sec_count != 1 {
        return Err(SignerError::Gpg(format!(
            "gpg key id {id:?} matches {sec_count} secret keys; give a full fingerprint"
        )));
    }
    text.lines()
        .filter(|l| l.starts_with("fpr:"))
        .find_map(|l| l.split(':').nth(9))
        .and_then(Fingerprint::parse)
        .ok_or_else(|| SignerError::Gpg(format!("no v4 fingerprint for gpg key {id:?}")))
}

fn gpg_clearsign(id: &str, home: &Option<PathBuf>, text: &str) -> Result<String, SignerError> {
    let mut c = gpg(home)
        .args(["--batch", "--clearsign", "--local-user", id])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(io("running gpg --clearsign"))?;
    // A default build's testimony (~1 MB) is more than a pipe holds: write on a
    // thread while gpg's output is drained, or both sides wait on each other forever.
    let mut stdin = c.stdin.take().expect("piped");
    let input = text.as_bytes().to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let out = c
        .wait_with_output()
        .map_err(io("waiting for gpg --clearsign"))?;
    let fed = feeder.join().expect("gpg feeder thread panicked");
    if !out.status.success() {
        return Err(SignerError::Gpg(format!(
            "gpg --clearsign --local-user {id} failed ({})",
            out.status
        )));
    }
    fed.map_err(io("writing the testimony to gpg --clearsign"))?;
    String::from_utf8(out.stdout).map_err(|_| SignerError::Gpg("gpg output is not UTF-8".into()))
}
