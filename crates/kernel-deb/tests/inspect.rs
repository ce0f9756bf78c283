//! `kernel-deb inspect` on a real tiny build: the banner, compiler and embedded config
//! read from vmlinuz agree with BUILD-RECORD and TOOLCHAIN (exit 0); a record for
//! another config is a mismatch (exit 1); a file that is not a package is bad input
//! (exit 2).

use std::path::PathBuf;
use std::process::Command;

mod common;
use common::run;

const BIN: &str = env!("CARGO_BIN_EXE_kernel-deb");

#[test]
#[ignore = "network"]
fn inspect_reads_the_tiny_kernel_and_checks_it_against_its_record() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    run(Command::new(BIN)
        .args(["build", "--flavour", "tiny", "-j2", "--quiet", "--out"])
        .arg(&out)
        .arg("--work-dir")
        .arg(t.path().join("work")));
    let _ = std::fs::remove_dir_all(t.path().join("work"));
    let image: PathBuf = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("/linux-image-"))
        .expect("an image package");

    let report = run(Command::new(BIN).arg("inspect").arg(&image));
    assert!(
        report.contains("banner:   Linux version 6.12.117-samekernel (samekernel@samekernel) (gcc"),
        "{report}"
    );
    assert!(report.contains("(xz payload)"), "{report}");
    let record = std::fs::read_to_string(out.join("BUILD-RECORD")).unwrap();
    let config_sha = record
        .lines()
        .find_map(|l| l.strip_prefix("kernel-config-sha256="))
        .unwrap();
    assert!(
        report.contains(&format!("config:   {config_sha}")),
        "{report}"
    );
    assert!(!report.contains("MISMATCH"), "{report}");
    assert!(report.contains("ok       banner's compiler names the toolchain's gcc"));

    // The same package against a record of another config: exit 1.
    let other = t.path().join("OTHER-RECORD");
    let wrong = "0".repeat(64);
    std::fs::write(&other, record.replace(config_sha, &wrong)).unwrap();
    let o = Command::new(BIN)
        .arg("inspect")
        .arg(&image)
        .arg("--record")
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("MISMATCH embedded .config"));

    // Not a package: exit 2, naming the file.
    let o = Command::new(BIN)
        .arg("inspect")
        .arg(out.join("BUILD-RECORD"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("BUILD-RECORD"));
}
