//! Keyrings as users hand them over (`--keyring`: armored blocks or binary
//! certificates): reading never panics, and a keyring that reads is not empty.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(k) = testimony::verify::Keyring::from_bytes(data, "fuzz") {
        assert!(!k.is_empty());
    }
});
