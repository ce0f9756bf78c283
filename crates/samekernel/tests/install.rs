//! samekernel::install with real dpkg into a temporary root.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use samekernel::install::{DpkgTarget, Installed, install, install_with_hook};

fn dpkg_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    for d in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/lib/dpkg/triggers",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    std::fs::write(root.join("var/lib/dpkg/available"), "").unwrap();
    root
}

#[test]
fn installs_only_after_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, rec) = make_deb(dir.path(), "good");
    let (_, other) = make_deb(dir.path(), "evil");
    let root = dpkg_root(dir.path());
    let target = DpkgTarget {
        root: Some(root.clone()),
    };
    let t = testimonies(dir.path(), &[("alice", &rec), ("dave", &other)]);
    let installed = root.join("usr/share/sk-test/file");
    let inp = inputs(dir.path(), vec![t.display().to_string()]);
    let debs = std::slice::from_ref(&deb);
    let done = install(debs, &inp, &target).unwrap();
    assert_eq!(
        (done.report.verdict.exit_code(), &done.installed),
        (4, &Installed::Nothing)
    );
    assert_eq!(done.summary(), ("nothing was installed".into(), 4));
    assert!(!installed.exists());
    std::fs::remove_file(t.join("dave.asc")).unwrap();
    let done = install(debs, &inp, &target).unwrap();
    assert_eq!(
        (done.report.verdict.exit_code(), &done.installed),
        (3, &Installed::Nothing)
    );
    std::fs::write(t.join("bob.asc"), testify("bob", &rec)).unwrap();
    let done = install(debs, &inp, &target).unwrap();
    assert_eq!(
        done.installed,
        Installed::Installed(1),
        "{}",
        done.report.to_table()
    );
    let (line, code) = done.summary();
    assert_eq!(code, 0);
    assert!(line.starts_with("installed 1 package file(s)"), "{line}");
    assert_eq!(std::fs::read_to_string(&installed).unwrap(), "good");
    let status = std::fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    assert!(
        status.contains("Package: sk-test") && status.contains("Status: install ok installed"),
        "{status}"
    );
}

/// The install race: the .deb at the user's path is swapped for another one
/// after verification and before dpkg runs. The verified bytes are installed,
/// never the swapped file.
#[test]
fn a_deb_swapped_after_verification_is_not_installed() {
    let dir = tempfile::tempdir().unwrap();
    let (deb, rec) = make_deb(dir.path(), "good");
    let (evil, _) = make_deb(dir.path(), "evil");
    let root = dpkg_root(dir.path());
    let t = testimonies(dir.path(), &[("alice", &rec), ("bob", &rec)]);
    let inp = inputs(dir.path(), vec![t.display().to_string()]);
    let mut swapped = false;
    let done = install_with_hook(
        std::slice::from_ref(&deb),
        &inp,
        &DpkgTarget {
            root: Some(root.clone()),
        },
        &mut |copies| {
            // The attacker replaces the file at the user's path (rename over it,
            // as anyone with write access to the directory can).
            let tmp = deb.with_extension("swap");
            std::fs::copy(&evil, &tmp).unwrap();
            std::fs::rename(&tmp, &deb).unwrap();
            assert!(copies.iter().all(|c| !c.starts_with(deb.parent().unwrap())));
            swapped = true;
        },
    )
    .unwrap();
    assert!(swapped, "the hook runs between verification and dpkg");
    assert_eq!(
        done.installed,
        Installed::Installed(1),
        "{}",
        done.report.to_table()
    );
    assert_eq!(
        std::fs::read(&deb).unwrap(),
        std::fs::read(&evil).unwrap(),
        "the swap happened"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("usr/share/sk-test/file")).unwrap(),
        "good",
        "dpkg installed the swapped file"
    );
}
