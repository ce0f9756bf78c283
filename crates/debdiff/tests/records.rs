//! Build records: differences by hash, then the .debs beside them in full.

mod common;

use std::path::Path;

use common::{HELLO, deb, gcc};
use debdiff::{Area, CauseKind, Limits, diff_paths};
use sha2::{Digest, Sha256};
use testimony::BuildRecord;
use testimony::build_record::{DebRecord, FileHash, SourcePin, Toolchain};

fn hex(d: &[u8]) -> String {
    d.iter().map(|c| format!("{c:02x}")).collect()
}

fn record_for(deb_path: &Path, epoch: u64) -> BuildRecord {
    let reader = detdeb::DebReader::open(deb_path).unwrap();
    let control = reader.control().unwrap();
    let mut tar = reader.data_tar().unwrap();
    let mut files = Vec::new();
    while let Some(e) = tar.next_entry().unwrap() {
        if e.kind == detdeb::TarEntryKind::File {
            let data = tar.read_data_to_vec().unwrap();
            let path = e.name_lossy().trim_start_matches("./").to_owned();
            files.push(FileHash {
                path,
                sha256: hex(&Sha256::digest(&data)),
            });
        }
    }
    let bytes = std::fs::read(deb_path).unwrap();
    let mut r = BuildRecord {
        source: SourcePin {
            manifest_sha256: "1".repeat(64),
            tarball_name: "linux.tar.xz".into(),
            tarball_sha256: "2".repeat(64),
            source_date_epoch: epoch,
        },
        toolchain: Toolchain::default(),
        kernel_config_sha256: "3".repeat(64),
        flavour: None,
        hardening: None,
        module_cert_sha256: None,
        debs: vec![DebRecord {
            file_name: deb_path.file_name().unwrap().to_string_lossy().into_owned(),
            package: control.get("Package").unwrap().into(),
            version: control.get("Version").unwrap().into(),
            architecture: control.get("Architecture").unwrap().into(),
            size: bytes.len() as u64,
            sha256: hex(&Sha256::digest(&bytes)),
            files,
        }],
    };
    r.normalize();
    r
}

#[test]
fn records_then_the_debs_beside_them() {
    let t = tempfile::tempdir().unwrap();
    let path = "usr/src/linux-headers-6.12.0/scripts/basic/fixdep";
    for (side, dir, epoch) in [("a", "build-one", 1), ("b", "build-two-longer", 2)] {
        let out = t.path().join(side);
        std::fs::create_dir_all(&out).unwrap();
        let bin = gcc(&t.path().join(dir), HELLO, &["-g"], &[]);
        let d = deb(
            &out.join("linux-headers_1_amd64.deb"),
            "linux-headers-6.12.0",
            "1",
            vec![
                (path, 0o755, bin),
                ("usr/share/doc/same", 0o644, b"same\n".to_vec()),
            ],
        );
        std::fs::write(out.join("BUILD-RECORD"), record_for(&d, epoch).to_text()).unwrap();
    }
    let (ra, rb) = (
        t.path().join("a/BUILD-RECORD"),
        t.path().join("b/BUILD-RECORD"),
    );
    let r = diff_paths(&ra, &rb, &Limits::default()).unwrap();
    let epoch = r
        .items
        .iter()
        .find(|i| i.path == "record:source-date-epoch")
        .unwrap();
    assert_eq!(epoch.causes[0].kind, CauseKind::BuildInput);
    let fixdep = r.items.iter().find(|i| i.path == path).unwrap();
    assert_eq!(fixdep.area, Area::Data);
    assert_eq!(fixdep.package, "linux-headers-6.12.0");
    assert_eq!(
        fixdep.primary().unwrap().kind,
        CauseKind::BuildPath,
        "{fixdep:#?}"
    );
    // Directory form, and without the .debs: hash-level only.
    std::fs::remove_file(t.path().join("b/linux-headers_1_amd64.deb")).unwrap();
    let r = diff_paths(&t.path().join("a"), &t.path().join("b"), &Limits::default()).unwrap();
    let fixdep = r.items.iter().find(|i| i.path == path).unwrap();
    assert_eq!(fixdep.primary().unwrap().kind, CauseKind::Bytes);
    assert!(fixdep.sha256_a.is_some() && fixdep.sha256_b.is_some());
    assert!(!r.items.iter().any(|i| i.path == "usr/share/doc/same"));
}

#[test]
fn malformed_record_is_an_error_naming_it() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("BUILD-RECORD");
    std::fs::write(&p, "samekernel-build-record=1\nnonsense=1\n").unwrap();
    let err = diff_paths(&p, &p, &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("BUILD-RECORD"), "{err}");
}
