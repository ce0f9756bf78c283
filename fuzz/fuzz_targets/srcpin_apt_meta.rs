//! What `pin` reads from Debian: `apt-cache policy` / `apt-cache show` output and the
//! package's changelog (its newest entry's date becomes SOURCE_DATE_EPOCH). Never a
//! panic (overflow checks are on in fuzz builds).
#![no_main]

use libfuzzer_sys::fuzz_target;
use srcpin::pin;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(c) = pin::parse_candidate(text) {
        assert!(!c.is_empty() && c != "(none)");
    }
    let _ = pin::parse_stanza(text);
    let _ = pin::changelog_epoch(text);
    for line in text.lines() {
        let _ = pin::rfc2822_epoch(line);
    }
});
