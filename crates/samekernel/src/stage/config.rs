//! Stage 3, config: resolve the final `.config` in the object tree with kbuild.

use std::fs;
use std::path::{Path, PathBuf};

use kbuild_env::KernelConfig;

use crate::kbuild::{Kbuild, KbuildError};
use crate::stage::requested::{ConfigChange, Requested};

/// Where the build's `.config` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `make allnoconfig` with this text (plus the fragments) as `KCONFIG_ALLCONFIG`:
    /// every symbol it does not set is off.
    Allnoconfig(String),
    /// A complete `.config` (plus the fragments), then `make olddefconfig`.
    Full(PathBuf),
    /// `make <targets>` (e.g. `x86_64_defconfig kvm_guest.config`: the kernel's own
    /// defconfig and in-tree fragments), then `text` and the fragments appended, then
    /// `make olddefconfig`.
    Defconfig {
        /// kbuild's config targets, in order.
        targets: Vec<String>,
        /// Appended after them (a flavour's own fragment).
        text: String,
    },
}

/// The final `.config`, as kbuild resolved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedConfig {
    /// `<obj>/.config`.
    pub path: PathBuf,
    /// Its parsed symbols.
    pub config: KernelConfig,
    /// Every requested option kbuild dropped or changed (see [`crate::stage::requested`]).
    pub changes: Vec<ConfigChange>,
}

impl ResolvedConfig {
    /// SHA-256 of the config (kbuild-env's rule), bound into the package version.
    pub fn sha256(&self) -> String {
        self.config.sha256()
    }
}

/// Why the config could not be resolved, or cannot serve the requested packages.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A config or fragment file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// kbuild failed to resolve it.
    #[error(transparent)]
    Kbuild(#[from] KbuildError),
    /// The resolved `.config` does not parse.
    #[error(transparent)]
    Parse(#[from] kbuild_env::ConfigError),
    /// A debug package was requested but the config has no (unsplit) debug info.
    #[error(
        "{}: no debug info to package (set CONFIG_DEBUG_INFO_DWARF5=y, without CONFIG_DEBUG_INFO_SPLIT)",
        path.display()
    )]
    NoDebugInfo {
        /// The resolved `.config`.
        path: PathBuf,
    },
    /// The hardening fragment needs the compiler's major version, and the toolchain
    /// fingerprint names no installed `gcc-N` package.
    #[error(
        "no gcc-N package in the toolchain fingerprint: cannot choose the hardening fragment (install gcc, or build with --no-harden)"
    )]
    NoHardeningToolchain,
    /// kbuild dropped a guarded option (see [`crate::stage::requested::GUARDED`]).
    #[error(
        "{}: kbuild dropped {} (requested, but a dependency or probe is missing); allow with --allow-config-loss",
        path.display(), symbols.join(", ")
    )]
    Lost {
        /// The resolved `.config`.
        path: PathBuf,
        /// The lost symbols.
        symbols: Vec<String>,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigError + '_ {
    |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Resolves `<obj>/.config` from `source` plus `fragments` (appended in order, each
/// followed by a newline). `work` receives the `allconfig` file for
/// [`ConfigSource::Allnoconfig`].
pub fn resolve_config(
    kbuild: &mut dyn Kbuild,
    source: &ConfigSource,
    fragments: &[PathBuf],
    work: &Path,
    obj: &Path,
) -> Result<ResolvedConfig, ConfigError> {
    let mut fragment = String::new();
    for f in fragments {
        fragment.push_str(&safe_extract::regular::read_regular_to_string(f).map_err(io(f))?);
        fragment.push('\n');
    }
    let path = obj.join(".config");
    let requested = match source {
        ConfigSource::Allnoconfig(text) => {
            let all = work.join("allconfig");
            let requested = format!("{text}\n{fragment}");
            fs::write(&all, &requested).map_err(io(&all))?;
            let allconfig = format!("KCONFIG_ALLCONFIG={}", all.display());
            kbuild.make(&[&allconfig, "allnoconfig"], &mut |_| {})?;
            requested
        }
        ConfigSource::Full(c) => {
            let text = safe_extract::regular::read_regular_to_string(c).map_err(io(c))?;
            olddefconfig(kbuild, &path, format!("{text}\n{fragment}"))?
        }
        ConfigSource::Defconfig { targets, text } => {
            let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
            kbuild.make(&targets, &mut |_| {})?;
            let base = fs::read_to_string(&path).map_err(io(&path))?;
            olddefconfig(kbuild, &path, format!("{base}\n{text}\n{fragment}"))?
        }
    };
    let text = fs::read_to_string(&path).map_err(io(&path))?;
    let config = KernelConfig::parse(&text, &path.display().to_string())?;
    let changes = Requested::parse(&requested).changes_in(&config);
    Ok(ResolvedConfig {
        path,
        config,
        changes,
    })
}

/// Writes `requested` as `.config`, runs `make olddefconfig`, returns `requested`.
fn olddefconfig(
    kbuild: &mut dyn Kbuild,
    path: &Path,
    requested: String,
) -> Result<String, ConfigError> {
    fs::write(path, &requested).map_err(io(path))?;
    kbuild.make(&["olddefconfig"], &mut |_| {})?;
    Ok(requested)
}

/// What `source` plus `fragments` ask for before kbuild runs (a [`ConfigSource::Defconfig`]
/// contributes only its appended text): enough to decide what to pin, e.g. pahole.
pub fn requested_before_kbuild(
    source: &ConfigSource,
    fragments: &[PathBuf],
) -> Result<Requested, ConfigError> {
    let mut text = match source {
        ConfigSource::Allnoconfig(t) | ConfigSource::Defconfig { text: t, .. } => t.clone(),
        ConfigSource::Full(c) => safe_extract::regular::read_regular_to_string(c).map_err(io(c))?,
    };
    for f in fragments {
        text.push('\n');
        text.push_str(&safe_extract::regular::read_regular_to_string(f).map_err(io(f))?);
    }
    Ok(Requested::parse(&text))
}

/// Refuses a resolved config that lost a guarded option not in `allowed`.
pub fn check_losses(resolved: &ResolvedConfig, allowed: &[String]) -> Result<(), ConfigError> {
    let lost = crate::stage::requested::unallowed_losses(&resolved.changes, allowed);
    if lost.is_empty() {
        return Ok(());
    }
    Err(ConfigError::Lost {
        path: resolved.path.clone(),
        symbols: lost.into_iter().map(str::to_owned).collect(),
    })
}

/// Writes harden's fragment text to `work/hardening.config`, the file the config stage
/// applies after the base config (see [`resolve_config`]).
pub fn write_hardening_fragment(text: &str, work: &Path) -> Result<PathBuf, ConfigError> {
    let path = work.join("hardening.config");
    fs::write(&path, text).map_err(io(&path))?;
    Ok(path)
}

/// Writes the stage-1 module-signing fragment to `work/module-signing.config` (applied
/// after harden's fragment, before the user's: see [`crate::signing::ModuleCert::fragment`]).
pub fn write_module_signing_fragment(text: &str, work: &Path) -> Result<PathBuf, ConfigError> {
    let path = work.join("module-signing.config");
    fs::write(&path, text).map_err(io(&path))?;
    Ok(path)
}

/// Refuses a config without debug info to package (checked before compiling).
pub fn require_debug_info(resolved: &ResolvedConfig) -> Result<(), ConfigError> {
    let c = &resolved.config;
    if c.is_enabled("CONFIG_DEBUG_INFO") && !c.is_enabled("CONFIG_DEBUG_INFO_SPLIT") {
        return Ok(());
    }
    Err(ConfigError::NoDebugInfo {
        path: resolved.path.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kbuild::fake::FakeKbuild;

    #[test]
    fn olddefconfig_resolves_a_full_config_with_fragments_appended() {
        let t = tempfile::tempdir().unwrap();
        let (work, obj) = (t.path().to_path_buf(), t.path().join("obj"));
        fs::create_dir(&obj).unwrap();
        let full = work.join("my.config");
        fs::write(&full, "CONFIG_A=y").unwrap();
        let frag = work.join("frag.config");
        fs::write(&frag, "CONFIG_B=m").unwrap();
        let obj_in = obj.clone();
        let seen = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
        let seen_in = seen.clone();
        // What olddefconfig does: read .config, write the resolved one.
        let mut kb = FakeKbuild::new(move |args| {
            assert_eq!(args, ["olddefconfig"]);
            *seen_in.borrow_mut() = fs::read_to_string(obj_in.join(".config"))?;
            fs::write(
                obj_in.join(".config"),
                "CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=y\n",
            )?;
            Ok(0)
        });
        let r = resolve_config(&mut kb, &ConfigSource::Full(full), &[frag], &work, &obj).unwrap();
        assert_eq!(*seen.borrow(), "CONFIG_A=y\nCONFIG_B=m\n");
        assert_eq!(r.path, obj.join(".config"));
        assert!(r.config.is_enabled("CONFIG_C"));
        assert_eq!(r.sha256().len(), 64);
        let err = require_debug_info(&r).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: no debug info", r.path.display())),
            "{err}"
        );
    }

    #[test]
    fn allnoconfig_gets_the_fragment_as_kconfig_allconfig() {
        let t = tempfile::tempdir().unwrap();
        let (work, obj) = (t.path().to_path_buf(), t.path().join("obj"));
        fs::create_dir(&obj).unwrap();
        let obj_in = obj.clone();
        let all = work.join("allconfig");
        let mut kb = FakeKbuild::new(move |args| {
            assert_eq!(
                args,
                [
                    format!("KCONFIG_ALLCONFIG={}", all.display()).as_str(),
                    "allnoconfig"
                ]
            );
            assert_eq!(fs::read_to_string(&all)?, "CONFIG_DEBUG_INFO=y\n");
            fs::write(obj_in.join(".config"), "CONFIG_DEBUG_INFO=y\n")?;
            Ok(0)
        });
        let source = ConfigSource::Allnoconfig("CONFIG_DEBUG_INFO=y".into());
        let r = resolve_config(&mut kb, &source, &[], &work, &obj).unwrap();
        require_debug_info(&r).unwrap();
        assert_eq!(kb.calls.len(), 1);
    }

    #[test]
    fn a_missing_fragment_is_named() {
        let t = tempfile::tempdir().unwrap();
        let mut kb = FakeKbuild::new(|_| panic!("make must not run"));
        let missing = t.path().join("nope.config");
        let err = resolve_config(
            &mut kb,
            &ConfigSource::Allnoconfig(String::new()),
            std::slice::from_ref(&missing),
            t.path(),
            t.path(),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with(&missing.display().to_string()),
            "{err}"
        );
    }
}
