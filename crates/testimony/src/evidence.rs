//! One testimony file after signature checking and parsing: [`Evidence`].
//!
//! Only signed text is parsed, and it is parsed **once** into typed values
//! ([`Testimony`]): a v1 text is validated into [`V1Fields`] here, and the
//! verdict never looks at its raw lines again.

use std::time::SystemTime;

use crate::error::ParseError;
use crate::v1::{V1Fields, V1Testimony};
use crate::v2::TestimonyV2;
use crate::verify::{self, Keyring, Outside, SignatureOutcome};

/// A parsed, validated testimony of either version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Testimony {
    /// The seed's format, its known fields validated and typed.
    V1(Box<V1Fields>),
    /// The canonical format.
    V2(Box<TestimonyV2>),
}

impl Testimony {
    /// Parses a (signed) text: `samekernel-testimony=` on the first line means the
    /// strict v2 parser (an unknown version is an error), anything else is v1,
    /// whose known fields must validate.
    pub fn parse(text: &str) -> Result<Testimony, ParseError> {
        if text.starts_with("samekernel-testimony=") {
            TestimonyV2::parse(text).map(|t| Testimony::V2(Box::new(t)))
        } else {
            V1Testimony::parse(text)
                .fields()
                .map(|f| Testimony::V1(Box::new(f)))
        }
    }
}

/// One testimony file after signature checking and parsing.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// File name or URL.
    pub origin: String,
    /// Signature outcomes (empty if the file could not be read as OpenPGP).
    pub signatures: Vec<SignatureOutcome>,
    /// Unsigned text around a cleartext message.
    pub outside: Outside,
    /// The parsed signed text: `None` when no signature was good (unverified
    /// text is never parsed).
    pub testimony: Option<Result<Testimony, ParseError>>,
    /// Why the file is unusable as a whole, if it is.
    pub error: Option<String>,
}

impl Evidence {
    /// Evidence from a file that could not be read or checked at all.
    pub fn failed(origin: &str, e: impl std::fmt::Display) -> Evidence {
        Evidence {
            origin: origin.into(),
            signatures: Vec::new(),
            outside: Outside::default(),
            testimony: None,
            // The errors of this crate start with the origin; say it once.
            error: Some(strip_origin(&e.to_string(), origin).to_string()),
        }
    }

    /// Drops what the verdict does not use (the per-file hashes inside each .deb
    /// of a v2 testimony), so that checking many large testimonies keeps memory
    /// flat.
    pub fn compact(&mut self) {
        if let Some(Ok(Testimony::V2(t))) = &mut self.testimony {
            for d in &mut t.debs {
                d.files = Vec::new();
            }
        }
    }

    /// Checks and parses a cleartext-signed testimony. Never fails: problems are
    /// recorded and become `invalid` cells or ignored entries.
    pub fn from_cleartext(
        file: &[u8],
        keyring: &Keyring,
        at: SystemTime,
        origin: &str,
    ) -> Evidence {
        match verify::verify_cleartext(file, keyring, at, origin) {
            Err(e) => Evidence::failed(origin, e),
            Ok(v) => {
                let any_good = !v.good_signers().is_empty();
                Evidence {
                    origin: origin.into(),
                    testimony: any_good
                        .then(|| Testimony::parse(&v.text).map_err(|e| e.with_origin(origin))),
                    signatures: v.signatures,
                    outside: v.outside,
                    error: None,
                }
            }
        }
    }

    /// Checks and parses a testimony with a detached signature.
    pub fn from_detached(
        data: &[u8],
        signature: &[u8],
        keyring: &Keyring,
        at: SystemTime,
        origin: &str,
    ) -> Evidence {
        match verify::verify_detached(data, signature, keyring, at, origin) {
            Err(e) => Evidence::failed(origin, e),
            Ok(sigs) => {
                let any_good = sigs
                    .iter()
                    .any(|s| matches!(s, SignatureOutcome::Good { .. }));
                let testimony = any_good.then(|| match std::str::from_utf8(data) {
                    Ok(t) => Testimony::parse(t).map_err(|e| e.with_origin(origin)),
                    Err(_) => {
                        Err(ParseError::new(crate::Format::V1, 0, "not UTF-8").with_origin(origin))
                    }
                });
                Evidence {
                    origin: origin.into(),
                    signatures: sigs,
                    outside: Outside::default(),
                    testimony,
                    error: None,
                }
            }
        }
    }
}

fn strip_origin<'a>(message: &'a str, origin: &str) -> &'a str {
    message
        .strip_prefix(origin)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message)
}
