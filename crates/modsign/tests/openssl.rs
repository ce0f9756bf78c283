//! Real openssl: keys made at test time, signatures made and checked.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{keypair, run};
use modsign::{Digest, Key, ModuleError, Openssl, VerifyError, trailer};

#[test]
fn a_signed_module_verifies_and_every_tampering_is_named() {
    let t = tempfile::tempdir().unwrap();
    let (key, cert) = keypair(t.path(), "pinned");
    let (other_key, other_cert) = keypair(t.path(), "other");
    let o = Openssl::default();
    let module: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();

    let signed =
        modsign::sign_module(&o, &module, &cert, &Key::File(key.clone()), Digest::Sha512).unwrap();
    let parts = modsign::verify_module(&o, &signed, &cert).unwrap();
    assert_eq!(parts.body, &module[..]);
    assert_eq!(parts.signature[0], 0x30, "DER SEQUENCE");

    // RSA PKCS#1 v1.5 without signed attributes: the same bytes every time.
    let again = o
        .sign(&module, &cert, &Key::File(key.clone()), Digest::Sha512)
        .unwrap();
    assert_eq!(again, parts.signature);

    // One flipped byte in the body.
    let mut flipped = signed.clone();
    flipped[100] ^= 1;
    let e = modsign::verify_module(&o, &flipped, &cert).unwrap_err();
    assert!(
        matches!(e, ModuleError::Verify(VerifyError::BadSignature(_))),
        "{e}"
    );

    // Signed by another key.
    let by_other = modsign::sign_module(
        &o,
        &module,
        &other_cert,
        &Key::File(other_key),
        Digest::Sha512,
    )
    .unwrap();
    let e = modsign::verify_module(&o, &by_other, &cert).unwrap_err();
    assert!(
        matches!(e, ModuleError::Verify(VerifyError::UnknownSigner(_))),
        "{e}"
    );
    modsign::verify_module(&o, &by_other, &other_cert).unwrap();

    // Unsigned, and garbage where the CMS should be.
    assert!(matches!(
        modsign::verify_module(&o, &module, &cert),
        Err(ModuleError::Unsigned)
    ));
    let garbage = trailer::append(&module, b"not a CMS message").unwrap();
    let e = modsign::verify_module(&o, &garbage, &cert).unwrap_err();
    assert!(
        matches!(e, ModuleError::Verify(VerifyError::Malformed(_))),
        "{e}"
    );

    assert!(
        o.certificate_subject(&cert)
            .unwrap()
            .contains("pinned module signing")
    );
    assert!(
        o.certificate_subject(&key).is_err(),
        "a key is not a certificate"
    );
}

#[test]
fn sha256_signatures_verify_too_and_a_missing_openssl_is_named() {
    let t = tempfile::tempdir().unwrap();
    let (key, cert) = keypair(t.path(), "k");
    let o = Openssl::default();
    let sig = o
        .sign(b"tiny", &cert, &Key::File(key.clone()), Digest::Sha256)
        .unwrap();
    o.verify(b"tiny", &sig, &cert).unwrap();
    let e = Openssl::at("/nonexistent/openssl")
        .sign(b"x", &cert, &Key::File(key), Digest::Sha512)
        .unwrap_err();
    assert!(
        e.to_string().starts_with("cannot run /nonexistent/openssl"),
        "{e}"
    );
    assert_eq!(
        format!("{:?}", Key::Pkcs11("pkcs11:token=a;pin-value=1234".into())),
        "Key::Pkcs11(pkcs11:token=a;pin-value=<redacted>)"
    );
}

/// The kernel's own `scripts/sign-file` (compiled from the pinned tree) appends the same
/// bytes as [`modsign::sign_module`] for the same key, certificate, digest and module.
#[test]
#[ignore = "network"]
fn sign_file_from_the_pinned_tree_appends_the_same_bytes() {
    let src =
        PathBuf::from(std::env::var_os("SAMEKERNEL_LINUX_SRC").expect("SAMEKERNEL_LINUX_SRC"));
    let t = tempfile::tempdir().unwrap();
    let (key, cert) = keypair(t.path(), "pinned");
    let sign_file = t.path().join("sign-file");
    run(Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&sign_file)
        .arg(src.join("scripts/sign-file.c"))
        .arg("-lcrypto"));
    let module: Vec<u8> = (0..5000u32).map(|i| (i % 256) as u8).collect();
    let ko = t.path().join("m.ko");
    std::fs::write(&ko, &module).unwrap();
    run(Command::new(&sign_file)
        .arg("sha512")
        .arg(&key)
        .arg(&cert)
        .arg(&ko));
    let theirs = std::fs::read(&ko).unwrap();
    let ours = modsign::sign_module(
        &Openssl::default(),
        &module,
        &cert,
        &Key::File(key),
        Digest::Sha512,
    )
    .unwrap();
    assert_eq!(ours, theirs);
}
