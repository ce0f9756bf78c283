//! The pin: a TOML manifest naming one kernel source and an ordered patch series.
//!
//! See the crate documentation for the format. Parsing is strict: unknown keys are errors,
//! every name that later becomes a path or a command-line argument is checked against a
//! conservative character set, and the signature thresholds must be satisfiable.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::digest::Sha256Digest;
use crate::error::{Error, Result};

/// The only manifest schema this version understands.
pub const SCHEMA: u32 = 1;

/// The built-in default pin (Debian 12's `linux-source-6.12`), as TOML.
pub const DEFAULT_MANIFEST_TOML: &str = include_str!("../default-manifest.toml");

/// A parsed, validated pin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Manifest {
    /// Must be [`SCHEMA`].
    pub schema: u32,
    /// The build's SOURCE_DATE_EPOCH (seconds since 1970, UTC); also the mtime of every
    /// unpacked file.
    pub source_date_epoch: u64,
    /// The kernel source.
    pub source: Source,
    /// Patches, applied in this order with `-p<strip>` semantics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<PatchPin>,
    /// Directory that relative `file:` URLs are resolved against (the manifest's directory).
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// Where the kernel source comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// A tarball fetched by URL (kernel.org style).
    Tarball(TarballSource),
    /// A tarball inside a Debian binary package such as `linux-source-6.12`.
    DebianPackage(DebianSource),
}

/// A size and SHA-256 pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FileDigest {
    /// Exact length in bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: Sha256Digest,
}

/// A tarball fetched by URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TarballSource {
    /// File name, e.g. `linux-6.12.1.tar.xz` (no directories).
    pub file_name: String,
    /// Mirrors, tried in order: `https://`, `http://` or `file:` URLs.
    pub urls: Vec<String>,
    /// Exact size of the (compressed) file.
    pub size: u64,
    /// SHA-256 of the (compressed) file.
    pub sha256: Sha256Digest,
    /// Compression; inferred from `file-name` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// The single top-level directory of the archive, e.g. `linux-6.12.1`.
    pub top_dir: String,
    /// Optional pin of the decompressed tar (the object kernel.org signs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncompressed: Option<FileDigest>,
    /// Optional detached OpenPGP signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignaturePin>,
}

/// A tarball inside a Debian binary package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DebianSource {
    /// Package name, e.g. `linux-source-6.12`.
    pub package: String,
    /// Exact Debian version, e.g. `6.12.117-1~deb12u1`.
    pub version: String,
    /// Mirrors of the `.deb`; when empty, `apt-get download package=version` is used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// The `.deb` file.
    pub deb: FileDigest,
    /// The tarball inside the package's `data.tar.*`.
    pub member: DebMember,
    /// The single top-level directory of the inner tarball.
    pub top_dir: String,
}

/// The pinned file inside a `.deb`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DebMember {
    /// Absolute path in the installed package, e.g. `/usr/src/linux-source-6.12.tar.xz`.
    pub path: String,
    /// Exact size of the member.
    pub size: u64,
    /// SHA-256 of the member.
    pub sha256: Sha256Digest,
}

/// How a tarball is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// `.tar.xz`
    Xz,
    /// `.tar.gz` / `.tgz`
    Gzip,
    /// plain `.tar`
    None,
}

impl Compression {
    /// Guesses the compression from a file name.
    pub fn from_file_name(name: &str) -> Option<Compression> {
        if name.ends_with(".tar.xz") || name.ends_with(".txz") {
            Some(Compression::Xz)
        } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Some(Compression::Gzip)
        } else if name.ends_with(".tar") {
            Some(Compression::None)
        } else {
            None
        }
    }
}

/// Which bytes a detached signature covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignedOver {
    /// The file exactly as downloaded.
    File,
    /// The decompressed stream (kernel.org's `.tar.sign`).
    Uncompressed,
}

/// An OpenPGP fingerprint (v4: 40 hex digits, v6: 64), normalised to uppercase without
/// spaces.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The normalised hex form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

impl FromStr for Fingerprint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let norm: String = s
            .chars()
            .filter(|c| *c != ' ')
            .collect::<String>()
            .to_ascii_uppercase();
        let ok_len = norm.len() == 40 || norm.len() == 64;
        if ok_len && norm.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Fingerprint(norm))
        } else {
            Err(format!("not an OpenPGP v4/v6 fingerprint: {s:?}"))
        }
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A detached OpenPGP signature and who must have made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SignaturePin {
    /// Mirrors of the signature file.
    pub urls: Vec<String>,
    /// Optional pin of the signature file itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256Digest>,
    /// Which bytes the signature covers.
    pub signed_over: SignedOver,
    /// The certificates (public keys) of the signers; pinned like any artifact.
    pub keyring: KeyringPin,
    /// Primary-key fingerprints allowed to sign. Signatures by any other key do not count.
    pub signers: Vec<Fingerprint>,
    /// How many *distinct* listed signers must have made a good signature.
    pub min_signers: usize,
}

/// An OpenPGP keyring (concatenated certificates, binary or armored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct KeyringPin {
    /// Mirrors of the keyring file.
    pub urls: Vec<String>,
    /// Exact size.
    pub size: u64,
    /// SHA-256.
    pub sha256: Sha256Digest,
}

/// One patch of the series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PatchPin {
    /// A short name used in messages, e.g. `0001-fix-build.patch`.
    pub name: String,
    /// Mirrors, tried in order.
    pub urls: Vec<String>,
    /// Exact size.
    pub size: u64,
    /// SHA-256.
    pub sha256: Sha256Digest,
    /// Leading path components to strip (`patch -p`); default 1.
    #[serde(default = "default_strip", skip_serializing_if = "is_default_strip")]
    pub strip: u32,
    /// Optional detached signature over the patch file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignaturePin>,
}

fn default_strip() -> u32 {
    1
}
fn is_default_strip(s: &u32) -> bool {
    *s == 1
}

/// Largest artifact a manifest may pin (the Debian 6.12 source .deb is ~150 MB).
pub const MAX_ARTIFACT_SIZE: u64 = 4 << 30;
/// Largest keyring, signature or patch file.
pub const MAX_SMALL_FILE_SIZE: u64 = 64 << 20;

impl Manifest {
    /// Parses and validates a manifest. `origin` is used in error messages.
    ///
    /// ```
    /// let m = srcpin::Manifest::builtin_default();
    /// let again = srcpin::Manifest::from_toml_str(&m.to_toml_string(), "test").unwrap();
    /// assert_eq!(m, again);
    /// ```
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Manifest> {
        let err = |message: String| Error::Manifest {
            origin: origin.to_owned(),
            message,
        };
        let m: Manifest = toml::from_str(text).map_err(|e| err(e.message().to_owned()))?;
        m.validate().map_err(err)?;
        Ok(m)
    }

    /// Reads a manifest file; relative `file:` URLs resolve against its directory.
    pub fn from_path(path: &Path) -> Result<Manifest> {
        let text =
            safe_extract::regular::read_regular_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut m = Manifest::from_toml_str(&text, &path.display().to_string())?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        m.base_dir = Some(dir.to_path_buf());
        Ok(m)
    }

    /// The built-in default pin: Debian 12's `linux-source-6.12`.
    pub fn builtin_default() -> Manifest {
        Manifest::from_toml_str(DEFAULT_MANIFEST_TOML, "built-in default")
            .expect("the embedded default manifest is valid (checked by tests)")
    }

    /// Serialises the manifest as TOML (parseable by [`Manifest::from_toml_str`]).
    ///
    /// # Panics
    ///
    /// If a number exceeds `i64::MAX` (TOML integers are signed); a manifest that passed
    /// [`Manifest::from_toml_str`] never does.
    pub fn to_toml_string(&self) -> String {
        let body = toml::to_string(self).expect("a manifest always serialises");
        format!("# samekernel source pin (srcpin schema {SCHEMA})\n{body}")
    }

    /// The top-level directory of the source tarball.
    pub fn top_dir(&self) -> &str {
        match &self.source {
            Source::Tarball(t) => &t.top_dir,
            Source::DebianPackage(d) => &d.top_dir,
        }
    }

    /// Lists `key: old -> new` lines for every value that differs from `other`
    /// (keys are dotted TOML paths; arrays are compared as a whole).
    pub fn changes_from(&self, other: &Manifest) -> Vec<String> {
        let a = flatten(other);
        let b = flatten(self);
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let mut out = Vec::new();
        for k in keys {
            match (a.get(k), b.get(k)) {
                (Some(x), Some(y)) if x == y => {}
                (Some(x), Some(y)) => out.push(format!("{k}: {x} -> {y}")),
                (Some(x), None) => out.push(format!("{k}: {x} -> (removed)")),
                (None, Some(y)) => out.push(format!("{k}: (absent) -> {y}")),
                (None, None) => {}
            }
        }
        out
    }

    fn validate(&self) -> Result<(), String> {
        if self.source_date_epoch > i64::MAX as u64 {
            return Err("source-date-epoch: out of range".into());
        }
        if self.schema != SCHEMA {
            return Err(format!(
                "unsupported schema {} (this version reads {SCHEMA})",
                self.schema
            ));
        }
        match &self.source {
            Source::Tarball(t) => validate_tarball(t)?,
            Source::DebianPackage(d) => validate_debian(d)?,
        }
        validate_patches(&self.patches)
    }
}

/// `[source]` as an upstream tarball: names, URLs, sizes, a compression that is set
/// or follows from the file name, the signature.
fn validate_tarball(t: &TarballSource) -> Result<(), String> {
    check_name("source.file-name", &t.file_name)?;
    check_name("source.top-dir", &t.top_dir)?;
    check_urls("source.urls", &t.urls, false)?;
    check_size("source.size", t.size, MAX_ARTIFACT_SIZE)?;
    if t.compression.is_none() && Compression::from_file_name(&t.file_name).is_none() {
        return Err(format!(
            "source.compression: cannot infer from file name {:?}; set xz, gzip or none",
            t.file_name
        ));
    }
    if let Some(u) = &t.uncompressed {
        check_size("source.uncompressed.size", u.size, i64::MAX as u64)?;
    }
    if let Some(s) = &t.signature {
        check_signature("source.signature", s)?;
    }
    Ok(())
}

/// `[source]` as a Debian package: Debian's name and version syntax, URLs, sizes,
/// and a member path to a tarball with no empty, `.` or `..` component.
fn validate_debian(d: &DebianSource) -> Result<(), String> {
    if !(d.package.len() >= 2
        && d.package
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && d.package
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b)))
    {
        return Err(format!(
            "source.package: not a Debian package name: {:?}",
            d.package
        ));
    }
    if d.version.is_empty()
        || !d.version.as_bytes()[0].is_ascii_digit()
        || !d
            .version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+~:-".contains(&b))
    {
        return Err(format!(
            "source.version: not a Debian version: {:?}",
            d.version
        ));
    }
    check_urls("source.urls", &d.urls, true)?;
    check_size("source.deb.size", d.deb.size, MAX_ARTIFACT_SIZE)?;
    check_size("source.member.size", d.member.size, MAX_ARTIFACT_SIZE)?;
    check_name("source.top-dir", &d.top_dir)?;
    let p = d.member.path.trim_start_matches('/');
    let base = p.rsplit('/').next().unwrap_or("");
    if p.is_empty()
        || p.split('/').any(|c| c.is_empty() || c == "." || c == "..")
        || Compression::from_file_name(base).is_none()
    {
        return Err(format!(
            "source.member.path: want a path to a .tar, .tar.xz or .tar.gz, got {:?}",
            d.member.path
        ));
    }
    Ok(())
}

/// `[[patches]]`: unique names, URLs, sizes, a sensible `-p`, signatures.
fn validate_patches(patches: &[PatchPin]) -> Result<(), String> {
    let mut names = BTreeSet::new();
    for (i, p) in patches.iter().enumerate() {
        let at = format!("patches[{i}]");
        check_name(&format!("{at}.name"), &p.name)?;
        if !names.insert(&p.name) {
            return Err(format!("{at}.name: duplicate patch name {:?}", p.name));
        }
        check_urls(&format!("{at}.urls"), &p.urls, false)?;
        check_size(&format!("{at}.size"), p.size, MAX_SMALL_FILE_SIZE)?;
        if p.strip > 32 {
            return Err(format!(
                "{at}.strip: {} is not a sensible -p value",
                p.strip
            ));
        }
        if let Some(s) = &p.signature {
            check_signature(&format!("{at}.signature"), s)?;
        }
    }
    Ok(())
}

fn flatten(m: &Manifest) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            toml::Value::Array(a) if a.iter().all(|x| x.is_table()) => {
                for (i, v) in a.iter().enumerate() {
                    walk(&format!("{prefix}[{i}]"), v, out);
                }
            }
            other => {
                out.insert(prefix.to_owned(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(v) = toml::Value::try_from(m) {
        walk("", &v, &mut out);
    }
    out
}

/// A name that becomes one path component: no separators, no leading dot or dash.
fn check_name(field: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+~-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field}: unsafe name {name:?} (use [A-Za-z0-9._+~-], starting alphanumeric)"
        ))
    }
}

fn check_urls(field: &str, urls: &[String], may_be_empty: bool) -> Result<(), String> {
    if urls.is_empty() && !may_be_empty {
        return Err(format!("{field}: at least one URL is required"));
    }
    for u in urls {
        let ok = u.starts_with("https://") || u.starts_with("http://") || u.starts_with("file:");
        if !ok || u.chars().any(|c| c.is_control() || c == ' ') {
            return Err(format!(
                "{field}: unsupported URL {:?} (want https://, http:// or file:)",
                crate::url::redact(u)
            ));
        }
    }
    Ok(())
}

fn check_size(field: &str, size: u64, max: u64) -> Result<(), String> {
    if size == 0 || size > max {
        Err(format!("{field}: {size} is out of range (1..={max})"))
    } else {
        Ok(())
    }
}

fn check_signature(field: &str, s: &SignaturePin) -> Result<(), String> {
    check_urls(&format!("{field}.urls"), &s.urls, false)?;
    check_urls(&format!("{field}.keyring.urls"), &s.keyring.urls, false)?;
    check_size(
        &format!("{field}.keyring.size"),
        s.keyring.size,
        MAX_SMALL_FILE_SIZE,
    )?;
    let distinct: BTreeSet<&Fingerprint> = s.signers.iter().collect();
    if s.min_signers == 0 {
        return Err(format!("{field}.min-signers: must be at least 1"));
    }
    if s.min_signers > distinct.len() {
        return Err(format!(
            "{field}.min-signers: {} can never be met by {} distinct pinned signer(s)",
            s.min_signers,
            distinct.len()
        ));
    }
    Ok(())
}
