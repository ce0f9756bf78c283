//! The mission's proof, with real kbuild on the built-in default pin and config:
//!
//! 1. build twice with `kernel-deb repro-check` — the second time in another
//!    (deeper) directory, as another user, under another hostname (`unshare --uts`),
//!    kernel personality, TZ, locale, umask 077, one CPU and -j1 instead of -j2,
//!    junk variables, fake `rustc`/`pahole`/`clang`/`gcc` wrappers first in PATH,
//!    shuffled directory order (disorderfs) and the clock two years ahead
//!    (faketime) — and every .deb must be byte-identical (on failure: which files
//!    inside differ);
//!    Both builds also make `linux-libc-dev` (`--with-libc-dev`);
//! 2. the linux-image installs with `dpkg --root`, and so does linux-libc-dev, in the
//!    multiarch layout, preprocessing a userspace probe to this kernel's version;
//! 3. its vmlinuz boots under qemu (TCG) to a banner showing the pinned timestamp
//!    and `samekernel@samekernel`, and loads the packaged test_module.ko.
//!
//! The builds are stage 1 of two-stage module signing (`--module-cert`, a certificate
//! made by this test): after
//! the two identical builds the test signs the modules out of band (`sign-modules`),
//! packs the signed image (`attach-signatures`), checks that it differs from the
//! unsigned one only by valid signatures (`verify-signed`), installs the *signed* image,
//! and boots it with `module.sig_enforce=1`: the signed module loads, a copy with one
//! flipped byte and the unsigned module are refused. The key never enters a package.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{
    X86_64, assert_module_loaded, assert_module_refused, boot_with_module, debs_in, modsign_body,
    module_signing_key, run, sign_attach_and_check,
};
use testimony::canonical::sha256_hex;

const BIN: &str = env!("CARGO_BIN_EXE_kernel-deb");
#[test]
#[ignore = "network"]
fn default_build_is_identical_across_environments_installs_and_boots() {
    let base = tempfile::Builder::new()
        .prefix("sk-repro-")
        .tempdir_in("/tmp")
        .unwrap();
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();

    // Two builds through `kernel-deb repro-check`: the second in another (deeper)
    // directory, as another user, under another hostname, kernel personality,
    // clock, TZ, locale, umask, one CPU and -j1, with junk variables, fake tools
    // first in PATH and shuffled directory order (what this machine allows; the
    // rest is named as skipped). It compares them with debdiff; the bytes are
    // compared again below.
    let check = base.path().join("check");
    let (key, cert) = module_signing_key(base.path());
    let out = Command::new(BIN)
        .args(["repro-check", "--keep-out", "--base"])
        .arg(&check)
        .args([
            "--",
            "--flavour",
            "tiny",
            "--with-libc-dev",
            "--module-cert",
        ])
        .arg(&cert)
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
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.ends_with(".deb: identical"))
            .count(),
        3,
        "{stdout}"
    );
    for always in [
        "build_path",
        "time",
        "umask",
        "num_cpus",
        "exec_path",
        "locales",
    ] {
        assert!(
            stderr.contains(&format!("  {always}: ")),
            "{always} not varied:\n{stderr}"
        );
    }
    let (a_out, b_out) = (check.join("a/out"), check.join("b/out"));

    // linux-image, linux-headers and linux-libc-dev
    common::assert_same_debs(&a_out, &b_out, 3, as_other);
    let a = debs_in(&a_out);
    let ra = fs::read_to_string(a_out.join("BUILD-RECORD")).unwrap();

    // Anyone can check the packages with dpkg alone: dpkg-deb, given the tree it
    // extracts from each .deb, the .deb's own compressor (named by its data member,
    // as `ar` lists it) and the pin's SOURCE_DATE_EPOCH, packs the same bytes.
    let cert_sha256 = sha256_hex(&pem_certificate(&cert));
    assert!(
        ra.contains(&format!("\nmodule-cert-sha256={cert_sha256}\n")),
        "the build record does not name the module certificate:\n{ra}"
    );
    let sde = ra
        .lines()
        .find_map(|l| l.strip_prefix("source-date-epoch="))
        .expect("source-date-epoch in the build record")
        .to_owned();
    for (name, bytes) in &a {
        let tree = base.path().join("repack").join(name);
        fs::create_dir_all(tree.parent().unwrap()).unwrap();
        run(Command::new("dpkg-deb")
            .arg("-R")
            .arg(a_out.join(name))
            .arg(&tree));
        let members = run(Command::new("ar").arg("t").arg(a_out.join(name)));
        let compressor = match members.lines().find(|m| m.starts_with("data.tar")) {
            Some("data.tar.zst") => "zstd",
            Some("data.tar.xz") => "xz",
            Some("data.tar.gz") => "gzip",
            Some("data.tar") => "none",
            other => panic!("{name}: unexpected data member {other:?} in {members}"),
        };
        let repacked = tree.with_extension("repacked");
        run(Command::new("dpkg-deb")
            .arg("--root-owner-group")
            .arg(format!("-Z{compressor}"))
            .arg("--build")
            .arg(&tree)
            .arg(&repacked)
            .env("SOURCE_DATE_EPOCH", &sde));
        assert!(
            &fs::read(&repacked).unwrap() == bytes,
            "{name}: dpkg-deb --build of its own extracted tree gives other bytes"
        );
    }

    // Out of band: sign the modules; stage 2: attach; check.
    let image = a.keys().find(|k| k.starts_with("linux-image-")).unwrap();
    let signed = sign_attach_and_check(
        base.path(),
        &a_out.join(image),
        (&key, &cert),
        "/kernel/lib/test_module.ko",
    );
    assert_key_in_no_package(&key, &[a_out.join(image), signed.clone()], &a_out);

    // Install (the signed image) into an empty dpkg root.
    let root = base.path().join("root");
    let admin = root.join("var/lib/dpkg");
    for d in ["info", "updates", "triggers"] {
        fs::create_dir_all(admin.join(d)).unwrap();
    }
    fs::write(admin.join("status"), b"").unwrap();
    let dpkg_install = |deb: &Path| {
        run(Command::new("dpkg")
            .arg(format!("--root={}", root.display()))
            .arg(format!("--admindir={}", admin.display()))
            .args([
                "--force-script-chrootless",
                "--force-not-root",
                "--log=/dev/null",
                "-i",
            ])
            .arg(deb))
    };
    dpkg_install(&signed);
    let (vmlinuz, release) = common::installed_kernel(&root);
    let module = root.join(format!("lib/modules/{release}/kernel/lib/test_module.ko"));
    let image_config = fs::read_to_string(root.join(format!("boot/config-{release}"))).unwrap();
    assert!(module.exists(), "{} not installed", module.display());
    assert!(
        root.join(format!("lib/modules/{release}/modules.dep"))
            .exists()
    );

    // linux-libc-dev installs, in Debian's multiarch layout, and userspace compiles
    // against it: the preprocessor sees this kernel's version (6.12.117).
    let libc_dev = a.keys().find(|k| k.starts_with("linux-libc-dev_")).unwrap();
    dpkg_install(&a_out.join(libc_dev));
    let include = root.join("usr/include");
    assert!(
        include.join("x86_64-linux-gnu/asm/unistd_64.h").exists(),
        "asm/ is not under the multiarch include directory"
    );
    assert!(!include.join("asm").exists());
    let probe = base.path().join("probe.c");
    fs::write(
        &probe,
        "#include <linux/version.h>\n#include <asm/unistd.h>\nversion=LINUX_VERSION_CODE openat=__NR_openat\n",
    )
    .unwrap();
    let pre = run(Command::new("gcc")
        .args(["-E", "-P", "-nostdinc", "-I"])
        .arg(&include)
        .arg("-I")
        .arg(include.join("x86_64-linux-gnu"))
        .arg(&probe));
    let want = format!("version={} openat=257", (6 << 16) + (12 << 8) + 117);
    assert!(
        pre.lines().any(|l| l.trim() == want),
        "preprocessed probe: {pre}"
    );

    // Boot it, enforcing module signatures: the signed module loads…
    let signed_module = fs::read(&module).unwrap();
    let cmdline = X86_64.cmdline("module.sig_enforce=1");
    let console = boot_with_module(base.path(), &X86_64, &vmlinuz, &signed_module, &cmdline);
    let banner = common::assert_banner(&console, &release);
    assert!(
        banner.contains("#1 Sat Nov 14 12:56:01 UTC 2026"),
        "{banner}"
    );
    assert_module_loaded(&console, Some("Hello, world"));
    check_hardening_at_runtime(&console, &image_config, &cmdline);

    // …one flipped byte in its body, or no signature at all, and it is refused.
    let mut tampered = signed_module.clone();
    tampered[64] ^= 1;
    let unsigned_module = modsign_body(&signed_module);
    for (what, bytes) in [("tampered", tampered), ("unsigned", unsigned_module)] {
        let console = boot_with_module(base.path(), &X86_64, &vmlinuz, &bytes, &cmdline);
        assert_module_refused(&console, what);
        assert!(
            !console.contains("Hello, world"),
            "{what} module ran:\n{console}"
        );
    }
}

/// The one certificate block of a PEM file, LF line ends (what the build pins).
fn pem_certificate(cert: &Path) -> Vec<u8> {
    let text = fs::read_to_string(cert).unwrap();
    let start = text.find("-----BEGIN CERTIFICATE-----").unwrap();
    let end = text.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----".len();
    text[start..end]
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect::<String>()
        .into_bytes()
}

/// No file of any package (the build's and the signed image) holds a line of the key.
fn assert_key_in_no_package(key: &Path, extra: &[PathBuf], out: &Path) {
    let key_text = fs::read_to_string(key).unwrap();
    let key_line = key_text.lines().nth(1).unwrap();
    let debs: Vec<PathBuf> = debs_in(out)
        .keys()
        .map(|n| out.join(n))
        .chain(extra.iter().cloned())
        .collect();
    for deb in debs {
        let tar = Command::new("dpkg-deb")
            .arg("--fsys-tarfile")
            .arg(&deb)
            .output()
            .unwrap();
        assert!(tar.status.success());
        let control = Command::new("dpkg-deb")
            .arg("--ctrl-tarfile")
            .arg(&deb)
            .output()
            .unwrap();
        for bytes in [&tar.stdout, &control.stdout] {
            assert!(
                !String::from_utf8_lossy(bytes).contains(key_line),
                "{}: holds the signing key",
                deb.display()
            );
        }
    }
}

/// What the hardened default shows from inside the guest: the kernel's own protection
/// lines, the command line and sysctls it runs with, evaluated on the host with harden
/// together with the packaged config (what `harden-report --running` does on a machine).
fn check_hardening_at_runtime(console: &str, config_text: &str, expected_cmdline: &str) {
    assert!(
        console.contains("Write protecting the kernel read-only data"),
        "CONFIG_STRICT_KERNEL_RWX did not take effect:\n{console}"
    );
    // Which mitigations apply depends on qemu's CPU model: shown, not asserted.
    for l in console.lines().filter(|l| l.contains("Mitigation:")) {
        eprintln!("guest: {}", l.trim_end());
    }
    let ours: Vec<&str> = console
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').split_once("samekernel-init: "))
        .map(|(_, rest)| rest)
        .collect();
    let cmdline = ours
        .iter()
        .find_map(|l| l.strip_prefix("cmdline "))
        .expect("the init printed /proc/cmdline");
    assert_eq!(cmdline, expected_cmdline);
    let sysctl_text: String = ours
        .iter()
        .filter_map(|l| l.strip_prefix("sysctl "))
        .map(|l| format!("{l}\n"))
        .collect();
    let sysctls = harden::Sysctls::parse(&sysctl_text, "guest /proc/sys").unwrap();
    let config = harden::KernelConfig::parse(config_text, "boot/config").unwrap();
    // The tiny config has /proc/sys (PROC_SYSCTL) for this check; a config with it shows
    // CONFIG_SECURITY_DMESG_RESTRICT=y (a required self-protection rule) as the kernel runs it.
    let has_sysctl = config.is_enabled("CONFIG_PROC_SYSCTL");
    assert_eq!(sysctl_text.is_empty(), !has_sysctl, "{sysctl_text}");
    if has_sysctl {
        assert_eq!(
            sysctls.get("kernel.dmesg_restrict"),
            Some("1"),
            "{sysctl_text}"
        );
    }
    let cmdline = harden::Cmdline::parse(cmdline, "guest /proc/cmdline").unwrap();
    let tc = harden::Toolchain::from_config(&config, "boot/config").unwrap();
    let inputs = harden::Inputs {
        config: &config,
        cmdline: Some(&cmdline),
        sysctls: has_sysctl.then_some(&sysctls),
    };
    let report = harden::evaluate(&inputs, &tc, &harden::Policy::default());
    let sp = report.groups[&harden::rules::Group::SelfProtection];
    eprintln!(
        "running hardened default: self-protection {} ok, {} fail, {} n/a",
        sp.ok, sp.fail, sp.not_applicable
    );
    let kconfig_failures: Vec<&str> = report
        .failures_for_policy()
        .filter(|r| r.kind == harden::rules::Kind::Kconfig)
        .map(|r| r.id.as_str())
        .collect();
    assert!(kconfig_failures.is_empty(), "{kconfig_failures:?}");
}
