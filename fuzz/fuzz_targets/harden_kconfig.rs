//! Kconfig text (a `--kernel-tree` given to `harden-report`, or the unpacked source the
//! build gate reads): the expression parser and the tree reader never panic or recurse
//! without bound, tristate values stay in 0..=2 with `!e` = 2 - e, the reader stays within
//! its file limit (a file that sources itself included), and every explanation it gives
//! for a symbol is a sentence naming that symbol.
#![no_main]

use std::sync::LazyLock;

use harden::kconfig_tree::{self, Expr, KconfigTree, expr};
use harden::{Arch, KernelConfig};
use libfuzzer_sys::fuzz_target;

static CONFIG: LazyLock<KernelConfig> = LazyLock::new(|| {
    KernelConfig::parse(
        include_str!("../seeds/kbuild_config/samekernel-tiny.config"),
        "seed",
    )
    .expect("the seed config parses")
});

/// One directory for every run: the input is its top-level `Kconfig`.
static TREE: LazyLock<tempfile::TempDir> =
    LazyLock::new(|| tempfile::tempdir().expect("a temporary directory"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines().take(8) {
        if let Some(e) = expr::parse(line) {
            let v = expr::eval(&e, &CONFIG);
            assert!(v <= 2);
            assert_eq!(expr::eval(&Expr::Not(Box::new(e.clone())), &CONFIG), 2 - v);
            let _ = expr::render(&e);
        }
    }
    std::fs::write(TREE.path().join("Kconfig"), text).expect("write Kconfig");
    let Ok(tree) = KconfigTree::load(TREE.path(), Arch::X86_64) else {
        return;
    };
    assert!((1..=kconfig_tree::MAX_FILES).contains(&tree.files()));
    for line in text.lines().take(32) {
        let Some(sym) = line.trim().strip_prefix("config ") else {
            continue;
        };
        let sym = sym.trim();
        if tree.defines(sym) {
            for why in [
                tree.explain_off(sym, &CONFIG),
                tree.explain_on(sym, &CONFIG),
            ] {
                assert!(why.contains(&format!("CONFIG_{sym}")), "{why}");
            }
        }
    }
});
