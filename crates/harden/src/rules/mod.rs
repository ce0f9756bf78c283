//! The rule table's vocabulary: what a rule checks, where it applies, who recommends it and why.
//!
//! The tables themselves live in [`kconfig`], [`cmdline`] and [`sysctl`] as `static` data;
//! nothing in this module decides anything, it only describes.

pub mod cmdline;
pub mod kconfig;
pub mod sysctl;

use serde::Serialize;

/// Which interface a term (and a rule, by its first term) looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A `.config` symbol, named without its `CONFIG_` prefix.
    Kconfig,
    /// A kernel command-line parameter (dashes and underscores are the same).
    Cmdline,
    /// A sysctl, dotted (`kernel.kptr_restrict`).
    Sysctl,
}

impl Kind {
    /// Lowercase name used in rule ids and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Kconfig => "kconfig",
            Kind::Cmdline => "cmdline",
            Kind::Sysctl => "sysctl",
        }
    }
}

/// What a rule protects, for totals and for policies.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Group {
    /// The kernel defending itself against memory-safety bugs and exploitation.
    SelfProtection,
    /// Removing interfaces an attacker could use and most systems do not.
    CutAttackSurface,
    /// Access control: LSMs, lockdown, signature enforcement.
    SecurityPolicy,
    /// Protections the kernel gives to user-space processes.
    HardenUserSpace,
    /// Network stack defaults and rarely used protocols.
    Network,
}

impl Group {
    /// Every group, in report order.
    pub const ALL: [Group; 5] = [
        Group::SelfProtection,
        Group::CutAttackSurface,
        Group::SecurityPolicy,
        Group::HardenUserSpace,
        Group::Network,
    ];

    /// Kebab-case name, as in JSON and policy files.
    pub fn name(self) -> &'static str {
        match self {
            Group::SelfProtection => "self-protection",
            Group::CutAttackSurface => "cut-attack-surface",
            Group::SecurityPolicy => "security-policy",
            Group::HardenUserSpace => "harden-user-space",
            Group::Network => "network",
        }
    }

    /// The group with this kebab-case name.
    pub fn from_name(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }
}

/// Who recommends a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recommender {
    /// The kernel's own default (Kconfig `default y` or arch defconfig).
    Defconfig,
    /// The Kernel Self Protection Project's recommended settings.
    Kspp,
    /// A protection first shipped by grsecurity/PaX (UDEREF, KERNEXEC, …).
    Grsecurity,
    /// The CLIP OS kernel configuration.
    ClipOs,
    /// Distribution kernel maintainers (Debian, Fedora, Ubuntu defaults).
    Distro,
    /// samekernel's own choice, explained in the rule's why.
    Ours,
}

/// The architectures a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arches {
    /// x86_64 and arm64.
    Both,
    /// x86_64 only.
    X86_64,
    /// arm64 only.
    Arm64,
}

/// A toolchain a rule needs before it can be met at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Needs {
    /// Any supported compiler.
    Nothing,
    /// Clang (any version the kernel accepts).
    Clang,
    /// GCC with its plugin headers installed (gcc-N-plugin-dev).
    GccPlugins,
    /// GCC plugins, or Clang (which has the feature built in).
    GccPluginsOrClang,
    /// At least this GCC (major) or this Clang (major).
    CompilerAtLeast {
        /// Minimum GCC major version.
        gcc: u32,
        /// Minimum Clang major version.
        clang: u32,
    },
}

/// What value a term wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "op", content = "value")]
pub enum Expect {
    /// kconfig `=y`; cmdline: the flag or parameter is present (any value).
    Yes,
    /// kconfig `=y` or `=m`.
    Enabled,
    /// kconfig not set (or absent); cmdline: the parameter is absent.
    Off,
    /// Exactly this value.
    Is(&'static str),
    /// cmdline: absent, or present with a value not in this list (case-insensitive).
    NoneOf(&'static [&'static str]),
    /// Present with one of these values.
    OneOf(&'static [&'static str]),
    /// An integer at least this large.
    AtLeast(i64),
    /// A comma-separated list (e.g. `CONFIG_LSM`, `lsm=`) that contains this item.
    ListContains(&'static str),
}

/// One condition on one option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Term {
    /// Where the option lives.
    pub kind: Kind,
    /// Symbol (no `CONFIG_`), parameter or sysctl name.
    pub name: &'static str,
    /// The value wanted.
    pub expect: Expect,
}

/// How a rule's terms combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "op", content = "terms")]
pub enum Check {
    /// A single term.
    One(Term),
    /// At least one of the terms holds.
    Any(&'static [Term]),
    /// Every term holds.
    All(&'static [Term]),
}

impl Check {
    /// The terms, in table order.
    pub fn terms(&self) -> &[Term] {
        match self {
            Check::One(t) => std::slice::from_ref(t),
            Check::Any(ts) | Check::All(ts) => ts,
        }
    }
}

/// One hardening rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Explicit id; empty means "derived from the first term" (see [`Rule::id`]).
    #[serde(skip)]
    pub explicit_id: &'static str,
    /// The condition.
    pub check: Check,
    /// Where it applies.
    pub arches: Arches,
    /// What toolchain it needs.
    pub needs: Needs,
    /// kconfig symbols that must be enabled for the rule to matter (no PCI: no IOMMU rule).
    pub only_if: &'static [&'static str],
    /// What it protects.
    pub group: Group,
    /// Who recommends it.
    pub by: &'static [Recommender],
    /// The document and section the fact comes from.
    pub source: &'static str,
    /// One line of why, in our words.
    pub why: &'static str,
}

impl Rule {
    /// The stable id: `kind:NAME` of the main term (e.g. `kconfig:STACKPROTECTOR_STRONG`,
    /// `cmdline:slab_nomerge`), unless the table gives one (per-arch variants). The main term is
    /// the first that does not merely switch a feature off: in "MODULES off or MODULE_SIG=y"
    /// it is MODULE_SIG; when every term switches something off, the last one.
    pub fn id(&self) -> String {
        if !self.explicit_id.is_empty() {
            return self.explicit_id.to_owned();
        }
        let t = self.first();
        format!("{}:{}", t.kind.name(), t.name)
    }

    /// The rule's kind (that of its first term).
    pub fn kind(&self) -> Kind {
        self.first().kind
    }

    fn first(&self) -> &Term {
        let terms = self.check.terms();
        terms
            .iter()
            .find(|t| t.expect != Expect::Off)
            .unwrap_or(&terms[terms.len() - 1])
    }

    /// Does the rule apply to `arch` at all?
    pub fn applies_to(&self, arch: crate::Arch) -> bool {
        matches!(
            (self.arches, arch),
            (Arches::Both, _)
                | (Arches::X86_64, crate::Arch::X86_64)
                | (Arches::Arm64, crate::Arch::Arm64)
        )
    }

    // Table builders: `const` so the tables stay `static` data.

    /// Restrict to x86_64.
    pub const fn x86(mut self) -> Rule {
        self.arches = Arches::X86_64;
        self
    }
    /// Restrict to arm64.
    pub const fn arm64(mut self) -> Rule {
        self.arches = Arches::Arm64;
        self
    }
    /// Require a toolchain.
    pub const fn needs(mut self, needs: Needs) -> Rule {
        self.needs = needs;
        self
    }
    /// Only matters when these kconfig symbols are enabled.
    pub const fn only_if(mut self, symbols: &'static [&'static str]) -> Rule {
        self.only_if = symbols;
        self
    }
    /// Give an explicit id.
    pub const fn with_id(mut self, id: &'static str) -> Rule {
        self.explicit_id = id;
        self
    }
}

/// Every rule of every kind, in table order.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    kconfig::RULES
        .iter()
        .chain(cmdline::RULES)
        .chain(sysctl::RULES)
}

/// A kconfig term.
pub const fn k(name: &'static str, expect: Expect) -> Term {
    Term {
        kind: Kind::Kconfig,
        name,
        expect,
    }
}
/// A command-line term.
pub const fn c(name: &'static str, expect: Expect) -> Term {
    Term {
        kind: Kind::Cmdline,
        name,
        expect,
    }
}
/// A sysctl term.
pub const fn s(name: &'static str, expect: Expect) -> Term {
    Term {
        kind: Kind::Sysctl,
        name,
        expect,
    }
}

/// A rule on one term, for both arches and any compiler.
pub const fn rule(
    term: Term,
    group: Group,
    by: &'static [Recommender],
    source: &'static str,
    why: &'static str,
) -> Rule {
    with(Check::One(term), group, by, source, why)
}

/// A rule on a combination of terms.
pub const fn with(
    check: Check,
    group: Group,
    by: &'static [Recommender],
    source: &'static str,
    why: &'static str,
) -> Rule {
    Rule {
        explicit_id: "",
        check,
        arches: Arches::Both,
        needs: Needs::Nothing,
        only_if: &[],
        group,
        by,
        source,
        why,
    }
}

/// Short names for the tables.
pub(crate) mod prelude {
    pub use super::Expect::*;
    pub use super::Group::*;
    pub use super::Recommender::*;
    pub use super::{Check, Needs, Rule, c, k, rule, s, with};

    /// "Off or absent" for command-line switches such as `mitigations=off`.
    pub const NOT_OFF: super::Expect = super::Expect::NoneOf(&["off"]);
    /// Boolean-false spellings the kernel's `kstrtobool` accepts.
    pub const FALSY: super::Expect = super::Expect::NoneOf(&["0", "off", "n", "no", "false"]);
}
