//! Errors: each names the input (file or origin) and the problem.

use std::path::PathBuf;

/// Everything this crate can refuse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A kernel command line we will not parse.
    #[error("{origin}: bad kernel command line: {problem}")]
    Cmdline {
        /// Where the text came from.
        origin: String,
        /// What is wrong.
        problem: String,
    },
    /// A sysctl listing line we will not parse.
    #[error("{origin}:{line}: bad sysctl line: {problem}")]
    Sysctl {
        /// Where the text came from.
        origin: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A policy file that does not parse or names unknown rules/groups.
    #[error("{origin}: bad hardening policy: {problem}")]
    Policy {
        /// Where the text came from.
        origin: String,
        /// What is wrong.
        problem: String,
    },
    /// A Kconfig file we could not read or understand.
    #[error("{path}:{line}: Kconfig: {problem}")]
    Kconfig {
        /// The Kconfig file.
        path: PathBuf,
        /// 1-based line number (0: the file as a whole).
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A `.config` that the kbuild-env parser refused.
    #[error(transparent)]
    Config(#[from] kbuild_env::ConfigError),
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `make` in a kernel tree failed.
    #[error("make {target} in {tree} failed ({status}): {stderr}")]
    Make {
        /// The make target.
        target: String,
        /// The kernel tree.
        tree: PathBuf,
        /// Exit status.
        status: String,
        /// The end of its stderr.
        stderr: String,
    },
    /// The toolchain facts could not be worked out from a config.
    #[error("{origin}: cannot tell the {what} from the config")]
    Toolchain {
        /// The config's origin.
        origin: String,
        /// Which fact is missing (arch, compiler).
        what: &'static str,
    },
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, Error>;
