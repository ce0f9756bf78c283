//! `srcpin`: pinned, signature-checked kernel sources with a content-addressed cache and a
//! hostile-input-safe unpacker.
//!
//! A samekernel testimony says "these sources produced these bytes". That is only worth
//! something if the sources are named exactly and checked before anything parses them.
//! This crate turns a small TOML **pin** ([`Manifest`]) into a verified source tree:
//!
//! 1. **fetch** every artifact (source tarball or Debian package, keyrings, signatures,
//!    patches) from its mirrors, in order, into a content-addressed [`Cache`];
//! 2. **verify** size and SHA-256 *before* any decompressor or tar reader sees a byte, then
//!    OpenPGP signatures (over the file, or over the decompressed stream as kernel.org signs
//!    its `.tar.sign`) against pinned signer fingerprints and a minimum count;
//! 3. **unpack** safely into a fresh temporary directory, **patch**, normalise mtimes to the
//!    pin's SOURCE_DATE_EPOCH, and rename the finished tree into place.
//!
//! The library never prints and never exits; progress is reported through
//! [`FetchProgress`] and failures through the typed [`Error`], whose one-line rendering names
//! the file or URL and the problem.
//!
//! # The manifest
//!
//! The built-in default ([`Manifest::builtin_default`], the file `default-manifest.toml`)
//! pins Debian 12's `linux-source-6.12`:
//!
//! ```toml
//! schema = 1
//! source-date-epoch = 1794660961        # the build's SOURCE_DATE_EPOCH
//!
//! [source]
//! kind = "debian-package"               # fetched with `apt-get download`, or from `urls`
//! package = "linux-source-6.12"
//! version = "6.12.117-1~deb12u1"
//! top-dir = "linux-source-6.12"         # the tarball's single top directory
//!
//! [source.deb]                          # the .deb as apt serves it
//! size = 153476148
//! sha256 = "e849faf31ca3555757f3a8877cb01af92122f744f75d1f3102734651c4e14703"
//!
//! [source.member]                       # the tarball inside its data.tar.xz
//! path = "/usr/src/linux-source-6.12.tar.xz"
//! size = 151931384
//! sha256 = "585a4a074597aefa2b1a68ada83a3184ba351c127544dea80618bbcceaa3961f"
//! ```
//!
//! A kernel.org tarball with its detached signature over the *uncompressed* tar, and a patch:
//!
//! ```toml
//! schema = 1
//! source-date-epoch = 1733000000
//!
//! [source]
//! kind = "tarball"
//! file-name = "linux-6.12.1.tar.xz"
//! urls = ["https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.12.1.tar.xz",
//!         "file:mirror/linux-6.12.1.tar.xz"]      # relative to the manifest's directory
//! size = 147000000
//! sha256 = "…"
//! top-dir = "linux-6.12.1"
//! uncompressed = { size = 1480000000, sha256 = "…" }   # optional
//!
//! [source.signature]
//! urls = ["https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.12.1.tar.sign"]
//! signed-over = "uncompressed"          # or "file"
//! signers = ["647F28654894E3BD457199BE38DBBDC86092693E"]   # primary fingerprints
//! min-signers = 1                       # distinct pinned signers needed
//! keyring = { urls = ["file:keys/kernel.pgp"], size = 4321, sha256 = "…" }
//!
//! [[patches]]                           # applied in order, `patch -p1` semantics
//! name = "0001-fix.patch"
//! urls = ["file:patches/0001-fix.patch"]
//! size = 1234
//! sha256 = "…"
//! ```
//!
//! # Examples
//!
//! Fetch and verify the default pin, then unpack it (this downloads ~150 MB with
//! `apt-get download`, so it is not run as a doctest):
//!
//! ```no_run
//! use srcpin::{Cache, FetchOptions, Fetcher, Manifest, NoProgress, UnpackLimits};
//!
//! let manifest = Manifest::builtin_default();
//! let cache = Cache::new(Cache::default_root().expect("HOME or SAMEKERNEL_CACHE is set"));
//! let fetcher = Fetcher::new(cache, FetchOptions::default());
//! let fetched = srcpin::fetch_sources(&manifest, &fetcher, &mut NoProgress)?;
//! println!("verified tarball: {}", fetched.tarball.display());
//! srcpin::prepare_source(&fetched, "linux".as_ref(), &UnpackLimits::default(), &mut NoProgress)?;
//! # Ok::<(), srcpin::Error>(())
//! ```
//!
//! Progress is any `FnMut(&FetchEvent)`:
//!
//! ```
//! use srcpin::FetchEvent;
//! let mut seen = 0u64;
//! let mut progress = |e: &FetchEvent<'_>| {
//!     if let FetchEvent::Progress { so_far, .. } = e {
//!         seen = *so_far;
//!     }
//! };
//! # let _ = &mut progress;
//! ```
//!
//! Parse, inspect and write a pin:
//!
//! ```
//! let m = srcpin::Manifest::builtin_default();
//! assert_eq!(m.top_dir(), "linux-source-6.12");
//! let text = m.to_toml_string();
//! assert_eq!(srcpin::Manifest::from_toml_str(&text, "example")?, m);
//! # Ok::<(), srcpin::Error>(())
//! ```
//!
//! # Security policy and invariants
//!
//! * **Verify before parse.** A download goes to a temporary file in the cache and is
//!   refused as soon as it exceeds the pinned size (`Content-Length` is only used to refuse
//!   early, never trusted). Size and SHA-256 are compared before the file is renamed into the
//!   cache; only cache blobs are ever decompressed or parsed. A `.deb` is verified before its
//!   `ar`/`data.tar` is read, and the extracted member is verified again before use.
//! * **Cache.** `$SAMEKERNEL_CACHE`, else `$XDG_CACHE_HOME/samekernel`, else
//!   `~/.cache/samekernel`; blobs live at `blobs/sha256/<hex>`, are written via temp file,
//!   fsync and rename (then the directory is fsynced), made read-only, and re-hashed every
//!   time they are used. A corrupt blob is removed, reported
//!   ([`FetchEvent::CacheCorrupt`]) and refetched, never used.
//! * **Secrets.** URLs are shown through [`MirrorUrl`], whose `Display` replaces
//!   `user:password@` with `***@`: no error or progress event carries a mirror password.
//! * **Network.** Blocking HTTP with rustls ([`ureq`]), timeouts, an idle timeout on every
//!   body read ([`FetchOptions::idle_timeout`]: a server trickling a byte a minute fails
//!   the transfer) and a minimum speed per idle window
//!   ([`FetchOptions::min_bytes_per_idle_window`]: a byte every few seconds fails too), at most [`FetchOptions::max_redirects`] http(s) redirects (a loop or a
//!   redirect to `file://` is an error that says so), `file:` URLs opened non-blocking and
//!   accepted only as regular files (a FIFO never blocks a fetch), no transparent
//!   decompression, resume with `Range` after a broken transfer (restart when the server
//!   ignores it), mirrors tried in order.
//! * **OpenPGP** ([`openpgp`]): Sequoia with the `StandardPolicy`; only pinned primary
//!   fingerprints count, each at most once; the threshold is enforced inside the verifier;
//!   expired and revoked keys are refused, and copies of one certificate in the keyring
//!   are merged first (a stale copy cannot hide a revocation). This crate does not pick a crypto backend — the
//!   binary does (`sequoia-openpgp/crypto-nettle`).
//! * **Unpacking** ([`unpack`], through the `safe_extract` crate shared with detdeb, whose
//!   bounded tar reader also reads `.deb` members): regular files, directories, in-tree
//!   symlinks and in-tree hard links only; no `..`, absolute or non-UTF-8 paths, no duplicates, nothing outside the
//!   single top directory, nothing written below a symlink; fixed modes 0644/0755; mtimes set
//!   to SOURCE_DATE_EPOCH; entry-count, byte and compression-ratio limits ([`UnpackLimits`]). The tree is built
//!   in a fresh temporary directory beside the destination and renamed into place, so the
//!   destination is either absent or complete.
//! * **Patches** ([`patch`]): exact context (offsets allowed, no fuzz), targets stay inside the
//!   tree and never go through symlinks; errors name the patch, file and hunk.
//! * **Atomic writes everywhere** ([`write_atomically`]).
//!
//! # Building
//!
//! Like every library on top of Sequoia, `srcpin` does not choose a crypto backend: the
//! final binary does (`kernel-deb` enables `sequoia-openpgp/crypto-nettle`, the backend
//! Debian's `sq`/`sqv` use). `cargo test -p srcpin` gets Nettle through a dev-dependency; a
//! standalone `cargo build -p srcpin` needs `--features crypto-nettle`. The tests need
//! `sqv` and `gpgv` (cross-checks) and, with `--include-ignored` (the `network` tests), apt.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cache;
pub mod deb;
mod digest;
mod error;
pub mod fetch;
pub mod identity;
pub mod manifest;
pub mod openpgp;
pub mod patch;
pub mod pin;
mod readahead;
mod source;
pub mod unpack;
pub mod url;

pub use cache::{CACHE_ENV, Cache, Lookup, write_atomically};
pub use digest::{ParseDigestError, Sha256Digest};
pub use error::{Error, Result};
pub use fetch::{
    AptGet, DebDownloader, FetchEvent, FetchOptions, FetchProgress, Fetcher, NoProgress,
    verify_file,
};
pub use manifest::{
    Compression, DebMember, DebianSource, FileDigest, Fingerprint, KeyringPin, Manifest, PatchPin,
    SignaturePin, SignedOver, Source, TarballSource,
};
pub use source::{
    FetchedPatch, FetchedSources, check_output_free, decompressed, fetch_sources, prepare_source,
};
pub use unpack::UnpackLimits;
pub use url::MirrorUrl;
