//! Real kernel modules: an external module built twice against a prepared Linux
//! 6.12 tree (`defconfig modules_prepare`, cached under target/), wrapped into
//! .debs as kbuild's `.ko.xz`; and the same module signed with two keys by the
//! kernel's own `scripts/sign-file`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{deb, run, xz};
use debdiff::{CauseKind, Limits, diff_debs, diff_file_contents};

/// The pinned source tree (`cargo xtask test` unpacks it and sets the variable).
fn source() -> PathBuf {
    PathBuf::from(std::env::var_os("SAMEKERNEL_LINUX_SRC").expect(
        "set SAMEKERNEL_LINUX_SRC to an unpacked pinned source (kernel-deb source --out DIR)",
    ))
}

/// The prepared object tree, made once (1–2 min) and kept under target/.
fn kernel_tree() -> &'static Path {
    static TREE: OnceLock<PathBuf> = OnceLock::new();
    TREE.get_or_init(|| {
        let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debdiff-fixtures/kobj");
        if !tree.join("scripts/mod/modpost").exists()
            || !tree.join("include/generated/autoconf.h").exists()
        {
            run(Command::new("nice")
                .args(["-n", "10", "make", "-s", "-j2", "-C"])
                .arg(source())
                .arg(format!("O={}", tree.display()))
                .args(["defconfig", "modules_prepare"]));
        }
        tree
    })
}

const MODULE_C: &str = r#"#include <linux/module.h>
#include <linux/init.h>
static int __init hello_init(void) { pr_info("hello from %s\n", __FILE__); return 0; }
static void __exit hello_exit(void) { }
module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("debdiff test module");
"#;

fn build_module(dir: &Path) -> Vec<u8> {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("hello.c"), MODULE_C).unwrap();
    std::fs::write(dir.join("Kbuild"), "obj-m := hello.o\n").unwrap();
    run(Command::new("make")
        .args(["-s", "-C"])
        .arg(kernel_tree())
        .arg(format!("M={}", dir.display()))
        // modules_prepare writes no Module.symvers: vmlinux's symbols are unknown.
        .arg("KBUILD_MODPOST_WARN=1")
        .arg("modules"));
    std::fs::read(dir.join("hello.ko")).unwrap()
}

#[test]
#[ignore = "slow: builds a kernel tree"]
fn slow_module_built_in_two_directories() {
    let t = tempfile::tempdir().unwrap();
    let a = build_module(&t.path().join("first/hello"));
    let b = build_module(&t.path().join("second-dir/hello"));
    assert_ne!(a, b);
    let path = "usr/lib/modules/6.12.0/extra/hello.ko.xz";
    let da = deb(
        &t.path().join("a.deb"),
        "linux-image-6.12.0",
        "1",
        vec![(path, 0o644, xz(&a))],
    );
    let db = deb(
        &t.path().join("b.deb"),
        "linux-image-6.12.0",
        "1",
        vec![(path, 0o644, xz(&b))],
    );
    let r = diff_debs(&da, &db, &Limits::default()).unwrap();
    assert_eq!(r.files_differing(), 1, "{r:#?}");
    let item = r
        .items
        .iter()
        .find(|i| i.path == path)
        .expect("the module differs");
    let cause = item.primary().unwrap();
    assert_eq!(cause.kind, CauseKind::BuildPath, "{item:#?}");
    assert!(
        cause.detail.contains("first") && cause.detail.contains("second-dir"),
        "{cause:?}"
    );
    let ev = &cause.evidence[0];
    assert!(
        ev.a.ends_with("first/hello/hello.c") && ev.b.ends_with("second-dir/hello/hello.c"),
        "{ev:?}"
    );
    assert!(
        r.summary().starts_with("1 file differs; cause: build path"),
        "{}",
        r.summary()
    );
}

fn sign_file_tool(dir: &Path) -> PathBuf {
    let bin = dir.join("sign-file");
    run(Command::new("gcc")
        .arg("-o")
        .arg(&bin)
        .arg(format!("-I{}/scripts", source().display()))
        .arg(source().join("scripts/sign-file.c"))
        .arg("-lcrypto")
        .arg("-Wno-deprecated-declarations"));
    bin
}

fn signed_copy(sign_file: &Path, module: &Path, dir: &Path, key_name: &str) -> Vec<u8> {
    let key = dir.join(format!("{key_name}.pem"));
    run(Command::new("openssl")
        .args([
            "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500", "-batch", "-x509",
        ])
        .args([
            "-subj",
            &format!("/CN={key_name}"),
            "-newkey",
            "rsa:2048",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&key));
    let out = dir.join(format!("{key_name}.ko"));
    run(Command::new(sign_file)
        .arg("sha256")
        .arg(&key)
        .arg(&key)
        .arg(module)
        .arg(&out));
    std::fs::read(out).unwrap()
}

#[test]
#[ignore = "slow: builds a kernel tree"]
fn slow_module_signed_with_two_keys() {
    let t = tempfile::tempdir().unwrap();
    build_module(&t.path().join("m"));
    let tool = sign_file_tool(t.path());
    let module = t.path().join("m/hello.ko");
    let a = signed_copy(&tool, &module, t.path(), "key-a");
    let b = signed_copy(&tool, &module, t.path(), "key-b");
    assert!(a.ends_with(b"~Module signature appended~\n"));
    let item = diff_file_contents("hello.ko", &a, &b, &Limits::default());
    assert_eq!(
        item.primary().unwrap().kind,
        CauseKind::ModuleSignature,
        "{item:#?}"
    );
    assert!(item.primary().unwrap().detail.contains("body is identical"));
    let unsigned = std::fs::read(&module).unwrap();
    let item = diff_file_contents("hello.ko", &unsigned, &a, &Limits::default());
    assert!(
        item.primary().unwrap().detail.contains("one side only"),
        "{item:#?}"
    );
}
