//! Policies: the parser never panics, and an accepted policy is consistent
//! (threshold reachable, one entry per fingerprint).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = testimony::Policy::parse(text) {
        assert!(p.threshold >= 1);
        let groups: std::collections::BTreeSet<_> = p.witnesses.iter().map(|w| &w.group).collect();
        assert!(p.threshold <= groups.len());
        let fprs: std::collections::BTreeSet<_> =
            p.witnesses.iter().map(|w| &w.fingerprint).collect();
        assert_eq!(fprs.len(), p.witnesses.len());
    }
});
