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

/// Bad input (a subcommand's exit code 2): `main` prints the message as it is.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);
