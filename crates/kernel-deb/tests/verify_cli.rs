//! `kernel-deb verify` as a user runs it: exit codes, JSON, and errors that say
//! which file and what to do.

#[path = "../../samekernel/tests/common/mod.rs"]
mod common;

use std::process::{Command, Output};

use common::*;

fn kernel_deb(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kernel-deb"))
        .args(args)
        .output()
        .unwrap()
}

fn verify_args(
    dir: &std::path::Path,
    deb: &std::path::Path,
    keyrings: &[std::path::PathBuf],
) -> Vec<std::ffi::OsString> {
    let inp = inputs(dir, vec![dir.join("t").display().to_string()]);
    let mut a: Vec<std::ffi::OsString> = vec![
        "verify".into(),
        deb.into(),
        "--policy".into(),
        inp.policy.into(),
    ];
    a.push("--testimonies".into());
    a.push(dir.join("t").into());
    for k in keyrings {
        a.push("--keyring".into());
        a.push(k.into());
    }
    a.push("--at".into());
    a.push(AT.to_string().into());
    a
}

fn run(args: &[std::ffi::OsString]) -> Output {
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    kernel_deb(&refs)
}

#[test]
fn verify_exit_codes_json_and_typed_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, rec) = make_deb(dir.path(), "good");
    let (_, other) = make_deb(dir.path(), "evil");
    let t = testimonies(dir.path(), &[("alice", &rec), ("bob", &rec)]);
    let rings: Vec<_> = ["alice", "bob", "dave"]
        .iter()
        .map(|k| keys().join(format!("{k}.cert")))
        .collect();
    let mut args = verify_args(dir.path(), &deb, &rings);
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::write(t.join("dave.asc"), testify("dave", &other)).unwrap();
    args.push("--json".into());
    let out = run(&args);
    assert_eq!(out.status.code(), Some(4));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["decision"]["rule"], "dissent");
    assert_eq!(j["debs"][0]["cells"][2]["cell"], "dissent");
    assert!(j["skipped"].as_array().unwrap().is_empty());
}

#[test]
fn a_secret_key_as_keyring_is_refused_naming_the_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, _) = make_deb(dir.path(), "good");
    std::fs::create_dir(dir.path().join("t")).unwrap();
    let key = keys().join("alice.key");
    let out = run(&verify_args(dir.path(), &deb, std::slice::from_ref(&key)));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("secret key material") && err.contains("gpg --export"),
        "{err}"
    );
    assert_eq!(err.matches(&key.display().to_string()).count(), 1, "{err}");
}
