//! Any text either fails to parse as a kernel .config or writes back byte for byte and
//! re-parses to the same config; the hazard lint never panics on it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = kbuild_env::KernelConfig::parse(text, "fuzz") {
        assert_eq!(c.to_text(), text);
        let again = kbuild_env::KernelConfig::parse(&c.to_text(), "fuzz round trip").expect("written config parses");
        assert_eq!(again, c);
        for (name, value) in c.symbols() {
            assert_eq!(c.get(name), Some(value));
        }
        let _ = kbuild_env::lint(&c, &kbuild_env::LintContext::default());
    }
});
