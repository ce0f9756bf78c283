//! Signed build testimonies from several independent witnesses, and a policy that
//! decides when enough of them agree.
//!
//! A *witness* rebuilds a package from pinned sources and signs a *testimony*:
//! "from these sources, with this toolchain, I got files with these sha256s". A
//! user refuses a `.deb` until `k` independent witnesses testify to exactly its
//! bytes and no trusted witness testifies to different bytes. This crate is the
//! whole of that logic, with no dependency on the rest of samekernel, so any
//! distribution can use it:
//!
//! | module | concept |
//! |---|---|
//! | [`build_record`] | what one build produced: [`BuildRecord`], a canonical text |
//! | [`v1`] | the original (seed) testimony format, read and written losslessly |
//! | [`v2`] | the strict canonical testimony format for machines |
//! | [`canonical`] | the canonical text rules, sha256, fingerprints, dates |
//! | [`sign`] | clearsign or detach-sign a testimony with an OpenPGP key |
//! | [`verify`] | check signatures: who signed, and if not, exactly why not |
//! | [`policy`] | the TOML policy: witnesses, groups, threshold, minimums, dissent |
//! | [`verdict`] | from testimonies to a verdict, as data: the who-agrees matrix |
//! | [`collect`] | testimony files from directories and mirrors |
//!
//! # Example: a build record becomes a testimony
//!
//! ```
//! use testimony::build_record::*;
//! use testimony::canonical::{sha256_hex, Fingerprint};
//! use testimony::v2::{TestimonyV2, WitnessInfo};
//!
//! let record = BuildRecord {
//!     source: SourcePin {
//!         manifest_sha256: sha256_hex(b"the srcpin manifest"),
//!         tarball_name: "linux-6.12.38.tar.xz".into(),
//!         tarball_sha256: sha256_hex(b"the tarball"),
//!         source_date_epoch: 1_752_000_000,
//!     },
//!     toolchain: Toolchain {
//!         components: vec![ToolchainComponent { name: "gcc-12".into(), version: "12.2.0-14".into() }],
//!         banners: vec!["gcc (Debian 12.2.0-14) 12.2.0".into()],
//!     },
//!     kernel_config_sha256: sha256_hex(b".config"),
//!     flavour: None,
//!     hardening: None,
//!     module_cert_sha256: None,
//!     debs: vec![DebRecord {
//!         file_name: "linux-image-6.12.38_6.12.38-1_amd64.deb".into(),
//!         package: "linux-image-6.12.38".into(),
//!         version: "6.12.38-1".into(),
//!         architecture: "amd64".into(),
//!         size: 4,
//!         sha256: sha256_hex(b"deb!"),
//!         files: vec![FileHash { path: "boot/vmlinuz-6.12.38".into(), sha256: sha256_hex(b"vmlinuz") }],
//!     }],
//! };
//! let text = record.to_text();
//! assert!(text.starts_with("samekernel-build-record=1\nsource-manifest-sha256="));
//! assert_eq!(BuildRecord::parse(&text)?, record);      // one value, one text
//!
//! let witness = WitnessInfo {
//!     name: "Alice".into(),
//!     fingerprint: Fingerprint::parse("3B5E 53EA 09D1 7B45 6B50  5353 7651 4DB1 347E 0C90").unwrap(),
//!     jurisdiction: Some("Iceland".into()),
//!     computer_system: Some("Debian 12.11".into()),
//!     code_review: 4,
//!     computer_trust: 60,
//!     canary: Some("I am under no gag order.".into()),
//!     statement: vec![],
//! };
//! let t = TestimonyV2::from_build_record(&record, witness, 1_763_900_000);
//! assert_eq!(t.build_record_sha256, record.sha256());
//! assert_eq!(TestimonyV2::parse(&t.to_text())?, t);
//! // Non-canonical input is refused with the line and the reason:
//! let err = TestimonyV2::parse(&t.to_text().replace("review=4", "review=4 ")).unwrap_err();
//! assert_eq!(err.line, 6);
//! # Ok::<(), testimony::ParseError>(())
//! ```
//!
//! # Example: the seed's v1 format, kept byte for byte
//!
//! ```
//! use testimony::v1::V1Testimony;
//! let text = "sources-sign-by-fpr=21A5 9D31 7421 F02E C3C3  81F3 4623 E8F7 4595 3F23\n\
//!             my-name-or-pseudonym=John Doe\n\
//!             my-code-review=4 (see below)\n\
//!             x-some-future-key=kept\n\
//!             <cannary>... (I am in law jurisdiction: <j>Poland, dependency of EU</j>).</cannary>\n\
//!             \n\
//!             I, John Doe, can confirm ...\n";
//! let t = V1Testimony::parse(text);
//! assert_eq!(t.to_text(), text);
//! let f = t.fields()?;
//! assert_eq!(f.code_review, Some(4));
//! assert_eq!(f.jurisdiction.as_deref(), Some("Poland, dependency of EU"));
//! # Ok::<(), testimony::ParseError>(())
//! ```
//!
//! # Example: sign, verify, decide
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use testimony::{policy::Policy, sign, verdict, verify::Keyring};
//! # let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/testimony/keys/");
//! # let read = |f: &str| std::fs::read(format!("{keys}{f}")).unwrap();
//! let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_272_000);
//! let alice = sign::SigningKey::from_bytes(&read("alice.key"), "alice.key")?;
//! let keyring = Keyring::from_bytes(&read("alice.cert"), "alice.cert")?;
//! let text = "my-checksum=x_1_all.deb 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\n";
//! let signed = sign::sign_cleartext(text, &alice, at - Duration::from_secs(60))?;
//!
//! let policy = Policy::parse(&format!(
//!     "threshold = 1\naccept_v1 = true\n[[witness]]\nname = \"alice\"\nfingerprint = \"{}\"\n",
//!     alice.fingerprint()
//! ))?;
//! let deb = verdict::Subject {
//!     file_name: "x_1_all.deb".into(), package: "x".into(), version: "1".into(),
//!     architecture: "all".into(), size: 3,
//!     sha256: testimony::canonical::sha256_hex(b"foo"),
//! };
//! let evidence = verdict::Evidence::from_cleartext(signed.as_bytes(), &keyring, at, "alice.asc");
//! let v = verdict::evaluate(&policy, &[deb], &[evidence], at);
//! assert!(v.passed());
//! assert_eq!(v.exit_code(), 0);
//! assert!(v.to_table().contains("agree"));
//! # Ok::<(), testimony::Error>(())
//! ```
//!
//! # Formats
//!
//! - **Build record** (`samekernel-build-record=1`): see [`build_record`].
//! - **v2 testimony** (`samekernel-testimony=2`): see [`v2`]. Both follow the
//!   rules of [`canonical`]: UTF-8, LF only, one `key=value` per line, keys in a
//!   fixed order and lowercase ASCII, debs sorted by file name and files by path,
//!   no empty lines, no trailing spaces, hashes as lowercase hex. A text that is
//!   not in canonical form is rejected, never repaired, so a signature always
//!   covers exactly one meaning.
//! - **v1 testimony**: the seed's `key=value` lines plus the canary and the human
//!   paragraph; see [`v1`]. Kept readable forever; counted only when the policy
//!   says `accept_v1 = true`, and matched to a .deb by its hash or its Debian
//!   file name (never by the local file name; see [`verdict`]).
//! - **Policy**: TOML; see [`policy`].
//!
//! # Invariants
//!
//! - `BuildRecord::parse(&r.to_text()) == Ok(r)` for every normalised record, and
//!   `x.to_text() == t` for every `t` that `parse` accepts (the same for v2).
//! - `V1Testimony::parse(t).to_text() == t` for every string `t`.
//! - No function of this crate prints, exits, or touches the network; errors are
//!   typed ([`Error`], [`ParseError`]) and name the file and the problem.
//! - Hashing streams in 1 MiB blocks ([`canonical::sha256_reader`]); memory use
//!   does not grow with the .deb size. `sha2` uses the CPU's SHA extensions when
//!   present.
//!
//! # Security policy
//!
//! 1. **Only signed text is parsed.** From a cleartext file, only the part between
//!    `-----BEGIN PGP SIGNED MESSAGE-----` and its signature is read, after the
//!    signature checked good; text before or after is reported as a warning and
//!    otherwise ignored. A file with two signed messages is refused. The text
//!    handed to the parsers is the signed form: dash-escaping undone, `CR` and
//!    trailing whitespace (which OpenPGP does not sign) removed.
//! 2. **A signature counts only if it is good now.** Checked with Sequoia's
//!    `StandardPolicy` at an explicit reference time; the key must be alive and
//!    unrevoked at that time and when it signed. Expired, revoked, unknown and
//!    bad are distinct outcomes ([`verify::SignatureOutcome`]), shown to the user.
//!    Signatures from the future do not count.
//! 3. **Identity is the primary key fingerprint**, compared with the policy's;
//!    copies of one certificate are merged before anything is checked, so a
//!    stale copy cannot hide a revocation; secret keys are refused as keyrings;
//!    a subkey signature is attributed to its primary. Keyring membership grants
//!    nothing: only witnesses named in the policy count. A v2 testimony also names
//!    its witness's fingerprint, and must be signed by that key.
//! 4. **One vote per witness group.** A key listed twice is refused; two keys
//!    of one group give one vote; the same testimony found twice counts once.
//! 5. **Dissent is not silence.** A valid testimony from a trusted witness with a
//!    different hash for the same package + version + architecture refuses the
//!    package (policy `dissent = "refuse"`, the default) and names the witness. A
//!    testimony for another package, version or architecture is *silent* about
//!    this one, so replaying old testimonies gains no vote.
//! 6. **Mirrors must agree.** The same testimony file name from two sources must
//!    be byte-identical ([`collect::Collection::add`]).
//! 7. **Strict parsers.** Unknown keys, look-alike (non-ASCII) keys, control and
//!    bidirectional characters, leading zeros, uppercase hex and out-of-order
//!    lines are errors in v2 and build records; v1 keeps unknown keys but only
//!    exact ASCII keys are ever read.
//! 8. **Bounded input.** Testimony files are read once, regular files only
//!    (`O_NONBLOCK` + `fstat`: a FIFO cannot block), within
//!    [`collect::Limits`] (bytes per file, files, bytes in all); whatever is left
//!    out is a typed [`collect::Skipped`] for the user to see. Mirror indexes
//!    may only name plain file names ([`collect::parse_index`]).
#![warn(missing_docs)]

pub mod build_record;
pub mod canonical;
pub mod collect;
pub mod error;
pub mod evidence;
pub mod policy;
pub mod sign;
pub mod signer;
pub mod testify;
pub mod v1;
pub mod v2;
pub mod verdict;
pub mod verify;

pub use build_record::BuildRecord;
pub use error::{Error, Format, ParseError};
pub use policy::Policy;
pub use v1::V1Testimony;
pub use v2::TestimonyV2;
pub use verdict::{Verdict, evaluate};
