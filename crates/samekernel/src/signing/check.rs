//! The witness's check of stage 2: the signed package differs from the unsigned one
//! (which witnesses rebuilt and testified about) *only* by appended module signatures,
//! each valid for the pinned certificate, and by what follows from them (`md5sums`,
//! `Installed-Size`, the `+signed` version).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;

use super::SigningError;
use super::cert::ModuleCert;
use super::deb::{DataItem, DebContents, is_module, read_deb};
use super::stage2::signed_version;

/// Why a signature is not valid (modsign's reason, typed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureProblem {
    /// Made by a key that is not the pinned certificate's.
    UnknownSigner,
    /// Does not match the module's bytes.
    BadSignature,
    /// Not a CMS message.
    Malformed,
}

/// One way the signed package differs from the unsigned one other than as allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Difference {
    /// A control field differs (or is only on one side).
    ControlField {
        /// The field.
        field: String,
        /// Its unsigned value.
        unsigned: Option<String>,
        /// Its signed value.
        signed: Option<String>,
    },
    /// A control-area file other than `control` and `md5sums` differs or is on one side only.
    ControlFile {
        /// Its name.
        name: String,
    },
    /// `md5sums` is not the digest of the signed data.
    Md5sums,
    /// An entry only in the signed package.
    Extra {
        /// Its path.
        path: String,
    },
    /// An entry only in the unsigned package.
    Missing {
        /// Its path.
        path: String,
    },
    /// Same path, different type, mode, owner or date.
    Header {
        /// Its path.
        path: String,
    },
    /// A file other than a module has other contents.
    Changed {
        /// Its path.
        path: String,
    },
    /// A module in the signed package has no signature appended.
    Unsigned {
        /// Its path.
        path: String,
    },
    /// A module's trailer is malformed.
    Trailer {
        /// Its path.
        path: String,
        /// modsign's reason.
        problem: String,
    },
    /// A module's body (without its signature) is not the unsigned module.
    ModuleChanged {
        /// Its path.
        path: String,
    },
    /// A module's signature is not valid for the pinned certificate.
    Signature {
        /// Its path.
        path: String,
        /// Why.
        problem: SignatureProblem,
        /// openssl's words.
        detail: String,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
        match self {
            Difference::ControlField {
                field,
                unsigned,
                signed,
            } => write!(
                f,
                "control field {field}: {} in the unsigned package, {} in the signed one",
                o(unsigned),
                o(signed)
            ),
            Difference::ControlFile { name } => write!(f, "control file {name} differs"),
            Difference::Md5sums => {
                f.write_str("md5sums is not the digest of the signed package's files")
            }
            Difference::Extra { path } => write!(f, "{path}: only in the signed package"),
            Difference::Missing { path } => write!(f, "{path}: missing from the signed package"),
            Difference::Header { path } => write!(f, "{path}: type, mode, owner or date differ"),
            Difference::Changed { path } => write!(f, "{path}: contents differ (not a module)"),
            Difference::Unsigned { path } => write!(f, "{path}: no signature appended"),
            Difference::Trailer { path, problem } => {
                write!(f, "{path}: malformed signature trailer: {problem}")
            }
            Difference::ModuleChanged { path } => write!(
                f,
                "{path}: the module itself differs, not only by its signature"
            ),
            Difference::Signature {
                path,
                problem,
                detail,
            } => write!(f, "{path}: signature {problem:?}: {detail}"),
        }
    }
}

/// The result of [`check_signed`].
#[derive(Debug, Clone, Serialize)]
pub struct SignedCheck {
    /// The unsigned package's version.
    pub unsigned_version: String,
    /// The signed package's version.
    pub signed_version: String,
    /// sha256 of the pinned certificate.
    pub module_cert_sha256: String,
    /// Modules whose appended signature is valid.
    pub signed_modules: usize,
    /// Everything else that differs (empty: the check passes).
    pub differences: Vec<Difference>,
}

impl SignedCheck {
    /// No difference beyond valid appended signatures.
    pub fn passes(&self) -> bool {
        self.differences.is_empty() && self.signed_modules > 0
    }

    /// The report as `kernel-deb verify-signed` prints it: the versions and certificate,
    /// each difference, and the verdict about `signed` (the signed package's path).
    pub fn render_text(&self, signed: &Path) -> String {
        let mut text = format!(
            "unsigned {}  signed {}  module cert sha256 {}\n",
            self.unsigned_version, self.signed_version, self.module_cert_sha256
        );
        for d in &self.differences {
            text.push_str(&format!("  DIFFERS: {d}\n"));
        }
        let verdict = match self.passes() {
            true => "only appended module signatures, each valid for the pinned certificate",
            false => "NOT only valid module signatures",
        };
        let (path, n) = (signed.display(), self.signed_modules);
        text.push_str(&format!("{path}: {n} signed module(s); {verdict}\n"));
        text
    }
}

/// Compares `signed` with `unsigned` under the pinned certificate `cert`.
pub fn check_signed(
    unsigned: &Path,
    signed: &Path,
    cert: &Path,
) -> Result<SignedCheck, SigningError> {
    let cert = ModuleCert::load(cert)?;
    let (u, s) = (read_deb(unsigned)?, read_deb(signed)?);
    let mut out = SignedCheck {
        unsigned_version: u.control.get("Version").unwrap_or_default().to_owned(),
        signed_version: s.control.get("Version").unwrap_or_default().to_owned(),
        module_cert_sha256: cert.sha256.clone(),
        signed_modules: 0,
        differences: Vec::new(),
    };
    control_differences(&u, &s, &mut out.differences);
    let openssl = modsign::Openssl::default();
    let signed_by_path: BTreeMap<String, &DataItem> =
        s.data.iter().map(|d| (d.path(), d)).collect();
    let unsigned_paths: std::collections::BTreeSet<String> =
        u.data.iter().map(DataItem::path).collect();
    for item in &u.data {
        let path = item.path();
        let Some(other) = signed_by_path.get(&path) else {
            out.differences.push(Difference::Missing { path });
            continue;
        };
        match compare_entry(&openssl, &cert, item, other) {
            Ok(true) => out.signed_modules += 1,
            Ok(false) => {}
            Err(d) => out.differences.push(d),
        }
    }
    for path in signed_by_path
        .keys()
        .filter(|p| !unsigned_paths.contains(*p))
    {
        out.differences
            .push(Difference::Extra { path: path.clone() });
    }
    Ok(out)
}

/// `Ok(true)`: a module with a valid signature; `Ok(false)`: an identical entry.
fn compare_entry(
    openssl: &modsign::Openssl,
    cert: &ModuleCert,
    u: &DataItem,
    s: &DataItem,
) -> Result<bool, Difference> {
    let path = u.path();
    let module = is_module(&path);
    let (a, b) = (&u.entry, &s.entry);
    let same_header = a.kind == b.kind
        && a.mode == b.mode
        && a.uid == b.uid
        && a.gid == b.gid
        && a.uname == b.uname
        && a.gname == b.gname
        && a.mtime == b.mtime
        && (module || a.size == b.size);
    if !same_header {
        return Err(Difference::Header { path });
    }
    let (body, signed) = (
        u.contents.as_deref().unwrap_or_default(),
        s.contents.as_deref().unwrap_or_default(),
    );
    if !module {
        return if body == signed {
            Ok(false)
        } else {
            Err(Difference::Changed { path })
        };
    }
    let parts = match modsign::trailer::split(signed) {
        Ok(Some(p)) => p,
        Ok(None) => return Err(Difference::Unsigned { path }),
        Err(e) => {
            return Err(Difference::Trailer {
                path,
                problem: e.to_string(),
            });
        }
    };
    if parts.body != body {
        return Err(Difference::ModuleChanged { path });
    }
    openssl
        .verify(parts.body, parts.signature, &cert.path)
        .map_err(|e| {
            let problem = match &e {
                modsign::VerifyError::UnknownSigner(_) => SignatureProblem::UnknownSigner,
                modsign::VerifyError::BadSignature(_) => SignatureProblem::BadSignature,
                modsign::VerifyError::Malformed(_) | modsign::VerifyError::Openssl(_) => {
                    SignatureProblem::Malformed
                }
            };
            Difference::Signature {
                path: path.clone(),
                problem,
                detail: e.to_string(),
            }
        })?;
    Ok(true)
}

/// Control fields and files: only Version (`+signed`), Installed-Size (recomputed) and
/// md5sums (the signed data's) may differ.
fn control_differences(u: &DebContents, s: &DebContents, out: &mut Vec<Difference>) {
    let fields = |d: &DebContents| -> BTreeMap<String, String> {
        d.control
            .fields()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    let (uf, sf) = (fields(u), fields(s));
    let signed_data = super::deb::data_entries(&s.data);
    let mut expected = uf.clone();
    if let Some(v) = uf.get("Version") {
        expected.insert("Version".into(), signed_version(v));
    }
    if uf.contains_key("Installed-Size") {
        expected.insert(
            "Installed-Size".into(),
            detdeb::installed_size_kib(&signed_data).to_string(),
        );
    }
    let names: std::collections::BTreeSet<&String> = expected.keys().chain(sf.keys()).collect();
    for name in names {
        if expected.get(name) != sf.get(name) {
            out.push(Difference::ControlField {
                field: name.clone(),
                unsigned: uf.get(name).cloned(),
                signed: sf.get(name).cloned(),
            });
        }
    }
    let files = |d: &DebContents| -> BTreeMap<String, (u32, Vec<u8>)> {
        d.control_files
            .iter()
            .filter(|f| f.name != "control" && f.name != "md5sums")
            .map(|f| (f.name.clone(), (f.entry.mode, f.contents.clone())))
            .collect()
    };
    let (ucf, scf) = (files(u), files(s));
    let names: std::collections::BTreeSet<&String> = ucf.keys().chain(scf.keys()).collect();
    for name in names {
        if ucf.get(name) != scf.get(name) {
            out.push(Difference::ControlFile { name: name.clone() });
        }
    }
    let md5 = detdeb::Md5Sums::from_entries(&signed_data, &[])
        .map(|m| m.to_bytes())
        .ok();
    let theirs = s
        .control_files
        .iter()
        .find(|f| f.name == "md5sums")
        .map(|f| f.contents.clone());
    if md5 != theirs {
        out.push(Difference::Md5sums);
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;

    #[test]
    fn the_text_lists_each_difference_then_the_verdict() {
        let mut check = SignedCheck {
            unsigned_version: "1".into(),
            signed_version: "1+signed".into(),
            module_cert_sha256: "ab".into(),
            signed_modules: 2,
            differences: Vec::new(),
        };
        let ok = check.render_text(Path::new("s.deb"));
        assert_eq!(
            ok,
            "unsigned 1  signed 1+signed  module cert sha256 ab\n\
             s.deb: 2 signed module(s); only appended module signatures, each valid for the pinned certificate\n"
        );
        check.differences.push(Difference::Md5sums);
        let bad = check.render_text(Path::new("s.deb"));
        assert!(bad.contains("\n  DIFFERS: md5sums is not"), "{bad}");
        assert!(
            bad.ends_with("; NOT only valid module signatures\n"),
            "{bad}"
        );
    }
}
