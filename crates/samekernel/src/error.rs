//! [`BuildError`]: any stage's error, as [`crate::build`] returns it.

use std::path::PathBuf;

use crate::TargetError;
use crate::gate::GateError;
use crate::record::RecordError;
use crate::stage::compile::CompileError;
use crate::stage::config::ConfigError;
use crate::stage::package::PackageError;
use crate::stage::pin::PinError;
use crate::stage::publish::PublishError;

/// Why a build stopped. Each variant is one stage's typed error; every message names
/// the file or item concerned.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The target cannot be built.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The toolchain could not be fingerprinted (a missing tool names its package).
    #[error(transparent)]
    Toolchain(#[from] kbuild_env::ToolchainError),
    /// Fetching, verifying or unpacking the pin failed.
    #[error(transparent)]
    Pin(#[from] PinError),
    /// The sanitized environment cannot be made for these directories.
    #[error(transparent)]
    Env(#[from] kbuild_env::EnvError),
    /// Resolving the `.config` failed, or it cannot serve the requested packages.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A config gate refused the config.
    #[error(transparent)]
    Gate(#[from] GateError),
    /// Compiling failed.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// Staging or packing a package failed.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// The build record could not be made or written.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The output is in the way, or could not be published.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The pinned module-signing certificate cannot be used (two-stage signing).
    #[error(transparent)]
    ModuleCert(#[from] crate::signing::CertError),
    /// The request cannot become a plan.
    #[error(transparent)]
    Request(#[from] crate::RequestError),
    /// A work directory could not be created.
    #[error("{}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
