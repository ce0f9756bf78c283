//! Toolchain fingerprints (the `TOOLCHAIN` file beside someone else's packages, read by
//! `kernel-deb inspect` and `build --expect-toolchain`): the strict parser never panics,
//! an accepted fingerprint is canonical (writes back byte for byte), and comparing it
//! with itself finds nothing while comparing it with a real one never panics.
#![no_main]

use std::sync::LazyLock;

use kbuild_env::ToolchainFingerprint;
use libfuzzer_sys::fuzz_target;

static REAL: LazyLock<ToolchainFingerprint> = LazyLock::new(|| {
    ToolchainFingerprint::parse(include_str!("../seeds/kbuild_toolchain/native.toolchain"))
        .expect("the seed fingerprint parses")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(fp) = ToolchainFingerprint::parse(text) else {
        return;
    };
    assert_eq!(fp.to_text(), text);
    assert!(fp.diff(&fp).is_empty());
    let there = fp.diff(&REAL);
    let back = REAL.diff(&fp);
    assert_eq!(there.len(), back.len());
});
