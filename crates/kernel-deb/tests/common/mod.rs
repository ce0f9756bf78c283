//! Helpers shared by the real-build tests.

// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `cmd`, panicking with its status, stdout and stderr unless it succeeds;
/// returns its stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// path -> sha256 for every `file=` line of a build record, per .deb.
pub fn record_files(record: &str) -> BTreeMap<String, String> {
    let mut deb = String::new();
    let mut out = BTreeMap::new();
    for line in record.lines() {
        if let Some(d) = line.strip_prefix("deb=") {
            deb = d.to_owned();
        } else if let Some(rest) = line.strip_prefix("file=") {
            let (sha, path) = rest.split_once(' ').unwrap();
            out.insert(format!("{deb}: {path}"), sha.to_owned());
        }
    }
    out
}

/// Every `.deb` in `dir`, by file name, with its bytes.
pub fn debs_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// One initramfs entry.
pub enum Node {
    Dir,
    CharDev(u32, u32),
    File(Vec<u8>, u32),
}

/// A `newc` cpio archive (what the kernel unpacks as an initramfs).
pub fn write_newc(path: &Path, entries: &[(&str, Node)]) {
    let mut out = Vec::new();
    let mut push = |name: &str, mode: u32, rdev: (u32, u32), data: &[u8], ino: u32| {
        let hdr = format!(
            "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() + 1,
            0
        );
        out.extend_from_slice(hdr.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(data);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    };
    for (i, (name, node)) in entries.iter().enumerate() {
        let ino = i as u32 + 1;
        match node {
            Node::Dir => push(name, 0o040755, (0, 0), &[], ino),
            Node::CharDev(ma, mi) => push(name, 0o020600, (*ma, *mi), &[], ino),
            Node::File(data, mode) => push(name, 0o100000 | mode, (0, 0), data, ino),
        }
    }
    push("TRAILER!!!", 0, (0, 0), &[], 0);
    fs::write(path, out).unwrap();
}

const OTHER_USER: &str = "skbuild2";

fn is_root() -> bool {
    run(Command::new("id").arg("-u")).trim() == "0"
}

/// The reproducibility proof's two builds of `kernel-deb build <args>` under `base`:
/// A in the plain environment with -j2; B in another (deeper) directory, as another
/// user (when root), under another hostname (`unshare -u`), TZ, locale, umask 077,
/// -j1, with fake `rustc`/`pahole`/`clang`/`gcc` wrappers prepended to PATH, hostile
/// variables set and the clock two years ahead (faketime). Returns both output
/// directories and whether B ran as another user.
pub fn build_twice(base: &Path, bin: &str, args: &[&str]) -> (PathBuf, PathBuf, bool) {
    let a_dir = base.join("a");
    fs::create_dir_all(&a_dir).unwrap();
    let a_out = a_dir.join("out");
    run(Command::new(bin)
        .args(["build", "-j2"])
        .args(args)
        .arg("--out")
        .arg(&a_out)
        .current_dir(&a_dir)
        .env("SAMEKERNEL_CACHE", a_dir.join("cache"))
        .env("TZ", "UTC")
        .env("LC_ALL", "C.UTF-8"));

    let b_dir = base.join("b/some/much/deeper/build directory");
    fs::create_dir_all(&b_dir).unwrap();
    let fake_bin = base.join("b/fake-bin");
    fs::create_dir_all(&fake_bin).unwrap();
    for tool in [
        "rustc", "pahole", "clang", "gcc", "cc", "ld", "bindgen", "hostname", "date", "whoami",
    ] {
        let p = fake_bin.join(tool);
        fs::write(&p, format!("#!/bin/sh\necho fake-{tool} 99.9\nexit 0\n")).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let b_out = b_dir.join("out");
    let path = format!(
        "{}:{}",
        fake_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let build = format!(
        "umask 077 && exec faketime -f +730d {bin} build -j1 {} --out '{}'",
        args.join(" "),
        b_out.display()
    );
    let mut cmd = Command::new("unshare");
    cmd.arg("-u");
    let as_other = is_root();
    if as_other {
        let _ = Command::new("useradd")
            .args(["--create-home", OTHER_USER])
            .status();
        run(Command::new("chown")
            .arg("-R")
            .arg(OTHER_USER)
            .arg(base.join("b")));
        // unshare -u needs root; then drop to the other user for the build itself.
        cmd.args(["sh", "-c"]).arg(format!(
            "/bin/hostname other-host-$$ && exec setpriv --reuid={OTHER_USER} --regid={OTHER_USER} --init-groups sh -c \"{build}\""
        ));
    } else {
        cmd.args(["-r", "sh", "-c"])
            .arg(format!("/bin/hostname other-host-$$ && {build}"));
    }
    run(cmd
        .current_dir(&b_dir)
        .env("SAMEKERNEL_CACHE", b_dir.join("cache"))
        .env("HOME", &b_dir)
        .env("PATH", &path)
        .env("TZ", "Asia/Tokyo")
        .env("LC_ALL", "C")
        .env("LANG", "fr_FR.UTF-8")
        .env("USER", OTHER_USER)
        .env("MAKEFLAGS", "-k")
        .env("KBUILD_BUILD_USER", "someone-else")
        .env("KBUILD_BUILD_HOST", "elsewhere")
        .env("SOURCE_DATE_EPOCH", "1")
        .env("CFLAGS", "-O0 -g"));
    (a_out, b_out, as_other)
}

/// Asserts that both output directories hold the same `.deb`s (`expected` of them)
/// and the same build record; on failure names the files inside that differ.
pub fn assert_same_debs(a_out: &Path, b_out: &Path, expected: usize, as_other: bool) {
    let a = debs_in(a_out);
    let b = debs_in(b_out);
    assert_eq!(a.len(), expected, "packages in {}", a_out.display());
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "different package names"
    );
    let ra = fs::read_to_string(a_out.join("BUILD-RECORD")).unwrap();
    let rb = fs::read_to_string(b_out.join("BUILD-RECORD")).unwrap();
    let (fa, fb) = (record_files(&ra), record_files(&rb));
    let differing: Vec<&String> = fa
        .keys()
        .chain(fb.keys())
        .filter(|k| fa.get(*k) != fb.get(*k))
        .collect();
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs between the two builds (other user: {as_other}); files inside that differ: {differing:#?}"
        );
    }
    assert_eq!(ra, rb, "build records differ");
}

/// How to boot one architecture's kernel under qemu (TCG).
pub struct Guest<'a> {
    /// The compiler of the static init (`gcc`, `aarch64-linux-gnu-gcc`).
    pub gcc: &'a str,
    /// The emulator and its machine arguments.
    pub qemu: &'a [&'a str],
    /// The serial console device (`ttyS0`, `ttyAMA0`).
    pub console: &'a str,
    /// The end of the banner: `#1 [SMP] <pinned timestamp>`.
    pub uts_version: &'a str,
}

/// Boots `vmlinuz` as `guest` with an initramfs whose static init (built from
/// fixtures/boot/init.c) loads `module`, and asserts that the console shows the banner
/// of `release` ending in the guest's UTS version, and the module's greeting.
pub fn assert_boots_and_loads_module(
    work: &Path,
    guest: &Guest,
    vmlinuz: &Path,
    module: &Path,
    release: &str,
) {
    let init = work.join("init");
    run(Command::new(guest.gcc)
        .args(["-static", "-Os", "-o"])
        .arg(&init)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/boot/init.c")));
    let initramfs = work.join("initramfs.cpio");
    write_newc(
        &initramfs,
        &[
            ("dev", Node::Dir),
            ("dev/console", Node::CharDev(5, 1)),
            ("init", Node::File(fs::read(&init).unwrap(), 0o755)),
            (
                "test_module.ko",
                Node::File(fs::read(module).unwrap(), 0o644),
            ),
        ],
    );
    let out = Command::new("timeout")
        .arg("300")
        .args(guest.qemu)
        .args(["-m", "256", "-nographic", "-no-reboot", "-kernel"])
        .arg(vmlinuz)
        .arg("-initrd")
        .arg(&initramfs)
        .args(["-append", &format!("console={} panic=-1", guest.console)])
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&out.stdout);
    let banner = console
        .lines()
        .find(|l| l.contains("Linux version"))
        .unwrap_or_else(|| panic!("no banner on the console:\n{console}"));
    assert!(
        banner.contains(&format!("Linux version {release} (samekernel@samekernel)")),
        "{banner}"
    );
    assert!(banner.trim_end().ends_with(guest.uts_version), "{banner}");
    assert!(
        console.contains("finit_module(test_module.ko) = 0"),
        "module not loaded:\n{console}"
    );
    assert!(
        console.contains("Hello, world"),
        "test_module did not run:\n{console}"
    );
}
