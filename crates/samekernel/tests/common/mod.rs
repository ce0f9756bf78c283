//! Real .debs (dpkg-deb), real keys (fixtures/testimony/keys), real HTTP
//! servers on 127.0.0.1.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use samekernel::verify::TrustInputs;
use testimony::build_record::{BuildRecord, DebRecord, SourcePin, Toolchain};
use testimony::canonical::{Fingerprint, sha256_hex};
use testimony::sign::{SigningKey, sign_cleartext};
use testimony::v2::{TestimonyV2, WitnessInfo};

pub const AT: u64 = 1_780_272_000; // 2026-06-01

pub fn keys() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/testimony/keys")
}

pub fn fpr(name: &str) -> String {
    let list = std::fs::read_to_string(keys().join("fingerprints.txt")).unwrap();
    let line = list
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap();
    line.split_once(' ').unwrap().1.to_string()
}

/// A real .deb made by dpkg-deb (package sk-test 1.0-1 all), with its build record.
pub fn make_deb(dir: &Path, content: &str) -> (PathBuf, BuildRecord) {
    let tag = sha256_hex(content.as_bytes());
    let root = dir.join(format!("pkgroot-{tag}"));
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(root.join("usr/share/sk-test")).unwrap();
    std::fs::write(
        root.join("DEBIAN/control"),
        "Package: sk-test\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: test\n",
    )
    .unwrap();
    std::fs::write(root.join("usr/share/sk-test/file"), content).unwrap();
    let out_dir = dir.join(format!("out-{tag}"));
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
        flavour: None,
        hardening: None,
        module_cert_sha256: None,
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

/// `who`'s clearsigned v2 testimony for `record`.
pub fn testify(who: &str, record: &BuildRecord) -> String {
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

/// `dir/t` holding `WHO.asc`, each witness's testimony for its record.
pub fn testimonies(dir: &Path, who: &[(&str, &BuildRecord)]) -> PathBuf {
    let t = dir.join("t");
    std::fs::create_dir_all(&t).unwrap();
    for (w, r) in who {
        std::fs::write(t.join(format!("{w}.asc")), testify(w, r)).unwrap();
    }
    t
}

/// Policy (threshold 2; alice, bob, dave) and keyrings, at [`AT`].
pub fn inputs(dir: &Path, sources: Vec<String>) -> TrustInputs {
    let policy = dir.join("policy.toml");
    let mut text = "threshold = 2\n".to_string();
    for n in ["alice", "bob", "dave"] {
        text.push_str(&format!(
            "[[witness]]\nname = \"{n}\"\nfingerprint = \"{}\"\n",
            fpr(n)
        ));
    }
    std::fs::write(&policy, text).unwrap();
    let keyrings = ["alice", "bob", "dave"]
        .iter()
        .map(|k| keys().join(format!("{k}.cert")))
        .collect();
    let mut i = TrustInputs::new(policy, sources, keyrings);
    i.at = SystemTime::UNIX_EPOCH + Duration::from_secs(AT);
    i
}

/// What a test server does with one request for a known file.
#[derive(Clone)]
pub enum Serve {
    /// The whole body at once.
    Body(Vec<u8>),
    /// Headers announcing `len` bytes, then one byte, then silence for `pause`.
    Trickle { len: usize, pause: Duration },
}

/// Serves `files` on 127.0.0.1 for `requests` requests (at most 20 s), then stops.
pub fn serve(
    files: Vec<(String, Serve)>,
    requests: usize,
) -> (String, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        l.set_nonblocking(true).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
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
            if r.read_line(&mut first).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let path = first
                .split(' ')
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string();
            let _ = match files.iter().find(|(n, _)| *n == path).map(|(_, s)| s) {
                Some(Serve::Body(b)) => write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    b.len()
                )
                .and_then(|_| s.write_all(b)),
                Some(Serve::Trickle { len, pause }) => {
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\nx"
                    );
                    let _ = s.flush();
                    std::thread::sleep(*pause);
                    Ok(())
                }
                None => write!(
                    s,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                ),
            };
        }
    });
    (base, h)
}

pub fn body(files: &[(&str, Vec<u8>)]) -> Vec<(String, Serve)> {
    files
        .iter()
        .map(|(n, b)| (n.to_string(), Serve::Body(b.clone())))
        .collect()
}
