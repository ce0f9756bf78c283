//! Debian's own vmlinuz: the bzImage payload is found through the setup header
//! and decompressed (Debian uses zstd) to compare the vmlinux inside.

use std::path::PathBuf;
use std::process::Command;

use debdiff::{CauseKind, Limits, diff_file_contents, kernel};

fn debian_vmlinuz() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("apt-get")
        .args(["download", "linux-image-6.12.117+deb12-amd64-unsigned"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let deb: PathBuf = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let reader = detdeb::DebReader::open(&deb).unwrap();
    let mut tar = reader.data_tar().unwrap();
    while let Some(e) = tar.next_entry().unwrap() {
        if e.name_lossy().starts_with("./boot/vmlinuz-") {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut tar.data_reader(), &mut v).unwrap();
            return v;
        }
    }
    panic!("no vmlinuz in {}", deb.display());
}

#[test]
#[ignore = "network"]
fn debian_bzimage_payload_is_decompressed() {
    let a = debian_vmlinuz();
    let p = kernel::bzimage_payload(&a).expect("a bzImage");
    assert_eq!(p.codec, "zstd");
    // Another boot loader id in the setup header: the vmlinux inside is the same.
    let mut b = a.clone();
    b[0x210] ^= 0x10;
    let item = diff_file_contents("boot/vmlinuz-6.12", &a, &b, &Limits::default());
    let cause = item.primary().unwrap();
    assert_eq!(cause.kind, CauseKind::Code, "{item:#?}");
    assert!(cause.detail.contains("same vmlinux"), "{item:#?}");
}
