//! Testifying: a build record and the witness's statement become clearsigned v2
//! and v1 testimonies whose witness fingerprint is the signing key's; a value that
//! cannot be canonical is refused before signing.

mod common;

use std::path::Path;
use std::time::SystemTime;

use common::{fpr, keyring, keys_dir, record_with_files};
use testimony::signer::Signer;
use testimony::testify::{Testify, TestifyError, v1_path};
use testimony::v1::V1Testimony;
use testimony::v2::TestimonyV2;
use testimony::verify::verify_cleartext;

fn request(name: &str) -> Testify {
    Testify {
        name: name.into(),
        code_review: 4,
        computer_trust: 50,
        jurisdiction: Some("Iceland".into()),
        computer_system: None,
        canary: None,
        statement: vec!["built twice".into()],
        build_date: 1_780_185_600,
        with_v1: true,
    }
}

#[test]
fn testify_signs_v2_and_v1_and_refuses_non_canonical_values() {
    let rec = record_with_files(3);
    let signer = Signer::from_key_file(&keys_dir().join("alice.key")).unwrap();
    let signed = request("alice").sign(&rec, &signer).unwrap();
    let alice = keyring(&["alice"]);
    let v = verify_cleartext(signed.v2.as_bytes(), &alice, SystemTime::now(), "v2").unwrap();
    let t = TestimonyV2::parse(&v.text).unwrap();
    assert_eq!(
        (&t.witness.fingerprint, t.debs[0].sha256.as_str()),
        (&fpr("alice"), rec.debs[0].sha256.as_str())
    );
    assert_eq!(t.witness.statement, ["built twice"]);
    let v1 = signed.v1.expect("with_v1");
    let v = verify_cleartext(v1.as_bytes(), &alice, SystemTime::now(), "v1").unwrap();
    let fields = V1Testimony::parse(&v.text).fields().unwrap();
    assert_eq!(fields.name.as_deref(), Some("alice"));
    assert_eq!(fields.jurisdiction.as_deref(), Some("Iceland"));
    assert_eq!(fields.checksums[0].sha256, rec.debs[0].sha256);
    // A value that cannot be canonical is refused before signing.
    let bad = request("alice\nwitness-code-review=10").sign(&rec, &signer);
    assert!(matches!(bad, Err(TestifyError::NotCanonical(_))), "{bad:?}");
    let without = Testify {
        with_v1: false,
        ..request("alice")
    };
    assert_eq!(without.sign(&rec, &signer).unwrap().v1, None);
}

#[test]
fn the_v1_form_goes_beside_the_v2_file() {
    assert_eq!(
        v1_path(Path::new("d/alice.asc")),
        Path::new("d/alice.v1.asc")
    );
    assert_eq!(
        v1_path(Path::new("alice.txt")),
        Path::new("alice.txt.v1.asc")
    );
}

#[test]
fn a_missing_key_file_is_named() {
    let missing = keys_dir().join("nobody.key");
    let e = Signer::from_key_file(&missing)
        .err()
        .expect("no such key file");
    let e = e.to_string();
    assert!(
        e.starts_with("reading key ") && e.contains("nobody.key"),
        "{e}"
    );
}
