//! The detached-signature artefact `kernel-deb sign-modules` publishes: one
//! deterministic GNU tar holding `INDEX` and `signatures/<module path>.p7s` (DER CMS,
//! exactly the bytes stage 2 appends), in that order, every entry root-owned, mode 0644,
//! dated from the unsigned package.
//!
//! ```text
//! samekernel-module-signatures=1
//! package=<the unsigned linux-image package>
//! version=<its version>
//! architecture=<its architecture>
//! unsigned-deb-sha256=<sha256 of the unsigned .deb>
//! module-cert-sha256=<sha256 of the pinned certificate (PEM block)>
//! digest=sha512
//! module=<sha256 of the unsigned module> <sha256 of its signature> <path>   (sorted by path)
//! ```

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use detdeb::TarEntryKind;
use detdeb::tar_write::{GnuTarWriter, TarHeader};
use sha2::{Digest as _, Sha256};

use crate::record::hex;

/// The first line of `INDEX`.
pub const INDEX_TAG: &str = "samekernel-module-signatures=1";
/// A signature larger than this is refused (real ones are a few hundred bytes).
const MAX_SIGNATURE: u64 = 64 * 1024;

/// One module's detached signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSignature {
    /// The module's path in the package (`lib/modules/R/kernel/…/x.ko`).
    pub path: String,
    /// sha256 of the unsigned module.
    pub module_sha256: String,
    /// The detached CMS signature (DER).
    pub signature: Vec<u8>,
}

/// Every module signature for one unsigned package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureSet {
    /// The unsigned package's name, version and architecture.
    pub package: String,
    /// Its version.
    pub version: String,
    /// Its architecture.
    pub architecture: String,
    /// sha256 of the unsigned `.deb`.
    pub unsigned_deb_sha256: String,
    /// sha256 of the certificate whose key signed.
    pub module_cert_sha256: String,
    /// The signatures' digest (`sha512`).
    pub digest: String,
    /// Sorted by path, unique.
    pub modules: Vec<ModuleSignature>,
}

/// Why an artefact cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ArtefactError {
    /// The tar is malformed or over the limits.
    #[error("{}: {source}", path.display())]
    Tar {
        /// The artefact.
        path: PathBuf,
        /// safe-extract's reason (boxed: it is large).
        source: Box<detdeb::safe_extract::Error>,
    },
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The artefact.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The index or the entries are not what the format says.
    #[error("{}: {problem}", path.display())]
    Format {
        /// The artefact.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

impl SignatureSet {
    /// The artefact's file name: `<package>_<version without epoch>_<arch>.module-signatures.tar`.
    pub fn file_name(&self) -> String {
        let v = self
            .version
            .split_once(':')
            .map_or(self.version.as_str(), |v| v.1);
        format!(
            "{}_{v}_{}.module-signatures.tar",
            self.package, self.architecture
        )
    }

    /// The `INDEX` text.
    pub fn index(&self) -> String {
        let mut s = format!(
            "{INDEX_TAG}\npackage={}\nversion={}\narchitecture={}\nunsigned-deb-sha256={}\nmodule-cert-sha256={}\ndigest={}\n",
            self.package,
            self.version,
            self.architecture,
            self.unsigned_deb_sha256,
            self.module_cert_sha256,
            self.digest
        );
        for m in &self.modules {
            s.push_str(&format!(
                "module={} {} {}\n",
                m.module_sha256,
                hex(&Sha256::digest(&m.signature)),
                m.path
            ));
        }
        s
    }

    /// The artefact's bytes (deterministic: a function of the set and `mtime`).
    pub fn to_tar(&self, mtime: i64) -> Vec<u8> {
        let mut w = GnuTarWriter::new(Vec::new());
        let index = self.index().into_bytes();
        let mut put = |name: String, bytes: &[u8]| {
            let header = TarHeader {
                name: name.into_bytes(),
                mode: 0o644,
                mtime,
                size: bytes.len() as u64,
                kind: TarEntryKind::File,
            };
            w.append(&header, Some(&mut &bytes[..]))
                .expect("writing to memory");
        };
        put("INDEX".into(), &index);
        for m in &self.modules {
            put(format!("signatures/{}.p7s", m.path), &m.signature);
        }
        w.finish().expect("writing to memory").0
    }

    /// Reads and checks an artefact: the index parses, every listed signature is there
    /// with the listed sha256, nothing else is.
    pub fn read(path: &Path) -> Result<SignatureSet, ArtefactError> {
        let file =
            safe_extract::regular::open_regular(path).map_err(|source| ArtefactError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let tar_err = |source| ArtefactError::Tar {
            path: path.to_path_buf(),
            source: Box::new(source),
        };
        let bad = |problem: String| ArtefactError::Format {
            path: path.to_path_buf(),
            problem,
        };
        let mut tar = detdeb::TarReader::new(
            file,
            &path.display().to_string(),
            detdeb::ReadLimits::default(),
        );
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        while let Some(e) = tar.next_entry().map_err(tar_err)? {
            if e.kind != TarEntryKind::File {
                return Err(bad(format!("{}: not a regular file", e.name_lossy())));
            }
            if e.size > MAX_SIGNATURE.max(16 << 20) {
                return Err(bad(format!(
                    "{}: {} bytes is too large",
                    e.name_lossy(),
                    e.size
                )));
            }
            let mut v = Vec::new();
            tar.data_reader()
                .read_to_end(&mut v)
                .map_err(|source| ArtefactError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
            files.push((e.name_lossy(), v));
        }
        let mut files = files.into_iter();
        let index = match files.next() {
            Some((name, bytes)) if name == "INDEX" => {
                String::from_utf8(bytes).map_err(|_| bad("INDEX is not UTF-8".into()))?
            }
            _ => return Err(bad("the first entry is not INDEX".into())),
        };
        let mut set = parse_index(&index).map_err(bad)?;
        let mut signatures: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (name, bytes) in files {
            let module = name
                .strip_prefix("signatures/")
                .and_then(|n| n.strip_suffix(".p7s"))
                .ok_or_else(|| bad(format!("unexpected entry {name}")))?;
            if bytes.len() as u64 > MAX_SIGNATURE {
                return Err(bad(format!(
                    "{name}: {} bytes is too large for a signature",
                    bytes.len()
                )));
            }
            if signatures.insert(module.to_owned(), bytes).is_some() {
                return Err(bad(format!("{name} appears twice")));
            }
        }
        for (m, listed_sha) in set.modules.iter_mut().zip(parse_signature_hashes(&index)) {
            let sig = signatures
                .remove(&m.path)
                .ok_or_else(|| bad(format!("no signature entry for {}", m.path)))?;
            if hex(&Sha256::digest(&sig)) != listed_sha {
                return Err(bad(format!(
                    "{}: the signature's sha256 is not the one in INDEX",
                    m.path
                )));
            }
            m.signature = sig;
        }
        if let Some(extra) = signatures.keys().next() {
            return Err(bad(format!("signature for {extra} is not listed in INDEX")));
        }
        Ok(set)
    }
}

/// The signature sha256 column of the `module=` lines, in order.
fn parse_signature_hashes(index: &str) -> Vec<String> {
    index
        .lines()
        .filter_map(|l| l.strip_prefix("module="))
        .filter_map(|l| l.split(' ').nth(1).map(str::to_owned))
        .collect()
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Parses `INDEX` (signatures left empty; [`SignatureSet::read`] fills them).
fn parse_index(text: &str) -> Result<SignatureSet, String> {
    let mut lines = text.lines();
    if lines.next() != Some(INDEX_TAG) {
        return Err(format!("INDEX does not start with {INDEX_TAG}"));
    }
    let mut field = |key: &str| -> Result<String, String> {
        lines
            .next()
            .and_then(|l| l.strip_prefix(key)?.strip_prefix('='))
            .filter(|v| !v.is_empty() && !v.contains(' '))
            .map(str::to_owned)
            .ok_or_else(|| format!("INDEX: expected {key}=<value>"))
    };
    let (package, version, architecture) =
        (field("package")?, field("version")?, field("architecture")?);
    let (unsigned_deb_sha256, module_cert_sha256, digest) = (
        field("unsigned-deb-sha256")?,
        field("module-cert-sha256")?,
        field("digest")?,
    );
    if !is_sha256(&unsigned_deb_sha256) || !is_sha256(&module_cert_sha256) {
        return Err("INDEX: a sha256 field is not 64 lowercase hex digits".into());
    }
    let mut modules: Vec<ModuleSignature> = Vec::new();
    for l in lines {
        let rest = l
            .strip_prefix("module=")
            .ok_or_else(|| format!("INDEX: unexpected line {l:?}"))?;
        let mut parts = rest.splitn(3, ' ');
        let (m, s, p) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        if !is_sha256(m)
            || !is_sha256(s)
            || !super::deb::is_module(p)
            || p.split('/').any(|c| c.is_empty() || c == "..")
        {
            return Err(format!("INDEX: bad module line {l:?}"));
        }
        if modules.last().is_some_and(|last| last.path.as_str() >= p) {
            return Err(format!("INDEX: {p} is out of order or repeated"));
        }
        modules.push(ModuleSignature {
            path: p.to_owned(),
            module_sha256: m.to_owned(),
            signature: Vec::new(),
        });
    }
    Ok(SignatureSet {
        package,
        version,
        architecture,
        unsigned_deb_sha256,
        module_cert_sha256,
        digest,
        modules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set() -> SignatureSet {
        SignatureSet {
            package: "linux-image-6.12.0-sk".into(),
            version: "6.12.0-1+sk.abc".into(),
            architecture: "amd64".into(),
            unsigned_deb_sha256: "a".repeat(64),
            module_cert_sha256: "b".repeat(64),
            digest: "sha512".into(),
            modules: vec![
                ModuleSignature {
                    path: "lib/modules/R/kernel/a.ko".into(),
                    module_sha256: "c".repeat(64),
                    signature: vec![0x30, 1, 2],
                },
                ModuleSignature {
                    path: "lib/modules/R/kernel/b.ko".into(),
                    module_sha256: "d".repeat(64),
                    signature: vec![0x30, 3],
                },
            ],
        }
    }

    #[test]
    fn an_artefact_reads_back_and_is_deterministic() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join(set().file_name());
        assert_eq!(
            set().file_name(),
            "linux-image-6.12.0-sk_6.12.0-1+sk.abc_amd64.module-signatures.tar"
        );
        std::fs::write(&p, set().to_tar(1)).unwrap();
        assert_eq!(SignatureSet::read(&p).unwrap(), set());
        assert_eq!(set().to_tar(1), set().to_tar(1));
    }

    #[test]
    fn tampered_artefacts_are_refused_by_name() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.tar");
        let try_with = |s: &SignatureSet, edit: &dyn Fn(Vec<u8>) -> Vec<u8>| {
            std::fs::write(&p, edit(s.to_tar(1))).unwrap();
            SignatureSet::read(&p).unwrap_err().to_string()
        };
        // A signature swapped after the index was written.
        let swapped = |mut bytes: Vec<u8>| {
            let at = bytes.windows(3).rposition(|w| w == [0x30, 3, 0]).unwrap();
            bytes[at + 1] = 4;
            bytes
        };
        assert!(
            try_with(&set(), &swapped)
                .contains("b.ko: the signature's sha256 is not the one in INDEX")
        );
        let mut bad = set();
        bad.modules[0].path = "lib/modules/R/../../etc/x.ko".into();
        assert!(try_with(&bad, &|b| b).contains("bad module line"));
        let mut unsorted = set();
        unsorted.modules.swap(0, 1);
        assert!(try_with(&unsorted, &|b| b).contains("out of order"));
        assert!(try_with(&set(), &|b| b[..600].to_vec()).starts_with(&p.display().to_string()));
    }

    proptest! {
        #[test]
        fn any_index_text_parses_or_errors(s in "\\PC{0,300}") {
            let _ = parse_index(&s);
        }

        #[test]
        fn sets_round_trip(sigs in proptest::collection::btree_map("[a-z]{1,8}", proptest::collection::vec(any::<u8>(), 1..200), 0..6)) {
            let mut s = set();
            s.modules = sigs.into_iter().map(|(name, signature)| ModuleSignature {
                path: format!("lib/modules/R/kernel/{name}.ko"), module_sha256: "e".repeat(64), signature }).collect();
            let t = tempfile::tempdir().unwrap();
            let p = t.path().join("s.tar");
            std::fs::write(&p, s.to_tar(7)).unwrap();
            prop_assert_eq!(SignatureSet::read(&p).unwrap(), s);
        }
    }
}
