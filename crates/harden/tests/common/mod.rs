//! Shared by the tests that need a Linux 6.12 tree.

use std::path::PathBuf;

/// The pinned Linux 6.12 tree, unpacked: `SAMEKERNEL_LINUX_SRC` (`cargo xtask test` sets it
/// after `kernel-deb source`). Tests that call this are `#[ignore = "network"]`, so plain
/// `cargo test` never needs it.
pub fn linux_tree() -> PathBuf {
    let p = PathBuf::from(std::env::var_os("SAMEKERNEL_LINUX_SRC").expect(
        "set SAMEKERNEL_LINUX_SRC to an unpacked pinned source (kernel-deb source --out DIR)",
    ));
    assert!(
        p.join("Kconfig").is_file(),
        "no Linux 6.12 tree at {} (set SAMEKERNEL_LINUX_SRC)",
        p.display()
    );
    p
}
