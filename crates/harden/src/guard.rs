//! The bug7 guard: for every required rule that failed, name the rule and the culprit.

use kbuild_env::KernelConfig;
use serde::Serialize;

use crate::eval::{Report, RuleResult};
use crate::kconfig_tree::KconfigTree;
use crate::rules::{Expect, Kind};

/// One refused rule.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// The rule id.
    pub rule: String,
    /// What the rule wanted.
    pub expected: String,
    /// What the config has.
    pub found: String,
    /// Why, traced through Kconfig (`CONFIG_X is off because it depends on !Y …, and CONFIG_Y=y`).
    pub culprit: String,
}

/// Explains every required failure of `report` (evaluated on `config`) using `tree`.
pub fn explain_failures(
    report: &Report,
    config: &KernelConfig,
    tree: &KconfigTree,
) -> Vec<Refusal> {
    report
        .failures_for_policy()
        .map(|r| refusal(r, config, tree))
        .collect()
}

fn refusal(r: &RuleResult, config: &KernelConfig, tree: &KconfigTree) -> Refusal {
    let culprit = r
        .rule
        .check
        .terms()
        .iter()
        .filter(|t| t.kind == Kind::Kconfig)
        .find(|t| t.expect != Expect::Off)
        .or_else(|| {
            r.rule
                .check
                .terms()
                .iter()
                .find(|t| t.kind == Kind::Kconfig)
        })
        .map(|t| {
            let sym = format!("CONFIG_{}", t.name);
            match (t.expect, config.is_enabled(&sym)) {
                (Expect::Off, _) => tree.explain_on(t.name, config),
                (Expect::Yes | Expect::Enabled, false) => tree.explain_off(t.name, config),
                (_, _) if config.get(&sym).is_none_or(|v| !v.is_set()) => {
                    tree.explain_off(t.name, config)
                }
                _ => format!("{} has a weaker value than the rule wants", r.found),
            }
        })
        .unwrap_or_else(|| "not a kconfig rule: set it on the command line or with sysctl".into());
    Refusal {
        rule: r.id.clone(),
        expected: r.expected.clone(),
        found: r.found.clone(),
        culprit,
    }
}
