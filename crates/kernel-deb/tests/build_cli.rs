//! `kernel-deb build` refusals that come before any download or compile: a file
//! the request names is read and named in the error, and the flavour is checked
//! against the target (exit 1, nothing in `--out`).

use std::process::{Command, Output};

fn build(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kernel-deb"))
        .arg("build")
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--cache")
        .arg(dir.join("cache"))
        .arg("--work-dir")
        .arg(dir.join("work"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn unreadable_inputs_and_a_flavour_for_another_target_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-toolchain");
    let bad_policy = dir.path().join("policy.toml");
    std::fs::write(&bad_policy, "[require]\nrules = [\"no-such-rule\"]\n").unwrap();
    let cases = [
        (
            vec!["--expect-toolchain", missing.to_str().unwrap()],
            "no-such-toolchain: No such file",
        ),
        (
            vec!["--harden-policy", bad_policy.to_str().unwrap()],
            "no-such-rule",
        ),
        (
            vec!["--flavour", "debian", "--arch", "arm64"],
            "flavour debian: ",
        ),
    ];
    for (args, says) in cases {
        let out = build(dir.path(), &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!dir.path().join("out").exists(), "{args:?}");
    }
}
