//! `kbuild-env`: the same kernel bytes, whoever builds them, wherever, as whatever user.
//!
//! Upstream `make bindeb-pkg` gives different bytes when the builder's path, user name,
//! host name, time zone, umask, `-j`, PATH or clock differs, even when every variable the
//! kernel's reproducible-builds document names is set. Most of those differences enter
//! through the environment kbuild runs in, through the toolchain that happens to be
//! installed, and through a few `.config` symbols. This crate covers those three inputs; it
//! runs nothing but the toolchain queries and never touches a kernel tree itself.
//!
//! | module | what it gives you |
//! |---|---|
//! | [`config`] | [`KernelConfig`]: a lossless parser for a resolved `.config` (`to_text()` is byte-identical, `sha256()` names it) |
//! | [`hazards`] | [`HAZARD_RULES`], a table (as data) of symbols that make output depend on the build, and [`lint`] |
//! | [`toolchain`] | [`ToolchainFingerprint`]: exact Debian package versions, tool banners and compiler hashes; [`ToolchainFingerprint::diff`] says what differs and whether it is known to change the output |
//! | [`env`](mod@env) | [`KbuildEnv`]: the environment built from *nothing*, and the `make` arguments (prefix maps, pinned probes, `-j`, `O=`) |
//!
//! The library never prints and never exits. Every failure is a typed error whose
//! one-line rendering names the file, tool or field and the problem; a missing tool names
//! the Debian package to install.
//!
//! # Examples
//!
//! ## Build the environment and run make in it
//!
//! ```
//! use kbuild_env::{EnvSpec, KbuildEnv};
//!
//! let spec = EnvSpec::new(
//!     1_794_660_961,                    // SOURCE_DATE_EPOCH from the source pin
//!     "/build/src/linux-6.12".into(),   // unpacked sources; make runs here
//!     "/build/obj".into(),              // O=
//!     "/build/home".into(),             // an empty scratch HOME
//!     2,                                // -j2
//! );
//! let env = KbuildEnv::new(&spec)?;
//! assert_eq!(env.vars()["KBUILD_BUILD_TIMESTAMP"], "Sat Nov 14 12:56:01 UTC 2026");
//! assert_eq!(env.vars()["PATH"], "/usr/sbin:/usr/bin:/sbin:/bin");
//! assert!(!env.vars().contains_key("MAKEFLAGS"));
//! assert!(env.make_args().contains(&"RUSTC=samekernel-no-rustc".to_string()));
//!
//! // The binary sets the umask once (process-wide), then spawns make:
//! //     unsafe { libc::umask(kbuild_env::UMASK) };
//! let cmd = env.make_command(&["olddefconfig"]);
//! assert_eq!(cmd.get_program(), "make");
//! // cmd.status()? would now run `make -j2 O=/build/obj KBUILD_BUILD_TIMESTAMP=… olddefconfig`
//! // in /build/src/linux-6.12 with exactly `env.vars()` as its environment.
//! # Ok::<(), kbuild_env::EnvError>(())
//! ```
//!
//! ## Lint a resolved `.config`
//!
//! ```
//! use kbuild_env::{lint, EnvSpec, HazardKind, KbuildEnv, KernelConfig};
//!
//! let text = concat!(
//!     "CONFIG_CC_VERSION_TEXT=\"gcc (Debian 12.2.0-14+deb12u1) 12.2.0\"\n",
//!     "CONFIG_RANDSTRUCT_FULL=y\n",
//!     "CONFIG_DEBUG_INFO=y\n",
//!     "# CONFIG_MODULE_SIG is not set\n",
//! );
//! let config = KernelConfig::parse(text, ".config")?;
//! assert_eq!(config.to_text(), text);
//! assert_eq!(KernelConfig::parse(&config.to_text(), "again")?, config);
//!
//! let env = KbuildEnv::new(&EnvSpec::new(0, "/s".into(), "/o".into(), "/h".into(), 1))?;
//! let mut ctx = env.lint_context();          // prefix maps + sanitized env are in place
//! ctx.toolchain_matches = true;              // we compared fingerprints (see below)
//! let hazards = lint(&config, &ctx);
//! // Only the random struct layout is left: DEBUG_INFO is covered by the prefix maps and
//! // CC_VERSION_TEXT by the matching toolchain.
//! assert_eq!(hazards.len(), 1);
//! assert_eq!(hazards[0].rule.symbol, "CONFIG_RANDSTRUCT_FULL");
//! assert_eq!(hazards[0].rule.kind, HazardKind::RandomPerBuild);
//! println!("{}", hazards[0]); // CONFIG_RANDSTRUCT_FULL=y: [random-per-build] … Fix: …
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Compare toolchains before building
//!
//! ```
//! use kbuild_env::{Effect, ToolchainFingerprint};
//!
//! // `kbuild_env::collect(&ToolchainQuery::default())?` gives this machine's fingerprint;
//! // the reference usually comes from a testimony's build record.
//! let ours = ToolchainFingerprint::parse("package gcc-12=12.2.0-14+deb12u1\npackage make=4.3-4.1\n")?;
//! let theirs = ToolchainFingerprint::parse("package gcc-12=12.2.0-14\npackage make=4.4-1\n")?;
//! let diffs = ours.diff(&theirs);
//! assert_eq!(diffs[0].item, "package gcc-12");
//! assert_eq!(diffs[0].effect, Effect::KnownToChangeOutput);
//! assert_eq!(diffs[1].effect, Effect::NotKnownToChangeOutput);
//! # Ok::<(), kbuild_env::ToolchainError>(())
//! ```
//!
//! # Invariants
//!
//! * [`KernelConfig::parse`] accepts only the line shapes Kconfig writes; whatever it accepts,
//!   [`KernelConfig::to_text`] returns byte for byte (a proptest and the `kbuild_config` fuzz
//!   target check this).
//! * [`KbuildEnv::apply`] leaves the child **only** [`KbuildEnv::vars`]: nothing inherited,
//!   nothing set on the `Command` before survives. `PATH` is always [`FIXED_PATH`].
//! * Without [`EnvSpec::rustc`]/[`EnvSpec::pahole`], Kconfig sees `RUSTC`, `BINDGEN` and
//!   `PAHOLE` set to names that do not exist, so `CONFIG_RUSTC_VERSION` and
//!   `CONFIG_PAHOLE_VERSION` are 0 on every machine. A config that needs Rust or BTF must pin
//!   those tools in the spec — otherwise Kconfig silently drops `CONFIG_RUST` /
//!   `CONFIG_DEBUG_INFO_BTF`, so compare the resolved `.config` with the expected one.
//! * [`ToolchainFingerprint::to_text`] is sorted and strict; `parse(to_text(x)) == x`.
//!   [`collect`] checks that before returning.
//! * [`lint`] and the docs read the same table, [`HAZARD_RULES`]; the toolchain effect
//!   classification is the table [`EFFECT_RULES`].
//! * The umask is process-wide: the binary must set [`UMASK`] (022) itself before spawning.
//!
//! # The hazard table
//!
//! | symbol | when | kind | harmless if |
//! |---|---|---|---|
//! | `CONFIG_RANDSTRUCT_FULL`, `_PERFORMANCE`, `GCC_PLUGIN_RANDSTRUCT` | enabled | random-per-build | seed pinned |
//! | `CONFIG_GCC_PLUGIN_LATENT_ENTROPY` | enabled | random-per-build | `-frandom-seed` pinned |
//! | `CONFIG_MODULE_SIG_KEY` | `= "certs/signing_key.pem"` | random-per-build | key pinned |
//! | `CONFIG_MODULE_SIG_ALL` | enabled, with the default key | random-per-build | key pinned |
//! | `CONFIG_MODULE_SIG_KEY_TYPE_ECDSA` | enabled, with `MODULE_SIG_ALL` | random-per-build | — |
//! | `CONFIG_SYSTEM_TRUSTED_KEYS` | non-empty | external-input | file pinned |
//! | `CONFIG_EXTRA_FIRMWARE`, `CONFIG_INITRAMFS_SOURCE` | non-empty | external-input | — |
//! | `CONFIG_IKHEADERS` | enabled | embeds-time-or-path | sanitized env |
//! | `CONFIG_LOCALVERSION_AUTO` | enabled | embeds-time-or-path | clean tree |
//! | `CONFIG_DEBUG_INFO` | enabled | embeds-time-or-path | prefix maps |
//! | `CONFIG_DEBUG_INFO_BTF` | enabled | random-per-build | pahole pinned |
//! | `CONFIG_DEBUG_INFO_COMPRESSED_*`, `KERNEL_XZ`, `MODULE_COMPRESS_XZ/ZSTD` | enabled | toolchain-probed | toolchain matches |
//! | `CONFIG_CC_VERSION_TEXT`, `GCC_VERSION`, `AS_VERSION`, `LD_VERSION` | set / non-zero | toolchain-probed | toolchain matches |
//! | `CONFIG_CLANG_VERSION` | non-zero | toolchain-probed | — (build with gcc) |
//! | `CONFIG_RUSTC_VERSION`, `RUSTC_LLVM_VERSION` | non-zero | toolchain-probed | rustc pinned |
//! | `CONFIG_PAHOLE_VERSION` | non-zero | toolchain-probed | pahole pinned |
//! | `CONFIG_BUILD_SALT` | `= ""` | note | — |
//! | `CONFIG_IKCONFIG` | enabled | note | — |
//!
//! Each row's `why` and `fix` texts are in [`HAZARD_RULES`].

pub mod config;
pub mod env;
pub mod hazards;
pub mod toolchain;

pub use config::{ConfigError, ConfigValue, KernelConfig};
pub use env::{EnvError, EnvSpec, KbuildEnv, UMASK};
pub use hazards::{
    Condition, HAZARD_RULES, Hazard, HazardKind, HazardRule, LintContext, Mitigation, lint,
};
pub use toolchain::{
    CommandOutput, EFFECT_RULES, Effect, EffectRule, FingerprintDiff, Host, MissingTool,
    SystemHost, ToolchainError, ToolchainFingerprint, ToolchainQuery, classify, collect,
    collect_with,
};

/// The only PATH kbuild and the toolchain queries ever see.
pub const FIXED_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
