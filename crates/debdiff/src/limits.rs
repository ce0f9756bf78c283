//! Bounds on everything an untrusted package can make us do.

use serde::Serialize;

/// Limits on memory and work. Exceeding one is a typed [`Error::Limit`](crate::Error)
/// for container-level streams, and a note on the file (inspection skipped) for
/// file-level analysis, so one hostile file never hides the rest of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Largest file whose contents are loaded to be inspected (bytes).
    pub max_file_bytes: u64,
    /// Largest output of one nested decompression (`.ko.xz`, a vmlinuz payload).
    pub max_decompressed: u64,
    /// Largest total size of the differing files spooled while walking (bytes).
    pub max_spool_bytes: u64,
    /// Most DWARF units read from one ELF file.
    pub max_dwarf_units: usize,
    /// Most line-table file entries read from one ELF file.
    pub max_dwarf_files: usize,
    /// Most strings extracted from the differing sections of one file.
    pub max_strings: usize,
    /// Most lines of unified diff kept per text file.
    pub max_diff_lines: usize,
    /// Most evidence items kept per cause.
    pub max_evidence: usize,
    /// Deepest nesting of compressed payloads (`.gz` in `.xz` …).
    pub max_nesting: u32,
}

impl Default for Limits {
    /// 512 MiB per inspected file and per decompression, 4 GiB of spool,
    /// 200 000 DWARF units, 2 000 000 line-table files, 1 000 000 strings,
    /// 400 diff lines, 8 evidence items, nesting 3.
    fn default() -> Self {
        Limits {
            max_file_bytes: 512 << 20,
            max_decompressed: 512 << 20,
            max_spool_bytes: 4 << 30,
            max_dwarf_units: 200_000,
            max_dwarf_files: 2_000_000,
            max_strings: 1_000_000,
            max_diff_lines: 400,
            max_evidence: 8,
            max_nesting: 3,
        }
    }
}

impl Limits {
    /// The defaults with the largest inspected file and nested decompression set to
    /// `mib` MiB (`kernel-deb diff --max-file-mib`).
    pub fn with_max_file_mib(mib: u64) -> Limits {
        let bytes = mib.saturating_mul(1 << 20);
        Limits {
            max_file_bytes: bytes,
            max_decompressed: bytes,
            ..Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Limits;

    #[test]
    fn max_file_mib_sets_both_file_limits_and_keeps_the_rest() {
        let l = Limits::with_max_file_mib(3);
        assert_eq!((l.max_file_bytes, l.max_decompressed), (3 << 20, 3 << 20));
        assert_eq!(l.max_spool_bytes, Limits::default().max_spool_bytes);
        assert_eq!(Limits::with_max_file_mib(512), Limits::default());
        assert_eq!(Limits::with_max_file_mib(u64::MAX).max_file_bytes, u64::MAX);
    }
}
