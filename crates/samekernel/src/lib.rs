//! The samekernel pipeline as a library (being filled in: see docs/ARCHITECTURE.md).

pub mod install;
pub mod verify;
