//! The evaluator on small hand-made inputs: every status and reason path.

use harden::rules::Group;
use harden::{
    Arch, Cmdline, Compiler, Inputs, KernelConfig, Policy, Status, Sysctls, Toolchain, evaluate,
};

fn cfg(text: &str) -> KernelConfig {
    KernelConfig::parse(text, "t.config").unwrap()
}

const GCC12: Toolchain = Toolchain {
    arch: Arch::X86_64,
    compiler: Compiler::Gcc,
    major: 12,
    gcc_plugins: false,
};

#[test]
fn config_defaults_can_satisfy_cmdline_rules_but_unknowns_are_never_ok() {
    let c = cfg("CONFIG_X86_64=y\nCONFIG_INIT_ON_ALLOC_DEFAULT_ON=y\n");
    let r = evaluate(&Inputs::config(&c), &GCC12, &Policy::default());
    assert_eq!(r.get("cmdline:init_on_alloc").unwrap().status, Status::Ok);
    let free = r.get("cmdline:init_on_free").unwrap();
    assert_eq!(
        (free.status, free.reason.as_str()),
        (Status::NotApplicable, "no kernel command line given")
    );
    let line = Cmdline::parse("init_on_free=1 nosmap", "c").unwrap();
    let r = evaluate(
        &Inputs {
            config: &c,
            cmdline: Some(&line),
            sysctls: None,
        },
        &GCC12,
        &Policy::default(),
    );
    assert_eq!(r.get("cmdline:init_on_free").unwrap().status, Status::Ok);
    assert_eq!(r.get("cmdline:nosmap").unwrap().status, Status::Fail);
    assert_eq!(
        r.get("cmdline:mitigations").unwrap().status,
        Status::Ok,
        "absent means the default (on)"
    );
}

#[test]
fn toolchain_arch_and_feature_gates_give_reasons() {
    let c = cfg("CONFIG_X86_64=y\n");
    let clang = Toolchain {
        compiler: Compiler::Clang,
        major: 16,
        ..GCC12
    };
    let r = evaluate(&Inputs::config(&c), &clang, &Policy::default());
    assert_eq!(
        r.get("kconfig:GCC_PLUGIN_STACKLEAK").unwrap().reason,
        "GCC plugin, toolchain is clang 16"
    );
    assert_eq!(
        r.get("kconfig:CFI_CLANG").unwrap().status,
        Status::Fail,
        "clang can meet it"
    );
    let gcc11 = Toolchain { major: 11, ..GCC12 };
    let r = evaluate(&Inputs::config(&c), &gcc11, &Policy::default());
    assert_eq!(
        r.get("kconfig:INIT_STACK_ALL_ZERO").unwrap().reason,
        "needs gcc >= 12, toolchain is gcc 11"
    );
    assert_eq!(
        r.get("kconfig:CFI_CLANG").unwrap().reason,
        "clang-only option, toolchain is gcc 11"
    );
    assert_eq!(
        r.get("kconfig:ARM64_PAN").unwrap().reason,
        "arm64-only rule, target is x86_64"
    );
    assert_eq!(
        r.get("kconfig:INTEL_IOMMU").unwrap().reason,
        "only matters with CONFIG_PCI and CONFIG_ACPI enabled, which is not"
    );
    let r = evaluate(
        &Inputs::config(&cfg("CONFIG_X86_64=y\nCONFIG_PCI=y\nCONFIG_ACPI=y\n")),
        &gcc11,
        &Policy::default(),
    );
    assert_eq!(r.get("kconfig:INTEL_IOMMU").unwrap().status, Status::Fail);
}

#[test]
fn values_thresholds_and_combinations() {
    let c = cfg(
        "CONFIG_X86_64=y\nCONFIG_PANIC_TIMEOUT=-1\nCONFIG_DEFAULT_MMAP_MIN_ADDR=4096\nCONFIG_ARCH_MMAP_RND_BITS=32\nCONFIG_LSM=\"landlock,lockdown,yama\"\nCONFIG_MODULES=y\n# CONFIG_UBSAN is not set\n",
    );
    let r = evaluate(&Inputs::config(&c), &GCC12, &Policy::report_only());
    let st = |id: &str| r.get(id).unwrap().status;
    assert_eq!(st("kconfig:PANIC_TIMEOUT"), Status::Ok);
    assert_eq!(st("kconfig:DEFAULT_MMAP_MIN_ADDR"), Status::Fail);
    assert_eq!(st("kconfig:ARCH_MMAP_RND_BITS"), Status::Ok);
    assert_eq!(st("kconfig:LSM:yama"), Status::Ok);
    assert_eq!(st("kconfig:LSM:loadpin"), Status::Fail);
    assert_eq!(
        st("kconfig:MODULE_SIG"),
        Status::Fail,
        "MODULES=y without signing"
    );
    assert_eq!(
        st("kconfig:UBSAN_SHIFT"),
        Status::Ok,
        "UBSAN off satisfies it"
    );
    assert!(
        r.passes() && r.failures_for_policy().next().is_none(),
        "report_only requires nothing"
    );
}

#[test]
fn sysctls_absent_from_the_system_are_not_applicable() {
    let c = cfg("CONFIG_X86_64=y\n");
    let s = Sysctls::parse("kernel.kptr_restrict = 2\nkernel.dmesg_restrict = 0\n", "s").unwrap();
    let r = evaluate(
        &Inputs {
            config: &c,
            cmdline: None,
            sysctls: Some(&s),
        },
        &GCC12,
        &Policy::default(),
    );
    assert_eq!(
        r.get("sysctl:kernel.kptr_restrict").unwrap().status,
        Status::Ok
    );
    assert_eq!(
        r.get("sysctl:kernel.dmesg_restrict").unwrap().status,
        Status::Fail
    );
    let userns = r.get("sysctl:kernel.unprivileged_userns_clone").unwrap();
    assert_eq!(
        userns.reason,
        "sysctl not present on this system (feature not built in)"
    );
}

#[test]
fn arm64_rules_and_totals_add_up() {
    let tc = Toolchain {
        arch: Arch::Arm64,
        ..GCC12
    };
    let c = cfg("CONFIG_ARM64=y\nCONFIG_ARM64_PAN=y\n");
    let line = Cmdline::parse("kpti=off", "c").unwrap();
    let r = evaluate(
        &Inputs {
            config: &c,
            cmdline: Some(&line),
            sysctls: None,
        },
        &tc,
        &Policy::default(),
    );
    assert_eq!(r.get("kconfig:ARM64_PAN").unwrap().status, Status::Ok);
    assert_eq!(r.get("cmdline:kpti").unwrap().status, Status::Fail);
    assert_eq!(
        r.get("kconfig:MITIGATION_RETPOLINE").unwrap().status,
        Status::NotApplicable
    );
    let sum = r
        .groups
        .values()
        .fold(0, |n, t| n + t.ok + t.fail + t.not_applicable);
    assert_eq!(sum, r.results.len());
    assert_eq!(
        r.totals.ok + r.totals.fail + r.totals.not_applicable,
        r.results.len()
    );
    let sp = r.groups[&Group::SelfProtection];
    assert_eq!(
        sp.fail,
        r.results
            .iter()
            .filter(|x| x.group == Group::SelfProtection && x.status == Status::Fail)
            .count()
    );
    assert_eq!(r.required_fail, r.failures_for_policy().count());
    assert!(
        r.failures_for_policy()
            .all(|x| x.group == Group::SelfProtection)
    );
}

#[test]
fn toolchain_facts_come_from_the_config() {
    let c = cfg("CONFIG_ARM64=y\nCONFIG_CC_IS_CLANG=y\nCONFIG_CLANG_VERSION=160006\n");
    let tc = Toolchain::from_config(&c, "c").unwrap();
    assert_eq!(
        (tc.arch, tc.compiler, tc.major, tc.gcc_plugins),
        (Arch::Arm64, Compiler::Clang, 16, false)
    );
    let c = cfg(
        "CONFIG_X86_64=y\nCONFIG_CC_IS_GCC=y\nCONFIG_GCC_VERSION=120200\n# CONFIG_GCC_PLUGINS is not set\n",
    );
    assert!(
        Toolchain::from_config(&c, "c").unwrap().gcc_plugins,
        "the symbol is only written when plugins work"
    );
    let c = cfg("CONFIG_X86_64=y\nCONFIG_CC_IS_GCC=y\nCONFIG_GCC_VERSION=120200\n");
    assert!(!Toolchain::from_config(&c, "c").unwrap().gcc_plugins);
    let e = Toolchain::from_config(&cfg("CONFIG_X86=y\n"), "x.config").unwrap_err();
    assert_eq!(
        e.to_string(),
        "x.config: cannot tell the architecture (x86_64 or arm64) from the config"
    );
}
