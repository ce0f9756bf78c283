//! Real pairs wrapped into .debs with detdeb: the package walk (ar, control,
//! tar metadata, nested .ko.xz) names each difference, and it reports every file
//! that diffoscope reports.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::{HELLO, deb, gcc, xz};
use debdiff::{Area, CauseKind, DiffReport, Limits, diff_debs, diff_paths};

const OBJTOOL: &str = "usr/src/linux-headers-6.12/tools/objtool/objtool";
const MODULE: &str = "usr/lib/modules/6.12.0/kernel/drivers/hello.ko.xz";

/// Two packages: objtool built in another directory, a module (xz) with another
/// __DATE__, a script with another mode, a config line, and another Version.
fn pair(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let date_src =
        "#include <stdio.h>\nint main(void) { puts(__DATE__ \" \" __TIME__); return 0; }\n";
    let side = |tag: &str, epoch: &str, mode: u32, hz: &str, version: &str| {
        let objtool = gcc(
            &dir.join(tag).join("objtool-build"),
            HELLO,
            &["-g", "-O2"],
            &[],
        );
        let module = gcc(
            &dir.join("m"),
            date_src,
            &["-O2", "-Wno-date-time"],
            &[("SOURCE_DATE_EPOCH", epoch)],
        );
        let config = format!("CONFIG_LOCALVERSION=\"\"\nCONFIG_HZ={hz}\n").into_bytes();
        deb(
            &dir.join(format!("{tag}.deb")),
            "linux-headers-6.12.0",
            version,
            vec![
                (OBJTOOL, 0o755, objtool),
                (MODULE, 0o644, xz(&module)),
                (
                    "usr/share/doc/x/script.sh",
                    mode,
                    b"#!/bin/sh\necho same\n".to_vec(),
                ),
                ("boot/config-6.12.0", 0o644, config),
                ("usr/share/doc/x/same.txt", 0o644, b"unchanged\n".to_vec()),
            ],
        )
    };
    (
        side("aa", "1700000000", 0o755, "250", "6.12.0-1"),
        side("bbbbbb", "1800000000", 0o644, "1000", "6.12.0-2"),
    )
}

fn item<'r>(r: &'r DiffReport, path: &str) -> &'r debdiff::ItemDiff {
    r.items
        .iter()
        .find(|i| i.path == path)
        .unwrap_or_else(|| panic!("no item {path} in {r:#?}"))
}

#[test]
fn package_walk_names_each_cause() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = pair(t.path());
    let r = diff_debs(&a, &b, &Limits::default()).unwrap();
    assert_eq!(
        item(&r, OBJTOOL).primary().unwrap().kind,
        CauseKind::BuildPath
    );
    assert_eq!(
        item(&r, MODULE).primary().unwrap().kind,
        CauseKind::Timestamp
    );
    assert!(
        item(&r, MODULE)
            .notes
            .iter()
            .any(|n| n.contains("xz decompression"))
    );
    let script = item(&r, "usr/share/doc/x/script.sh");
    assert_eq!(script.primary().unwrap().kind, CauseKind::Metadata);
    assert_eq!(script.causes[0].evidence[0].a, "0755");
    let config = item(&r, "boot/config-6.12.0");
    assert_eq!(config.primary().unwrap().kind, CauseKind::Text);
    assert!(
        config
            .text_diff
            .as_deref()
            .unwrap()
            .contains("+CONFIG_HZ=1000")
    );
    assert_eq!(
        item(&r, "control:Version").causes[0].evidence[0].b,
        "6.12.0-2"
    );
    assert_eq!(item(&r, "control:md5sums").area, Area::Control);
    assert!(!r.items.iter().any(|i| i.path.ends_with("same.txt")));
    assert_eq!(r.files_differing(), 4);
    let summary = r.summary();
    assert!(
        summary.starts_with("4 files differ; cause: build path in DWARF"),
        "{summary}"
    );
    assert!(summary.contains(OBJTOOL), "{summary}");
    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), r.items.len());
}

#[test]
fn identical_packages_and_directories() {
    let t = tempfile::tempdir().unwrap();
    let (a, _) = pair(t.path());
    let copy = t.path().join("copy.deb");
    std::fs::copy(&a, &copy).unwrap();
    assert!(
        diff_debs(&a, &copy, &Limits::default())
            .unwrap()
            .is_identical()
    );
    let (da, db) = (t.path().join("da"), t.path().join("db"));
    std::fs::create_dir_all(&da).unwrap();
    std::fs::create_dir_all(&db).unwrap();
    std::fs::copy(&a, da.join("x.deb")).unwrap();
    std::fs::copy(&a, db.join("y.deb")).unwrap();
    assert!(
        diff_paths(&da, &db, &Limits::default())
            .unwrap()
            .is_identical()
    );
    // A `*.deb` that cannot be read is an error, never left out as if absent.
    std::os::unix::fs::symlink(t.path().join("gone"), db.join("z.deb")).unwrap();
    let err = diff_paths(&da, &db, &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("z.deb"), "{err}");
}

#[test]
fn bad_input_is_a_typed_error() {
    let t = tempfile::tempdir().unwrap();
    let junk = t.path().join("junk.deb");
    std::fs::write(&junk, b"!<arch>\nnot really").unwrap();
    let other = t.path().join("other.deb");
    std::fs::write(&other, b"!<arch>\nnot really either").unwrap();
    let err = diff_debs(&junk, &other, &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("junk.deb"), "{err}");
    let text = t.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let err = diff_paths(&text, &other, &Limits::default()).unwrap_err();
    assert!(matches!(err, debdiff::Error::BadInput(_)), "{err}");
}

/// Every file diffoscope finds different in the data and control members.
fn diffoscope_files(a: &Path, b: &Path, out: &Path) -> BTreeSet<String> {
    let status = Command::new("diffoscope")
        .arg("--json")
        .arg(out)
        .arg("--text")
        .arg(out.with_extension("txt"))
        .arg(a)
        .arg(b)
        .status()
        .expect("diffoscope runs");
    assert_eq!(
        status.code(),
        Some(1),
        "diffoscope finds the pair different"
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    let mut files = BTreeSet::new();
    walk(&json, "", &mut files);
    files
}

fn walk(node: &serde_json::Value, member: &str, out: &mut BTreeSet<String>) {
    let src = node["source1"].as_str().unwrap_or("");
    let member = if src.starts_with("data.tar") || src.starts_with("control.tar") {
        src
    } else {
        member
    };
    if let Some(path) = src.strip_prefix("./")
        && !path.is_empty()
    {
        let prefix = if member.starts_with("control") {
            "control:"
        } else {
            ""
        };
        out.insert(format!("{prefix}{path}"));
        return;
    }
    for d in node["details"].as_array().into_iter().flatten() {
        walk(d, member, out);
    }
}

#[test]
fn reports_every_file_diffoscope_reports() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = pair(t.path());
    let theirs = diffoscope_files(&a, &b, &t.path().join("diffoscope.json"));
    let r = diff_debs(&a, &b, &Limits::default()).unwrap();
    let ours: BTreeSet<String> = r.items.iter().map(|i| i.path.clone()).collect();
    assert!(theirs.len() >= 5, "diffoscope found {theirs:?}");
    for f in &theirs {
        // diffoscope diffs the control file as a whole; we report its fields.
        let found = ours.contains(f)
            || (f == "control:control" && ours.iter().any(|o| o.starts_with("control:")));
        assert!(found, "diffoscope reports {f}, we do not: {ours:?}");
    }
}
