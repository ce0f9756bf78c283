//! Checking OpenPGP signatures on testimonies.
//!
//! Policy, spelled out:
//! - Signatures are checked with Sequoia's `StandardPolicy` (no SHA-1, no weak
//!   keys) at an explicit reference time `at` (normally "now").
//! - A signature counts only if it is cryptographically good **and** its key is
//!   still alive and unrevoked at `at`, and was so when it signed. A key that has
//!   since expired gives [`SignatureOutcome::Expired`], a revoked one
//!   [`SignatureOutcome::Revoked`], a key missing from the keyring
//!   [`SignatureOutcome::UnknownKey`], everything else [`SignatureOutcome::Bad`]:
//!   distinct outcomes, never a bare `false`.
//! - The identity returned is always the **primary** key fingerprint, also when
//!   a signing subkey made the signature.
//! - Cleartext: only the signed text is returned, ever. Text before
//!   `-----BEGIN PGP SIGNED MESSAGE-----` or after `-----END PGP SIGNATURE-----`
//!   is not returned, only reported ([`Outside`]); a file with two signed messages
//!   is refused. Dash-escaping and the `Hash:` header are handled by Sequoia. The
//!   returned text is in [`crate::canonical::signed_text_form`]: the whitespace
//!   OpenPGP does not sign (trailing spaces, CR) is gone, so nobody can add
//!   meaning to a signed text without breaking its signature.

use std::io::Read;
use std::time::SystemTime;

use openpgp::cert::CertParser;
use openpgp::cert::amalgamation::ValidAmalgamation;
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, GoodChecksum, MessageLayer, MessageStructure, VerificationError,
    VerificationHelper, VerifierBuilder,
};
use openpgp::policy::StandardPolicy;
use openpgp::types::RevocationStatus;
use openpgp::{Cert, KeyHandle};
use sequoia_openpgp as openpgp;

use crate::canonical::{self, Fingerprint};
use crate::error::Error;

/// OpenPGP certificates to check signatures against (no trust implied: the
/// [`crate::policy::Policy`] says who counts).
///
/// Certificates with one primary fingerprint are **merged** (all their
/// signatures, revocations included, as Sequoia's `Cert::merge_public`) as they
/// are added, whatever file or order they came from: a stale copy of a
/// certificate can add nothing that takes a revocation away. Secret key
/// material is refused (a keyring is public; see [`Keyring::from_bytes`]).
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    certs: Vec<Cert>,
}

/// What to tell someone whose keyring file is not a certificate.
const KEYRING_HINT: &str = "expected OpenPGP certificates (armored or binary), as written by `gpg --export --armor FPR` or `sq key extract-cert`";

impl Keyring {
    /// Reads certificates, armored (one or more blocks) or binary.
    ///
    /// Refuses a file that holds secret key material: a verifying keyring needs
    /// public certificates only, and a secret key passed by mistake is a key
    /// leaked into a place that is not guarded like one. Export the certificate
    /// (`gpg --export --armor FPR`, `sq key extract-cert`) and pass that.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Keyring, Error> {
        let text = std::str::from_utf8(bytes).ok();
        let blocks: Vec<&[u8]> = match text {
            Some(t) if t.contains("-----BEGIN PGP") => {
                armored_blocks(t).into_iter().map(str::as_bytes).collect()
            }
            _ => vec![bytes],
        };
        let mut ring = Keyring::default();
        for b in blocks {
            let parser = CertParser::from_bytes(b)
                .map_err(|e| Error::pgp(origin, format!("{KEYRING_HINT}; reading failed: {e}")))?;
            for c in parser {
                let c = c.map_err(|e| {
                    Error::pgp(origin, format!("{KEYRING_HINT}; reading failed: {e}"))
                })?;
                if c.is_tsk() {
                    return Err(Error::pgp(
                        origin,
                        format!(
                            "certificate {} carries secret key material; a keyring must be public. \
                             Pass the certificate instead (gpg --export --armor {0} > {0}.cert)",
                            c.fingerprint().to_hex()
                        ),
                    ));
                }
                ring.add(c, origin)?;
            }
        }
        if ring.certs.is_empty() {
            return Err(Error::pgp(
                origin,
                format!("no OpenPGP certificate found; {KEYRING_HINT}"),
            ));
        }
        Ok(ring)
    }

    /// Adds one certificate, merging it with any certificate of the same
    /// primary fingerprint already present.
    fn add(&mut self, cert: Cert, origin: &str) -> Result<(), Error> {
        match self
            .certs
            .iter_mut()
            .find(|c| c.fingerprint() == cert.fingerprint())
        {
            Some(old) => {
                let merged = old
                    .clone()
                    .merge_public(cert)
                    .map_err(|e| Error::pgp(origin, format!("merging certificate: {e}")))?;
                *old = merged;
            }
            None => self.certs.push(cert),
        }
        Ok(())
    }

    /// Adds the certificates of another keyring, merging copies of one
    /// certificate (see the type's docs).
    pub fn extend(&mut self, other: Keyring) {
        for c in other.certs {
            // merge_public only fails for different fingerprints, excluded by `add`.
            let _ = self.add(c, "(keyring)");
        }
    }

    /// Number of distinct certificates (copies of one are merged).
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether there is no certificate.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// If `fpr` is the fingerprint of a **subkey** of a certificate in the
    /// keyring, that certificate's primary fingerprint. A policy names
    /// witnesses by primary fingerprint; a subkey there would never match.
    pub fn primary_of_subkey(&self, fpr: &Fingerprint) -> Option<Fingerprint> {
        self.certs.iter().find_map(|c| {
            c.keys()
                .subkeys()
                .any(|k| k.key().fingerprint().to_hex() == fpr.as_str())
                .then(|| fpr_of(c))
        })
    }

    /// Whether a certificate with this primary fingerprint is present.
    pub fn has_primary(&self, fpr: &Fingerprint) -> bool {
        self.certs
            .iter()
            .any(|c| c.fingerprint().to_hex() == fpr.as_str())
    }
}

fn armored_blocks(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(a) = rest.find("-----BEGIN PGP") {
        let from = &rest[a..];
        let end = from
            .find("-----END PGP")
            .and_then(|e| from[e..].find("\n").map(|n| e + n + 1).or(Some(from.len())))
            .unwrap_or(from.len());
        out.push(&from[..end]);
        rest = &from[end..];
    }
    out
}

/// The outcome of one signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SignatureOutcome {
    /// Good signature by a live, unrevoked key.
    Good {
        /// Primary fingerprint of the signer.
        fingerprint: Fingerprint,
        /// Signature creation time, Unix seconds.
        signed_at: u64,
    },
    /// The signing key is not in the keyring.
    UnknownKey {
        /// Issuer fingerprints or key IDs named by the signature.
        issuers: Vec<String>,
    },
    /// The key has expired (at the reference time or when it signed).
    Expired {
        /// Primary fingerprint.
        fingerprint: Fingerprint,
    },
    /// The key is revoked.
    Revoked {
        /// Primary fingerprint.
        fingerprint: Fingerprint,
        /// The revocation reason as given, if any.
        reason: String,
    },
    /// Any other failure: bad signature, unbound key, policy rejection…
    Bad {
        /// Primary fingerprint, if the key was found.
        fingerprint: Option<Fingerprint>,
        /// What went wrong.
        reason: String,
    },
}

impl SignatureOutcome {
    /// The signer's primary fingerprint, if known.
    pub fn fingerprint(&self) -> Option<&Fingerprint> {
        match self {
            SignatureOutcome::Good { fingerprint, .. }
            | SignatureOutcome::Expired { fingerprint }
            | SignatureOutcome::Revoked { fingerprint, .. } => Some(fingerprint),
            SignatureOutcome::Bad { fingerprint, .. } => fingerprint.as_ref(),
            SignatureOutcome::UnknownKey { .. } => None,
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            SignatureOutcome::Good {
                fingerprint,
                signed_at,
            } => {
                format!(
                    "good signature by {fingerprint} made {}",
                    canonical::format_utc(*signed_at)
                )
            }
            SignatureOutcome::UnknownKey { issuers } => {
                format!(
                    "signature by a key not in the keyring ({})",
                    issuers.join(", ")
                )
            }
            SignatureOutcome::Expired { fingerprint } => format!("key {fingerprint} has expired"),
            SignatureOutcome::Revoked {
                fingerprint,
                reason,
            } => {
                format!("key {fingerprint} is revoked ({reason})")
            }
            SignatureOutcome::Bad {
                fingerprint,
                reason,
            } => match fingerprint {
                Some(f) => format!("bad signature by {f}: {reason}"),
                None => format!("bad signature: {reason}"),
            },
        }
    }
}

/// Text found outside the signed part of a cleartext file: reported, never parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Outside {
    /// Bytes before `-----BEGIN PGP SIGNED MESSAGE-----` (not counting blank lines).
    pub before: usize,
    /// Bytes after `-----END PGP SIGNATURE-----` (not counting blank lines).
    pub after: usize,
}

impl Outside {
    /// Whether there was any unsigned text.
    pub fn any(&self) -> bool {
        self.before > 0 || self.after > 0
    }
}

/// A checked cleartext-signed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signed text, in [`canonical::signed_text_form`]. Empty when no
    /// signature is good (unverified text is never handed out).
    pub text: String,
    /// One outcome per signature.
    pub signatures: Vec<SignatureOutcome>,
    /// Unsigned text around the signed part.
    pub outside: Outside,
    /// Whether unsigned whitespace (trailing spaces, CR) was removed.
    pub whitespace_normalised: bool,
}

impl Verified {
    /// Primary fingerprints with a [`SignatureOutcome::Good`] signature.
    pub fn good_signers(&self) -> Vec<&Fingerprint> {
        self.signatures
            .iter()
            .filter_map(|s| match s {
                SignatureOutcome::Good { fingerprint, .. } => Some(fingerprint),
                _ => None,
            })
            .collect()
    }
}

struct Helper<'a> {
    keyring: &'a Keyring,
    at: SystemTime,
    outcomes: Vec<SignatureOutcome>,
}

fn fpr_of(cert: &Cert) -> Fingerprint {
    Fingerprint::parse_canonical(&cert.fingerprint().to_hex()).unwrap_or_else(|| {
        // v6 fingerprints are longer; they are never in a policy, keep them visible.
        Fingerprint::parse_canonical(&"0".repeat(40)).expect("40 zeros")
    })
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Why a cert is unusable at time `t`, as an outcome (None: usable).
fn key_state(
    cert: &Cert,
    p: &dyn openpgp::policy::Policy,
    t: SystemTime,
) -> Option<SignatureOutcome> {
    let fingerprint = fpr_of(cert);
    if let RevocationStatus::Revoked(sigs) = cert.revocation_status(p, Some(t)) {
        let reason = sigs
            .first()
            .and_then(|s| s.reason_for_revocation())
            .map_or_else(
                || "no reason given".to_string(),
                |(code, msg)| match String::from_utf8_lossy(msg).trim() {
                    "" => code.to_string(),
                    text => format!("{code}: {text}"),
                },
            );
        return Some(SignatureOutcome::Revoked {
            fingerprint,
            reason,
        });
    }
    match cert.with_policy(p, Some(t)) {
        Err(e) => Some(SignatureOutcome::Bad {
            fingerprint: Some(fingerprint),
            reason: format!("certificate not valid under the standard policy: {e}"),
        }),
        Ok(vc) => vc
            .alive()
            .err()
            .map(|_| SignatureOutcome::Expired { fingerprint }),
    }
}

impl Helper<'_> {
    /// A cryptographically good signature counts only if the certificate and
    /// the signing (sub)key are alive and unrevoked at the reference time.
    fn good(&self, good: &GoodChecksum<'_>, p: &StandardPolicy) -> SignatureOutcome {
        let cert = good.ka.cert();
        let sig_time = good.sig.signature_creation_time().unwrap_or(self.at);
        if let Some(o) = key_state(cert, p, self.at) {
            return o;
        }
        let signing_key_ok = cert
            .with_policy(p, Some(self.at))
            .ok()
            .and_then(|vc| {
                vc.keys()
                    .key_handle(good.ka.key().fingerprint())
                    .next()
                    .map(|k| {
                        k.alive().is_ok()
                            && !matches!(k.revocation_status(), RevocationStatus::Revoked(_))
                    })
            })
            .unwrap_or(false);
        if signing_key_ok {
            SignatureOutcome::Good {
                fingerprint: fpr_of(cert),
                signed_at: secs(sig_time),
            }
        } else {
            SignatureOutcome::Expired {
                fingerprint: fpr_of(cert),
            }
        }
    }

    /// The outcome of one signature of a signature group.
    fn outcome(
        &self,
        r: Result<GoodChecksum<'_>, VerificationError<'_>>,
        p: &StandardPolicy,
    ) -> SignatureOutcome {
        let bad = |cert: &Cert, error: &openpgp::anyhow::Error| SignatureOutcome::Bad {
            fingerprint: Some(fpr_of(cert)),
            reason: format!("{error:#}"),
        };
        match r {
            Ok(good) => self.good(&good, p),
            Err(VerificationError::MissingKey { sig }) => SignatureOutcome::UnknownKey {
                issuers: sig.get_issuers().iter().map(|h| h.to_hex()).collect(),
            },
            Err(VerificationError::UnboundKey { sig, cert, error }) => {
                let t = sig.signature_creation_time().unwrap_or(self.at);
                key_state(cert, p, t).unwrap_or_else(|| bad(cert, &error))
            }
            Err(VerificationError::BadKey { sig, ka, error }) => {
                let cert = ka.cert();
                let t = sig.signature_creation_time().unwrap_or(self.at);
                key_state(cert, p, t)
                    .or_else(|| key_state(cert, p, self.at))
                    .unwrap_or_else(|| bad(cert, &error))
            }
            Err(VerificationError::BadSignature { ka, error, .. }) => bad(ka.cert(), &error),
            Err(VerificationError::MalformedSignature { error, .. }) => SignatureOutcome::Bad {
                fingerprint: None,
                reason: format!("malformed signature: {error:#}"),
            },
            Err(e) => SignatureOutcome::Bad {
                fingerprint: None,
                reason: e.to_string(),
            },
        }
    }
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.keyring.certs.clone())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let p = StandardPolicy::new();
        for layer in structure {
            let MessageLayer::SignatureGroup { results } = layer else {
                self.outcomes.push(SignatureOutcome::Bad {
                    fingerprint: None,
                    reason: "unexpected compression or encryption layer".into(),
                });
                continue;
            };
            for r in results {
                let o = self.outcome(r, &p);
                self.outcomes.push(o);
            }
        }
        Ok(())
    }
}

const BEGIN_SIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const END_SIGNATURE: &str = "-----END PGP SIGNATURE-----";

/// Finds the one cleartext-signed message in `file`; returns it and what lies
/// outside it.
fn isolate(file: &str, origin: &str) -> Result<(String, Outside), Error> {
    let lines: Vec<&str> = file.split_inclusive('\n').collect();
    let is = |l: &str, m: &str| l.trim_end_matches(['\r', '\n', ' ', '\t']) == m;
    let begins: Vec<usize> = (0..lines.len())
        .filter(|&i| is(lines[i], BEGIN_SIGNED))
        .collect();
    match begins.len() {
        0 => {
            return Err(Error::pgp(
                origin,
                "not a cleartext-signed message (no -----BEGIN PGP SIGNED MESSAGE----- line)",
            ));
        }
        1 => {}
        n => {
            return Err(Error::pgp(
                origin,
                format!("{n} signed messages in one file; a testimony file holds exactly one"),
            ));
        }
    }
    let b = begins[0];
    let e = (b..lines.len())
        .find(|&i| is(lines[i], END_SIGNATURE))
        .ok_or_else(|| Error::pgp(origin, "no -----END PGP SIGNATURE----- line"))?;
    let count = |ls: &[&str]| {
        ls.iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len())
            .sum()
    };
    let outside = Outside {
        before: count(&lines[..b]),
        after: count(&lines[e + 1..]),
    };
    Ok((lines[b..=e].concat(), outside))
}

/// Verifies a cleartext-signed file (as made by `gpg --clearsign` or
/// [`crate::sign::sign_cleartext`]) at reference time `at`.
///
/// Returns an error only for unusable input (not UTF-8, no or several signed
/// messages, broken armor). Bad, expired, revoked and unknown-key signatures are
/// outcomes in [`Verified::signatures`]; [`Verified::text`] is filled only when at
/// least one signature is [`SignatureOutcome::Good`].
pub fn verify_cleartext(
    file: &[u8],
    keyring: &Keyring,
    at: SystemTime,
    origin: &str,
) -> Result<Verified, Error> {
    let file =
        std::str::from_utf8(file).map_err(|e| Error::pgp(origin, format!("not UTF-8: {e}")))?;
    let (message, outside) = isolate(file, origin)?;
    let p = StandardPolicy::new();
    let helper = Helper {
        keyring,
        at,
        outcomes: Vec::new(),
    };
    let mut v = VerifierBuilder::from_bytes(message.as_bytes())
        .and_then(|b| b.with_policy(&p, Some(at), helper))
        .map_err(|e| Error::pgp(origin, e))?;
    let mut raw = Vec::new();
    v.read_to_end(&mut raw).map_err(|e| Error::pgp(origin, e))?;
    let outcomes = std::mem::take(&mut v.helper_mut().outcomes);
    let any_good = outcomes
        .iter()
        .any(|o| matches!(o, SignatureOutcome::Good { .. }));
    let (text, whitespace_normalised) = if any_good {
        let raw = String::from_utf8(raw)
            .map_err(|e| Error::pgp(origin, format!("signed text is not UTF-8: {e}")))?;
        canonical::signed_text_form(&raw)
    } else {
        (String::new(), false)
    };
    Ok(Verified {
        text,
        signatures: outcomes,
        outside,
        whitespace_normalised,
    })
}

/// Verifies an armored or binary detached signature over `data`.
pub fn verify_detached(
    data: &[u8],
    signature: &[u8],
    keyring: &Keyring,
    at: SystemTime,
    origin: &str,
) -> Result<Vec<SignatureOutcome>, Error> {
    let p = StandardPolicy::new();
    let helper = Helper {
        keyring,
        at,
        outcomes: Vec::new(),
    };
    let mut v = DetachedVerifierBuilder::from_bytes(signature)
        .and_then(|b| b.with_policy(&p, Some(at), helper))
        .map_err(|e| Error::pgp(origin, e))?;
    v.verify_bytes(data).map_err(|e| Error::pgp(origin, e))?;
    Ok(std::mem::take(&mut v.helper_mut().outcomes))
}
