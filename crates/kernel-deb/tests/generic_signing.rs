//! Two-stage module signing on the kernel people install (the generic flavour), one
//! build: stage 1 with `--module-cert` (signature checking forced, no per-build key),
//! `sign-modules` with a key the build never sees, `attach-signatures`, `verify-signed`.
//! The signed image boots under qemu with `module.sig_enforce=1`, loads one of its
//! signed modules (`nls_utf8.ko`: no dependencies) and refuses the same module with
//! one flipped byte or without its signature. That stage 1 of generic is the same bytes
//! everywhere is the generic pair's proof (`repro-check -- --flavour generic`); the
//! tiny flavour runs this whole path in CI (`reproducible_build.rs`).
//!
//! `slow_`: one generic build, about 17 minutes at -j2 on 2 idle cores.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{
    MODULE_SIG_MAGIC, X86_64, assert_banner, assert_config_lines, assert_module_loaded,
    assert_module_refused, boot_with_module, debs_in, modsign_body, module_signing_key, run,
    sign_attach_and_check,
};
use testimony::canonical::sha256_hex;

const BIN: &str = env!("CARGO_BIN_EXE_kernel-deb");
const MODULE: &str = "kernel/fs/nls/nls_utf8.ko";

#[test]
#[ignore = "slow: a generic build, ~17 min at -j2"]
fn slow_generic_stage_one_signs_attaches_verifies_and_boots_enforcing() {
    let base = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (key, cert) = module_signing_key(base.path());
    let out = base.path().join("out");
    run(Command::new(BIN)
        .args(["build", "--flavour", "generic", "-j2", "--module-cert"])
        .arg(&cert)
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(base.path().join("work")));
    let debs = debs_in(&out);
    for (name, bytes) in &debs {
        eprintln!("stage 1: {}  {name}", sha256_hex(bytes));
    }
    let image = debs.keys().find(|k| k.starts_with("linux-image-")).unwrap();
    let unsigned = out.join(image);

    // Stage 1 checks signatures and carries none.
    let stage1 = unpack(&unsigned, &base.path().join("stage1"));
    let config = fs::read_to_string(&stage1.config).unwrap();
    let wanted = [
        "CONFIG_MODULE_SIG=y",
        "CONFIG_MODULE_SIG_FORCE=y",
        "# CONFIG_MODULE_SIG_ALL is not set",
        "CONFIG_MODULE_SIG_KEY=\"\"",
    ];
    assert_config_lines(&config, &wanted, "stage 1 config");
    assert!(
        !fs::read(&stage1.module)
            .unwrap()
            .ends_with(MODULE_SIG_MAGIC)
    );

    // (prints the artefact's and the signed image's sha256)
    let signed = sign_attach_and_check(base.path(), &unsigned, (&key, &cert), MODULE);
    let stage2 = unpack(&signed, &base.path().join("stage2"));
    let module = fs::read(&stage2.module).unwrap();

    let cmdline = X86_64.cmdline("module.sig_enforce=1");
    let console = boot_with_module(base.path(), &X86_64, &stage2.vmlinuz, &module, &cmdline);
    assert_banner(&console, &stage2.release);
    assert_module_loaded(&console, None);
    let mut tampered = module.clone();
    tampered[64] ^= 1;
    for (what, bytes) in [("tampered", tampered), ("unsigned", modsign_body(&module))] {
        let console = boot_with_module(base.path(), &X86_64, &stage2.vmlinuz, &bytes, &cmdline);
        assert_module_refused(&console, what);
    }
}

/// What the test reads from an unpacked linux-image.
struct Unpacked {
    release: String,
    vmlinuz: PathBuf,
    config: PathBuf,
    module: PathBuf,
}

/// `dpkg-deb -x` of `deb` into `dir`.
fn unpack(deb: &Path, dir: &Path) -> Unpacked {
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dir));
    let (vmlinuz, release) = common::installed_kernel(dir);
    Unpacked {
        config: dir.join(format!("boot/config-{release}")),
        module: dir.join(format!("lib/modules/{release}/{MODULE}")),
        vmlinuz,
        release,
    }
}
