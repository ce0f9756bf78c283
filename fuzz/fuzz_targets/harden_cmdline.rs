//! Kernel command lines (`/proc/cmdline` of a machine under report, `--cmdline` text):
//! parsing never panics, names come out normalized (`-` read as `_`, never empty), and
//! the parsed parameters written back one quoted word each parse to the same command line.
#![no_main]

use harden::Cmdline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(c) = Cmdline::parse(text, "fuzz") else {
        return;
    };
    let mut words = Vec::new();
    for (name, value) in c.params() {
        assert!(!name.is_empty() && !name.contains('-'), "{name:?}");
        assert!(!name.contains('"') && !name.contains('='), "{name:?}");
        assert!(!value.is_some_and(|v| v.contains('"')), "{value:?}");
        assert_eq!(c.get(name), Some(value));
        words.push(match value {
            Some(v) => format!("\"{name}={v}\""),
            None => format!("\"{name}\""),
        });
    }
    assert!(words.len() <= text.len() / 2 + 1);
    let again = Cmdline::parse(&words.join(" "), "fuzz round trip").expect("written back parses");
    assert_eq!(again, c);
});
