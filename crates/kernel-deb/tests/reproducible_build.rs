//! The mission's proof, with real kbuild on the built-in default pin and config:
//!
//! 1. build twice — the second time in another (deeper) directory, as another user,
//!    under another hostname (`unshare -u`), TZ, locale, umask 077, -j1 instead of
//!    -j2, with fake `rustc`/`pahole`/`clang`/`gcc` wrappers prepended to PATH, and the
//!    clock moved two years ahead (faketime) — and every .deb must be byte-identical
//!    (on failure: which files inside differ);
//!    Both builds also make `linux-libc-dev` (`--with-libc-dev`);
//! 2. the linux-image installs with `dpkg --root`, and so does linux-libc-dev, in the
//!    multiarch layout, preprocessing a userspace probe to this kernel's version;
//! 3. its vmlinuz boots under qemu (TCG) to a banner showing the pinned timestamp
//!    and `samekernel@samekernel`, and loads the packaged test_module.ko.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{debs_in, run};

const BIN: &str = env!("CARGO_BIN_EXE_kernel-deb");

#[test]
#[ignore = "network"]
fn default_build_is_identical_across_environments_installs_and_boots() {
    let base = tempfile::Builder::new()
        .prefix("sk-repro-")
        .tempdir_in("/tmp")
        .unwrap();
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();

    let (a_out, b_out, as_other) = common::build_twice(base.path(), BIN, &["--with-libc-dev"]);

    // linux-image, linux-headers and linux-libc-dev
    common::assert_same_debs(&a_out, &b_out, 3, as_other);
    let a = debs_in(&a_out);
    let ra = fs::read_to_string(a_out.join("BUILD-RECORD")).unwrap();

    // Anyone can check the packages with dpkg alone: dpkg-deb, given the tree it
    // extracts from each .deb, the .deb's own compressor (named by its data member,
    // as `ar` lists it) and the pin's SOURCE_DATE_EPOCH, packs the same bytes.
    let sde = ra
        .lines()
        .find_map(|l| l.strip_prefix("source-date-epoch="))
        .expect("source-date-epoch in the build record")
        .to_owned();
    for (name, bytes) in &a {
        let tree = base.path().join("repack").join(name);
        fs::create_dir_all(tree.parent().unwrap()).unwrap();
        run(Command::new("dpkg-deb")
            .arg("-R")
            .arg(a_out.join(name))
            .arg(&tree));
        let members = run(Command::new("ar").arg("t").arg(a_out.join(name)));
        let compressor = match members.lines().find(|m| m.starts_with("data.tar")) {
            Some("data.tar.zst") => "zstd",
            Some("data.tar.xz") => "xz",
            Some("data.tar.gz") => "gzip",
            Some("data.tar") => "none",
            other => panic!("{name}: unexpected data member {other:?} in {members}"),
        };
        let repacked = tree.with_extension("repacked");
        run(Command::new("dpkg-deb")
            .arg("--root-owner-group")
            .arg(format!("-Z{compressor}"))
            .arg("--build")
            .arg(&tree)
            .arg(&repacked)
            .env("SOURCE_DATE_EPOCH", &sde));
        assert!(
            &fs::read(&repacked).unwrap() == bytes,
            "{name}: dpkg-deb --build of its own extracted tree gives other bytes"
        );
    }

    // Install into an empty dpkg root.
    let image = a.keys().find(|k| k.starts_with("linux-image-")).unwrap();
    let root = base.path().join("root");
    let admin = root.join("var/lib/dpkg");
    for d in ["info", "updates", "triggers"] {
        fs::create_dir_all(admin.join(d)).unwrap();
    }
    fs::write(admin.join("status"), b"").unwrap();
    let dpkg_install = |deb: &Path| {
        run(Command::new("dpkg")
            .arg(format!("--root={}", root.display()))
            .arg(format!("--admindir={}", admin.display()))
            .args([
                "--force-script-chrootless",
                "--force-not-root",
                "--log=/dev/null",
                "-i",
            ])
            .arg(deb))
    };
    dpkg_install(&a_out.join(image));
    let boot: Vec<PathBuf> = fs::read_dir(root.join("boot"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let vmlinuz = boot
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vmlinuz-")
        })
        .expect("vmlinuz installed")
        .clone();
    let release = vmlinuz.file_name().unwrap().to_string_lossy()["vmlinuz-".len()..].to_owned();
    let module = root.join(format!("lib/modules/{release}/kernel/lib/test_module.ko"));
    assert!(module.exists(), "{} not installed", module.display());
    assert!(
        root.join(format!("lib/modules/{release}/modules.dep"))
            .exists()
    );

    // linux-libc-dev installs, in Debian's multiarch layout, and userspace compiles
    // against it: the preprocessor sees this kernel's version (6.12.117).
    let libc_dev = a.keys().find(|k| k.starts_with("linux-libc-dev_")).unwrap();
    dpkg_install(&a_out.join(libc_dev));
    let include = root.join("usr/include");
    assert!(
        include.join("x86_64-linux-gnu/asm/unistd_64.h").exists(),
        "asm/ is not under the multiarch include directory"
    );
    assert!(!include.join("asm").exists());
    let probe = base.path().join("probe.c");
    fs::write(
        &probe,
        "#include <linux/version.h>\n#include <asm/unistd.h>\nversion=LINUX_VERSION_CODE openat=__NR_openat\n",
    )
    .unwrap();
    let pre = run(Command::new("gcc")
        .args(["-E", "-P", "-nostdinc", "-I"])
        .arg(&include)
        .arg("-I")
        .arg(include.join("x86_64-linux-gnu"))
        .arg(&probe));
    let want = format!("version={} openat=257", (6 << 16) + (12 << 8) + 117);
    assert!(
        pre.lines().any(|l| l.trim() == want),
        "preprocessed probe: {pre}"
    );

    // Boot it.
    let guest = common::Guest {
        gcc: "gcc",
        qemu: &["qemu-system-x86_64", "-accel", "tcg"],
        console: "ttyS0",
        uts_version: "#1 Sat Nov 14 12:56:01 UTC 2026",
    };
    common::assert_boots_and_loads_module(base.path(), &guest, &vmlinuz, &module, &release);
}
