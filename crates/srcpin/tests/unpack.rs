//! Hostile tarballs built with the tar crate's raw header API: each is refused and nothing
//! is written outside the destination temp dir.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::*;
use srcpin::unpack::{normalize_mtimes, unpack_tar};
use srcpin::{Error, UnpackLimits};
use tar::EntryType::{self, *};

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

fn refused(entries: &[(&str, EntryType, &str, &[u8], u32)], want: &str) -> Sandbox {
    let sb = sandbox();
    let err = unpack(&sb, &raw_tar(entries), &UnpackLimits::default()).unwrap_err();
    assert!(
        err.to_string().contains(want),
        "expected {want:?} in: {err}"
    );
    assert!(
        tree(&sb.outside).is_empty(),
        "wrote outside: {:?}",
        tree(&sb.outside)
    );
    sb
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
    assert!(err.to_string().contains("is not empty"), "{err}");
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
fn traversal_is_refused() {
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/../../../outside/x", Regular, "", b"pwned", 0o644),
        ],
        "'..'",
    );
}

#[test]
fn absolute_path_is_refused() {
    let sb = sandbox();
    let abs = format!("{}/abs", sb.outside.display());
    let err = unpack(
        &sb,
        &raw_tar(&[
            ("top/", Directory, "", b"", 0o755),
            (&abs, Regular, "", b"pwned", 0o644),
        ]),
        &UnpackLimits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("absolute path"), "{err}");
    assert!(tree(&sb.outside).is_empty());
}

#[test]
fn symlink_escape_then_write_through_it_is_refused() {
    // The classic: a symlink pointing outside, then a file "inside" it.
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/evil", Symlink, "../../../../outside", b"", 0o777),
            ("top/evil/pwned", Regular, "", b"pwned", 0o644),
        ],
        "path goes through the symlink",
    );
}

#[test]
fn escaping_symlinks_are_refused_even_without_a_write() {
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/evil", Symlink, "../x", b"", 0o777),
        ],
        "escapes the tree",
    );
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/evil", Symlink, "/etc/passwd", b"", 0o777),
        ],
        "absolute symlink",
    );
    // Chained: each link looks harmless lexically, but `dot/dot/..` really is `top/..`.
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/dot", Symlink, ".", b"", 0o777),
            ("top/chain", Symlink, "dot/dot/../../x", b"", 0o777),
        ],
        "escapes the tree",
    );
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/l1", Symlink, "l2", b"", 0o777),
            ("top/l2", Symlink, "l1", b"", 0o777),
        ],
        "loop",
    );
}

#[test]
fn hard_link_to_etc_passwd_is_refused() {
    let before = fs::metadata("/etc/passwd").unwrap().nlink();
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/passwd", Link, "/etc/passwd", b"", 0o644),
        ],
        "absolute path",
    );
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            (
                "top/passwd",
                Link,
                "top/../../../../../../etc/passwd",
                b"",
                0o644,
            ),
        ],
        "'..'",
    );
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/passwd", Link, "etc/passwd", b"", 0o644),
        ],
        "not an earlier regular file",
    );
    assert_eq!(fs::metadata("/etc/passwd").unwrap().nlink(), before);
}

#[test]
fn device_nodes_and_fifos_are_refused() {
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/null", Char, "", b"", 0o666),
        ],
        "not allowed",
    );
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/sda", Block, "", b"", 0o660),
        ],
        "not allowed",
    );
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/fifo", Fifo, "", b"", 0o644),
        ],
        "not allowed",
    );
}

#[test]
fn duplicates_and_entries_outside_the_top_dir_are_refused() {
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/a", Regular, "", b"1", 0o644),
            ("top/a", Regular, "", b"2", 0o644),
        ],
        "duplicate path",
    );
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("other/a", Regular, "", b"1", 0o644),
        ],
        "outside the top directory",
    );
    refused(&[("top", Regular, "", b"1", 0o644)], "must be a directory");
    refused(
        &[
            ("top/", Directory, "", b"", 0o755),
            ("top/f", Regular, "", b"1", 0o644),
            ("top/f/g", Regular, "", b"2", 0o644),
        ],
        "goes through the file",
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
    assert!(err.to_string().contains("decompression bomb"), "{err}");
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
        err.to_string().contains("GNUSparse") && err.to_string().contains("not allowed"),
        "{err}"
    );
    assert!(tree(&sb.dest.join("top")).is_empty());
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
    assert!(
        err.to_string().contains("more than 1000000 bytes in total"),
        "{err}"
    );
    let limits = UnpackLimits {
        max_entries: 2,
        ..UnpackLimits::default()
    };
    let sb = sandbox();
    let err = unpack(&sb, &tar, &limits).unwrap_err();
    assert!(err.to_string().contains("more than 2 entries"), "{err}");
}

#[test]
fn non_utf8_names_are_refused() {
    let sb = sandbox();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&raw_header(b"top/", Directory, b"", 0, 0o755), &b""[..])
        .unwrap();
    b.append(
        &raw_header(b"top/\xff\xfe", Regular, b"", 1, 0o644),
        &b"x"[..],
    )
    .unwrap();
    let err = unpack(&sb, &b.into_inner().unwrap(), &UnpackLimits::default()).unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}

#[test]
fn pax_path_and_linkpath_overrides_are_checked_too() {
    // The ustar name is harmless; the PAX `path` record that overrides it is not.
    let sb = sandbox();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&raw_header(b"top/", Directory, b"", 0, 0o755), &b""[..])
        .unwrap();
    b.append_pax_extensions([("path", &b"top/../../../outside/pax"[..])])
        .unwrap();
    b.append(
        &raw_header(b"top/innocent", Regular, b"", 5, 0o644),
        &b"pwned"[..],
    )
    .unwrap();
    let err = unpack(&sb, &b.into_inner().unwrap(), &UnpackLimits::default()).unwrap_err();
    assert!(err.to_string().contains("'..'"), "{err}");
    assert!(tree(&sb.outside).is_empty());

    let sb = sandbox();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&raw_header(b"top/", Directory, b"", 0, 0o755), &b""[..])
        .unwrap();
    b.append_pax_extensions([("linkpath", &b"../../../outside"[..])])
        .unwrap();
    b.append(&raw_header(b"top/l", Symlink, b"ok", 0, 0o777), &b""[..])
        .unwrap();
    let err = unpack(&sb, &b.into_inner().unwrap(), &UnpackLimits::default()).unwrap_err();
    assert!(err.to_string().contains("escapes the tree"), "{err}");
    assert!(tree(&sb.outside).is_empty());
}
