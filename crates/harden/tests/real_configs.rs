//! Real configs: Debian's 6.12 amd64 config, samekernel's tiny default with the hardened
//! fragment resolved by the real kbuild, and a real dependency loss named by the guard.

use std::io::Read;
use std::path::Path;

mod common;
use common::linux_tree;
use harden::{
    Arch, FragmentOptions, Inputs, KconfigTree, KernelConfig, Policy, Report, Status, Toolchain,
    evaluate, explain_failures, fragment, resolve::resolve_allnoconfig,
};

const DEBIAN_AMD64: &str = "/usr/src/linux-config-6.12/config.amd64_none_amd64.xz";
const TINY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../kernel-deb/configs/samekernel-tiny.config"
);

fn debian_config() -> KernelConfig {
    let mut text = String::new();
    let f = std::fs::File::open(DEBIAN_AMD64)
        .unwrap_or_else(|e| panic!("{DEBIAN_AMD64}: {e} (apt-get install linux-config-6.12)"));
    xz2::read::XzDecoder::new(f)
        .read_to_string(&mut text)
        .unwrap();
    KernelConfig::parse(&text, DEBIAN_AMD64).unwrap()
}

fn print_totals(name: &str, r: &Report) {
    eprintln!(
        "{name}: ok={} fail={} n/a={} required_fail={}",
        r.totals.ok, r.totals.fail, r.totals.not_applicable, r.required_fail
    );
    for (g, t) in &r.groups {
        eprintln!(
            "  {:<20} ok={:<4} fail={:<4} n/a={}",
            g.name(),
            t.ok,
            t.fail,
            t.not_applicable
        );
    }
}

#[test]
fn debian_6_12_amd64_config() {
    let config = debian_config();
    let tc = Toolchain::from_config(&config, DEBIAN_AMD64).unwrap();
    assert_eq!(tc.arch, Arch::X86_64);
    let report = evaluate(&Inputs::config(&config), &tc, &Policy::default());
    print_totals("debian amd64", &report);
    for r in report.failures_for_policy() {
        eprintln!("  required FAIL {} ({})", r.id, r.found);
    }
    let status = |id: &str| {
        report
            .get(id)
            .unwrap_or_else(|| panic!("no rule {id}"))
            .status
    };
    // What Debian gets right …
    for id in [
        "kconfig:STACKPROTECTOR_STRONG",
        "kconfig:STRICT_KERNEL_RWX",
        "kconfig:HARDENED_USERCOPY",
        "kconfig:MITIGATION_PAGE_TABLE_ISOLATION",
    ] {
        assert_eq!(status(id), Status::Ok, "{id}");
    }
    // … and some of the self-protection set it leaves off.
    for id in [
        "kconfig:INIT_ON_FREE_DEFAULT_ON",
        "kconfig:ZERO_CALL_USED_REGS",
        "kconfig:SLAB_MERGE_DEFAULT",
    ] {
        assert_eq!(status(id), Status::Fail, "{id}");
    }
    assert!(!report.passes());
    assert_eq!(
        status("kconfig:CFI_CLANG"),
        Status::NotApplicable,
        "Debian builds with gcc"
    );
    // Command-line and sysctl rules are not judged without their inputs …
    assert_eq!(
        report.get("sysctl:kernel.kptr_restrict").unwrap().reason,
        "no sysctl values given"
    );
    // … except where the config alone decides.
    assert_eq!(status("cmdline:init_on_alloc"), Status::Ok);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["ok"].as_u64().unwrap() as usize, report.totals.ok);
    assert_eq!(
        json["results"].as_array().unwrap().len(),
        harden::rules::all().count()
    );
}

/// Evaluates with the default policy and prints totals and the guard's refusals.
fn judge(name: &str, config: &KernelConfig, tc: &Toolchain) -> Report {
    let report = evaluate(&Inputs::config(config), tc, &Policy::default());
    print_totals(name, &report);
    let tree = KconfigTree::load(&linux_tree(), tc.arch).unwrap();
    for r in explain_failures(&report, config, &tree) {
        eprintln!("REFUSED {}: {}", r.rule, r.culprit);
    }
    report
}

fn resolve(extra: &str, out: &Path) -> KernelConfig {
    let tiny = std::fs::read_to_string(TINY).unwrap();
    resolve_allnoconfig(
        &linux_tree(),
        Arch::X86_64,
        None,
        &format!("{tiny}\n{extra}"),
        out,
    )
    .unwrap()
}

#[test]
#[ignore = "network"] // the pinned source tree: SAMEKERNEL_LINUX_SRC, which `cargo xtask test` unpacks from the archive
fn tiny_with_the_fragment_passes_the_default_policy_after_olddefconfig() {
    let tc = Toolchain::debian12_gcc(
        Arch::X86_64,
        Path::new("/usr/lib/gcc/x86_64-linux-gnu/12/plugin/include/plugin-version.h").exists(),
    );
    let frag = fragment(&tc, &Policy::default(), FragmentOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let before = resolve("", &dir.path().join("plain"));
    let after = resolve(&frag, &dir.path().join("hardened"));
    let plain = judge("tiny", &before, &tc);
    let hardened = judge("tiny+fragment", &after, &tc);
    assert!(!plain.passes());
    assert_eq!(
        Toolchain::from_config(&after, "tiny+fragment")
            .unwrap()
            .gcc_plugins,
        tc.gcc_plugins
    );
    assert!(
        hardened.passes(),
        "{} required rules failed",
        hardened.required_fail
    );
}

#[test]
#[ignore = "network"] // the pinned source tree: SAMEKERNEL_LINUX_SRC, which `cargo xtask test` unpacks from the archive
fn a_protection_lost_through_a_dependency_is_refused_with_its_culprit() {
    // The bug7 shape: the hardened fragment asks for slab freelist hardening, then a later
    // copied option (here the tiny default's own CONFIG_SLUB_TINY=y) makes Kconfig drop it.
    let tc = Toolchain::debian12_gcc(Arch::X86_64, false);
    let frag = fragment(&tc, &Policy::default(), FragmentOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let config = resolve(&format!("{frag}\nCONFIG_SLUB_TINY=y\n"), dir.path());
    assert!(config.is_enabled("CONFIG_SLUB_TINY"));
    assert!(
        !config.is_enabled("CONFIG_SLAB_FREELIST_HARDENED"),
        "olddefconfig dropped it"
    );
    let report = evaluate(&Inputs::config(&config), &tc, &Policy::default());
    let tree = KconfigTree::load(&linux_tree(), Arch::X86_64).unwrap();
    let refusals = explain_failures(&report, &config, &tree);
    let r = refusals
        .iter()
        .find(|r| r.rule == "kconfig:SLAB_FREELIST_HARDENED")
        .expect("refused");
    eprintln!("{}: {}", r.rule, r.culprit);
    assert!(
        r.culprit.starts_with(
            "CONFIG_SLAB_FREELIST_HARDENED is off because it depends on !SLUB_TINY (mm/Kconfig:"
        ),
        "{}",
        r.culprit
    );
    assert!(
        r.culprit.ends_with("and CONFIG_SLUB_TINY=y"),
        "{}",
        r.culprit
    );
    let tiny = refusals
        .iter()
        .find(|r| r.rule == "kconfig:SLUB_TINY")
        .expect("SLUB_TINY itself refused");
    assert!(
        tiny.culprit.contains("CONFIG_SLUB_TINY=y"),
        "{}",
        tiny.culprit
    );
}

#[test]
#[ignore = "network"] // the pinned source tree: SAMEKERNEL_LINUX_SRC, which `cargo xtask test` unpacks from the archive
fn arm64_fragment_resolves_with_the_cross_compiler() {
    let tc = Toolchain::debian12_gcc(Arch::Arm64, false);
    let frag = fragment(&tc, &Policy::default(), FragmentOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let base =
        "CONFIG_EXPERT=y\nCONFIG_MODULES=y\nCONFIG_PRINTK=y\nCONFIG_SYSFS=y\nCONFIG_PROC_FS=y\n";
    let config = resolve_allnoconfig(
        &linux_tree(),
        Arch::Arm64,
        Some("aarch64-linux-gnu-"),
        &format!("{base}{frag}"),
        dir.path(),
    )
    .unwrap();
    assert_eq!(
        Toolchain::from_config(&config, "arm64").unwrap().arch,
        Arch::Arm64
    );
    let report = judge("arm64 allnoconfig+fragment", &config, &tc);
    assert_eq!(
        report.get("kconfig:ARM64_PTR_AUTH_KERNEL").unwrap().status,
        Status::Ok
    );
    assert!(
        report.passes(),
        "{} required rules failed",
        report.required_fail
    );
}

#[test]
#[ignore = "slow: builds the hardened tiny kernel and boots it under qemu (about 8 minutes on 2 cores); needs SAMEKERNEL_LINUX_SRC"]
fn slow_hardened_tiny_kernel_builds_and_boots() {
    let tc = Toolchain::debian12_gcc(Arch::X86_64, false);
    let dir = tempfile::tempdir().unwrap();
    let config = resolve(
        &fragment(&tc, &Policy::default(), FragmentOptions::default()),
        dir.path(),
    );
    assert!(evaluate(&Inputs::config(&config), &tc, &Policy::default()).passes());
    let jobs = format!(
        "-j{}",
        std::thread::available_parallelism().map_or(2, |n| n.get())
    );
    let built = std::process::Command::new("nice")
        .args(["-n", "10", "make", "-s", "-C"])
        .arg(linux_tree())
        .arg(format!("O={}", dir.path().display()))
        .args(["ARCH=x86_64", &jobs, "bzImage"])
        .status()
        .unwrap();
    assert!(built.success());
    // No initramfs: the kernel boots as far as looking for init, then panics and (with
    // PANIC_TIMEOUT=-1 and -no-reboot) qemu exits.
    let out = std::process::Command::new("timeout")
        .args([
            "300",
            "qemu-system-x86_64",
            "-nographic",
            "-no-reboot",
            "-m",
            "256",
            "-cpu",
            "max",
            "-append",
            "console=ttyS0",
            "-kernel",
        ])
        .arg(dir.path().join("arch/x86/boot/bzImage"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    for line in [
        "x86/mm: Checked W+X mappings: passed",
        "kfence: initialized",
        "Kernel Offset: 0x",
        "No working init found",
    ] {
        assert!(log.contains(line), "boot log lacks {line:?}:\n{log}");
    }
}
