//! From verified testimonies to a verdict, as data.
//!
//! For every .deb ([`Subject`]) and every policy witness the verdict holds one
//! [`Cell`]:
//!
//! - **agree**: a valid testimony, signed by the witness's key, lists this .deb
//!   with the same sha256 (and, v2, size), and meets the policy's
//!   review/trust/age/source-pin minimums;
//! - **dissent**: a valid testimony by the witness lists the same .deb with a
//!   *different* hash or size. Quality minimums do not silence a dissent (a
//!   low-scored witness who built something else still built something else);
//!   only a testimony for a different required source pin is not a dissent,
//!   because it is not the same build;
//! - **invalid([`InvalidReason`])**: the witness's testimony exists but cannot
//!   count: bad, expired or revoked signature, unparsable text, fingerprint
//!   mismatch, below a minimum ([`Problem`])…;
//! - **silent**: nothing from this witness about this .deb (a testimony for
//!   another package or version is silent about this one, so replaying it gains
//!   nothing).
//!
//! "Lists this .deb" means, for v2, an entry with this Package + Version +
//! Architecture (from the .deb's own control file). A v1 entry is only
//! `<file name> <sha256>`: it is about this .deb when its hash is this .deb's
//! hash, or when its file name is the Debian name `PACKAGE_VERSION_ARCH.deb` of
//! this .deb's control fields (epoch dropped, kept, or written `%3a` as apt
//! does: [`Subject::is_named_by`]). The local file name of the .deb
//! never matters, so renaming a file cannot dodge a dissent.
//!
//! The steps, each a small function with its own table of tests:
//! [`attribute`] (whose signature is it?), [`facts`] (what does the
//! testimony say, typed once?), [`policy_problems`] and [`pin_problem`] (does
//! it meet the policy?), [`cell`] (what does it say about one .deb?), [`tally`]
//! (one row's outcome) and [`decide`] (the whole verdict).
//!
//! Several testimonies of one witness combine as dissent > agree > invalid >
//! silent. Votes are counted per **group**: witnesses sharing a group give at most
//! one vote. A .deb passes when agreeing groups ≥ threshold and (under the default
//! `dissent = "refuse"`) no witness dissents. The whole verdict passes when every
//! .deb passes; [`Decision`] names the rule that decided, and
//! [`Verdict::exit_code`] maps it to 0 (pass), 3 (not enough votes), 4 (dissent).
//!
//! Signatures by keys that are not policy witnesses never count; they are listed
//! in [`Verdict::ignored`] with the reason.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use crate::canonical::{self, Fingerprint};
use crate::error::Error;
pub use crate::evidence::{Evidence, Testimony};
use crate::policy::{DissentRule, Policy, Witness};
use crate::verify::{Keyring, SignatureOutcome};

/// A .deb to decide about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// File name, for display only (nothing is matched by it).
    pub file_name: String,
    /// `Package:`.
    pub package: String,
    /// `Version:`.
    pub version: String,
    /// `Architecture:`.
    pub architecture: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256 of the file.
    pub sha256: String,
}

impl Subject {
    /// Hashes the .deb at `path` (streaming, constant memory) and names it with
    /// the given control fields.
    pub fn from_file(
        path: &Path,
        package: &str,
        version: &str,
        architecture: &str,
    ) -> Result<Subject, Error> {
        let f = crate::collect::open_regular(path).map_err(|e| Error::io(path, e))?;
        let (sha256, size) = canonical::sha256_reader(f).map_err(|e| Error::io(path, e))?;
        Ok(Subject {
            file_name: canonical::shown_name(
                &path
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default(),
            ),
            package: package.into(),
            version: version.into(),
            architecture: architecture.into(),
            size,
            sha256,
        })
    }

    /// The Debian file name of this package: `PACKAGE_VERSION_ARCH.deb`, the
    /// version without its epoch (as dpkg-deb and the archive name files).
    pub fn debian_file_name(&self) -> String {
        format!(
            "{}_{}_{}.deb",
            self.package,
            without_epoch(&self.version),
            self.architecture
        )
    }

    /// Whether a v1 testimony's file name names this package: the Debian file
    /// name, or the same with the epoch kept (`P_1:2.0-1_A.deb`, as a record's
    /// `deb=` may carry it) or URL-encoded as apt saves it (`P_1%3a2.0-1_A.deb`).
    pub fn is_named_by(&self, file_name: &str) -> bool {
        let (p, v, a) = (&self.package, &self.version, &self.architecture);
        let with_epoch = |version: &str| format!("{p}_{version}_{a}.deb");
        file_name == self.debian_file_name()
            || (v.contains(':')
                && (file_name == with_epoch(v)
                    || file_name.replace("%3A", "%3a") == with_epoch(&v.replace(':', "%3a"))))
    }
}

fn without_epoch(version: &str) -> &str {
    match version.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => version,
    }
}

/// A policy minimum a testimony does not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// A v1 testimony, and the policy does not set `accept_v1 = true`.
    V1NotAccepted,
    /// `witness-code-review` / `my-code-review` below `min_review`.
    ReviewBelowMinimum {
        /// The witness's score.
        review: u8,
        /// The policy's minimum.
        minimum: u8,
    },
    /// `witness-computer-trust` / `my-computer-trust` below `min_trust`.
    TrustBelowMinimum {
        /// The witness's score.
        trust: u16,
        /// The policy's minimum.
        minimum: u16,
    },
    /// Signed longer ago than `max_age_days`.
    TooOld {
        /// Age of the signature in whole days.
        age_days: u64,
        /// The policy's maximum.
        max_age_days: u64,
    },
    /// The policy has hardening minimums and the testimony carries no hardening block.
    NoHardening,
    /// Fewer self-protection rules passed than `min_hardening_ok`.
    HardeningBelowMinimum {
        /// Rules that passed.
        ok: u64,
        /// The policy's minimum.
        minimum: u64,
    },
    /// A rule in `forbid_failed_rules` failed.
    ForbiddenRuleFailed {
        /// The rule id.
        rule: String,
    },
    /// The build was made with `--allow-weaker` or `--no-harden`.
    HardeningNotEnforced {
        /// `allow-weaker` or `off`.
        mode: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::V1NotAccepted => f.write_str(
                "v1 testimonies are not accepted by the policy (set accept_v1 = true to count them)",
            ),
            Problem::ReviewBelowMinimum { review, minimum } => {
                write!(f, "code review {review} is below the policy's min_review {minimum}")
            }
            Problem::TrustBelowMinimum { trust, minimum } => {
                write!(f, "computer trust {trust} is below the policy's min_trust {minimum}")
            }
            Problem::TooOld {
                age_days,
                max_age_days,
            } => write!(
                f,
                "signed {age_days} day(s) ago, the policy's max_age_days is {max_age_days}"
            ),
            Problem::NoHardening => f.write_str(
                "no hardening results (a v1 testimony, or a build older than the hardening gate), and the policy sets hardening minimums",
            ),
            Problem::HardeningBelowMinimum { ok, minimum } => write!(
                f,
                "{ok} self-protection rules passed, below the policy's min_hardening_ok {minimum}"
            ),
            Problem::ForbiddenRuleFailed { rule } => {
                write!(f, "{rule} failed in this build (forbid_failed_rules)")
            }
            Problem::HardeningNotEnforced { mode } => write!(
                f,
                "built with hardening-mode={mode} (require_hardening_enforced)"
            ),
        }
    }
}

/// Why a witness's testimony does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum InvalidReason {
    /// The witness's signature is bad, expired or revoked.
    Signature {
        /// The outcome.
        outcome: SignatureOutcome,
    },
    /// Good signature, but the signed text is not a valid testimony.
    NotATestimony {
        /// The parse error.
        error: String,
    },
    /// A v2 testimony naming another witness key than the one that signed it.
    WrongWitnessKey {
        /// `witness-fingerprint` in the text.
        named: Fingerprint,
        /// The key that signed.
        signed_by: Fingerprint,
    },
    /// Built from another source pin than the policy requires.
    OtherSourcePin {
        /// The testimony's pin.
        pin: String,
        /// The policy's.
        required: String,
    },
    /// A v1 testimony (no source pin) under a policy that requires one.
    NoSourcePin {
        /// The policy's.
        required: String,
    },
    /// The testimony lists this .deb twice with different hashes.
    Contradictory,
    /// Policy minimums not met.
    BelowPolicy {
        /// Every minimum not met.
        problems: Vec<Problem>,
    },
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidReason::Signature { outcome } => f.write_str(&outcome.describe()),
            InvalidReason::NotATestimony { error } => {
                write!(f, "signed text is not a valid testimony: {error}")
            }
            InvalidReason::WrongWitnessKey { named, signed_by } => write!(
                f,
                "testimony names witness key {named} but is signed by {signed_by}"
            ),
            InvalidReason::OtherSourcePin { pin, required } => {
                write!(
                    f,
                    "built from source pin {pin}, the policy requires {required}"
                )
            }
            InvalidReason::NoSourcePin { required } => write!(
                f,
                "a v1 testimony carries no source pin, the policy requires {required}"
            ),
            InvalidReason::Contradictory => {
                f.write_str("the testimony lists this .deb with two different hashes")
            }
            InvalidReason::BelowPolicy { problems } => {
                let p: Vec<String> = problems.iter().map(Problem::to_string).collect();
                f.write_str(&p.join("; "))
            }
        }
    }
}

/// What one witness says about one .deb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cell", rename_all = "snake_case")]
pub enum Cell {
    /// Nothing from this witness about this .deb.
    Silent,
    /// A testimony exists but does not count.
    Invalid {
        /// Why.
        reason: InvalidReason,
        /// Which file.
        origin: String,
    },
    /// Same hash: a vote.
    Agree {
        /// Which file.
        origin: String,
    },
    /// Different hash or size for the same .deb.
    Dissent {
        /// The hash the witness got.
        sha256: String,
        /// The size the witness got (v2; v1 does not say).
        size: Option<u64>,
        /// Which file.
        origin: String,
    },
}

impl Cell {
    fn rank(&self) -> u8 {
        match self {
            Cell::Silent => 0,
            Cell::Invalid { .. } => 1,
            Cell::Agree { .. } => 2,
            Cell::Dissent { .. } => 3,
        }
    }

    fn merge(&mut self, new: Cell) {
        if new.rank() > self.rank() {
            *self = new;
        }
    }

    /// A short word: `agree`, `DISSENT`, `silent`, `invalid`.
    pub fn word(&self) -> &'static str {
        match self {
            Cell::Silent => "silent",
            Cell::Invalid { .. } => "invalid",
            Cell::Agree { .. } => "agree",
            Cell::Dissent { .. } => "DISSENT",
        }
    }
}

/// The result for one .deb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum DebOutcome {
    /// Enough agreeing groups, no refusing dissent.
    Pass {
        /// Distinct agreeing groups.
        votes: usize,
    },
    /// Too few agreeing groups.
    NotEnough {
        /// Distinct agreeing groups.
        votes: usize,
        /// The threshold.
        needed: usize,
    },
    /// Refused: trusted witnesses built something else.
    Dissent {
        /// Names of the dissenting witnesses.
        witnesses: Vec<String>,
    },
}

/// The verdict for one .deb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DebVerdict {
    /// The .deb.
    pub subject: Subject,
    /// One cell per policy witness, in [`Verdict::witnesses`] order.
    pub cells: Vec<Cell>,
    /// The groups that voted for it.
    pub agreeing_groups: Vec<String>,
    /// Pass or why not.
    pub outcome: DebOutcome,
}

/// The rule that decided the overall verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Decision {
    /// Every .deb met the threshold without a refusing dissent.
    ThresholdMet,
    /// A trusted witness dissented (first such .deb).
    Dissent {
        /// The .deb file name.
        deb: String,
        /// The dissenting witnesses.
        witnesses: Vec<String>,
    },
    /// Not enough agreeing groups (first such .deb).
    NotEnough {
        /// The .deb file name.
        deb: String,
        /// Distinct agreeing groups.
        votes: usize,
        /// The threshold.
        needed: usize,
    },
    /// No .deb was given: nothing can pass.
    NoDeb,
    /// Some testimony input was not read (a limit, or not a regular file), and
    /// nothing read so far refuses: an unread file might be the dissent, so the
    /// verdict cannot pass. See [`Verdict::refuse_if_unread`].
    Incomplete {
        /// How many files or listed entries were not read.
        unread: usize,
    },
}

/// Why a testimony or signature counted for nobody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum IgnoredReason {
    /// The file could not be read or checked as OpenPGP at all.
    Unusable {
        /// What went wrong.
        error: String,
    },
    /// A file with no signature in it.
    NoSignature,
    /// A signature (not good) whose key is not a policy witness.
    Signature {
        /// The outcome.
        outcome: SignatureOutcome,
    },
    /// A good signature by a key that is not a policy witness.
    NotAWitness {
        /// The signer.
        fingerprint: Fingerprint,
    },
}

impl fmt::Display for IgnoredReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnoredReason::Unusable { error } => f.write_str(error),
            IgnoredReason::NoSignature => f.write_str("no signature"),
            IgnoredReason::Signature { outcome } => f.write_str(&outcome.describe()),
            IgnoredReason::NotAWitness { fingerprint } => write!(
                f,
                "signed by {fingerprint}, which is not a witness in the policy"
            ),
        }
    }
}

/// A testimony or signature that counted for nobody, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// File or URL.
    pub origin: String,
    /// Why it did not count.
    pub reason: IgnoredReason,
}

/// Something the user should see that did not decide anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum Warning {
    /// Unsigned text around the signed part of a file (ignored).
    UnsignedText {
        /// The file.
        origin: String,
        /// Bytes before.
        before: usize,
        /// Bytes after.
        after: usize,
    },
    /// A dissent the policy (`dissent = "report"`) only reports.
    DissentReported {
        /// The .deb.
        deb: String,
        /// The dissenting witnesses.
        witnesses: Vec<String>,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnsignedText {
                origin,
                before,
                after,
            } => write!(
                f,
                "{origin}: {before} byte(s) before and {after} byte(s) after the signed part are not signed and were ignored"
            ),
            Warning::DissentReported { deb, witnesses } => write!(
                f,
                "{deb}: dissent by {} (reported only, per policy)",
                witnesses.join(", ")
            ),
        }
    }
}

/// The whole verdict. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The policy's witnesses: the matrix columns.
    pub witnesses: Vec<Witness>,
    /// One row per .deb.
    pub debs: Vec<DebVerdict>,
    /// Input that counted for nobody.
    pub ignored: Vec<Ignored>,
    /// Warnings (e.g. unsigned text around a signed part).
    pub warnings: Vec<Warning>,
    /// The threshold applied.
    pub threshold: usize,
    /// What decided.
    pub decision: Decision,
}

impl Verdict {
    /// Whether everything passed.
    pub fn passed(&self) -> bool {
        self.decision == Decision::ThresholdMet
    }

    /// 0 pass, 3 not enough votes (or no .deb, or unread testimonies), 4 dissent.
    pub fn exit_code(&self) -> u8 {
        match self.decision {
            Decision::ThresholdMet => 0,
            Decision::NotEnough { .. } | Decision::NoDeb | Decision::Incomplete { .. } => 3,
            Decision::Dissent { .. } => 4,
        }
    }

    /// Turns a pass or a shortage of votes into [`Decision::Incomplete`] when
    /// `unread` testimony files (or listed entries) were left out and a dissent
    /// would refuse (`dissent`): an unread file might be that dissent. Limits
    /// are shared by every source, so without this one source could fill them
    /// and keep a later source's dissent from being read. A dissent that was
    /// read, and "no .deb", stay as they are; under `dissent = "report"` an
    /// unread file could not change the decision.
    pub fn refuse_if_unread(mut self, unread: usize, dissent: DissentRule) -> Verdict {
        let open = matches!(
            self.decision,
            Decision::ThresholdMet | Decision::NotEnough { .. }
        );
        if unread > 0 && open && dissent == DissentRule::Refuse {
            self.decision = Decision::Incomplete { unread };
        }
        self
    }

    /// The who-agrees matrix (.deb × witness) as a plain-text table, then the
    /// reasons behind `invalid` and `DISSENT` cells and the decision.
    pub fn to_table(&self) -> String {
        let mut s = self.matrix();
        for d in &self.debs {
            for (c, w) in d.cells.iter().zip(&self.witnesses) {
                if let Some(line) = explain(c, &d.subject) {
                    s.push_str(&format!("{}: {}: {line}\n", d.subject.file_name, w.name));
                }
            }
        }
        for i in &self.ignored {
            s.push_str(&format!("ignored {}: {}\n", i.origin, i.reason));
        }
        for w in &self.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        s.push_str(&match &self.decision {
            Decision::ThresholdMet => format!("PASS: every .deb has at least {} agreeing independent witness group(s) and no dissent\n", self.threshold),
            Decision::NotEnough { deb, votes, needed } => format!("FAIL (not enough): {deb} has {votes} agreeing witness group(s), the policy needs {needed}\n"),
            Decision::Dissent { deb, witnesses } => format!("FAIL (dissent): {} built {deb} differently\n", witnesses.join(", ")),
            Decision::NoDeb => "FAIL: no .deb was given\n".to_string(),
            Decision::Incomplete { unread } => format!("FAIL (incomplete): {unread} testimony file(s) were not read (listed below as skipped), and any of them might be a dissent; give fewer or smaller testimony sources\n"),
        });
        s
    }

    fn matrix(&self) -> String {
        let mut s = String::new();
        let debw = self
            .debs
            .iter()
            .map(|d| d.subject.file_name.chars().count())
            .max()
            .unwrap_or(3)
            .max(3);
        let colw: Vec<usize> = (self.witnesses.iter())
            .map(|w| w.name.chars().count().max(7))
            .collect();
        s.push_str(&format!("{:debw$}", "deb"));
        for (w, cw) in self.witnesses.iter().zip(&colw) {
            s.push_str(&format!("  {:cw$}", w.name));
        }
        s.push_str("  votes\n");
        for d in &self.debs {
            s.push_str(&format!("{:debw$}", d.subject.file_name));
            for (c, cw) in d.cells.iter().zip(&colw) {
                s.push_str(&format!("  {:cw$}", c.word()));
            }
            let votes = d.agreeing_groups.len();
            s.push_str(&format!("  {votes}/{}\n", self.threshold));
        }
        s
    }
}

/// The line explaining an `invalid` or `DISSENT` cell.
fn explain(c: &Cell, subject: &Subject) -> Option<String> {
    match c {
        Cell::Invalid { reason, origin } => Some(format!("invalid: {reason} ({origin})")),
        Cell::Dissent {
            sha256,
            size,
            origin,
        } if *sha256 == subject.sha256 => Some(format!(
            "DISSENT: same sha256, but the witness's file has {} byte(s) and this file {} ({origin})",
            size.unwrap_or(0),
            subject.size
        )),
        Cell::Dissent { sha256, origin, .. } => Some(format!(
            "DISSENT: built sha256 {sha256}, this file is sha256 {} ({origin})",
            subject.sha256
        )),
        _ => None,
    }
}

/// Whose signature is this, as far as the policy is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution {
    /// A good signature by the witness at this index, made at `signed_at`.
    Witness {
        /// Index in [`Policy::witnesses`].
        index: usize,
        /// Signature time, Unix seconds.
        signed_at: u64,
    },
    /// A failed signature by a witness: all its cells of this file are invalid.
    WitnessFailed {
        /// Index in [`Policy::witnesses`].
        index: usize,
        /// Why.
        reason: InvalidReason,
    },
    /// Nobody in the policy.
    Nobody(IgnoredReason),
}

/// Attributes one signature outcome to a policy witness (by primary fingerprint).
pub fn attribute(sig: &SignatureOutcome, policy: &Policy) -> Attribution {
    let index = sig
        .fingerprint()
        .and_then(|f| policy.witnesses.iter().position(|w| &w.fingerprint == f));
    match (sig, index) {
        (SignatureOutcome::Good { signed_at, .. }, Some(index)) => Attribution::Witness {
            index,
            signed_at: *signed_at,
        },
        (SignatureOutcome::Good { fingerprint, .. }, None) => {
            Attribution::Nobody(IgnoredReason::NotAWitness {
                fingerprint: fingerprint.clone(),
            })
        }
        (outcome, Some(index)) => Attribution::WitnessFailed {
            index,
            reason: InvalidReason::Signature {
                outcome: outcome.clone(),
            },
        },
        (outcome, None) => Attribution::Nobody(IgnoredReason::Signature {
            outcome: outcome.clone(),
        }),
    }
}

/// How a testimony names a .deb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebName {
    /// v2: the control fields, exactly.
    Control {
        /// `Package:`.
        package: String,
        /// `Version:`.
        version: String,
        /// `Architecture:`.
        architecture: String,
    },
    /// v1: a file name, compared with the .deb's Debian file name.
    FileName(String),
}

/// One .deb a testimony lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Which .deb.
    pub name: DebName,
    /// The sha256 the witness got.
    pub sha256: String,
    /// The size (v2 only).
    pub size: Option<u64>,
}

/// What a testimony says, typed once: the input of every rule below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Whether it is the seed's v1 format.
    pub v1: bool,
    /// Code-review score (v1 without one: 0).
    pub review: u8,
    /// Computer-trust score (v1 without one: 0).
    pub trust: u16,
    /// Source pin (manifest sha256); v1 has none.
    pub source_pin: Option<String>,
    /// The .debs it lists.
    pub listed: Vec<Listed>,
    /// The build's hardening results (v2 testimonies of gated builds only).
    pub hardening: Option<crate::build_record::Hardening>,
}

/// Extracts the facts of a testimony signed by `signer`. A v2 testimony must
/// name its signer as its witness.
pub fn facts(t: &Testimony, signer: &Fingerprint) -> Result<Facts, InvalidReason> {
    match t {
        Testimony::V2(t2) if t2.witness.fingerprint != *signer => {
            Err(InvalidReason::WrongWitnessKey {
                named: t2.witness.fingerprint.clone(),
                signed_by: signer.clone(),
            })
        }
        Testimony::V2(t2) => Ok(Facts {
            v1: false,
            review: t2.witness.code_review,
            trust: t2.witness.computer_trust,
            source_pin: Some(t2.source.manifest_sha256.clone()),
            hardening: t2.hardening.clone(),
            listed: (t2.debs.iter())
                .map(|d| Listed {
                    name: DebName::Control {
                        package: d.package.clone(),
                        version: d.version.clone(),
                        architecture: d.architecture.clone(),
                    },
                    sha256: d.sha256.clone(),
                    size: Some(d.size),
                })
                .collect(),
        }),
        Testimony::V1(f) => Ok(Facts {
            v1: true,
            review: f.code_review.unwrap_or(0),
            trust: f.computer_trust.unwrap_or(0),
            source_pin: None,
            hardening: None,
            listed: (f.checksums.iter())
                .map(|c| Listed {
                    name: DebName::FileName(c.file.clone()),
                    sha256: c.sha256.clone(),
                    size: None,
                })
                .collect(),
        }),
    }
}

/// The policy minimums these facts (signed at `signed_at`) do not meet at `now`.
pub fn policy_problems(f: &Facts, signed_at: u64, policy: &Policy, now: u64) -> Vec<Problem> {
    let mut problems = Vec::new();
    if f.v1 && !policy.accept_v1 {
        problems.push(Problem::V1NotAccepted);
    }
    if f.review < policy.min_review {
        problems.push(Problem::ReviewBelowMinimum {
            review: f.review,
            minimum: policy.min_review,
        });
    }
    if f.trust < policy.min_trust {
        problems.push(Problem::TrustBelowMinimum {
            trust: f.trust,
            minimum: policy.min_trust,
        });
    }
    if let Some(max_age_days) = policy.max_age_days {
        let age = now.saturating_sub(signed_at);
        if age > max_age_days.saturating_mul(86400) {
            problems.push(Problem::TooOld {
                age_days: age / 86400,
                max_age_days,
            });
        }
    }
    problems.extend(hardening_problems(f.hardening.as_ref(), policy));
    problems
}

/// The hardening minimums `h` does not meet (none when the policy sets none).
fn hardening_problems(h: Option<&crate::build_record::Hardening>, policy: &Policy) -> Vec<Problem> {
    use crate::build_record::HardeningMode;
    if !policy.requires_hardening() {
        return Vec::new();
    }
    let Some(h) = h else {
        return vec![Problem::NoHardening];
    };
    let mut problems = Vec::new();
    if let Some(minimum) = policy.min_hardening_ok
        && h.ok < minimum
    {
        problems.push(Problem::HardeningBelowMinimum { ok: h.ok, minimum });
    }
    for rule in &policy.forbid_failed_rules {
        if h.failed_rules.contains(rule) {
            problems.push(Problem::ForbiddenRuleFailed { rule: rule.clone() });
        }
    }
    if policy.require_hardening_enforced && h.mode != HardeningMode::Enforced {
        problems.push(Problem::HardeningNotEnforced {
            mode: h.mode.as_str().into(),
        });
    }
    problems
}

/// Whether the facts are about another build than the policy's required
/// source pin (then they neither vote nor dissent).
pub fn pin_problem(f: &Facts, policy: &Policy) -> Option<InvalidReason> {
    let required = policy.require_source_manifest_sha256.as_ref()?;
    match &f.source_pin {
        Some(p) if p == required => None,
        Some(p) => Some(InvalidReason::OtherSourcePin {
            pin: p.clone(),
            required: required.clone(),
        }),
        None => Some(InvalidReason::NoSourcePin {
            required: required.clone(),
        }),
    }
}

/// Whether a listed entry is about this .deb (see the module docs).
fn is_about(l: &Listed, s: &Subject) -> bool {
    match &l.name {
        DebName::Control {
            package,
            version,
            architecture,
        } => *package == s.package && *version == s.version && *architecture == s.architecture,
        DebName::FileName(name) => l.sha256 == s.sha256 || s.is_named_by(name),
    }
}

/// What one testimony says about one .deb. `problems` and `pin` are the
/// testimony's ([`policy_problems`], [`pin_problem`]).
pub fn cell(
    f: &Facts,
    subject: &Subject,
    problems: &[Problem],
    pin: Option<&InvalidReason>,
    origin: &str,
) -> Cell {
    let about: Vec<&Listed> = f.listed.iter().filter(|l| is_about(l, subject)).collect();
    let invalid = |reason: InvalidReason| Cell::Invalid {
        reason,
        origin: origin.into(),
    };
    let Some(first) = about.first() else {
        return Cell::Silent;
    };
    if about
        .iter()
        .any(|l| (&l.sha256, l.size) != (&first.sha256, first.size))
    {
        return invalid(InvalidReason::Contradictory);
    }
    let same = first.sha256 == subject.sha256 && first.size.is_none_or(|n| n == subject.size);
    if let Some(p) = pin {
        invalid(p.clone())
    } else if !same {
        Cell::Dissent {
            sha256: first.sha256.clone(),
            size: first.size,
            origin: origin.into(),
        }
    } else if !problems.is_empty() {
        invalid(InvalidReason::BelowPolicy {
            problems: problems.to_vec(),
        })
    } else {
        Cell::Agree {
            origin: origin.into(),
        }
    }
}

/// One row's outcome: the agreeing groups, the dissenters, and pass or not.
pub fn tally(row: &[Cell], policy: &Policy) -> (Vec<String>, Vec<String>, DebOutcome) {
    let of = |want: fn(&Cell) -> bool, pick: fn(&Witness) -> &String| -> Vec<String> {
        let set: BTreeSet<&String> = (row.iter().zip(&policy.witnesses))
            .filter(|(c, _)| want(c))
            .map(|(_, w)| pick(w))
            .collect();
        set.into_iter().cloned().collect()
    };
    let groups = of(|c| matches!(c, Cell::Agree { .. }), |w| &w.group);
    let dissenters = of(|c| matches!(c, Cell::Dissent { .. }), |w| &w.name);
    let votes = groups.len();
    let outcome = if !dissenters.is_empty() && policy.dissent == DissentRule::Refuse {
        DebOutcome::Dissent {
            witnesses: dissenters.clone(),
        }
    } else if votes < policy.threshold {
        DebOutcome::NotEnough {
            votes,
            needed: policy.threshold,
        }
    } else {
        DebOutcome::Pass { votes }
    };
    (groups, dissenters, outcome)
}

/// The whole verdict's rule: any refusing dissent first, then any .deb short of
/// votes, else the threshold is met (and with no .deb at all, nothing passes).
pub fn decide(debs: &[DebVerdict]) -> Decision {
    let dissent = debs.iter().find_map(|d| match &d.outcome {
        DebOutcome::Dissent { witnesses } => Some(Decision::Dissent {
            deb: d.subject.file_name.clone(),
            witnesses: witnesses.clone(),
        }),
        _ => None,
    });
    let short = || {
        debs.iter().find_map(|d| match &d.outcome {
            DebOutcome::NotEnough { votes, needed } => Some(Decision::NotEnough {
                deb: d.subject.file_name.clone(),
                votes: *votes,
                needed: *needed,
            }),
            _ => None,
        })
    };
    match dissent.or_else(short) {
        Some(d) => d,
        None if debs.is_empty() => Decision::NoDeb,
        None => Decision::ThresholdMet,
    }
}

/// The cells being filled, and what counted for nobody.
struct Matrix {
    cells: Vec<Vec<Cell>>,
    ignored: Vec<Ignored>,
    warnings: Vec<Warning>,
}

impl Matrix {
    fn column(&mut self, index: usize, cell: impl Fn() -> Cell) {
        for row in &mut self.cells {
            row[index].merge(cell());
        }
    }

    fn ignore(&mut self, origin: &str, reason: IgnoredReason) {
        self.ignored.push(Ignored {
            origin: origin.into(),
            reason,
        });
    }

    /// Enters one file's signatures and testimony.
    fn enter(&mut self, ev: &Evidence, policy: &Policy, subjects: &[Subject], now: u64) {
        let o = ev.origin.as_str();
        if let Some(error) = &ev.error {
            return self.ignore(
                o,
                IgnoredReason::Unusable {
                    error: error.clone(),
                },
            );
        }
        if ev.outside.any() {
            self.warnings.push(Warning::UnsignedText {
                origin: o.into(),
                before: ev.outside.before,
                after: ev.outside.after,
            });
        }
        if ev.signatures.is_empty() {
            self.ignore(o, IgnoredReason::NoSignature);
        }
        for sig in &ev.signatures {
            let (index, signed_at) = match attribute(sig, policy) {
                Attribution::Nobody(reason) => {
                    self.ignore(o, reason);
                    continue;
                }
                Attribution::WitnessFailed { index, reason } => {
                    self.column(index, || invalid(reason.clone(), o));
                    continue;
                }
                Attribution::Witness { index, signed_at } => (index, signed_at),
            };
            let signer = &policy.witnesses[index].fingerprint;
            let parsed = match &ev.testimony {
                Some(Ok(t)) => facts(t, signer),
                // The cell's line names the file already.
                Some(Err(e)) => Err(InvalidReason::NotATestimony {
                    error: e.without_origin(),
                }),
                None => continue,
            };
            let f = match parsed {
                Ok(f) => f,
                Err(reason) => {
                    self.column(index, || invalid(reason.clone(), o));
                    continue;
                }
            };
            let problems = policy_problems(&f, signed_at, policy, now);
            let pin = pin_problem(&f, policy);
            for (row, subject) in self.cells.iter_mut().zip(subjects) {
                row[index].merge(cell(&f, subject, &problems, pin.as_ref(), o));
            }
        }
    }
}

fn invalid(reason: InvalidReason, origin: &str) -> Cell {
    Cell::Invalid {
        reason,
        origin: origin.into(),
    }
}

/// Decides about `subjects` from `evidence` under `policy` at time `at`.
pub fn evaluate(
    policy: &Policy,
    subjects: &[Subject],
    evidence: &[Evidence],
    at: SystemTime,
) -> Verdict {
    let now = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut m = Matrix {
        cells: vec![vec![Cell::Silent; policy.witnesses.len()]; subjects.len()],
        ignored: Vec::new(),
        warnings: Vec::new(),
    };
    for ev in evidence {
        m.enter(ev, policy, subjects, now);
    }
    let mut debs = Vec::new();
    for (subject, row) in subjects.iter().zip(m.cells) {
        let (groups, dissenters, outcome) = tally(&row, policy);
        if !dissenters.is_empty() && policy.dissent == DissentRule::Report {
            m.warnings.push(Warning::DissentReported {
                deb: subject.file_name.clone(),
                witnesses: dissenters,
            });
        }
        debs.push(DebVerdict {
            subject: subject.clone(),
            cells: row,
            agreeing_groups: groups,
            outcome,
        });
    }
    Verdict {
        witnesses: policy.witnesses.clone(),
        decision: decide(&debs),
        debs,
        ignored: m.ignored,
        warnings: m.warnings,
        threshold: policy.threshold,
    }
}

/// The control fields that identify a .deb (what `dpkg-deb -f` prints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebControl {
    /// `Package:`.
    pub package: String,
    /// `Version:`.
    pub version: String,
    /// `Architecture:`.
    pub architecture: String,
}

/// Verifies one .deb against testimony files, start to end: stream-hash the .deb,
/// check every signature, parse, evaluate. This is the unit the
/// `cargo xtask bench verify` benchmark times. `testimonies` are
/// `(origin, cleartext-signed bytes)`.
pub fn verify_deb(
    deb: &Path,
    control: &DebControl,
    testimonies: &[(String, Vec<u8>)],
    keyring: &Keyring,
    policy: &Policy,
    at: SystemTime,
) -> Result<Verdict, Error> {
    let subject = Subject::from_file(
        deb,
        &control.package,
        &control.version,
        &control.architecture,
    )?;
    let evidence: Vec<Evidence> = testimonies
        .iter()
        .map(|(o, b)| Evidence::from_cleartext(b, keyring, at, o))
        .collect();
    Ok(evaluate(policy, &[subject], &evidence, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "3B5E53EA09D17B456B50535376514DB1347E0C90";
    const B: &str = "253E586986F878D96C95CD5307C480514316B717";
    const C: &str = "1111111111111111111111111111111111111111";
    const DAY: u64 = 86400;

    fn fp(s: &str) -> Fingerprint {
        Fingerprint::parse(s).unwrap()
    }

    /// a and c share group g; b alone.
    fn policy(extra: &str) -> Policy {
        Policy::parse(&format!(
            "threshold = 2\n{extra}\n[[witness]]\nname = \"a\"\nfingerprint = \"{A}\"\ngroup = \"g\"\n[[witness]]\nname = \"b\"\nfingerprint = \"{B}\"\n[[witness]]\nname = \"c\"\nfingerprint = \"{C}\"\ngroup = \"g\"\n"
        ))
        .unwrap()
    }

    fn subject() -> Subject {
        Subject {
            file_name: "local.deb".into(),
            package: "p".into(),
            version: "1:2.0-1".into(),
            architecture: "amd64".into(),
            size: 5,
            sha256: canonical::sha256_hex(b"good!"),
        }
    }

    fn v2_listed(version: &str, sha: &str, size: u64) -> Listed {
        Listed {
            name: DebName::Control {
                package: "p".into(),
                version: version.into(),
                architecture: "amd64".into(),
            },
            sha256: sha.into(),
            size: Some(size),
        }
    }

    fn v1_listed(file: &str, sha: &str) -> Listed {
        Listed {
            name: DebName::FileName(file.into()),
            sha256: sha.into(),
            size: None,
        }
    }

    fn facts_of(listed: Vec<Listed>) -> Facts {
        Facts {
            v1: false,
            review: 5,
            trust: 100,
            source_pin: Some(canonical::sha256_hex(b"pin")),
            listed,
            hardening: None,
        }
    }

    #[test]
    fn attribute_maps_signatures_to_witnesses() {
        let p = policy("");
        let good = |f: &str| SignatureOutcome::Good {
            fingerprint: fp(f),
            signed_at: 7,
        };
        let revoked = SignatureOutcome::Revoked {
            fingerprint: fp(B),
            reason: "r".into(),
        };
        let unknown = SignatureOutcome::UnknownKey { issuers: vec![] };
        let stranger = "2222222222222222222222222222222222222222";
        type Case<'a> = (SignatureOutcome, &'a dyn Fn(&Attribution) -> bool);
        let cases: Vec<Case> = vec![
            (good(A), &|a| {
                *a == Attribution::Witness {
                    index: 0,
                    signed_at: 7,
                }
            }),
            (good(C), &|a| {
                matches!(a, Attribution::Witness { index: 2, .. })
            }),
            (revoked.clone(), &|a| {
                matches!(a, Attribution::WitnessFailed { index: 1, .. })
            }),
            (good(stranger), &|a| {
                matches!(a, Attribution::Nobody(IgnoredReason::NotAWitness { .. }))
            }),
            (unknown, &|a| {
                matches!(a, Attribution::Nobody(IgnoredReason::Signature { .. }))
            }),
        ];
        for (sig, want) in cases {
            let got = attribute(&sig, &p);
            assert!(want(&got), "{sig:?} -> {got:?}");
        }
    }

    #[test]
    fn facts_are_typed_once_and_v2_must_name_its_signer() {
        let v1 = Testimony::parse("my-code-review=3\nmy-checksum=p_2.0-1_amd64.deb ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n").unwrap();
        let f = facts(&v1, &fp(A)).unwrap();
        assert!(f.v1 && f.review == 3 && f.trust == 0 && f.source_pin.is_none());
        assert_eq!(
            f.listed,
            vec![v1_listed(
                "p_2.0-1_amd64.deb",
                &"abcdef0123456789".repeat(4)
            )]
        );
        // A v1 text whose known fields do not validate never becomes facts.
        assert!(Testimony::parse("my-code-review=11\n").is_err());
    }

    #[test]
    fn policy_problems_table() {
        let f = facts_of(vec![]);
        let v1 = Facts {
            v1: true,
            ..f.clone()
        };
        let now = 100 * DAY;
        for (extra, facts, signed_at, want) in [
            ("", &f, now, vec![]),
            (
                "min_review = 6",
                &f,
                now,
                vec![Problem::ReviewBelowMinimum {
                    review: 5,
                    minimum: 6,
                }],
            ),
            ("min_review = 5", &f, now, vec![]),
            (
                "min_trust = 101",
                &f,
                now,
                vec![Problem::TrustBelowMinimum {
                    trust: 100,
                    minimum: 101,
                }],
            ),
            ("max_age_days = 10", &f, now - 10 * DAY, vec![]),
            (
                "max_age_days = 10",
                &f,
                now - 11 * DAY,
                vec![Problem::TooOld {
                    age_days: 11,
                    max_age_days: 10,
                }],
            ),
            ("", &v1, now, vec![Problem::V1NotAccepted]),
            ("accept_v1 = true", &v1, now, vec![]),
            (
                "accept_v1 = false\nmin_review = 9",
                &v1,
                now,
                vec![
                    Problem::V1NotAccepted,
                    Problem::ReviewBelowMinimum {
                        review: 5,
                        minimum: 9,
                    },
                ],
            ),
        ] {
            assert_eq!(
                policy_problems(facts, signed_at, &policy(extra), now),
                want,
                "{extra}"
            );
        }
    }

    #[test]
    fn hardening_problems_table() {
        use crate::build_record::{Hardening, HardeningMode};
        let built = |ok, failed: &[&str], mode| Facts {
            hardening: Some(Hardening {
                ok,
                fail: failed.len() as u64,
                not_applicable: 80,
                failed_rules: failed.iter().map(|s| s.to_string()).collect(),
                mode,
            }),
            ..facts_of(vec![])
        };
        let strong = built(96, &["kconfig:RANDSTRUCT_FULL"], HardeningMode::Enforced);
        let weak = built(
            79,
            &["kconfig:INIT_ON_FREE_DEFAULT_ON"],
            HardeningMode::AllowWeaker,
        );
        let none = facts_of(vec![]);
        let forbid = "forbid_failed_rules = [\"kconfig:INIT_ON_FREE_DEFAULT_ON\"]";
        for (extra, facts, want) in [
            ("", &none, vec![]),
            ("", &weak, vec![]),
            ("min_hardening_ok = 90", &strong, vec![]),
            ("min_hardening_ok = 96", &strong, vec![]),
            (
                "min_hardening_ok = 97",
                &strong,
                vec![Problem::HardeningBelowMinimum {
                    ok: 96,
                    minimum: 97,
                }],
            ),
            ("min_hardening_ok = 1", &none, vec![Problem::NoHardening]),
            (forbid, &strong, vec![]),
            (
                forbid,
                &weak,
                vec![Problem::ForbiddenRuleFailed {
                    rule: "kconfig:INIT_ON_FREE_DEFAULT_ON".into(),
                }],
            ),
            ("require_hardening_enforced = true", &strong, vec![]),
            (
                "require_hardening_enforced = true\nmin_hardening_ok = 90",
                &weak,
                vec![
                    Problem::HardeningBelowMinimum {
                        ok: 79,
                        minimum: 90,
                    },
                    Problem::HardeningNotEnforced {
                        mode: "allow-weaker".into(),
                    },
                ],
            ),
        ] {
            assert_eq!(
                policy_problems(facts, 0, &policy(extra), 0),
                want,
                "{extra}"
            );
        }
        for bad in [
            "min_hardening_ok = -1",
            "forbid_failed_rules = [\"STACKPROTECTOR\"]",
            "forbid_failed_rules = [\"\"]",
        ] {
            let text =
                format!("threshold = 1\n{bad}\n[[witness]]\nname = \"a\"\nfingerprint = \"{A}\"\n");
            assert!(Policy::parse(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn pin_problem_table() {
        let pin = canonical::sha256_hex(b"pin");
        let other = canonical::sha256_hex(b"other");
        let f = facts_of(vec![]);
        let v1 = Facts {
            source_pin: None,
            ..f.clone()
        };
        let req = |p: &str| policy(&format!("require_source_manifest_sha256 = \"{p}\""));
        assert_eq!(pin_problem(&f, &policy("")), None);
        assert_eq!(pin_problem(&f, &req(&pin)), None);
        assert!(matches!(
            pin_problem(&f, &req(&other)),
            Some(InvalidReason::OtherSourcePin { .. })
        ));
        assert!(matches!(
            pin_problem(&v1, &req(&pin)),
            Some(InvalidReason::NoSourcePin { .. })
        ));
    }

    #[test]
    fn cell_table() {
        let s = subject();
        let good = s.sha256.clone();
        let bad = canonical::sha256_hex(b"evil!");
        let low = [Problem::V1NotAccepted];
        let pin = InvalidReason::NoSourcePin {
            required: good.clone(),
        };
        type Want = fn(&Cell) -> bool;
        let agree: Want = |c| matches!(c, Cell::Agree { .. });
        let dissent: Want = |c| matches!(c, Cell::Dissent { .. });
        let silent: Want = |c| *c == Cell::Silent;
        let below: Want = |c| {
            matches!(
                c,
                Cell::Invalid {
                    reason: InvalidReason::BelowPolicy { .. },
                    ..
                }
            )
        };
        let pinned: Want = |c| {
            matches!(
                c,
                Cell::Invalid {
                    reason: InvalidReason::NoSourcePin { .. },
                    ..
                }
            )
        };
        let contra: Want = |c| {
            matches!(
                c,
                Cell::Invalid {
                    reason: InvalidReason::Contradictory,
                    ..
                }
            )
        };
        type Case<'a> = (
            &'a str,
            Vec<Listed>,
            &'a [Problem],
            Option<&'a InvalidReason>,
            Want,
        );
        let cases: Vec<Case> = vec![
            (
                "v2 same",
                vec![v2_listed("1:2.0-1", &good, 5)],
                &[],
                None,
                agree,
            ),
            (
                "v2 other hash",
                vec![v2_listed("1:2.0-1", &bad, 5)],
                &[],
                None,
                dissent,
            ),
            (
                "v2 other size",
                vec![v2_listed("1:2.0-1", &good, 6)],
                &[],
                None,
                dissent,
            ),
            (
                "v2 other version",
                vec![v2_listed("1:2.0-2", &bad, 5)],
                &[],
                None,
                silent,
            ),
            (
                "v2 below minimum",
                vec![v2_listed("1:2.0-1", &good, 5)],
                &low,
                None,
                below,
            ),
            (
                "dissent despite minimum",
                vec![v2_listed("1:2.0-1", &bad, 5)],
                &low,
                None,
                dissent,
            ),
            (
                "other pin: no dissent",
                vec![v2_listed("1:2.0-1", &bad, 5)],
                &[],
                Some(&pin),
                pinned,
            ),
            (
                "two hashes",
                vec![
                    v2_listed("1:2.0-1", &good, 5),
                    v2_listed("1:2.0-1", &bad, 5),
                ],
                &[],
                None,
                contra,
            ),
            (
                "twice the same",
                vec![
                    v2_listed("1:2.0-1", &good, 5),
                    v2_listed("1:2.0-1", &good, 5),
                ],
                &[],
                None,
                agree,
            ),
            (
                "v1 by hash, any name",
                vec![v1_listed("x.deb", &good)],
                &[],
                None,
                agree,
            ),
            (
                "v1 Debian name, other hash",
                vec![v1_listed("p_2.0-1_amd64.deb", &bad)],
                &[],
                None,
                dissent,
            ),
            (
                "v1 other name and hash",
                vec![v1_listed("p_2.0-2_amd64.deb", &bad)],
                &[],
                None,
                silent,
            ),
            (
                "v1 name says local.deb",
                vec![v1_listed("local.deb", &bad)],
                &[],
                None,
                silent,
            ),
            (
                "v1 vote and name dissent",
                vec![
                    v1_listed("x.deb", &good),
                    v1_listed("p_2.0-1_amd64.deb", &bad),
                ],
                &[],
                None,
                contra,
            ),
        ];
        for (what, listed, problems, pin, want) in cases {
            let c = cell(&facts_of(listed), &s, problems, pin, "t.asc");
            assert!(want(&c), "{what}: {c:?}");
        }
    }

    #[test]
    fn a_size_only_dissent_says_it_is_the_size() {
        let s = subject();
        let c = Cell::Dissent {
            sha256: s.sha256.clone(),
            size: Some(6),
            origin: "t".into(),
        };
        let line = explain(&c, &s).unwrap();
        assert!(
            line.contains("6 byte(s)")
                && line.contains("this file 5")
                && !line.contains("built sha256"),
            "{line}"
        );
        let c = Cell::Dissent {
            sha256: "ab".repeat(32),
            size: Some(5),
            origin: "t".into(),
        };
        assert!(explain(&c, &s).unwrap().contains(&"ab".repeat(32)));
    }

    #[test]
    fn tally_table() {
        let agree = || Cell::Agree { origin: "o".into() };
        let dissent = || Cell::Dissent {
            sha256: "x".into(),
            size: None,
            origin: "o".into(),
        };
        let p = policy("");
        let report = policy("dissent = \"report\"");
        for (what, pol, row, votes, outcome) in [
            (
                "a+b pass",
                &p,
                vec![agree(), agree(), Cell::Silent],
                2,
                DebOutcome::Pass { votes: 2 },
            ),
            (
                "a+c one group",
                &p,
                vec![agree(), Cell::Silent, agree()],
                1,
                DebOutcome::NotEnough {
                    votes: 1,
                    needed: 2,
                },
            ),
            (
                "dissent refuses",
                &p,
                vec![agree(), agree(), dissent()],
                2,
                DebOutcome::Dissent {
                    witnesses: vec!["c".into()],
                },
            ),
            (
                "dissent reported",
                &report,
                vec![agree(), agree(), dissent()],
                2,
                DebOutcome::Pass { votes: 2 },
            ),
            (
                "all silent",
                &p,
                vec![Cell::Silent; 3],
                0,
                DebOutcome::NotEnough {
                    votes: 0,
                    needed: 2,
                },
            ),
        ] {
            let (groups, _, got) = tally(&row, pol);
            assert_eq!((groups.len(), got), (votes, outcome), "{what}");
        }
    }

    #[test]
    fn decide_table() {
        let row = |name: &str, outcome: DebOutcome| DebVerdict {
            subject: Subject {
                file_name: name.into(),
                ..subject()
            },
            cells: vec![],
            agreeing_groups: vec![],
            outcome,
        };
        let pass = || DebOutcome::Pass { votes: 2 };
        let short = || DebOutcome::NotEnough {
            votes: 1,
            needed: 2,
        };
        let dissent = || DebOutcome::Dissent {
            witnesses: vec!["c".into()],
        };
        assert_eq!(decide(&[]), Decision::NoDeb);
        assert_eq!(decide(&[row("x", pass())]), Decision::ThresholdMet);
        assert!(
            matches!(decide(&[row("x", pass()), row("y", short())]), Decision::NotEnough { deb, .. } if deb == "y")
        );
        assert!(
            matches!(decide(&[row("x", short()), row("y", dissent())]), Decision::Dissent { deb, .. } if deb == "y")
        );
    }

    #[test]
    fn verdicts_serialize_their_reasons_as_data() {
        let c = Cell::Invalid {
            reason: InvalidReason::BelowPolicy {
                problems: vec![Problem::TooOld {
                    age_days: 3,
                    max_age_days: 2,
                }],
            },
            origin: "t".into(),
        };
        let j = serde_json::to_string(&c).unwrap();
        assert!(
            j.contains("\"reason\":\"below_policy\"") && j.contains("\"problem\":\"too_old\""),
            "{j}"
        );
    }

    #[test]
    fn debian_file_names_drop_the_epoch() {
        assert_eq!(subject().debian_file_name(), "p_2.0-1_amd64.deb");
        assert_eq!(without_epoch("a:b"), "a:b");
        assert_eq!(without_epoch("12:1.0"), "1.0");
    }

    /// An unread testimony refuses a pass or a shortage, never hides a dissent
    /// or "no .deb", and changes nothing when dissents only report.
    #[test]
    fn unread_testimonies_refuse_only_what_they_could_change() {
        let with = |decision: Decision| Verdict {
            witnesses: Vec::new(),
            debs: Vec::new(),
            ignored: Vec::new(),
            warnings: Vec::new(),
            threshold: 1,
            decision,
        };
        let short = Decision::NotEnough {
            deb: "d".into(),
            votes: 0,
            needed: 1,
        };
        let dissent = Decision::Dissent {
            deb: "d".into(),
            witnesses: vec!["w".into()],
        };
        let incomplete = Decision::Incomplete { unread: 2 };
        let cases = [
            (
                Decision::ThresholdMet,
                2,
                DissentRule::Refuse,
                incomplete.clone(),
            ),
            (short.clone(), 2, DissentRule::Refuse, incomplete),
            (
                Decision::ThresholdMet,
                0,
                DissentRule::Refuse,
                Decision::ThresholdMet,
            ),
            (dissent.clone(), 2, DissentRule::Refuse, dissent),
            (Decision::NoDeb, 2, DissentRule::Refuse, Decision::NoDeb),
            (
                Decision::ThresholdMet,
                2,
                DissentRule::Report,
                Decision::ThresholdMet,
            ),
            (short.clone(), 2, DissentRule::Report, short),
        ];
        for (before, unread, rule, after) in cases {
            let v = with(before.clone()).refuse_if_unread(unread, rule);
            assert_eq!(v.decision, after, "{before:?} {unread} {rule:?}");
        }
        assert_eq!(with(Decision::Incomplete { unread: 1 }).exit_code(), 3);
    }

    /// A v1 dissent about an epoch version must find its .deb however the
    /// witness wrote the name (issue 12.2: matching by what the .deb is).
    #[test]
    fn v1_file_names_match_with_or_without_the_epoch() {
        let s = subject(); // version 1:2.0-1
        for name in [
            "p_2.0-1_amd64.deb",
            "p_1:2.0-1_amd64.deb",
            "p_1%3a2.0-1_amd64.deb",
            "p_1%3A2.0-1_amd64.deb",
        ] {
            assert!(s.is_named_by(name), "{name}");
        }
        for name in [
            "p_2:2.0-1_amd64.deb",
            "p_1:2.0-1_arm64.deb",
            "q_1:2.0-1_amd64.deb",
        ] {
            assert!(!s.is_named_by(name), "{name}");
        }
        // apt encodes every colon, not only the epoch's.
        let two = Subject {
            version: "1:2.0:3-1".into(),
            ..subject()
        };
        assert!(two.is_named_by("p_1%3a2.0%3a3-1_amd64.deb"));
        assert!(two.is_named_by("p_1%3A2.0%3A3-1_amd64.deb"));
        assert!(two.is_named_by("p_2.0:3-1_amd64.deb"));
        // Without an epoch only the plain name matches.
        let plain = Subject {
            version: "2.0-1".into(),
            ..subject()
        };
        assert!(plain.is_named_by("p_2.0-1_amd64.deb"));
        assert!(!plain.is_named_by("p_0:2.0-1_amd64.deb"));
    }
}
