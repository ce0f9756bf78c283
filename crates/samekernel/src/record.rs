//! The build record: what testimony's `BUILD-RECORD` says about a build, translated
//! from the pin, the toolchain fingerprint, the `.config` and the packed `.deb`s.

use std::fs;
use std::path::{Path, PathBuf};

use detdeb::{DebReader, TarEntryKind};
use kbuild_env::ToolchainFingerprint;
use sha2::{Digest, Sha256};
use testimony::BuildRecord;
use testimony::build_record::{DebRecord, FileHash, SourcePin, Toolchain, ToolchainComponent};

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
    let mut f = fs::File::open(p).map_err(io)?;
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
    while let Some(e) = tar.next_entry().map_err(deb)? {
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
        file_name: path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
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

/// Assembles, normalizes and validates the record.
pub fn build_record(
    source: SourcePin,
    fingerprint: &ToolchainFingerprint,
    kernel_config_sha256: String,
    debs: Vec<DebRecord>,
) -> Result<BuildRecord, RecordError> {
    let mut record = BuildRecord {
        source,
        toolchain: record_toolchain(fingerprint),
        kernel_config_sha256,
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
