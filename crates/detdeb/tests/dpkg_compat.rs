//! detdeb against the machine's real dpkg-deb and dpkg: same bytes, and the
//! reference tools accept and install what we write.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::process::Command;

use common::*;
use detdeb::{CompressionParams, Compressor, DebBuilder, DebReader};

const ALL: [(Compressor, &str); 4] = [
    (Compressor::Gzip, "gzip"),
    (Compressor::Xz, "xz"),
    (Compressor::Zstd, "zstd"),
    (Compressor::None, "none"),
];

#[test]
fn fixture_tree_is_byte_identical_to_dpkg_deb_for_every_compressor() {
    let t = tempdir();
    let root = t.path().join("pkg");
    make_fixture_tree(&root);
    for (z, name) in ALL {
        let theirs = t.path().join(format!("dpkg-{name}.deb"));
        let ours = t.path().join(format!("ours-{name}.deb"));
        dpkg_deb_build(&root, &theirs, name, SDE);
        our_build(&root, &ours, z, SDE);
        assert_eq!(
            sha256_file(&ours),
            sha256_file(&theirs),
            "-Z{name}: detdeb and dpkg-deb differ (cmp {} {})",
            ours.display(),
            theirs.display()
        );
    }
}

#[test]
fn empty_data_tree_is_byte_identical() {
    let t = tempdir();
    let root = t.path().join("pkg");
    write(
        &root.join("DEBIAN/control"),
        b"Package: empty\nVersion: 0\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: nothing\n",
    );
    for (z, name) in ALL {
        let theirs = t.path().join(format!("dpkg-{name}.deb"));
        let ours = t.path().join(format!("ours-{name}.deb"));
        dpkg_deb_build(&root, &theirs, name, SDE);
        our_build(&root, &ours, z, SDE);
        assert_eq!(sha256_file(&ours), sha256_file(&theirs), "-Z{name}");
    }
}

#[test]
fn zstd_input_of_exact_chunk_multiple_matches_dpkg_deb() {
    // dpkg-deb feeds libzstd 128 KiB chunks and ends with an empty chunk when the
    // tar size is an exact multiple: that path must match too. 131072 * 5 bytes of
    // tar = headers + data chosen to land exactly (1 record = 10240).
    let t = tempdir();
    let root = t.path().join("pkg");
    write(
        &root.join("DEBIAN/control"),
        b"Package: chunk\nVersion: 0\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: c\n",
    );
    // tar = 512 (./) + 512 (header) + data padded + 1024 end, rounded to 10240.
    // 655360 = 64 records; data of 655360 - 2048 = 653312 bytes (a multiple of 512).
    write(&root.join("blob"), &vec![7u8; 653_312]);
    let theirs = t.path().join("dpkg.deb");
    let ours = t.path().join("ours.deb");
    dpkg_deb_build(&root, &theirs, "zstd", SDE);
    let summary = DebBuilder::from_staging_dir(&root, SDE, false)
        .unwrap()
        .compression(CompressionParams::new(Compressor::Zstd))
        .write_to_path(&ours)
        .unwrap();
    assert_eq!(
        summary.data_tar_size % 131_072,
        0,
        "fixture no longer lands on a chunk boundary"
    );
    assert_eq!(sha256_file(&ours), sha256_file(&theirs));
}

#[test]
fn output_ignores_threads_umask_owner_creation_order_and_future_mtimes() {
    let t = tempdir();
    // Two trees with the same content, made in different orders, different owners,
    // different future mtimes (both clamped to SDE).
    let a = t.path().join("a");
    let b = t.path().join("b");
    for (root, order, owner, future) in [
        (&a, false, 0u32, 2_000_000_000i64),
        (&b, true, 65534, 3_000_000_000),
    ] {
        let mut files = vec![
            ("usr/share/x/one", "1"),
            ("usr/share/x/two", "2"),
            ("usr/bin/three", "3"),
        ];
        if order {
            files.reverse();
        }
        write(
            &root.join("DEBIAN/control"),
            b"Package: p\nVersion: 1\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: d\n",
        );
        for (p, c) in files {
            write(&root.join(p), c.as_bytes());
            set_mtime(&root.join(p), future);
            if nix_is_root() {
                std::os::unix::fs::chown(root.join(p), Some(owner), Some(owner)).unwrap();
            }
        }
    }
    for z in [Compressor::Xz, Compressor::Zstd, Compressor::Gzip] {
        let mut outs = Vec::new();
        for (root, threads) in [(&a, 1), (&b, 4)] {
            let out = t.path().join(format!("{}-{threads}.deb", z.name()));
            let mut p = CompressionParams::new(z);
            p.threads = threads;
            DebBuilder::from_staging_dir(root, SDE, false)
                .unwrap()
                .compression(p)
                .write_to_path(&out)
                .unwrap();
            outs.push(sha256_file(&out));
        }
        assert_eq!(outs[0], outs[1], "{z}: output depends on environment");
    }
    // And an earlier SOURCE_DATE_EPOCH does change the bytes (the test can fail).
    let early = t.path().join("early.deb");
    our_build(&a, &early, Compressor::Xz, SDE - 1);
    assert_ne!(sha256_file(&early), sha256_file(&t.path().join("xz-1.deb")));
}

fn nix_is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

#[test]
fn dpkg_tools_accept_and_install_our_packages() {
    let t = tempdir();
    let root = t.path().join("pkg");
    make_fixture_tree(&root);
    for (z, name) in ALL {
        let deb = t.path().join(format!("fixture-{name}.deb"));
        our_build(&root, &deb, z, SDE);
        let info = run(Command::new("dpkg-deb").arg("-I").arg(&deb));
        assert!(info.contains("Package: fixture"), "{info}");
        assert!(info.contains("postinst"), "{info}");
        let contents = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
        assert!(
            contents.contains(
                "./usr/share/doc/fixture/README.hard link to ./usr/share/doc/fixture/README"
            ),
            "{contents}"
        );
        assert!(contents.contains("-rwsr-xr-x root/root"), "{contents}");
        run(Command::new("dpkg").arg("--info").arg(&deb));
        // Our own reader sees the same entry count as dpkg-deb.
        let ours = DebReader::open(&deb).unwrap().list_data().unwrap();
        assert_eq!(ours.len(), contents.lines().count());
    }
    // Install into an empty dpkg root.
    let deb = t.path().join("fixture-xz.deb");
    let inst = t.path().join("root");
    let admin = inst.join("var/lib/dpkg");
    for d in ["info", "updates", "triggers"] {
        fs::create_dir_all(admin.join(d)).unwrap();
    }
    fs::write(admin.join("status"), b"").unwrap();
    run(Command::new("dpkg")
        .arg(format!("--root={}", inst.display()))
        .arg(format!("--admindir={}", admin.display()))
        .arg("--force-script-chrootless")
        .arg("--force-not-root")
        .arg("--log=/dev/null")
        .arg("-i")
        .arg(&deb));
    assert_eq!(
        fs::read(inst.join("usr/share/doc/fixture/README")).unwrap(),
        b"hello\n"
    );
    assert_eq!(
        fs::read_link(inst.join("usr/share/doc/fixture/README.link")).unwrap(),
        std::path::Path::new("README")
    );
    let status = fs::read_to_string(admin.join("status")).unwrap();
    assert!(
        status.contains("Package: fixture\nStatus: install ok installed"),
        "{status}"
    );
}
