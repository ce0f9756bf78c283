//! The policy: whose testimonies count, how many are needed, and what a dissent
//! does. Written in TOML:
//!
//! ```toml
//! threshold = 2              # distinct votes (groups) needed for each .deb
//! min_review = 2             # optional, default 0: minimum witness code-review score
//! min_trust = 50             # optional, default 0: minimum witness computer-trust score
//! max_age_days = 365         # optional: signatures older than this do not count
//! accept_v1 = true           # optional, default true: count v1 testimonies (matched by file name)
//! dissent = "refuse"         # optional, "refuse" (default) or "report"
//! require_source_manifest_sha256 = "<sha256>"  # optional: only builds of this source pin count
//!
//! [[witness]]
//! name = "alice"
//! fingerprint = "<40 hex>"   # OpenPGP primary key fingerprint; spaces allowed
//! group = "org-a"            # optional: one vote per group (default: the witness alone)
//! ```
//!
//! Unknown keys are errors. A fingerprint listed twice is one witness (the first
//! entry's name and group are used), and all witnesses of one group together give
//! at most one vote. `threshold` must be at least 1 and at most the number of
//! distinct groups (a policy that can never pass is refused up front).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::canonical::{self, Fingerprint};
use crate::error::{Format, ParseError};

/// What a valid dissent from a trusted witness does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DissentRule {
    /// Refuse the package (default).
    #[default]
    Refuse,
    /// Show the dissent but decide by the threshold alone.
    Report,
}

/// A trusted witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Witness {
    /// Display name.
    pub name: String,
    /// Primary key fingerprint.
    pub fingerprint: Fingerprint,
    /// Vote group (organisation); defaults to the fingerprint, i.e. its own group.
    pub group: String,
}

/// A parsed, checked policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Distinct group votes needed per .deb.
    pub threshold: usize,
    /// Minimum code-review score.
    pub min_review: u8,
    /// Minimum computer-trust score.
    pub min_trust: u16,
    /// Maximum signature age in days.
    pub max_age_days: Option<u64>,
    /// Whether v1 testimonies count.
    pub accept_v1: bool,
    /// What a dissent does.
    pub dissent: DissentRule,
    /// Required source pin (manifest sha256), if any.
    pub require_source_manifest_sha256: Option<String>,
    /// Witnesses, one per fingerprint, in file order.
    pub witnesses: Vec<Witness>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    threshold: i64,
    #[serde(default)]
    min_review: i64,
    #[serde(default)]
    min_trust: i64,
    max_age_days: Option<i64>,
    #[serde(default = "yes")]
    accept_v1: bool,
    #[serde(default)]
    dissent: DissentRule,
    require_source_manifest_sha256: Option<String>,
    #[serde(default)]
    witness: Vec<RawWitness>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWitness {
    name: String,
    fingerprint: String,
    group: Option<String>,
}

impl Policy {
    /// Parses and checks a TOML policy.
    pub fn parse(text: &str) -> Result<Policy, ParseError> {
        let perr = |p: String| ParseError::new(Format::Policy, 0, p);
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            ParseError::new(Format::Policy, line, e.message().to_string())
        })?;
        if raw.threshold < 1 {
            return Err(perr(format!(
                "threshold must be at least 1, found {}",
                raw.threshold
            )));
        }
        if !(0..=10).contains(&raw.min_review) {
            return Err(perr(format!(
                "min_review must be 0..=10, found {}",
                raw.min_review
            )));
        }
        if !(0..=300).contains(&raw.min_trust) {
            return Err(perr(format!(
                "min_trust must be 0..=300, found {}",
                raw.min_trust
            )));
        }
        if let Some(d) = raw.max_age_days
            && d < 0
        {
            return Err(perr(format!(
                "max_age_days must not be negative, found {d}"
            )));
        }
        if let Some(p) = &raw.require_source_manifest_sha256
            && !canonical::is_sha256_hex(p)
        {
            return Err(perr(format!(
                "require_source_manifest_sha256 must be 64 lowercase hex digits, found {p:?}"
            )));
        }
        let mut witnesses: Vec<Witness> = Vec::new();
        for w in raw.witness {
            let fingerprint = Fingerprint::parse(&w.fingerprint).ok_or_else(|| {
                perr(format!(
                    "witness {:?}: fingerprint must be 40 hex digits (ASCII, spaces allowed), found {:?}",
                    w.name, w.fingerprint
                ))
            })?;
            if w.name.trim().is_empty() || !canonical::is_canonical_value(&w.name) {
                return Err(perr(format!(
                    "witness name {:?} is empty or has control characters",
                    w.name
                )));
            }
            if witnesses.iter().any(|x| x.fingerprint == fingerprint) {
                continue; // listed twice: one witness, one vote
            }
            let group = match w.group {
                Some(g) if g.trim().is_empty() => {
                    return Err(perr(format!("witness {:?}: empty group", w.name)));
                }
                Some(g) => g,
                None => format!("key:{fingerprint}"),
            };
            witnesses.push(Witness {
                name: w.name,
                fingerprint,
                group,
            });
        }
        let groups: BTreeSet<&str> = witnesses.iter().map(|w| w.group.as_str()).collect();
        if raw.threshold as u64 > groups.len() as u64 {
            return Err(perr(format!(
                "threshold {} can never be met: the policy has {} distinct witness group(s)",
                raw.threshold,
                groups.len()
            )));
        }
        Ok(Policy {
            threshold: raw.threshold as usize,
            min_review: raw.min_review as u8,
            min_trust: raw.min_trust as u16,
            max_age_days: raw.max_age_days.map(|d| d as u64),
            accept_v1: raw.accept_v1,
            dissent: raw.dissent,
            require_source_manifest_sha256: raw.require_source_manifest_sha256,
            witnesses,
        })
    }

    /// The witness with this primary fingerprint, if trusted.
    pub fn witness(&self, fpr: &Fingerprint) -> Option<&Witness> {
        self.witnesses.iter().find(|w| &w.fingerprint == fpr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "3B5E53EA09D17B456B50535376514DB1347E0C90";
    const B: &str = "253E586986F878D96C95CD5307C480514316B717";

    #[test]
    fn duplicates_and_groups() {
        let p = Policy::parse(&format!(
            "threshold = 1\n[[witness]]\nname = \"a\"\nfingerprint = \"{A}\"\ngroup = \"g\"\n[[witness]]\nname = \"a again\"\nfingerprint = \"{}\"\n[[witness]]\nname = \"b\"\nfingerprint = \"{B}\"\ngroup = \"g\"\n",
            A.to_lowercase()
        ))
        .unwrap();
        assert_eq!(p.witnesses.len(), 2);
        assert_eq!(p.witnesses[0].name, "a");
        assert_eq!(p.dissent, DissentRule::Refuse);
        assert!(p.accept_v1);
    }

    #[test]
    fn rejections() {
        let w = format!("[[witness]]\nname = \"a\"\nfingerprint = \"{A}\"\n");
        for bad in [
            format!("threshold = 0\n{w}"),
            format!("threshold = 2\n{w}"),
            format!("threshold = 1\nunknown = 1\n{w}"),
            format!("threshold = 1\nmin_review = 11\n{w}"),
            format!("threshold = 1\nmin_trust = 301\n{w}"),
            format!("threshold = 1\ndissent = \"ignore\"\n{w}"),
            format!("threshold = 1\nrequire_source_manifest_sha256 = \"abc\"\n{w}"),
            format!("threshold = 1\n{}", w.replace("3B5E", "3B5\u{0415}")),
            format!("threshold = 1\n{}", w.replace("name", "nick")),
            "threshold = \"1\"\n".into(),
        ] {
            assert!(Policy::parse(&bad).is_err(), "accepted:\n{bad}");
        }
        let e = Policy::parse(&format!("threshold = 1\n{w}bogus = 1\n")).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
    }
}
