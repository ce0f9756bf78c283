//! Hostile tarballs: each is refused with a typed refusal and nothing is written outside
//! the destination temp dir. The hostile entry lists shared with detdeb
//! (`safe_extract::hostile::cases`) are each built into a source tarball here; detdeb
//! builds the same table into `.deb`s.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::*;
use safe_extract::hostile::{Layout, cases, raw_tar as hostile_tar};
use safe_extract::{LimitKind, Refusal};
use srcpin::unpack::{normalize_mtimes, unpack_tar, unpack_tar_sized};
use srcpin::{Error, UnpackLimits};
use tar::EntryType::*;

fn refusal(err: &Error) -> Option<&Refusal> {
    match err {
        Error::Unpack(e) => e.refusal(),
        _ => None,
    }
}

fn limit_kind(err: &Error) -> Option<LimitKind> {
    match refusal(err) {
        Some(Refusal::LimitExceeded { which, .. }) => Some(*which),
        _ => None,
    }
}

struct Sandbox {
    _dir: tempfile::TempDir,
    dest: std::path::PathBuf,
    outside: std::path::PathBuf,
}

/// `<tmp>/a/b/dest` is the unpack target; `<tmp>/outside` must stay empty.
fn sandbox() -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a/b/dest");
    fs::create_dir_all(&dest).unwrap();
    let outside = dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    Sandbox {
        dest,
        outside,
        _dir: dir,
    }
}

fn unpack(sb: &Sandbox, tar: &[u8], limits: &UnpackLimits) -> Result<std::path::PathBuf, Error> {
    unpack_tar(tar, &sb.dest, "top", limits, "test.tar")
}

#[test]
fn good_tree_has_fixed_modes_and_links_inside() {
    let sb = sandbox();
    let tar = raw_tar(&[
        ("./", Directory, "", b"", 0o755),
        ("top/", Directory, "", b"", 0o777),
        ("top/sub/file", Regular, "", b"content\n", 0o600),
        ("top/run.sh", Regular, "", b"#!/bin/sh\n", 0o4755),
        ("top/link", Symlink, "sub/file", b"", 0o777),
        ("top/sub/up", Symlink, "../run.sh", b"", 0o777),
        ("top/hard", Link, "top/sub/file", b"", 0o644),
        ("./top/dot-prefixed", Regular, "", b"x", 0o644),
    ]);
    let top = unpack(&sb, &tar, &UnpackLimits::default()).unwrap();
    assert_eq!(top, sb.dest.join("top"));
    assert_eq!(tree(&sb.dest).len(), 8, "{:?}", tree(&sb.dest));
    // The destination must be fresh.
    let err = unpack(&sb, &tar, &UnpackLimits::default()).unwrap_err();
    assert!(matches!(err, Error::OutputExists { .. }), "{err}");
    let mode = |p: &str| {
        fs::symlink_metadata(top.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("sub/file"), 0o644);
    assert_eq!(mode("run.sh"), 0o755, "setuid dropped, exec kept");
    assert_eq!(mode("sub"), 0o755);
    assert_eq!(
        fs::read_link(top.join("link")).unwrap(),
        Path::new("sub/file")
    );
    assert_eq!(fs::read(top.join("link")).unwrap(), b"content\n");
    assert_eq!(fs::metadata(top.join("hard")).unwrap().nlink(), 2);
    normalize_mtimes(&top, 1_794_660_961).unwrap();
    for p in ["", "sub", "sub/file", "run.sh", "hard"] {
        assert_eq!(
            fs::metadata(top.join(p)).unwrap().mtime(),
            1_794_660_961,
            "{p}"
        );
    }
    assert_eq!(
        fs::symlink_metadata(top.join("link")).unwrap().mtime(),
        1_794_660_961
    );
}

#[test]
fn every_shared_hostile_case_holds_for_a_source_tarball() {
    let sb = sandbox();
    let mut failures = Vec::new();
    let all = cases(&sb.outside);
    assert!(all.len() >= 30);
    let before = fs::metadata("/etc/passwd").unwrap().nlink();
    for (i, case) in all.iter().enumerate() {
        let dest = sb.dest.join(format!("case{i}"));
        fs::create_dir(&dest).unwrap();
        let tar = hostile_tar(&case.entries, Layout::Source("top"));
        let result = unpack_tar(&tar[..], &dest, "top", &UnpackLimits::default(), "test.tar");
        let inner = match &result {
            Ok(_) => Ok(()),
            Err(Error::Unpack(e)) => Err(e),
            Err(other) => {
                failures.push(format!("{}: not an unpack error: {other}", case.name));
                continue;
            }
        };
        if let Err(e) = case.source.check(&inner) {
            failures.push(format!("{}: {e}", case.name));
        }
        if result.is_err() && !tree(&dest).is_empty() {
            failures.push(format!("{}: left {:?}", case.name, tree(&dest)));
        }
        assert!(tree(&sb.outside).is_empty(), "{}: wrote outside", case.name);
    }
    assert_eq!(fs::metadata("/etc/passwd").unwrap().nlink(), before);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn entries_outside_the_top_dir_are_refused() {
    let sb = sandbox();
    let tar = raw_tar(&[
        ("top/", Directory, "", b"", 0o755),
        ("other/a", Regular, "", b"1", 0o644),
    ]);
    let err = unpack(&sb, &tar, &UnpackLimits::default()).unwrap_err();
    assert!(
        matches!(refusal(&err), Some(Refusal::OutsideTopDir { .. })),
        "{err}"
    );
    let sb = sandbox();
    let err = unpack(
        &sb,
        &raw_tar(&[("top", Regular, "", b"1", 0o644)]),
        &UnpackLimits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(refusal(&err), Some(Refusal::TopDirNotADirectory { .. })),
        "{err}"
    );
}

#[test]
fn zero_bomb_is_refused_by_the_ratio_to_the_compressed_size() {
    // 64 MiB of zeros in one file: xz makes it ~10 KB; under every absolute limit, but
    // thousands of times its compressed size.
    let zeros = vec![0u8; 64 << 20];
    let compressed = xz(&raw_tar(&[
        ("top/", Directory, "", b"", 0o755),
        ("top/zeros", Regular, "", &zeros, 0o644),
    ]));
    let sb = sandbox();
    let err = unpack_tar_sized(
        xz2::read::XzDecoder::new(&compressed[..]),
        Some(compressed.len() as u64),
        &sb.dest,
        "top",
        &UnpackLimits::default(),
        "bomb.tar.xz",
    )
    .unwrap_err();
    assert_eq!(limit_kind(&err), Some(LimitKind::Ratio), "{err}");
    assert!(tree(&sb.dest).is_empty());
}

#[test]
fn long_names_are_bounded_and_cut_in_errors() {
    // A 60 KB GNU long name (under the 64 KiB record limit, over the 4096-byte path
    // limit): refused, and the error quotes only the start of it.
    let name = format!("top/{}", "a".repeat(60_000));
    let mut b = tar::Builder::new(Vec::new());
    b.append(&raw_header(b"top/", Directory, b"", 0, 0o755), &b""[..])
        .unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    h.set_entry_type(Regular);
    b.append_data(&mut h, &name, &b"x"[..]).unwrap();
    let sb = sandbox();
    let err = unpack(&sb, &b.into_inner().unwrap(), &UnpackLimits::default()).unwrap_err();
    assert_eq!(limit_kind(&err), Some(LimitKind::PathLength), "{err}");
    assert!(
        err.to_string().len() < 1000,
        "{} bytes",
        err.to_string().len()
    );
}

#[test]
fn ten_gigabyte_zero_bomb_is_refused_before_reading() {
    // A header claiming 10 GB of zeros, followed by 4 MB of zeros; xz makes it tiny.
    let mut raw = raw_header(b"top/bomb", Regular, b"", 10_000_000_000, 0o644)
        .as_bytes()
        .to_vec();
    raw.extend(std::iter::repeat_n(0u8, 4 << 20));
    let compressed = xz(&raw);
    assert!(compressed.len() < 10_000, "{} bytes", compressed.len());
    let sb = sandbox();
    let reader = xz2::read::XzDecoder::new(&compressed[..]);
    let err = unpack_tar(
        reader,
        &sb.dest,
        "top",
        &UnpackLimits::default(),
        "bomb.tar.xz",
    )
    .unwrap_err();
    assert_eq!(limit_kind(&err), Some(LimitKind::FileSize), "{err}");
    assert!(!sb.dest.join("top/bomb").exists());
    // A well-formed GNU sparse entry: 10 GB of holes from a 512-byte body; refused by type.
    let mut h = raw_header(b"top/sparse", GNUSparse, b"", 512, 0o644);
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.realsize
            .copy_from_slice(format!("{:012o}", 10_000_000_000u64).as_bytes());
        gnu.sparse[0]
            .offset
            .copy_from_slice(format!("{:012o}", 9_999_999_488u64).as_bytes());
        gnu.sparse[0].numbytes.copy_from_slice(b"00000001000\0");
    }
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&raw_header(b"top/", Directory, b"", 0, 0o755), &b""[..])
        .unwrap();
    b.append(&h, &[0u8; 512][..]).unwrap();
    let sparse = xz(&b.into_inner().unwrap());
    let sb = sandbox();
    let err = unpack_tar(
        xz2::read::XzDecoder::new(&sparse[..]),
        &sb.dest,
        "top",
        &UnpackLimits::default(),
        "sparse.tar.xz",
    )
    .unwrap_err();
    assert!(
        matches!(
            refusal(&err),
            Some(Refusal::UnsupportedType { typeflag: 'S', .. })
        ),
        "{err}"
    );
    assert!(tree(&sb.dest).is_empty());
}

#[test]
fn total_size_and_entry_limits_hold_while_streaming() {
    let zeros = vec![0u8; 600_000];
    let tar = raw_tar(&[
        ("top/", Directory, "", b"", 0o755),
        ("top/a", Regular, "", &zeros, 0o644),
        ("top/b", Regular, "", &zeros, 0o644),
    ]);
    let limits = UnpackLimits {
        max_total_bytes: 1_000_000,
        ..UnpackLimits::default()
    };
    let sb = sandbox();
    let err = unpack(&sb, &tar, &limits).unwrap_err();
    assert_eq!(limit_kind(&err), Some(LimitKind::DataSize), "{err}");
    let limits = UnpackLimits {
        max_entries: 2,
        ..UnpackLimits::default()
    };
    let sb = sandbox();
    let err = unpack(&sb, &tar, &limits).unwrap_err();
    assert_eq!(limit_kind(&err), Some(LimitKind::Entries), "{err}");
}
