//! Any bytes either carry no trailer, a malformed one (typed error, only when they end
//! with the magic), or split into body + signature that cover the input exactly and
//! append back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modsign::trailer::{self, INFO_LEN, MAGIC};

fuzz_target!(|data: &[u8]| {
    match trailer::split(data) {
        Ok(None) => assert!(!data.ends_with(MAGIC)),
        Err(_) => assert!(data.ends_with(MAGIC)),
        Ok(Some(s)) => {
            assert!(!s.body.is_empty() && !s.signature.is_empty());
            assert_eq!(s.body.len() + s.signature.len() + INFO_LEN + MAGIC.len(), data.len());
            assert_eq!(trailer::strip(data).unwrap(), s.body);
            if let Ok(again) = trailer::append(s.body, s.signature) {
                assert_eq!(again, data);
            } else {
                // Only a body that itself looks signed, or an oversized signature, is refused.
                assert!(s.body.ends_with(MAGIC) || s.signature.len() > trailer::MAX_SIGNATURE_LEN);
            }
        }
    }
});
