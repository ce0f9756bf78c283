//! [`BuildRequest`]: a build as a user asks for it (files named, not yet read),
//! turned into a [`BuildPlan`]; and [`BuildSummary`], the outcome as a user reads it.
//!
//! ```no_run
//! use samekernel::{BuildRequest, Target};
//! use std::path::Path;
//!
//! let request = BuildRequest::new("kernel-debs".into());
//! let flavour = request.prepare_flavour(Path::new("/tmp/work/flavour"), &srcpin::AptGet)?;
//! let plan = request.plan(flavour.as_ref())?;
//! assert_eq!(plan.target, Target::AMD64);
//! # Ok::<(), samekernel::RequestError>(())
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use detdeb::Compressor;
use kbuild_env::ToolchainFingerprint;
use serde::Serialize;
use srcpin::{DebDownloader, Manifest};

use crate::flavour::{FlavourConfig, FlavourError};
use crate::stage::compile::StepMemo;
use crate::stage::config::ConfigSource;
use crate::stage::package::Extras;
use crate::stage::requested::ConfigChange;
use crate::{BuildError, BuildOutcome, BuildPlan, Flavour, Target, WorkDir};

/// Why a request cannot become a plan; each names the file or flavour.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// A named file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest is not a valid pin.
    #[error(transparent)]
    Manifest(#[from] srcpin::Error),
    /// The hardening policy is not valid.
    #[error(transparent)]
    HardenPolicy(#[from] harden::Error),
    /// The expected toolchain fingerprint does not parse.
    #[error("{}: {source}", path.display())]
    Toolchain {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: kbuild_env::ToolchainError,
    },
    /// The flavour cannot be prepared (not for this target, or its config failed a check).
    #[error("flavour {flavour}: {source}")]
    Flavour {
        /// The flavour.
        flavour: Flavour,
        /// Why.
        source: FlavourError,
    },
}

/// A build as asked for; [`BuildRequest::plan`] reads the files it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRequest {
    /// The pin's file; the built-in default (Debian's linux-source-6.12) when `None`.
    pub manifest: Option<PathBuf>,
    /// The architecture.
    pub target: Target,
    /// The flavour (default `generic`); ignored when `config` is given.
    pub flavour: Option<Flavour>,
    /// A complete `.config` (then `olddefconfig`) instead of a flavour.
    pub config: Option<PathBuf>,
    /// Kconfig fragments applied after the flavour's own.
    pub fragments: Vec<PathBuf>,
    /// Guarded options kbuild may drop without failing.
    pub allow_config_loss: Vec<String>,
    /// The output directory.
    pub out: PathBuf,
    /// `make -j` [default: [`BuildPlan::new`]'s, one per CPU].
    pub jobs: Option<u32>,
    /// The packages' compressor.
    pub compressor: Compressor,
    /// Packages besides image and headers.
    pub extras: Extras,
    /// Build despite blocking hazards.
    pub allow_hazards: bool,
    /// Apply harden's fragment (off: the gate reports without refusing).
    pub apply_hardening: bool,
    /// Build even when a required hardening rule fails.
    pub allow_weaker: bool,
    /// A hardening policy file (TOML) instead of harden's default.
    pub harden_policy: Option<PathBuf>,
    /// A toolchain fingerprint file to compare this machine's with.
    pub expect_toolchain: Option<PathBuf>,
    /// The module-signing certificate to build in (two-stage signing, see
    /// [`crate::signing`]); `None` = modules are not signed.
    pub module_cert: Option<PathBuf>,
}

fn read(path: &Path) -> Result<String, RequestError> {
    safe_extract::regular::read_regular_to_string(path).map_err(|source| RequestError::Read {
        path: path.to_owned(),
        source,
    })
}

impl BuildRequest {
    /// The defaults: built-in pin, amd64, flavour `generic`, zstd, hardened.
    pub fn new(out: PathBuf) -> BuildRequest {
        BuildRequest {
            manifest: None,
            target: Target::AMD64,
            flavour: None,
            config: None,
            fragments: Vec::new(),
            allow_config_loss: Vec::new(),
            out,
            jobs: None,
            compressor: Compressor::Zstd,
            extras: Extras::default(),
            allow_hazards: false,
            apply_hardening: true,
            allow_weaker: false,
            harden_policy: None,
            expect_toolchain: None,
            module_cert: None,
        }
    }

    /// The flavour that will be built: `None` when a full `.config` is given.
    pub fn effective_flavour(&self) -> Option<Flavour> {
        self.config
            .is_none()
            .then(|| self.flavour.unwrap_or_default())
    }

    /// Writes the flavour's fragments into `dir` (the debian flavour also downloads
    /// and checks Debian's config with `downloader`); `None` for a full `.config`.
    pub fn prepare_flavour(
        &self,
        dir: &Path,
        downloader: &dyn DebDownloader,
    ) -> Result<Option<FlavourConfig>, RequestError> {
        let Some(flavour) = self.effective_flavour() else {
            return Ok(None);
        };
        crate::flavour::prepare(flavour, self.target, downloader, dir)
            .map(Some)
            .map_err(|source| RequestError::Flavour { flavour, source })
    }

    /// The plan: the manifest, policy and expected toolchain read and checked; the
    /// config from `--config`, else the prepared `flavour`, else the tiny fragment.
    pub fn plan(&self, flavour: Option<&FlavourConfig>) -> Result<BuildPlan, RequestError> {
        let manifest = match &self.manifest {
            Some(p) => Manifest::from_path(p)?,
            None => Manifest::builtin_default(),
        };
        let (config, mut fragments) = match (&self.config, flavour) {
            (Some(c), _) => (ConfigSource::Full(c.clone()), Vec::new()),
            (None, Some(f)) => (f.source.clone(), f.fragments.clone()),
            (None, None) => (
                ConfigSource::Allnoconfig(crate::flavour::TINY_CONFIG.to_owned()),
                Vec::new(),
            ),
        };
        fragments.extend(self.fragments.iter().cloned());
        let mut plan = BuildPlan::new(manifest, config, self.out.clone());
        plan.target = self.target;
        plan.flavour = flavour.map(|f| f.flavour);
        if let Some(cert) = &self.module_cert {
            // Absolute: the build runs kbuild elsewhere.
            let absolute = std::path::absolute(cert).map_err(|source| RequestError::Read {
                path: cert.clone(),
                source,
            })?;
            plan.module_cert = Some(absolute);
        }
        plan.fragments = fragments;
        plan.allow_config_loss.clone_from(&self.allow_config_loss);
        if let Some(j) = self.jobs {
            plan.jobs = j;
        }
        plan.compressor = self.compressor;
        plan.extras = self.extras;
        plan.allow_hazards = self.allow_hazards;
        plan.hardening.apply_fragment = self.apply_hardening;
        plan.hardening.allow_weaker = self.allow_weaker;
        if let Some(path) = &self.harden_policy {
            let origin = path.display().to_string();
            plan.hardening.policy = harden::Policy::from_toml(&read(path)?, &origin)?;
        }
        if let Some(path) = &self.expect_toolchain {
            let fp = ToolchainFingerprint::parse(&read(path)?).map_err(|source| {
                RequestError::Toolchain {
                    path: path.clone(),
                    source,
                }
            })?;
            plan.expected_toolchain = Some(fp);
        }
        Ok(plan)
    }
}

/// A request ready to run: where it builds, its prepared flavour and its plan.
#[derive(Debug)]
pub struct Started {
    /// Where kbuild runs.
    pub work: WorkDir,
    /// The prepared flavour (`None` for a full `.config`).
    pub flavour: Option<FlavourConfig>,
    /// The plan, with its compile-step memo.
    pub plan: BuildPlan,
}

impl BuildRequest {
    /// Refuses first what needs no work directory (a target this machine cannot build,
    /// a non-empty `out`), then makes the work directory (`work_dir`, else a fresh one
    /// in TMPDIR), prepares the flavour in it and plans; compile-step counts are
    /// remembered in `memo_dir` (the source cache).
    pub fn start(
        &self,
        work_dir: Option<&Path>,
        memo_dir: &Path,
        downloader: &dyn DebDownloader,
    ) -> Result<Started, BuildError> {
        self.target.check_buildable()?;
        crate::stage::publish::check_out_free(&self.out)?;
        let work = match work_dir {
            Some(w) => WorkDir::at(w).map_err(|source| (w.to_owned(), source)),
            None => WorkDir::temporary().map_err(|source| (std::env::temp_dir(), source)),
        }
        .map_err(|(path, source)| BuildError::Io { path, source })?;
        let flavour = self.prepare_flavour(&work.path().join("flavour"), downloader)?;
        let mut plan = self.plan(flavour.as_ref())?;
        // Extra fragments change the work: then only a remembered count is shown.
        let typical = (self.effective_flavour())
            .filter(|_| self.fragments.is_empty())
            .and_then(|f| f.typical_compile_steps(&plan.target));
        plan.step_memo = Some(StepMemo {
            dir: memo_dir.to_owned(),
            typical,
        });
        Ok(Started {
            work,
            flavour,
            plan,
        })
    }
}

/// A finished build as `kernel-deb build --json` prints it (fields in alphabetical
/// order, as `serde_json::Value` prints an object's keys).
#[derive(Debug, Clone, Serialize)]
pub struct BuildSummary<'a> {
    /// Guarded options the user let kbuild drop.
    pub allowed_config_losses: &'a [String],
    /// sha256 of `BUILD-RECORD`.
    pub build_record_sha256: String,
    /// Requested options kbuild resolved differently.
    pub config_changes: &'a [ConfigChange],
    /// Each package.
    pub debs: Vec<DebSummary<'a>>,
    /// Wall-clock seconds.
    pub elapsed_seconds: f64,
    /// The flavour built (`None` for a full `.config`).
    pub flavour: Option<&'static str>,
    /// The hardening totals, when the gate ran.
    pub hardening: Option<HardeningSummary<'a>>,
    /// `make -s kernelrelease`.
    pub kernel_release: &'a str,
    /// The output directory.
    pub out: &'a Path,
    /// The packages' Debian version.
    pub version: &'a str,
}

/// One package of a [`BuildSummary`].
#[derive(Debug, Clone, Serialize)]
pub struct DebSummary<'a> {
    /// The file name.
    pub file: &'a str,
    /// How many files the record lists for it.
    pub files: usize,
    /// Its sha256.
    pub sha256: &'a str,
    /// Its size in bytes.
    pub size: u64,
}

/// The hardening block of a [`BuildSummary`].
#[derive(Debug, Clone, Serialize)]
pub struct HardeningSummary<'a> {
    /// Failed rule ids.
    pub failed_rules: &'a [String],
    /// `enforced`, `allow-weaker` or `off`.
    pub mode: &'static str,
    /// Self-protection rules that fail.
    pub self_protection_fail: u64,
    /// Self-protection rules not applicable.
    pub self_protection_na: u64,
    /// Self-protection rules that hold.
    pub self_protection_ok: u64,
}

impl<'a> BuildSummary<'a> {
    /// The summary of `outcome` for `request`, which took `elapsed`.
    pub fn new(
        request: &'a BuildRequest,
        outcome: &'a BuildOutcome,
        elapsed: Duration,
    ) -> BuildSummary<'a> {
        let record = &outcome.record;
        BuildSummary {
            allowed_config_losses: &request.allow_config_loss,
            build_record_sha256: record.sha256(),
            config_changes: &outcome.config_changes,
            debs: record
                .debs
                .iter()
                .map(|d| DebSummary {
                    file: &d.file_name,
                    files: d.files.len(),
                    sha256: &d.sha256,
                    size: d.size,
                })
                .collect(),
            elapsed_seconds: elapsed.as_secs_f64(),
            flavour: request.effective_flavour().map(Flavour::name),
            hardening: record.hardening.as_ref().map(|h| HardeningSummary {
                failed_rules: &h.failed_rules,
                mode: h.mode.as_str(),
                self_protection_fail: h.fail,
                self_protection_na: h.not_applicable,
                self_protection_ok: h.ok,
            }),
            kernel_release: &outcome.kernel_release,
            out: &outcome.out,
            version: &outcome.version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_becomes_a_plan_with_its_files_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = BuildRequest::new(dir.path().join("out"));
        assert_eq!(r.effective_flavour(), Some(Flavour::default()));
        r.config = Some(dir.path().join("full.config"));
        r.fragments = vec![dir.path().join("extra.config")];
        r.jobs = Some(3);
        r.apply_hardening = false;
        assert_eq!(r.effective_flavour(), None);
        assert!(
            r.prepare_flavour(dir.path(), &srcpin::AptGet)
                .unwrap()
                .is_none()
        );
        let plan = r.plan(None).unwrap();
        assert_eq!(
            plan.config,
            ConfigSource::Full(dir.path().join("full.config"))
        );
        assert_eq!(plan.fragments, r.fragments);
        assert_eq!((plan.jobs, plan.hardening.apply_fragment), (3, false));

        r.expect_toolchain = Some(dir.path().join("missing"));
        match r.plan(None) {
            Err(e @ RequestError::Read { .. }) => assert!(e.to_string().contains("missing")),
            other => panic!("{other:?}"),
        }
        std::fs::write(
            dir.path().join("bad.toml"),
            "[require]\nrules = [\"nope\"]\n",
        )
        .unwrap();
        r.expect_toolchain = None;
        r.harden_policy = Some(dir.path().join("bad.toml"));
        assert!(matches!(r.plan(None), Err(RequestError::HardenPolicy(_))));
    }

    #[test]
    fn the_tiny_flavour_appends_the_users_fragments_after_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = BuildRequest::new(dir.path().join("out"));
        r.flavour = Some(Flavour::Tiny);
        r.fragments = vec![dir.path().join("mine.config")];
        let f = r
            .prepare_flavour(&dir.path().join("flavour"), &srcpin::AptGet)
            .unwrap();
        let f = f.expect("a flavour");
        let plan = r.plan(Some(&f)).unwrap();
        assert_eq!(plan.config, f.source);
        assert_eq!(plan.fragments.last(), r.fragments.last());
        assert_eq!(plan.fragments.len(), f.fragments.len() + 1);
        // The record names the flavour; a user's --config FILE has none.
        assert_eq!(plan.flavour, Some(Flavour::Tiny));
        r.config = Some(dir.path().join("my.config"));
        assert_eq!(r.plan(None).unwrap().flavour, None);
    }

    #[test]
    fn start_refuses_a_full_out_before_making_a_work_directory_then_plans() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = BuildRequest::new(dir.path().join("out"));
        r.flavour = Some(Flavour::Tiny);
        let work = dir.path().join("work");
        std::fs::create_dir_all(r.out.join("old")).unwrap();
        let refused = r.start(Some(&work), dir.path(), &srcpin::AptGet);
        assert!(
            matches!(refused, Err(BuildError::Publish(_))),
            "{refused:?}"
        );
        assert!(!work.exists(), "refused before the work directory");

        std::fs::remove_dir_all(r.out.join("old")).unwrap();
        let started = r.start(Some(&work), dir.path(), &srcpin::AptGet).unwrap();
        assert_eq!(started.work.path(), work.canonicalize().unwrap());
        assert_eq!(started.flavour.map(|f| f.flavour), Some(Flavour::Tiny));
        assert!(
            !started.work.is_temporary(),
            "a named work directory is kept"
        );
        let memo = started.plan.step_memo.expect("a memo");
        assert_eq!(memo.dir, dir.path());
        assert_eq!(
            memo.typical,
            Flavour::Tiny.typical_compile_steps(&Target::AMD64)
        );
        // A user's fragment changes the work: no typical count is assumed.
        r.fragments = vec![dir.path().join("mine.config")];
        let started = r.start(Some(&work), dir.path(), &srcpin::AptGet).unwrap();
        assert_eq!(started.plan.step_memo.unwrap().typical, None);
    }
}
