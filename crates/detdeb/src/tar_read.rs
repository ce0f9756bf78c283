//! The bounded tar reader, shared with srcpin through the [`safe_extract`] crate.
//!
//! Why not the `tar` crate: it reads GNU long-name and PAX extension records into memory
//! whatever size their header claims. [`TarReader`] keeps every extension record under
//! [`ReadLimits::max_extension`], counts entries and bytes, bounds the uncompressed size
//! by the member's compressed size ([`TarReader::with_input_size`]), verifies header
//! checksums, and reports the member and byte offset of every problem.

pub use safe_extract::tar::{DataReader, TarEntry, TarEntryKind, TarReader, parse_numeric};

/// Limits applied while reading untrusted tar streams (see [`safe_extract::Limits`]).
pub type ReadLimits = safe_extract::Limits;
