//! [`BuildPlan`]: everything a build is made from, decided before it starts.

use std::fmt;
use std::path::{Path, PathBuf};

use detdeb::Compressor;
use kbuild_env::ToolchainFingerprint;
use srcpin::Manifest;
use tempfile::TempDir;

use crate::Target;
use crate::flavour::Flavour;
use crate::gate::ConfigGate;
use crate::hardening::Hardening;
use crate::stage::compile::StepMemo;
use crate::stage::config::ConfigSource;
use crate::stage::package::Extras;

/// What to build, how, and where the packages go.
pub struct BuildPlan {
    /// The source pin.
    pub manifest: Manifest,
    /// The architecture.
    pub target: Target,
    /// Where the `.config` comes from.
    pub config: ConfigSource,
    /// The flavour `config` was prepared from ([`crate::flavour::prepare`]), named in
    /// the build record; `None` for a user's own `.config` (the record then names the
    /// config by its sha256 alone).
    pub flavour: Option<Flavour>,
    /// Kconfig fragments applied on top, in order.
    pub fragments: Vec<PathBuf>,
    /// `make -j` (never changes the output).
    pub jobs: u32,
    /// The packages' compressor (part of the output).
    pub compressor: Compressor,
    /// Packages besides image and headers.
    pub extras: Extras,
    /// Build despite blocking hazards (the hazard gate reports them as allowed).
    pub allow_hazards: bool,
    /// Hardened by default: harden's fragment in the config stage, the hardening gate.
    pub hardening: Hardening,
    /// Guarded options kbuild may drop without failing the build (`DEBUG_INFO_BTF`…).
    pub allow_config_loss: Vec<String>,
    /// Gates run after kbuild-env's hazard gate and the hardening gate.
    pub extra_gates: Vec<Box<dyn ConfigGate>>,
    /// A fingerprint to compare this machine's toolchain with.
    pub expected_toolchain: Option<ToolchainFingerprint>,
    /// Remembered compile step counts, for a real fraction in the progress.
    pub step_memo: Option<StepMemo>,
    /// The output directory (absent or empty).
    pub out: PathBuf,
    /// Two-stage module signing, stage 1: the persistent signing key's certificate
    /// (PEM) to build in (see [`crate::signing`]); `None`: no module signing.
    pub module_cert: Option<PathBuf>,
}

impl fmt::Debug for BuildPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gates: Vec<&str> = self.extra_gates.iter().map(|g| g.name()).collect();
        f.debug_struct("BuildPlan")
            .field("target", &self.target)
            .field("config", &self.config)
            .field("flavour", &self.flavour)
            .field("fragments", &self.fragments)
            .field("jobs", &self.jobs)
            .field("compressor", &self.compressor)
            .field("extras", &self.extras)
            .field("allow_hazards", &self.allow_hazards)
            .field("hardening", &self.hardening)
            .field("allow_config_loss", &self.allow_config_loss)
            .field("extra_gates", &gates)
            .field("out", &self.out)
            .field("module_cert", &self.module_cert)
            .finish_non_exhaustive()
    }
}

impl BuildPlan {
    /// A plan with defaults: no flavour named, amd64, zstd, as many jobs as CPUs, no extras, hardened
    /// (fragment + gate with harden's default policy), no gates beyond those and the hazards, nothing expected of the toolchain.
    pub fn new(manifest: Manifest, config: ConfigSource, out: PathBuf) -> BuildPlan {
        BuildPlan {
            manifest,
            target: Target::AMD64,
            config,
            flavour: None,
            fragments: Vec::new(),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            compressor: Compressor::Zstd,
            extras: Extras::default(),
            allow_hazards: false,
            hardening: Hardening::default(),
            allow_config_loss: Vec::new(),
            extra_gates: Vec::new(),
            expected_toolchain: None,
            step_memo: None,
            out,
            module_cert: None,
        }
    }
}

/// Where kbuild runs: a fresh directory in TMPDIR (removed when dropped unless
/// kept), or one the caller names (never removed). kbuild cannot build in a path with
/// spaces, and where it runs never reaches the output (prefix maps).
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
    temp: Option<TempDir>,
}

impl WorkDir {
    /// A fresh `kernel-deb-build-*` directory in TMPDIR.
    pub fn temporary() -> std::io::Result<WorkDir> {
        let temp = tempfile::Builder::new()
            .prefix("kernel-deb-build-")
            .tempdir()?;
        Ok(WorkDir {
            path: std::fs::canonicalize(temp.path())?,
            temp: Some(temp),
        })
    }

    /// `path`, created if needed.
    pub fn at(path: &Path) -> std::io::Result<WorkDir> {
        std::fs::create_dir_all(path)?;
        Ok(WorkDir {
            path: std::fs::canonicalize(path)?,
            temp: None,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it is a temporary one (removed on drop).
    pub fn is_temporary(&self) -> bool {
        self.temp.is_some()
    }

    /// Keeps the directory after this value is dropped; returns its path.
    pub fn keep(self) -> PathBuf {
        if let Some(t) = self.temp {
            let _ = t.keep();
        }
        self.path
    }
}
