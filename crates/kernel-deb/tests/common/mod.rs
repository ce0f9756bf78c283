//! Helpers shared by the real-build tests.

// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use testimony::canonical::sha256_hex;

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

/// Two builds through `kernel-deb repro-check --keep-out` (every variation this machine
/// allows), `args` passed to both builds; asserts it reports them identical and returns
/// both output directories and whether build b ran as another user.
pub fn repro_check_kept(base: &Path, bin: &str, args: &[&str]) -> (PathBuf, PathBuf, bool) {
    let check = base.join("check");
    let out = Command::new(bin)
        .args(["repro-check", "--keep-out", "--base"])
        .arg(&check)
        .arg("--")
        .args(args)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "repro-check:\n{stdout}\n{stderr}"
    );
    let as_other = stderr.contains("  user_group: ");
    (check.join("a/out"), check.join("b/out"), as_other)
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
    // The proof's figures, for whoever reports it (shown with --nocapture).
    for (name, bytes) in &a {
        eprintln!("identical: {}  {name}", sha256_hex(bytes));
    }
    eprintln!("identical: {}  BUILD-RECORD", sha256_hex(ra.as_bytes()));
}

/// How to boot one architecture's kernel under qemu (TCG).
pub struct Guest<'a> {
    /// The compiler of the static init (`gcc`, `aarch64-linux-gnu-gcc`).
    pub gcc: &'a str,
    /// The emulator and its machine arguments.
    pub qemu: &'a [&'a str],
    /// The serial console device (`ttyS0`, `ttyAMA0`).
    pub console: &'a str,
}

pub const X86_64: Guest<'static> = Guest {
    gcc: "gcc",
    qemu: &["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max"],
    console: "ttyS0",
};

pub const ARM64: Guest<'static> = Guest {
    gcc: "aarch64-linux-gnu-gcc",
    qemu: &["qemu-system-aarch64", "-M", "virt", "-cpu", "max"],
    console: "ttyAMA0",
};

impl Guest<'_> {
    /// The kernel command line: this guest's serial console, reboot on panic (qemu
    /// runs with -no-reboot, so a panic ends the VM), then `extra`.
    pub fn cmdline(&self, extra: &str) -> String {
        format!("console={} panic=-1 {extra}", self.console)
            .trim_end()
            .to_owned()
    }
}

/// Boots `vmlinuz` as `guest` with `cmdline` and an initramfs whose static init (built
/// from fixtures/boot/init.c) reports the hardening state and loads `module` as
/// /test_module.ko; returns the console. The init is built once per `work` and guest.
pub fn boot_with_module(
    work: &Path,
    guest: &Guest,
    vmlinuz: &Path,
    module: &[u8],
    cmdline: &str,
) -> String {
    let init = work.join(format!("init-{}", guest.gcc));
    if !init.exists() {
        run(Command::new(guest.gcc)
            .args(["-static", "-Os", "-o"])
            .arg(&init)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/boot/init.c")));
    }
    let initramfs = work.join("initramfs.cpio");
    write_newc(
        &initramfs,
        &[
            ("dev", Node::Dir),
            ("dev/console", Node::CharDev(5, 1)),
            ("proc", Node::Dir),
            ("sys", Node::Dir),
            ("init", Node::File(fs::read(&init).unwrap(), 0o755)),
            ("test_module.ko", Node::File(module.to_vec(), 0o644)),
        ],
    );
    // A generic kernel under TCG on a busy machine takes a minute or two to reach init.
    let out = Command::new("timeout")
        .arg("600")
        .args(guest.qemu)
        .args(["-m", "512", "-nographic", "-no-reboot", "-kernel"])
        .arg(vmlinuz)
        .arg("-initrd")
        .arg(&initramfs)
        .args(["-append", cmdline])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts that the init loaded the module (and, for test_module.ko, that it ran).
pub fn assert_module_loaded(console: &str, greeting: Option<&str>) {
    assert!(
        console.contains("finit_module(test_module.ko) = 0"),
        "module not loaded:\n{console}"
    );
    if let Some(greeting) = greeting {
        assert!(
            console.contains(greeting),
            "the module did not run:\n{console}"
        );
    }
}

/// Asserts that the init's finit_module refused the module.
pub fn assert_module_refused(console: &str, what: &str) {
    assert!(
        console.contains("finit_module(test_module.ko) = -1"),
        "the {what} module was not refused:\n{console}"
    );
}

/// The console's `Linux version` line, checked to name `release` and the pinned
/// builder (`samekernel@samekernel`).
pub fn assert_banner<'c>(console: &'c str, release: &str) -> &'c str {
    let banner = console
        .lines()
        .find(|l| l.contains("Linux version"))
        .unwrap_or_else(|| panic!("no banner on the console:\n{console}"));
    assert!(
        banner.contains(&format!("Linux version {release} (samekernel@samekernel)")),
        "{banner}"
    );
    banner
}

/// A persistent-style module signing key made for this test: RSA, self-signed, with the
/// kernel's certs/default_x509.genkey extensions. The key stays in `base/keys` (outside
/// every build and output directory); the certificate is readable by the other user
/// repro-check builds as.
pub fn module_signing_key(base: &Path) -> (PathBuf, PathBuf) {
    let keys = base.join("keys");
    fs::create_dir(&keys).unwrap();
    let (key, cert) = (keys.join("module-key.pem"), base.join("module-cert.pem"));
    samekernel::signing::Openssl::default()
        .new_signing_key(&key, &cert, "samekernel test module signing", 2048)
        .unwrap();
    fs::set_permissions(&cert, fs::Permissions::from_mode(0o644)).unwrap();
    (key, cert)
}

/// What ends a module with an appended signature.
pub const MODULE_SIG_MAGIC: &[u8] = b"~Module signature appended~\n";

/// The module without its appended signature (sig_len from the 12-byte trailer).
pub fn modsign_body(signed: &[u8]) -> Vec<u8> {
    assert!(
        signed.ends_with(MODULE_SIG_MAGIC),
        "the packaged module is not signed"
    );
    let info =
        &signed[signed.len() - MODULE_SIG_MAGIC.len() - 12..signed.len() - MODULE_SIG_MAGIC.len()];
    let sig_len = u32::from_be_bytes(info[8..12].try_into().unwrap()) as usize;
    signed[..signed.len() - MODULE_SIG_MAGIC.len() - 12 - sig_len].to_vec()
}

/// `sign-modules`, `attach-signatures` and `verify-signed` through the binary, as a
/// publisher and a witness run them, checking that the signature artefact's INDEX lists
/// `module` (a path ending); returns the signed image.
pub fn sign_attach_and_check(
    base: &Path,
    unsigned: &Path,
    (key, cert): (&Path, &Path),
    module: &str,
) -> PathBuf {
    let sigs = base.join("signatures");
    let line = run(Command::new(env!("CARGO_BIN_EXE_kernel-deb"))
        .arg("sign-modules")
        .arg("--key")
        .arg(key)
        .arg("--cert")
        .arg(cert)
        .arg(unsigned)
        .arg("--out")
        .arg(&sigs));
    let (sha, artefact) = line.trim().split_once("  ").expect("<sha256>  <artefact>");
    eprintln!("signature artefact: {sha}  {artefact}");
    assert_eq!(sha256_hex(&fs::read(artefact).unwrap()), sha);
    let index = run(Command::new("tar").args(["-xOf", artefact, "INDEX"]));
    assert!(
        index.contains(&format!("{module}\n")),
        "INDEX does not list {module}:\n{index}"
    );
    let signed = run(Command::new(env!("CARGO_BIN_EXE_kernel-deb"))
        .arg("attach-signatures")
        .arg(unsigned)
        .arg(artefact)
        .arg("--cert")
        .arg(cert)
        .arg("--out")
        .arg(base.join("signed")));
    let signed = PathBuf::from(signed.trim());
    eprintln!(
        "signed image: {}  {}",
        sha256_hex(&fs::read(&signed).unwrap()),
        signed.display()
    );
    let verdict = run(Command::new(env!("CARGO_BIN_EXE_kernel-deb"))
        .arg("verify-signed")
        .arg("--unsigned")
        .arg(unsigned)
        .arg("--signed")
        .arg(&signed)
        .arg("--module-cert")
        .arg(cert));
    assert!(
        verdict.contains("only appended module signatures, each valid for the pinned certificate"),
        "{verdict}"
    );
    signed
}

/// The kernel installed or unpacked under `root`: `boot/vmlinuz-R` and its release R.
pub fn installed_kernel(root: &Path) -> (PathBuf, String) {
    let vmlinuz = fs::read_dir(root.join("boot"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vmlinuz-")
        })
        .unwrap_or_else(|| panic!("no vmlinuz-* in {}/boot", root.display()));
    let release = vmlinuz.file_name().unwrap().to_string_lossy()["vmlinuz-".len()..].to_owned();
    (vmlinuz, release)
}

/// Asserts that `config` (a `.config` text) has each of `wanted` as a whole line.
pub fn assert_config_lines(config: &str, wanted: &[&str], what: &str) {
    for want in wanted {
        assert!(config.lines().any(|l| l == *want), "{what}: {want} missing");
    }
}
