//! `kernel-deb verify`: do enough independent witnesses vouch for these .debs?
//!
//! ```text
//! kernel-deb verify DEB... --policy P --testimonies DIR|URL... --keyring FILE... [--json] [--at TIME]
//! ```
//!
//! Testimonies come from local directories (every `*.asc` file in them; other
//! files are ignored, except the data file `X` of a detached signature `X.asc`)
//! and from HTTP(S) mirrors. A URL is either one testimony file, or a plain-text
//! index whose name ends in `.txt` (conventionally `testimonies.txt`) listing one
//! file name per line (`#` comments and blank lines ignored), each fetched
//! relative to the index. Directory listings are not scraped: they are not
//! portable. The same file name from two sources must be byte-identical, else
//! verification stops and names both sources.
//!
//! Each .deb is identified by its own control fields (Package, Version,
//! Architecture) and its streamed sha256. The output is the who-agrees matrix
//! (.deb × witness: agree / DISSENT / silent / invalid, with reasons) and the
//! verdict; `--json` prints the same as JSON on stdout.
//!
//! Exit codes:
//! - 0: every .deb passed the policy;
//! - 3: not enough agreeing witness groups for some .deb (and no dissent);
//! - 4: a trusted witness dissented (built a different file) for some .deb;
//! - 1: bad input or other error (unreadable policy/keyring/.deb, mirrors that
//!   disagree, network failure);
//! - 2: usage error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use testimony::collect::{Collection, is_cleartext};
use testimony::policy::Policy;
use testimony::verdict::{Subject, Verdict, evaluate};
use testimony::verify::Keyring;

/// Where testimonies come from and what decides.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustArgs {
    /// Policy file (TOML): witnesses, threshold, minimums, dissent rule.
    #[arg(long, value_name = "P")]
    pub policy: PathBuf,
    /// Directories of *.asc testimonies, or http(s) URLs of testimony files or of a
    /// testimonies.txt index.
    #[arg(long = "testimonies", value_name = "DIR|URL", required = true, num_args = 1..)]
    pub testimonies: Vec<String>,
    /// OpenPGP certificates of the witnesses (armored or binary; repeatable).
    #[arg(long, value_name = "FILE", required = true)]
    pub keyring: Vec<PathBuf>,
    /// Reference time for signature and age checks: Unix seconds or
    /// YYYY-MM-DDTHH:MM:SSZ [default: now].
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

/// Arguments of `kernel-deb verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The .deb files to decide about.
    #[arg(value_name = "DEB", required = true)]
    pub debs: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Print the verdict as JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    let verdict = decide(&args.debs, &args.trust)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&verdict)?);
    } else {
        print!("{}", verdict.to_table());
    }
    Ok(ExitCode::from(verdict.exit_code()))
}

/// Parses `--at`.
pub(crate) fn parse_time(s: Option<&str>) -> Result<SystemTime> {
    let Some(s) = s else {
        return Ok(SystemTime::now());
    };
    let secs = match s.parse::<u64>() {
        Ok(n) => n,
        Err(_) => testimony::canonical::parse_utc(s).with_context(|| {
            format!("--at {s:?}: expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ")
        })?,
    };
    Ok(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// Hashes the .debs, gathers and checks testimonies, and evaluates the policy.
pub(crate) fn decide(debs: &[PathBuf], trust: &TrustArgs) -> Result<Verdict> {
    let at = parse_time(trust.at.as_deref())?;
    let ptext = std::fs::read_to_string(&trust.policy)
        .with_context(|| format!("reading policy {}", trust.policy.display()))?;
    let policy =
        Policy::parse(&ptext).map_err(|e| e.with_origin(trust.policy.display().to_string()))?;
    let mut keyring = Keyring::default();
    for k in &trust.keyring {
        let bytes = std::fs::read(k).with_context(|| format!("reading keyring {}", k.display()))?;
        keyring.extend(Keyring::from_bytes(&bytes, &k.display().to_string())?);
    }
    // Hash the .debs (streaming) on one thread while testimonies are gathered and
    // checked on the others.
    let (subjects, evidence) = std::thread::scope(|s| {
        let hashing = s.spawn(|| debs.iter().map(|d| subject(d)).collect::<Result<Vec<_>>>());
        let evidence = gather(&trust.testimonies).map(|c| c.evidence(&keyring, at));
        (hashing.join().expect("hashing thread panicked"), evidence)
    });
    let (subjects, evidence) = (subjects?, evidence?);
    Ok(evaluate(&policy, &subjects, &evidence, at))
}

/// Reads every testimony source into one collection.
fn gather(sources: &[String]) -> Result<Collection> {
    let mut coll = Collection::default();
    for src in sources {
        if src.starts_with("http://") || src.starts_with("https://") {
            add_url(&mut coll, src)?;
        } else {
            let n = coll
                .add_dir(Path::new(src))
                .with_context(|| format!("reading testimonies from {src}"))?;
            if n == 0 {
                eprintln!("kernel-deb: warning: no *.asc testimony in {src}");
            }
        }
    }
    Ok(coll)
}

/// Reads a .deb's control fields (detdeb) and streams its sha256.
fn subject(path: &Path) -> Result<Subject> {
    let reader = detdeb::reader::DebReader::open(path)?;
    let control = reader.control()?;
    let field = |f: &str| -> Result<String> {
        control
            .get(f)
            .map(str::to_string)
            .with_context(|| format!("{}: control has no {f} field", path.display()))
    };
    Ok(Subject::from_file(
        path,
        &field("Package")?,
        &field("Version")?,
        &field("Architecture")?,
    )?)
}

const MAX_TESTIMONY_BYTES: u64 = 1 << 20;

fn get(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>> {
    let mut resp = agent
        .get(url)
        .call()
        .with_context(|| format!("fetching {url}"))?;
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_TESTIMONY_BYTES)
        .read_to_vec()
        .with_context(|| format!("reading {url} (testimonies are at most 1 MiB)"))?;
    Ok(body)
}

fn base_and_name(url: &str) -> Result<(&str, &str)> {
    let path_start = url.find("://").map_or(0, |i| i + 3);
    match url[path_start..].rfind('/') {
        Some(i) if path_start + i + 1 < url.len() => {
            Ok((&url[..path_start + i + 1], &url[path_start + i + 1..]))
        }
        _ => bail!("{url}: expected the URL of a testimony file or of a testimonies.txt index"),
    }
}

fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.contains('\\')
        && !name.contains("..")
        && name.bytes().all(|b| b.is_ascii_graphic())
}

/// Adds a testimony URL, or every file of a `.txt` index URL.
pub(crate) fn add_url(coll: &mut Collection, url: &str) -> Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let (base, name) = base_and_name(url)?;
    let names: Vec<String> = if name.ends_with(".txt") {
        let index = String::from_utf8(get(&agent, url)?)
            .with_context(|| format!("{url}: index is not UTF-8"))?;
        index
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    } else {
        vec![name.to_string()]
    };
    for n in names {
        if !safe_name(&n) {
            bail!("{url}: refusing file name {n:?} (plain file names only)");
        }
        let file_url = format!("{base}{n}");
        let bytes = get(&agent, &file_url)?;
        let detached = n.ends_with(".asc") && !is_cleartext(&bytes);
        coll.add(&n, &file_url, bytes)?;
        if detached {
            let data = n.trim_end_matches(".asc");
            let data_url = format!("{base}{data}");
            let d = get(&agent, &data_url)?;
            coll.add(data, &data_url, d)?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::path::PathBuf;

    use testimony::build_record::{BuildRecord, DebRecord, SourcePin, Toolchain};
    use testimony::canonical::{Fingerprint, sha256_hex};
    use testimony::sign::{SigningKey, sign_cleartext};
    use testimony::v2::{TestimonyV2, WitnessInfo};

    use super::*;

    pub(crate) const AT: u64 = 1_780_272_000; // 2026-06-01

    pub(crate) fn keys() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/testimony/keys")
    }

    pub(crate) fn fpr(name: &str) -> String {
        let list = std::fs::read_to_string(keys().join("fingerprints.txt")).unwrap();
        list.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap()[name.len() + 1..]
            .to_string()
    }

    /// A real .deb made by dpkg-deb, with its build record.
    pub(crate) fn make_deb(dir: &Path, content: &str) -> (PathBuf, BuildRecord) {
        let root = dir.join(format!("pkgroot-{}", sha256_hex(content.as_bytes())));
        std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
        std::fs::create_dir_all(root.join("usr/share/sk-test")).unwrap();
        std::fs::write(root.join("DEBIAN/control"), "Package: sk-test\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n").unwrap();
        std::fs::write(root.join("usr/share/sk-test/file"), content).unwrap();
        let out_dir = dir.join(format!("out-{}", sha256_hex(content.as_bytes())));
        std::fs::create_dir_all(&out_dir).unwrap();
        let deb = out_dir.join("sk-test_1.0-1_all.deb");
        let st = std::process::Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zgzip", "--build"])
            .arg(&root)
            .arg(&deb)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let bytes = std::fs::read(&deb).unwrap();
        let record = BuildRecord {
            source: SourcePin {
                manifest_sha256: sha256_hex(b"m"),
                tarball_name: "linux.tar.xz".into(),
                tarball_sha256: sha256_hex(b"t"),
                source_date_epoch: 1,
            },
            toolchain: Toolchain::default(),
            kernel_config_sha256: sha256_hex(b"c"),
            debs: vec![DebRecord {
                file_name: "sk-test_1.0-1_all.deb".into(),
                package: "sk-test".into(),
                version: "1.0-1".into(),
                architecture: "all".into(),
                size: bytes.len() as u64,
                sha256: sha256_hex(&bytes),
                files: vec![],
            }],
        };
        (deb, record)
    }

    pub(crate) fn testify(who: &str, record: &BuildRecord) -> String {
        let w = WitnessInfo {
            name: who.into(),
            fingerprint: Fingerprint::parse(&fpr(who)).unwrap(),
            jurisdiction: None,
            computer_system: None,
            code_review: 2,
            computer_trust: 10,
            canary: None,
            statement: vec![],
        };
        let t = TestimonyV2::from_build_record(record, w, AT - 86400);
        let key = std::fs::read(keys().join(format!("{who}.key"))).unwrap();
        let key = SigningKey::from_bytes(&key, who).unwrap();
        sign_cleartext(
            &t.to_text(),
            &key,
            SystemTime::UNIX_EPOCH + Duration::from_secs(AT - 3600),
        )
        .unwrap()
    }

    pub(crate) fn trust(dir: &Path, sources: Vec<String>) -> TrustArgs {
        let policy = dir.join("policy.toml");
        std::fs::write(
            &policy,
            format!(
                "threshold = 2\n[[witness]]\nname = \"alice\"\nfingerprint = \"{}\"\n[[witness]]\nname = \"bob\"\nfingerprint = \"{}\"\n[[witness]]\nname = \"dave\"\nfingerprint = \"{}\"\n",
                fpr("alice"),
                fpr("bob"),
                fpr("dave")
            ),
        )
        .unwrap();
        TrustArgs {
            policy,
            testimonies: sources,
            keyring: ["alice", "bob", "dave"]
                .iter()
                .map(|k| keys().join(format!("{k}.cert")))
                .collect(),
            at: Some(AT.to_string()),
        }
    }

    /// Serves `files` (name → bytes) on 127.0.0.1 for `requests` requests, then stops.
    fn serve(
        files: Vec<(String, Vec<u8>)>,
        requests: usize,
    ) -> (String, std::thread::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            // Bounded: `requests` connections, and at most 10 s of waiting.
            l.set_nonblocking(true).unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            for _ in 0..requests {
                let mut s = loop {
                    match l.accept() {
                        Ok((s, _)) => break s,
                        Err(_) if std::time::Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(5))
                        }
                        Err(_) => return,
                    }
                };
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut first = String::new();
                r.read_line(&mut first).unwrap();
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                        break;
                    }
                }
                let path = first
                    .split(' ')
                    .nth(1)
                    .unwrap_or("/")
                    .trim_start_matches('/')
                    .to_string();
                match files.iter().find(|(n, _)| *n == path) {
                    Some((_, b)) => {
                        write!(
                            s,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            b.len()
                        )
                        .unwrap();
                        s.write_all(b).unwrap();
                    }
                    None => write!(
                        s,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .unwrap(),
                }
            }
        });
        (base, h)
    }

    #[test]
    fn local_dir_pass_dissent_and_not_enough() {
        let dir = tempfile::tempdir().unwrap();
        let (deb, rec) = make_deb(dir.path(), "good");
        let (_, other) = make_deb(dir.path(), "evil");
        let t = dir.path().join("t");
        std::fs::create_dir(&t).unwrap();
        std::fs::write(t.join("alice.asc"), testify("alice", &rec)).unwrap();
        std::fs::write(t.join("notes.txt"), "ignored").unwrap();
        let args = trust(dir.path(), vec![t.display().to_string()]);
        assert_eq!(
            decide(std::slice::from_ref(&deb), &args)
                .unwrap()
                .exit_code(),
            3
        );
        std::fs::write(t.join("bob.asc"), testify("bob", &rec)).unwrap();
        let v = decide(std::slice::from_ref(&deb), &args).unwrap();
        assert_eq!(v.exit_code(), 0, "{}", v.to_table());
        std::fs::write(t.join("dave.asc"), testify("dave", &other)).unwrap();
        let v = decide(std::slice::from_ref(&deb), &args).unwrap();
        assert_eq!(v.exit_code(), 4, "{}", v.to_table());
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["decision"]["rule"], "dissent");
    }

    #[test]
    fn http_mirrors_index_and_disagreement() {
        let dir = tempfile::tempdir().unwrap();
        let (deb, rec) = make_deb(dir.path(), "good");
        let (_, other) = make_deb(dir.path(), "evil");
        let a = testify("alice", &rec).into_bytes();
        let b = testify("bob", &rec).into_bytes();
        let index = b"# testimonies\nalice.asc\n\nbob.asc\n".to_vec();
        // Two mirrors serving the same files: pass, each file counted once.
        let files = vec![
            ("testimonies.txt".to_string(), index.clone()),
            ("alice.asc".into(), a.clone()),
            ("bob.asc".into(), b.clone()),
        ];
        let (m1, h1) = serve(files.clone(), 3);
        let (m2, h2) = serve(files, 3);
        let args = trust(
            dir.path(),
            vec![
                format!("{m1}testimonies.txt"),
                format!("{m2}testimonies.txt"),
            ],
        );
        let v = decide(std::slice::from_ref(&deb), &args).unwrap();
        assert_eq!(v.exit_code(), 0, "{}", v.to_table());
        h1.join().unwrap();
        h2.join().unwrap();
        // A mirror that serves a different bob.asc: refused, naming both sources.
        let evil_b = testify("bob", &other).into_bytes();
        let (m1, h1) = serve(vec![("bob.asc".into(), b)], 1);
        let (m2, h2) = serve(vec![("bob.asc".into(), evil_b)], 1);
        let args = trust(
            dir.path(),
            vec![format!("{m1}bob.asc"), format!("{m2}bob.asc")],
        );
        let e = decide(std::slice::from_ref(&deb), &args).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("mirrors disagree about bob.asc")
                && msg.contains(&m1)
                && msg.contains(&m2),
            "{msg}"
        );
        h1.join().unwrap();
        h2.join().unwrap();
        // An index naming a path outside the mirror is refused.
        let (m3, h3) = serve(
            vec![("testimonies.txt".into(), b"../../etc/passwd\n".to_vec())],
            1,
        );
        assert!(
            decide(
                std::slice::from_ref(&deb),
                &trust(dir.path(), vec![format!("{m3}testimonies.txt")])
            )
            .is_err()
        );
        h3.join().unwrap();
    }

    #[test]
    fn times_parse() {
        assert_eq!(parse_time(Some("0")).unwrap(), SystemTime::UNIX_EPOCH);
        assert_eq!(
            parse_time(Some("1970-01-02T00:00:00Z")).unwrap(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(86400)
        );
        assert!(parse_time(Some("yesterday")).is_err());
    }
}
