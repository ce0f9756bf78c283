//! deb822 control paragraphs and md5sums files.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(c) = detdeb::Control::parse(text, "fuzz")
    {
        // What we write must parse back to the same paragraph.
        let again = detdeb::Control::parse(&c.to_text(), "fuzz").expect("own output parses");
        assert_eq!(again, c);
    }
    let _ = detdeb::Md5Sums::parse(data, "fuzz");
});
