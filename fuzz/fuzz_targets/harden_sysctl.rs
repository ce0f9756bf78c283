//! Sysctl listings (`sysctl -a` output or sysctl.conf text from a machine under report):
//! parsing never panics, keys are dotted with no empty part, values have their blanks
//! collapsed, and the parsed values written back as `- key = value` lines parse the same.
#![no_main]

use harden::Sysctls;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(s) = Sysctls::parse(text, "fuzz") else {
        return;
    };
    let mut lines = String::new();
    for (key, value) in s.iter() {
        assert!(!key.contains('/') && !key.contains('='), "{key:?}");
        assert!(key.split('.').all(|p| !p.is_empty()), "{key:?}");
        assert_eq!(value.split_whitespace().collect::<Vec<_>>().join(" "), value);
        assert_eq!(s.get(key), Some(value));
        // A leading `- ` (sysctl.conf's "ignore errors") keeps a key that starts with `#`,
        // `;` or `-` a key.
        lines.push_str(&format!("- {key} = {value}\n"));
    }
    let again = Sysctls::parse(&lines, "fuzz round trip").expect("written back parses");
    assert_eq!(again, s);
});
