//! Signers against the real gpg: the hand-off signs with the named key, and a
//! testimony larger than a pipe comes back (both pipes drained).

mod common;

use std::time::SystemTime;

use common::{Gpg, fpr, keyring, record_with_files, witness};
use testimony::signer::Signer;
use testimony::v2::TestimonyV2;
use testimony::verify::{Verified, verify_cleartext};

/// The signature checked against alice's certificate, now.
fn checked_by_alice(signed: &str) -> Verified {
    verify_cleartext(
        signed.as_bytes(),
        &keyring(&["alice"]),
        SystemTime::now(),
        "gpg",
    )
    .unwrap()
}

fn gpg_signer(home: &Gpg, id: &str) -> Signer {
    Signer::Gpg(id.into(), Some(home.0.path().to_path_buf()))
}

#[test]
fn gpg_hand_off_signs_with_the_named_key() {
    let home = Gpg::with_secret("alice");
    let s = gpg_signer(&home, fpr("alice").as_str());
    assert_eq!(s.fingerprint().unwrap(), fpr("alice"));
    let signed = s.clearsign("a=b\n").unwrap();
    let v = checked_by_alice(&signed);
    assert_eq!(v.good_signers()[0], &fpr("alice"));
    assert_eq!(v.text, "a=b\n");
    assert!(
        gpg_signer(&home, "nobody@example.org")
            .fingerprint()
            .is_err()
    );
}

/// Issue 12.8: a default build's testimony (~1 MB) deadlocked `gpg
/// --clearsign` (both pipes full). 2.5 MB through real gpg must come back.
#[test]
fn gpg_clearsign_of_a_testimony_larger_than_a_pipe_returns() {
    let home = Gpg::with_secret("alice");
    let s = gpg_signer(&home, fpr("alice").as_str());
    let record = record_with_files(24_000);
    let text = TestimonyV2::from_build_record(&record, witness("alice"), 1).to_text();
    assert!(text.len() > 2 << 20, "{} bytes", text.len());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(s.clearsign(&text).map(|signed| (signed, text)));
    });
    let (signed, text) = rx
        .recv_timeout(std::time::Duration::from_secs(300))
        .expect("gpg --clearsign hung on a large testimony")
        .unwrap();
    let v = checked_by_alice(&signed);
    assert_eq!(v.text, text);
}
