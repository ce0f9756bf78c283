//! `kernel-deb testify` as a witness runs it: a build record and a key file give
//! a clearsigned v2 testimony (and with `--v1` the seed's form beside it), the
//! paths printed; a value that cannot be canonical writes nothing (exit 1).

#[path = "../../samekernel/tests/common/mod.rs"]
mod common;

use std::process::{Command, Output};

use common::*;

fn testify_cli(record: &std::path::Path, name: &str, out: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kernel-deb"))
        .arg("testify")
        .arg("--record")
        .arg(record)
        .arg("--key")
        .arg(keys().join("alice.key"))
        .args(["--name", name, "--review", "4", "--trust", "50", "--v1"])
        .args(["--build-date", "2026-05-31T00:00:00Z", "-o"])
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn testify_writes_v2_and_v1_and_refuses_a_non_canonical_name() {
    let dir = tempfile::tempdir().unwrap();
    let (_deb, record) = make_deb(dir.path(), "kernel");
    let rp = dir.path().join("BUILD-RECORD");
    std::fs::write(&rp, record.to_text()).unwrap();

    let out = testify_cli(&rp, "alice", &dir.path().join("alice.asc"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (v2, v1) = (
        dir.path().join("alice.asc"),
        dir.path().join("alice.v1.asc"),
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed, format!("{}\n{}\n", v2.display(), v1.display()));
    let text = std::fs::read_to_string(&v2).unwrap();
    assert!(
        text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----"),
        "{text}"
    );
    assert!(
        text.contains(&format!("witness-fingerprint={}", fpr("alice"))),
        "{text}"
    );
    assert!(
        std::fs::read_to_string(&v1)
            .unwrap()
            .contains("my-name-or-pseudonym=alice")
    );

    let bad = dir.path().join("bad.asc");
    let out = testify_cli(&rp, "alice\nwitness-code-review=10", &bad);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a flag value cannot be written canonically"),
        "{stderr}"
    );
    assert!(!bad.exists());
}
