//! Shared by the tests that need a Linux 6.12 tree.

use std::path::PathBuf;

/// The Linux 6.12 tree: `HARDEN_LINUX_SRC`, else the brief's unpacked copy. Tests that call
/// this are `#[ignore]`d, so plain `cargo test` never needs it.
pub fn linux_tree() -> PathBuf {
    let p = std::env::var_os("HARDEN_LINUX_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/work/brief/linux-source-6.12".into());
    assert!(
        p.join("Kconfig").is_file(),
        "no Linux 6.12 tree at {} (set HARDEN_LINUX_SRC)",
        p.display()
    );
    p
}
