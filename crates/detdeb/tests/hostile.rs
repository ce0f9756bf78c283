//! Hostile packages: every one is refused with a typed error naming the problem,
//! and nothing is written outside (or left behind in) the extraction's parent.
//!
//! The hostile entry lists shared with srcpin (`safe_extract::hostile::cases`) are each
//! built into a `.deb` here; srcpin builds the same table into source tarballs.

mod common;

use std::path::Path;

use detdeb::safe_extract::hostile::{Layout, cases, raw_tar};
use detdeb::safe_extract::{LimitKind, Refusal};
use detdeb::tar_write::{GnuTarWriter, TarEntryKind as TarKind, TarHeader};
use detdeb::{DebReader, Error, ExtractOptions, ReadLimits};

fn refusal(err: &Error) -> Option<&Refusal> {
    match err {
        Error::Archive(e) => e.refusal(),
        _ => None,
    }
}

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

/// Extracts `deb` into `parent/out`; on error, asserts that `parent` holds nothing
/// afterwards (no half-written tree, no temp dir).
fn extract_into(deb: &[u8], parent: &Path) -> Result<(), Error> {
    std::fs::create_dir(parent).unwrap();
    let r = DebReader::from_source(deb, "hostile.deb")?;
    let result = r
        .extract_data(&parent.join("out"), &ExtractOptions::default())
        .map(drop);
    if result.is_err() {
        let left: Vec<_> = std::fs::read_dir(parent).unwrap().collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
    result
}

#[test]
fn every_shared_hostile_case_holds_for_a_deb() {
    let t = common::tempdir();
    let outside = t.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let mut failures = Vec::new();
    let all = cases(&outside);
    assert!(all.len() >= 30);
    for (i, case) in all.iter().enumerate() {
        let deb = deb_with_data(&raw_tar(&case.entries, Layout::Package));
        let result = extract_into(&deb, &t.path().join(format!("case{i}")));
        let inner = match &result {
            Ok(()) => Ok(()),
            Err(Error::Archive(e)) => Err(&**e),
            Err(other) => {
                failures.push(format!("{}: not an archive error: {other}", case.name));
                continue;
            }
        };
        if let Err(e) = case.package.check(&inner) {
            failures.push(format!("{}: {e}", case.name));
        }
        if let Err(e) = &result {
            let msg = e.to_string();
            if !msg.contains("hostile.deb: data.tar") || msg.contains(".safe-extract-") {
                failures.push(format!(
                    "{}: message does not name the member: {msg}",
                    case.name
                ));
            }
        }
        let wrote: Vec<_> = std::fs::read_dir(&outside).unwrap().collect();
        assert!(wrote.is_empty(), "{}: wrote outside: {wrote:?}", case.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
    assert!(
        matches!(
            refusal(&err),
            Some(Refusal::LimitExceeded {
                which: LimitKind::FileSize | LimitKind::Ratio,
                ..
            })
        ),
        "{err}"
    );
}

/// 16 MiB of zeros per file compress to almost nothing; the bomb is refused by the
/// ratio to the compressed member size, with the default limits (it used to be 64 GiB
/// per member, so a 132 KB package could write 4 GiB).
fn zero_bomb_deb(files: usize) -> Vec<u8> {
    let zeros = vec![0u8; 16 << 20];
    let names: Vec<String> = (0..files).map(|i| format!("./bomb{i}")).collect();
    let entries: Vec<(TarHeader, &[u8])> = names
        .iter()
        .map(|n| (file(n, zeros.len()), &zeros[..]))
        .collect();
    let zst = zstd::encode_all(&tar_of(&entries)[..], 19).unwrap();
    assert!(zst.len() < 64 << 10, "{}", zst.len());
    deb_of(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar", &control_tar()),
        ("data.tar.zst", &zst),
    ])
}

#[test]
fn decompression_bomb_is_refused_by_the_ratio_to_the_compressed_size() {
    let d = zero_bomb_deb(8);
    let t = common::tempdir();
    let err = extract_into(&d, &t.path().join("p")).unwrap_err();
    assert!(
        matches!(
            refusal(&err),
            Some(Refusal::LimitExceeded {
                which: LimitKind::Ratio,
                ..
            })
        ),
        "{err}"
    );
    // Listing is bounded the same way (headers and data are both uncompressed output).
    let r = DebReader::from_source(&d[..], "bomb.deb").unwrap();
    assert!(r.list_data().is_err());
}

#[test]
fn bomb_limits_are_configurable() {
    let d = zero_bomb_deb(2);
    let generous = ReadLimits {
        max_ratio: 1 << 20,
        ..ReadLimits::default()
    };
    let t = common::tempdir();
    let out = t.path().join("out");
    let s = DebReader::from_source(&d[..], "bomb.deb")
        .unwrap()
        .with_limits(generous)
        .extract_data(&out, &ExtractOptions::default())
        .unwrap();
    assert_eq!(s.bytes, 32 << 20);
    let capped = ReadLimits {
        max_total: 8 << 20,
        ..generous
    };
    let err = DebReader::from_source(&d[..], "bomb.deb")
        .unwrap()
        .with_limits(capped)
        .extract_data(&t.path().join("out2"), &ExtractOptions::default())
        .unwrap_err();
    assert!(
        matches!(
            refusal(&err),
            Some(Refusal::LimitExceeded {
                which: LimitKind::TotalSize,
                ..
            })
        ),
        "{err}"
    );
    assert!(!t.path().join("out2").exists());
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
    assert!(
        matches!(refusal(&err), Some(Refusal::Traversal { .. })),
        "{err}"
    );
}

#[test]
fn data_entries_stream_before_the_rest_is_read() {
    // Two good entries, then garbage: a streaming lister has printed both before it
    // meets the error (`deb list` no longer holds every entry in memory).
    let mut tar = tar_of(&[(file("./a", 1), b"1"), (file("./b", 1), b"2")]);
    tar.truncate(2048);
    tar.extend([b'x'; 512]);
    let d = deb_with_data(&tar);
    let r = DebReader::from_source(&d[..], "s.deb").unwrap();
    let mut it = r.data_entries().unwrap();
    assert_eq!(it.next().unwrap().unwrap().name, b"./a");
    assert_eq!(it.next().unwrap().unwrap().name, b"./b");
    let err = it.next().unwrap().unwrap_err();
    assert!(matches!(err, Error::Archive(_)), "{err}");
    assert!(it.next().is_none(), "the iterator stops after an error");
}

#[test]
fn missing_control_file_names_the_member_not_line_zero() {
    let d = deb_of(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar", &tar_of(&[(entry("./", TarKind::Dir), b"")])),
        ("data.tar", &tar_of(&[])),
    ]);
    let err = DebReader::from_source(&d[..], "n.deb")
        .unwrap()
        .control()
        .unwrap_err();
    assert!(matches!(err, Error::ControlFile { .. }), "{err}");
    let msg = err.to_string();
    assert!(!msg.contains("line 0"), "{msg}");
    assert!(
        msg.starts_with("n.deb: control.tar: no `control` file"),
        "{msg}"
    );
}

#[test]
fn io_errors_print_their_cause_once() {
    let t = common::tempdir();
    let missing = t.path().join("missing.deb");
    let err = DebReader::open(&missing).unwrap_err();
    assert!(
        std::error::Error::source(&err).is_none(),
        "cause would print twice"
    );
    let msg = err.to_string();
    assert_eq!(msg.matches("No such file or directory").count(), 1, "{msg}");
    assert_eq!(msg.matches("missing.deb").count(), 1, "{msg}");
}

#[test]
fn extracting_onto_an_existing_path_says_so() {
    let d = deb_with_data(&tar_of(&[(entry("./", TarKind::Dir), b"")]));
    let t = common::tempdir();
    let err = DebReader::from_source(&d[..], "e.deb")
        .unwrap()
        .extract_data(t.path(), &ExtractOptions::default())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Archive(e)
            if matches!(**e, detdeb::safe_extract::Error::DestinationExists { .. })),
        "{err}"
    );
}
