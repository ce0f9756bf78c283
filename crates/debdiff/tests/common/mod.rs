//! Shared helpers: real gcc builds, packing with detdeb, running tools.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use detdeb::{CompressionParams, Compressor, DebBuilder, Entry};

/// Runs `cmd`, panicking with its stderr when it fails.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Compiles `source` as `hello.c` in `dir` (created) with `gcc <args> hello.c -o hello`,
/// from inside `dir` (so DWARF's comp_dir is `dir`), and returns the binary.
pub fn gcc(dir: &Path, source: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("hello.c"), source).unwrap();
    let mut cmd = Command::new("gcc");
    cmd.current_dir(dir)
        .args(args)
        .args(["hello.c", "-o", "hello"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd);
    std::fs::read(dir.join("hello")).unwrap()
}

pub const HELLO: &str = "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n";

/// A control file for package `name`.
pub fn control(name: &str, version: &str) -> Vec<Entry> {
    let text = format!(
        "Package: {name}\nVersion: {version}\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDescription: test\n"
    );
    vec![Entry::file("control", 0o644, text.into_bytes())]
}

/// Packs `files` (path, mode, contents) into a zstd .deb at `out`.
pub fn deb(out: &Path, name: &str, version: &str, files: Vec<(&str, u32, Vec<u8>)>) -> PathBuf {
    let data = files
        .into_iter()
        .map(|(p, mode, c)| Entry::file(p, mode, c))
        .collect();
    DebBuilder::from_entries(control(name, version), data, 1_700_000_000)
        .unwrap()
        .compression(CompressionParams::new(Compressor::Zstd))
        .with_md5sums()
        .unwrap()
        .write_to_path(out)
        .unwrap();
    out.to_owned()
}

/// xz-compresses `data` (as kbuild's `MODULE_COMPRESS_XZ` does, `xz --check=crc32`).
pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("xz")
        .args(["--check=crc32", "--lzma2=dict=1MiB", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    out.stdout
}
