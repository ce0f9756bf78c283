//! # detdeb — deterministic `.deb` writer and hostile-input-safe reader
//!
//! `detdeb` makes a Debian binary package a pure function of
//! *(entries, file contents, SOURCE_DATE_EPOCH, compressor and level)*. By default
//! its bytes are **identical to `SOURCE_DATE_EPOCH=N dpkg-deb --root-owner-group
//! -Z<c> --build DIR`** of dpkg 1.21 (Debian 12), for gzip, xz, zstd and none, so a
//! Debian user can cross-check a package with the tool they already trust. Nothing
//! is read from the clock, the user database, the umask or the CPU count.
//!
//! It also reads any `.deb` — Debian's own included — as untrusted input: bounded
//! memory, no panics, typed errors that name the member and byte offset, and a safe
//! extractor that refuses path traversal, escaping links and special files.
//!
//! ## Writing a package from a staging directory
//!
//! The directory is laid out as for `dpkg-deb --build`: `DEBIAN/` holds `control`
//! and the maintainer scripts, everything else is the package's tree.
//!
//! ```no_run
//! use detdeb::{Compressor, CompressionParams, DebBuilder};
//! use std::path::Path;
//!
//! # fn main() -> Result<(), detdeb::Error> {
//! let sde = 1_700_000_000; // from the source pin, never from the clock
//! let summary = DebBuilder::from_staging_dir(Path::new("pkgroot"), sde, false)?
//!     .compression(CompressionParams::new(Compressor::Xz))
//!     .write_to_path(Path::new("hello_1.0_amd64.deb"))?; // temp file, fsync, rename
//! println!("{} bytes", summary.size);
//! # Ok(()) }
//! ```
//!
//! ## Writing a package from memory
//!
//! Paths are relative; missing parent directories are added (mode 0755) and the
//! entries are put in dpkg-deb's order. Entries made without an mtime get
//! SOURCE_DATE_EPOCH.
//!
//! ```
//! use detdeb::{CompressionParams, Compressor, DebBuilder, DebReader, Entry};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let control = vec![Entry::file(
//!     "control",
//!     0o644,
//!     &b"Package: hello\nVersion: 1.0\nArchitecture: all\nMaintainer: A <a@example.org>\nDescription: hi\n"[..],
//! )];
//! let data = vec![
//!     Entry::file("usr/share/hello/greeting", 0o644, &b"hello\n"[..]),
//!     Entry::symlink("usr/share/hello/link", "greeting"),
//! ];
//! let dir = tempfile::tempdir()?;
//! let out = dir.path().join("hello_1.0_all.deb");
//! DebBuilder::from_entries(control, data, 1_700_000_000)?
//!     .compression(CompressionParams::new(Compressor::Zstd))
//!     .with_md5sums()?
//!     .write_to_path(&out)?;
//!
//! // Read it back.
//! let deb = DebReader::open(&out)?;
//! assert_eq!(deb.control()?.get("Package"), Some("hello"));
//! let names: Vec<String> = deb.list_data()?.iter().map(|e| e.name_lossy()).collect();
//! assert_eq!(names, ["./", "./usr/", "./usr/share/", "./usr/share/hello/",
//!                    "./usr/share/hello/greeting", "./usr/share/hello/link"]);
//! # Ok(()) }
//! ```
//!
//! ## Reading and extracting an untrusted package
//!
//! ```no_run
//! use detdeb::{DebReader, ExtractOptions};
//! use std::path::Path;
//!
//! # fn main() -> Result<(), detdeb::Error> {
//! let deb = DebReader::open(Path::new("linux-image.deb"))?;
//! for m in deb.members() {
//!     println!("{} at {} ({} bytes)", m.name, m.header_offset, m.size);
//! }
//! let mut tar = deb.data_tar()?;
//! while let Some(entry) = tar.next_entry()? {
//!     // stream the file out without holding it in memory
//!     std::io::copy(&mut tar.data_reader(), &mut std::io::sink())
//!         .map_err(|e| detdeb::Error::Compression { member: entry.name_lossy(), reason: e.to_string() })?;
//! }
//! // Into a directory that must not exist yet; renamed into place when complete.
//! deb.extract_data(Path::new("out/tree"), &ExtractOptions::default())?;
//! # Ok(()) }
//! ```
//!
//! ## What dpkg-deb 1.21 really writes (and we reproduce)
//!
//! Read from dpkg's `src/deb/build.c`, `lib/dpkg/ar.c`, `lib/dpkg/treewalk.c` and
//! `lib/dpkg/compress.c`, and confirmed byte for byte by this crate's tests.
//!
//! * **Container** ([`builder`]): ar magic, `debian-binary`, `control.tar<ext>`,
//!   `data.tar<ext>`; headers `%-16s%-12d%-6d%-6d%-8o%-10d` with the name unpadded
//!   by `/`, mtime SOURCE_DATE_EPOCH, uid/gid 0, mode `100644`. Control and data
//!   use the same compressor (`--uniform-compression` is the default).
//! * **Order** ([`tree`]): depth first, each directory's entries sorted by `strcmp`
//!   of the *name* (so `a/b` precedes `a-c`); in the data member every symlink is
//!   moved after all other entries; top-level names *starting with* `DEBIAN` are
//!   left out of the data member. Every name is prefixed by `./`; the root is `./`.
//! * **Tar** ([`tar_write`]): GNU tar 1.34 `--format=gnu` headers, root/root
//!   owners (`--owner root:0 --group root:0`), mtimes clamped down to
//!   SOURCE_DATE_EPOCH, `././@LongLink` records for names over 100 bytes, hard
//!   links as type `1` to the first path in archive order, two zero blocks, padded
//!   to a 10240-byte record. The control member uses `--mode u+rw,go=rX`.
//! * **Compressors** ([`compress`]): zlib `w9` gzip with OS byte 3; liblzma's
//!   multi-threaded xz encoder, preset 6, CRC64, default block size (so the output
//!   does not depend on the CPU count); zstd level 3 with a checksum. dpkg-deb uses
//!   single-threaded zstd on a one-CPU machine and multi-threaded otherwise, which
//!   emit different frames; we always use the multi-threaded mode, so we match
//!   dpkg-deb on any multi-core machine, whatever our own CPU count.
//!
//! ## Invariants
//!
//! * The output depends only on the entries (paths, kinds, modes, link targets,
//!   contents), SOURCE_DATE_EPOCH and the compression parameters — not on the
//!   owner, umask, xattrs, ACLs, atime/ctime, inode numbers (beyond which names
//!   share one), directory read order, locale, time zone, clock or thread count.
//! * Packing streams: the data member goes straight to the output file and its ar
//!   size is patched in afterwards. Only the control member is held in memory.
//! * Output is atomic ([`DebBuilder::write_to_path`]): temporary file in the target
//!   directory, fsync, rename.
//! * Reading never trusts a size: ar members are checked against the file length,
//!   tar extension records and entry counts are bounded ([`ReadLimits`]), a member's
//!   uncompressed output is bounded by `max_ratio ×` its compressed size (a 132 KB
//!   package cannot write 4 GiB), decoders have memory limits, listing streams
//!   ([`DebReader::data_entries`]), and the extractor never writes through a link.
//! * Tar reading and extraction are the [`safe_extract`] crate, shared with srcpin;
//!   their errors are [`Error::Archive`], whose [`safe_extract::Refusal`] says which
//!   rule an entry broke:
//!
//! ```
//! use detdeb::safe_extract::Refusal;
//! # fn check(err: detdeb::Error) {
//! if let detdeb::Error::Archive(e) = &err
//!     && let Some(Refusal::Traversal { entry, .. }) = e.refusal()
//! {
//!     eprintln!("{entry} tries to escape the tree");
//! }
//! # }
//! ```
//!
//! ## What is deliberately not supported
//!
//! Non-root ownership in the data tree (only `--root-owner-group` output is
//! deterministic across builders), the old 0.939 format, and `.bz2`/`.lzma`
//! members (read as an "unsupported compression" error).

#![warn(missing_docs)]

pub mod builder;
pub mod compress;
pub mod control;
pub mod display;
pub mod error;
pub mod extract;
pub mod reader;
pub mod tar_read;
pub mod tar_write;
pub mod tree;

pub use builder::{DebBuilder, DebSummary};
pub use compress::{CompressionParams, Compressor};
pub use control::{Control, Md5Sums, installed_size_kib};
pub use error::{Error, Result};
pub use extract::{ExtractOptions, ExtractSummary};
pub use reader::{ArMember, ControlFile, DataEntries, DebReader};
pub use safe_extract;
pub use tar_read::{ReadLimits, TarEntry, TarEntryKind, TarReader};
pub use tree::{Entry, EntryKind, FileSource};
