//! BTF, reproducibly: the tiny flavour plus `configs/btf.config` (DWARF 5, BPF syscall,
//! DEBUG_INFO_BTF + _MODULES) built twice with different -j gives byte-identical
//! packages, and the modules carry a `.BTF` section encoded by the pinned pahole.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::run;

const BIN: &str = env!("CARGO_BIN_EXE_kernel-deb");

fn btf_fragment() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/btf.config")
}

fn build(dir: &Path, jobs: &str) -> Vec<(String, String)> {
    let out = dir.join(format!("out-j{jobs}"));
    let stdout = run(Command::new(BIN)
        .args(["build", "--flavour", "tiny", "--quiet", "-j", jobs])
        .arg("--config-fragment")
        .arg(btf_fragment())
        .arg("--out")
        .arg(&out)
        .arg("--work-dir")
        .arg(dir.join(format!("work-j{jobs}"))));
    let _ = std::fs::remove_dir_all(dir.join(format!("work-j{jobs}")));
    // `<sha256>  <path>` per package and for BUILD-RECORD.
    stdout
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(sha, path)| {
            let name = Path::new(path).file_name().unwrap().to_string_lossy();
            (name.into_owned(), sha.to_owned())
        })
        .collect()
}

#[test]
#[ignore = "slow: two tiny builds with debug info and BTF (~15 min on 2 shared cores)"]
fn slow_btf_builds_are_identical_across_jobs_and_modules_carry_btf() {
    let t = tempfile::tempdir().unwrap();
    let one = build(t.path(), "1");
    let two = build(t.path(), "2");
    assert!(one.len() >= 3, "{one:?}");
    assert_eq!(one, two, "packages differ between -j1 and -j2");

    let image = one
        .iter()
        .find(|(n, _)| n.starts_with("linux-image-"))
        .expect("an image package");
    let root = t.path().join("root");
    run(Command::new("dpkg-deb")
        .arg("-x")
        .arg(t.path().join("out-j1").join(&image.0))
        .arg(&root));
    let mut modules = Vec::new();
    collect_ko(&root, &mut modules);
    let module = modules
        .iter()
        .find(|p| p.ends_with("test_module.ko"))
        .expect("test_module.ko in the image");
    let sections = run(Command::new("readelf").arg("-S").arg("-W").arg(module));
    assert!(sections.contains(" .BTF "), "{sections}");
}

fn collect_ko(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && !p.is_symlink() {
            collect_ko(&p, out);
        } else if p.extension().is_some_and(|x| x == "ko") {
            out.push(p);
        }
    }
}
