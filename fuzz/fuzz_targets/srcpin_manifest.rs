//! Any text either fails to parse or is a valid manifest that writes and re-parses to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = srcpin::Manifest::from_toml_str(text, "fuzz") {
        let written = m.to_toml_string();
        let again = srcpin::Manifest::from_toml_str(&written, "fuzz round trip").expect("a written manifest parses");
        assert_eq!(again, m);
    }
});
