//! The tiny flavour with DWARF 5 debug info and BTF (`configs/btf.config`), packaged
//! with `--with-dbg`, built twice — `-j2` and `-j3`, in two work directories whose
//! names occur nowhere else — and what the two builds prove:
//!
//! * **BTF, reproducibly**: the packages (image, headers, -dbg) and BUILD-RECORD are
//!   byte-identical, and vmlinux and the modules carry a `.BTF` section encoded by the
//!   pinned pahole (kbuild runs pahole < 1.27 without `-j` when
//!   `KBUILD_BUILD_TIMESTAMP` is set, so its type numbering cannot follow the job
//!   count or the threads' timing);
//! * **the -dbg package** has what perf, systemtap, kdump-tools and gdb look for, and
//!   no package names the directory it was built in: DWARF is where build paths leak
//!   (`DW_AT_comp_dir`, `DW_AT_name`, the line tables), and the prefix maps kbuild-env
//!   passes in KCFLAGS/KAFLAGS/HOSTCFLAGS must reach all of them;
//! * **`kernel-deb inspect`**: the banner, compiler and embedded config read from
//!   vmlinuz agree with BUILD-RECORD (exit 0); a record of another config is a
//!   mismatch (exit 1); a file that is not a package is bad input (exit 2).
//!
//! The two builds are made once, by whichever test needs them first (about 8 min on 2
//! cores), in `CARGO_TARGET_TMPDIR/debug-btf`, emptied at the start of each run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

mod common;
use common::run;

const BIN: &str = env!("CARGO_BIN_EXE_kernel-deb");

/// Names that cannot occur in a package by chance: one per build's work directory.
const MARKERS: [&str; 2] = ["samekernel-leak-probe-q7x", "another-leak-probe-z3k"];

/// Every build here: tiny, quiet, with the -dbg package.
const TINY_WITH_DBG: [&str; 5] = ["build", "--flavour", "tiny", "--quiet", "--with-dbg"];

struct Build {
    out: PathBuf,
    /// `(file name, sha256)` of every package and of BUILD-RECORD, as printed.
    printed: Vec<(String, String)>,
}

impl Build {
    fn deb(&self, prefix: &str, dbg: bool) -> PathBuf {
        let name = self
            .printed
            .iter()
            .map(|(n, _)| n)
            .find(|n| n.starts_with(prefix) && n.contains("-dbg_") == dbg)
            .unwrap_or_else(|| panic!("no {prefix}* (dbg: {dbg}) in {:?}", self.printed));
        self.out.join(name)
    }
}

fn base() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("debug-btf")
}

fn btf_fragment() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/btf.config")
}

/// One build in `base/<marker>/work` at `-j<jobs>`; the work directory is removed once
/// the probe has found its own name in it (so the leak grep below can work at all).
fn build(marker: &str, jobs: &str) -> Build {
    let dir = base().join(marker);
    let (out, work) = (dir.join("out"), dir.join("work"));
    let stdout = run(Command::new(BIN)
        .args(TINY_WITH_DBG)
        .args(["-j", jobs])
        .arg("--config-fragment")
        .arg(btf_fragment())
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(&work));
    // kbuild's out-of-tree Makefile includes the source tree by its absolute path.
    let own = Command::new("grep")
        .args(["-qaF", "-e", marker, "--"])
        .arg(work.join("obj/Makefile"))
        .status()
        .unwrap();
    assert!(own.success(), "the probe does not find the work directory");
    fs::remove_dir_all(&work).unwrap();
    // `<sha256>  <path>` per package and for BUILD-RECORD.
    let printed = stdout
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(sha, path)| {
            let name = Path::new(path).file_name().unwrap().to_string_lossy();
            (name.into_owned(), sha.to_owned())
        })
        .collect();
    Build { out, printed }
}

static BUILDS: LazyLock<[Build; 2]> = LazyLock::new(|| {
    let _ = fs::remove_dir_all(base());
    fs::create_dir_all(base()).unwrap();
    [build(MARKERS[0], "2"), build(MARKERS[1], "3")]
});

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

fn sections(elf: &Path) -> String {
    run(Command::new("readelf").arg("-S").arg("-W").arg(elf))
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

fn unpack(deb: &Path, into: &Path) -> PathBuf {
    fs::create_dir_all(into).unwrap();
    let dest = into.join(deb.file_name().unwrap());
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&dest));
    dest
}

#[test]
#[ignore = "network"]
fn btf_builds_are_identical_across_jobs_and_directories_and_carry_btf() {
    let [a, b] = &*BUILDS;
    assert_eq!(
        a.printed.len(),
        4,
        "3 packages and BUILD-RECORD: {:?}",
        a.printed
    );
    assert_eq!(a.printed, b.printed, "the -j2 and -j3 builds differ");

    let trees = base().join("btf-trees");
    let _ = fs::remove_dir_all(&trees);
    let image = unpack(&a.deb("linux-image-", false), &trees);
    let mut modules = Vec::new();
    files_under(&image.join("lib/modules"), &mut modules);
    let module = modules
        .iter()
        .find(|p| p.ends_with("test_module.ko"))
        .expect("test_module.ko in the image");
    assert!(sections(module).contains(" .BTF "), "{}", module.display());
    // vmlinux's BTF is in the -dbg package's vmlinux (the image holds only vmlinuz).
    let dbg = unpack(&a.deb("linux-image-", true), &trees);
    let mut vmlinux = Vec::new();
    files_under(&dbg.join("usr/lib/debug/lib/modules"), &mut vmlinux);
    let vmlinux = vmlinux.iter().find(|p| p.ends_with("vmlinux")).unwrap();
    assert!(sections(vmlinux).contains(" .BTF "), "vmlinux has no .BTF");
}

#[test]
#[ignore = "network"]
fn with_dbg_is_refused_before_compiling_when_the_config_has_no_debug_info() {
    let t = tempfile::tempdir().unwrap();
    let refused = Command::new(BIN)
        .args(TINY_WITH_DBG)
        .arg("--out")
        .arg(t.path().join("refused"))
        .arg("--work-dir")
        .arg(t.path().join("refused-work"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("--with-dbg") && err.contains("CONFIG_DEBUG_INFO"),
        "{err}"
    );
    assert!(!t.path().join("refused").exists());
    assert!(
        !t.path().join("refused-work/obj/vmlinux").exists(),
        "compiled anyway"
    );
}

#[test]
#[ignore = "network"]
fn debug_package_has_what_debuggers_need_and_no_package_names_its_build_directory() {
    let [a, b] = &*BUILDS;
    let trees = base().join("dbg-trees");
    let _ = fs::remove_dir_all(&trees);
    let dbg = a.deb("linux-image-", true);
    let control = run(Command::new("dpkg-deb").arg("-f").arg(&dbg));
    assert!(control.contains("Section: debug"), "{control}");
    let dbg_tree = unpack(&dbg, &trees);
    let image_tree = unpack(&a.deb("linux-image-", false), &trees);
    unpack(&a.deb("linux-headers-", false), &trees);

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
    assert!(sections(&vmlinux).contains(".debug_info"));
    for link in [
        format!("usr/lib/debug/boot/vmlinux-{release}"),
        format!("usr/lib/debug/vmlinux-{release}"),
    ] {
        let p = dbg_tree.join(&link);
        assert!(fs::symlink_metadata(&p).unwrap().is_symlink(), "{link}");
        assert_eq!(
            fs::canonicalize(&p).unwrap(),
            fs::canonicalize(&vmlinux).unwrap()
        );
    }

    // Each module's debug file is found through its build ID, and that ID is the one
    // of the stripped module in linux-image.
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
    assert!(sections(&debug_file).contains(".debug_info"));
    let info = run(Command::new("readelf")
        .arg("--debug-dump=info")
        .arg(&debug_file));
    assert!(
        info.contains("test_module.c"),
        "no DWARF names the module's source"
    );

    // No file of any package names where either build ran.
    let mut files = Vec::new();
    files_under(&trees, &mut files);
    assert!(files.len() > 100, "{} files", files.len());
    for marker in MARKERS {
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
    }
    assert_eq!(a.printed, b.printed);
}

#[test]
#[ignore = "network"]
fn inspect_reads_the_kernel_and_checks_it_against_its_record() {
    let [a, _] = &*BUILDS;
    let image = a.deb("linux-image-", false);
    let report = run(Command::new(BIN).arg("inspect").arg(&image));
    assert!(
        report.contains("banner:   Linux version 6.12.117-samekernel (samekernel@samekernel) (gcc"),
        "{report}"
    );
    assert!(report.contains("(xz payload)"), "{report}");
    let record = fs::read_to_string(a.out.join("BUILD-RECORD")).unwrap();
    let config_sha = record
        .lines()
        .find_map(|l| l.strip_prefix("kernel-config-sha256="))
        .unwrap();
    assert!(
        report.contains(&format!("config:   {config_sha}")),
        "{report}"
    );
    assert!(!report.contains("MISMATCH"), "{report}");
    assert!(report.contains("ok       banner's compiler names the toolchain's gcc"));

    // The same package against a record of another config: exit 1.
    let t = tempfile::tempdir().unwrap();
    let other = t.path().join("OTHER-RECORD");
    fs::write(&other, record.replace(config_sha, &"0".repeat(64))).unwrap();
    let o = Command::new(BIN)
        .arg("inspect")
        .arg(&image)
        .arg("--record")
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("MISMATCH embedded .config"));

    // Not a package: exit 2, naming the file.
    let o = Command::new(BIN)
        .arg("inspect")
        .arg(a.out.join("BUILD-RECORD"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("BUILD-RECORD"));
}
