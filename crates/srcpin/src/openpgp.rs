//! Detached OpenPGP signature checks with a pinned signer set and a threshold.
//!
//! * Only certificates whose **primary** fingerprint is pinned are handed to the verifier;
//!   signatures by anyone else count as "unknown signer". Copies of one certificate in
//!   the keyring are merged first, so a revocation in one copy holds against all.
//! * Good signatures are counted per distinct primary fingerprint: two signatures by one
//!   key (or a key listed twice in the pin) count once.
//! * Sequoia's [`StandardPolicy`] decides which algorithms and bindings are acceptable, at
//!   the signature's creation time. On top of that, a signing certificate must be valid,
//!   alive (not expired) and not revoked **now**: an expired or revoked key does not vouch
//!   for a source fetched today. (`gpgv` reports such signatures as `EXPKEYSIG`/`REVKEYSIG`;
//!   `sqv` only checks validity at signature time.)
//! * The threshold is enforced inside the verifier's `check` callback, so a failed check
//!   always surfaces as an error.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, GoodChecksum, MessageLayer, MessageStructure, VerificationError,
    VerificationHelper,
};
use openpgp::policy::StandardPolicy;
use openpgp::types::RevocationStatus;
use openpgp::{Cert, KeyHandle};

use crate::manifest::Fingerprint;

/// Who must have signed, and the certificates to check with.
#[derive(Debug, Clone, Copy)]
pub struct SignerRequirement<'a> {
    /// One or more OpenPGP certificates (binary or ASCII-armored), concatenated.
    pub keyring: &'a [u8],
    /// Primary-key fingerprints whose signatures count.
    pub signers: &'a [Fingerprint],
    /// Minimum number of distinct pinned signers with a good signature.
    pub min_signers: usize,
}

/// Why a signature check failed: every signature's fate, and the count reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFailure {
    /// Distinct pinned signers with a good signature.
    pub good: Vec<Fingerprint>,
    /// The threshold.
    pub needed: usize,
    /// One line per rejected signature (or a parse problem).
    pub problems: Vec<String>,
}

impl fmt::Display for SignatureFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} required distinct pinned signer(s) verified",
            self.good.len(),
            self.needed
        )?;
        if !self.problems.is_empty() {
            write!(f, "; {}", self.problems.join("; "))?;
        }
        Ok(())
    }
}

impl std::error::Error for SignatureFailure {}

/// Verifies the detached signature(s) in `signature` over everything `data` yields.
///
/// Returns the distinct pinned primary fingerprints that made a good signature (at least
/// `min_signers` of them).
pub fn verify_detached<R: Read + Send + Sync>(
    signature: &[u8],
    data: R,
    req: &SignerRequirement<'_>,
) -> Result<Vec<Fingerprint>, SignatureFailure> {
    let fail = |problem: String| SignatureFailure {
        good: Vec::new(),
        needed: req.min_signers,
        problems: vec![problem],
    };
    let policy = StandardPolicy::new();
    let helper = Helper {
        certs: Vec::new(),
        policy: &policy,
        min: req.min_signers,
        good: BTreeSet::new(),
        problems: Vec::new(),
    };
    // The signature first: it is small, and one that does not parse needs no keyring
    // (parsing a 4 KB pinned keyring was most of the time a hostile signature cost).
    let mut verifier = DetachedVerifierBuilder::from_bytes(signature)
        .and_then(|b| b.with_policy(&policy, None, helper))
        .map_err(|e| fail(format!("cannot parse signature: {e}")))?;
    // Sequoia asks for the certificates only after hashing the data, in `verify_reader`.
    verifier.helper_mut().certs = pinned_certs(req.keyring, req.signers).map_err(fail)?;
    let outcome = verifier.verify_reader(data);
    let helper = verifier.helper_ref();
    let good: Vec<Fingerprint> = helper
        .good
        .iter()
        .map(|s| s.parse().expect("sequoia renders fingerprints as hex"))
        .collect();
    match outcome {
        Ok(()) if good.len() >= req.min_signers => Ok(good),
        Ok(()) => Err(SignatureFailure {
            good,
            needed: req.min_signers,
            problems: helper.problems.clone(),
        }),
        Err(e) => {
            let mut problems = helper.problems.clone();
            if problems.is_empty() {
                problems.push(e.to_string());
            }
            Err(SignatureFailure {
                good,
                needed: req.min_signers,
                problems,
            })
        }
    }
}

/// The certificates in `keyring` whose primary fingerprint is pinned, one per
/// fingerprint: copies of one certificate are merged (every signature, revocations
/// included), so that a stale copy beside a revoked one cannot vouch for a signature.
fn pinned_certs(keyring: &[u8], signers: &[Fingerprint]) -> Result<Vec<Cert>, String> {
    let pinned: BTreeSet<&str> = signers.iter().map(Fingerprint::as_str).collect();
    fn unreadable(e: impl fmt::Display) -> String {
        format!("cannot read keyring: {e}")
    }
    let mut by_fingerprint: BTreeMap<String, Cert> = BTreeMap::new();
    for cert in CertParser::from_bytes(keyring).map_err(unreadable)? {
        let cert = cert.map_err(unreadable)?;
        let fpr = cert.fingerprint().to_hex();
        if !pinned.contains(fpr.as_str()) {
            continue;
        }
        let merged = match by_fingerprint.remove(&fpr) {
            Some(earlier) => earlier
                .merge_public(cert)
                .map_err(|e| unreadable(format_args!("certificate {fpr}: {e}")))?,
            None => cert,
        };
        by_fingerprint.insert(fpr, merged);
    }
    Ok(by_fingerprint.into_values().collect())
}

struct Helper<'a> {
    certs: Vec<Cert>,
    policy: &'a StandardPolicy<'a>,
    min: usize,
    good: BTreeSet<String>,
    problems: Vec<String>,
}

impl Helper<'_> {
    /// The certificate must be usable today, not only when it signed.
    fn valid_now(&self, cert: &Cert) -> Result<(), String> {
        let vc = cert
            .with_policy(self.policy, None)
            .map_err(|e| format!("not valid now: {e}"))?;
        vc.alive()
            .map_err(|e| format!("expired or not yet valid: {e}"))?;
        if let RevocationStatus::Revoked(_) = vc.revocation_status() {
            return Err("revoked".to_owned());
        }
        Ok(())
    }
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.certs.clone())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure {
            match layer {
                MessageLayer::SignatureGroup { results } => {
                    for r in results {
                        match r {
                            Ok(GoodChecksum { ka, .. }) => {
                                let cert = ka.cert();
                                let fpr = cert.fingerprint().to_hex();
                                match self.valid_now(cert) {
                                    Ok(()) => {
                                        self.good.insert(fpr);
                                    }
                                    Err(why) => self.problems.push(format!("signer {fpr}: key {why}")),
                                }
                            }
                            Err(VerificationError::MissingKey { sig }) => {
                                let issuers: Vec<String> =
                                    sig.get_issuers().iter().map(|h| h.to_hex()).collect();
                                self.problems.push(format!(
                                    "signature by unknown (unpinned) signer {}",
                                    issuers.join("/")
                                ));
                            }
                            Err(VerificationError::UnboundKey { cert, error, .. }) => self.problems.push(format!(
                                "signer {}: key not valid under the standard policy: {error}",
                                cert.fingerprint().to_hex()
                            )),
                            Err(VerificationError::BadKey { ka, error, .. }) => self.problems.push(format!(
                                "signer {}: key unusable (expired, revoked or not signing-capable): {error}",
                                ka.cert().fingerprint().to_hex()
                            )),
                            Err(VerificationError::BadSignature { ka, error, .. }) => self.problems.push(format!(
                                "bad signature by {} (data altered or signature over other bytes): {error}",
                                ka.cert().fingerprint().to_hex()
                            )),
                            Err(e) => self.problems.push(format!("unusable signature: {e}")),
                        }
                    }
                }
                MessageLayer::Compression { .. } => {
                    self.problems.push("unexpected compression layer".into())
                }
                MessageLayer::Encryption { .. } => {
                    self.problems.push("unexpected encryption layer".into())
                }
            }
        }
        if self.good.len() >= self.min {
            Ok(())
        } else {
            Err(openpgp::Error::InvalidOperation(format!(
                "{} of {} required signer(s) verified",
                self.good.len(),
                self.min
            ))
            .into())
        }
    }
}
