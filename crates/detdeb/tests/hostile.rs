//! Hostile packages: every one is refused with a typed error naming the problem,
//! and nothing is written outside (or left behind in) the extraction's parent.

mod common;

use std::path::Path;

use detdeb::tar_write::{GnuTarWriter, TarEntryKind as TarKind, TarHeader};
use detdeb::{DebReader, Error, ExtractOptions, ReadLimits};

/// A raw tar entry for building hostile streams.
fn entry(name: &str, kind: TarKind) -> TarHeader {
    TarHeader {
        name: name.as_bytes().to_vec(),
        mode: 0o644,
        mtime: 0,
        size: 0,
        kind,
    }
}

fn file(name: &str, size: usize) -> TarHeader {
    TarHeader {
        size: size as u64,
        ..entry(name, TarKind::File)
    }
}

fn tar_of(entries: &[(TarHeader, &[u8])]) -> Vec<u8> {
    let mut w = GnuTarWriter::new(Vec::new());
    for (h, data) in entries {
        let mut d: &[u8] = data;
        w.append(h, Some(&mut d)).unwrap();
    }
    w.finish().unwrap().0
}

fn control_tar() -> Vec<u8> {
    let c = b"Package: evil\nVersion: 1\nArchitecture: all\n";
    tar_of(&[
        (entry("./", TarKind::Dir), b""),
        (file("./control", c.len()), c),
    ])
}

/// An ar container with uncompressed members.
fn deb_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        out.extend_from_slice(
            format!(
                "{name:<16}{:<12}{:<6}{:<6}{:<8o}{:<10}`\n",
                0,
                0,
                0,
                0o100644,
                data.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

fn deb_with_data(data_tar: &[u8]) -> Vec<u8> {
    deb_of(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar", &control_tar()),
        ("data.tar", data_tar),
    ])
}

/// Extracts `deb` into a fresh dir; asserts refusal, and that the parent holds
/// nothing afterwards (no half-written tree, no temp dir).
fn assert_extract_refused(deb: &[u8], expect: &str) {
    let t = common::tempdir();
    let parent = t.path().join("parent");
    std::fs::create_dir(&parent).unwrap();
    let r = DebReader::from_source(deb, "hostile.deb").unwrap();
    let err = r
        .extract_data(&parent.join("out"), &ExtractOptions::default())
        .expect_err("hostile package was extracted");
    let msg = err.to_string();
    assert!(msg.contains(expect), "expected {expect:?} in: {msg}");
    assert!(
        msg.contains("data.tar"),
        "error does not name the member: {msg}"
    );
    let left: Vec<_> = std::fs::read_dir(&parent).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn traversal_is_refused() {
    let d = deb_with_data(&tar_of(&[(file("./../escaped", 1), b"x")]));
    assert_extract_refused(&d, "`..`");
}

#[test]
fn absolute_path_is_refused() {
    let d = deb_with_data(&tar_of(&[(file("/tmp/detdeb-abs", 1), b"x")]));
    assert_extract_refused(&d, "absolute path");
    assert!(!Path::new("/tmp/detdeb-abs").exists());
}

#[test]
fn escaping_symlink_is_refused() {
    let d = deb_with_data(&tar_of(&[(
        entry(
            "./usr/link",
            TarKind::Symlink {
                target: b"../../../../etc".to_vec(),
            },
        ),
        b"",
    )]));
    assert_extract_refused(&d, "escapes the tree");
}

#[test]
fn writing_through_a_symlink_is_refused() {
    let t = common::tempdir();
    let victim = t.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    let target = victim.to_str().unwrap().as_bytes().to_vec();
    let d = deb_with_data(&tar_of(&[
        (entry("./lnk", TarKind::Symlink { target }), b""),
        (file("./lnk/owned", 3), b"pwn"),
    ]));
    assert_extract_refused(&d, "not a directory");
    assert!(
        std::fs::read_dir(&victim).unwrap().next().is_none(),
        "wrote through the link"
    );
}

#[test]
fn hard_link_out_of_the_tree_is_refused() {
    let d = deb_with_data(&tar_of(&[(
        entry(
            "./passwd",
            TarKind::HardLink {
                target: b"/etc/passwd".to_vec(),
            },
        ),
        b"",
    )]));
    assert_extract_refused(&d, "hard link target");
    let d = deb_with_data(&tar_of(&[(
        entry(
            "./passwd",
            TarKind::HardLink {
                target: b"../../../../etc/passwd".to_vec(),
            },
        ),
        b"",
    )]));
    assert_extract_refused(&d, "hard link target");
}

#[test]
fn device_nodes_and_fifos_are_refused() {
    let d = deb_with_data(&tar_of(&[(
        entry("./sda", TarKind::BlockDev { major: 8, minor: 0 }),
        b"",
    )]));
    assert_extract_refused(&d, "device nodes");
    let d = deb_with_data(&tar_of(&[(entry("./fifo", TarKind::Fifo), b"")]));
    assert_extract_refused(&d, "FIFOs");
}

#[test]
fn duplicate_entries_are_refused() {
    let d = deb_with_data(&tar_of(&[(file("./a", 1), b"1"), (file("a", 1), b"2")]));
    assert_extract_refused(&d, "duplicate entry");
}

#[test]
fn huge_long_name_record_is_refused_without_allocating_it() {
    // A GNU long-name header claiming 1 GiB, followed by nothing.
    let mut tar = tar_of(&[(file("./x", 0), b"")]);
    let mut h = [0u8; 512];
    h[..13].copy_from_slice(b"././@LongLink");
    h[100..108].copy_from_slice(b"0000644\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", 1u64 << 30).as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[156] = b'L';
    h[257..265].copy_from_slice(b"ustar  \0");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    tar.splice(0..0, h);
    let d = deb_with_data(&tar);
    assert_extract_refused(&d, "extension record of 1073741824 bytes exceeds the limit");
}

#[test]
fn absurd_entry_size_is_refused() {
    let mut tar = tar_of(&[(file("./x", 0), b"")]);
    // Patch the size field to 2^60 (base-256) and fix the checksum.
    tar[124..136].copy_from_slice(&[0x80, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0]);
    tar[148..156].fill(b' ');
    let sum: u32 = tar[..512].iter().map(|&b| u32::from(b)).sum();
    tar[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let d = deb_with_data(&tar);
    let r = DebReader::from_source(&d[..], "hostile.deb").unwrap();
    let err = r.list_data().unwrap_err();
    assert!(matches!(err, Error::Tar { .. }), "{err}");
    assert!(err.to_string().contains("absurd"), "{err}");
}

#[test]
fn decompression_bomb_hits_the_limit() {
    // 16 files of 4 MiB of zeros compress to a few KiB of zstd; each file is under
    // the 8 MiB limit, their sum is not, and the stream is stopped while reading.
    let zeros = vec![0u8; 4 << 20];
    let names: Vec<String> = (0..16).map(|i| format!("./bomb{i}")).collect();
    let entries: Vec<(TarHeader, &[u8])> = names
        .iter()
        .map(|n| (file(n, zeros.len()), &zeros[..]))
        .collect();
    let tar = tar_of(&entries);
    let zst = zstd::encode_all(&tar[..], 19).unwrap();
    assert!(zst.len() < 1 << 20);
    let d = deb_of(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar", &control_tar()),
        ("data.tar.zst", &zst),
    ]);
    let r = DebReader::from_source(&d[..], "bomb.deb")
        .unwrap()
        .with_limits(ReadLimits {
            max_total: 8 << 20,
            ..ReadLimits::default()
        });
    let t = common::tempdir();
    let err = r
        .extract_data(&t.path().join("out"), &ExtractOptions::default())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Limit {
                what: "uncompressed size",
                ..
            }
        ),
        "{err}"
    );
    assert!(!t.path().join("out").exists());
}

#[test]
fn bad_checksum_names_member_and_offset() {
    let mut tar = tar_of(&[(file("./a", 1), b"1"), (file("./b", 1), b"2")]);
    tar[1024 + 10] ^= 1; // second header
    let d = deb_with_data(&tar);
    let err = DebReader::from_source(&d[..], "x.deb")
        .unwrap()
        .list_data()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "x.deb: data.tar: tar header at offset 1024: header checksum mismatch"
    );
}

#[test]
fn container_errors_name_the_offset() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"not a deb at all".to_vec(), "offset 0: not an ar archive"),
        (b"!<arch>\n".to_vec(), "no members"),
        (
            b"!<arch>\ndebian-binary   0".to_vec(),
            "offset 8: truncated member header",
        ),
        (
            deb_of(&[("debian-binary", b"2.0\n"), ("control.tar", &[0u8; 300])])[..250].to_vec(),
            "past the end of the file",
        ),
        (
            deb_of(&[("debian-binary", b"3.0\n")]),
            "unsupported .deb format version",
        ),
        (deb_of(&[("control.tar", b"")]), "not debian-binary"),
        (
            deb_of(&[
                ("debian-binary", b"2.0\n"),
                ("data.tar", b""),
                ("control.tar", b""),
            ]),
            "data member before the control member",
        ),
        (
            deb_of(&[
                ("debian-binary", b"2.0\n"),
                ("control.tar", b""),
                ("evil", b""),
            ]),
            "unexpected member \"evil\"",
        ),
        (
            deb_of(&[
                ("debian-binary", b"2.0\n"),
                ("control.tar", b""),
                ("data.tar.bz2", b""),
            ]),
            "unsupported compression",
        ),
        (
            deb_of(&[
                ("debian-binary", b"2.0\n"),
                ("control.tar", b""),
                ("control.tar", b""),
            ]),
            "duplicate member",
        ),
    ];
    for (bytes, expect) in cases {
        let err = DebReader::from_source(&bytes[..], "c.deb")
            .unwrap_err()
            .to_string();
        assert!(err.contains(expect), "expected {expect:?} in {err:?}");
    }
}

#[test]
fn control_area_traversal_is_refused() {
    let c = b"Package: evil\nVersion: 1\nArchitecture: all\n";
    let ctl = tar_of(&[(file("../control", c.len()), c)]);
    let d = deb_of(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar", &ctl),
        ("data.tar", &tar_of(&[])),
    ]);
    let err = DebReader::from_source(&d[..], "c.deb")
        .unwrap()
        .control()
        .unwrap_err();
    assert!(matches!(err, Error::Refused { .. }), "{err}");
}
