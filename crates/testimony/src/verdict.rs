//! From verified testimonies to a verdict, as data.
//!
//! For every .deb ([`Subject`]) and every policy witness the verdict holds one
//! [`Cell`]:
//!
//! - **agree**: a valid testimony, signed by the witness's key, lists this
//!   package + version + architecture (v2) or this file name (v1) with the same
//!   sha256 (and, v2, size), and meets the policy's review/trust/age/source-pin
//!   minimums;
//! - **dissent**: a valid testimony by the witness lists the same package +
//!   version + architecture (or file name) with a *different* hash. Quality
//!   minimums do not silence a dissent (a low-scored witness who built something
//!   else still built something else); only a testimony for a different required
//!   source pin is not a dissent, because it is not the same build;
//! - **invalid(reason)**: the witness's testimony exists but cannot count: bad,
//!   expired or revoked signature, unparsable text, fingerprint mismatch, below a
//!   minimum…;
//! - **silent**: nothing from this witness about this .deb (a testimony for
//!   another package or version is silent about this one, so replaying it gains
//!   nothing).
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
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use crate::canonical::{self, Fingerprint};
use crate::error::{Error, ParseError};
use crate::policy::{DissentRule, Policy, Witness};
use crate::v1::V1Testimony;
use crate::v2::TestimonyV2;
use crate::verify::{self, Keyring, Outside, SignatureOutcome};

/// A .deb to decide about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// File name (v1 testimonies are matched by it).
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
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let (sha256, size) = canonical::sha256_reader(f).map_err(|e| Error::io(path, e))?;
        Ok(Subject {
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            package: package.into(),
            version: version.into(),
            architecture: architecture.into(),
            size,
            sha256,
        })
    }
}

/// A parsed testimony of either version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Testimony {
    /// The seed's format.
    V1(V1Testimony),
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
            let t = V1Testimony::parse(text);
            t.fields()?;
            Ok(Testimony::V1(t))
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
    pub(crate) fn failed(origin: &str, e: impl std::fmt::Display) -> Evidence {
        Evidence {
            origin: origin.into(),
            signatures: Vec::new(),
            outside: Outside::default(),
            testimony: None,
            error: Some(e.to_string()),
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

/// What one witness says about one .deb.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cell", rename_all = "snake_case")]
pub enum Cell {
    /// Nothing from this witness about this .deb.
    Silent,
    /// A testimony exists but does not count.
    Invalid {
        /// Why.
        reason: String,
        /// Which file.
        origin: String,
    },
    /// Same hash: a vote.
    Agree {
        /// Which file.
        origin: String,
    },
    /// Different hash for the same package, version and architecture.
    Dissent {
        /// The hash the witness got.
        sha256: String,
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
}

/// A testimony or signature that counted for nobody, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// File or URL.
    pub origin: String,
    /// Why it did not count.
    pub reason: String,
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
    pub warnings: Vec<String>,
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

    /// 0 pass, 3 not enough votes, 4 dissent.
    pub fn exit_code(&self) -> u8 {
        match self.decision {
            Decision::ThresholdMet => 0,
            Decision::NotEnough { .. } => 3,
            Decision::Dissent { .. } => 4,
        }
    }

    /// The who-agrees matrix (.deb × witness) as a plain-text table, then the
    /// reasons behind `invalid` and `DISSENT` cells and the decision.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let names: Vec<&str> = self.witnesses.iter().map(|w| w.name.as_str()).collect();
        let debw = self
            .debs
            .iter()
            .map(|d| d.subject.file_name.chars().count())
            .max()
            .unwrap_or(3)
            .max(3);
        let colw: Vec<usize> = names.iter().map(|n| n.chars().count().max(7)).collect();
        s.push_str(&format!("{:debw$}", "deb"));
        for (n, w) in names.iter().zip(&colw) {
            s.push_str(&format!("  {n:w$}"));
        }
        s.push_str("  votes\n");
        for d in &self.debs {
            s.push_str(&format!("{:debw$}", d.subject.file_name));
            for (c, w) in d.cells.iter().zip(&colw) {
                s.push_str(&format!("  {:w$}", c.word()));
            }
            s.push_str(&format!(
                "  {}/{}\n",
                d.agreeing_groups.len(),
                self.threshold
            ));
        }
        for d in &self.debs {
            for (c, w) in d.cells.iter().zip(&self.witnesses) {
                match c {
                    Cell::Invalid { reason, origin } => s.push_str(&format!(
                        "{}: {}: invalid: {reason} ({origin})\n",
                        d.subject.file_name, w.name
                    )),
                    Cell::Dissent { sha256, origin } => s.push_str(&format!(
                        "{}: {}: DISSENT: built sha256 {sha256}, this file is {} ({origin})\n",
                        d.subject.file_name, w.name, d.subject.sha256
                    )),
                    _ => {}
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
        });
        s
    }
}

fn invalid(reason: impl Into<String>, origin: &str) -> Cell {
    Cell::Invalid {
        reason: reason.into(),
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
    let nw = policy.witnesses.len();
    let mut cells = vec![vec![Cell::Silent; nw]; subjects.len()];
    let mut ignored = Vec::new();
    let mut warnings = Vec::new();
    let index = |f: &Fingerprint| policy.witnesses.iter().position(|w| &w.fingerprint == f);

    for ev in evidence {
        let o = ev.origin.as_str();
        if let Some(e) = &ev.error {
            ignored.push(Ignored {
                origin: o.into(),
                reason: e.clone(),
            });
            continue;
        }
        if ev.outside.any() {
            warnings.push(format!(
                "{o}: {} byte(s) before and {} byte(s) after the signed part are not signed and were ignored",
                ev.outside.before, ev.outside.after
            ));
        }
        if ev.signatures.is_empty() {
            ignored.push(Ignored {
                origin: o.into(),
                reason: "no signature".into(),
            });
        }
        for sig in &ev.signatures {
            let wi = sig.fingerprint().and_then(index);
            let SignatureOutcome::Good {
                fingerprint,
                signed_at,
            } = sig
            else {
                match wi {
                    Some(wi) => {
                        for row in cells.iter_mut() {
                            row[wi].merge(invalid(sig.describe(), o));
                        }
                    }
                    None => ignored.push(Ignored {
                        origin: o.into(),
                        reason: sig.describe(),
                    }),
                }
                continue;
            };
            let Some(wi) = wi else {
                ignored.push(Ignored {
                    origin: o.into(),
                    reason: format!(
                        "signed by {fingerprint}, which is not a witness in the policy"
                    ),
                });
                continue;
            };
            let witness = &policy.witnesses[wi];
            let whole = |reason: String, cells: &mut Vec<Vec<Cell>>| {
                for row in cells.iter_mut() {
                    row[wi].merge(invalid(reason.clone(), o));
                }
            };
            let t = match &ev.testimony {
                Some(Ok(t)) => t,
                Some(Err(e)) => {
                    whole(
                        format!("signed text is not a valid testimony: {e}"),
                        &mut cells,
                    );
                    continue;
                }
                None => continue,
            };
            // Facts common to every .deb in this testimony.
            let (review, trust, pin, v1) = match t {
                Testimony::V2(t2) => {
                    if t2.witness.fingerprint != witness.fingerprint {
                        whole(
                            format!(
                                "testimony names witness key {} but is signed by {}",
                                t2.witness.fingerprint, witness.fingerprint
                            ),
                            &mut cells,
                        );
                        continue;
                    }
                    (
                        t2.witness.code_review,
                        t2.witness.computer_trust,
                        Some(t2.source.manifest_sha256.as_str()),
                        false,
                    )
                }
                Testimony::V1(t1) => {
                    let f = t1.fields().unwrap_or_default();
                    (
                        f.code_review.unwrap_or(0),
                        f.computer_trust.unwrap_or(0),
                        None,
                        true,
                    )
                }
            };
            let mut problems = Vec::new();
            if v1 && !policy.accept_v1 {
                problems.push("v1 testimonies are not accepted by the policy".to_string());
            }
            if review < policy.min_review {
                problems.push(format!(
                    "code review {review} is below the policy's {}",
                    policy.min_review
                ));
            }
            if trust < policy.min_trust {
                problems.push(format!(
                    "computer trust {trust} is below the policy's {}",
                    policy.min_trust
                ));
            }
            if let Some(days) = policy.max_age_days {
                let age = now.saturating_sub(*signed_at);
                if age > days * 86400 {
                    problems.push(format!(
                        "signed {} day(s) ago, the policy allows {days}",
                        age / 86400
                    ));
                }
            }
            let mut pin_problem = None;
            if let Some(req) = &policy.require_source_manifest_sha256 {
                match pin {
                    Some(p) if p == req => {}
                    Some(p) => {
                        pin_problem = Some(format!(
                            "built from source pin {p}, the policy requires {req}"
                        ))
                    }
                    None => {
                        pin_problem = Some(
                            "a v1 testimony carries no source pin, the policy requires one"
                                .to_string(),
                        )
                    }
                }
            }
            for (si, subj) in subjects.iter().enumerate() {
                // (sha256, size if known) of every entry about this .deb.
                let entries: Vec<(String, Option<u64>)> = match t {
                    Testimony::V2(t2) => t2
                        .debs
                        .iter()
                        .filter(|d| {
                            d.package == subj.package
                                && d.version == subj.version
                                && d.architecture == subj.architecture
                        })
                        .map(|d| (d.sha256.clone(), Some(d.size)))
                        .collect(),
                    Testimony::V1(t1) => t1
                        .fields()
                        .map(|f| f.checksums)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|c| c.file == subj.file_name)
                        .map(|c| (c.sha256, None))
                        .collect(),
                };
                let cell = match entries.as_slice() {
                    [] => Cell::Silent,
                    [_, _, ..] if entries.iter().any(|e| e != &entries[0]) => invalid(
                        "the testimony lists this package with two different hashes",
                        o,
                    ),
                    [(sha, size), ..] => {
                        let same = *sha == subj.sha256 && size.is_none_or(|n| n == subj.size);
                        if let Some(p) = &pin_problem {
                            invalid(p.clone(), o)
                        } else if !same {
                            Cell::Dissent {
                                sha256: sha.clone(),
                                origin: o.into(),
                            }
                        } else if !problems.is_empty() {
                            invalid(problems.join("; "), o)
                        } else {
                            Cell::Agree { origin: o.into() }
                        }
                    }
                };
                cells[si][wi].merge(cell);
            }
        }
    }

    let mut debs = Vec::new();
    for (subject, row) in subjects.iter().zip(cells) {
        let groups: BTreeSet<String> = row
            .iter()
            .zip(&policy.witnesses)
            .filter(|(c, _)| matches!(c, Cell::Agree { .. }))
            .map(|(_, w)| w.group.clone())
            .collect();
        let dissenters: Vec<String> = row
            .iter()
            .zip(&policy.witnesses)
            .filter(|(c, _)| matches!(c, Cell::Dissent { .. }))
            .map(|(_, w)| w.name.clone())
            .collect();
        let votes = groups.len();
        if !dissenters.is_empty() && policy.dissent == DissentRule::Report {
            warnings.push(format!(
                "{}: dissent by {} (reported only, per policy)",
                subject.file_name,
                dissenters.join(", ")
            ));
        }
        let outcome = if !dissenters.is_empty() && policy.dissent == DissentRule::Refuse {
            DebOutcome::Dissent {
                witnesses: dissenters,
            }
        } else if votes < policy.threshold {
            DebOutcome::NotEnough {
                votes,
                needed: policy.threshold,
            }
        } else {
            DebOutcome::Pass { votes }
        };
        debs.push(DebVerdict {
            subject: subject.clone(),
            cells: row,
            agreeing_groups: groups.into_iter().collect(),
            outcome,
        });
    }
    let decision = if let Some(d) = debs.iter().find_map(|d| match &d.outcome {
        DebOutcome::Dissent { witnesses } => Some(Decision::Dissent {
            deb: d.subject.file_name.clone(),
            witnesses: witnesses.clone(),
        }),
        _ => None,
    }) {
        d
    } else if let Some(d) = debs.iter().find_map(|d| match &d.outcome {
        DebOutcome::NotEnough { votes, needed } => Some(Decision::NotEnough {
            deb: d.subject.file_name.clone(),
            votes: *votes,
            needed: *needed,
        }),
        _ => None,
    }) {
        d
    } else if debs.is_empty() {
        Decision::NotEnough {
            deb: "(no .deb given)".into(),
            votes: 0,
            needed: policy.threshold,
        }
    } else {
        Decision::ThresholdMet
    };
    Verdict {
        witnesses: policy.witnesses.clone(),
        debs,
        ignored,
        warnings,
        threshold: policy.threshold,
        decision,
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
