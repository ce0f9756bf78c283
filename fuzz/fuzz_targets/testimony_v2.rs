//! v2 testimonies: whatever the strict parser accepts is already canonical
//! (`to_text(parse(t)) == t`), and the signed-text normalisation is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = testimony::TestimonyV2::parse(text) {
        assert_eq!(t.to_text(), text);
        assert_eq!(testimony::TestimonyV2::parse(&t.to_text()).as_ref(), Ok(&t));
    }
    let (once, _) = testimony::canonical::signed_text_form(text);
    let (twice, changed) = testimony::canonical::signed_text_form(&once);
    assert_eq!(once, twice);
    assert!(!changed);
});
