//! Detached signature checks with committed test keys (fixtures/srcpin, made by
//! make-keys.sh with `sq`), each verdict cross-checked with `sqv` and `gpgv --status-fd`.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::fixtures;
use srcpin::openpgp::{SignerRequirement, verify_detached};
use srcpin::{Compression, Fingerprint};

const ALICE: &str = "D4DBE61C7DFB9F3A39F273A4617A467BB109A053";
const BOB: &str = "CF0B01248F28DC08E4B150C56830872EDABD2207";
const MALLORY: &str = "51F0FD938515F3779D4A5773F3622BCF85684F28";
const EXPIRED: &str = "FEB18E3C70E032F17E93E630395B9BD122A49D23";

fn fx(name: &str) -> PathBuf {
    fixtures().join(name)
}

fn fprs(list: &[&str]) -> Vec<Fingerprint> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

/// Our verdict over the uncompressed tar, streamed out of the .tar.xz like the pipeline does.
fn ours(
    sig: &str,
    data: &Path,
    keyring: &[u8],
    signers: &[&str],
    min: usize,
) -> Result<Vec<String>, String> {
    let sig = fs::read(fx(sig)).unwrap();
    let signers = fprs(signers);
    let req = SignerRequirement {
        keyring,
        signers: &signers,
        min_signers: min,
    };
    let reader = srcpin::decompressed(
        data,
        if data.extension().unwrap() == "xz" {
            Compression::Xz
        } else {
            Compression::None
        },
    )
    .unwrap();
    verify_detached(&sig, reader, &req)
        .map(|v| v.iter().map(|f| f.to_string()).collect())
        .map_err(|e| e.to_string())
}

/// `sqv -n N --keyring pinned-keyring.pgp SIG DATA`: exit status 0 means the threshold was met.
fn sqv(sig: &str, data: &Path, n: usize) -> bool {
    sqv_with("pinned-keyring.pgp", sig, data, n)
}

fn sqv_with(keyring: &str, sig: &str, data: &Path, n: usize) -> bool {
    let out = Command::new("sqv")
        .arg("-n")
        .arg(n.to_string())
        .arg("--keyring")
        .arg(fx(keyring))
        .arg(fx(sig))
        .arg(data)
        .output()
        .expect("sqv is installed (.ci/apt-packages)");
    out.status.success()
}

/// `gpgv --status-fd 1`: (primary fingerprints of VALIDSIG lines, saw EXPKEYSIG, saw BADSIG).
fn gpgv(sig: &str, data: &Path) -> (BTreeSet<String>, bool, bool) {
    let (valid, status) = gpgv_with("pinned-keyring.pgp", sig, data);
    (
        valid,
        status.contains("[GNUPG:] EXPKEYSIG"),
        status.contains("[GNUPG:] BADSIG"),
    )
}

/// (primary fingerprints of VALIDSIG lines, the whole status output).
fn gpgv_with(keyring: &str, sig: &str, data: &Path) -> (BTreeSet<String>, String) {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("gpgv")
        .arg("--homedir")
        .arg(home.path())
        .arg("--status-fd")
        .arg("1")
        .arg("--keyring")
        .arg(fx(keyring))
        .arg(fx(sig))
        .arg(data)
        .output()
        .expect("gpgv is installed (.ci/apt-packages)");
    let status = String::from_utf8_lossy(&out.stdout).into_owned();
    let valid = status
        .lines()
        .filter_map(|l| l.strip_prefix("[GNUPG:] VALIDSIG "))
        .filter_map(|l| l.split_whitespace().last().map(str::to_owned))
        .collect();
    (valid, status)
}

fn pinned_keyring() -> Vec<u8> {
    fs::read(fx("pinned-keyring.pgp")).unwrap()
}

#[test]
fn fixtures_match_their_recorded_fingerprints() {
    let text = fs::read_to_string(fx("fingerprints.txt")).unwrap();
    for (who, f) in [
        ("alice", ALICE),
        ("bob", BOB),
        ("mallory", MALLORY),
        ("expired", EXPIRED),
    ] {
        assert!(text.contains(&format!("{who} {f}")), "{who}");
    }
}

#[test]
fn good_signature_over_uncompressed_stream() {
    let got = ours(
        "alice.tar.sign",
        &fx("hello-1.0.tar.xz"),
        &pinned_keyring(),
        &[ALICE],
        1,
    )
    .unwrap();
    assert_eq!(got, vec![ALICE]);
    assert!(sqv("alice.tar.sign", &fx("hello-1.0.tar"), 1));
    assert_eq!(
        gpgv("alice.tar.sign", &fx("hello-1.0.tar")).0,
        BTreeSet::from([ALICE.to_owned()])
    );
}

#[test]
fn wrong_key_is_an_unknown_signer_even_if_its_cert_is_supplied() {
    // Mallory's certificate is in the keyring we pass, but not in the pinned signer list.
    let mut keyring = pinned_keyring();
    keyring.extend(fs::read(fx("mallory.cert")).unwrap());
    let err = ours(
        "mallory.tar.sign",
        &fx("hello-1.0.tar.xz"),
        &keyring,
        &[ALICE, BOB],
        1,
    )
    .unwrap_err();
    assert!(
        err.contains("0 of 1") && err.contains("unknown (unpinned) signer"),
        "{err}"
    );
    assert!(!sqv("mallory.tar.sign", &fx("hello-1.0.tar"), 1));
    assert!(gpgv("mallory.tar.sign", &fx("hello-1.0.tar")).0.is_empty());
    // A signature by a pinned key that is not in the signer list does not count either.
    let err = ours(
        "alice.tar.sign",
        &fx("hello-1.0.tar.xz"),
        &pinned_keyring(),
        &[BOB],
        1,
    )
    .unwrap_err();
    assert!(err.contains("0 of 1"), "{err}");
}

#[test]
fn tampered_tar_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut tar = fs::read(fx("hello-1.0.tar")).unwrap();
    let at = tar.windows(5).position(|w| w == b"hello").unwrap();
    tar[at] = b'j';
    let tampered = dir.path().join("tampered.tar");
    fs::write(&tampered, &tar).unwrap();
    let err = ours("alice.tar.sign", &tampered, &pinned_keyring(), &[ALICE], 1).unwrap_err();
    assert!(
        err.contains("bad signature by") && err.contains(ALICE),
        "{err}"
    );
    assert!(!sqv("alice.tar.sign", &tampered, 1));
    let (valid, _, bad) = gpgv("alice.tar.sign", &tampered);
    assert!(valid.is_empty() && bad);
}

#[test]
fn signature_over_compressed_file_fails_when_pin_says_uncompressed() {
    let err = ours(
        "alice-over-xz.sign",
        &fx("hello-1.0.tar.xz"),
        &pinned_keyring(),
        &[ALICE],
        1,
    )
    .unwrap_err();
    assert!(err.contains("bad signature"), "{err}");
    assert!(!sqv("alice-over-xz.sign", &fx("hello-1.0.tar"), 1));
    assert!(
        gpgv("alice-over-xz.sign", &fx("hello-1.0.tar"))
            .0
            .is_empty()
    );
    // The same signature is fine over the file itself ("signed-over = file").
    let sig = fs::read(fx("alice-over-xz.sign")).unwrap();
    let signers = fprs(&[ALICE]);
    let keyring = pinned_keyring();
    let req = SignerRequirement {
        keyring: &keyring,
        signers: &signers,
        min_signers: 1,
    };
    verify_detached(&sig, fs::File::open(fx("hello-1.0.tar.xz")).unwrap(), &req).unwrap();
    assert!(sqv("alice-over-xz.sign", &fx("hello-1.0.tar.xz"), 1));
}

#[test]
fn two_signatures_by_one_key_do_not_meet_a_minimum_of_two() {
    let err = ours(
        "alice-twice.tar.sign",
        &fx("hello-1.0.tar.xz"),
        &pinned_keyring(),
        &[ALICE, BOB],
        2,
    )
    .unwrap_err();
    assert!(err.contains("1 of 2"), "{err}");
    assert!(!sqv("alice-twice.tar.sign", &fx("hello-1.0.tar"), 2));
    assert!(sqv("alice-twice.tar.sign", &fx("hello-1.0.tar"), 1));
    assert_eq!(
        gpgv("alice-twice.tar.sign", &fx("hello-1.0.tar")).0.len(),
        1,
        "gpgv: one distinct primary"
    );
    // Listing alice twice does not help.
    let err = ours(
        "alice-twice.tar.sign",
        &fx("hello-1.0.tar.xz"),
        &pinned_keyring(),
        &[ALICE, ALICE],
        2,
    )
    .unwrap_err();
    assert!(err.contains("1 of 2"), "{err}");
}

#[test]
fn two_distinct_signers_meet_a_minimum_of_two() {
    let mut got = ours(
        "alice-bob.tar.sign",
        &fx("hello-1.0.tar.xz"),
        &pinned_keyring(),
        &[ALICE, BOB],
        2,
    )
    .unwrap();
    got.sort();
    assert_eq!(got, vec![BOB, ALICE]);
    assert!(sqv("alice-bob.tar.sign", &fx("hello-1.0.tar"), 2));
    assert_eq!(gpgv("alice-bob.tar.sign", &fx("hello-1.0.tar")).0.len(), 2);
}

#[test]
fn expired_key_is_refused() {
    let err = ours(
        "expired.tar.sign",
        &fx("hello-1.0.tar.xz"),
        &pinned_keyring(),
        &[EXPIRED],
        1,
    )
    .unwrap_err();
    assert!(err.contains(EXPIRED) && err.contains("expired"), "{err}");
    // gpgv agrees that the key has expired (EXPKEYSIG). sqv checks validity only at
    // signature time (2020-01-01, when the key was alive) and accepts: srcpin is
    // deliberately stricter, like apt, because an expired key cannot vouch for a source
    // fetched today.
    let (_, expkeysig, _) = gpgv("expired.tar.sign", &fx("hello-1.0.tar"));
    assert!(expkeysig);
    assert!(sqv("expired.tar.sign", &fx("hello-1.0.tar"), 1));
}

#[test]
fn revoked_key_is_refused() {
    let keyring = fs::read(fx("alice-revoked.cert")).unwrap();
    let err = ours(
        "alice.tar.sign",
        &fx("hello-1.0.tar.xz"),
        &keyring,
        &[ALICE],
        1,
    )
    .unwrap_err();
    assert!(err.contains(ALICE) && err.contains("revoked"), "{err}");
    assert!(!sqv_with(
        "alice-revoked.cert",
        "alice.tar.sign",
        &fx("hello-1.0.tar"),
        1
    ));
    let (_, status) = gpgv_with("alice-revoked.cert", "alice.tar.sign", &fx("hello-1.0.tar"));
    assert!(status.contains("[GNUPG:] REVKEYSIG"), "{status}");
}

#[test]
fn a_stale_copy_beside_a_revoked_certificate_does_not_vouch() {
    let stale = fs::read(fx("alice.cert")).unwrap();
    let revoked = fs::read(fx("alice-revoked.cert")).unwrap();
    for keyring in [[&stale[..], &revoked[..]], [&revoked[..], &stale[..]]] {
        let err = ours(
            "alice.tar.sign",
            &fx("hello-1.0.tar.xz"),
            &keyring.concat(),
            &[ALICE],
            1,
        )
        .unwrap_err();
        assert!(err.contains(ALICE) && err.contains("revoked"), "{err}");
    }
    // The stale copy alone still verifies: the refusal above comes from the merge.
    let good = ours(
        "alice.tar.sign",
        &fx("hello-1.0.tar.xz"),
        &stale,
        &[ALICE],
        1,
    )
    .unwrap();
    assert_eq!(good, [ALICE]);
}

#[test]
fn garbage_signature_and_keyring_are_errors() {
    let signers = fprs(&[ALICE]);
    let keyring = pinned_keyring();
    let req = SignerRequirement {
        keyring: &keyring,
        signers: &signers,
        min_signers: 1,
    };
    let err = verify_detached(b"not a signature", &b"data"[..], &req).unwrap_err();
    assert!(err.to_string().contains("0 of 1"), "{err}");
    let bad = SignerRequirement {
        keyring: b"\x99\x00garbage",
        signers: &signers,
        min_signers: 1,
    };
    let sig = fs::read(fx("alice.tar.sign")).unwrap();
    let err = verify_detached(&sig, &b"data"[..], &bad).unwrap_err();
    assert!(err.to_string().contains("cannot read keyring"), "{err}");
    // Both bad: the signature is read first, and named.
    let err = verify_detached(b"not a signature", &b"data"[..], &bad).unwrap_err();
    assert!(err.to_string().contains("cannot parse signature"), "{err}");
}
