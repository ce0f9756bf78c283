//! One module per subcommand.

pub mod build;
pub mod deb;
pub mod diff;
pub mod fetch;
pub mod harden;
pub mod inspect;
pub mod repro_check;
pub mod sign;
pub mod term;
pub mod testify;
pub mod verify;
