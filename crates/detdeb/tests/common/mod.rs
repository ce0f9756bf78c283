//! Helpers shared by the integration tests: fixture trees, the reference
//! `dpkg-deb`, hashing.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

pub const SDE: i64 = 1_700_000_000;

/// Runs a command, panicking with its stderr if it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (run `cargo xtask deps` to install the test tools)")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `SOURCE_DATE_EPOCH=sde dpkg-deb --root-owner-group -Z<z> --build dir out`.
pub fn dpkg_deb_build(dir: &Path, out: &Path, z: &str, sde: i64) {
    run(Command::new("dpkg-deb")
        .env("SOURCE_DATE_EPOCH", sde.to_string())
        .arg("--root-owner-group")
        .arg(format!("-Z{z}"))
        .arg("--build")
        .arg(dir)
        .arg(out));
}

pub fn sha256_file(p: &Path) -> String {
    let mut h = Sha256::new();
    let mut f = fs::File::open(p).unwrap();
    std::io::copy(&mut f, &mut h).unwrap();
    format!("{:x}", h.finalize())
}

pub fn set_mode(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

pub fn set_mtime(p: &Path, t: i64) {
    let f = fs::File::open(p).unwrap();
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t as u64))
        .unwrap();
}

pub fn write(p: &Path, data: &[u8]) {
    if let Some(d) = p.parent() {
        fs::create_dir_all(d).unwrap();
    }
    fs::write(p, data).unwrap();
}

/// A staging tree covering what the issue lists: long paths (>100 and >255 bytes),
/// UTF-8 names, symlinks (also with long targets), hard links, empty dirs,
/// setuid/setgid/sticky bits, empty files, mtimes before and after SDE, the
/// `a/b` vs `a-c` ordering trap, a top-level `DEBIAN.orig` that dpkg-deb skips.
pub fn make_fixture_tree(root: &Path) {
    let control = "Package: fixture\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: Test <test@example.org>\nDescription: fixture package\n multi-line\n .\n description\n";
    write(&root.join("DEBIAN/control"), control.as_bytes());
    write(
        &root.join("DEBIAN/postinst"),
        b"#!/bin/sh\nset -e\nexit 0\n",
    );
    set_mode(&root.join("DEBIAN/postinst"), 0o755);
    write(&root.join("DEBIAN/conffiles"), b"/etc/fixture.conf\n");
    write(&root.join("etc/fixture.conf"), b"key=value\n");
    write(&root.join("usr/share/doc/fixture/README"), b"hello\n");
    write(&root.join("usr/share/doc/fixture/empty"), b"");
    fs::hard_link(
        root.join("usr/share/doc/fixture/README"),
        root.join("usr/share/doc/fixture/README.hard"),
    )
    .unwrap();
    symlink("README", root.join("usr/share/doc/fixture/README.link")).unwrap();
    symlink(
        "/usr/share/doc/fixture/README",
        root.join("usr/share/doc/fixture/abs.link"),
    )
    .unwrap();
    fs::create_dir_all(root.join("a/b")).unwrap();
    fs::create_dir_all(root.join("a-c")).unwrap();
    fs::create_dir_all(root.join("usr/lib/empty-dir")).unwrap();
    write(
        &root.join("usr/share/ünïcödé/файл-名前.txt"),
        "UTF-8 ✓\n".as_bytes(),
    );
    let long_dir: String = "d".repeat(60);
    // "./" + 98 bytes: exactly 100, fits the header; a directory of the same length
    // gets a trailing "/" and needs a long-name record.
    let p100 = format!("usr/{}/{}", long_dir, "x".repeat(33));
    assert_eq!(p100.len(), 98);
    write(&root.join(&p100), b"archived name of exactly 100 bytes\n");
    fs::create_dir_all(root.join(format!("usr/{}/{}", long_dir, "w".repeat(33)))).unwrap();
    let long = format!("usr/{}/{}/{}", long_dir, "y".repeat(120), "z".repeat(90));
    write(&root.join(&long), b"long path > 255\n");
    let long_target = format!("../../{}/{}/{}", long_dir, "y".repeat(120), "z".repeat(90));
    symlink(&long_target, root.join("usr/share/doc/long-target.link")).unwrap();
    fs::hard_link(root.join(&long), root.join("usr/share/doc/hard-to-long")).unwrap();
    write(&root.join("usr/bin/suid"), b"#!/bin/sh\n");
    set_mode(&root.join("usr/bin/suid"), 0o4755);
    write(&root.join("usr/bin/sgid"), b"#!/bin/sh\n");
    set_mode(&root.join("usr/bin/sgid"), 0o2755);
    fs::create_dir_all(root.join("var/tmp-sticky")).unwrap();
    set_mode(&root.join("var/tmp-sticky"), 0o1777);
    write(&root.join("usr/share/old"), b"from 1990\n");
    set_mtime(&root.join("usr/share/old"), 631_152_000);
    write(&root.join("usr/share/future"), b"from 2100\n");
    set_mtime(&root.join("usr/share/future"), 4_102_444_800);
    write(
        &root.join("DEBIAN.orig/ignored"),
        b"dpkg-deb skips top-level DEBIAN* names\n",
    );
    // Something large enough for several zstd input chunks and xz blocks to matter.
    let mut big = Vec::with_capacity(3 << 20);
    let mut x: u32 = 1;
    while big.len() < 3 << 20 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        big.extend_from_slice(format!("line {} {}\n", x >> 16, x % 97).as_bytes());
    }
    write(&root.join("usr/lib/big.bin"), &big);
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn our_build(dir: &Path, out: &Path, z: detdeb::Compressor, sde: i64) -> PathBuf {
    detdeb::DebBuilder::from_staging_dir(dir, sde, false)
        .unwrap()
        .compression(detdeb::CompressionParams::new(z))
        .write_to_path(out)
        .unwrap();
    out.to_owned()
}
