//! Hardening policies (`--harden-policy FILE`): parsing never panics, every id an
//! accepted policy names is a rule of the table, and an accepted policy written back
//! as TOML parses to an equal policy.
#![no_main]

use harden::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = Policy::from_toml(text, "fuzz") else {
        return;
    };
    let written = p.to_toml();
    let again = Policy::from_toml(&written, "fuzz round trip").expect("written policy parses");
    assert_eq!(again, p, "{written}");
});
