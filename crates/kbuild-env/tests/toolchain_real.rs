//! Collects the fingerprint of this machine (the CI image installs .ci/apt-packages).

use kbuild_env::{ToolchainFingerprint, ToolchainQuery, collect};

#[test]
fn collects_this_machine() {
    let fp = collect(&ToolchainQuery::default()).expect("collect the toolchain fingerprint");
    for p in ["gcc", "binutils", "libc6", "libc6-dev", "make"] {
        let v = fp
            .packages
            .get(p)
            .unwrap_or_else(|| panic!("{p} not queried"));
        assert!(v.is_some(), "{p} is not installed");
    }
    for (tool, prefix) in [
        ("gcc", "gcc "),
        ("ld", "GNU ld"),
        ("as", "GNU assembler"),
        ("make", "GNU Make"),
    ] {
        assert!(fp.banners[tool].starts_with(prefix), "{}", fp.banners[tool]);
    }
    assert_eq!(fp.binaries.len(), 4, "{:?}", fp.binaries);
    assert!(fp.binaries.keys().any(|p| p.ends_with("/cc1")));
    // The realpath of `gcc`, not the /usr/bin/gcc symlink.
    assert!(!fp.binaries.contains_key("/usr/bin/gcc"));
    let text = fp.to_text();
    assert_eq!(ToolchainFingerprint::parse(&text).unwrap(), fp);
    // Collecting again gives the same bytes.
    assert_eq!(collect(&ToolchainQuery::default()).unwrap().to_text(), text);
    assert!(fp.diff(&fp).is_empty());
}

#[test]
fn an_empty_path_reports_every_tool_with_its_package() {
    let dir = std::env::temp_dir().join(format!("kbuild-env-empty-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let query = ToolchainQuery {
        path: dir.display().to_string(),
        ..ToolchainQuery::default()
    };
    let err = collect(&query).unwrap_err();
    let text = err.to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    match err {
        kbuild_env::ToolchainError::MissingTools { missing } => {
            assert_eq!(
                missing.len(),
                kbuild_env::toolchain::REQUIRED_TOOLS.len(),
                "{text}"
            );
        }
        other => panic!("{other}"),
    }
    assert!(text.starts_with("missing build tools: as (install the Debian package binutils), bc (install the Debian package bc), bison (install the Debian package bison),"), "{text}");
    assert!(
        text.contains("flex (install the Debian package flex)"),
        "{text}"
    );
    assert!(
        text.contains("depmod (install the Debian package kmod)"),
        "{text}"
    );
}
