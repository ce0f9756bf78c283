//! The build record: what testimony's `BUILD-RECORD` says about a build, translated
//! from the pin, the toolchain fingerprint, the `.config` and the packed `.deb`s.

use std::fs;
use std::path::{Path, PathBuf};

use detdeb::{DebReader, TarEntryKind};
use kbuild_env::ToolchainFingerprint;
use sha2::{Digest, Sha256};
use testimony::BuildRecord;
use testimony::build_record::{DebRecord, FileHash, SourcePin, Toolchain, ToolchainComponent};

use crate::flavour::Flavour;

/// Why the build record could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A package could not be read back.
    #[error("{}: {source}", path.display())]
    Deb {
        /// The package.
        path: PathBuf,
        /// detdeb's error.
        source: detdeb::Error,
    },
    /// A package's control file lacks a field the record needs.
    #[error("{}: control has no {field}", path.display())]
    MissingField {
        /// The package.
        path: PathBuf,
        /// The field.
        field: &'static str,
    },
    /// The record does not parse back (a bug, caught before anyone signs it).
    #[error("the build record does not validate: {0}")]
    Invalid(String),
}

/// Lowercase hex.
pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of a file, as lowercase hex.
pub(crate) fn sha256_file(p: &Path) -> Result<String, RecordError> {
    let io = |source| RecordError::Io {
        path: p.to_path_buf(),
        source,
    };
    let mut h = Sha256::new();
    let mut f = safe_extract::regular::open_regular(p).map_err(io)?;
    std::io::copy(&mut f, &mut h).map_err(io)?;
    Ok(hex(&h.finalize()))
}

/// A package's record: its control identity, size, sha256, and every regular file of
/// its data member with its sha256 (sorted, `./` stripped).
pub fn deb_record(path: &Path) -> Result<DebRecord, RecordError> {
    let deb = |source| RecordError::Deb {
        path: path.to_path_buf(),
        source,
    };
    let r = DebReader::open(path).map_err(deb)?;
    let c = r.control().map_err(deb)?;
    let mut files = Vec::new();
    let mut tar = r.data_tar().map_err(deb)?;
    while let Some(e) = tar.next_entry().map_err(|e| deb(e.into()))? {
        if e.kind != TarEntryKind::File {
            continue;
        }
        let mut h = Sha256::new();
        std::io::copy(&mut tar.data_reader(), &mut h).map_err(|source| RecordError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = e.name_lossy();
        files.push(FileHash {
            path: name.strip_prefix("./").unwrap_or(&name).to_owned(),
            sha256: hex(&h.finalize()),
        });
    }
    files.sort();
    let field = |field: &'static str| {
        c.get(field)
            .map(str::to_owned)
            .ok_or_else(|| RecordError::MissingField {
                path: path.to_path_buf(),
                field,
            })
    };
    let size = fs::metadata(path)
        .map_err(|source| RecordError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    Ok(DebRecord {
        file_name: path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        package: field("Package")?,
        version: field("Version")?,
        architecture: field("Architecture")?,
        size,
        sha256: sha256_file(path)?,
        files,
    })
}

/// The toolchain fingerprint as a build record's `Toolchain`: packages and binary
/// digests as `name=version` components, banners as banners.
pub fn record_toolchain(fp: &ToolchainFingerprint) -> Toolchain {
    let name_safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".+_-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut t = Toolchain::default();
    for (name, version) in &fp.packages {
        t.components.push(ToolchainComponent {
            name: name_safe(name),
            version: version.as_deref().unwrap_or("none").replace(' ', "_"),
        });
    }
    for (path, digest) in &fp.binaries {
        t.components.push(ToolchainComponent {
            name: format!("sha256{}", name_safe(path)),
            version: digest.clone(),
        });
    }
    for (tool, banner) in &fp.banners {
        t.banners.push(format!("{tool}: {banner}"));
    }
    t
}

/// Assembles, normalizes and validates the record (`flavour`: the plan's named config
/// source, recorded by [`Flavour::name`]; `hardening`: the hardening gate's result, see
/// [`crate::hardening::summary`]; `module_cert_sha256`: the pinned module-signing
/// certificate, see [`crate::signing`]).
pub fn build_record(
    source: SourcePin,
    fingerprint: &ToolchainFingerprint,
    kernel_config_sha256: String,
    flavour: Option<Flavour>,
    hardening: Option<testimony::build_record::Hardening>,
    module_cert_sha256: Option<String>,
    debs: Vec<DebRecord>,
) -> Result<BuildRecord, RecordError> {
    let mut record = BuildRecord {
        source,
        toolchain: record_toolchain(fingerprint),
        kernel_config_sha256,
        flavour: flavour.map(|f| f.name().to_owned()),
        hardening,
        module_cert_sha256,
        debs,
    };
    record.normalize();
    BuildRecord::parse(&record.to_text()).map_err(|e| RecordError::Invalid(e.to_string()))?;
    Ok(record)
}

/// Writes `BUILD-RECORD` and `TOOLCHAIN` (the fingerprint's text) into `dir`.
pub fn write_record(
    dir: &Path,
    record: &BuildRecord,
    fingerprint: &ToolchainFingerprint,
) -> Result<(), RecordError> {
    for (name, text) in [
        ("BUILD-RECORD", record.to_text()),
        ("TOOLCHAIN", fingerprint.to_text()),
    ] {
        let path = dir.join(name);
        fs::write(&path, text).map_err(|source| RecordError::Io { path, source })?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn source() -> SourcePin {
        SourcePin {
            manifest_sha256: "01".repeat(32),
            tarball_name: "linux-source-6.12.tar.xz".into(),
            tarball_sha256: "02".repeat(32),
            source_date_epoch: 1_794_660_961,
        }
    }

    /// A small record with one package, `a_1_amd64.deb`, for other modules' tests.
    pub(crate) fn example() -> BuildRecord {
        let debs = vec![deb("a_1_amd64.deb")];
        let config = "03".repeat(32);
        build_record(source(), &fingerprint(), config, None, None, None, debs).unwrap()
    }

    fn fingerprint() -> ToolchainFingerprint {
        let mut fp = ToolchainFingerprint::default();
        fp.packages
            .insert("gcc-12".into(), Some("12.2.0-14+deb12u1".into()));
        fp.packages.insert("pahole".into(), None);
        fp.banners.insert("make".into(), "GNU Make 4.3".into());
        fp.binaries
            .insert("/usr/bin/x86_64-linux-gnu-gcc-12".into(), "ab".repeat(32));
        fp
    }

    fn deb(name: &str) -> DebRecord {
        DebRecord {
            file_name: name.into(),
            package: name.split('_').next().unwrap().into(),
            version: "1".into(),
            architecture: "amd64".into(),
            size: 3,
            sha256: "cd".repeat(32),
            files: vec![FileHash {
                path: "boot/x".into(),
                sha256: "ef".repeat(32),
            }],
        }
    }

    #[test]
    fn the_record_names_pin_toolchain_config_and_debs_and_parses_back() {
        let source = source();
        let debs = vec![deb("z_1_amd64.deb"), deb("a_1_amd64.deb")];
        let record = build_record(
            source,
            &fingerprint(),
            "03".repeat(32),
            None,
            None,
            None,
            debs,
        )
        .unwrap();
        assert_eq!(record.debs[0].file_name, "a_1_amd64.deb", "normalized");
        let names: Vec<&str> = record
            .toolchain
            .components
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["gcc-12", "pahole", "sha256_usr_bin_x86_64-linux-gnu-gcc-12"]
        );
        assert_eq!(record.toolchain.components[1].version, "none");
        assert_eq!(record.toolchain.banners, ["make: GNU Make 4.3"]);

        let t = tempfile::tempdir().unwrap();
        write_record(t.path(), &record, &fingerprint()).unwrap();
        let text = fs::read_to_string(t.path().join("BUILD-RECORD")).unwrap();
        assert_eq!(BuildRecord::parse(&text).unwrap(), record);
        assert!(text.contains(&format!("kernel-config-sha256={}\n", "03".repeat(32))));
        let toolchain = fs::read_to_string(t.path().join("TOOLCHAIN")).unwrap();
        assert_eq!(
            ToolchainFingerprint::parse(&toolchain).unwrap(),
            fingerprint()
        );
    }

    #[test]
    fn the_flavour_is_named_in_the_record_and_absent_for_a_users_config() {
        let source = || SourcePin {
            manifest_sha256: "01".repeat(32),
            tarball_name: "linux-source-6.12.tar.xz".into(),
            tarball_sha256: "02".repeat(32),
            source_date_epoch: 1_794_660_961,
        };
        let debs = || vec![deb("a_1_amd64.deb")];
        for flavour in Flavour::ALL {
            let record = build_record(
                source(),
                &fingerprint(),
                "03".repeat(32),
                Some(flavour),
                None,
                None,
                debs(),
            )
            .unwrap();
            let text = record.to_text();
            assert!(
                text.contains(&format!("\nflavour={}\n", flavour.name())),
                "{text}"
            );
            let back = BuildRecord::parse(&text).unwrap();
            assert_eq!(back.flavour.as_deref(), Some(flavour.name()));
            assert_eq!(back.flavour.unwrap().parse::<Flavour>(), Ok(flavour));
        }
        let users = build_record(
            source(),
            &fingerprint(),
            "03".repeat(32),
            None,
            None,
            None,
            debs(),
        )
        .unwrap();
        assert_eq!(users.flavour, None);
        assert!(!users.to_text().contains("flavour="));
    }

    #[test]
    fn a_record_that_would_not_validate_is_refused() {
        let source = SourcePin {
            manifest_sha256: "not hex".into(),
            tarball_name: "t".into(),
            tarball_sha256: "02".repeat(32),
            source_date_epoch: 1,
        };
        let err = build_record(
            source,
            &fingerprint(),
            "03".repeat(32),
            None,
            None,
            None,
            vec![],
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the build record does not validate"),
            "{err}"
        );
    }
}
