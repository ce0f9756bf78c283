//! The pipeline's stages, each a function with typed inputs, outputs and errors.
//! [`crate::build`] runs them in order; other drivers (a reproducibility check, a
//! diff) can run them one by one.

pub mod compile;
pub mod config;
pub mod package;
pub mod pin;
pub mod publish;
pub mod requested;
