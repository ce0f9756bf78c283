//! Upstream signatures and the keyrings pinned beside them: a detached signature from
//! anyone (checked against the real pinned keyring), and a keyring from anyone (checking
//! alice's real signature). Never a panic; a pass always names a pinned signer.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use srcpin::manifest::Fingerprint;
use srcpin::openpgp::{SignerRequirement, verify_detached};

const PINNED: &[u8] = include_bytes!("../../fixtures/srcpin/pinned-keyring.pgp");
const TARBALL: &[u8] = include_bytes!("../../fixtures/srcpin/hello-1.0.tar");
const ALICE_SIG: &[u8] = include_bytes!("../../fixtures/srcpin/alice.tar.sign");

static SIGNERS: LazyLock<Vec<Fingerprint>> = LazyLock::new(|| {
    include_str!("../../fixtures/srcpin/fingerprints.txt")
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let req = SignerRequirement {
        keyring: PINNED,
        signers: &SIGNERS,
        min_signers: 1,
    };
    if let Ok(good) = verify_detached(data, TARBALL, &req) {
        assert!(good.iter().all(|f| SIGNERS.contains(f)));
    }
    let req = SignerRequirement {
        keyring: data,
        ..req
    };
    if let Ok(good) = verify_detached(ALICE_SIG, TARBALL, &req) {
        assert!(good.iter().all(|f| SIGNERS.contains(f)));
    }
});
