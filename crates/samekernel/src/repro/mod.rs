//! Reproducibility check: what varies between two builds of the same pin and
//! config, and how each variation is applied to the second build's process.
//!
//! The variations are reprotest's ([`Variation`]): environment, build_path,
//! kernel, aslr, num_cpus, time, user_group, fileordering, domain_host, home,
//! locales, exec_path, timezone, umask. A [`VariationSet`] comes from `--vary` /
//! `--no-vary` lists; [`VariationSet::plan`] splits it into what this machine
//! can apply and what is skipped, with the reason (user_group and domain_host
//! need root, fileordering needs FUSE and disorderfs).
//!
//! ```
//! use samekernel::repro::{BuildInvocation, Capabilities, Side, SidePaths, VariationSet, build_command};
//! use std::path::Path;
//!
//! let wanted = VariationSet::from_flags(Some("time,umask,user_group"), None)?;
//! let caps = Capabilities { root: false, ..Capabilities::probe(false) };
//! let (applied, skipped) = wanted.plan(&caps);
//! assert_eq!(skipped[0].0.name(), "user_group");
//!
//! let inv = BuildInvocation {
//!     kernel_deb: "/usr/bin/kernel-deb".into(),
//!     build_args: vec!["-Z".into(), "xz".into()],
//!     jobs: 2,
//!     machine: "x86_64".into(),
//! };
//! let paths = SidePaths::new(Path::new("/tmp/check"), Side::Experiment, &applied);
//! let child = build_command(&inv, &paths, Side::Experiment, &applied);
//! assert!(child.display().starts_with("sh -c umask 077 && exec \"$@\" sh"));
//! # Ok::<(), samekernel::repro::ReproError>(())
//! ```
//!
//! Both builds are child `kernel-deb build` processes (the same binary): the
//! experiment needs its own process context (uid, personality, UTS namespace,
//! faked clock, CPU affinity, umask), and running the control the same way keeps
//! the two sides symmetric. [`prepare_side`] lays out each side's directories,
//! fake tools, a cache sharing the verified source blobs by hard link, the
//! throwaway user, and the disorderfs view.
//!
//! The check as a whole, in the order a driver calls it: [`check_build_args`],
//! [`VariationSet::from_flags`] and [`VariationSet::plan`] over
//! [`probe_capabilities`], [`make_base`], then for each [`Side`] a
//! [`PreparedSide`] that is run, then debdiff over the two `out` directories,
//! [`per_package`] and [`clean_up`] (together: [`compare`]).

mod check;
mod command;
mod compare;
mod setup;
mod variation;

use std::path::{Path, PathBuf};

pub use check::{
    Kept, OWN_FLAGS, PackageVerdict, PreparedSide, Sides, check_build_args, clean_up, make_base,
    per_package, probe_capabilities, run_sides, uname_machine,
};
pub use command::{
    BuildInvocation, ChildCommand, FAKE_TOOLS, JUNK_ENV, OTHER_HOST, OTHER_USER, Side, SidePaths,
    build_command, describe,
};
pub use compare::{Comparison, check_control, compare, plan_lines};
pub use setup::{Mount, link_tree, prepare_side};
pub use variation::{Capabilities, Variation, VariationSet};

/// Why a check could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ReproError {
    /// A `--vary`/`--no-vary` name that is not a variation.
    #[error("unknown variation {name:?}; known: {known}, all, none")]
    UnknownVariation {
        /// As given.
        name: String,
        /// Every known name.
        known: String,
    },
    /// A build flag after `--` that the check sets on each side itself.
    #[error(
        "{given}: repro-check sets {flag} on each build itself; use `repro-check {instead}` instead"
    )]
    OwnFlag {
        /// The argument as given.
        given: String,
        /// The flag it is (one of [`OWN_FLAGS`]).
        flag: &'static str,
        /// The check's own option to use instead.
        instead: &'static str,
    },
    /// `--jobs 0`.
    #[error("--jobs 0: give at least 1")]
    ZeroJobs,
    /// A file or directory operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A directory is not as the check needs it.
    #[error("{}: {problem}", path.display())]
    Setup {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// `--control DIR` is not what a build wrote.
    #[error(
        "--control {}: no BUILD-RECORD there; give the directory a build wrote (its .debs and BUILD-RECORD)",
        path.display()
    )]
    NoControlRecord {
        /// The directory.
        path: PathBuf,
    },
    /// The two output directories could not be compared.
    #[error("comparing the outputs: {0}")]
    Compare(#[from] debdiff::Error),
    /// A setup program (useradd, chown, disorderfs) failed.
    #[error("`{command}` failed: {problem}")]
    Program {
        /// The command line.
        command: String,
        /// Exit status and stderr.
        problem: String,
    },
}

impl ReproError {
    fn io(path: &Path, source: std::io::Error) -> ReproError {
        ReproError::Io {
            path: path.to_owned(),
            source,
        }
    }
}
