//! Mirror indexes (`--mirror URL`: the `index` file lists testimony names): parsing never
//! panics, every accepted name is a single plain path component that stays in the mirror's
//! directory, and the accepted names written back one a line parse to the same list.
#![no_main]

use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use testimony::collect::{is_safe_name, parse_index};

fn stays_in_directory(name: &str) {
    let dir = Path::new("/mirror/testimonies");
    let joined = dir.join(name);
    assert_eq!(joined.parent(), Some(dir), "{name:?} leaves the directory");
    let mut parts = Path::new(name).components();
    assert!(matches!(parts.next(), Some(Component::Normal(_))), "{name:?}");
    assert!(parts.next().is_none(), "{name:?} is more than one component");
    assert!(!name.contains(['/', '\\']) && !name.contains(".."), "{name:?}");
    assert!(name.bytes().all(|b| b.is_ascii_graphic()), "{name:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines().take(64) {
        if is_safe_name(line) {
            stays_in_directory(line);
        }
    }
    let Ok(names) = parse_index(text, "fuzz") else {
        return;
    };
    assert!(names.len() <= text.lines().count());
    for n in &names {
        assert!(is_safe_name(n));
        stays_in_directory(n);
    }
    let again = parse_index(&names.join("\n"), "fuzz round trip").expect("written back parses");
    assert_eq!(again, names);
});
