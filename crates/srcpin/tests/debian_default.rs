//! The built-in default pin really fetches and verifies Debian's linux-source-6.12 with
//! `apt-get download`. `#[ignore = "network"]`: `cargo xtask test` runs it; it needs apt
//! lists (`apt-get update`) and ~300 MB in the cache.
//!
//! Uses `$SAMEKERNEL_CACHE` when set (so CI can keep the blobs), else a temporary cache.

use srcpin::{Cache, FetchOptions, Fetcher, Manifest, NoProgress, Source, verify_file};

#[test]
#[ignore = "network"]
fn default_pin_fetches_and_verifies_linux_source_6_12() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Cache::default_root().filter(|_| std::env::var_os(srcpin::CACHE_ENV).is_some());
    let cache = Cache::new(root.unwrap_or_else(|| tmp.path().join("cache")));
    let fetcher = Fetcher::new(cache, FetchOptions::default());
    let m = Manifest::builtin_default();
    let t0 = std::time::Instant::now();
    let fetched = srcpin::fetch_sources(&m, &fetcher, &mut NoProgress)
        .unwrap_or_else(|e| panic!("fetching the default pin: {e}"));
    eprintln!("fetch+verify of the default pin took {:?}", t0.elapsed());
    let Source::DebianPackage(d) = &m.source else {
        unreachable!()
    };
    verify_file(
        &fetched.tarball,
        &srcpin::FileDigest {
            size: d.member.size,
            sha256: d.member.sha256,
        },
        "tarball",
    )
    .unwrap();
    assert_eq!(fetched.top_dir, "linux-source-6.12");

    // Re-pinning from what apt offers now yields a valid manifest for the same package; when
    // apt still serves the pinned version it must reproduce the built-in pin exactly.
    let repin =
        srcpin::pin::pin_debian_package("linux-source-6.12", &fetcher, &mut NoProgress).unwrap();
    let Source::DebianPackage(r) = &repin.source else {
        unreachable!()
    };
    if r.version == d.version {
        assert_eq!(repin, m, "changes: {:?}", repin.changes_from(&m));
    } else {
        eprintln!(
            "note: apt now offers {}; the default pins {}: {:?}",
            r.version,
            d.version,
            repin.changes_from(&m)
        );
    }
}
