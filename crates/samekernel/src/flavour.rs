//! Flavours: named, pinned config sources (`kernel-deb build --flavour NAME`).
//!
//! | flavour | base | samekernel's fragment |
//! |---|---|---|
//! | `tiny` | `allnoconfig` + `configs/samekernel-tiny.config` | `configs/ikconfig.config` |
//! | `generic` | `make x86_64_defconfig kvm_guest.config` (pinned source tree) | `configs/generic.config` |
//! | `generic`, `--arch arm64` | `make ARCH=arm64 defconfig virt.config kvm_guest.config` | `configs/generic-arm64.config` |
//! | `debian` | Debian's `config.amd64_none_amd64` from `linux-config-6.12` ([`DEBIAN_AMD64`]) | `configs/debian-samekernel.config` |
//!
//! The texts live beside the binary in `crates/kernel-deb/configs/` and are compiled in,
//! so a flavour is the same bytes wherever the binary runs. Debian's config is fetched
//! with `apt-get download` and checked against the pinned sizes and SHA-256 of the
//! `.deb`, of the `.xz` member and of the decompressed config before it is used.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use kbuild_env::KernelConfig;
use srcpin::{DebDownloader, FileDigest, Sha256Digest};

use crate::stage::config::ConfigSource;

/// The tiny flavour's base (also `kernel-deb build`'s tiny `allnoconfig` fragment).
pub const TINY_CONFIG: &str = include_str!("../../kernel-deb/configs/samekernel-tiny.config");
/// The tiny flavour's fragment for arm64 (qemu `-M virt`, PL011 console).
pub const TINY_CONFIG_ARM64: &str =
    include_str!("../../kernel-deb/configs/samekernel-tiny-arm64.config");
/// Embeds the config (`IKCONFIG`), so `kernel-deb inspect` can read it from vmlinuz.
pub const IKCONFIG_FRAGMENT: &str = include_str!("../../kernel-deb/configs/ikconfig.config");
/// The generic flavour's hardware fragment on top of `x86_64_defconfig kvm_guest.config`.
pub const GENERIC_FRAGMENT: &str = include_str!("../../kernel-deb/configs/generic.config");
/// The generic flavour's fragment for arm64, on top of `defconfig virt.config kvm_guest.config`.
pub const GENERIC_ARM64_FRAGMENT: &str =
    include_str!("../../kernel-deb/configs/generic-arm64.config");
/// What samekernel changes in Debian's config, each line with its reason.
pub const DEBIAN_CHANGES: &str = include_str!("../../kernel-deb/configs/debian-samekernel.config");

/// Steps of the hardened tiny amd64 build (`compile-steps-*` in the cache after one).
const TYPICAL_STEPS_TINY_AMD64: u64 = 1178;
/// Steps of the generic amd64 build with BTF (measured: 4652).
const TYPICAL_STEPS_GENERIC_AMD64: u64 = 4652;

/// A named config source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavour {
    /// A few-minute boot-to-serial kernel for tests.
    Tiny,
    /// A kernel for common x86_64 hardware and VMs (the default).
    #[default]
    Generic,
    /// Debian's own 6.12 amd64 config, made reproducible.
    Debian,
}

impl Flavour {
    /// Every flavour, in `--help` order.
    pub const ALL: [Flavour; 3] = [Flavour::Generic, Flavour::Tiny, Flavour::Debian];

    /// The name on the command line and in the build record.
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Tiny => "tiny",
            Flavour::Generic => "generic",
            Flavour::Debian => "debian",
        }
    }

    /// kbuild steps a build of this flavour usually takes (measured on the pinned
    /// source with the default hardening), so a first build can show a fraction and a
    /// time estimate before its own count is remembered; `None` where unmeasured.
    pub fn typical_compile_steps(self, target: &crate::Target) -> Option<u64> {
        match (self, target.debian_arch) {
            (Flavour::Tiny, "amd64") => Some(TYPICAL_STEPS_TINY_AMD64),
            (Flavour::Generic, "amd64") => Some(TYPICAL_STEPS_GENERIC_AMD64),
            _ => None,
        }
    }

    /// One line for `--help`.
    pub fn description(self) -> &'static str {
        match self {
            Flavour::Tiny => {
                "allnoconfig + configs/samekernel-tiny.config (arm64: samekernel-tiny-arm64.config) + ikconfig.config; ~2-3 min at -j2"
            }
            Flavour::Generic => {
                "x86_64_defconfig + kvm_guest.config + configs/generic.config (common storage, network, USB, filesystems as modules; BTF); ~17 min at -j2. arm64: defconfig + virt.config + kvm_guest.config + configs/generic-arm64.config"
            }
            Flavour::Debian => {
                "Debian's config.amd64_none_amd64 (linux-config-6.12 6.12.117-1~deb12u1, pinned by sha256) + configs/debian-samekernel.config (changes printed with reasons)"
            }
        }
    }

    /// `--flavour`'s long help: the default, then each flavour with its description.
    pub fn help() -> String {
        let mut help = format!("The config source [default: {}]:", Flavour::default());
        for f in Flavour::ALL {
            help.push_str(&format!("\n  {:<8} {}", f.name(), f.description()));
        }
        help
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Flavour {
    type Err = String;
    fn from_str(s: &str) -> Result<Flavour, String> {
        Flavour::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown flavour `{s}` (known: generic, tiny, debian)"))
    }
}

/// A Debian package holding a kernel config, pinned at three levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebianConfigPin {
    /// Binary package.
    pub package: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// Size and SHA-256 of the `.deb`.
    pub deb: (u64, &'static str),
    /// The member inside `data.tar`.
    pub member: &'static str,
    /// Size and SHA-256 of the member (xz).
    pub member_digest: (u64, &'static str),
    /// SHA-256 of the decompressed config.
    pub config_sha256: &'static str,
}

/// Debian 12's `linux-config-6.12` matching the default source pin (6.12.117-1~deb12u1).
pub const DEBIAN_AMD64: DebianConfigPin = DebianConfigPin {
    package: "linux-config-6.12",
    version: "6.12.117-1~deb12u1",
    deb: (
        1_676_052,
        "9837dbdf866d58ff9cc64f106dbf0cbf16d1ea6e369b83c338d05e8860224b27",
    ),
    member: "/usr/src/linux-config-6.12/config.amd64_none_amd64.xz",
    member_digest: (
        57_608,
        "2ec90a1ceb709b25356c425a4b984a2acb493b50a8b5d4136eb3e70cfad09bf3",
    ),
    config_sha256: "60e404cf09a736beae8adb998f4b950089b087f23aafe998dfc2997b1c44cd95",
};

/// Why a flavour's config could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum FlavourError {
    /// Download, digest or `.deb` reading failed (srcpin names the file).
    #[error("{package}={version}: {source}")]
    Fetch {
        /// The package.
        package: String,
        /// Its version.
        version: String,
        /// srcpin's error.
        source: Box<srcpin::Error>,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The flavour has no config for this architecture yet.
    #[error(
        "the {flavour} flavour is amd64-only for now; for {arch} use --flavour generic, --flavour tiny or --config FILE"
    )]
    NotForTarget {
        /// The flavour's name.
        flavour: &'static str,
        /// The Debian architecture asked for.
        arch: &'static str,
    },
    /// A pinned digest does not match.
    #[error("{what}: sha256 {got}, pinned {want}")]
    Digest {
        /// What was checked.
        what: String,
        /// The pin.
        want: String,
        /// What the bytes hash to.
        got: String,
    },
}

/// What a flavour builds from, ready for a [`crate::BuildPlan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlavourConfig {
    /// The flavour.
    pub flavour: Flavour,
    /// The base config.
    pub source: ConfigSource,
    /// samekernel's fragment files for it, before any user fragment.
    pub fragments: Vec<PathBuf>,
    /// For `debian`: what samekernel changes in Debian's config and why.
    pub changes: Vec<DeliberateChange>,
}

/// One option samekernel sets differently from the base, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliberateChange {
    /// The symbol, with `CONFIG_`.
    pub symbol: String,
    /// The base config's value (`None`: not in it).
    pub base: Option<String>,
    /// samekernel's value.
    pub ours: String,
    /// The comment above it in the fragment.
    pub why: String,
}

/// `CONFIG_X: <base value> -> <ours>: <why>` (`absent (Kconfig default)` when the
/// base does not set it).
impl fmt::Display for DeliberateChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self.base.as_deref().unwrap_or("absent (Kconfig default)");
        write!(f, "{}: {base} -> {}: {}", self.symbol, self.ours, self.why)
    }
}

/// Prepares `flavour` in `dir` (created if needed): writes its fragment files, and for
/// `debian` downloads and checks Debian's config with `downloader`.
pub fn prepare(
    flavour: Flavour,
    target: crate::Target,
    downloader: &dyn DebDownloader,
    dir: &Path,
) -> Result<FlavourConfig, FlavourError> {
    if flavour == Flavour::Debian && target != crate::Target::AMD64 {
        return Err(FlavourError::NotForTarget {
            flavour: flavour.name(),
            arch: target.debian_arch,
        });
    }
    let (source, fragments, changes) = match flavour {
        Flavour::Tiny => {
            let base = if target == crate::Target::ARM64 {
                TINY_CONFIG_ARM64
            } else {
                TINY_CONFIG
            };
            let text = format!("{base}\n{IKCONFIG_FRAGMENT}");
            (ConfigSource::Allnoconfig(text), Vec::new(), Vec::new())
        }
        Flavour::Generic => (generic_source(target), Vec::new(), Vec::new()),
        Flavour::Debian => {
            write(dir, "", "")?;
            let config = fetch_debian_config(&DEBIAN_AMD64, downloader, dir)?;
            let base = KernelConfig::read(&config).map_err(|e| FlavourError::Io {
                path: config.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
            let fragment = write(dir, "debian-samekernel.config", DEBIAN_CHANGES)?;
            let changes = deliberate_changes(&base, DEBIAN_CHANGES);
            (ConfigSource::Full(config), vec![fragment], changes)
        }
    };
    Ok(FlavourConfig {
        flavour,
        source,
        fragments,
        changes,
    })
}

/// The generic flavour's kbuild config targets and fragment for `target`: the kernel's
/// own defconfig for the architecture (arm64's with `virt.config`, which turns off SoC
/// platforms), its KVM guest fragment, then samekernel's hardware fragment.
fn generic_source(target: crate::Target) -> ConfigSource {
    let (targets, text): (&[&str], &str) = if target == crate::Target::ARM64 {
        (
            &["defconfig", "virt.config", "kvm_guest.config"],
            GENERIC_ARM64_FRAGMENT,
        )
    } else {
        (&["x86_64_defconfig", "kvm_guest.config"], GENERIC_FRAGMENT)
    };
    ConfigSource::Defconfig {
        targets: targets.iter().map(|t| (*t).to_owned()).collect(),
        text: text.to_owned(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, FlavourError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FlavourError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(name);
    if !name.is_empty() {
        fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(path)
}

fn digest(size: u64, sha256: &str) -> FileDigest {
    FileDigest {
        size,
        sha256: sha256.parse().expect("pinned digests are valid hex"),
    }
}

/// Downloads `pin`'s package into `dir`, checks the `.deb`, the member and the
/// decompressed config against the pin, and returns the config's path.
pub fn fetch_debian_config(
    pin: &DebianConfigPin,
    downloader: &dyn DebDownloader,
    dir: &Path,
) -> Result<PathBuf, FlavourError> {
    let fetch = |source| FlavourError::Fetch {
        package: pin.package.into(),
        version: pin.version.into(),
        source: Box::new(source),
    };
    let deb_dir = dir.join("deb");
    write(&deb_dir, "", "")?;
    let deb = downloader
        .download(pin.package, pin.version, &deb_dir)
        .map_err(fetch)?;
    srcpin::verify_file(&deb, &digest(pin.deb.0, pin.deb.1), pin.package).map_err(fetch)?;
    let mut xz = Vec::new();
    let (size, sha) = pin.member_digest;
    srcpin::deb::extract_member(&deb, pin.member, size, &mut xz).map_err(fetch)?;
    check(pin.member, sha, &xz)?;
    let mut text = Vec::new();
    let name = pin.member.rsplit('/').next().unwrap_or(pin.member);
    let path = dir.join(name.trim_end_matches(".xz"));
    xz2::read::XzDecoder::new(&xz[..])
        .take(16 << 20)
        .read_to_end(&mut text)
        .map_err(|source| FlavourError::Io {
            path: path.clone(),
            source,
        })?;
    check(&path.display().to_string(), pin.config_sha256, &text)?;
    fs::write(&path, &text).map_err(|source| FlavourError::Io {
        path: path.clone(),
        source,
    })?;
    let _ = fs::remove_dir_all(&deb_dir);
    Ok(path)
}

fn check(what: &str, want: &str, bytes: &[u8]) -> Result<(), FlavourError> {
    let got = Sha256Digest::of(bytes).to_string();
    if got == want {
        return Ok(());
    }
    Err(FlavourError::Digest {
        what: what.into(),
        want: want.into(),
        got,
    })
}

/// Each setting of `fragment` that differs from `base`, with the comment lines just
/// above it (up to a blank line) as its reason.
pub fn deliberate_changes(base: &KernelConfig, fragment: &str) -> Vec<DeliberateChange> {
    let mut why: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for line in fragment.lines() {
        let setting = KernelConfig::parse(line, "fragment").ok();
        let symbol = setting.as_ref().and_then(|c| {
            c.symbols()
                .next()
                .map(|(s, v)| (s.to_owned(), v.to_string()))
        });
        match symbol {
            Some((symbol, ours)) => {
                let base = base.get(&symbol).map(ToString::to_string);
                if base.as_deref() != Some(ours.as_str()) {
                    out.push(DeliberateChange {
                        symbol,
                        base,
                        ours,
                        why: why.join(" "),
                    });
                }
            }
            None if line.trim().is_empty() => why.clear(),
            None => why.push(line.trim_start_matches('#').trim()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A downloader for flavours that must not download anything.
    struct Never;
    impl DebDownloader for Never {
        fn download(&self, p: &str, _: &str, _: &Path) -> srcpin::Result<PathBuf> {
            panic!("downloaded {p}")
        }
    }

    #[test]
    fn names_round_trip_and_generic_is_the_default() {
        for f in Flavour::ALL {
            assert_eq!(f.name().parse::<Flavour>(), Ok(f));
        }
        assert_eq!(Flavour::default(), Flavour::Generic);
        assert!("huge".parse::<Flavour>().unwrap_err().contains("huge"));
    }

    #[test]
    fn the_help_names_the_default_then_every_flavour_on_its_own_line() {
        let help = Flavour::help();
        let lines: Vec<&str> = help.lines().collect();
        assert_eq!(lines[0], "The config source [default: generic]:");
        assert_eq!(lines.len(), 1 + Flavour::ALL.len());
        assert!(lines[2].starts_with("  tiny     allnoconfig"), "{help}");
    }

    #[test]
    fn a_deliberate_change_reads_as_one_line() {
        let mut c = DeliberateChange {
            symbol: "CONFIG_BUILD_SALT".into(),
            base: Some("\"6.12\"".into()),
            ours: "\"\"".into(),
            why: "no per-build salt".into(),
        };
        assert_eq!(
            c.to_string(),
            "CONFIG_BUILD_SALT: \"6.12\" -> \"\": no per-build salt"
        );
        c.base = None;
        assert!(c.to_string().contains(": absent (Kconfig default) -> "));
    }

    #[test]
    fn every_debian_change_has_a_reason() {
        let base = KernelConfig::parse("CONFIG_MODULE_SIG_ALL=y\n", "base").unwrap();
        let changes = deliberate_changes(&base, DEBIAN_CHANGES);
        assert!(
            changes
                .iter()
                .any(|c| c.symbol == "CONFIG_MODULE_SIG_ALL" && c.base.as_deref() == Some("y"))
        );
        for c in &changes {
            assert!(!c.why.is_empty(), "{} has no reason", c.symbol);
        }
    }

    #[test]
    fn a_comment_is_the_reason_of_the_setting_below_it() {
        let base = KernelConfig::parse("CONFIG_A=y\n", "base").unwrap();
        let got = deliberate_changes(&base, "# because\n# of x\nCONFIG_A=n\n\nCONFIG_B=y\n");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].why, "because of x");
        assert_eq!(got[1].why, "");
    }

    #[test]
    fn tiny_needs_no_download() {
        let t = tempfile::tempdir().unwrap();
        let tiny = prepare(Flavour::Tiny, crate::Target::AMD64, &Never, t.path()).unwrap();
        let ConfigSource::Allnoconfig(text) = tiny.source else {
            panic!("tiny is allnoconfig")
        };
        assert!(text.contains("CONFIG_IKCONFIG=y"));
    }

    #[test]
    fn generic_starts_from_each_architectures_own_defconfig_without_a_download() {
        let t = tempfile::tempdir().unwrap();
        let source = |target| {
            prepare(Flavour::Generic, target, &Never, t.path())
                .unwrap()
                .source
        };
        let ConfigSource::Defconfig { targets, text } = source(crate::Target::AMD64) else {
            panic!("generic is a defconfig")
        };
        assert_eq!(targets, ["x86_64_defconfig", "kvm_guest.config"]);
        assert!(text.contains("CONFIG_KEYBOARD_ATKBD=y"));
        let ConfigSource::Defconfig { targets, text } = source(crate::Target::ARM64) else {
            panic!("generic arm64 is a defconfig")
        };
        assert_eq!(targets, ["defconfig", "virt.config", "kvm_guest.config"]);
        assert!(text.contains("CONFIG_SERIAL_AMBA_PL011_CONSOLE=y"));
        assert!(
            !text.contains("ATKBD"),
            "no PC keyboard controller on arm64"
        );
        let e = prepare(Flavour::Debian, crate::Target::ARM64, &Never, t.path()).unwrap_err();
        assert!(
            matches!(
                e,
                FlavourError::NotForTarget {
                    flavour: "debian",
                    arch: "arm64"
                }
            ),
            "{e}"
        );
    }
}
