//! `samekernel`: the build pipeline as a library — pinned sources in, the same kernel
//! `.deb`s and a build record out, stage by stage.
//!
//! A build is a [`BuildPlan`] (the pin, the [`Target`], where the `.config` comes
//! from, the compressor, the extra packages, the config gates) run through these
//! stages, each a function with typed inputs, outputs and errors:
//!
//! | stage | function | output |
//! |---|---|---|
//! | toolchain | [`pipeline::toolchain`] | fingerprint + differences from an expected one |
//! | pin | [`stage::pin::fetch_pin`] | [`stage::pin::PinnedSource`] (verified blobs, identity) |
//! | source | [`stage::pin::unpack_source`] | the patched tree |
//! | config | [`stage::config::resolve_config`] | [`stage::config::ResolvedConfig`] |
//! | gate | [`gate::run_gates`] | [`Finding`]s, or [`gate::GateError`] |
//! | compile | [`stage::compile::compile`] | [`stage::compile::Compiled`] |
//! | stage + pack | [`stage::package::package`] | the `.deb` paths |
//! | record | [`record::build_record`], [`record::write_record`] | testimony's `BuildRecord` |
//! | publish | [`stage::publish::Results::publish`] | `--out`, whole or untouched |
//!
//! [`build`] runs them all in order. Stages that need make take `&mut dyn`
//! [`Kbuild`], so they can be tested with a fake that writes what make would.
//!
//! With `plan.module_cert = Some(cert)` the build is stage 1 of two-stage module
//! signing: the certificate is built in, signed modules are required, and the modules
//! stay unsigned; [`signing`] then signs them out of band, attaches the signatures and
//! checks a signed package against the unsigned one.
//!
//! # Examples
//!
//! The whole pipeline (downloads the pinned source and compiles a kernel, so it is not
//! run as a doctest):
//!
//! ```no_run
//! use samekernel::{BuildPlan, ConfigSource, NoReport, WorkDir};
//! use srcpin::{Cache, FetchOptions, Fetcher, Manifest};
//!
//! let config = std::fs::read_to_string("tiny.config")?;
//! let mut plan = BuildPlan::new(
//!     Manifest::builtin_default(),
//!     ConfigSource::Allnoconfig(config),
//!     "kernel-debs".into(),
//! );
//! plan.extras.libc_dev = true;
//! let fetcher = Fetcher::new(Cache::new(std::path::PathBuf::from("cache")), FetchOptions::default());
//! let work = WorkDir::temporary()?;
//! let outcome = samekernel::build(&plan, &fetcher, work.path(), &mut NoReport)?;
//! for deb in &outcome.record.debs {
//!     println!("{}  {}", deb.sha256, deb.file_name);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Targets are data:
//!
//! ```
//! use samekernel::Target;
//! let arm = Target::from_debian_arch("arm64")?;
//! assert_eq!(arm.image_in_tree, "arch/arm64/boot/Image");
//! assert_eq!(arm.image_in_package("6.12.117"), "boot/vmlinuz-6.12.117");
//! assert!(arm.check_buildable().is_ok()); // cross-built on x86_64
//! # Ok::<(), samekernel::TargetError>(())
//! ```
//!
//! A gate of your own runs beside kbuild-env's hazards:
//!
//! ```
//! use samekernel::{ConfigGate, Finding, Severity};
//! use kbuild_env::KernelConfig;
//!
//! struct NoDevMem;
//! impl ConfigGate for NoDevMem {
//!     fn name(&self) -> &'static str { "no-devmem" }
//!     fn check(&self, config: &KernelConfig) -> Vec<Finding> {
//!         config.is_enabled("CONFIG_DEVMEM").then(|| Finding {
//!             gate: "no-devmem",
//!             severity: Severity::Blocking,
//!             item: "CONFIG_DEVMEM".into(),
//!             message: "/dev/mem is enabled; set CONFIG_DEVMEM=n".into(),
//!         }).into_iter().collect()
//!     }
//! }
//! let config = KernelConfig::parse("CONFIG_DEVMEM=y\n", "example")?;
//! let err = samekernel::gate::run_gates(&[&NoDevMem], &config, ".config".as_ref(), &mut |_| {})
//!     .unwrap_err();
//! assert_eq!(err.items, ["CONFIG_DEVMEM"]);
//! # Ok::<(), kbuild_env::ConfigError>(())
//! ```
//!
//! # Invariants
//!
//! * The packages are a function of the pin, the resolved `.config`, the target, the
//!   compressor and the toolchain: kbuild runs under kbuild-env's sanitized environment,
//!   staging follows upstream builddeb with fixed control fields and pinned dates, and
//!   detdeb packs deterministically. Where the work directory is, `-j`, the user, the
//!   host and the clock never reach the output.
//! * Nothing half-written reaches the output directory: results are assembled beside
//!   it and renamed into place ([`stage::publish`]).
//! * The library never prints and never exits; progress goes to a [`BuildReporter`],
//!   failures are [`BuildError`]s naming the file or item.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod builddeb;
pub mod console;
mod error;
pub mod flavour;
pub mod gate;
pub mod harden_report;
pub mod hardening;
pub mod image_config;
pub mod inspect;
pub mod install;
pub mod kbuild;
pub mod pack;
pub mod pipeline;
mod plan;
pub mod record;
mod report;
pub mod repro;
mod request;
pub mod signing;
pub mod stage;
mod target;
pub mod verify;

pub use error::BuildError;
pub use flavour::{Flavour, FlavourConfig};
pub use gate::{ConfigGate, Finding, HazardGate, Severity};
pub use hardening::{Hardening, HardeningGate};
pub use kbuild::{Kbuild, KbuildError, KbuildRunner};
pub use pipeline::{BuildOutcome, Configured, TargetsMade, build, configure, make_targets};
pub use plan::{BuildPlan, WorkDir};
pub use report::{BuildReporter, CompileProgress, NoReport, Stage};
pub use request::{
    BuildRequest, BuildSummary, DebSummary, HardeningSummary, RequestError, Started,
};
pub use stage::config::ConfigSource;
pub use stage::package::Extras;
pub use target::{Target, TargetError};
