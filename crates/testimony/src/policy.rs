//! The policy: whose testimonies count, how many are needed, and what a dissent
//! does. Written in TOML:
//!
//! ```toml
//! threshold = 2              # distinct votes (groups) needed for each .deb
//! min_review = 2             # optional, default 0: minimum witness code-review score
//! min_trust = 50             # optional, default 0: minimum witness computer-trust score
//! max_age_days = 365         # optional: signatures older than this do not count
//! accept_v1 = false          # optional, default false: count the seed's v1 testimonies
//! dissent = "refuse"         # optional, "refuse" (default) or "report"
//! require_source_manifest_sha256 = "<sha256>"  # optional: only builds of this source pin count
//! min_hardening_ok = 90      # optional: the testimony's build passed at least this many
//!                            # self-protection rules (harden's table)
//! forbid_failed_rules = ["kconfig:STACKPROTECTOR_STRONG"]  # optional: none of these may fail
//! require_hardening_enforced = true  # optional, default false: no --allow-weaker/--no-harden
//!
//! [[witness]]
//! name = "alice"
//! fingerprint = "<40 hex>"   # OpenPGP primary key fingerprint; spaces allowed
//! group = "org-a"            # optional: one vote per group (default: the witness alone)
//! ```
//!
//! Unknown keys are errors. A fingerprint listed twice is an error (which name
//! and group would count?), and all witnesses of one group together give at most
//! one vote.
//!
//! **v1 is off by default.** A v1 testimony is any signed text with
//! `my-checksum=` lines: it names no witness key, no source pin and no package
//! identity, only a file name and a hash. A careful user opts in with
//! `accept_v1 = true` (for witnesses who only publish the seed's format); v1
//! entries then match a .deb by its hash or by its Debian file name
//! `PACKAGE_VERSION_ARCH.deb` (see [`crate::verdict`]). `threshold` must be at least 1 and at most the number of
//! distinct groups (a policy that can never pass is refused up front).
//!
//! **Hardening minimums.** `min_hardening_ok`, `forbid_failed_rules` and
//! `require_hardening_enforced` read the hardening block a v2 testimony copies from its
//! build record; a testimony without one (v1, or older builds) does not meet any of them.
//! Like the other minimums, a testimony below them is neither a vote nor a dissent.

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
    /// Minimum self-protection rules the testimony's build passed.
    pub min_hardening_ok: Option<u64>,
    /// Rule ids that must not be among the build's failed rules.
    pub forbid_failed_rules: Vec<String>,
    /// The build must have enforced its hardening policy (no `--allow-weaker`/`--no-harden`).
    pub require_hardening_enforced: bool,
    /// Witnesses, one per fingerprint, in file order.
    pub witnesses: Vec<Witness>,
}

impl Policy {
    /// Whether any hardening minimum is set.
    pub fn requires_hardening(&self) -> bool {
        self.min_hardening_ok.is_some()
            || !self.forbid_failed_rules.is_empty()
            || self.require_hardening_enforced
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    threshold: toml::Spanned<i64>,
    #[serde(default)]
    min_review: i64,
    #[serde(default)]
    min_trust: i64,
    max_age_days: Option<i64>,
    #[serde(default)]
    accept_v1: bool,
    #[serde(default)]
    dissent: DissentRule,
    require_source_manifest_sha256: Option<String>,
    min_hardening_ok: Option<i64>,
    #[serde(default)]
    forbid_failed_rules: Vec<String>,
    #[serde(default)]
    require_hardening_enforced: bool,
    #[serde(default)]
    witness: Vec<RawWitness>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWitness {
    name: toml::Spanned<String>,
    fingerprint: toml::Spanned<String>,
    group: Option<toml::Spanned<String>>,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Policy {
    /// Parses and checks a TOML policy.
    pub fn parse(text: &str) -> Result<Policy, ParseError> {
        let perr = |p: String| ParseError::new(Format::Policy, 0, p);
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            ParseError::new(Format::Policy, line, e.message().to_string())
        })?;
        let threshold_line = line_of(text, raw.threshold.span().start);
        let threshold = *raw.threshold.get_ref();
        let at_threshold = |p: String| ParseError::new(Format::Policy, threshold_line, p);
        if threshold < 1 {
            return Err(at_threshold(format!(
                "threshold must be at least 1, found {threshold}"
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
        if let Some(n) = raw.min_hardening_ok
            && n < 0
        {
            return Err(perr(format!(
                "min_hardening_ok must not be negative, found {n}"
            )));
        }
        if let Some(id) = (raw.forbid_failed_rules.iter())
            .find(|id| id.is_empty() || id.contains(' ') || !id.contains(':'))
        {
            return Err(perr(format!(
                "forbid_failed_rules: {id:?} is not a rule id (like \"kconfig:STACKPROTECTOR_STRONG\")"
            )));
        }
        let witnesses = witnesses(text, raw.witness)?;
        let groups: BTreeSet<&str> = witnesses.iter().map(|w| w.group.as_str()).collect();
        if threshold as u64 > groups.len() as u64 {
            return Err(at_threshold(format!(
                "threshold {threshold} can never be met: the policy has {} distinct witness group(s); lower it or add witnesses of other groups",
                groups.len()
            )));
        }
        Ok(Policy {
            threshold: threshold as usize,
            min_review: raw.min_review as u8,
            min_trust: raw.min_trust as u16,
            max_age_days: raw.max_age_days.map(|d| d as u64),
            accept_v1: raw.accept_v1,
            dissent: raw.dissent,
            require_source_manifest_sha256: raw.require_source_manifest_sha256,
            min_hardening_ok: raw.min_hardening_ok.map(|n| n as u64),
            forbid_failed_rules: raw.forbid_failed_rules,
            require_hardening_enforced: raw.require_hardening_enforced,
            witnesses,
        })
    }

    /// Names the witness whose policy fingerprint is a subkey, if any:
    /// `primary_of(fpr)` says whose subkey a fingerprint is.
    pub fn subkey_witness(
        &self,
        primary_of: impl Fn(&Fingerprint) -> Option<Fingerprint>,
    ) -> Option<(&Witness, Fingerprint)> {
        self.witnesses
            .iter()
            .find_map(|w| primary_of(&w.fingerprint).map(|p| (w, p)))
    }

    /// The witness with this primary fingerprint, if trusted.
    pub fn witness(&self, fpr: &Fingerprint) -> Option<&Witness> {
        self.witnesses.iter().find(|w| &w.fingerprint == fpr)
    }
}

/// Checks the `[[witness]]` entries: fingerprints, names, groups, no duplicates.
fn witnesses(text: &str, raw: Vec<RawWitness>) -> Result<Vec<Witness>, ParseError> {
    let mut out: Vec<(Witness, usize)> = Vec::new();
    for w in raw {
        let line = line_of(text, w.fingerprint.span().start);
        let at = |l: usize, p: String| ParseError::new(Format::Policy, l, p);
        let name = w.name.into_inner();
        let fingerprint = Fingerprint::parse(w.fingerprint.get_ref()).ok_or_else(|| {
            at(line, format!(
                "witness {name:?}: fingerprint must be 40 hex digits (ASCII, spaces allowed), found {:?}",
                w.fingerprint.get_ref()
            ))
        })?;
        if name.trim().is_empty() || !canonical::is_canonical_value(&name) {
            return Err(at(
                line,
                format!("witness name {name:?} is empty or has control characters"),
            ));
        }
        if let Some((first, first_line)) = out.iter().find(|(x, _)| x.fingerprint == fingerprint) {
            return Err(at(
                line,
                format!(
                    "witness {name:?} has the fingerprint of witness {:?} (line {first_line}); list each key once",
                    first.name
                ),
            ));
        }
        let group = match w.group.map(toml::Spanned::into_inner) {
            Some(g) if g.trim().is_empty() => {
                return Err(at(line, format!("witness {name:?}: empty group")));
            }
            Some(g) => g,
            None => format!("key:{fingerprint}"),
        };
        out.push((
            Witness {
                name,
                fingerprint,
                group,
            },
            line,
        ));
    }
    Ok(out.into_iter().map(|(w, _)| w).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "3B5E53EA09D17B456B50535376514DB1347E0C90";
    const B: &str = "253E586986F878D96C95CD5307C480514316B717";

    #[test]
    fn a_duplicate_fingerprint_is_refused_naming_both_lines() {
        let e = Policy::parse(&format!(
            "threshold = 1\n[[witness]]\nname = \"a\"\nfingerprint = \"{A}\"\ngroup = \"g\"\n[[witness]]\nname = \"a again\"\nfingerprint = \"{}\"\n",
            A.to_lowercase()
        ))
        .unwrap_err();
        assert_eq!(e.line, 8, "{e}");
        assert!(
            e.problem.contains("\"a again\"") && e.problem.contains("line 4"),
            "{e}"
        );
    }

    #[test]
    fn groups_and_careful_defaults() {
        let p = Policy::parse(&format!(
            "threshold = 1\n[[witness]]\nname = \"a\"\nfingerprint = \"{A}\"\ngroup = \"g\"\n[[witness]]\nname = \"b\"\nfingerprint = \"{B}\"\ngroup = \"g\"\n",
        ))
        .unwrap();
        assert_eq!(p.witnesses.len(), 2);
        assert_eq!(p.dissent, DissentRule::Refuse);
        assert!(!p.accept_v1, "v1 must be opted into");
        assert!(Policy::parse(&format!("threshold = 2\n[[witness]]\nname = \"a\"\nfingerprint = \"{A}\"\ngroup = \"g\"\n[[witness]]\nname = \"b\"\nfingerprint = \"{B}\"\ngroup = \"g\"\n")).is_err());
    }

    #[test]
    fn threshold_errors_name_their_line() {
        let w = format!("[[witness]]\nname = \"a\"\nfingerprint = \"{A}\"\n");
        for bad in [
            format!("# c\nthreshold = 0\n{w}"),
            format!("# c\nthreshold = 2\n{w}"),
        ] {
            let e = Policy::parse(&bad).unwrap_err();
            assert_eq!(e.line, 2, "{e}");
        }
    }

    #[test]
    fn witness_errors_name_their_line() {
        let e = Policy::parse(&format!(
            "threshold = 1\n[[witness]]\nname = \"a\"\nfingerprint = \"{A}\"\n[[witness]]\nname = \"b\"\nfingerprint = \"nope\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.line, 7, "{e}");
        assert!(!e.to_string().contains("line 0"));
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
