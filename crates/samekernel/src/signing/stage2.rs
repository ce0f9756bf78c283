//! Out of band and stage 2: [`sign_modules`] makes the detached signatures (with the
//! key, on the publisher's machine), [`attach_signatures`] packs the signed package
//! (needs only the signatures and the certificate).
//!
//! **Naming.** The signed package keeps the unsigned package's name and gets the
//! version `<unsigned version>+signed` ([`signed_version`]). Both ship the same paths
//! (`/boot/vmlinuz-R`, `/lib/modules/R/…`), so they must be one package name that
//! replaces itself, as Debian's `linux-image-R-unsigned` and `linux-image-R` conflict
//! and replace each other; the higher version makes apt prefer the signed build, and a
//! testimony about the unsigned `.deb` (Package + Version + Architecture + sha256) can
//! never be mistaken for one about the signed `.deb`, or the reverse.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::SigningError;
use super::artefact::{ModuleSignature, SignatureSet};
use super::cert::ModuleCert;
use super::deb::{DebContents, is_module, read_deb};
use crate::record::{hex, sha256_file};

/// The suffix stage 2 adds to the package version.
pub const SIGNED_VERSION_SUFFIX: &str = "+signed";

/// The signed package's version for an unsigned one.
pub fn signed_version(unsigned: &str) -> String {
    format!("{unsigned}{SIGNED_VERSION_SUFFIX}")
}

/// What [`sign_modules`] published.
#[derive(Debug, Clone)]
pub struct PublishedSignatures {
    /// The artefact (`<out>/<package>_<version>_<arch>.module-signatures.tar`).
    pub path: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// Its contents.
    pub set: SignatureSet,
}

/// Refuses a key file inside any of `forbidden` (the source tree, the work directory,
/// the output directory…): from there it could end up in a package or an upload.
pub fn refuse_key_inside(key: &Path, forbidden: &[&Path]) -> Result<(), SigningError> {
    let key_real = std::fs::canonicalize(key).map_err(|source| SigningError::Io {
        path: key.to_path_buf(),
        source,
    })?;
    for dir in forbidden {
        // A directory that does not exist yet holds nothing.
        let Ok(dir_real) = std::fs::canonicalize(dir) else {
            continue;
        };
        if key_real.starts_with(&dir_real) {
            return Err(SigningError::KeyInside {
                key: key.to_path_buf(),
                dir: dir.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Signs every module of the unsigned image package `unsigned` with `key` (whose
/// certificate is `cert`), checks each signature against `cert`, and writes the
/// artefact into `out` (created if missing; an existing artefact is not overwritten).
/// A key file inside `out` or beside `unsigned` is refused.
pub fn sign_modules(
    unsigned: &Path,
    cert: &Path,
    key: &modsign::Key,
    out: &Path,
) -> Result<PublishedSignatures, SigningError> {
    if let modsign::Key::File(k) = key {
        let deb_dir = crate::signing::parent_dir(unsigned);
        refuse_key_inside(k, &[out, &deb_dir])?;
    }
    let cert = ModuleCert::load(cert)?;
    let deb = read_deb(unsigned)?;
    let openssl = modsign::Openssl::default();
    let mut modules = Vec::new();
    for item in deb.data.iter().filter(|d| is_module(&d.path())) {
        let path = item.path();
        let body = item.contents.as_deref().unwrap_or_default();
        if body.ends_with(modsign::trailer::MAGIC) {
            return Err(SigningError::AlreadySigned { path });
        }
        let signature = openssl
            .sign(body, &cert.path, key, modsign::Digest::Sha512)
            .map_err(|source| SigningError::Sign {
                path: path.clone(),
                source,
            })?;
        openssl
            .verify(body, &signature, &cert.path)
            .map_err(|source| SigningError::KeyNotForCert {
                path: path.clone(),
                source,
            })?;
        modules.push(ModuleSignature {
            module_sha256: hex(&Sha256::digest(body)),
            path,
            signature,
        });
    }
    modules.sort_by(|a, b| a.path.cmp(&b.path));
    let set = SignatureSet {
        package: field(&deb, "Package")?,
        version: field(&deb, "Version")?,
        architecture: field(&deb, "Architecture")?,
        unsigned_deb_sha256: sha256_file(unsigned)?,
        module_cert_sha256: cert.sha256.clone(),
        digest: modsign::Digest::Sha512.name().to_owned(),
        modules,
    };
    let bytes = set.to_tar(newest_mtime(&deb));
    let path = out.join(set.file_name());
    write_new(&path, &bytes)?;
    Ok(PublishedSignatures {
        sha256: hex(&Sha256::digest(&bytes)),
        path,
        set,
    })
}

/// Packs the signed image package into `out`: the unsigned package's data tree with
/// each module's signature appended (each checked against `cert` first), `md5sums`
/// recomputed, [`signed_version`], `Installed-Size` recomputed; the same compressor and
/// dates. Returns the new `.deb`'s path.
pub fn attach_signatures(
    unsigned: &Path,
    signatures: &Path,
    cert: &Path,
    out: &Path,
) -> Result<PathBuf, SigningError> {
    let cert = ModuleCert::load(cert)?;
    let set = SignatureSet::read(signatures)?;
    let mismatch = |what: &'static str| SigningError::ArtefactMismatch {
        artefact: signatures.to_path_buf(),
        what,
    };
    if set.unsigned_deb_sha256 != sha256_file(unsigned)? {
        return Err(mismatch("the unsigned package's sha256"));
    }
    if set.module_cert_sha256 != cert.sha256 {
        return Err(mismatch("the certificate's sha256"));
    }
    let mut deb = read_deb(unsigned)?;
    let mut by_path: std::collections::BTreeMap<&str, &ModuleSignature> =
        set.modules.iter().map(|m| (m.path.as_str(), m)).collect();
    let openssl = modsign::Openssl::default();
    for item in deb.data.iter_mut().filter(|d| is_module(&d.path())) {
        let path = item.path();
        let sig = by_path
            .remove(path.as_str())
            .ok_or_else(|| SigningError::NoSignature { path: path.clone() })?;
        let body = item.contents.take().unwrap_or_default();
        if hex(&Sha256::digest(&body)) != sig.module_sha256 {
            return Err(SigningError::ModuleChanged { path });
        }
        openssl
            .verify(&body, &sig.signature, &cert.path)
            .map_err(|source| SigningError::KeyNotForCert {
                path: path.clone(),
                source,
            })?;
        let signed = modsign::trailer::append(&body, &sig.signature).map_err(|source| {
            SigningError::Trailer {
                path: path.clone(),
                source,
            }
        })?;
        item.entry.size = signed.len() as u64;
        item.contents = Some(signed);
    }
    if let Some(extra) = by_path.keys().next() {
        return Err(SigningError::NotInPackage {
            path: (*extra).to_owned(),
        });
    }
    let version = signed_version(&field(&deb, "Version")?);
    deb.control.set("Version", &version);
    let data = super::deb::data_entries(&deb.data);
    if deb.control.get("Installed-Size").is_some() {
        deb.control.set(
            "Installed-Size",
            detdeb::installed_size_kib(&data).to_string(),
        );
    }
    let v = version.split_once(':').map_or(version.as_str(), |v| v.1);
    let path = out.join(format!(
        "{}_{v}_{}.deb",
        field(&deb, "Package")?,
        field(&deb, "Architecture")?
    ));
    std::fs::create_dir_all(out).map_err(|source| SigningError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    if path.exists() {
        return Err(SigningError::Exists { path });
    }
    deb.write(&path)?;
    Ok(path)
}

fn field(deb: &DebContents, name: &'static str) -> Result<String, SigningError> {
    deb.control
        .get(name)
        .map(str::to_owned)
        .ok_or_else(|| SigningError::MissingField {
            path: deb.path.clone(),
            field: name,
        })
}

fn newest_mtime(deb: &DebContents) -> i64 {
    deb.data.iter().map(|d| d.entry.mtime).max().unwrap_or(0)
}

/// Writes `bytes` to a new file `path` (temp file beside it, fsync, rename).
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), SigningError> {
    let io = |source| SigningError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.exists() {
        return Err(SigningError::Exists {
            path: path.to_path_buf(),
        });
    }
    std::fs::create_dir_all(crate::signing::parent_dir(path)).map_err(io)?;
    detdeb::safe_extract::atomic::write_file(path, bytes, 0o644, ".sk-signatures-").map_err(io)
}
