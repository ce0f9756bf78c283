//! Signed testimonies from anyone: cleartext-signed files and detached signatures,
//! checked against the real test keyring. Never a panic, and unverified text is never
//! handed out.
#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use testimony::verify::{Keyring, SignatureOutcome, verify_cleartext, verify_detached};

static KEYRING: LazyLock<Keyring> = LazyLock::new(|| {
    let mut certs = Vec::new();
    certs.extend_from_slice(include_bytes!("../../fixtures/testimony/keys/alice.cert"));
    certs.extend_from_slice(include_bytes!("../../fixtures/testimony/keys/bob.cert"));
    Keyring::from_bytes(&certs, "fixtures").expect("the fixture keyring reads")
});

fuzz_target!(|data: &[u8]| {
    // 2026-07-01: after the seeds' signatures (2026-06-01), before any key expires.
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_782_864_000);
    if let Ok(v) = verify_cleartext(data, &KEYRING, at, "fuzz") {
        let good = v
            .signatures
            .iter()
            .any(|o| matches!(o, SignatureOutcome::Good { .. }));
        assert!(
            good || v.text.is_empty(),
            "text handed out without a good signature"
        );
    }
    let _ = verify_detached(b"samekernel fuzz\n", data, &KEYRING, at, "fuzz");
    let _ = testimony::collect::is_cleartext(data);
});
