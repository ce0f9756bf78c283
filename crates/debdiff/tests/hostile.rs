//! Hostile files: a real ELF (with DWARF) with random bytes overwritten, and
//! random pairs, must give a report — a cause or a note — never a panic.

mod common;

use std::sync::OnceLock;

use debdiff::{Limits, diff_file_contents};
use proptest::prelude::*;

fn real_elf() -> &'static [u8] {
    static ELF: OnceLock<Vec<u8>> = OnceLock::new();
    ELF.get_or_init(|| {
        let t = tempfile::tempdir().unwrap();
        common::gcc(&t.path().join("src"), common::HELLO, &["-g", "-O2"], &[])
    })
}

fn small_limits() -> Limits {
    Limits {
        max_decompressed: 1 << 20,
        max_dwarf_units: 50,
        max_dwarf_files: 500,
        max_strings: 5000,
        ..Limits::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn corrupted_elf_never_panics(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..40)) {
        let a = real_elf();
        let mut b = a.to_vec();
        for (i, v) in &edits {
            let at = i.index(b.len());
            b[at] = *v;
        }
        let item = diff_file_contents("usr/bin/hello", a, &b, &small_limits());
        prop_assert_eq!(item.causes.is_empty(), a == &b[..]);
    }

    #[test]
    fn truncated_elf_never_panics(cut in 0usize..20_000) {
        let a = real_elf();
        let b = &a[..cut.min(a.len())];
        let item = diff_file_contents("lib/modules/x/m.ko", a, b, &small_limits());
        prop_assert_eq!(item.causes.is_empty(), a == b);
    }

    #[test]
    fn random_pairs_never_panic(a in proptest::collection::vec(any::<u8>(), 0..3000),
                                b in proptest::collection::vec(any::<u8>(), 0..3000)) {
        for name in ["m.ko.xz", "vmlinuz", "config.gz", "x"] {
            let item = diff_file_contents(name, &a, &b, &small_limits());
            prop_assert_eq!(item.causes.is_empty(), a == b);
        }
    }
}
