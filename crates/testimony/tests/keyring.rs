//! Keyrings as attackers hand them over: a stale copy of a revoked certificate,
//! secret keys where certificates belong, garbage. Compared with the real `sqv`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use testimony::sign::{sign_cleartext, sign_detached};
use testimony::verify::{Keyring, SignatureOutcome, verify_cleartext, verify_detached};

/// frank's certificate as it was before the revocation, extracted by the real
/// `sq` from the secret key (which was exported before frank was revoked).
fn stale_frank(dir: &Path) -> Vec<u8> {
    let out = Command::new("sq")
        .args(["key", "extract-cert"])
        .arg(keys_dir().join("frank.key"))
        .output()
        .expect("sq is installed (.ci/apt-packages)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Sanity: sqv accepts a signature against the stale copy alone, so the test
    // below would fail without the merge.
    let sig = sign_detached(b"x", &secret("frank"), day_before()).unwrap();
    std::fs::write(dir.join("x"), b"x").unwrap();
    std::fs::write(dir.join("x.asc"), sig).unwrap();
    std::fs::write(dir.join("stale.cert"), &out.stdout).unwrap();
    assert!(
        sqv(dir, &[dir.join("stale.cert")]),
        "stale copy must look unrevoked"
    );
    out.stdout
}

fn sqv(dir: &Path, keyrings: &[std::path::PathBuf]) -> bool {
    let mut c = Command::new("sqv");
    for k in keyrings {
        c.arg("--keyring").arg(k);
    }
    c.arg(dir.join("x.asc")).arg(dir.join("x"));
    c.output().unwrap().status.success()
}

fn revoked(o: &[SignatureOutcome]) -> bool {
    matches!(o, [SignatureOutcome::Revoked { fingerprint, .. }] if *fingerprint == fpr("frank"))
}

#[test]
fn a_stale_certificate_copy_cannot_unrevoke_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let stale = stale_frank(dir.path());
    let current = cert_bytes("frank");
    let signed = sign_cleartext("a=b\n", &secret("frank"), day_before()).unwrap();
    let mut one_file = current.clone();
    one_file.extend(&stale);
    let mut one_file_rev = stale.clone();
    one_file_rev.extend(&current);
    std::fs::write(dir.path().join("both.cert"), &one_file).unwrap();
    std::fs::write(dir.path().join("frank.cert"), &current).unwrap();
    // sqv refuses the one-file keyring and both orders of two keyrings.
    assert!(!sqv(dir.path(), &[dir.path().join("both.cert")]));
    assert!(!sqv(
        dir.path(),
        &[dir.path().join("frank.cert"), dir.path().join("stale.cert")]
    ));
    assert!(!sqv(
        dir.path(),
        &[dir.path().join("stale.cert"), dir.path().join("frank.cert")]
    ));
    let two = |a: &[u8], b: &[u8]| {
        let mut k = Keyring::from_bytes(a, "a").unwrap();
        k.extend(Keyring::from_bytes(b, "b").unwrap());
        k
    };
    for (what, ring) in [
        ("revoked, stale", two(&current, &stale)),
        ("stale, revoked", two(&stale, &current)),
        ("one file", Keyring::from_bytes(&one_file, "both").unwrap()),
        (
            "one file, stale first",
            Keyring::from_bytes(&one_file_rev, "both").unwrap(),
        ),
    ] {
        assert_eq!(
            ring.len(),
            1,
            "{what}: copies of one certificate are merged"
        );
        let v = verify_cleartext(signed.as_bytes(), &ring, at(), "t").unwrap();
        assert!(revoked(&v.signatures), "{what}: {:?}", v.signatures);
        assert!(v.text.is_empty(), "{what}: revoked text handed out");
        let sig = std::fs::read(dir.path().join("x.asc")).unwrap();
        let d = verify_detached(b"x", &sig, &ring, at(), "t").unwrap();
        assert!(revoked(&d), "{what}: detached: {d:?}");
    }
}

#[test]
fn a_secret_key_is_refused_as_a_keyring() {
    let key = std::fs::read(keys_dir().join("alice.key")).unwrap();
    let e = Keyring::from_bytes(&key, "alice.key")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("alice.key: ")
            && e.contains("secret key material")
            && e.contains("gpg --export"),
        "{e}"
    );
}

#[test]
fn a_garbage_keyring_says_what_was_expected() {
    for junk in [
        &b"hello"[..],
        b"\x99\x01",
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n",
        b"",
    ] {
        let e = Keyring::from_bytes(junk, "k.gpg").unwrap_err().to_string();
        assert!(
            e.starts_with("k.gpg: ") && e.contains("expected OpenPGP certificates"),
            "{junk:?}: {e}"
        );
    }
}

#[test]
fn subkey_fingerprints_are_recognised() {
    // bob (made by sq) signs with a subkey; find it and map it to the primary.
    use sequoia_openpgp::parse::Parse;
    let c = sequoia_openpgp::Cert::from_bytes(&cert_bytes("bob")).unwrap();
    let sub = c
        .keys()
        .subkeys()
        .next()
        .unwrap()
        .key()
        .fingerprint()
        .to_hex();
    let sub = testimony::canonical::Fingerprint::parse(&sub).unwrap();
    let ring = all_keys();
    assert_eq!(ring.primary_of_subkey(&sub), Some(fpr("bob")));
    assert_eq!(ring.primary_of_subkey(&fpr("bob")), None);
    assert!(ring.has_primary(&fpr("bob")) && !ring.has_primary(&sub));
}
