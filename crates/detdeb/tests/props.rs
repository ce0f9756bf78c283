//! Property tests: write -> read round trips for random trees (checked by our
//! reader and by the independent `tar` crate), determinism under input order and
//! thread count, parser/writer round trips, and no panics on arbitrary bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use detdeb::{
    CompressionParams, Compressor, Control, DebBuilder, DebReader, Entry, EntryKind, Md5Sums,
    TarEntryKind,
};
use proptest::prelude::*;

const SDE: i64 = 1_600_000_000;

fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("a-c".to_string()),
        Just("b".to_string()),
        Just("ünï".to_string()),
        Just("x y".to_string()),
        Just("Z".to_string()),
        "[a-z]{40,70}",
    ]
}

#[derive(Debug, Clone)]
enum Leaf {
    File(Vec<u8>, u32),
    Symlink(String),
}

fn leaf() -> impl Strategy<Value = Leaf> {
    prop_oneof![
        3 => (proptest::collection::vec(any::<u8>(), 0..3000), prop_oneof![Just(0o644u32), Just(0o755), Just(0o4755), Just(0o600), Just(0o2711)])
            .prop_map(|(c, m)| Leaf::File(c, m)),
        1 => "[a-z./]{1,30}".prop_map(Leaf::Symlink),
    ]
}

/// Random data trees: leaves at distinct paths, no leaf is another's parent,
/// plus hard links to some files and a few explicit empty dirs.
fn tree() -> impl Strategy<Value = Vec<Entry>> {
    (
        proptest::collection::vec(
            (proptest::collection::vec(component(), 1..4), leaf()),
            0..12,
        ),
        proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
        proptest::collection::vec(proptest::collection::vec(component(), 1..3), 0..3),
    )
        .prop_map(|(leaves, links, dirs)| {
            let mut by_path: BTreeMap<String, Leaf> = BTreeMap::new();
            for (comps, l) in leaves {
                by_path.insert(comps.join("/"), l);
            }
            let paths: Vec<String> = by_path.keys().cloned().collect();
            for p in &paths {
                if paths.iter().any(|q| q.starts_with(&format!("{p}/"))) {
                    by_path.remove(p);
                }
            }
            let mut entries: Vec<Entry> = by_path
                .iter()
                .map(|(p, l)| match l {
                    Leaf::File(c, m) => Entry::file(p.as_str(), *m, c.clone()),
                    Leaf::Symlink(t) => Entry::symlink(p.as_str(), t.as_str()),
                })
                .collect();
            let files: Vec<String> = by_path
                .iter()
                .filter(|(_, l)| matches!(l, Leaf::File(..)))
                .map(|(p, _)| p.clone())
                .collect();
            let taken: BTreeSet<String> = by_path.keys().cloned().collect();
            for (i, idx) in links.iter().enumerate() {
                if files.is_empty() {
                    break;
                }
                let target = idx.get(&files);
                let name = format!("hardlink{i}");
                if !taken.contains(&name) {
                    entries.push(Entry::hard_link(name, target.as_str(), 0o644));
                }
            }
            for d in dirs {
                let p = d.join("/");
                if !taken
                    .iter()
                    .any(|t| t == &p || p.starts_with(&format!("{t}/")))
                    && !p.starts_with("hardlink")
                {
                    entries.push(Entry::dir(p, 0o755));
                }
            }
            // Directories given twice are duplicates: keep the first.
            let mut seen = BTreeSet::new();
            entries.retain(|e| seen.insert(e.path.clone()));
            entries
        })
}

fn compressor() -> impl Strategy<Value = Compressor> {
    prop_oneof![
        Just(Compressor::Gzip),
        Just(Compressor::Xz),
        Just(Compressor::Zstd),
        Just(Compressor::None)
    ]
}

fn control_entries() -> Vec<Entry> {
    vec![Entry::file(
        "control",
        0o644,
        &b"Package: p\nVersion: 1\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: d\n"[..],
    )]
}

fn build(data: Vec<Entry>, z: Compressor, threads: u32) -> Vec<u8> {
    let mut p = CompressionParams::new(z);
    p.threads = threads;
    let b = DebBuilder::from_entries(control_entries(), data, SDE)
        .unwrap()
        .compression(p);
    b.write(Cursor::new(Vec::new())).unwrap().0.into_inner()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn written_trees_read_back_identically(data in tree(), z in compressor()) {
        let deb = build(data.clone(), z, 2);
        let r = DebReader::from_source(&deb[..], "p.deb").unwrap();
        // Expected: every given entry, by archived name.
        let mut expected: BTreeMap<String, &Entry> = BTreeMap::new();
        for e in &data {
            expected.insert(format!("./{}", String::from_utf8_lossy(&e.path)), e);
        }
        // Names sharing one inode (a file and its hard links) and their contents:
        // whichever comes first in the archive carries the data.
        let mut group_of: BTreeMap<String, String> = BTreeMap::new();
        for e in &data {
            let name = format!("./{}", String::from_utf8_lossy(&e.path));
            match &e.kind {
                EntryKind::File { .. } => { group_of.insert(name.clone(), name); }
                EntryKind::HardLink { target } => { group_of.insert(name, format!("./{}", String::from_utf8_lossy(target))); }
                _ => {}
            }
        }
        let mut archived_files: BTreeSet<String> = BTreeSet::new();
        let mut tar = r.data_tar().unwrap();
        let mut seen = 0;
        while let Some(te) = tar.next_entry().unwrap() {
            let name = te.name_lossy();
            let key = name.trim_end_matches('/').to_string();
            prop_assert_eq!(te.mtime, SDE);
            prop_assert_eq!((te.uid, te.gid, te.uname.as_str(), te.gname.as_str()), (0, 0, "root", "root"));
            let Some(e) = expected.get(&key) else {
                // Implied parent directories.
                prop_assert_eq!(te.kind, TarEntryKind::Dir);
                prop_assert_eq!(te.mode, 0o755);
                continue;
            };
            seen += 1;
            prop_assert_eq!(te.mode, e.mode & 0o7777);
            match &e.kind {
                EntryKind::File { .. } | EntryKind::HardLink { .. } => {
                    let group = &group_of[&key];
                    let Some(Entry { kind: EntryKind::File { source: detdeb::FileSource::Bytes(c), .. }, .. }) = expected.get(group).copied() else {
                        panic!("group {group} has no file");
                    };
                    match &te.kind {
                        TarEntryKind::File => {
                            prop_assert!(!archived_files.contains(group), "{} archived twice", group);
                            archived_files.insert(group.clone());
                            let mut got = Vec::new();
                            tar.data_reader().read_to_end(&mut got).unwrap();
                            prop_assert_eq!(&got[..], &c[..]);
                        }
                        TarEntryKind::HardLink { target } => {
                            let t = String::from_utf8_lossy(target).into_owned();
                            prop_assert_eq!(&group_of[&t], group);
                            prop_assert!(archived_files.contains(group), "link before its data");
                        }
                        other => prop_assert!(false, "{} archived as {:?}", key, other),
                    }
                }
                EntryKind::Symlink { target } => {
                    prop_assert_eq!(&te.kind, &TarEntryKind::Symlink { target: target.clone() });
                }
                EntryKind::Dir => prop_assert_eq!(&te.kind, &TarEntryKind::Dir),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert_eq!(seen, expected.len());

        // The independent `tar` crate reads the same names and file contents.
        let mut raw = Vec::new();
        detdeb::compress::decoder(z, r.member_reader(r.data_member()), "data").unwrap().read_to_end(&mut raw).unwrap();
        let mut a = tar::Archive::new(&raw[..]);
        for f in a.entries().unwrap() {
            let mut f = f.unwrap();
            let name = String::from_utf8_lossy(&f.path_bytes()).trim_end_matches('/').to_string();
            if !f.header().entry_type().is_file() {
                continue;
            }
            let group = &group_of[&name];
            if let Some(Entry { kind: EntryKind::File { source: detdeb::FileSource::Bytes(c), .. }, .. }) = expected.get(group).copied() {
                let mut got = Vec::new();
                f.read_to_end(&mut got).unwrap();
                prop_assert_eq!(&got[..], &c[..]);
            }
        }
    }

    #[test]
    fn bytes_do_not_depend_on_input_order_or_threads(data in tree(), z in prop_oneof![Just(Compressor::Xz), Just(Compressor::Zstd)]) {
        let mut reversed = data.clone();
        reversed.reverse();
        prop_assert_eq!(build(data, z, 1), build(reversed, z, 3));
    }

    #[test]
    fn control_round_trips(fields in proptest::collection::btree_map("[A-Z][a-z]{0,8}(-[A-Z][a-z]{0,5})?", "[ -~]{1,40}(\n [ -~]{1,30}){0,2}", 1..8)) {
        let mut c = Control::new();
        let mut lower = BTreeSet::new();
        for (k, v) in &fields {
            if !lower.insert(k.to_ascii_lowercase()) { continue; }
            let v = v.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
            let first = v.lines().next().unwrap_or("").trim().to_string();
            let rest: Vec<&str> = v.lines().skip(1).filter(|l| !l.trim().is_empty()).collect();
            if first.is_empty() { continue; }
            let mut val = first;
            for l in rest { val.push('\n'); val.push_str(l); }
            c.set(k, val);
        }
        prop_assume!(c.fields().count() > 0);
        let text = c.to_text();
        let parsed = Control::parse(&text, "prop").unwrap();
        prop_assert_eq!(&parsed, &c);
        prop_assert_eq!(parsed.to_text(), text);
    }

    #[test]
    fn md5sums_round_trip(entries in proptest::collection::vec(("[a-z/._-]{1,40}", any::<[u8; 16]>()), 0..20)) {
        let m = Md5Sums { entries: entries.into_iter().map(|(p, d)| (p.into_bytes(), d)).collect() };
        prop_assert_eq!(Md5Sums::parse(&m.to_bytes(), "prop").unwrap(), m);
    }

    #[test]
    fn readers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = Control::parse(&String::from_utf8_lossy(&bytes), "fuzz");
        let _ = Md5Sums::parse(&bytes, "fuzz");
        let mut t = detdeb::TarReader::new(&bytes[..], "fuzz", detdeb::ReadLimits::default());
        while let Ok(Some(_)) = t.next_entry() {}
        if let Ok(r) = DebReader::from_source(&bytes[..], "fuzz") {
            let _ = r.list_data();
            let _ = r.control_files();
        }
    }

    #[test]
    fn readers_never_panic_on_mutated_packages(data in tree(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), z in compressor()) {
        let mut deb = build(data, z, 1);
        for (i, b) in flips {
            let at = i.index(deb.len());
            deb[at] ^= b | 1;
        }
        if let Ok(r) = DebReader::from_source(&deb[..], "mutated") {
            let _ = r.control();
            if let Ok(mut t) = r.data_tar() {
                while let Ok(Some(_)) = t.next_entry() {
                    let _ = std::io::copy(&mut t.data_reader(), &mut std::io::sink());
                }
            }
        }
    }
}
