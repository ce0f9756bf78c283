//! Shared fixtures: the committed keys of fixtures/testimony/keys and a fixed clock.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use testimony::build_record::{
    BuildRecord, DebRecord, FileHash, SourcePin, Toolchain, ToolchainComponent,
};
use testimony::canonical::{Fingerprint, sha256_hex};
use testimony::sign::SigningKey;
use testimony::v2::{TestimonyV2, WitnessInfo};
use testimony::verify::Keyring;

/// 2026-06-01T00:00:00Z: after every key's creation, after erin's expiry.
pub const AT_SECS: u64 = 1_780_272_000;

pub fn at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(AT_SECS)
}

pub fn day_before() -> SystemTime {
    at() - Duration::from_secs(86400)
}

pub fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/testimony/keys")
}

pub fn secret(name: &str) -> SigningKey {
    let p = keys_dir().join(format!("{name}.key"));
    SigningKey::from_bytes(&std::fs::read(&p).unwrap(), &p.display().to_string()).unwrap()
}

pub fn cert_bytes(name: &str) -> Vec<u8> {
    std::fs::read(keys_dir().join(format!("{name}.cert"))).unwrap()
}

pub fn keyring(names: &[&str]) -> Keyring {
    let mut k = Keyring::default();
    for n in names {
        k.extend(Keyring::from_bytes(&cert_bytes(n), n).unwrap());
    }
    k
}

pub fn all_keys() -> Keyring {
    keyring(&["alice", "bob", "carol", "dave", "erin", "frank", "mallory"])
}

pub fn fpr(name: &str) -> Fingerprint {
    let list = std::fs::read_to_string(keys_dir().join("fingerprints.txt")).unwrap();
    let line = list
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap();
    Fingerprint::parse(line.split_once(' ').unwrap().1).unwrap()
}

/// The bytes of a small fake ".deb" and its record.
pub const DEB_BYTES: &[u8] = b"!<arch>\nnot really a deb, but hashed like one\n";
pub const DEB_NAME: &str = "linux-image-6.12.38-sk_6.12.38-1_amd64.deb";

pub fn record() -> BuildRecord {
    BuildRecord {
        source: SourcePin {
            manifest_sha256: sha256_hex(b"manifest"),
            tarball_name: "linux-6.12.38.tar.xz".into(),
            tarball_sha256: sha256_hex(b"tarball"),
            source_date_epoch: 1_752_000_000,
        },
        toolchain: Toolchain {
            components: vec![ToolchainComponent {
                name: "gcc-12".into(),
                version: "12.2.0-14".into(),
            }],
            banners: vec!["gcc (Debian 12.2.0-14) 12.2.0".into()],
        },
        kernel_config_sha256: sha256_hex(b"config"),
        flavour: None,
        hardening: None,
        module_cert_sha256: None,
        debs: vec![DebRecord {
            file_name: DEB_NAME.into(),
            package: "linux-image-6.12.38-sk".into(),
            version: "6.12.38-1".into(),
            architecture: "amd64".into(),
            size: DEB_BYTES.len() as u64,
            sha256: sha256_hex(DEB_BYTES),
            files: vec![FileHash {
                path: "boot/vmlinuz-6.12.38-sk".into(),
                sha256: sha256_hex(b"vmlinuz"),
            }],
        }],
    }
}

pub fn witness(name: &str) -> WitnessInfo {
    WitnessInfo {
        name: name.into(),
        fingerprint: fpr(name),
        jurisdiction: Some("Iceland".into()),
        computer_system: Some("Debian 12.11".into()),
        code_review: 4,
        computer_trust: 60,
        canary: Some("I am under no gag order.".into()),
        statement: vec![],
    }
}

pub fn v2_for(name: &str, record: &BuildRecord) -> TestimonyV2 {
    TestimonyV2::from_build_record(record, witness(name), AT_SECS - 2 * 86400)
}

/// A v2 testimony by `name` for `record`, clearsigned by `name`'s key the day before [`at`].
pub fn signed_v2(name: &str, record: &BuildRecord) -> Vec<u8> {
    testimony::sign::sign_cleartext(&v2_for(name, record).to_text(), &secret(name), day_before())
        .unwrap()
        .into_bytes()
}

pub fn have(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A build record with `n` files in its one package: about 100 bytes a line.
pub fn record_with_files(n: usize) -> BuildRecord {
    let mut r = record();
    r.debs[0].files = (0..n)
        .map(|i| FileHash {
            path: format!("lib/modules/6.12.38/kernel/drivers/some/module-{i:06}.ko"),
            sha256: sha256_hex(i.to_string().as_bytes()),
        })
        .collect();
    r.normalize();
    r
}

/// A throwaway GnuPG home.
pub struct Gpg(pub tempfile::TempDir);

impl Gpg {
    pub fn new() -> Gpg {
        Gpg(tempfile::tempdir().unwrap())
    }
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
        use std::io::Write;
        let mut c = std::process::Command::new("gpg")
            .env("GNUPGHOME", self.0.path())
            .args([
                "--batch",
                "--no-tty",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
            ])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("gpg runs");
        let mut input = c.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or_default()).unwrap();
        drop(input);
        c.wait_with_output().unwrap()
    }

    /// The home with `name`'s secret key imported.
    pub fn with_secret(name: &str) -> Gpg {
        let g = Gpg::new();
        let key = keys_dir().join(format!("{name}.key"));
        let out = g.run(&["--import", key.to_str().unwrap()], None);
        assert!(out.status.success(), "{out:?}");
        g
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .env("GNUPGHOME", self.0.path())
            .args(["--kill", "all"])
            .status();
    }
}
