//! Config gates: checks that run over the final `.config` before anything is compiled.
//!
//! A gate is anything implementing [`ConfigGate`]; it returns [`Finding`]s, and a
//! [`Severity::Blocking`] finding stops the build at [`crate::Stage::Gate`]. Today the
//! one gate is [`HazardGate`] (kbuild-env's reproducibility hazards); a hardening
//! policy plugs in the same way, as another `Box<dyn ConfigGate>` in
//! [`crate::BuildPlan::gates`].

use std::fmt;
use std::path::PathBuf;

use kbuild_env::hazards::BuildAction;
use kbuild_env::{KernelConfig, LintContext};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Stops the build.
    Blocking,
    /// Would stop the build, but the user allowed it.
    Allowed,
    /// Worth telling; the build goes on.
    Warning,
}

/// One thing a gate found in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The gate's [`ConfigGate::name`].
    pub gate: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// The config symbol (or other item) concerned, e.g. `CONFIG_RANDSTRUCT_FULL`.
    pub item: String,
    /// What is wrong and how to fix it, in one line.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Blocking => "error",
            Severity::Allowed => "error (allowed)",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}: {}", self.gate, self.message)
    }
}

/// A check over the resolved `.config`.
pub trait ConfigGate: Send + Sync {
    /// A short name for messages, e.g. `hazards`.
    fn name(&self) -> &'static str;
    /// Everything this gate has to say about `config`.
    fn check(&self, config: &KernelConfig) -> Vec<Finding>;
}

/// kbuild-env's hazard lint as a gate; which hazard kinds block is kbuild-env's rule
/// ([`kbuild_env::HazardKind::build_action`]).
#[derive(Debug, Clone)]
pub struct HazardGate {
    /// The mitigations the build has in place.
    pub context: LintContext,
    /// Report blocking hazards as [`Severity::Allowed`] instead (`--allow-hazards`).
    pub allow_blocking: bool,
}

impl ConfigGate for HazardGate {
    fn name(&self) -> &'static str {
        "hazards"
    }

    fn check(&self, config: &KernelConfig) -> Vec<Finding> {
        kbuild_env::lint(config, &self.context)
            .into_iter()
            .filter_map(|h| {
                let severity = match h.rule.kind.build_action() {
                    BuildAction::Ignore => return None,
                    BuildAction::Warn => Severity::Warning,
                    BuildAction::Block if self.allow_blocking => Severity::Allowed,
                    BuildAction::Block => Severity::Blocking,
                };
                Some(Finding {
                    gate: self.name(),
                    severity,
                    item: h.rule.symbol.to_owned(),
                    message: h.to_string(),
                })
            })
            .collect()
    }
}

/// The gates refused the config.
#[derive(Debug, thiserror::Error)]
#[error("{}: {blocking} blocking finding(s) ({}); fix them, or allow them explicitly", config.display(), items.join(", "))]
pub struct GateError {
    /// The resolved `.config`.
    pub config: PathBuf,
    /// How many findings block.
    pub blocking: usize,
    /// Their items.
    pub items: Vec<String>,
}

/// Runs every gate over `config` (read from `path`), reporting each finding as it
/// comes; fails when any finding blocks.
pub fn run_gates(
    gates: &[&dyn ConfigGate],
    config: &KernelConfig,
    path: &std::path::Path,
    on_finding: &mut dyn FnMut(&Finding),
) -> Result<Vec<Finding>, GateError> {
    let findings: Vec<Finding> = gates.iter().flat_map(|g| g.check(config)).collect();
    findings.iter().for_each(on_finding);
    let items: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Blocking)
        .map(|f| f.item.clone())
        .collect();
    if items.is_empty() {
        return Ok(findings);
    }
    Err(GateError {
        config: path.to_path_buf(),
        blocking: items.len(),
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> KernelConfig {
        KernelConfig::parse(text, "test.config").unwrap()
    }

    fn hazards(allow_blocking: bool) -> HazardGate {
        HazardGate {
            context: LintContext::default(),
            allow_blocking,
        }
    }

    #[test]
    fn random_per_build_hazards_block_unless_allowed() {
        let c = config("CONFIG_RANDSTRUCT_FULL=y\nCONFIG_MODULES=y\n");
        let mut seen = Vec::new();
        let err = run_gates(&[&hazards(false)], &c, "obj/.config".as_ref(), &mut |f| {
            seen.push(f.clone())
        })
        .unwrap_err();
        assert_eq!(err.items, ["CONFIG_RANDSTRUCT_FULL"]);
        assert!(
            err.to_string()
                .starts_with("obj/.config: 1 blocking finding(s) (CONFIG_RANDSTRUCT_FULL)")
        );
        assert_eq!(seen.len(), 1);
        let allowed = run_gates(&[&hazards(true)], &c, "x".as_ref(), &mut |_| {}).unwrap();
        assert_eq!(allowed[0].severity, Severity::Allowed);
    }

    #[test]
    fn a_foreign_gate_plugs_in_beside_the_hazards() {
        struct NoModules;
        impl ConfigGate for NoModules {
            fn name(&self) -> &'static str {
                "no-modules"
            }
            fn check(&self, config: &KernelConfig) -> Vec<Finding> {
                config
                    .is_enabled("CONFIG_MODULES")
                    .then(|| Finding {
                        gate: "no-modules",
                        severity: Severity::Blocking,
                        item: "CONFIG_MODULES".into(),
                        message: "modules are enabled".into(),
                    })
                    .into_iter()
                    .collect()
            }
        }
        let hazards = hazards(false);
        let gates: [&dyn ConfigGate; 2] = [&hazards, &NoModules];
        let err = run_gates(
            &gates,
            &config("CONFIG_MODULES=y\n"),
            "c".as_ref(),
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(err.items, ["CONFIG_MODULES"]);
        assert!(
            run_gates(
                &gates,
                &config("# CONFIG_MODULES is not set\n"),
                "c".as_ref(),
                &mut |_| {}
            )
            .is_ok()
        );
    }
}
