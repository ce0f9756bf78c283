//! The whole pipeline: fetch and verify everything a [`Manifest`] names, then unpack and
//! patch it into a directory that appears atomically.

use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::cache::sync_dir;
use crate::deb;
use crate::digest::HashingReader;
use crate::error::{Error, Result};
use crate::fetch::{FetchEvent, FetchProgress, Fetcher, verify_file};
use crate::manifest::{
    Compression, DebianSource, FileDigest, Fingerprint, Manifest, PatchPin, SignaturePin,
    SignedOver, Source, TarballSource,
};
use crate::openpgp::{SignerRequirement, verify_detached};
use crate::unpack::{UnpackLimits, normalize_mtimes, unpack_tar_sized};

/// Largest signature file fetched.
const MAX_SIGNATURE_SIZE: u64 = 1 << 20;

/// Everything a pin names, verified and in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedSources {
    /// The verified source tarball (a cache blob).
    pub tarball: PathBuf,
    /// Its compression.
    pub compression: Compression,
    /// The tarball's single top directory.
    pub top_dir: String,
    /// Distinct pinned signers whose signature over the source verified (empty if the pin
    /// has no signature).
    pub signers: Vec<Fingerprint>,
    /// The patch series, in order.
    pub patches: Vec<FetchedPatch>,
    /// The pin's SOURCE_DATE_EPOCH.
    pub source_date_epoch: u64,
    /// The pinned digest of the decompressed tar, checked again while unpacking.
    pub uncompressed: Option<FileDigest>,
}

impl FetchedSources {
    /// What was verified, a line each: every pinned signer whose signature held, then
    /// every patch with its cache path.
    pub fn verified_lines(&self) -> Vec<String> {
        let signers = (self.signers.iter()).map(|s| format!("good signature by pinned signer {s}"));
        let patches = (self.patches.iter())
            .map(|p| format!("verified patch {}: {}", p.name, p.path.display()));
        signers.chain(patches).collect()
    }
}

/// One verified patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedPatch {
    /// Name from the manifest.
    pub name: String,
    /// The verified cache blob.
    pub path: PathBuf,
    /// `-p` value.
    pub strip: u32,
}

/// Fetches (or finds in the cache) and verifies the source and every patch of `manifest`.
pub fn fetch_sources(
    manifest: &Manifest,
    fetcher: &Fetcher,
    progress: &mut dyn FetchProgress,
) -> Result<FetchedSources> {
    let base = manifest.base_dir.as_deref();
    let source = match &manifest.source {
        Source::Tarball(t) => fetch_tarball(t, fetcher, base, progress)?,
        Source::DebianPackage(d) => {
            let path = fetch_debian(d, fetcher, base, progress)?;
            let name = d.member.path.rsplit('/').next().unwrap_or("");
            let compression =
                Compression::from_file_name(name).expect("validated when the manifest was parsed");
            VerifiedSource {
                path,
                compression,
                signers: Vec::new(),
                uncompressed: None,
            }
        }
    };
    let patches = manifest
        .patches
        .iter()
        .map(|p| fetch_patch(p, fetcher, base, progress))
        .collect::<Result<Vec<_>>>()?;
    Ok(FetchedSources {
        tarball: source.path,
        compression: source.compression,
        top_dir: manifest.top_dir().to_owned(),
        signers: source.signers,
        patches,
        source_date_epoch: manifest.source_date_epoch,
        uncompressed: source.uncompressed,
    })
}

/// The verified source file and what was checked about it.
struct VerifiedSource {
    path: PathBuf,
    compression: Compression,
    signers: Vec<Fingerprint>,
    uncompressed: Option<FileDigest>,
}

/// An upstream tarball: fetched and hashed, its signature checked, and its
/// decompressed digest checked (on the signature's pass when it covers the stream).
fn fetch_tarball(
    t: &TarballSource,
    fetcher: &Fetcher,
    base: Option<&Path>,
    progress: &mut dyn FetchProgress,
) -> Result<VerifiedSource> {
    let what = format!("source {}", t.file_name);
    let want = FileDigest {
        size: t.size,
        sha256: t.sha256,
    };
    let path = fetcher.fetch_artifact(&what, &t.urls, &want, base, progress)?;
    let compression = t
        .compression
        .or_else(|| Compression::from_file_name(&t.file_name))
        .expect("validated when the manifest was parsed");
    let mut signers = Vec::new();
    let mut uncompressed_checked = false;
    if let Some(sig) = &t.signature {
        let (good, checked) = check_signature(
            &what,
            sig,
            &path,
            compression,
            t.uncompressed.as_ref(),
            fetcher,
            base,
            progress,
        )?;
        signers = good;
        uncompressed_checked = checked;
    }
    if let Some(u) = &t.uncompressed
        && !uncompressed_checked
    {
        progress.event(&FetchEvent::Step {
            what: &format!("checking the decompressed {}", t.file_name),
        });
        let mut r =
            HashingReader::new(decompressed(&path, compression)?.take(u.size.saturating_add(1)));
        io::copy(&mut r, &mut io::sink()).map_err(|e| Error::io(&path, e))?;
        check_digest(&format!("decompressed {}", t.file_name), u, r.finish())?;
    }
    Ok(VerifiedSource {
        path,
        compression,
        signers,
        uncompressed: t.uncompressed,
    })
}

/// One patch: fetched and hashed, its signature (over the file) checked.
fn fetch_patch(
    p: &PatchPin,
    fetcher: &Fetcher,
    base: Option<&Path>,
    progress: &mut dyn FetchProgress,
) -> Result<FetchedPatch> {
    let what = format!("patch {}", p.name);
    let want = FileDigest {
        size: p.size,
        sha256: p.sha256,
    };
    let path = fetcher.fetch_artifact(&what, &p.urls, &want, base, progress)?;
    if let Some(sig) = &p.signature {
        check_signature(
            &what,
            sig,
            &path,
            Compression::None,
            None,
            fetcher,
            base,
            progress,
        )?;
    }
    Ok(FetchedPatch {
        name: p.name.clone(),
        path,
        strip: p.strip,
    })
}

/// Checks a detached signature over `path` (or its decompressed stream). Returns the good
/// signers and whether the decompressed digest `uncompressed` was checked on the way.
#[allow(clippy::too_many_arguments)]
fn check_signature(
    what: &str,
    sig: &SignaturePin,
    path: &Path,
    compression: Compression,
    uncompressed: Option<&FileDigest>,
    fetcher: &Fetcher,
    base: Option<&Path>,
    progress: &mut dyn FetchProgress,
) -> Result<(Vec<Fingerprint>, bool)> {
    let kr_want = FileDigest {
        size: sig.keyring.size,
        sha256: sig.keyring.sha256,
    };
    let kr_path = fetcher.fetch_artifact(
        &format!("keyring for {what}"),
        &sig.keyring.urls,
        &kr_want,
        base,
        progress,
    )?;
    let keyring = fs::read(&kr_path).map_err(|e| Error::io(&kr_path, e))?;
    let signature = fetcher.fetch_small(
        &format!("signature for {what}"),
        &sig.urls,
        MAX_SIGNATURE_SIZE,
        sig.sha256.as_ref(),
        base,
        progress,
    )?;
    let req = SignerRequirement {
        keyring: &keyring,
        signers: &sig.signers,
        min_signers: sig.min_signers,
    };
    let sig_err = |e: crate::openpgp::SignatureFailure| Error::Signature {
        what: what.to_owned(),
        problem: e.to_string(),
    };
    match sig.signed_over {
        SignedOver::File => {
            let f = File::open(path).map_err(|e| Error::io(path, e))?;
            Ok((
                verify_detached(&signature, BufReader::new(f), &req).map_err(sig_err)?,
                false,
            ))
        }
        SignedOver::Uncompressed => {
            progress.event(&FetchEvent::Step {
                what: &format!("checking the signature over the decompressed {what}"),
            });
            let limit = uncompressed
                .map_or(UnpackLimits::default().max_total_bytes, |u| u.size)
                .saturating_add(1);
            let mut r = HashingReader::new(decompressed(path, compression)?.take(limit));
            let good = verify_detached(&signature, &mut r, &req).map_err(sig_err)?;
            if let Some(u) = uncompressed {
                check_digest(&format!("decompressed {what}"), u, r.finish())?;
            }
            Ok((good, uncompressed.is_some()))
        }
    }
}

fn check_digest(
    what: &str,
    want: &FileDigest,
    (actual, n): (crate::Sha256Digest, u64),
) -> Result<()> {
    if n != want.size {
        return Err(Error::SizeMismatch {
            what: what.to_owned(),
            expected: want.size,
            actual: n,
        });
    }
    if actual != want.sha256 {
        return Err(Error::DigestMismatch {
            what: what.to_owned(),
            expected: want.sha256,
            actual,
        });
    }
    Ok(())
}

/// A reader over the decompressed contents of the verified file at `path`.
pub fn decompressed(path: &Path, compression: Compression) -> Result<Box<dyn Read + Send + Sync>> {
    let f = BufReader::new(File::open(path).map_err(|e| Error::io(path, e))?);
    Ok(match compression {
        Compression::Xz => Box::new(xz2::read::XzDecoder::new(f)),
        Compression::Gzip => Box::new(flate2::read::GzDecoder::new(f)),
        Compression::None => Box::new(f),
    })
}

fn fetch_debian(
    d: &DebianSource,
    fetcher: &Fetcher,
    base: Option<&Path>,
    progress: &mut dyn FetchProgress,
) -> Result<PathBuf> {
    let member_want = FileDigest {
        size: d.member.size,
        sha256: d.member.sha256,
    };
    let member_what = format!("{} in {}={}", d.member.path, d.package, d.version);
    if let Some(p) = fetcher.cached(&member_what, &member_want, progress)? {
        return Ok(p);
    }
    let deb_what = format!("{}={} .deb", d.package, d.version);
    let deb_path = if !d.urls.is_empty() {
        fetcher.fetch_artifact(&deb_what, &d.urls, &d.deb, base, progress)?
    } else if let Some(p) = fetcher.cached(&deb_what, &d.deb, progress)? {
        p
    } else {
        let path = fetcher.apt_download(&d.package, &d.version, &d.deb, &deb_what, progress)?;
        progress.event(&FetchEvent::Verified {
            what: &deb_what,
            path: &path,
        });
        path
    };
    progress.event(&FetchEvent::Step {
        what: &format!("extracting {member_what}"),
    });
    let mut tmp = fetcher.cache().temp_file()?;
    deb::extract_member(&deb_path, &d.member.path, d.member.size, tmp.as_file_mut())?;
    verify_file(tmp.path(), &member_want, &member_what)?;
    let path = fetcher.cache().commit(tmp, &member_want.sha256)?;
    progress.event(&FetchEvent::Verified {
        what: &member_what,
        path: &path,
    });
    Ok(path)
}

/// Refuses an `out` that exists and is not an empty directory ([`prepare_source`] checks
/// again; a caller checks first to fail before any download).
pub fn check_output_free(out: &Path) -> Result<()> {
    match fs::read_dir(out).map(|mut d| d.next().is_some()) {
        Ok(true) => Err(Error::OutputExists {
            path: out.to_path_buf(),
        }),
        Ok(false) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(out, e)),
    }
}

/// Safe-unpacks the fetched source into `out` and applies the patch series.
///
/// Everything happens in a temporary directory beside `out`, which is renamed to `out` only
/// when the whole tree is unpacked, checked, patched and has its mtimes set to the pin's
/// SOURCE_DATE_EPOCH. `out` must not exist, or be an empty directory.
pub fn prepare_source(
    fetched: &FetchedSources,
    out: &Path,
    limits: &UnpackLimits,
    progress: &mut dyn FetchProgress,
) -> Result<PathBuf> {
    check_output_free(out)?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".srcpin-")
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    let archive = fetched.tarball.display().to_string();
    progress.event(&FetchEvent::Step {
        what: &format!("unpacking {}", fetched.top_dir),
    });
    let limit = limits.max_total_bytes.saturating_add(64 << 20);
    // Decoding runs on its own thread, overlapping the file creation below.
    let decoder = decompressed(&fetched.tarball, fetched.compression)?.take(limit);
    let mut r = HashingReader::new(
        crate::readahead::ReadAhead::new(decoder).map_err(|e| Error::io(&fetched.tarball, e))?,
    );
    let compressed = fs::metadata(&fetched.tarball)
        .map_err(|e| Error::io(&fetched.tarball, e))?
        .len();
    let top = unpack_tar_sized(
        &mut r,
        Some(compressed),
        tmp.path(),
        &fetched.top_dir,
        limits,
        &archive,
    )?;
    if let Some(u) = &fetched.uncompressed {
        io::copy(&mut r, &mut io::sink()).map_err(|e| Error::io(&fetched.tarball, e))?;
        check_digest(&format!("decompressed {archive}"), u, r.finish())?;
    }
    for p in &fetched.patches {
        progress.event(&FetchEvent::Step {
            what: &format!("applying patch {}", p.name),
        });
        let bytes = fs::read(&p.path).map_err(|e| Error::io(&p.path, e))?;
        crate::patch::apply_patch(&p.name, &bytes, &top, p.strip)
            .map_err(|e| shown_as(e, &top, out))?;
    }
    normalize_mtimes(&top, fetched.source_date_epoch).map_err(|e| shown_as(e, &top, out))?;
    fs::rename(&top, out).map_err(|e| Error::io(out, e))?;
    sync_dir(parent)?;
    Ok(out.to_path_buf())
}

/// Names a path below the temporary tree `tmp` as the path it will have below `out`:
/// users never see `.srcpin-*` directories in messages.
fn shown_as(e: Error, tmp: &Path, out: &Path) -> Error {
    match e {
        Error::Io { path, error } => match path.strip_prefix(tmp) {
            Ok(rel) => Error::Io {
                path: out.join(rel),
                error,
            },
            Err(_) => Error::Io { path, error },
        },
        other => other,
    }
}
