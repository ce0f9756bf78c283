//! Debian's own kernel packages: detdeb reads them like dpkg-deb does, and
//! repacking their trees gives dpkg-deb's bytes for gzip, xz and zstd.
//!
//! The packages are fetched with `apt-get download` into `target/debian-debs/`
//! (or `$SAMEKERNEL_DEBIAN_DEBS`) the first time; they are never committed.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use detdeb::{Compressor, DebReader, ExtractOptions, TarEntryKind};

/// Newest `linux-image-6.12.*-amd64-unsigned` and `linux-headers-6.12.*-common`.
///
/// The tests in this file run on parallel threads and each wants the
/// packages, so they are looked up (and downloaded) once per process. The
/// download itself goes to a private directory and is renamed into place, so
/// another process (or a killed run) never leaves a half-written `.deb` that a
/// later lookup would take for a whole one.
fn debian_kernel_debs() -> Vec<PathBuf> {
    static DEBS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    DEBS.get_or_init(find_or_download).clone()
}

fn find_or_download() -> Vec<PathBuf> {
    let dir = std::env::var_os("SAMEKERNEL_DEBIAN_DEBS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debian-debs"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut found = Vec::new();
    for (prefix, suffix) in [
        ("linux-image-6.12.", "-amd64-unsigned"),
        ("linux-headers-6.12.", "-common"),
    ] {
        let existing = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.starts_with(prefix) && n.contains(&format!("{suffix}_")) && n.ends_with(".deb")
            });
        let path = match existing {
            Some(p) => p,
            None => {
                let names = run(Command::new("apt-cache").args([
                    "search",
                    "--names-only",
                    &format!("^{}[0-9]+\\+deb12{}$", prefix.replace('.', "\\."), suffix),
                ]));
                let mut pkgs: Vec<String> = names
                    .lines()
                    .filter_map(|l| l.split(' ').next().map(str::to_owned))
                    .collect();
                assert!(
                    !pkgs.is_empty(),
                    "apt knows no {prefix}*{suffix} package: run `apt-get update` (cargo xtask deps does)"
                );
                pkgs.sort_by_key(|p| {
                    p[prefix.len()..]
                        .split('+')
                        .next()
                        .unwrap()
                        .parse::<u32>()
                        .unwrap_or(0)
                });
                let pkg = pkgs.pop().unwrap();
                let partial = tempfile::Builder::new()
                    .prefix(".download-")
                    .tempdir_in(&dir)
                    .unwrap();
                run(Command::new("apt-get")
                    .arg("download")
                    .arg(&pkg)
                    .current_dir(partial.path()));
                for e in std::fs::read_dir(partial.path()).unwrap() {
                    let e = e.unwrap();
                    std::fs::rename(e.path(), dir.join(e.file_name())).unwrap();
                }
                return find_or_download();
            }
        };
        found.push(path);
    }
    found
}

#[test]
#[ignore = "network"]
fn repacking_debian_kernel_trees_gives_dpkg_deb_bytes() {
    for deb in debian_kernel_debs() {
        let t = tempdir();
        let tree = t.path().join("tree");
        run(Command::new("dpkg-deb").arg("-R").arg(&deb).arg(&tree));
        for (z, name) in [
            (Compressor::Zstd, "zstd"),
            (Compressor::Gzip, "gzip"),
            (Compressor::Xz, "xz"),
        ] {
            let theirs = t.path().join(format!("dpkg.{name}.deb"));
            let ours = t.path().join(format!("ours.{name}.deb"));
            dpkg_deb_build(&tree, &theirs, name, SDE);
            our_build(&tree, &ours, z, SDE);
            assert_eq!(
                sha256_file(&ours),
                sha256_file(&theirs),
                "{}: -Z{name} repack differs from dpkg-deb",
                deb.display()
            );
            std::fs::remove_file(&theirs).unwrap();
            std::fs::remove_file(&ours).unwrap();
        }
    }
}

#[test]
#[ignore = "network"]
fn reader_agrees_with_dpkg_deb_on_debian_packages() {
    for deb in debian_kernel_debs() {
        let r = DebReader::open(&deb).unwrap();
        assert_eq!(r.format_version(), "2.0");
        // Control fields as dpkg-deb -f sees them.
        let control = r.control().unwrap();
        for field in ["Package", "Version", "Architecture", "Maintainer"] {
            let theirs = run(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(field));
            assert_eq!(control.get(field), Some(theirs.trim_end()), "{field}");
        }
        // Same entry names in the same order as dpkg-deb -c.
        let listing = run(Command::new("dpkg-deb").arg("-c").arg(&deb));
        let theirs: Vec<String> = listing
            .lines()
            .map(|l| {
                // "<mode> <owner> <size> <date> <time> ./name[ -> target| link to x]"
                let name = l.split_once(" ./").map(|x| format!("./{}", x.1)).unwrap();
                name.split(" -> ")
                    .next()
                    .unwrap()
                    .split(" link to ")
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let ours: Vec<String> = r
            .list_data()
            .unwrap()
            .iter()
            .map(|e| e.name_lossy())
            .collect();
        assert_eq!(ours, theirs, "{}", deb.display());
        // Safe extraction gives the same files as dpkg-deb -x.
        let t = tempdir();
        let ref_dir = t.path().join("ref");
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&ref_dir));
        let our_dir = t.path().join("ours");
        let s = r
            .extract_data(&our_dir, &ExtractOptions::default())
            .unwrap();
        assert!(s.files > 10, "{s:?}");
        assert_eq!(tree_digest(&our_dir), tree_digest(&ref_dir));
        // Streaming every file's data works and counts the same bytes.
        let mut tar = r.data_tar().unwrap();
        let mut bytes = 0u64;
        while let Some(e) = tar.next_entry().unwrap() {
            if e.kind == TarEntryKind::File {
                bytes += std::io::copy(&mut tar.data_reader(), &mut std::io::sink()).unwrap();
            }
        }
        assert_eq!(bytes, s.bytes);
    }
}

/// path -> (kind, sha256 or link target) for a whole tree.
fn tree_digest(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if m.is_dir() {
                out.insert(rel, "dir".into());
                stack.push(p);
            } else if m.file_type().is_symlink() {
                out.insert(
                    rel,
                    format!("-> {}", std::fs::read_link(&p).unwrap().display()),
                );
            } else {
                out.insert(rel, sha256_file(&p));
            }
        }
    }
    out
}
