//! v1 testimonies: parsing never fails or panics, writing gives back the input
//! byte for byte, and validation never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let t = testimony::V1Testimony::parse(text);
    assert_eq!(t.to_text(), text);
    let _ = t.fields();
    let _ = testimony::verdict::Testimony::parse(text);
});
