//! # debdiff — is it reproducible, and if not, why?
//!
//! `debdiff` compares two kernel packages and says, in kernel terms, why they
//! differ: *"2 files differ; cause: build path in DWARF (build directory
//! "/tmp/a" vs "/tmp/b") of usr/src/linux-headers-6.12/tools/objtool/objtool"*.
//! It is the library behind `kernel-deb diff`, and what `kernel-deb verify` and
//! `repro-check` use when a witness reports another checksum.
//!
//! It reads two `.deb`s, two directories of `.deb`s, or two build records, and
//! is made to be fast where diffoscope is slow and bounded where the input is hostile:
//!
//! * **Hashes first.** Equal files end the walk at once; equal ar members are
//!   skipped; the data trees are read once (both sides in parallel) for metadata
//!   and sha256 of every entry, and a second time only for the files that differ.
//! * **Kernel-aware.** Nested `.ko.xz`/`.ko.zst`/`.gz` are decompressed, a bzImage's
//!   payload is found through its setup header and decompressed to the vmlinux,
//!   module signature appendices are split off, the IKCONFIG `.config` is
//!   extracted, and ELF files are compared section by section.
//! * **Bounded.** [`Limits`] caps every decompression, the DWARF walk, the number of
//!   strings and the spool; exceeding one is a typed [`Error::Limit`] or a note on
//!   the file, never a crash or a hang.
//!
//! ## Comparing two packages
//!
//! ```
//! use debdiff::{diff_debs, CauseKind, Limits};
//! use detdeb::{DebBuilder, Entry};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let control = || vec![Entry::file("control", 0o644,
//!     &b"Package: demo\nVersion: 1\nArchitecture: all\nMaintainer: A <a@example.org>\nDescription: d\n"[..])];
//! let build = |name: &str, config: &'static [u8]| -> Result<std::path::PathBuf, detdeb::Error> {
//!     let p = dir.path().join(name);
//!     DebBuilder::from_entries(control(), vec![Entry::file("boot/config-6.12", 0o644, config)], 1_700_000_000)?
//!         .write_to_path(&p)?;
//!     Ok(p)
//! };
//! let a = build("a.deb", b"CONFIG_A=y\nCONFIG_CC_VERSION_TEXT=\"gcc 12\"\n")?;
//! let b = build("b.deb", b"CONFIG_A=y\nCONFIG_CC_VERSION_TEXT=\"gcc 13\"\n")?;
//!
//! let report = diff_debs(&a, &b, &Limits::default())?;
//! assert!(!report.is_identical());
//! assert_eq!(report.files_differing(), 1);
//! let item = &report.items[0];
//! assert_eq!(item.path, "boot/config-6.12");
//! assert_eq!(item.primary().unwrap().kind, CauseKind::Text);
//! assert!(item.text_diff.as_deref().unwrap().contains("+CONFIG_CC_VERSION_TEXT=\"gcc 13\""));
//! println!("{}", report.render()); // summary line first, then the details
//! # Ok(()) }
//! ```
//!
//! ## Any input: packages, directories, build records
//!
//! [`diff_paths`] looks at what it is given: two `.deb` files, two directories
//! (their `.deb`s paired by `Package:`; a directory holding a `BUILD-RECORD` is
//! read as a record), or two build record files. With records, the packages and
//! files whose sha256 differ are listed, and where both `.deb`s lie beside their
//! records they are compared in full.
//!
//! ```no_run
//! # fn main() -> Result<(), debdiff::Error> {
//! let report = debdiff::diff_paths("mine/BUILD-RECORD".as_ref(), "witness/BUILD-RECORD".as_ref(),
//!                                  &debdiff::Limits::default())?;
//! for (kind, item, finding) in report.causes() {
//!     println!("{}: {} ({})", kind.phrase(), item.path, finding.detail);
//! }
//! println!("{}", serde_json::to_string_pretty(&report).unwrap()); // what --json prints
//! # Ok(()) }
//! ```
//!
//! ## The causes
//!
//! Each differing item carries [`Finding`]s — a [`CauseKind`], where it was seen,
//! and [`Evidence`] (the value on each side). Ranked from the most telling:
//!
//! | cause | how it is found |
//! |---|---|
//! | [`CauseKind::BuildInput`] | build records: source pin, SOURCE_DATE_EPOCH, `.config` or toolchain lines differ |
//! | [`CauseKind::BuildPath`] | DWARF `DW_AT_comp_dir`, `DW_AT_name`, line-table directories; path strings in other sections or text that differ by their leading directories |
//! | [`CauseKind::Timestamp`] | one-sided strings with `HH:MM:SS`, `Nov 30 2026` (`__DATE__`) or ISO dates |
//! | [`CauseKind::UnameBanner`] | `Linux version …`, `#1 SMP … <time>` (`UTS_VERSION`) |
//! | [`CauseKind::CompilerBanner`] | `.comment` differs (Mempo's bug2: a GCC banner in `fixdep`) |
//! | [`CauseKind::CompilerFlags`] | `DW_AT_producer`, `.GCC.command.line` (`-frecord-gcc-switches`) |
//! | [`CauseKind::EmbeddedConfig`] | the gzip between `IKCFG_ST` and `IKCFG_ED` decompresses to other text (diffed) |
//! | [`CauseKind::Vermagic`] | `vermagic=` in `.modinfo` |
//! | [`CauseKind::ModuleSignature`] | `~Module signature appended~\n` at the end; bodies equal, or signed on one side only |
//! | [`CauseKind::Btf`] | `.BTF`/`.BTF.ext` differ |
//! | [`CauseKind::Code`] | other ELF sections differ and nothing above explains them |
//! | [`CauseKind::Text`], [`CauseKind::Bytes`] | non-ELF content: a unified diff, or the first differing offset |
//! | [`CauseKind::Presence`], [`CauseKind::Metadata`], [`CauseKind::ControlField`], [`CauseKind::Container`] | the package walk: one-sided entries, tar mode/owner/mtime/type/link target, control fields, ar members |
//! | [`CauseKind::Compression`] | compressed bytes differ, decompressed contents are equal |
//! | [`CauseKind::BuildId`] | `.note.gnu.build-id`: ld hashes the whole output, so a new id follows from any other change; *only* the id differing means it was not made from the content |
//! | [`CauseKind::SectionLayout`] | equal sections at other offsets/addresses: a consequence of a size change |
//!
//! ## Errors and limits
//!
//! An unreadable or malformed *container* (a truncated `.deb`, a tar bomb, a bad
//! record) is an [`Error`] naming the file and the problem. A *file inside* that
//! cannot be inspected (an ELF that does not parse, a `.ko.xz` over
//! [`Limits::max_decompressed`], DWARF over [`Limits::max_dwarf_units`]) gets a
//! note on its item and is still reported as differing, so one hostile file never
//! hides the rest.

#![warn(missing_docs)]

pub mod content;
pub mod deb;
pub mod dwarf;
pub mod elf;
pub mod error;
pub mod kernel;
pub mod limits;
pub mod record;
pub mod report;
pub mod strings;
pub mod text;

use std::path::{Path, PathBuf};

pub use deb::{diff_debs, diff_readers};
pub use error::{Error, Result};
pub use limits::Limits;
pub use record::{diff_record_files, diff_records, read_record};
pub use report::{Area, CauseKind, DiffReport, Evidence, Finding, ItemDiff, SectionDiff};

/// The name `kernel-deb build` gives the record beside its `.deb`s.
pub const RECORD_FILE_NAME: &str = "BUILD-RECORD";

/// Explains how two versions of one file differ (no package around them): the
/// path decides nested decompression (`.xz`, `.zst`, `.gz`).
///
/// ```
/// let a = b"CONFIG_LOCALVERSION=\"-a\"\n";
/// let b = b"CONFIG_LOCALVERSION=\"-b\"\n";
/// let item = debdiff::diff_file_contents("boot/config", a, b, &debdiff::Limits::default());
/// assert_eq!(item.primary().unwrap().kind, debdiff::CauseKind::Text);
/// ```
pub fn diff_file_contents(path: &str, a: &[u8], b: &[u8], limits: &Limits) -> ItemDiff {
    let mut item = ItemDiff::new(Area::Data, path);
    if a != b {
        content::explain(&mut item, path, a, b, limits);
    }
    item
}

/// Compares two inputs of the same kind: `.deb` files, directories of `.deb`s, or
/// build records (files, or directories holding [`RECORD_FILE_NAME`]).
pub fn diff_paths(a: &Path, b: &Path, limits: &Limits) -> Result<DiffReport> {
    match (input_kind(a)?, input_kind(b)?) {
        (Input::Deb, Input::Deb) => diff_debs(a, b, limits),
        (Input::Record(ra), Input::Record(rb)) => diff_record_files(&ra, &rb, limits),
        (Input::Dir, Input::Dir) => diff_dirs(a, b, limits),
        (x, y) => Err(Error::BadInput(format!(
            "{} is {} but {} is {}: compare two .debs, two directories or two build records",
            a.display(),
            x.describe(),
            b.display(),
            y.describe()
        ))),
    }
}

#[derive(Debug)]
enum Input {
    Deb,
    Record(PathBuf),
    Dir,
}

impl Input {
    fn describe(&self) -> &'static str {
        match self {
            Input::Deb => "a .deb",
            Input::Record(_) => "a build record",
            Input::Dir => "a directory of .debs",
        }
    }
}

fn input_kind(p: &Path) -> Result<Input> {
    let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
    if meta.is_dir() {
        let rec = p.join(RECORD_FILE_NAME);
        return Ok(if rec.is_file() {
            Input::Record(rec)
        } else {
            Input::Dir
        });
    }
    let mut head = [0u8; 25];
    let n = std::io::Read::read(
        &mut safe_extract::regular::open_regular(p).map_err(|e| Error::io(p, e))?,
        &mut head,
    )
    .map_err(|e| Error::io(p, e))?;
    if head[..n].starts_with(b"!<arch>\n") {
        Ok(Input::Deb)
    } else if head[..n].starts_with(b"samekernel-build-record=") {
        Ok(Input::Record(p.to_owned()))
    } else {
        Err(Error::BadInput(format!(
            "{}: neither a .deb nor a build record",
            p.display()
        )))
    }
}

/// Compares two directories of `.deb`s, pairing them by `Package:`.
pub fn diff_dirs(a: &Path, b: &Path, limits: &Limits) -> Result<DiffReport> {
    let (pa, pb) = (debs_by_package(a)?, debs_by_package(b)?);
    let mut items = Vec::new();
    for (pkg, fa) in &pa {
        match pb.get(pkg) {
            Some(fb) => items.extend(diff_debs(fa, fb, limits)?.items),
            None => items.push(one_sided_package(pkg, fa, "only in A")),
        }
    }
    for (pkg, fb) in pb.iter().filter(|(p, _)| !pa.contains_key(*p)) {
        items.push(one_sided_package(pkg, fb, "only in B"));
    }
    Ok(DiffReport {
        a: a.display().to_string(),
        b: b.display().to_string(),
        items,
    })
}

fn one_sided_package(pkg: &str, file: &Path, side: &str) -> ItemDiff {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut item = ItemDiff::new(Area::Container, name);
    item.package = pkg.to_owned();
    item.causes.push(Finding::new(CauseKind::Presence, side));
    item
}

fn debs_by_package(dir: &Path) -> Result<std::collections::BTreeMap<String, PathBuf>> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let p = e.map_err(|e| Error::io(dir, e))?.path();
        if p.extension().is_some_and(|x| x == "deb") {
            // A `*.deb` that is not a regular file (a FIFO, a dangling link) is an
            // error, not a file to leave out: the sides would look identical.
            let pkg = detdeb::DebReader::open(&p)?
                .control()?
                .get("Package")
                .unwrap_or_default()
                .to_owned();
            if let Some(prev) = out.insert(pkg.clone(), p.clone()) {
                return Err(Error::BadInput(format!(
                    "{}: two .debs of package {pkg}: {} and {}",
                    dir.display(),
                    prev.display(),
                    p.display()
                )));
            }
        }
    }
    Ok(out)
}
