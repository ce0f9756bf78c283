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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use std::time::SystemTime;

    use crate::build_record::BuildRecord;
    use crate::canonical::sha256_hex;
    use crate::v2::{TestimonyV2, WitnessInfo};
    use crate::verify::{Keyring, verify_cleartext};

    use super::*;

    fn keys() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/testimony/keys")
    }

    fn fpr(name: &str) -> String {
        let list = std::fs::read_to_string(keys().join("fingerprints.txt")).unwrap();
        let line = list
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap();
        line.split_once(' ').unwrap().1.to_string()
    }

    fn alice_keyring() -> Keyring {
        Keyring::from_bytes(&std::fs::read(keys().join("alice.cert")).unwrap(), "alice").unwrap()
    }

    /// The signature checked against alice's certificate, now.
    fn checked_by_alice(signed: &str) -> crate::verify::Verified {
        verify_cleartext(
            signed.as_bytes(),
            &alice_keyring(),
            SystemTime::now(),
            "gpg",
        )
        .unwrap()
    }

    /// A temporary GNUPGHOME with alice's secret key; gpg-agent killed on drop.
    struct GpgHome(tempfile::TempDir);

    impl GpgHome {
        fn with_alice() -> GpgHome {
            let home = tempfile::tempdir().unwrap();
            let st = Command::new("gpg")
                .env("GNUPGHOME", home.path())
                .args(["--batch", "--quiet", "--import"])
                .arg(keys().join("alice.key"))
                .status()
                .unwrap();
            assert!(st.success());
            GpgHome(home)
        }
    }

    impl Drop for GpgHome {
        fn drop(&mut self) {
            let _ = Command::new("gpgconf")
                .env("GNUPGHOME", self.0.path())
                .args(["--kill", "all"])
                .status();
        }
    }

    /// A build record with `n` files per package: about 100 bytes a line.
    fn record(n: usize) -> BuildRecord {
        let mut r = crate::build_record::BuildRecord {
            source: crate::build_record::SourcePin {
                manifest_sha256: sha256_hex(b"m"),
                tarball_name: "linux.tar.xz".into(),
                tarball_sha256: sha256_hex(b"t"),
                source_date_epoch: 1,
            },
            toolchain: Default::default(),
            kernel_config_sha256: sha256_hex(b"c"),
            hardening: None,
            module_cert_sha256: None,
            debs: vec![crate::build_record::DebRecord {
                file_name: "sk-test_1.0-1_all.deb".into(),
                package: "sk-test".into(),
                version: "1.0-1".into(),
                architecture: "all".into(),
                size: 1,
                sha256: sha256_hex(b"deb"),
                files: (0..n)
                    .map(|i| crate::build_record::FileHash {
                        path: format!("lib/modules/6.12.38/kernel/drivers/some/module-{i:06}.ko"),
                        sha256: sha256_hex(i.to_string().as_bytes()),
                    })
                    .collect(),
            }],
        };
        r.normalize();
        r
    }

    #[test]
    fn gpg_hand_off_signs_with_the_named_key() {
        let home = GpgHome::with_alice();
        let s = Signer::Gpg(fpr("alice"), Some(home.0.path().to_path_buf()));
        assert_eq!(s.fingerprint().unwrap().as_str(), fpr("alice"));
        let signed = s.clearsign("a=b\n").unwrap();
        let v = checked_by_alice(&signed);
        assert_eq!(v.good_signers()[0].as_str(), fpr("alice"));
        assert_eq!(v.text, "a=b\n");
        let missing = Signer::Gpg(
            "nobody@example.org".into(),
            Some(home.0.path().to_path_buf()),
        );
        assert!(missing.fingerprint().is_err());
    }

    /// Issue 12.8: a default build's testimony (~1 MB) deadlocked `gpg
    /// --clearsign` (both pipes full). 2.5 MB through real gpg must come back.
    #[test]
    fn gpg_clearsign_of_a_testimony_larger_than_a_pipe_returns() {
        let home = GpgHome::with_alice();
        let s = Signer::Gpg(fpr("alice"), Some(home.0.path().to_path_buf()));
        let record = record(24_000);
        let w = WitnessInfo {
            name: "alice".into(),
            fingerprint: Fingerprint::parse(&fpr("alice")).unwrap(),
            jurisdiction: None,
            computer_system: None,
            code_review: 2,
            computer_trust: 10,
            canary: None,
            statement: vec![],
        };
        let text = TestimonyV2::from_build_record(&record, w, 1).to_text();
        assert!(text.len() > 2 << 20, "{} bytes", text.len());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(s.clearsign(&text).map(|signed| (signed, text)));
        });
        let (signed, text) = rx
            .recv_timeout(std::time::Duration::from_secs(300))
            .expect("gpg --clearsign hung on a large testimony")
            .unwrap();
        let v = checked_by_alice(&signed);
        assert_eq!(v.text, text);
    }
}
