//! The bug7 guard in the pipeline: a config that loses a required protection through a
//! Kconfig dependency is refused by the hardening gate, naming the rule and the option
//! that turned it off. Offline on a hand-made Kconfig tree; for real on the pinned Linux
//! source through the config and gate stages (no kernel is compiled).

use std::fs;
use std::path::Path;

use kbuild_env::{EnvSpec, KbuildEnv, KernelConfig, LintContext};
use samekernel::gate::{ConfigGate, HazardGate, Severity, run_gates};
use samekernel::hardening::{self, HardeningGate};
use samekernel::stage::config::{ConfigSource, resolve_config, write_hardening_fragment};
use samekernel::stage::pin::{fetch_pin, unpack_source};
use samekernel::{KbuildRunner, Target};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn only(rule: &str) -> harden::Policy {
    harden::Policy::from_toml(&format!("[require]\nrules = [\"{rule}\"]\n"), "test").unwrap()
}

/// x86_64, gcc 12: what `Toolchain::from_config` needs.
const GCC12: &str = "CONFIG_X86_64=y\nCONFIG_CC_IS_GCC=y\nCONFIG_GCC_VERSION=120200\n";

#[test]
fn a_protection_lost_through_a_dependency_is_refused_with_its_culprit() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "Kconfig", "source \"mm/Kconfig\"\n");
    write(
        d.path(),
        "mm/Kconfig",
        "config SLUB_TINY\n\tbool \"tiny\"\n\nconfig SLAB_FREELIST_HARDENED\n\tbool \"harden\"\n\tdepends on !SLUB_TINY\n",
    );
    let rule = "kconfig:SLAB_FREELIST_HARDENED";
    let weak = KernelConfig::parse(
        &format!("{GCC12}CONFIG_SLUB_TINY=y\n# CONFIG_SLAB_FREELIST_HARDENED is not set\n"),
        "obj/.config",
    )
    .unwrap();
    let gate = HardeningGate::new(only(rule), d.path(), false);
    let hazards = HazardGate {
        context: LintContext::default(),
        allow_blocking: false,
    };
    let gates: [&dyn ConfigGate; 2] = [&hazards, &gate];
    let mut seen = Vec::new();
    let err = run_gates(&gates, &weak, "obj/.config".as_ref(), &mut |f| {
        seen.push(f.clone())
    })
    .unwrap_err();
    assert_eq!(err.items, [rule]);
    let message = &seen[0].message;
    assert!(
        message.contains("CONFIG_SLAB_FREELIST_HARDENED is off because it depends on !SLUB_TINY (mm/Kconfig:6), and CONFIG_SLUB_TINY=y"),
        "{message}"
    );

    // --allow-weaker: reported as allowed, and the record says so.
    let allowed = HardeningGate::new(only(rule), d.path(), true);
    let findings = run_gates(&[&allowed], &weak, "c".as_ref(), &mut |_| {}).unwrap();
    assert_eq!(findings[0].severity, Severity::Allowed);
    let h = samekernel::Hardening {
        allow_weaker: true,
        ..samekernel::Hardening::default()
    };
    let summary = hardening::summary(&allowed.report(&weak).unwrap(), &h);
    assert_eq!(summary.mode.as_str(), "allow-weaker");
    assert!(summary.failed_rules.iter().any(|r| r == rule));

    // The same tree, the protection kept: nothing to say.
    let strong = KernelConfig::parse(
        &format!("{GCC12}# CONFIG_SLUB_TINY is not set\nCONFIG_SLAB_FREELIST_HARDENED=y\n"),
        "c",
    )
    .unwrap();
    assert!(gate.check(&strong).is_empty());
}

#[test]
fn a_config_without_a_toolchain_is_refused_not_waved_through() {
    let gate = HardeningGate::new(harden::Policy::default(), Path::new("/nonexistent"), false);
    let c = KernelConfig::parse("CONFIG_X86_64=y\n", "c").unwrap();
    let f = gate.check(&c);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Blocking);
    assert!(f[0].message.contains("compiler"), "{}", f[0].message);
}

/// The built-in tiny config (kernel-deb's), resolved by kbuild on the pinned source.
const TINY: &str = include_str!("../../kernel-deb/configs/samekernel-tiny.config");

/// Fetches and unpacks the default pin, resolves `allnoconfig` with the tiny config, the
/// hardening fragment and `user_fragment` (in the config stage's order), returns the
/// gate's findings and the resolved config.
fn resolve_tiny(
    work: &Path,
    user_fragment: &str,
) -> (KernelConfig, std::path::PathBuf, Vec<samekernel::Finding>) {
    let cache =
        srcpin::Cache::new(srcpin::Cache::default_root().unwrap_or_else(|| work.join("cache")));
    let fetcher = srcpin::Fetcher::new(cache, srcpin::FetchOptions::default());
    let manifest = srcpin::Manifest::builtin_default();
    let pinned = fetch_pin(&manifest, &fetcher, &mut srcpin::NoProgress).unwrap();
    let src = unpack_source(&pinned, &work.join("src"), &mut srcpin::NoProgress).unwrap();
    let (obj, home) = (work.join("obj"), work.join("home"));
    fs::create_dir_all(&obj).unwrap();
    fs::create_dir_all(&home).unwrap();
    let sde = pinned.source_date_epoch().unwrap();
    let spec = EnvSpec::new(sde, src.clone(), obj.clone(), home, 2);
    let env = KbuildEnv::new(&spec).unwrap();
    let mut kbuild = KbuildRunner::new(env, work.join("build.log"), &Target::AMD64, "x86_64");
    let fp = kbuild_env::collect(&kbuild_env::ToolchainQuery::default()).unwrap();
    let tc = hardening::toolchain_for(&Target::AMD64, &fp).unwrap();
    let policy = harden::Policy::default();
    let harden_fragment =
        write_hardening_fragment(&hardening::fragment_for(&tc, &policy), work).unwrap();
    let user = work.join("user.config");
    fs::write(&user, user_fragment).unwrap();
    let resolved = resolve_config(
        &mut kbuild,
        &ConfigSource::Allnoconfig(TINY.into()),
        &[harden_fragment, user],
        work,
        &obj,
    )
    .unwrap();
    let gate = HardeningGate::new(policy, &src, false);
    let findings = gate.check(&resolved.config);
    (resolved.config, src, findings)
}

#[test]
#[ignore = "network"] // fetches and unpacks the pinned Linux source (about 3 minutes)
fn the_pipeline_refuses_a_user_fragment_that_drops_a_protection() {
    let t = tempfile::tempdir().unwrap();
    let (config, _, findings) = resolve_tiny(t.path(), "CONFIG_SLUB_TINY=y\n");
    assert!(config.is_enabled("CONFIG_SLUB_TINY"));
    let f = findings
        .iter()
        .find(|f| f.item == "kconfig:SLAB_FREELIST_HARDENED")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(f.severity, Severity::Blocking);
    assert!(
        f.message.contains("depends on !SLUB_TINY") && f.message.contains("CONFIG_SLUB_TINY=y"),
        "{}",
        f.message
    );

    // Without the user's fragment the hardened default passes its gate, and beats
    // Debian's own 6.12 amd64 config in self-protection. (One kernel tree at a time.)
    drop(t);
    let t = tempfile::tempdir().unwrap();
    let (config, _, findings) = resolve_tiny(t.path(), "");
    assert!(findings.is_empty(), "{findings:#?}");
    let ours = self_protection(&config);
    let debian = debian_config();
    let theirs = self_protection(&debian);
    eprintln!("self-protection ok/fail/n-a: hardened tiny {ours:?}, Debian 6.12 amd64 {theirs:?}");
    assert!(
        ours.0 > theirs.0 && ours.1 < theirs.1,
        "{ours:?} vs {theirs:?}"
    );
}

fn self_protection(config: &KernelConfig) -> (usize, usize, usize) {
    let tc = harden::Toolchain::from_config(config, "c").unwrap();
    let r = harden::evaluate(
        &harden::Inputs::config(config),
        &tc,
        &harden::Policy::default(),
    );
    let t = r.groups[&harden::rules::Group::SelfProtection];
    (t.ok, t.fail, t.not_applicable)
}

/// Debian's linux-config-6.12 (an installed package the CI installs).
fn debian_config() -> KernelConfig {
    let path = "/usr/src/linux-config-6.12/config.amd64_none_amd64.xz";
    let out = std::process::Command::new("xz")
        .args(["-dc", path])
        .output()
        .unwrap();
    assert!(out.status.success(), "{path}");
    KernelConfig::parse(&String::from_utf8(out.stdout).unwrap(), path).unwrap()
}
