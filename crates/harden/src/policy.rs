//! Hardening policy: which rules are required, which are relaxed and why.
//!
//! ```toml
//! [require]
//! groups = ["self-protection"]            # every rule of these groups
//! rules = ["sysctl:kernel.kptr_restrict"] # plus these ids
//!
//! [relax]                                 # minus these, each with its reason
//! "kconfig:RANDSTRUCT_FULL" = "no seed pinned in the manifest"
//! ```
//!
//! Unknown groups, unknown rule ids and empty reasons are errors: a typo must not quietly
//! drop a requirement.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rules::{self, Group, Rule};

/// Rules the default policy does not require, with the reason.
pub const DEFAULT_RELAXED: &[(&str, &str)] = &[
    (
        "kconfig:RANDSTRUCT_FULL",
        "structure randomisation needs a seed; a seed pinned in a public manifest makes the layout public (opt in with a pinned seed)",
    ),
    (
        "kconfig:GCC_PLUGIN_LATENT_ENTROPY",
        "the plugin's constants come from /dev/urandom unless -frandom-seed is pinned, and a seed pinned in a public manifest makes them public: no entropy left to gain",
    ),
    (
        "kconfig:MODULE_SIG",
        "a build-time signing key cannot be reproduced; samekernel pins modules by testimony (or build without MODULES)",
    ),
    (
        "kconfig:MODULE_SIG_ALL",
        "as kconfig:MODULE_SIG: no reproducible signing key",
    ),
    (
        "kconfig:MODULE_SIG_SHA512",
        "as kconfig:MODULE_SIG: no reproducible signing key",
    ),
    (
        "kconfig:MODULE_SIG_FORCE",
        "as kconfig:MODULE_SIG: enforcing without signatures would refuse every module",
    ),
];

/// The module-signing rules a build with a pinned module certificate meets
/// ([`Policy::require_module_signing`]).
pub const MODULE_SIGNING_WITH_PINNED_CERT: &[&str] = &[
    "kconfig:MODULE_SIG",
    "kconfig:MODULE_SIG_SHA512",
    "kconfig:MODULE_SIG_FORCE",
];

/// A parsed, validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    groups: BTreeSet<Group>,
    rules: BTreeSet<String>,
    relaxed: BTreeMap<String, String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    require: RequireSection,
    #[serde(default)]
    relax: BTreeMap<String, String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequireSection {
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    rules: Vec<String>,
}

impl Default for Policy {
    /// Every self-protection rule (those the target cannot meet are NOT APPLICABLE, never
    /// required failures), minus [`DEFAULT_RELAXED`].
    fn default() -> Policy {
        Policy {
            groups: BTreeSet::from([Group::SelfProtection]),
            rules: BTreeSet::new(),
            relaxed: DEFAULT_RELAXED
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

impl Policy {
    /// A policy requiring nothing (report only).
    pub fn report_only() -> Policy {
        Policy {
            groups: BTreeSet::new(),
            rules: BTreeSet::new(),
            relaxed: BTreeMap::new(),
        }
    }

    /// Parses and validates a TOML policy.
    pub fn from_toml(text: &str, origin: &str) -> Result<Policy> {
        let bad = |problem: String| Error::Policy {
            origin: origin.into(),
            problem,
        };
        let file: PolicyFile = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
        let known: BTreeSet<String> = rules::all().map(Rule::id).collect();
        let mut groups = BTreeSet::new();
        for g in &file.require.groups {
            groups.insert(Group::from_name(g).ok_or_else(|| bad(format!("unknown group {g:?}")))?);
        }
        for id in file.require.rules.iter().chain(file.relax.keys()) {
            if !known.contains(id) {
                return Err(bad(format!("unknown rule id {id:?}")));
            }
        }
        if let Some((id, _)) = file.relax.iter().find(|(_, why)| why.trim().is_empty()) {
            return Err(bad(format!("relaxed rule {id:?} needs a reason")));
        }
        Ok(Policy {
            groups,
            rules: file.require.rules.into_iter().collect(),
            relaxed: file.relax,
        })
    }

    /// The policy as TOML (parses back to an equal policy).
    pub fn to_toml(&self) -> String {
        let file = PolicyFile {
            require: RequireSection {
                groups: self.groups.iter().map(|g| g.name().to_owned()).collect(),
                rules: self.rules.iter().cloned().collect(),
            },
            relax: self.relaxed.clone(),
        };
        toml::to_string(&file).expect("policy serializes")
    }

    /// Is `rule` required?
    pub fn is_required(&self, rule: &Rule) -> bool {
        let id = rule.id();
        (self.groups.contains(&rule.group) || self.rules.contains(&id))
            && !self.relaxed.contains_key(&id)
    }

    /// Why `id` is relaxed, if it is.
    pub fn relaxed_reason(&self, id: &str) -> Option<&str> {
        self.relaxed.get(id).map(String::as_str)
    }

    /// Module signing with a pinned certificate (two-stage signing: the certificate is
    /// built in, the modules are signed after the build): requires the
    /// [`MODULE_SIGNING_WITH_PINNED_CERT`] rules; `MODULE_SIG_ALL` stays relaxed, as the
    /// build must not sign (that needs the key and is not reproducible).
    pub fn require_module_signing(&mut self) {
        for id in MODULE_SIGNING_WITH_PINNED_CERT {
            self.require(id);
        }
        self.relaxed.insert(
            "kconfig:MODULE_SIG_ALL".to_owned(),
            "modules are signed after the build with the pinned certificate's key (two-stage signing); signing during the build would need the key and differ per build".to_owned(),
        );
    }

    /// Requires one more rule (e.g. the RANDSTRUCT rule once a seed is pinned).
    pub fn require(&mut self, id: &str) {
        self.relaxed.remove(id);
        self.rules.insert(id.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_requires_self_protection_but_not_randstruct() {
        let p = Policy::default();
        let find = |id: &str| rules::all().find(|r| r.id() == id).unwrap();
        assert!(p.is_required(find("kconfig:STACKPROTECTOR_STRONG")));
        assert!(!p.is_required(find("kconfig:RANDSTRUCT_FULL")));
        assert!(!p.is_required(find("kconfig:DEVMEM")));
        assert_eq!(Policy::from_toml(&p.to_toml(), "rt").unwrap(), p);
    }

    #[test]
    fn a_pinned_module_cert_requires_signing_but_not_signing_at_build_time() {
        let mut p = Policy::default();
        let find = |id: &str| rules::all().find(|r| r.id() == id).unwrap();
        assert!(!p.is_required(find("kconfig:MODULE_SIG_FORCE")));
        p.require_module_signing();
        for id in MODULE_SIGNING_WITH_PINNED_CERT {
            assert!(p.is_required(find(id)), "{id}");
        }
        assert!(!p.is_required(find("kconfig:MODULE_SIG_ALL")));
        assert!(
            p.relaxed_reason("kconfig:MODULE_SIG_ALL")
                .unwrap()
                .contains("two-stage")
        );
        assert_eq!(Policy::from_toml(&p.to_toml(), "rt").unwrap(), p);
    }

    #[test]
    fn typos_are_errors_naming_the_file() {
        let e =
            Policy::from_toml("[require]\ngroups = [\"self-protektion\"]\n", "p.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.toml: bad hardening policy: unknown group \"self-protektion\""
        );
        let e = Policy::from_toml("[relax]\n\"kconfig:NOPE\" = \"x\"\n", "p.toml").unwrap_err();
        assert!(e.to_string().contains("unknown rule id"), "{e}");
        let e = Policy::from_toml("[relax]\n\"kconfig:DEVMEM\" = \" \"\n", "p.toml").unwrap_err();
        assert!(e.to_string().contains("needs a reason"), "{e}");
        assert!(Policy::from_toml("[requires]\n", "p.toml").is_err());
    }

    fn any_id() -> impl Strategy<Value = String> {
        let ids: Vec<String> = rules::all().map(Rule::id).collect();
        proptest::sample::select(ids)
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errors(s in "\\PC{0,200}") {
            let _ = Policy::from_toml(&s, "p");
        }

        #[test]
        fn policies_round_trip(groups in proptest::sample::subsequence(Group::ALL.to_vec(), 0..5),
                               rules in proptest::collection::btree_set(any_id(), 0..8),
                               relaxed in proptest::collection::btree_map(any_id(), "[a-z ]{1,20}[a-z]", 0..5)) {
            let p = Policy { groups: groups.into_iter().collect(), rules, relaxed };
            prop_assert_eq!(Policy::from_toml(&p.to_toml(), "rt").unwrap(), p);
        }
    }
}
