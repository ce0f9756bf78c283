//! Safe extraction of an untrusted data tree into a fresh directory, by the shared
//! [`safe_extract`] core with the package policy ([`safe_extract::Policy::package`]):
//!
//! * the destination must not exist; everything is written into a temporary directory
//!   beside it, renamed into place only when the whole stream extracted cleanly;
//! * paths must be relative, without `..`; duplicates are refused;
//! * nothing is ever written *through* a symlink or into a non-directory;
//! * symlinks: absolute targets are kept (in a package they are relative to the install
//!   root, e.g. `/lib/modules/V/build -> /usr/src/linux-headers-V`, and are never
//!   followed here); every target, resolved through the package's own links from the
//!   root, must stay inside the tree;
//! * hard links must name a regular file extracted earlier;
//! * device nodes and FIFOs are refused;
//! * setuid, setgid and sticky bits are dropped unless
//!   [`ExtractOptions::keep_special_bits`]; owners are not applied;
//! * the uncompressed size is bounded by the member's compressed size
//!   ([`ReadLimits`](crate::ReadLimits)`::max_ratio`).
//!
//! Each refusal is an [`Error::Archive`](crate::Error::Archive) holding a typed
//! [`safe_extract::Refusal`].

use std::io::Read;
use std::path::Path;

use crate::error::Result;
use crate::tar_read::TarReader;

/// Options for safe extraction.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Keep setuid/setgid/sticky bits (dropped by default).
    pub keep_special_bits: bool,
}

/// Counts of what was extracted.
pub type ExtractSummary = safe_extract::Summary;

/// Extracts `tar` into `dest` (see the module docs). `member` is kept for source
/// compatibility; messages name the archive the reader was made with.
pub fn extract_tar<R: Read>(
    tar: &mut TarReader<R>,
    _member: &str,
    dest: &Path,
    opts: &ExtractOptions,
) -> Result<ExtractSummary> {
    let mut policy = safe_extract::Policy::package();
    policy.modes = safe_extract::Modes::FromArchive {
        keep_special_bits: opts.keep_special_bits,
    };
    Ok(safe_extract::extract(tar, dest, &policy)?)
}
