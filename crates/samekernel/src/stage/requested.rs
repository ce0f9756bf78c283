//! What the config *asked for* versus what kbuild resolved: `olddefconfig` and
//! `allnoconfig` drop an option silently when a dependency is missing (no pahole →
//! no `DEBUG_INFO_BTF`), so every difference is listed, and losing a guarded option
//! is an error unless the caller allowed it by name.

use std::collections::BTreeMap;
use std::fmt;

use kbuild_env::{ConfigValue, KernelConfig};

/// Options whose silent loss changes what the kernel offers its users (BTF: every
/// BPF CO-RE program on the machine needs it), so losing one stops the build.
pub const GUARDED: &[&str] = &["CONFIG_DEBUG_INFO_BTF", "CONFIG_DEBUG_INFO_BTF_MODULES"];

/// The requested config: every `CONFIG_X=…` / `# CONFIG_X is not set` line of the base
/// and the fragments, the last one of a symbol winning (as Kconfig reads them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requested(BTreeMap<String, ConfigValue>);

/// How a requested option came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Asked for (`y`, `m` or a value), resolved off or absent.
    Dropped,
    /// Asked off, resolved on.
    Enabled,
    /// Another value (`m` → `y`, another string or number).
    Changed,
}

/// One requested option that kbuild resolved differently.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigChange {
    /// The symbol, with `CONFIG_`.
    pub symbol: String,
    /// What kind of change.
    pub kind: ChangeKind,
    /// The requested value as Kconfig writes it.
    pub requested: String,
    /// The resolved value (`None`: not in the resolved `.config` at all).
    pub resolved: Option<String>,
}

impl fmt::Display for ConfigChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ChangeKind::Dropped => "dropped",
            ChangeKind::Enabled => "enabled",
            ChangeKind::Changed => "changed",
        };
        let resolved = self.resolved.as_deref().unwrap_or("absent");
        write!(
            f,
            "{kind}: {} requested {}, resolved {resolved}",
            self.symbol, self.requested
        )
    }
}

impl Requested {
    /// Reads config text leniently: lines that are not a symbol are skipped (Kconfig
    /// warns about them itself), a later line overrides an earlier one.
    pub fn parse(text: &str) -> Requested {
        let mut map = BTreeMap::new();
        for line in text.lines() {
            let Ok(one) = KernelConfig::parse(line, "") else {
                continue;
            };
            if let Some((name, value)) = one.symbols().next() {
                map.insert(name.to_owned(), value.clone());
            }
        }
        Requested(map)
    }

    /// The value asked for `symbol`.
    pub fn get(&self, symbol: &str) -> Option<&ConfigValue> {
        self.0.get(symbol)
    }

    /// `true` if `symbol` is asked to be `y` or `m`.
    pub fn asks_for(&self, symbol: &str) -> bool {
        self.get(symbol).is_some_and(ConfigValue::is_enabled)
    }

    /// Every requested option `resolved` does not have as asked, in symbol order.
    pub fn changes_in(&self, resolved: &KernelConfig) -> Vec<ConfigChange> {
        self.0
            .iter()
            .filter_map(|(symbol, want)| change(symbol, want, resolved.get(symbol)))
            .collect()
    }
}

fn change(symbol: &str, want: &ConfigValue, got: Option<&ConfigValue>) -> Option<ConfigChange> {
    let got_set = got.is_some_and(ConfigValue::is_set);
    let kind = match (want.is_set(), got_set) {
        (false, false) => return None,
        (false, true) => ChangeKind::Enabled,
        (true, false) => ChangeKind::Dropped,
        (true, true) if Some(want) == got => return None,
        (true, true) => ChangeKind::Changed,
    };
    Some(ConfigChange {
        symbol: symbol.to_owned(),
        kind,
        requested: want.to_string(),
        resolved: got.map(ToString::to_string),
    })
}

/// The guarded options in `changes` that were dropped and not in `allowed`.
pub fn unallowed_losses<'c>(changes: &'c [ConfigChange], allowed: &[String]) -> Vec<&'c str> {
    changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Dropped && GUARDED.contains(&c.symbol.as_str()))
        .map(|c| c.symbol.as_str())
        .filter(|s| {
            !allowed
                .iter()
                .any(|a| a == s || format!("CONFIG_{a}") == *s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn resolved(text: &str) -> KernelConfig {
        KernelConfig::parse(text, "test").unwrap()
    }

    #[test]
    fn a_dropped_btf_is_an_unallowed_loss_until_allowed() {
        let req = Requested::parse(
            "CONFIG_DEBUG_INFO_BTF=y\nCONFIG_A=m\n# CONFIG_B is not set\nCONFIG_S=\"x\"\n",
        );
        let got = resolved("# CONFIG_DEBUG_INFO_BTF is not set\nCONFIG_A=y\nCONFIG_S=\"y\"\n");
        let changes = req.changes_in(&got);
        let summary: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            summary,
            [
                "changed: CONFIG_A requested m, resolved y",
                "dropped: CONFIG_DEBUG_INFO_BTF requested y, resolved is not set",
                "changed: CONFIG_S requested \"x\", resolved \"y\"",
            ]
        );
        assert_eq!(unallowed_losses(&changes, &[]), ["CONFIG_DEBUG_INFO_BTF"]);
        assert!(unallowed_losses(&changes, &["DEBUG_INFO_BTF".into()]).is_empty());
        assert!(unallowed_losses(&changes, &["CONFIG_DEBUG_INFO_BTF".into()]).is_empty());
    }

    #[test]
    fn the_last_request_wins_and_noise_is_skipped() {
        let req = Requested::parse("CONFIG_A=y\nnot a config line\nCONFIG_A=n\n# comment\n");
        assert_eq!(req.get("CONFIG_A"), Some(&ConfigValue::No));
        assert!(req.changes_in(&resolved("")).is_empty());
        let on = req.changes_in(&resolved("CONFIG_A=y\n"));
        assert_eq!(on[0].kind, ChangeKind::Enabled);
    }

    proptest! {
        #[test]
        fn a_config_requested_as_resolved_has_no_changes(
            syms in proptest::collection::btree_map("[A-Z][A-Z0-9_]{0,8}", 0..3u8, 0..20)
        ) {
            let text: String = syms
                .iter()
                .map(|(s, v)| match v {
                    0 => format!("CONFIG_{s}=y\n"),
                    1 => format!("CONFIG_{s}=m\n"),
                    _ => format!("# CONFIG_{s} is not set\n"),
                })
                .collect();
            let req = Requested::parse(&text);
            prop_assert!(req.changes_in(&resolved(&text)).is_empty());
            // Resolving to nothing drops exactly the enabled ones.
            let dropped = req.changes_in(&resolved("")).len();
            prop_assert_eq!(dropped, syms.values().filter(|v| **v < 2).count());
        }
    }
}
