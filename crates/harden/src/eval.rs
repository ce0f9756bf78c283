//! The evaluator: one [`RuleResult`] per rule, never a silent OK.
//!
//! Each term is true, false or unknown (its input was not given, or a sysctl does not exist
//! on the system). `Any` is true if one term is; `All` is false if one term is; otherwise
//! unknown. An unknown rule is reported NOT APPLICABLE with the reason, as are rules for another
//! arch, rules the toolchain cannot meet and rules whose `only_if` feature is not built.

use std::collections::BTreeMap;

use kbuild_env::{ConfigValue, KernelConfig};
use serde::Serialize;

use crate::cmdline::Cmdline;
use crate::policy::Policy;
use crate::rules::{self, Check, Expect, Group, Kind, Needs, Recommender, Rule, Term};
use crate::sysctl::Sysctls;
use crate::toolchain::{Compiler, Toolchain};

/// What is being checked: a resolved `.config`, and optionally a command line and sysctls.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The kernel configuration.
    pub config: &'a KernelConfig,
    /// The kernel command line; `None` makes pure command-line rules NOT APPLICABLE.
    pub cmdline: Option<&'a Cmdline>,
    /// Sysctl values; `None` makes sysctl rules NOT APPLICABLE.
    pub sysctls: Option<&'a Sysctls>,
}

impl<'a> Inputs<'a> {
    /// Only a `.config`.
    pub fn config(config: &'a KernelConfig) -> Inputs<'a> {
        Inputs {
            config,
            cmdline: None,
            sysctls: None,
        }
    }
}

/// A rule's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The rule holds.
    Ok,
    /// The rule does not hold.
    Fail,
    /// The rule cannot be judged or does not matter here; `reason` says why.
    NotApplicable,
}

/// One rule's result.
#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    /// The rule id (`kconfig:STACKPROTECTOR_STRONG`).
    pub id: String,
    /// Which interface.
    pub kind: Kind,
    /// What it protects.
    pub group: Group,
    /// OK / FAIL / NOT APPLICABLE.
    pub status: Status,
    /// The policy requires this rule.
    pub required: bool,
    /// What was expected, in words.
    pub expected: String,
    /// What was found, in words.
    pub found: String,
    /// Why NOT APPLICABLE (empty otherwise).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Who recommends it.
    pub by: &'static [Recommender],
    /// Document and section.
    pub source: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// The rule itself, for callers that want the terms.
    #[serde(skip)]
    pub rule: &'static Rule,
}

/// Counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Rules that hold.
    pub ok: usize,
    /// Rules that do not.
    pub fail: usize,
    /// Rules not applicable.
    pub not_applicable: usize,
}

impl Totals {
    fn add(&mut self, s: Status) {
        match s {
            Status::Ok => self.ok += 1,
            Status::Fail => self.fail += 1,
            Status::NotApplicable => self.not_applicable += 1,
        }
    }
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The toolchain facts used.
    pub toolchain: Toolchain,
    /// Totals over every rule (`ok`, `fail`, `not_applicable` at the top level of the JSON).
    #[serde(flatten)]
    pub totals: Totals,
    /// Failures of required rules.
    pub required_fail: usize,
    /// Totals per group.
    pub groups: BTreeMap<Group, Totals>,
    /// Every rule's result, in table order.
    pub results: Vec<RuleResult>,
}

impl Report {
    /// Required rules that failed: what a build gate refuses on.
    pub fn failures_for_policy(&self) -> impl Iterator<Item = &RuleResult> {
        self.results
            .iter()
            .filter(|r| r.required && r.status == Status::Fail)
    }

    /// No required rule failed.
    pub fn passes(&self) -> bool {
        self.required_fail == 0
    }

    /// The result for one rule id.
    pub fn get(&self, id: &str) -> Option<&RuleResult> {
        self.results.iter().find(|r| r.id == id)
    }

    /// Serialized JSON (pretty).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serializes")
    }
}

/// Evaluates every rule against `inputs` for `toolchain`, marking what `policy` requires.
pub fn evaluate(inputs: &Inputs<'_>, toolchain: &Toolchain, policy: &Policy) -> Report {
    let results: Vec<RuleResult> = rules::all()
        .map(|r| evaluate_rule(r, inputs, toolchain, policy))
        .collect();
    let mut totals = Totals::default();
    let mut groups: BTreeMap<Group, Totals> =
        Group::ALL.iter().map(|g| (*g, Totals::default())).collect();
    let mut required_fail = 0;
    for r in &results {
        totals.add(r.status);
        groups.entry(r.group).or_default().add(r.status);
        if r.required && r.status == Status::Fail {
            required_fail += 1;
        }
    }
    Report {
        toolchain: *toolchain,
        totals,
        required_fail,
        groups,
        results,
    }
}

/// Evaluates one rule.
pub fn evaluate_rule(
    rule: &'static Rule,
    inputs: &Inputs<'_>,
    tc: &Toolchain,
    policy: &Policy,
) -> RuleResult {
    let mut result = RuleResult {
        id: rule.id(),
        kind: rule.kind(),
        group: rule.group,
        status: Status::NotApplicable,
        required: policy.is_required(rule),
        expected: describe_check(&rule.check),
        found: String::new(),
        reason: String::new(),
        by: rule.by,
        source: rule.source,
        why: rule.why,
        rule,
    };
    if let Some(reason) = not_applicable(rule, inputs.config, tc) {
        result.reason = reason;
        return result;
    }
    let outcomes: Vec<(Option<bool>, String)> = rule
        .check
        .terms()
        .iter()
        .map(|t| term_outcome(t, inputs))
        .collect();
    result.found = outcomes
        .iter()
        .map(|(_, f)| f.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let known = |v: &Option<bool>| v.is_some();
    let value = match rule.check {
        Check::One(_) => outcomes[0].0,
        Check::Any(_) if outcomes.iter().any(|o| o.0 == Some(true)) => Some(true),
        Check::All(_) if outcomes.iter().any(|o| o.0 == Some(false)) => Some(false),
        Check::Any(_) => outcomes.iter().all(|o| known(&o.0)).then_some(false),
        Check::All(_) => outcomes.iter().all(|o| known(&o.0)).then_some(true),
    };
    match value {
        Some(true) => result.status = Status::Ok,
        Some(false) => result.status = Status::Fail,
        None => result.reason = unknown_reason(rule, inputs),
    }
    result
}

/// Arch, toolchain and `only_if` gates, in that order.
fn not_applicable(rule: &Rule, config: &KernelConfig, tc: &Toolchain) -> Option<String> {
    if !rule.applies_to(tc.arch) {
        let only = match rule.arches {
            rules::Arches::X86_64 => "x86_64",
            _ => "arm64",
        };
        return Some(format!("{only}-only rule, target is {}", tc.arch.name()));
    }
    if let Some(reason) = toolchain_gap(rule, tc) {
        return Some(reason);
    }
    let missing: Vec<&str> = rule
        .only_if
        .iter()
        .copied()
        .filter(|s| !config.is_enabled(&format!("CONFIG_{s}")))
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "only matters with CONFIG_{} enabled, which is not",
            missing.join(" and CONFIG_")
        ));
    }
    None
}

/// Why `tc` cannot meet `rule`, if it cannot.
pub fn toolchain_gap(rule: &Rule, tc: &Toolchain) -> Option<String> {
    let have = tc.describe();
    let plugin_pkg = format!("gcc-{}-plugin-dev", tc.major);
    match (rule.needs, tc.compiler) {
        (Needs::Nothing, _) => None,
        (Needs::Clang, Compiler::Gcc) => Some(format!("clang-only option, toolchain is {have}")),
        (Needs::GccPlugins, Compiler::Clang) => Some(format!("GCC plugin, toolchain is {have}")),
        (Needs::GccPlugins | Needs::GccPluginsOrClang, Compiler::Gcc) if !tc.gcc_plugins => {
            Some(format!("GCC plugins without {plugin_pkg}"))
        }
        (Needs::CompilerAtLeast { gcc, .. }, Compiler::Gcc) if tc.major < gcc => {
            Some(format!("needs gcc >= {gcc}, toolchain is {have}"))
        }
        (Needs::CompilerAtLeast { clang, .. }, Compiler::Clang) if tc.major < clang => {
            Some(format!("needs clang >= {clang}, toolchain is {have}"))
        }
        _ => None,
    }
}

fn unknown_reason(rule: &Rule, inputs: &Inputs<'_>) -> String {
    let kinds: Vec<Kind> = rule.check.terms().iter().map(|t| t.kind).collect();
    if kinds.contains(&Kind::Cmdline) && inputs.cmdline.is_none() {
        "no kernel command line given".into()
    } else if kinds.contains(&Kind::Sysctl) && inputs.sysctls.is_none() {
        "no sysctl values given".into()
    } else {
        "sysctl not present on this system (feature not built in)".into()
    }
}

/// One term: `Some(holds)` or `None` when its input is missing, plus what was found.
fn term_outcome(t: &Term, inputs: &Inputs<'_>) -> (Option<bool>, String) {
    match t.kind {
        Kind::Kconfig => {
            let sym = format!("CONFIG_{}", t.name);
            let v = inputs.config.get(&sym);
            let found = match v {
                None => format!("{sym} absent"),
                Some(ConfigValue::NotSet) => format!("{sym} is not set"),
                Some(v) => format!("{sym}={v}"),
            };
            (Some(kconfig_holds(t.expect, v)), found)
        }
        Kind::Cmdline => match inputs.cmdline {
            None => (None, "command line unknown".into()),
            Some(c) => {
                let v = c.get(t.name);
                let found = match v {
                    None => format!("no {}", t.name),
                    Some(None) => t.name.to_owned(),
                    Some(Some(v)) => format!("{}={v}", t.name),
                };
                (Some(cmdline_holds(t.expect, v)), found)
            }
        },
        Kind::Sysctl => match inputs.sysctls.map(|s| s.get(t.name)) {
            None => (None, "sysctls unknown".into()),
            Some(None) => (None, format!("{} absent", t.name)),
            Some(Some(v)) => (Some(value_holds(t.expect, v)), format!("{} = {v}", t.name)),
        },
    }
}

fn kconfig_holds(e: Expect, v: Option<&ConfigValue>) -> bool {
    let off = matches!(v, None | Some(ConfigValue::NotSet | ConfigValue::No));
    match (e, v) {
        (Expect::Yes, Some(ConfigValue::Yes)) => true,
        (Expect::Yes, _) => false,
        (Expect::Enabled, v) => v.is_some_and(ConfigValue::is_enabled),
        (Expect::Off, _) => off,
        (Expect::NoneOf(_), None) => true,
        (_, None) => false,
        (e, Some(v)) => value_holds(e, &kconfig_text(v)),
    }
}

fn kconfig_text(v: &ConfigValue) -> String {
    match v {
        ConfigValue::Str(s) => s.clone(),
        ConfigValue::NotSet | ConfigValue::No => "n".into(),
        other => other.to_string(),
    }
}

fn cmdline_holds(e: Expect, v: Option<Option<&str>>) -> bool {
    match (e, v) {
        (Expect::Yes | Expect::Enabled, v) => v.is_some(),
        (Expect::Off, v) => v.is_none(),
        (Expect::NoneOf(_), None) => true,
        (_, None) => false,
        (e, Some(v)) => value_holds(e, v.unwrap_or("")),
    }
}

/// Compares a textual value (sysctl, cmdline value, kconfig value as text).
fn value_holds(e: Expect, v: &str) -> bool {
    let v = v.trim();
    let eq = |want: &str| v.eq_ignore_ascii_case(want);
    match e {
        Expect::Yes | Expect::Enabled => eq("y") || eq("1"),
        Expect::Off => eq("n") || eq("0") || v.is_empty(),
        Expect::Is(want) => eq(want),
        Expect::OneOf(list) => list.iter().any(|w| eq(w)),
        Expect::NoneOf(list) => !list.iter().any(|w| eq(w)),
        Expect::AtLeast(n) => parse_int(v).is_some_and(|x| x >= n),
        Expect::ListContains(item) => v.split(',').any(|p| p.trim().eq_ignore_ascii_case(item)),
    }
}

fn parse_int(v: &str) -> Option<i64> {
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

/// "CONFIG_X=y", "no nosmep", "kernel.kptr_restrict = 2", joined by "or"/"and".
pub fn describe_check(check: &Check) -> String {
    let parts: Vec<String> = check.terms().iter().map(describe_term).collect();
    match check {
        Check::One(_) => parts[0].clone(),
        Check::Any(_) => parts.join(" or "),
        Check::All(_) => parts.join(" and "),
    }
}

fn describe_term(t: &Term) -> String {
    let name = match t.kind {
        Kind::Kconfig => format!("CONFIG_{}", t.name),
        _ => t.name.to_owned(),
    };
    match (t.kind, t.expect) {
        (Kind::Kconfig, Expect::Yes) => format!("{name}=y"),
        (Kind::Kconfig, Expect::Enabled) => format!("{name}=y or m"),
        (Kind::Kconfig, Expect::Off) => format!("{name} is not set"),
        (Kind::Cmdline, Expect::Yes) => format!("{name} present"),
        (Kind::Cmdline, Expect::Off) => format!("no {name}"),
        (_, Expect::Is(v)) => format!("{name}={v}"),
        (_, Expect::OneOf(vs)) => format!("{name} one of {}", vs.join("|")),
        (_, Expect::NoneOf(vs)) => format!("{name} not {}", vs.join("|")),
        (_, Expect::AtLeast(n)) => format!("{name} >= {n}"),
        (_, Expect::ListContains(i)) => format!("{name} contains {i}"),
        (_, e) => format!("{name} {e:?}"),
    }
}
