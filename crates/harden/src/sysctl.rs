//! Sysctl values: parsed from `sysctl -a` / sysctl.conf text, or read from `/proc/sys`.
//!
//! Text lines are `key = value` or `key=value`; `#` and `;` start comments; a leading `-`
//! (sysctl.conf's "ignore errors") is dropped; keys may use `/` instead of `.`. Values keep
//! their inner whitespace collapsed to single spaces, as `sysctl` prints multi-value entries.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

/// The largest sysctl listing accepted.
pub const MAX_LEN: usize = 16 * 1024 * 1024;

/// Sysctl key (dotted) → value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sysctls {
    values: BTreeMap<String, String>,
}

impl Sysctls {
    /// Parses a listing; later lines override earlier ones (as sysctl.d does).
    pub fn parse(text: &str, origin: &str) -> Result<Sysctls> {
        if text.len() > MAX_LEN {
            return Err(Error::Sysctl {
                origin: origin.into(),
                line: 0,
                problem: format!("longer than {MAX_LEN} bytes"),
            });
        }
        let mut values = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            let bad = |problem: &str| Error::Sysctl {
                origin: origin.into(),
                line: i + 1,
                problem: problem.into(),
            };
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| bad("no '=' in the line"))?;
            let key = normalize_key(key.trim().trim_start_matches('-'));
            if key.is_empty() || key.split('.').any(str::is_empty) {
                return Err(bad("empty key or key part"));
            }
            values.insert(key, collapse(value));
        }
        Ok(Sysctls { values })
    }

    /// Reads each of `keys` from `proc_sys` (normally `/proc/sys`); keys whose file does not
    /// exist are left out (the feature is not built in), other read errors are errors.
    pub fn read_proc(
        proc_sys: &Path,
        keys: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Result<Sysctls> {
        let mut values = BTreeMap::new();
        for key in keys {
            let key = normalize_key(key.as_ref());
            let path = proc_sys.join(key.replace('.', "/"));
            match std::fs::read_to_string(&path) {
                Ok(v) => {
                    values.insert(key, collapse(&v));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
        Ok(Sysctls { values })
    }

    /// The value of `key` (dotted or slashed).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(&normalize_key(key)).map(String::as_str)
    }

    /// Sets a value (for building inputs in code).
    pub fn insert(&mut self, key: &str, value: &str) {
        self.values.insert(normalize_key(key), collapse(value));
    }

    /// Every key and value, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

fn normalize_key(key: &str) -> String {
    key.trim().replace('/', ".")
}

fn collapse(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sysctl_a_and_conf_shapes() {
        let s = Sysctls::parse(
            "# comment\nkernel.kptr_restrict = 1\n-kernel/dmesg_restrict=1\n; x\nnet.ipv4.tcp_rmem = 4096\t131072  6291456\nkernel.kptr_restrict = 2\n",
            "t",
        )
        .unwrap();
        assert_eq!(s.get("kernel.kptr_restrict"), Some("2"));
        assert_eq!(s.get("kernel/dmesg_restrict"), Some("1"));
        assert_eq!(s.get("net.ipv4.tcp_rmem"), Some("4096 131072 6291456"));
    }

    #[test]
    fn bad_lines_are_errors_with_line_numbers() {
        let e = Sysctls::parse("a.b = 1\njunk\n", "conf").unwrap_err();
        assert_eq!(e.to_string(), "conf:2: bad sysctl line: no '=' in the line");
        assert!(Sysctls::parse("a..b = 1", "c").is_err());
    }

    #[test]
    fn read_proc_skips_absent_keys() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("kernel")).unwrap();
        std::fs::write(d.path().join("kernel/kptr_restrict"), "1\n").unwrap();
        let s = Sysctls::read_proc(d.path(), ["kernel.kptr_restrict", "kernel.nope"]).unwrap();
        assert_eq!(s.get("kernel.kptr_restrict"), Some("1"));
        assert_eq!(s.get("kernel.nope"), None);
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errors(s in "\\PC{0,300}") {
            let _ = Sysctls::parse(&s, "p");
        }

        #[test]
        fn written_listing_parses_back(m in proptest::collection::btree_map(
            "[a-z][a-z0-9_]{0,6}(\\.[a-z0-9_]{1,6}){0,3}", "[0-9a-z]{1,4}( [0-9a-z]{1,4}){0,2}", 0..20)) {
            let text: String = m.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
            let s = Sysctls::parse(&text, "p").unwrap();
            let back: BTreeMap<_, _> = s.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
            prop_assert_eq!(back, m);
        }
    }
}
