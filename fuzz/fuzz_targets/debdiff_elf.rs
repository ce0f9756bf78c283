//! The ELF/classification path of debdiff on hostile input: two arbitrary byte
//! strings (split at the first byte's position) as the two versions of a module,
//! a compressed module or a vmlinuz (the last byte picks which). Must never panic,
//! hang or exceed limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// One name per path through `diff_file_contents`: plain ELF, nested compression,
/// kernel image. One per input rather than all three: a text-like input would
/// otherwise run the same line diff three times.
const NAMES: [&str; 3] = ["lib/modules/x/m.ko", "lib/modules/x/m.ko.xz", "boot/vmlinuz"];

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let Some((&pick, rest)) = rest.split_last() else {
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
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let item = debdiff::diff_file_contents(name, a, b, &limits);
    assert_eq!(item.causes.is_empty(), a == b);
});
