//! The build record: what one build of a kernel produced, as plain data.
//!
//! `kernel-deb build` writes it beside the .debs; `kernel-deb testify` turns it into
//! a testimony ([`crate::v2::TestimonyV2::from_build_record`]). It depends on no
//! other crate's types: strings, numbers and lowercase hex sha256s.
//!
//! # Text format (`samekernel-build-record=1`)
//!
//! UTF-8, LF line ends, one `key=value` per line, keys in exactly this order, no
//! empty lines, no trailing spaces (see [`crate::canonical`]). Unknown keys are
//! errors.
//!
//! ```text
//! samekernel-build-record=1
//! source-manifest-sha256=<sha256 of the srcpin manifest>
//! source-tarball=<sha256> <tarball file name>
//! source-date-epoch=<decimal seconds>
//! toolchain=<name>=<version>          (zero or more, in the recorded order)
//! toolchain-banner=<text>             (zero or more, in the recorded order)
//! toolchain-sha256=<sha256>           (of the toolchain= and toolchain-banner= lines above, each with its LF)
//! kernel-config-sha256=<sha256>
//! flavour=<name>                      (optional: the named config source, e.g. generic)
//! hardening-mode=enforced|allow-weaker|off       (optional block: the hardening gate's result)
//! hardening-self-protection=<ok> <fail> <n/a>
//! hardening-failed=<rule id>          (zero or more, sorted)
//! module-cert-sha256=<sha256>         (optional: the pinned module-signing certificate built in)
//! deb=<file name>                     (one block per .deb, sorted by file name, at least one)
//! deb-package=<package>
//! deb-version=<version>
//! deb-architecture=<architecture>
//! deb-size=<bytes>
//! deb-sha256=<sha256>
//! file=<sha256> <path>                (every regular file in the .deb, sorted by path, unique)
//! ```
//!
//! `flavour` names the pinned config source the build started from (`tiny`,
//! `generic`, `debian`, …): `[a-z0-9-]`, 1 to 64 characters. It is absent when the
//! build started from a user's own `.config` (that config is named by
//! `kernel-config-sha256` alone) and in records older than flavours.
//!
//! `toolchain-sha256` is computed, never trusted: [`BuildRecord::parse`] rejects a
//! record whose value does not match its toolchain lines. Paths are the data
//! tarball's member names without a leading `./`.

use crate::canonical::{self, Cursor, Line};
use crate::error::{Format, ParseError};

const F: Format = Format::BuildRecord;

/// The format tag line of a build record.
pub const BUILD_RECORD_TAG: &str = "samekernel-build-record=1";

/// The pinned source a build used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePin {
    /// sha256 of the source pin manifest.
    pub manifest_sha256: String,
    /// File name of the source tarball.
    pub tarball_name: String,
    /// sha256 of the source tarball.
    pub tarball_sha256: String,
    /// `SOURCE_DATE_EPOCH` of the build.
    pub source_date_epoch: u64,
}

/// One `name=version` component of a toolchain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolchainComponent {
    /// Package or tool name, `[A-Za-z0-9.+_-]`.
    pub name: String,
    /// Its version (no spaces).
    pub version: String,
}

/// The toolchain fingerprint: an ordered list of components plus version banners.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Toolchain {
    /// `name=version` components, in recorded order.
    pub components: Vec<ToolchainComponent>,
    /// Banners such as `gcc (Debian 12.2.0-14) 12.2.0`, in recorded order.
    pub banners: Vec<String>,
}

impl Toolchain {
    /// The toolchain lines as they appear in a record, each ending with LF.
    pub fn lines(&self) -> String {
        let mut s = String::new();
        for c in &self.components {
            s.push_str(&format!("toolchain={}={}\n", c.name, c.version));
        }
        for b in &self.banners {
            s.push_str(&format!("toolchain-banner={b}\n"));
        }
        s
    }

    /// sha256 of [`Toolchain::lines`]: the toolchain fingerprint.
    pub fn sha256(&self) -> String {
        canonical::sha256_hex(self.lines().as_bytes())
    }
}

/// One regular file inside a .deb.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileHash {
    /// Member path without leading `./`, e.g. `boot/vmlinuz-6.12.0`.
    pub path: String,
    /// sha256 of its content.
    pub sha256: String,
}

/// One .deb a build produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebRecord {
    /// File name, e.g. `linux-image-6.12.0_6.12.0-1_amd64.deb`.
    pub file_name: String,
    /// `Package:` field.
    pub package: String,
    /// `Version:` field.
    pub version: String,
    /// `Architecture:` field.
    pub architecture: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256 of the whole .deb.
    pub sha256: String,
    /// Every regular file inside, sorted by path.
    pub files: Vec<FileHash>,
}

/// What one build produced. See the [module docs](self) for the text format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRecord {
    /// The source pin.
    pub source: SourcePin,
    /// The toolchain fingerprint.
    pub toolchain: Toolchain,
    /// sha256 of the kernel `.config` used.
    pub kernel_config_sha256: String,
    /// The named config source (flavour) the build started from; `None` for a
    /// user's own `.config` and in records older than flavours.
    pub flavour: Option<String>,
    /// The hardening check of that config (absent in records older than the gate).
    pub hardening: Option<Hardening>,
    /// Module signing (two-stage): sha256 of the PEM certificate built into the kernel's
    /// trusted keys (`CONFIG_SYSTEM_TRUSTED_KEYS`); absent when the build pins none.
    pub module_cert_sha256: Option<String>,
    /// The .debs, sorted by file name.
    pub debs: Vec<DebRecord>,
}

/// How the build treated its hardening policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HardeningMode {
    /// The hardening fragment was applied and every required rule held.
    Enforced,
    /// The fragment was applied but required rules were allowed to fail (`--allow-weaker`).
    AllowWeaker,
    /// No fragment was applied (`--no-harden`); failures were reported, not refused.
    Off,
}

impl HardeningMode {
    /// The record's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            HardeningMode::Enforced => "enforced",
            HardeningMode::AllowWeaker => "allow-weaker",
            HardeningMode::Off => "off",
        }
    }

    fn parse(s: &str) -> Option<HardeningMode> {
        [
            HardeningMode::Enforced,
            HardeningMode::AllowWeaker,
            HardeningMode::Off,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// The self-protection results of the build's `.config` (harden's rule table):
///
/// ```text
/// hardening-mode=enforced|allow-weaker|off
/// hardening-self-protection=<ok> <fail> <not applicable>
/// hardening-failed=<rule id>        (zero or more, sorted, each once)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardening {
    /// Rules that hold.
    pub ok: u64,
    /// Rules that fail (required or not).
    pub fail: u64,
    /// Rules that cannot be judged on a config, or do not apply to the target.
    pub not_applicable: u64,
    /// The ids of the failed rules (`kconfig:RANDSTRUCT_FULL`).
    pub failed_rules: Vec<String>,
    /// Whether the policy was enforced.
    pub mode: HardeningMode,
}

/// One line for a person: `hardening (enforced): self-protection 96 ok, 6 fail, 83
/// n/a; failed: kconfig:A, kconfig:B`.
impl std::fmt::Display for Hardening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "hardening ({}): self-protection {} ok, {} fail, {} n/a; failed: {}",
            self.mode.as_str(),
            self.ok,
            self.fail,
            self.not_applicable,
            self.failed_rules.join(", ")
        )
    }
}

pub(crate) fn write_hardening(s: &mut String, h: &Option<Hardening>) {
    let Some(h) = h else { return };
    let mut failed = h.failed_rules.clone();
    failed.sort();
    failed.dedup();
    s.push_str(&format!("hardening-mode={}\n", h.mode.as_str()));
    s.push_str(&format!(
        "hardening-self-protection={} {} {}\n",
        h.ok, h.fail, h.not_applicable
    ));
    for id in failed {
        s.push_str(&format!("hardening-failed={id}\n"));
    }
}

pub(crate) fn parse_hardening(
    c: &mut Cursor<'_>,
    f: Format,
) -> Result<Option<Hardening>, ParseError> {
    let Some(ml) = c.optional("hardening-mode") else {
        return Ok(None);
    };
    let mode = HardeningMode::parse(ml.value).ok_or_else(|| {
        ParseError::new(
            f,
            ml.no,
            format!(
                "hardening-mode: {:?} is not enforced, allow-weaker or off",
                ml.value
            ),
        )
    })?;
    let tl = c.expect("hardening-self-protection")?;
    let counts: Vec<u64> = tl
        .value
        .split(' ')
        .map(|n| {
            (!n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n == "0" || !n.starts_with('0')))
            .then(|| n.parse().ok())
            .flatten()
        })
        .collect::<Option<_>>()
        .filter(|v: &Vec<u64>| v.len() == 3)
        .ok_or_else(|| {
            ParseError::new(
                f,
                tl.no,
                "hardening-self-protection: expected three counts `<ok> <fail> <n/a>`",
            )
        })?;
    let mut failed_rules: Vec<String> = Vec::new();
    while let Some(l) = c.optional("hardening-failed") {
        check_token(&l, f)?;
        if failed_rules.last().is_some_and(|p| p.as_str() >= l.value) {
            return Err(ParseError::new(
                f,
                l.no,
                format!("hardening-failed {:?} is out of order or repeated", l.value),
            ));
        }
        failed_rules.push(l.value.into());
    }
    Ok(Some(Hardening {
        ok: counts[0],
        fail: counts[1],
        not_applicable: counts[2],
        failed_rules,
        mode,
    }))
}

impl BuildRecord {
    /// Sorts debs by file name and files by path: the canonical order
    /// [`BuildRecord::to_text`] writes and [`BuildRecord::parse`] returns.
    pub fn normalize(&mut self) {
        self.debs.sort_by(|a, b| a.file_name.cmp(&b.file_name));
        for d in &mut self.debs {
            d.files.sort();
        }
    }

    /// Writes the canonical text (in canonical order even if `self` is not sorted).
    ///
    /// Values are written as given; use [`BuildRecord::parse`] on the result to
    /// validate a record assembled by hand.
    pub fn to_text(&self) -> String {
        let mut n = self.clone();
        n.normalize();
        let mut s = String::new();
        s.push_str(BUILD_RECORD_TAG);
        s.push('\n');
        write_source(&mut s, &n.source);
        s.push_str(&n.toolchain.lines());
        s.push_str(&format!("toolchain-sha256={}\n", n.toolchain.sha256()));
        s.push_str(&format!(
            "kernel-config-sha256={}\n",
            n.kernel_config_sha256
        ));
        if let Some(f) = &n.flavour {
            s.push_str(&format!("flavour={f}\n"));
        }
        write_hardening(&mut s, &n.hardening);
        if let Some(sha) = &n.module_cert_sha256 {
            s.push_str(&format!("module-cert-sha256={sha}\n"));
        }
        write_debs(&mut s, &n.debs);
        s
    }

    /// sha256 of the canonical text: what a testimony's `build-record-sha256` is.
    pub fn sha256(&self) -> String {
        canonical::sha256_hex(self.to_text().as_bytes())
    }

    /// Reads and parses the record at `path`; errors name it.
    pub fn read(path: &std::path::Path) -> Result<BuildRecord, crate::Error> {
        let io = |source| crate::Error::Io {
            path: path.to_owned(),
            source,
        };
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut crate::collect::open_regular(path).map_err(io)?,
            &mut text,
        )
        .map_err(io)?;
        Ok(BuildRecord::parse(&text).map_err(|e| e.with_origin(path.display().to_string()))?)
    }

    /// Parses a canonical build record; anything non-canonical is an error.
    pub fn parse(text: &str) -> Result<BuildRecord, ParseError> {
        let mut c = Cursor::new(canonical::split_lines(text, F)?, F);
        let tag = c.expect("samekernel-build-record")?;
        if tag.value != "1" {
            return Err(ParseError::new(
                F,
                tag.no,
                format!(
                    "unsupported build record version {:?} (this reader knows 1)",
                    tag.value
                ),
            ));
        }
        let source = parse_source(&mut c, F)?;
        let mut toolchain = Toolchain::default();
        while let Some(l) = c.optional("toolchain") {
            let (name, version) = l.value.split_once('=').ok_or_else(|| {
                ParseError::new(F, l.no, "toolchain: expected toolchain=<name>=<version>")
            })?;
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
            {
                return Err(ParseError::new(
                    F,
                    l.no,
                    format!("toolchain: bad component name {name:?} (allowed: [A-Za-z0-9._+-])"),
                ));
            }
            if version.is_empty() || version.contains(' ') {
                return Err(ParseError::new(
                    F,
                    l.no,
                    format!("toolchain: bad version {version:?} for {name} (non-empty, no spaces)"),
                ));
            }
            if toolchain.components.iter().any(|c| c.name == name) {
                return Err(ParseError::new(
                    F,
                    l.no,
                    format!("toolchain: component {name:?} listed twice"),
                ));
            }
            toolchain.components.push(ToolchainComponent {
                name: name.into(),
                version: version.into(),
            });
        }
        while let Some(l) = c.optional("toolchain-banner") {
            if l.value.is_empty() {
                return Err(ParseError::new(F, l.no, "toolchain-banner: empty"));
            }
            toolchain.banners.push(l.value.into());
        }
        let ts = c.expect("toolchain-sha256")?;
        let ts_value = canonical::sha256_field(&ts, F)?;
        if ts_value != toolchain.sha256() {
            return Err(ParseError::new(
                F,
                ts.no,
                format!(
                    "toolchain-sha256 is {ts_value} but the toolchain lines hash to {}",
                    toolchain.sha256()
                ),
            ));
        }
        let kernel_config_sha256 = canonical::sha256_field(&c.expect("kernel-config-sha256")?, F)?;
        let flavour = c.optional("flavour").map(parse_flavour).transpose()?;
        let hardening = parse_hardening(&mut c, F)?;
        let module_cert_sha256 = match c.optional("module-cert-sha256") {
            Some(l) => Some(canonical::sha256_field(&l, F)?),
            None => None,
        };
        let debs = parse_debs(&mut c, F)?;
        c.finish()?;
        Ok(BuildRecord {
            source,
            toolchain,
            kernel_config_sha256,
            flavour,
            hardening,
            module_cert_sha256,
            debs,
        })
    }
}

/// A flavour name: `[a-z0-9-]`, 1 to 64 characters.
fn parse_flavour(l: Line<'_>) -> Result<String, ParseError> {
    let ok = (1..=64).contains(&l.value.len())
        && l.value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(ParseError::new(
            F,
            l.no,
            format!(
                "flavour: {:?} is not a flavour name ([a-z0-9-], 1 to 64 characters)",
                l.value
            ),
        ));
    }
    Ok(l.value.to_owned())
}

pub(crate) fn write_source(s: &mut String, p: &SourcePin) {
    s.push_str(&format!("source-manifest-sha256={}\n", p.manifest_sha256));
    s.push_str(&format!(
        "source-tarball={} {}\n",
        p.tarball_sha256, p.tarball_name
    ));
    s.push_str(&format!("source-date-epoch={}\n", p.source_date_epoch));
}

pub(crate) fn parse_source(c: &mut Cursor<'_>, f: Format) -> Result<SourcePin, ParseError> {
    let manifest_sha256 = canonical::sha256_field(&c.expect("source-manifest-sha256")?, f)?;
    let tl = c.expect("source-tarball")?;
    let (tarball_sha256, name) = canonical::hash_and_name(&tl, f)?;
    check_file_name(&tl, name, f)?;
    let source_date_epoch = canonical::number_field(&c.expect("source-date-epoch")?, f)?;
    Ok(SourcePin {
        manifest_sha256,
        tarball_name: name.into(),
        tarball_sha256,
        source_date_epoch,
    })
}

pub(crate) fn write_debs(s: &mut String, debs: &[DebRecord]) {
    for d in debs {
        s.push_str(&format!("deb={}\n", d.file_name));
        s.push_str(&format!("deb-package={}\n", d.package));
        s.push_str(&format!("deb-version={}\n", d.version));
        s.push_str(&format!("deb-architecture={}\n", d.architecture));
        s.push_str(&format!("deb-size={}\n", d.size));
        s.push_str(&format!("deb-sha256={}\n", d.sha256));
        for f in &d.files {
            s.push_str(&format!("file={} {}\n", f.sha256, f.path));
        }
    }
}

fn check_file_name(l: &Line<'_>, name: &str, f: Format) -> Result<(), ParseError> {
    if name.is_empty() || name.contains('/') || name.contains(' ') || name == "." || name == ".." {
        return Err(ParseError::new(
            f,
            l.no,
            format!(
                "{}: {name:?} is not a plain file name (no '/', no spaces)",
                l.key
            ),
        ));
    }
    Ok(())
}

fn check_token(l: &Line<'_>, f: Format) -> Result<(), ParseError> {
    if l.value.is_empty() || !l.value.is_ascii() || l.value.contains(' ') {
        return Err(ParseError::new(
            f,
            l.no,
            format!("{}: expected a non-empty ASCII value without spaces", l.key),
        ));
    }
    Ok(())
}

pub(crate) fn parse_debs(c: &mut Cursor<'_>, f: Format) -> Result<Vec<DebRecord>, ParseError> {
    let mut debs: Vec<DebRecord> = Vec::new();
    while c.peek_key() == Some("deb") {
        let dl = c.expect("deb")?;
        check_file_name(&dl, dl.value, f)?;
        if let Some(prev) = debs.last()
            && prev.file_name.as_str() >= dl.value
        {
            return Err(ParseError::new(
                f,
                dl.no,
                format!(
                    "deb {:?} is out of order or repeated (debs are sorted by file name)",
                    dl.value
                ),
            ));
        }
        let mut fields = Vec::new();
        for key in ["deb-package", "deb-version", "deb-architecture"] {
            let l = c.expect(key)?;
            check_token(&l, f)?;
            fields.push(l.value.to_string());
        }
        let size = canonical::number_field(&c.expect("deb-size")?, f)?;
        let sha256 = canonical::sha256_field(&c.expect("deb-sha256")?, f)?;
        let mut files: Vec<FileHash> = Vec::new();
        while let Some(l) = c.optional("file") {
            let (h, path) = canonical::hash_and_name(&l, f)?;
            if path.starts_with('/')
                || path.starts_with("./")
                || path
                    .split('/')
                    .any(|p| p.is_empty() || p == "." || p == "..")
            {
                return Err(ParseError::new(
                    f,
                    l.no,
                    format!("file: {path:?} is not a normalised relative path"),
                ));
            }
            if let Some(prev) = files.last()
                && prev.path.as_str() >= path
            {
                return Err(ParseError::new(
                    f,
                    l.no,
                    format!("file {path:?} is out of order or repeated (files are sorted by path)"),
                ));
            }
            files.push(FileHash {
                path: path.into(),
                sha256: h,
            });
        }
        let [package, version, architecture] =
            <[String; 3]>::try_from(fields).expect("three fields");
        debs.push(DebRecord {
            file_name: dl.value.into(),
            package,
            version,
            architecture,
            size,
            sha256,
            files,
        });
    }
    if debs.is_empty() {
        return Err(c.err("expected at least one deb= block"));
    }
    Ok(debs)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn example() -> BuildRecord {
        let h = |c: char| c.to_string().repeat(64);
        BuildRecord {
            source: SourcePin {
                manifest_sha256: h('1'),
                tarball_name: "linux-6.12.38.tar.xz".into(),
                tarball_sha256: h('2'),
                source_date_epoch: 1_752_000_000,
            },
            toolchain: Toolchain {
                components: vec![
                    ToolchainComponent {
                        name: "gcc-12".into(),
                        version: "12.2.0-14+deb12u1".into(),
                    },
                    ToolchainComponent {
                        name: "binutils".into(),
                        version: "2.40-2".into(),
                    },
                ],
                banners: vec!["gcc (Debian 12.2.0-14+deb12u1) 12.2.0".into()],
            },
            kernel_config_sha256: h('3'),
            flavour: None,
            hardening: None,
            module_cert_sha256: None,
            debs: vec![DebRecord {
                file_name: "linux-image-6.12.38-sk_6.12.38-1_amd64.deb".into(),
                package: "linux-image-6.12.38-sk".into(),
                version: "6.12.38-1".into(),
                architecture: "amd64".into(),
                size: 107_000_000,
                sha256: h('4'),
                files: vec![
                    FileHash {
                        path: "boot/System.map-6.12.38-sk".into(),
                        sha256: h('5'),
                    },
                    FileHash {
                        path: "boot/config-6.12.38-sk".into(),
                        sha256: h('6'),
                    },
                    FileHash {
                        path: "boot/vmlinuz-6.12.38-sk".into(),
                        sha256: h('7'),
                    },
                    FileHash {
                        path: "lib/modules/6.12.38-sk/kernel/fs/ext4/ext4.ko".into(),
                        sha256: h('8'),
                    },
                ],
            }],
        }
    }

    #[test]
    fn read_names_the_file_in_its_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("BUILD-RECORD");
        std::fs::write(&path, example().to_text()).unwrap();
        assert_eq!(BuildRecord::read(&path).unwrap(), example());
        std::fs::write(&path, "not a record\n").unwrap();
        let err = BuildRecord::read(&path).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        let missing = dir.path().join("missing");
        let err = BuildRecord::read(&missing).unwrap_err().to_string();
        assert!(err.starts_with(&missing.display().to_string()), "{err}");
    }

    #[test]
    fn the_module_cert_line_round_trips_and_is_optional() {
        let mut r = example();
        let old = r.to_text();
        assert!(!old.contains("module-cert"), "absent line writes nothing");
        r.module_cert_sha256 = Some("ab".repeat(32));
        let text = r.to_text();
        assert!(
            text.contains(&format!(
                "kernel-config-sha256={}\nmodule-cert-sha256={}\ndeb=",
                "3".repeat(64),
                "ab".repeat(32)
            )),
            "{text}"
        );
        assert_eq!(BuildRecord::parse(&text).unwrap(), r);
        assert_eq!(BuildRecord::parse(&old).unwrap().module_cert_sha256, None);
        assert!(BuildRecord::parse(&text.replace(&"ab".repeat(32), "not-hex")).is_err());
    }

    #[test]
    fn the_hardening_block_round_trips_and_is_optional() {
        let mut r = example();
        let old = r.to_text();
        assert!(!old.contains("hardening"), "absent block writes nothing");
        r.hardening = Some(Hardening {
            ok: 96,
            fail: 2,
            not_applicable: 83,
            failed_rules: vec![
                "kconfig:RANDSTRUCT_FULL".into(),
                "kconfig:MODULE_SIG".into(),
            ],
            mode: HardeningMode::AllowWeaker,
        });
        assert_eq!(
            r.hardening.as_ref().unwrap().to_string(),
            "hardening (allow-weaker): self-protection 96 ok, 2 fail, 83 n/a; failed: kconfig:RANDSTRUCT_FULL, kconfig:MODULE_SIG"
        );
        let text = r.to_text();
        assert!(text.contains(
            "hardening-mode=allow-weaker\nhardening-self-protection=96 2 83\nhardening-failed=kconfig:MODULE_SIG\nhardening-failed=kconfig:RANDSTRUCT_FULL\ndeb="
        ), "{text}");
        let back = BuildRecord::parse(&text).unwrap();
        assert_eq!(back.to_text(), text);
        assert_eq!(BuildRecord::parse(&old).unwrap().hardening, None);
        for (from, to) in [
            ("hardening-mode=allow-weaker", "hardening-mode=weak"),
            ("=96 2 83", "=96 2"),
            ("=96 2 83", "=096 2 83"),
            ("=96 2 83", "=96 -2 83"),
            ("hardening-failed=kconfig:MODULE_SIG\n", ""),
        ] {
            let bad = text.replacen(from, to, 1);
            let bad = if to.is_empty() {
                bad.replacen("hardening-failed=kconfig:RANDSTRUCT_FULL\n", "hardening-failed=kconfig:RANDSTRUCT_FULL\nhardening-failed=kconfig:MODULE_SIG\n", 1)
            } else {
                bad
            };
            assert!(BuildRecord::parse(&bad).is_err(), "{from} -> {to}");
        }
    }

    #[test]
    fn the_flavour_line_round_trips_and_is_optional() {
        let mut r = example();
        let old = r.to_text();
        assert!(!old.contains("flavour"), "absent flavour writes nothing");
        assert_eq!(BuildRecord::parse(&old).unwrap().flavour, None);
        r.flavour = Some("generic".into());
        r.hardening = Some(Hardening {
            ok: 1,
            fail: 0,
            not_applicable: 2,
            failed_rules: vec![],
            mode: HardeningMode::Enforced,
        });
        let text = r.to_text();
        assert!(
            text.contains("\nflavour=generic\nhardening-mode=enforced\n"),
            "{text}"
        );
        assert_eq!(BuildRecord::parse(&text).unwrap(), r);
        let too_long = format!("flavour={}", "a".repeat(65));
        let bad_names = [
            "flavour=",
            "flavour=Generic",
            "flavour=gen eric",
            "flavour=a/b",
        ];
        for bad in bad_names.into_iter().chain([too_long.as_str()]) {
            let err = BuildRecord::parse(&text.replace("flavour=generic", bad)).unwrap_err();
            assert!(err.problem.contains("flavour"), "{bad}: {err}");
        }
        // Out of canonical order: after the hardening block.
        let moved = text.replace("flavour=generic\n", "").replace(
            "hardening-self-protection=1 0 2\n",
            "hardening-self-protection=1 0 2\nflavour=generic\n",
        );
        assert!(BuildRecord::parse(&moved).is_err());
    }

    #[test]
    fn round_trip_and_strictness() {
        let r = example();
        let t = r.to_text();
        assert_eq!(BuildRecord::parse(&t).unwrap(), r);
        assert_eq!(BuildRecord::parse(&t).unwrap().to_text(), t);
        // Tampered toolchain line: the recorded toolchain-sha256 no longer matches.
        let bad = t.replace("binutils=2.40-2", "binutils=2.40-3");
        assert!(
            BuildRecord::parse(&bad)
                .unwrap_err()
                .problem
                .contains("toolchain-sha256")
        );
        // Unknown key.
        let bad = t.replace("deb-size=", "deb-extra=1\ndeb-size=");
        assert!(BuildRecord::parse(&bad).is_err());
        // Uppercase hash is not canonical.
        let bad = t.replace(&"4".repeat(64), &"A".repeat(64));
        assert!(BuildRecord::parse(&bad).is_err());
        // Files out of order.
        let bad = t.replace("boot/System.map", "zzz/System.map");
        assert!(BuildRecord::parse(&bad).is_err());
    }
}
