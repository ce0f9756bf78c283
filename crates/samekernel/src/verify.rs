//! Verify orchestration: from .deb paths, a policy, keyrings and testimony
//! sources to a [`Report`] (the verdict and what was skipped).
//!
//! ```no_run
//! use samekernel::verify::{TrustInputs, verify};
//! # fn main() -> Result<(), samekernel::verify::VerifyError> {
//! let inputs = TrustInputs::new(
//!     "policy.toml".into(),
//!     vec!["testimonies/".into(), "https://mirror.example/testimonies.txt".into()],
//!     vec!["witnesses.cert".into()],
//! );
//! let report = verify(&["linux-image.deb".into()], &inputs)?;
//! println!("{}", report.to_table());
//! std::process::exit(report.verdict.exit_code().into());
//! # }
//! ```
//!
//! Steps: read the policy; read the keyrings (copies of one certificate
//! merged, secret keys refused, a policy fingerprint that is a subkey refused);
//! identify each .deb by its own control fields and streamed sha256 (on one
//! thread while the testimonies are gathered and checked on the others); gather
//! testimonies within [`Limits`] from directories (`*.asc`) and HTTP(S)
//! mirrors (one file, or a `.txt` index of file names); evaluate.
//!
//! Network reads are bounded in time by [`HttpTimeouts`]: connecting, each
//! read (an idle timeout: a server trickling a byte a minute is cut off), and
//! each whole file. A network failure is an error, not a skip: a testimony the
//! user asked for and did not get might be the dissent.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use srcpin::MirrorUrl;
use testimony::build_record::{DebRecord, FileHash};
use testimony::collect::{Collection, Limits, Skipped, is_cleartext, is_safe_name, parse_index};
use testimony::evidence::{Evidence, Testimony};
use testimony::policy::{Policy, Witness};
use testimony::verdict::{Cell, Subject, Verdict, evaluate};
use testimony::verify::Keyring;

/// Time bounds on every network read of testimony collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// Connecting (DNS, TCP, TLS).
    pub connect: Duration,
    /// Any one read or write: the longest a server may stay silent.
    pub idle: Duration,
    /// One whole file, headers to last byte.
    pub per_file: Duration,
    /// All of testimony collection over the network; checked before each file,
    /// so the whole is bounded by `total + per_file`.
    pub total: Duration,
}

impl Default for HttpTimeouts {
    /// 15 s to connect, 30 s of silence, 120 s per file, 15 min in all.
    fn default() -> Self {
        HttpTimeouts {
            connect: Duration::from_secs(15),
            idle: Duration::from_secs(30),
            per_file: Duration::from_secs(120),
            total: Duration::from_secs(15 * 60),
        }
    }
}

/// Where testimonies come from and what decides. `Debug` shows the sources with
/// any `user:password@` replaced by `***@`.
#[derive(Clone)]
pub struct TrustInputs {
    /// The policy file (TOML).
    pub policy: PathBuf,
    /// Directories and http(s) URLs (a testimony, or a `.txt` index).
    pub sources: Vec<String>,
    /// Keyring files (certificates).
    pub keyrings: Vec<PathBuf>,
    /// Reference time for signature and age checks.
    pub at: SystemTime,
    /// Bounds on testimony input.
    pub limits: Limits,
    /// Bounds on network time.
    pub http: HttpTimeouts,
}

impl std::fmt::Debug for TrustInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sources: Vec<String> = self
            .sources
            .iter()
            .map(|s| srcpin::url::redact(s))
            .collect();
        f.debug_struct("TrustInputs")
            .field("policy", &self.policy)
            .field("sources", &sources)
            .field("keyrings", &self.keyrings)
            .field("at", &self.at)
            .field("limits", &self.limits)
            .field("http", &self.http)
            .finish()
    }
}

impl TrustInputs {
    /// Inputs with the default limits and timeouts, at the current time.
    pub fn new(policy: PathBuf, sources: Vec<String>, keyrings: Vec<PathBuf>) -> TrustInputs {
        TrustInputs {
            policy,
            sources,
            keyrings,
            at: SystemTime::now(),
            limits: Limits::default(),
            http: HttpTimeouts::default(),
        }
    }
}

/// A verdict and what was left out of it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Testimony files not read (limits, not regular files).
    pub skipped: Vec<Skipped>,
    /// Local sources that held no `*.asc` file.
    pub empty_sources: Vec<String>,
    /// Policy witnesses with no certificate in the keyrings (always silent).
    pub missing_certificates: Vec<Witness>,
    /// For each dissent backed by a v2 testimony: the files inside the .deb on
    /// which the witness and this .deb disagree.
    pub file_disagreements: Vec<FileDisagreement>,
}

impl Report {
    /// The verdict's table, then what was skipped.
    pub fn to_table(&self) -> String {
        let mut s = self.verdict.to_table();
        for k in &self.skipped {
            s.push_str(&format!("{k}\n"));
        }
        for e in &self.empty_sources {
            s.push_str(&format!("warning: {e}: no *.asc testimony there\n"));
        }
        for w in &self.missing_certificates {
            s.push_str(&format!(
                "warning: witness {:?} ({}): no certificate in the --keyring files, so their testimonies cannot count; add it with --keyring\n",
                w.name, w.fingerprint
            ));
        }
        for d in &self.file_disagreements {
            s.push_str(&d.to_text());
        }
        s
    }
}

/// Why verification could not decide.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The policy, a keyring or testimonies are unusable (names its file).
    #[error(transparent)]
    Testimony(#[from] testimony::Error),
    /// A policy witness is named by a subkey fingerprint.
    #[error(
        "{policy}: witness {witness:?}: {subkey} is a subkey of certificate {primary}; a policy names witnesses by primary fingerprint: write {primary}"
    )]
    SubkeyInPolicy {
        /// The policy file.
        policy: String,
        /// The witness name.
        witness: String,
        /// The fingerprint written.
        subkey: String,
        /// The primary to write instead.
        primary: String,
    },
    /// A .deb could not be read (detdeb's error names the file).
    #[error(transparent)]
    DebRead(#[from] detdeb::Error),
    /// A .deb is not a regular file or has no such control field.
    #[error("{}: {problem}", path.display())]
    Deb {
        /// The .deb.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A policy or keyring file is unreadable, not a regular file, or too large.
    #[error("{}: {problem}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A testimony URL could not be fetched.
    #[error("{url}: {problem}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        problem: String,
    },
}

/// Largest keyring file read (a keyring of thousands of certificates is far smaller).
const MAX_KEYRING_BYTES: u64 = 64 << 20;

/// Reads and checks the policy.
pub fn load_policy(path: &Path) -> Result<Policy, VerifyError> {
    let text = read_small(path, 1 << 20).map_err(|problem| VerifyError::Unreadable {
        path: path.into(),
        problem,
    })?;
    let text = String::from_utf8(text).map_err(|_| VerifyError::Unreadable {
        path: path.into(),
        problem: "a policy is TOML text; this file is not UTF-8".into(),
    })?;
    Policy::parse(&text)
        .map_err(|e| testimony::Error::Parse(e.with_origin(path.display().to_string())).into())
}

/// Reads the keyrings (merging copies of one certificate) and checks that no
/// policy witness is named by a subkey.
pub fn load_keyring(
    paths: &[PathBuf],
    policy: &Policy,
    policy_path: &Path,
) -> Result<Keyring, VerifyError> {
    let mut keyring = Keyring::default();
    for p in paths {
        let bytes =
            read_small(p, MAX_KEYRING_BYTES).map_err(|problem| VerifyError::Unreadable {
                path: p.clone(),
                problem,
            })?;
        keyring.extend(Keyring::from_bytes(&bytes, &p.display().to_string())?);
    }
    if let Some((w, primary)) = policy.subkey_witness(|f| keyring.primary_of_subkey(f)) {
        return Err(VerifyError::SubkeyInPolicy {
            policy: policy_path.display().to_string(),
            witness: w.name.clone(),
            subkey: w.fingerprint.to_string(),
            primary: primary.to_string(),
        });
    }
    Ok(keyring)
}

/// Reads a regular file of at most `max` bytes, opened once without blocking.
fn read_small(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| e.to_string())?;
    let meta = f.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than {max} bytes"));
    }
    Ok(bytes)
}

/// Identifies a .deb by its own control fields and its streamed sha256.
pub fn subject(path: &Path) -> Result<Subject, VerifyError> {
    let [package, version, architecture] = control_identity(path)?;
    Ok(Subject::from_file(path, &package, &version, &architecture)?)
}

/// A .deb's Package, Version and Architecture from its control file (no hashing):
/// `install` checks the user's file with it before copying.
pub fn control_identity(path: &Path) -> Result<[String; 3], VerifyError> {
    let deb_err = |problem: String| VerifyError::Deb {
        path: path.into(),
        problem,
    };
    let control = detdeb::reader::DebReader::open(path)?.control()?;
    let field = |f: &str| {
        control.get(f).map(str::to_string).ok_or_else(|| {
            deb_err(format!(
                "the control file has no {f} field; is this a .deb?"
            ))
        })
    };
    Ok([field("Package")?, field("Version")?, field("Architecture")?])
}

/// Verifies `debs` against the testimonies under the policy.
pub fn verify(debs: &[PathBuf], inputs: &TrustInputs) -> Result<Report, VerifyError> {
    let policy = load_policy(&inputs.policy)?;
    let keyring = load_keyring(&inputs.keyrings, &policy, &inputs.policy)?;
    let (subjects, gathered) = std::thread::scope(|s| {
        let hashing = s.spawn(|| {
            debs.iter()
                .map(|d| subject(d))
                .collect::<Result<Vec<_>, _>>()
        });
        let gathered = gather(&inputs.sources, inputs.limits, inputs.http)
            .map(|(c, empty)| (c.evidence(&keyring, inputs.at), c, empty));
        (hashing.join().expect("hashing thread panicked"), gathered)
    });
    let (subjects, (evidence, collection, empty_sources)) = (subjects?, gathered?);
    let missing_certificates = (policy.witnesses.iter())
        .filter(|w| !keyring.has_primary(&w.fingerprint))
        .cloned()
        .collect();
    let unread = collection.skipped().iter().map(Skipped::files).sum();
    let verdict =
        evaluate(&policy, &subjects, &evidence, inputs.at).refuse_if_unread(unread, policy.dissent);
    let full = |origin: &str| collection.full_evidence(origin, &keyring, inputs.at);
    Ok(Report {
        missing_certificates,
        file_disagreements: file_disagreements(debs, &verdict, full)?,
        verdict,
        skipped: collection.skipped().to_vec(),
        empty_sources,
    })
}

/// Reads every source into one collection; also returns the local sources
/// with no testimony in them.
pub fn gather(
    sources: &[String],
    limits: Limits,
    http: HttpTimeouts,
) -> Result<(Collection, Vec<String>), VerifyError> {
    let mut coll = Collection::with_limits(limits);
    let mut empty = Vec::new();
    let deadline = Instant::now() + http.total;
    for src in sources {
        if is_http_url(src) {
            add_url(&mut coll, src, http, deadline)?;
        } else {
            // A directory whose files were all skipped is not empty: the
            // skipped lines say what is there.
            let skipped_before = coll.skipped().len();
            if coll.add_dir(Path::new(src))? == 0 && coll.skipped().len() == skipped_before {
                empty.push(src.clone());
            }
        }
    }
    Ok((coll, empty))
}

/// Whether a source is an http(s) URL; schemes are case-insensitive, so
/// `HTTPS://user:pw@…` is a URL (and redacted), not a local path.
fn is_http_url(src: &str) -> bool {
    let scheme = src.split_once("://").map(|(s, _)| s);
    scheme.is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"))
}

fn agent(t: HttpTimeouts) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(t.connect))
        .timeout_per_read(Some(t.idle))
        .timeout_per_write(Some(t.idle))
        .timeout_global(Some(t.per_file))
        .build()
        .into()
}

/// Fetches `url` within `budget` bytes; `Ok(None)` when the body is larger.
/// Errors show the URL without its `user:password@` part.
fn get(agent: &ureq::Agent, url: &MirrorUrl, budget: u64) -> Result<Option<Vec<u8>>, VerifyError> {
    let http = |e: ureq::Error| VerifyError::Http {
        url: url.to_string(),
        problem: srcpin::url::redact(&e.to_string()),
    };
    let mut resp = agent.get(url.as_secret_str()).call().map_err(http)?;
    match resp.body_mut().with_config().limit(budget).read_to_vec() {
        Ok(b) => Ok(Some(b)),
        Err(ureq::Error::BodyExceedsLimit(_)) => Ok(None),
        Err(e) => Err(http(e)),
    }
}

fn base_and_name(url: &str) -> Result<(&str, &str), VerifyError> {
    let shown = || srcpin::url::redact(url);
    let path_start = url.find("://").map_or(0, |i| i + 3);
    match url[path_start..].rfind('/') {
        Some(i) if path_start + i + 1 < url.len() => {
            Ok((&url[..path_start + i + 1], &url[path_start + i + 1..]))
        }
        _ => Err(VerifyError::Http {
            url: shown(),
            problem: "expected the URL of a testimony file or of a testimonies.txt index".into(),
        }),
    }
}

/// Fetches one file into the collection, within its budget; `false` if skipped.
/// The collection records the URL without credentials.
fn fetch_into(
    coll: &mut Collection,
    agent: &ureq::Agent,
    name: &str,
    url: &MirrorUrl,
) -> Result<Option<bool>, VerifyError> {
    let shown = url.to_string();
    let budget = match coll.budget(&shown) {
        Ok(b) => b,
        Err(s) => {
            coll.skip(s);
            return Ok(None);
        }
    };
    match get(agent, url, budget)? {
        Some(bytes) => {
            let detached = name.ends_with(".asc") && !is_cleartext(&bytes);
            Ok(coll.add(name, &shown, bytes)?.then_some(detached))
        }
        None => {
            coll.skip(if budget < coll.limits().max_file_bytes {
                Skipped::TotalTooLarge {
                    origin: shown,
                    limit: coll.limits().max_total_bytes,
                }
            } else {
                Skipped::TooLarge {
                    origin: shown,
                    limit: coll.limits().max_file_bytes,
                }
            });
            Ok(None)
        }
    }
}

/// Adds a testimony URL, or every file of a `.txt` index URL; gives up
/// (an error) when `deadline` passes.
pub fn add_url(
    coll: &mut Collection,
    url: &str,
    http: HttpTimeouts,
    deadline: Instant,
) -> Result<(), VerifyError> {
    let agent = agent(http);
    let (base, name) = base_and_name(url)?;
    let index_url = MirrorUrl::new(url);
    let shown = index_url.to_string();
    let refuse = |problem: String| VerifyError::Http {
        url: shown.clone(),
        problem,
    };
    let mut names = if name.ends_with(".txt") {
        let limit = coll.limits().max_file_bytes;
        let index = get(&agent, &index_url, limit)?
            .ok_or_else(|| refuse(format!("index larger than {limit} bytes")))?;
        let text = String::from_utf8(index).map_err(|_| refuse("index is not UTF-8".into()))?;
        parse_index(&text, &shown)?
    } else if is_safe_name(name) {
        vec![name.to_string()]
    } else {
        return Err(refuse(format!(
            "refusing file name {name:?} (plain file names only)"
        )));
    };
    coll.fit(&shown, &mut names);
    for n in names {
        let file_url = MirrorUrl::new(&format!("{base}{n}"));
        if Instant::now() > deadline {
            return Err(VerifyError::Http {
                url: file_url.to_string(),
                problem: format!(
                    "testimony collection took longer than {} s in all; use fewer or faster mirrors",
                    http.total.as_secs()
                ),
            });
        }
        if fetch_into(coll, &agent, &n, &file_url)? == Some(true) {
            let data = n.trim_end_matches(".asc");
            fetch_into(
                coll,
                &agent,
                data,
                &MirrorUrl::new(&format!("{base}{data}")),
            )?;
        }
    }
    Ok(())
}

/// How many differing files a [`FileDisagreement`] lists (the count is always whole).
pub const MAX_LISTED_FILES: usize = 20;

/// One file on which a witness and the local .deb disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileMismatch {
    /// Path inside the .deb, e.g. `boot/vmlinuz-6.12.0`.
    pub path: String,
    /// sha256 in the local .deb (`None`: the file is not in it).
    pub local: Option<String>,
    /// sha256 the witness testified (`None`: not in their .deb).
    pub witness: Option<String>,
}

impl FileMismatch {
    /// `content`, `only here`, or `only in the testimony`.
    pub fn kind(&self) -> &'static str {
        match (&self.local, &self.witness) {
            (Some(_), Some(_)) => "content",
            (Some(_), None) => "only here",
            _ => "only in the testimony",
        }
    }
}

/// Which files inside one .deb a dissenting witness's v2 testimony disagrees on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDisagreement {
    /// The local .deb's file name.
    pub deb: String,
    /// The witness's name in the policy.
    pub witness: String,
    /// The testimony file.
    pub origin: String,
    /// How many files disagree in all.
    pub count: usize,
    /// The first [`MAX_LISTED_FILES`] of them, by path.
    pub files: Vec<FileMismatch>,
}

impl FileDisagreement {
    /// `deb: witness disagrees on N file(s): …`, one indented line per listed file.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}: {} disagrees on {} file(s) inside ({}):\n",
            self.deb, self.witness, self.count, self.origin
        );
        if self.count == 0 {
            s = format!(
                "{}: {} testified other bytes but the same file hashes: the difference is in the package's metadata or compression ({})\n",
                self.deb, self.witness, self.origin
            );
        }
        for f in &self.files {
            s.push_str(&format!("  {:<22} {}\n", f.kind(), f.path));
        }
        if self.count > self.files.len() {
            s.push_str(&format!("  … and {} more\n", self.count - self.files.len()));
        }
        s
    }
}

/// Files whose hash differs or that are on one side only, both lists sorted by
/// path; returns the whole count and the first `limit`.
pub fn compare_files(
    local: &[FileHash],
    witness: &[FileHash],
    limit: usize,
) -> (usize, Vec<FileMismatch>) {
    use std::collections::BTreeMap;
    let mut by_path: BTreeMap<&str, (Option<&str>, Option<&str>)> = BTreeMap::new();
    for f in local {
        by_path.entry(&f.path).or_default().0 = Some(&f.sha256);
    }
    for f in witness {
        by_path.entry(&f.path).or_default().1 = Some(&f.sha256);
    }
    let mut count = 0;
    let mut listed = Vec::new();
    for (path, (l, w)) in by_path.into_iter().filter(|(_, (l, w))| l != w) {
        count += 1;
        if listed.len() < limit {
            listed.push(FileMismatch {
                path: path.to_owned(),
                local: l.map(str::to_owned),
                witness: w.map(str::to_owned),
            });
        }
    }
    (count, listed)
}

/// The v2 testimony's record of `subject` in `ev`, if it has file hashes.
fn testified_record(ev: Evidence, subject: &Subject) -> Option<DebRecord> {
    let Some(Ok(Testimony::V2(t))) = ev.testimony else {
        return None;
    };
    // A testimony without file hashes (hand-made, or from an older tool) says
    // nothing about files.
    t.debs.into_iter().find(|d| {
        d.package == subject.package
            && d.version == subject.version
            && d.architecture == subject.architecture
            && !d.files.is_empty()
    })
}

/// For each dissent backed by a v2 testimony with file hashes, which files differ
/// (the local .deb is read again only then).
fn file_disagreements(
    debs: &[PathBuf],
    verdict: &Verdict,
    full_evidence: impl Fn(&str) -> Option<Evidence>,
) -> Result<Vec<FileDisagreement>, VerifyError> {
    let mut out = Vec::new();
    for (path, row) in debs.iter().zip(&verdict.debs) {
        let mut local: Option<DebRecord> = None;
        for (witness, cell) in verdict.witnesses.iter().zip(&row.cells) {
            let Cell::Dissent { origin, .. } = cell else {
                continue;
            };
            let theirs = full_evidence(origin).and_then(|ev| testified_record(ev, &row.subject));
            let Some(theirs) = theirs else {
                continue;
            };
            if local.is_none() {
                local = Some(
                    crate::record::deb_record(path).map_err(|e| VerifyError::Deb {
                        path: path.clone(),
                        problem: format!("listing its files: {e}"),
                    })?,
                );
            }
            let mine = local.as_ref().map_or(&[][..], |r| &r.files[..]);
            let (count, files) = compare_files(mine, &theirs.files, MAX_LISTED_FILES);
            out.push(FileDisagreement {
                deb: row.subject.file_name.clone(),
                witness: witness.name.clone(),
                origin: origin.clone(),
                count,
                files,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod file_tests {
    use super::*;

    fn hashes(list: &[(&str, &str)]) -> Vec<FileHash> {
        list.iter()
            .map(|(p, h)| FileHash {
                path: p.to_string(),
                sha256: h.to_string(),
            })
            .collect()
    }

    #[test]
    fn compare_files_names_content_and_one_sided_files() {
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            &'a [(&'a str, &'a str)],
            usize,
            &'a [(&'a str, &'a str)],
        );
        let table: &[Case] = &[
            // identical lists
            (&[("a", "1"), ("b", "2")], &[("a", "1"), ("b", "2")], 0, &[]),
            // one content difference
            (
                &[("a", "1"), ("b", "2")],
                &[("a", "1"), ("b", "3")],
                1,
                &[("b", "content")],
            ),
            // a file only here, one only in the testimony
            (
                &[("a", "1"), ("c", "4")],
                &[("a", "1"), ("b", "2")],
                2,
                &[("b", "only in the testimony"), ("c", "only here")],
            ),
            // empty testimony list: every local file
            (
                &[("x", "1"), ("y", "2")],
                &[],
                2,
                &[("x", "only here"), ("y", "only here")],
            ),
        ];
        for (local, witness, count, want) in table {
            let (n, files) = compare_files(&hashes(local), &hashes(witness), 10);
            assert_eq!(n, *count, "{local:?} vs {witness:?}");
            let got: Vec<(&str, &str)> =
                files.iter().map(|f| (f.path.as_str(), f.kind())).collect();
            assert_eq!(got, *want);
        }
    }

    #[test]
    fn the_listing_is_bounded_but_the_count_is_whole() {
        let local: Vec<FileHash> = (0..100)
            .map(|i| FileHash {
                path: format!("lib/modules/m{i:03}.ko"),
                sha256: "a".into(),
            })
            .collect();
        let witness: Vec<FileHash> = local
            .iter()
            .map(|f| FileHash {
                sha256: "b".into(),
                ..f.clone()
            })
            .collect();
        let (count, files) = compare_files(&local, &witness, MAX_LISTED_FILES);
        assert_eq!(count, 100);
        assert_eq!(files.len(), MAX_LISTED_FILES);
        assert_eq!(files[0].path, "lib/modules/m000.ko");
        let d = FileDisagreement {
            deb: "linux-image.deb".into(),
            witness: "bob".into(),
            origin: "bob.asc".into(),
            count,
            files,
        };
        let text = d.to_text();
        assert!(
            text.starts_with("linux-image.deb: bob disagrees on 100 file(s) inside (bob.asc):\n"),
            "{text}"
        );
        assert!(
            text.contains("  content                lib/modules/m019.ko\n"),
            "{text}"
        );
        assert!(!text.contains("m020"));
        assert!(text.ends_with("  … and 80 more\n"), "{text}");
    }
}
