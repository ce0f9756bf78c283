//! The kernel command line, parsed the way the kernel's `next_arg()` splits it.
//!
//! Words are separated by whitespace outside double quotes; `name=value` splits at the first
//! `=`; quotes are removed; dashes in names equal underscores (`parameq()`); everything after a
//! lone `--` belongs to init and is ignored. The last occurrence of a name wins, as it does for
//! almost every kernel parameter.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// The largest command line accepted (x86's COMMAND_LINE_SIZE is 2048, arm64's 2048; we
/// allow generous slack but stay bounded).
pub const MAX_LEN: usize = 64 * 1024;

/// A parsed command line: parameter name → value (`None` for a bare flag).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmdline {
    params: BTreeMap<String, Option<String>>,
}

impl Cmdline {
    /// Parses `text` (e.g. the contents of /proc/cmdline).
    pub fn parse(text: &str, origin: &str) -> Result<Cmdline> {
        if text.len() > MAX_LEN {
            return Err(Error::Cmdline {
                origin: origin.into(),
                problem: format!("longer than {MAX_LEN} bytes"),
            });
        }
        if text.contains('\0') {
            return Err(Error::Cmdline {
                origin: origin.into(),
                problem: "contains a NUL byte".into(),
            });
        }
        let mut params = BTreeMap::new();
        for word in split_words(text) {
            if word == "--" {
                break;
            }
            let (name, value) = match word.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (word.as_str(), None),
            };
            if name.is_empty() {
                continue;
            }
            params.insert(normalize(name), value);
        }
        Ok(Cmdline { params })
    }

    /// `Some(value)` if `name` is present (`Some(None)` for a bare flag).
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.params.get(&normalize(name)).map(|v| v.as_deref())
    }

    /// Every parameter, by normalized name.
    pub fn params(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
    }
}

/// `parameq()` treats `-` and `_` alike in names.
fn normalize(name: &str) -> String {
    name.replace('-', "_")
}

/// Splits at whitespace outside double quotes and drops the quotes.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut started = false;
    for ch in text.chars() {
        match ch {
            '"' => {
                in_quotes = !in_quotes;
                started = true;
            }
            c if c.is_ascii_whitespace() && !in_quotes => {
                if started {
                    words.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn flags_values_quotes_and_init_args() {
        let c = Cmdline::parse(
            "BOOT_IMAGE=/vmlinuz root=UUID=ab-cd ro quiet  slab-nomerge lsm=\"lockdown,yama\" -- single",
            "t",
        )
        .unwrap();
        assert_eq!(c.get("root"), Some(Some("UUID=ab-cd")));
        assert_eq!(c.get("slab_nomerge"), Some(None));
        assert_eq!(c.get("slab-nomerge"), Some(None));
        assert_eq!(c.get("lsm"), Some(Some("lockdown,yama")));
        assert_eq!(c.get("single"), None, "after -- belongs to init");
        assert_eq!(c.get("quiet"), Some(None));
    }

    #[test]
    fn last_occurrence_wins() {
        let c = Cmdline::parse("mitigations=off mitigations=auto", "t").unwrap();
        assert_eq!(c.get("mitigations"), Some(Some("auto")));
    }

    #[test]
    fn oversized_and_nul_are_errors_naming_the_origin() {
        let e = Cmdline::parse(&"a ".repeat(MAX_LEN), "/proc/cmdline").unwrap_err();
        assert!(e.to_string().starts_with("/proc/cmdline: "), "{e}");
        assert!(Cmdline::parse("a\0b", "x").is_err());
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errors_without_panicking(s in "\\PC{0,200}") {
            let _ = Cmdline::parse(&s, "p");
        }

        #[test]
        fn rendered_params_parse_back(params in proptest::collection::btree_map(
            "[a-z][a-z0-9_.]{0,12}", proptest::option::of("[a-zA-Z0-9,=:/._-]{0,12}"), 0..12)) {
            let text: Vec<String> = params.iter().map(|(k, v)| match v {
                Some(v) => format!("{k}=\"{v}\""),
                None => k.clone(),
            }).collect();
            let c = Cmdline::parse(&text.join(" "), "p").unwrap();
            for (k, v) in &params {
                prop_assert_eq!(c.get(k), Some(v.as_deref()));
            }
            prop_assert_eq!(c.params().count(), params.len());
        }
    }
}
