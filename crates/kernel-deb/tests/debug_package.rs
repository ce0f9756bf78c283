//! A real kbuild with debug info (`--with-dbg`): the `-dbg` package has what perf,
//! systemtap, kdump-tools and gdb look for, and no package of the build carries
//! the directory it was built in — DWARF is where build paths leak (`DW_AT_comp_dir`,
//! `DW_AT_name`, the line tables of C and assembler sources), and the prefix maps
//! kbuild-env passes in KCFLAGS/KAFLAGS/HOSTCFLAGS must reach all of them.
//!
//! One build (about 3 minutes on 2 cores); `reproducible_build.rs` proves the
//! default config byte-identical across environments.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::run;

const BIN: &str = env!("CARGO_BIN_EXE_kernel-deb");

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            files_under(&e.path(), out);
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
}

fn build_id(elf: &Path) -> String {
    let notes = run(Command::new("readelf").arg("-n").arg(elf));
    notes
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: "))
        .unwrap_or_else(|| panic!("{} has no build ID:\n{notes}", elf.display()))
        .trim()
        .to_owned()
}

#[test]
#[ignore = "network"]
fn debug_info_build_packages_dbg_and_leaks_no_build_path() {
    let base = tempfile::Builder::new()
        .prefix("sk-dbg-")
        .tempdir_in("/tmp")
        .unwrap();
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    // A name that cannot occur in a package by chance.
    let marker = "samekernel-leak-probe-q7x";
    let work = base.path().join(marker);
    let fragment = base.path().join("debug.config");
    fs::write(
        &fragment,
        "CONFIG_DEBUG_KERNEL=y\nCONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y\n",
    )
    .unwrap();

    // Without debug info in the config, --with-dbg is refused before compiling.
    let refused = Command::new(BIN)
        .args([
            "build",
            "--flavour",
            "tiny",
            "--quiet",
            "--with-dbg",
            "--out",
        ])
        .arg(base.path().join("refused"))
        .arg("--work-dir")
        .arg(base.path().join("refused-work"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("--with-dbg") && err.contains("CONFIG_DEBUG_INFO"),
        "{err}"
    );
    assert!(!base.path().join("refused").exists());
    assert!(
        !base.path().join("refused-work/obj/vmlinux").exists(),
        "compiled anyway"
    );

    let out = base.path().join("out");
    run(Command::new(BIN)
        .args([
            "build",
            "--flavour",
            "tiny",
            "-j2",
            "--quiet",
            "--with-dbg",
            "--config-fragment",
        ])
        .arg(&fragment)
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(&work));
    let debs: Vec<PathBuf> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    assert_eq!(debs.len(), 3, "{debs:?}");
    let find = |prefix: &str, suffix: &str| {
        debs.iter()
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.starts_with(prefix) && n.contains(suffix)
            })
            .unwrap_or_else(|| panic!("no {prefix}*{suffix} in {debs:?}"))
            .clone()
    };
    let dbg = find("linux-image-", "-dbg_");
    let control = run(Command::new("dpkg-deb").arg("-f").arg(&dbg));
    assert!(control.contains("Section: debug"), "{control}");

    // Unpack every package with real dpkg-deb.
    let trees = base.path().join("trees");
    fs::create_dir(&trees).unwrap();
    for deb in &debs {
        let dest = trees.join(deb.file_name().unwrap());
        run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&dest));
    }
    let dbg_tree = trees.join(dbg.file_name().unwrap());
    let modules = fs::read_dir(dbg_tree.join("usr/lib/debug/lib/modules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect::<Vec<_>>();
    assert_eq!(modules.len(), 1);
    let release = modules[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();

    // vmlinux with its DWARF, and the links perf/systemtap/kdump-tools use.
    let vmlinux = modules[0].join("vmlinux");
    let sections = run(Command::new("readelf").arg("-S").arg(&vmlinux));
    assert!(sections.contains(".debug_info"), "{sections}");
    for link in [
        format!("usr/lib/debug/boot/vmlinux-{release}"),
        format!("usr/lib/debug/vmlinux-{release}"),
    ] {
        let p = dbg_tree.join(&link);
        assert!(
            fs::symlink_metadata(&p).unwrap().file_type().is_symlink(),
            "{link}"
        );
        assert_eq!(
            fs::canonicalize(&p).unwrap(),
            fs::canonicalize(&vmlinux).unwrap()
        );
    }

    // Each module's debug file is found through its build ID, and that ID is the
    // one of the stripped module in linux-image.
    let image_tree = trees.join(
        debs.iter()
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.starts_with("linux-image-") && !n.contains("-dbg_")
            })
            .unwrap()
            .file_name()
            .unwrap(),
    );
    let shipped = image_tree.join(format!("lib/modules/{release}/kernel/lib/test_module.ko"));
    let id = build_id(&shipped);
    let by_id = dbg_tree.join(format!(
        "usr/lib/debug/.build-id/{}/{}.debug",
        &id[..2],
        &id[2..]
    ));
    let debug_file =
        fs::canonicalize(&by_id).unwrap_or_else(|e| panic!("{}: {e}", by_id.display()));
    assert_eq!(
        debug_file,
        fs::canonicalize(modules[0].join("kernel/lib/test_module.ko")).unwrap()
    );
    assert_eq!(build_id(&debug_file), id);
    let sections = run(Command::new("readelf").arg("-S").arg(&debug_file));
    assert!(sections.contains(".debug_info"), "{sections}");

    // The debug info names the module's source (that no name in it is absolute is
    // the grep for the build directory below).
    let lines = run(Command::new("readelf")
        .arg("--debug-dump=info")
        .arg(&debug_file));
    assert!(
        lines.contains("test_module.c"),
        "no DWARF names the module's source"
    );

    // No file of any package names where it was built.
    let mut files = Vec::new();
    files_under(&trees, &mut files);
    assert!(files.len() > 100, "{} files", files.len());
    let grep = Command::new("grep")
        .args(["-rlaF", "-e", marker, "--"])
        .arg(&trees)
        .output()
        .unwrap();
    assert_eq!(
        grep.status.code(),
        Some(1),
        "the build directory leaks into:\n{}{}",
        String::from_utf8_lossy(&grep.stdout),
        String::from_utf8_lossy(&grep.stderr)
    );
    // ... while it does find it where it must be: kbuild's out-of-tree Makefile
    // includes the source tree by its absolute path (the probe works).
    let own = Command::new("grep")
        .args(["-qaF", "-e", marker, "--"])
        .arg(work.join("obj/Makefile"))
        .status()
        .unwrap();
    assert!(own.success(), "the probe does not find the work directory");
    fs::remove_dir_all(&work).unwrap();
}
