//! # safe-extract — never write outside, never through a link
//!
//! The one safe-extraction core of samekernel. `detdeb` extracts `.deb` data trees with
//! it and `srcpin` unpacks pinned source tarballs with it; neither depends on the other.
//! It holds everything those two used to write twice:
//!
//! * [`tar::TarReader`]: a strict tar reader whose memory and output are bounded
//!   ([`Limits`]): GNU long names and PAX records are capped, entries counted, every
//!   declared size checked against a per-file limit and an uncompressed budget of
//!   `min(max_total, max_ratio × compressed input + allowance)` before any data is read;
//! * [`path`]: entry paths as normalized components — no `..`, no absolute paths, no NUL;
//! * [`extract::extract`]: the extractor — the map of what it created, symlink resolution
//!   through the archive's own links (chains, loops), the [`AbsoluteSymlinks`] choice a
//!   package needs, devices refused, modes fixed or taken from the archive;
//! * [`atomic`]: nothing half-written (temp file or directory beside the destination,
//!   fsync, rename);
//! * [`quote`]: untrusted names escaped for a terminal (like `dpkg-deb -c`) and cut to a
//!   sane length in messages;
//! * typed refusals ([`Refusal`]) that tests match by variant.
//!
//! ## Extracting a source tarball
//!
//! ```
//! use safe_extract::{Limits, Policy, TarReader, extract};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tar = safe_extract::doc_example_tar();
//! let dir = tempfile::tempdir()?;
//! let dest = dir.path().join("linux");
//! let mut reader = TarReader::new(&tar[..], "linux-6.12.tar", Limits::default())
//!     .with_input_size(tar.len() as u64); // bomb limit: ratio to the compressed size
//! let summary = extract(&mut reader, &dest, &Policy::source("linux-6.12"))?;
//! assert_eq!(summary.files, 1);
//! assert_eq!(std::fs::read(dest.join("Makefile"))?, b"all:\n");
//! # Ok(()) }
//! ```
//!
//! ## What a refusal looks like
//!
//! ```
//! use safe_extract::{Limits, Policy, Refusal, TarReader, extract};
//!
//! # let tar = safe_extract::doc_example_tar();
//! let dir = tempfile::tempdir().unwrap();
//! let mut reader = TarReader::new(&tar[..], "linux-6.12.tar", Limits::default());
//! // The archive's top directory is linux-6.12, not linux-6.13.
//! let err = extract(&mut reader, &dir.path().join("x"), &Policy::source("linux-6.13"))
//!     .unwrap_err();
//! assert!(matches!(err.refusal(), Some(Refusal::OutsideTopDir { .. })));
//! assert_eq!(
//!     err.to_string(),
//!     "linux-6.12.tar: entry \"linux-6.12/\" is outside the top directory \"linux-6.13\""
//! );
//! assert!(!dir.path().join("x").exists()); // nothing half-written
//! ```
//!
//! ## Escaping what a terminal would interpret
//!
//! ```
//! assert_eq!(safe_extract::quote::escape(b"ok\r\x1b[2Kevil"), "ok\\r\\033[2Kevil");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod atomic;
pub mod error;
pub mod extract;
#[cfg(feature = "hostile-suite")]
pub mod hostile;
pub mod path;
pub mod quote;
pub mod regular;
pub mod tar;

pub use error::{Error, LimitKind, PathProblem, Refusal, Result};
pub use extract::{AbsoluteSymlinks, Modes, Policy, Summary, extract};
pub use quote::{Quoted, escape};
pub use tar::{DataReader, Limits, TarEntry, TarEntryKind, TarReader};

/// A two-entry source tarball for the examples above.
#[doc(hidden)]
pub fn doc_example_tar() -> Vec<u8> {
    fn header(name: &str, flag: u8, size: usize) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = flag;
        h[257..265].copy_from_slice(b"ustar  \0");
        h[148..156].fill(b' ');
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }
    let mut t = header("linux-6.12/", b'5', 0);
    t.extend(header("linux-6.12/Makefile", b'0', 5));
    let mut data = b"all:\n".to_vec();
    data.resize(512, 0);
    t.extend(data);
    t.extend([0u8; 1024]);
    t
}
