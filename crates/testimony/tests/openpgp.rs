//! Signatures: our cleartext/detached signing and verification, interop with the
//! real gpg and sqv, and the outcomes for expired, revoked, unknown and bad keys.

mod common;

use std::process::Command;
use std::time::SystemTime;

use common::*;
use testimony::sign::{sign_cleartext, sign_detached};
use testimony::verify::{SignatureOutcome, verify_cleartext, verify_detached};

fn good(fpr_name: &str) -> impl Fn(&SignatureOutcome) -> bool {
    let f = fpr(fpr_name);
    move |o| matches!(o, SignatureOutcome::Good { fingerprint, .. } if *fingerprint == f)
}

#[test]
fn ours_round_trip_and_subkey_maps_to_primary() {
    let text = v2_for("bob", &record()).to_text();
    // bob's key (made by sq) signs with a subkey: we must report the primary.
    let signed = sign_cleartext(&text, &secret("bob"), day_before()).unwrap();
    let v = verify_cleartext(signed.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert_eq!(v.signatures.len(), 1);
    assert!(good("bob")(&v.signatures[0]), "{:?}", v.signatures);
    assert_eq!(v.text, text);
    assert!(!v.outside.any());
}

#[test]
fn expired_revoked_unknown_and_bad_are_distinct() {
    let text = "a=b\n";
    let long_ago = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_704_200_000); // 2024-01-02
    let erin = sign_cleartext(text, &secret("erin"), long_ago).unwrap();
    let v = verify_cleartext(erin.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert!(
        matches!(&v.signatures[..], [SignatureOutcome::Expired { fingerprint }] if *fingerprint == fpr("erin")),
        "{v:?}"
    );
    assert!(
        v.text.is_empty(),
        "text of an expired key's signature must not be handed out"
    );

    let frank = sign_cleartext(text, &secret("frank"), day_before()).unwrap();
    let v = verify_cleartext(frank.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert!(
        matches!(&v.signatures[..], [SignatureOutcome::Revoked { fingerprint, .. }] if *fingerprint == fpr("frank")),
        "{v:?}"
    );

    let mallory = sign_cleartext(text, &secret("mallory"), day_before()).unwrap();
    let v = verify_cleartext(mallory.as_bytes(), &keyring(&["alice", "bob"]), at(), "t").unwrap();
    assert!(
        matches!(&v.signatures[..], [SignatureOutcome::UnknownKey { .. }]),
        "{v:?}"
    );

    let alice = sign_cleartext(text, &secret("alice"), day_before()).unwrap();
    let tampered = alice.replace("a=b", "a=c");
    let v = verify_cleartext(tampered.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert!(
        matches!(&v.signatures[..], [SignatureOutcome::Bad { .. }]),
        "{v:?}"
    );
    assert!(v.text.is_empty());

    // A signature from the future (made after the reference time) does not count.
    let v = verify_cleartext(
        alice.as_bytes(),
        &all_keys(),
        day_before() - std::time::Duration::from_secs(86400),
        "t",
    )
    .unwrap();
    assert!(!good("alice")(&v.signatures[0]), "{v:?}");
}

#[test]
fn only_the_signed_part_is_returned() {
    let text = v2_for("alice", &record()).to_text();
    let signed = sign_cleartext(&text, &secret("alice"), day_before()).unwrap();
    let wrapped = format!(
        "my-code-review=10\nwitness-code-review=10\n{signed}deb-sha256={}\n",
        "0".repeat(64)
    );
    let v = verify_cleartext(wrapped.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert!(good("alice")(&v.signatures[0]));
    assert_eq!(v.text, text, "text outside the signed part leaked in");
    assert!(v.outside.before > 0 && v.outside.after > 0);

    let twice = format!("{signed}{signed}");
    assert!(verify_cleartext(twice.as_bytes(), &all_keys(), at(), "t").is_err());
}

#[test]
fn canonicalisation_tricks() {
    let text = v2_for("alice", &record()).to_text();
    let signed = sign_cleartext(&text, &secret("alice"), day_before()).unwrap();
    // Trailing spaces and CRLF are not signed (RFC 9580 §7.2): the signature stays
    // good, and the parser sees the signed form, identical to the original.
    let spaced = signed
        .replace("witness-code-review=4\n", "witness-code-review=4   \n")
        .replace('\n', "\r\n");
    let v = verify_cleartext(spaced.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert!(good("alice")(&v.signatures[0]), "{v:?}");
    assert_eq!(v.text, text);
    assert!(v.whitespace_normalised);
    // A Unicode look-alike inside the signed text breaks the signature.
    let lookalike = signed.replace("witness-name=", "witness-n\u{430}me=");
    let v = verify_cleartext(lookalike.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert!(matches!(&v.signatures[..], [SignatureOutcome::Bad { .. }]));
    // Dash-escaped lines (v1's "--Following ..." comment) come back unescaped.
    let v1 = "my-code-review=4\n--Following lines\n- x\n";
    let s = sign_cleartext(v1, &secret("alice"), day_before()).unwrap();
    assert!(s.contains("\n- --Following lines\n"));
    let v = verify_cleartext(s.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert_eq!(v.text, v1);
    // Removing a dash-escape changes what the armor parser sees: not good.
    let unescaped = s.replace("\n- - x\n", "\n- x\n");
    let v = verify_cleartext(unescaped.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert!(!good("alice")(&v.signatures[0]), "{v:?}");
}

#[test]
fn hash_header_is_unsigned_metadata_and_cannot_change_the_text() {
    let text = "a=b\n";
    let signed = sign_cleartext(text, &secret("alice"), day_before()).unwrap();
    assert!(signed.contains("\nHash: SHA512\n"));
    // The Hash: header is not signed. Whatever it claims (another algorithm, a
    // broken one, extra header lines), the signature is checked with its own
    // algorithm under StandardPolicy, and the header never reaches the text.
    for lie in [
        "Hash: SHA256",
        "Hash: MD5",
        "Hash: SHA512\nHash: SHA1",
        "Hash: SHA512\nmy-code-review: 10",
    ] {
        let bad = signed.replace("Hash: SHA512", lie);
        let v = verify_cleartext(bad.as_bytes(), &all_keys(), at(), "t").unwrap();
        assert!(good("alice")(&v.signatures[0]), "{lie}: {v:?}");
        assert_eq!(v.text, text, "{lie}");
    }
}

#[test]
fn gpg_clearsigned_verifies_with_ours() {
    assert!(have("gpg"), "gpg is needed (see .ci/apt-packages)");
    let g = Gpg::new();
    let key = keys_dir().join("alice.key");
    assert!(
        g.run(&["--import", key.to_str().unwrap()], None)
            .status
            .success()
    );
    let text = v2_for("alice", &record()).to_text();
    let out = g.run(
        &["--clearsign", "--local-user", fpr("alice").as_str()],
        Some(text.as_bytes()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = verify_cleartext(&out.stdout, &all_keys(), SystemTime::now(), "gpg").unwrap();
    assert!(good("alice")(&v.signatures[0]), "{v:?}");
    assert_eq!(v.text, text);
    // And the seed's v1 example, clearsigned by gpg, comes back byte for byte (up
    // to the unsigned trailing whitespace the seed has on two lines).
    let v1 = "sources-sign-by-fpr=21A5 9D31 7421 F02E C3C3  81F3 4623 E8F7 4595 3F23\nmy-code-review=4 (see below)\n--Following \"cannary\" lines scan be deleted--\n<cannary>I am NOT under ANY form of gag order. (I am in law jurisdiction: <j>Poland, dependency of EU</j>).</cannary>\n";
    let out = g.run(&["--clearsign"], Some(v1.as_bytes()));
    let v = verify_cleartext(&out.stdout, &all_keys(), SystemTime::now(), "gpg").unwrap();
    assert!(good("alice")(&v.signatures[0]), "{v:?}");
    assert_eq!(v.text, v1);
}

#[test]
fn ours_verify_with_gpg() {
    assert!(have("gpg"), "gpg is needed (see .ci/apt-packages)");
    let g = Gpg::new();
    for k in ["alice", "bob"] {
        let c = keys_dir().join(format!("{k}.cert"));
        assert!(
            g.run(&["--import", c.to_str().unwrap()], None)
                .status
                .success()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    for k in ["alice", "bob"] {
        let signed = signed_v2(k, &record());
        let p = dir.path().join(format!("{k}.asc"));
        std::fs::write(&p, &signed).unwrap();
        let out = g.run(&["--status-fd", "1", "--verify", p.to_str().unwrap()], None);
        let status = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{status}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            status.contains("VALIDSIG") && status.contains(fpr(k).as_str()),
            "{status}"
        );
        // Tampering is caught by gpg too.
        let bad = String::from_utf8(signed)
            .unwrap()
            .replace("witness-code-review=4", "witness-code-review=9");
        std::fs::write(&p, bad).unwrap();
        assert!(
            !g.run(&["--verify", p.to_str().unwrap()], None)
                .status
                .success()
        );
    }
}

#[test]
fn detached_signatures_verify_with_sqv_and_ours() {
    assert!(have("sqv"), "sqv is needed (see .ci/apt-packages)");
    let dir = tempfile::tempdir().unwrap();
    let data = v2_for("bob", &record()).to_text();
    let sig = sign_detached(data.as_bytes(), &secret("bob"), day_before()).unwrap();
    let (dp, sp) = (dir.path().join("t.txt"), dir.path().join("t.txt.asc"));
    std::fs::write(&dp, &data).unwrap();
    std::fs::write(&sp, &sig).unwrap();
    let out = Command::new("sqv")
        .arg("--keyring")
        .arg(keys_dir().join("bob.cert"))
        .args([&sp, &dp])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        fpr("bob").as_str()
    );
    let r = verify_detached(data.as_bytes(), sig.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert!(good("bob")(&r[0]), "{r:?}");
    // sqv refuses a wrong keyring, and so do we (unknown key).
    let out = Command::new("sqv")
        .arg("--keyring")
        .arg(keys_dir().join("alice.cert"))
        .args([&sp, &dp])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let r = verify_detached(
        data.as_bytes(),
        sig.as_bytes(),
        &keyring(&["alice"]),
        at(),
        "t",
    )
    .unwrap();
    assert!(matches!(&r[..], [SignatureOutcome::UnknownKey { .. }]));
    // Changed data: bad.
    let r = verify_detached(b"other", sig.as_bytes(), &all_keys(), at(), "t").unwrap();
    assert!(matches!(&r[..], [SignatureOutcome::Bad { .. }]), "{r:?}");
}

#[test]
fn binary_and_multi_block_keyrings_load() {
    let mut armored = cert_bytes("alice");
    armored.extend(cert_bytes("bob"));
    let k = testimony::verify::Keyring::from_bytes(&armored, "two").unwrap();
    assert_eq!(k.len(), 2);
    assert!(testimony::verify::Keyring::from_bytes(b"hello", "junk").is_err());
    // Binary (dearmored) certificates, two concatenated.
    use sequoia_openpgp::parse::Parse;
    use sequoia_openpgp::serialize::SerializeInto;
    let mut binary = Vec::new();
    for n in ["alice", "bob"] {
        let c = sequoia_openpgp::Cert::from_bytes(&cert_bytes(n)).unwrap();
        binary.extend(c.to_vec().unwrap());
    }
    assert!(!binary.starts_with(b"-----"));
    let k = testimony::verify::Keyring::from_bytes(&binary, "binary").unwrap();
    assert_eq!(k.len(), 2);
    let signed = signed_v2("bob", &record());
    let v = verify_cleartext(&signed, &k, at(), "t").unwrap();
    assert!(good("bob")(&v.signatures[0]));
}
