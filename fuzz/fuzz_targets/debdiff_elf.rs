//! The ELF/classification path of debdiff on hostile input: two arbitrary byte
//! strings (split at the first byte's position) as the two versions of a module,
//! a compressed module and a vmlinuz. Must never panic, hang or exceed limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = (split as usize * rest.len()) / 255;
    let (a, b) = rest.split_at(at.min(rest.len()));
    let limits = debdiff::Limits {
        max_file_bytes: 1 << 20,
        max_decompressed: 4 << 20,
        max_dwarf_units: 1000,
        max_dwarf_files: 10_000,
        max_strings: 10_000,
        ..debdiff::Limits::default()
    };
    for name in [
        "lib/modules/x/m.ko",
        "lib/modules/x/m.ko.xz",
        "boot/vmlinuz",
    ] {
        let item = debdiff::diff_file_contents(name, a, b, &limits);
        assert_eq!(item.causes.is_empty(), a == b);
    }
});
