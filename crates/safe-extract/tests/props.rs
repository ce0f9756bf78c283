//! Property: whatever entry list an archive holds, extraction writes nothing outside the
//! destination, leaves nothing behind on error, and (source policy) every path of an
//! extracted tree, symlinks followed, stays inside it.

#![cfg(feature = "hostile-suite")]

use std::path::Path;

use proptest::prelude::*;
use safe_extract::hostile::{Layout, RawEntry, RawKind, raw_tar};
use safe_extract::{Limits, Policy, TarReader, extract};

fn component() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "b", "..", ".", "", "c"])
}

fn rel_path() -> impl Strategy<Value = String> {
    prop::collection::vec(component(), 1..4).prop_map(|c| c.join("/"))
}

fn entry(outside: String) -> impl Strategy<Value = RawEntry> {
    let target = prop_oneof![
        rel_path(),
        Just(outside.clone()),
        Just("/etc".to_owned()),
        Just(format!("{outside}/x")),
    ];
    let kind = prop_oneof![
        Just(RawKind::File(b"x".to_vec())),
        Just(RawKind::Dir),
        target
            .clone()
            .prop_map(|t| RawKind::Symlink(t.into_bytes())),
        target.prop_map(|t| RawKind::HardLink(t.into_bytes())),
    ];
    (rel_path(), kind).prop_map(|(name, kind)| RawEntry {
        name: name.into_bytes(),
        kind,
        pax_path: None,
        pax_linkpath: None,
    })
}

fn assert_inside(root: &Path, dir: &Path) {
    let canon_root = root.canonicalize().unwrap();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if let Ok(real) = p.canonicalize() {
            assert!(
                real.starts_with(&canon_root),
                "{} -> {}",
                p.display(),
                real.display()
            );
        }
        if p.symlink_metadata().unwrap().is_dir() {
            assert_inside(root, &p);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn nothing_escapes_under_either_policy(seed in 0u8..2, entries in prop::collection::vec(entry("/OUTSIDE".into()), 1..8)) {
        let sandbox = tempfile::tempdir().unwrap();
        let outside = sandbox.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let out_s = outside.to_str().unwrap().to_owned();
        // Point the "outside" targets at the real sandbox directory.
        let entries: Vec<RawEntry> = entries.into_iter().map(|mut e| {
            if let RawKind::Symlink(t) | RawKind::HardLink(t) = &mut e.kind {
                *t = String::from_utf8(t.clone()).unwrap().replace("/OUTSIDE", &out_s).into_bytes();
            }
            e
        }).collect();
        let (layout, policy) = if seed == 0 {
            (Layout::Package, Policy::package())
        } else {
            (Layout::Source("top"), Policy::source("top"))
        };
        let parent = sandbox.path().join("parent");
        std::fs::create_dir(&parent).unwrap();
        let dest = parent.join("out");
        let tar = raw_tar(&entries, layout);
        let mut r = TarReader::new(&tar[..], "p.tar", Limits::default());
        let result = extract(&mut r, &dest, &policy);
        prop_assert!(std::fs::read_dir(&outside).unwrap().next().is_none(), "wrote outside");
        match result {
            Ok(_) => {
                if seed == 1 {
                    assert_inside(&dest, &dest);
                }
            }
            Err(_) => prop_assert!(std::fs::read_dir(&parent).unwrap().next().is_none(), "left behind"),
        }
    }
}
