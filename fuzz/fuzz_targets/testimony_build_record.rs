//! Build records: whatever the strict parser accepts is already canonical.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = testimony::BuildRecord::parse(text) {
        assert_eq!(r.to_text(), text);
        assert_eq!(testimony::BuildRecord::parse(&r.to_text()).as_ref(), Ok(&r));
    }
});
