//! Signing testimonies with an OpenPGP secret key (a Sequoia or GnuPG exported,
//! unencrypted transferable secret key).
//!
//! Two forms are produced, both ASCII-armored:
//! - [`sign_cleartext`]: the Cleartext Signature Framework, as `gpg --clearsign`
//!   makes it (the seed's workflow); Sequoia dash-escapes lines that start with `-`
//!   and writes the `Hash:` header.
//! - [`sign_detached`]: a detached signature (`.asc`) over the exact bytes.
//!
//! The signing time is explicit, so tests and reproducible tooling can fix it.

use std::io::Write;
use std::time::SystemTime;

use openpgp::Cert;
use openpgp::armor;
use openpgp::crypto::KeyPair;
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use sequoia_openpgp as openpgp;

use crate::canonical::Fingerprint;
use crate::error::Error;

/// A secret key that can sign, loaded from an unencrypted OpenPGP key file.
pub struct SigningKey {
    cert: Cert,
    origin: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.cert.fingerprint().to_hex())
            .field("origin", &self.origin)
            .finish()
    }
}

impl SigningKey {
    /// Loads a transferable secret key (armored or binary). `origin` names the file
    /// in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<SigningKey, Error> {
        let cert = Cert::from_bytes(bytes).map_err(|e| Error::pgp(origin, e))?;
        if !cert.is_tsk() {
            return Err(Error::pgp(
                origin,
                "this is a certificate without secret key material",
            ));
        }
        Ok(SigningKey {
            cert,
            origin: origin.into(),
        })
    }

    /// The primary key fingerprint: the witness identity.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::parse_canonical(&self.cert.fingerprint().to_hex())
            .expect("sequoia prints v4 fingerprints as 40 uppercase hex")
    }

    fn keypair(&self, at: SystemTime) -> Result<KeyPair, Error> {
        let p = StandardPolicy::new();
        let ka = self
            .cert
            .keys()
            .secret()
            .with_policy(&p, Some(at))
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .next()
            .ok_or_else(|| {
                Error::pgp(
                    &self.origin,
                    "no signing-capable, unexpired, unrevoked secret key at the signing time",
                )
            })?;
        ka.key().clone().into_keypair().map_err(|e| {
            Error::pgp(
                &self.origin,
                format!("secret key unusable (encrypted?): {e}"),
            )
        })
    }
}

/// Clearsigns `text` (as `gpg --clearsign` would), signature time `at`.
pub fn sign_cleartext(text: &str, key: &SigningKey, at: SystemTime) -> Result<String, Error> {
    let kp = key.keypair(at)?;
    let mut sink = Vec::new();
    {
        let message = Message::new(&mut sink);
        let mut signer = Signer::new(message, kp)
            .map(|s| s.creation_time(at))
            .map_err(|e| Error::pgp(&key.origin, e))?
            .cleartext()
            .build()
            .map_err(|e| Error::pgp(&key.origin, e))?;
        signer
            .write_all(text.as_bytes())
            .map_err(|e| Error::pgp(&key.origin, e))?;
        signer.finalize().map_err(|e| Error::pgp(&key.origin, e))?;
    }
    Ok(String::from_utf8(sink).expect("cleartext of UTF-8 text is UTF-8"))
}

/// Makes an armored detached signature over `data`, signature time `at`.
pub fn sign_detached(data: &[u8], key: &SigningKey, at: SystemTime) -> Result<String, Error> {
    let kp = key.keypair(at)?;
    let mut sink = Vec::new();
    {
        let message = Message::new(&mut sink);
        let message = Armorer::new(message)
            .kind(armor::Kind::Signature)
            .build()
            .map_err(|e| Error::pgp(&key.origin, e))?;
        let mut signer = Signer::new(message, kp)
            .map(|s| s.creation_time(at))
            .map_err(|e| Error::pgp(&key.origin, e))?
            .detached()
            .build()
            .map_err(|e| Error::pgp(&key.origin, e))?;
        signer
            .write_all(data)
            .map_err(|e| Error::pgp(&key.origin, e))?;
        signer.finalize().map_err(|e| Error::pgp(&key.origin, e))?;
    }
    Ok(String::from_utf8(sink).expect("armor is ASCII"))
}
