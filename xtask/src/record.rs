//! A build record for .debs that no build of ours made (the benches' and the fuzz seeds'
//! input): each .deb's own fields and file hashes, stand-ins for the rest.

use std::path::Path;

use anyhow::{Context, Result};
use testimony::build_record::{DebRecord, FileHash, SourcePin, Toolchain};
use testimony::{BuildRecord, canonical};

/// A canonical build record for `debs` that no build of ours made: the .debs' own
/// fields and file hashes, `toolchain` as given, stand-in hashes for source and config.
pub fn build_record_of(debs: &[&Path], toolchain: Toolchain) -> Result<BuildRecord> {
    let stand_in = |what: &str| canonical::sha256_hex(format!("xtask: {what}").as_bytes());
    let record = BuildRecord {
        source: SourcePin {
            manifest_sha256: stand_in("no source manifest"),
            tarball_name: "linux-source.tar.xz".to_owned(),
            tarball_sha256: stand_in("no source tarball"),
            source_date_epoch: 1_700_000_000,
        },
        toolchain,
        kernel_config_sha256: stand_in("no kernel config"),
        flavour: None,
        hardening: None,
        module_cert_sha256: None,
        debs: debs.iter().map(|d| deb_record(d)).collect::<Result<_>>()?,
    };
    // Whoever reads it next must get a valid record, not just our text.
    BuildRecord::parse(&record.to_text()).context("xtask's own build record")
}

/// One .deb's record: its control fields, size, sha256 and every regular file's hash.
fn deb_record(deb: &Path) -> Result<DebRecord> {
    let reader = detdeb::DebReader::open(deb)?;
    let control = reader.control()?;
    let field = |name: &str| -> Result<String> {
        control
            .get(name)
            .map(str::to_owned)
            .with_context(|| format!("{}: no {name} field", deb.display()))
    };
    let mut files = Vec::new();
    let mut tar = reader.data_tar()?;
    while let Some(e) = tar.next_entry()? {
        if e.kind == detdeb::TarEntryKind::File {
            let path = e.name_lossy().trim_start_matches("./").to_owned();
            let (sha256, _) = canonical::sha256_reader(tar.data_reader())?;
            files.push(FileHash { path, sha256 });
        }
    }
    Ok(DebRecord {
        file_name: deb.file_name().unwrap_or_default().to_string_lossy().into(),
        package: field("Package")?,
        version: field("Version")?,
        architecture: field("Architecture")?,
        size: std::fs::metadata(deb)?.len(),
        sha256: canonical::sha256_reader(std::fs::File::open(deb)?)?.0,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    use crate::cmd::run;

    /// A .deb made by the real dpkg-deb: the record names its fields and exactly its
    /// regular files, with their content hashes.
    #[test]
    fn the_record_lists_a_real_debs_files() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir_all(tree.join("DEBIAN")).unwrap();
        std::fs::create_dir_all(tree.join("boot/sub")).unwrap();
        std::fs::write(
            tree.join("DEBIAN/control"),
            "Package: bench-probe\nVersion: 1.2-3\nArchitecture: amd64\n\
             Maintainer: x <x@example.invalid>\nDescription: probe\n",
        )
        .unwrap();
        std::fs::write(tree.join("boot/vmlinuz"), b"kernel bytes").unwrap();
        std::fs::write(tree.join("boot/sub/b"), b"").unwrap();
        std::os::unix::fs::symlink("vmlinuz", tree.join("boot/link")).unwrap();
        let deb = dir.path().join("probe_1.2-3_amd64.deb");
        run(Command::new("dpkg-deb")
            .args(["--root-owner-group", "-b"])
            .arg(&tree)
            .arg(&deb)
            .stdout(Stdio::null()))
        .unwrap();
        let r = build_record_of(&[&deb], Toolchain::default()).unwrap();
        let d = &r.debs[0];
        assert_eq!(d.file_name, "probe_1.2-3_amd64.deb");
        assert_eq!(
            (d.package.as_str(), d.version.as_str()),
            ("bench-probe", "1.2-3")
        );
        assert_eq!(d.size, std::fs::metadata(&deb).unwrap().len());
        assert_eq!(d.sha256, crate::cmd::sha256_file(&deb).unwrap());
        let files: Vec<(&str, &str)> = d
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .collect();
        let hash = |b: &[u8]| canonical::sha256_hex(b);
        let (empty, kernel) = (hash(b""), hash(b"kernel bytes"));
        assert_eq!(
            files,
            [
                ("boot/sub/b", empty.as_str()),
                ("boot/vmlinuz", kernel.as_str())
            ]
        );
    }
}
