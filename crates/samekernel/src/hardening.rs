//! Hardened by default: harden's fragment in the config stage, and the bug7 guard as a gate.
//!
//! Mempo once shipped a config in which a copied Debian option (XEN) silently turned off
//! UDEREF/KERNEXEC. Here the build *asks* for every self-protection option the target and
//! toolchain support ([`fragment_for`], applied after the base config and before the
//! user's fragments), and then [`HardeningGate`] *checks* the resolved `.config`: a
//! required rule that is off stops the build, naming the rule and the Kconfig culprit
//! ("CONFIG_X is off because it depends on !SLUB_TINY …, and CONFIG_SLUB_TINY=y").

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use harden::rules::Group;
use harden::{KconfigTree, KernelConfig, Policy, Report};
use kbuild_env::ToolchainFingerprint;

use crate::Target;
use crate::gate::{ConfigGate, Finding, Severity};

/// What the build does about hardening.
#[derive(Debug, Clone)]
pub struct Hardening {
    /// Apply harden's fragment in the config stage (`false`: `--no-harden`; the gate then
    /// reports failures as allowed instead of refusing).
    pub apply_fragment: bool,
    /// Which rules are required (default: every self-protection rule the target supports,
    /// minus harden's `DEFAULT_RELAXED`).
    pub policy: Policy,
    /// Build even when a required rule fails (`--allow-weaker`); recorded.
    pub allow_weaker: bool,
}

impl Default for Hardening {
    fn default() -> Hardening {
        Hardening {
            apply_fragment: true,
            policy: Policy::default(),
            allow_weaker: false,
        }
    }
}

impl Hardening {
    /// How the result is recorded.
    pub fn mode(&self) -> testimony::build_record::HardeningMode {
        use testimony::build_record::HardeningMode;
        match (self.apply_fragment, self.allow_weaker) {
            (false, _) => HardeningMode::Off,
            (true, true) => HardeningMode::AllowWeaker,
            (true, false) => HardeningMode::Enforced,
        }
    }
}

/// The facts harden needs about this build's compiler: the target's arch, the gcc major
/// the fingerprint recorded (`gcc-N`), and plugins iff the plugin headers of the compiler
/// that builds the kernel are installed: `gcc-N-plugin-dev`, or for a cross build (the
/// fingerprint names `gcc-N-<triplet>`) `gcc-N-plugin-dev-<triplet>`: the native headers
/// do not serve a cross compiler, and kbuild would silently drop the plugins.
/// `None` when the fingerprint names no versioned gcc.
pub fn toolchain_for(target: &Target, fp: &ToolchainFingerprint) -> Option<harden::Toolchain> {
    let arch = harden::Arch::from_name(target.debian_arch)?;
    let major: u32 = fp
        .packages
        .iter()
        .filter(|(_, v)| v.is_some())
        .find_map(|(name, _)| name.strip_prefix("gcc-")?.parse().ok())?;
    let installed = |name: String| fp.packages.get(&name).is_some_and(Option::is_some);
    let triplet = target.multiarch.replace('_', "-");
    let plugins = match installed(format!("gcc-{major}-{triplet}")) {
        true => installed(format!("gcc-{major}-plugin-dev-{triplet}")),
        false => installed(format!("gcc-{major}-plugin-dev")),
    };
    Some(harden::Toolchain {
        arch,
        compiler: harden::Compiler::Gcc,
        major,
        gcc_plugins: plugins,
    })
}

/// harden's fragment for `tc` and `policy` (never RANDSTRUCT: no seed is pinned).
pub fn fragment_for(tc: &harden::Toolchain, policy: &Policy) -> String {
    harden::fragment(tc, policy, harden::FragmentOptions::default())
}

/// The hardening results a build record carries: self-protection totals and failures.
pub fn summary(report: &Report, hardening: &Hardening) -> testimony::build_record::Hardening {
    let totals = report
        .groups
        .get(&Group::SelfProtection)
        .copied()
        .unwrap_or_default();
    let failed = report
        .results
        .iter()
        .filter(|r| r.group == Group::SelfProtection && r.status == harden::Status::Fail)
        .map(|r| r.id.clone())
        .collect();
    testimony::build_record::Hardening {
        ok: totals.ok as u64,
        fail: totals.fail as u64,
        not_applicable: totals.not_applicable as u64,
        failed_rules: failed,
        mode: hardening.mode(),
    }
}

/// The bug7 guard: refuses a resolved `.config` in which a required rule fails, naming
/// the rule and, through the source tree's Kconfig, the option that turned it off.
#[derive(Debug)]
pub struct HardeningGate {
    /// Required rules.
    pub policy: Policy,
    /// The unpacked source tree (its top `Kconfig`), read only when something fails.
    pub source: PathBuf,
    /// Report failures as [`Severity::Allowed`] (`--allow-weaker` or `--no-harden`).
    pub allow: bool,
    tree: OnceLock<Result<KconfigTree, String>>,
}

impl HardeningGate {
    /// A gate over `source` with `policy`.
    pub fn new(policy: Policy, source: &Path, allow: bool) -> HardeningGate {
        HardeningGate {
            policy,
            source: source.to_path_buf(),
            allow,
            tree: OnceLock::new(),
        }
    }

    /// The evaluation of `config` (its toolchain read from the config itself).
    pub fn report(&self, config: &KernelConfig) -> Result<Report, harden::Error> {
        let tc = harden::Toolchain::from_config(config, "the resolved .config")?;
        Ok(harden::evaluate(
            &harden::Inputs::config(config),
            &tc,
            &self.policy,
        ))
    }

    fn culprits(&self, report: &Report, config: &KernelConfig) -> Vec<harden::Refusal> {
        let tree = self.tree.get_or_init(|| {
            KconfigTree::load(&self.source, report.toolchain.arch).map_err(|e| e.to_string())
        });
        match tree {
            Ok(tree) => harden::explain_failures(report, config, tree),
            Err(e) => report
                .failures_for_policy()
                .map(|r| harden::Refusal {
                    rule: r.id.clone(),
                    expected: r.expected.clone(),
                    found: r.found.clone(),
                    culprit: format!("(no culprit: {e})"),
                })
                .collect(),
        }
    }

    fn finding(&self, item: String, message: String) -> Finding {
        let severity = if self.allow {
            Severity::Allowed
        } else {
            Severity::Blocking
        };
        Finding {
            gate: self.name(),
            severity,
            item,
            message,
        }
    }
}

impl ConfigGate for HardeningGate {
    fn name(&self) -> &'static str {
        "hardening"
    }

    fn check(&self, config: &KernelConfig) -> Vec<Finding> {
        let report = match self.report(config) {
            Ok(r) => r,
            Err(e) => return vec![self.finding("toolchain".into(), e.to_string())],
        };
        if report.passes() {
            return Vec::new();
        }
        self.culprits(&report, config)
            .into_iter()
            .map(|r| {
                let message = format!(
                    "{} lost: wants {}, found {}; {} (fix the config, relax the rule in --harden-policy, or --allow-weaker)",
                    r.rule, r.expected, r.found, r.culprit
                );
                self.finding(r.rule, message)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(packages: &[(&str, Option<&str>)]) -> ToolchainFingerprint {
        let mut packages = packages.to_vec();
        packages.sort();
        let text: String = packages
            .iter()
            .map(|(p, v)| format!("package {p}={}\n", v.unwrap_or("(none)")))
            .collect();
        ToolchainFingerprint::parse(&text).unwrap()
    }

    #[test]
    fn plugins_are_those_of_the_compiler_that_builds_the_kernel() {
        let native = [
            ("gcc-12", Some("12.2.0-14+deb12u1")),
            ("gcc-12-plugin-dev", Some("12.2.0-14+deb12u1")),
        ];
        let tc = toolchain_for(&Target::AMD64, &fingerprint(&native)).unwrap();
        assert!(tc.gcc_plugins && tc.major == 12);
        // Cross to arm64 with only the native plugin headers: none for aarch64-linux-gnu-gcc.
        let mut cross = native.to_vec();
        cross.push(("gcc-12-aarch64-linux-gnu", Some("12.2.0-14cross1")));
        cross.push(("gcc-12-plugin-dev-aarch64-linux-gnu", None));
        assert!(
            !toolchain_for(&Target::ARM64, &fingerprint(&cross))
                .unwrap()
                .gcc_plugins
        );
        cross.pop();
        cross.push((
            "gcc-12-plugin-dev-aarch64-linux-gnu",
            Some("12.2.0-14cross1"),
        ));
        assert!(
            toolchain_for(&Target::ARM64, &fingerprint(&cross))
                .unwrap()
                .gcc_plugins
        );
        // arm64 built natively (no cross package): the native headers.
        let tc = toolchain_for(&Target::ARM64, &fingerprint(&native)).unwrap();
        assert_eq!((tc.arch, tc.gcc_plugins), (harden::Arch::Arm64, true));
    }
}
