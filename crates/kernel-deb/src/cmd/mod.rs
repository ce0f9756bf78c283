//! One module per subcommand or family of subcommands.

pub mod build;
pub mod deb;
pub mod diff;
pub mod fetch;
pub mod harden;
pub mod repro_check;
pub mod sign;
pub mod term;
pub mod testify;
pub mod verify;

/// An outcome with its own exit code (2: bad input) and message, which `main` prints
/// as it is.
#[derive(Debug, thiserror::Error)]
#[error("{1}")]
pub struct Exit(pub u8, pub String);
