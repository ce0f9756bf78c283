//! The `.config` hazard lint: symbols that make the output depend on the build, as data.
//!
//! [`HAZARD_RULES`] is a plain table. Each [`HazardRule`] names one symbol, the
//! [`Condition`] on its value that makes it a hazard (plus, rarely, conditions on other
//! symbols), the [`Mitigation`] that defuses it (if any exists), what goes wrong and the fix.
//! [`lint`] walks the table against a [`KernelConfig`] and a [`LintContext`] that says which
//! mitigations are in place, and returns one [`Hazard`] per rule that fires, in table order.
//!
//! The evidence for every row is in the project's research notes (hazards.md): the kernel's
//! `Documentation/kbuild/reproducible-builds.rst`, kbuild sources of 6.1–6.12, and
//! measurements of real builds.

use crate::config::{ConfigValue, KernelConfig};

/// When a rule's symbol is a hazard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `y` or `m`.
    Enabled,
    /// Any value except `n` / "is not set" (an empty string counts).
    Set,
    /// A string that is not empty.
    NonEmpty,
    /// A number (decimal or hex) that is not zero.
    NonZero,
    /// A string equal to this text.
    Equals(&'static str),
}

impl Condition {
    /// Whether `value` (absent = `None`) meets the condition.
    pub fn holds(self, value: Option<&ConfigValue>) -> bool {
        let Some(v) = value else { return false };
        match self {
            Condition::Enabled => v.is_enabled(),
            Condition::Set => v.is_set(),
            Condition::NonEmpty => v.as_str().is_some_and(|s| !s.is_empty()),
            Condition::NonZero => {
                matches!(v, ConfigValue::Int(n) if *n != 0)
                    || matches!(v, ConfigValue::Hex(n) if *n != 0)
            }
            Condition::Equals(want) => v.as_str() == Some(want),
        }
    }

    /// Short human text, e.g. `enabled`, `= ""`.
    pub fn describe(self) -> String {
        match self {
            Condition::Enabled => "enabled".into(),
            Condition::Set => "set".into(),
            Condition::NonEmpty => "non-empty".into(),
            Condition::NonZero => "non-zero".into(),
            Condition::Equals(s) => format!("= \"{s}\""),
        }
    }
}

/// What kind of trouble a symbol causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HazardKind {
    /// Different bytes on every build (random seed, fresh key).
    RandomPerBuild,
    /// The build time, build path or source-control state ends up in the output.
    EmbedsTimeOrPath,
    /// Kconfig or kbuild probed the toolchain; the bytes depend on which tool versions ran.
    ToolchainProbed,
    /// The output embeds files from outside the pinned sources.
    ExternalInput,
    /// Not a reproducibility problem; worth knowing.
    Note,
}

impl HazardKind {
    /// `false` only for [`HazardKind::Note`].
    pub fn breaks_reproducibility(self) -> bool {
        self != HazardKind::Note
    }

    /// What a build that finds this hazard in its own `.config` does about it:
    ///
    /// * [`BuildAction::Block`] for [`HazardKind::RandomPerBuild`]: no two builds can
    ///   agree, so building (and testifying) is pointless unless the user overrides it;
    /// * [`BuildAction::Ignore`] for [`HazardKind::ToolchainProbed`] (it only matters
    ///   against another builder's toolchain, which the fingerprint comparison covers)
    ///   and [`HazardKind::Note`];
    /// * [`BuildAction::Warn`] for the rest: the output may depend on the build's time,
    ///   path or outside files, which the sanitized environment usually defuses.
    ///
    /// ```
    /// use kbuild_env::{HazardKind, hazards::BuildAction};
    /// assert_eq!(HazardKind::RandomPerBuild.build_action(), BuildAction::Block);
    /// assert_eq!(HazardKind::EmbedsTimeOrPath.build_action(), BuildAction::Warn);
    /// assert_eq!(HazardKind::Note.build_action(), BuildAction::Ignore);
    /// ```
    pub fn build_action(self) -> BuildAction {
        match self {
            HazardKind::RandomPerBuild => BuildAction::Block,
            HazardKind::ToolchainProbed | HazardKind::Note => BuildAction::Ignore,
            HazardKind::EmbedsTimeOrPath | HazardKind::ExternalInput => BuildAction::Warn,
        }
    }

    /// Kebab-case name, as used in the docs table.
    pub fn name(self) -> &'static str {
        match self {
            HazardKind::RandomPerBuild => "random-per-build",
            HazardKind::EmbedsTimeOrPath => "embeds-time-or-path",
            HazardKind::ToolchainProbed => "toolchain-probed",
            HazardKind::ExternalInput => "external-input",
            HazardKind::Note => "note",
        }
    }
}

/// What a build does about a hazard it finds ([`HazardKind::build_action`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BuildAction {
    /// Stop before compiling, unless the user explicitly allows it.
    Block,
    /// Build, and tell the user.
    Warn,
    /// Build without comment.
    Ignore,
}

/// Something the builder can have in place that makes a rule harmless. Each one is a field
/// of [`LintContext`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mitigation {
    /// [`LintContext::randstruct_seed_pinned`]
    RandstructSeedPinned,
    /// [`LintContext::latent_entropy_seed_pinned`]
    LatentEntropySeedPinned,
    /// [`LintContext::module_signing_key_pinned`]
    ModuleSigningKeyPinned,
    /// [`LintContext::trusted_keys_pinned`]
    TrustedKeysPinned,
    /// [`LintContext::source_tree_clean`]
    CleanSourceTree,
    /// [`LintContext::prefix_maps`]
    PrefixMaps,
    /// [`LintContext::sanitized_env`]
    SanitizedEnv,
    /// [`LintContext::pahole_pinned`]
    PaholePinned,
    /// [`LintContext::rustc_pinned`]
    RustcPinned,
    /// [`LintContext::toolchain_matches`]
    ToolchainMatches,
}

/// Which mitigations are in place for this build. `Default` is the pessimistic answer:
/// nothing is pinned, the tree may be dirty, the toolchain was not compared.
/// [`crate::KbuildEnv::lint_context`] fills in what the sanitized environment guarantees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LintContext {
    /// `scripts/basic/randstruct.seed` (≤ 5.18: `scripts/gcc-plugins/randomize_layout_seed.h`)
    /// is a pinned source input, so it is not drawn from `/dev/urandom`.
    pub randstruct_seed_pinned: bool,
    /// KCFLAGS carries a fixed `-frandom-seed=`, which the latent-entropy plugin uses instead
    /// of `/dev/urandom`.
    pub latent_entropy_seed_pinned: bool,
    /// The module signing key (`CONFIG_MODULE_SIG_KEY`, default `certs/signing_key.pem`) is a
    /// pinned input placed in the tree before the build, so kbuild does not generate one.
    pub module_signing_key_pinned: bool,
    /// Every file named in `CONFIG_SYSTEM_TRUSTED_KEYS` is part of the pinned sources.
    pub trusted_keys_pinned: bool,
    /// The source tree is an export without `.git` (or a clean checkout at a tag), so
    /// `setlocalversion` adds neither `-gSHA` nor `-dirty`.
    pub source_tree_clean: bool,
    /// KCFLAGS/KAFLAGS/HOSTCFLAGS carry `-ffile-prefix-map` for the source and object dirs.
    pub prefix_maps: bool,
    /// The environment is [`crate::KbuildEnv`]'s: KBUILD_BUILD_TIMESTAMP pinned, umask 022,
    /// no `XZ_OPT`/`ZSTD_CLEVEL`/… inherited.
    pub sanitized_env: bool,
    /// `PAHOLE` points at a pinned pahole (its version in the fingerprint). With
    /// `KBUILD_BUILD_TIMESTAMP` set, as [`crate::KbuildEnv`] always sets it, 6.12's
    /// `scripts/Makefile.btf` runs pahole < 1.27 without `-j` and newer ones in their
    /// reproducible mode.
    pub pahole_pinned: bool,
    /// `RUSTC`/`BINDGEN` point at pinned tools whose versions are recorded with the build.
    pub rustc_pinned: bool,
    /// This machine's [`crate::ToolchainFingerprint`] was compared with the reference one
    /// (from a testimony or an earlier build) and no difference known to change output was
    /// found.
    pub toolchain_matches: bool,
}

impl LintContext {
    /// Whether `m` is in place.
    pub fn has(&self, m: Mitigation) -> bool {
        match m {
            Mitigation::RandstructSeedPinned => self.randstruct_seed_pinned,
            Mitigation::LatentEntropySeedPinned => self.latent_entropy_seed_pinned,
            Mitigation::ModuleSigningKeyPinned => self.module_signing_key_pinned,
            Mitigation::TrustedKeysPinned => self.trusted_keys_pinned,
            Mitigation::CleanSourceTree => self.source_tree_clean,
            Mitigation::PrefixMaps => self.prefix_maps,
            Mitigation::SanitizedEnv => self.sanitized_env,
            Mitigation::PaholePinned => self.pahole_pinned,
            Mitigation::RustcPinned => self.rustc_pinned,
            Mitigation::ToolchainMatches => self.toolchain_matches,
        }
    }
}

/// One row of the hazard table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HazardRule {
    /// The symbol, with its `CONFIG_` prefix.
    pub symbol: &'static str,
    /// When `symbol`'s value makes this a hazard.
    pub when: Condition,
    /// Further conditions on other symbols that must all hold too (usually none).
    pub also: &'static [(&'static str, Condition)],
    /// What kind of trouble it is.
    pub kind: HazardKind,
    /// What makes it harmless; `None` = nothing but the fix does.
    pub unless: Option<Mitigation>,
    /// What goes wrong, in one or two sentences.
    pub why: &'static str,
    /// What to do about it, concretely.
    pub fix: &'static str,
}

/// One rule that fired for a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hazard {
    /// The rule (a row of [`HAZARD_RULES`]).
    pub rule: &'static HazardRule,
    /// The symbol's value in this config.
    pub value: ConfigValue,
}

impl std::fmt::Display for Hazard {
    /// One line: `CONFIG_X=value: [kind] why Fix: fix`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}={}: [{}] {} Fix: {}",
            self.rule.symbol,
            self.value,
            self.rule.kind.name(),
            self.rule.why,
            self.rule.fix
        )
    }
}

/// Every rule that fires for `config` given `ctx`, in [`HAZARD_RULES`] order.
pub fn lint(config: &KernelConfig, ctx: &LintContext) -> Vec<Hazard> {
    HAZARD_RULES
        .iter()
        .filter(|r| r.when.holds(config.get(r.symbol)))
        .filter(|r| r.also.iter().all(|(s, c)| c.holds(config.get(s))))
        .filter(|r| !r.unless.is_some_and(|m| ctx.has(m)))
        .map(|r| Hazard {
            rule: r,
            value: config.get(r.symbol).cloned().unwrap_or(ConfigValue::NotSet),
        })
        .collect()
}

const DEFAULT_SIG_KEY: &str = "certs/signing_key.pem";

const PROBED_WHY: &str = "Kconfig stores the version it probed from the toolchain on PATH; it lands in /boot/config, \
    configs.ko/kheaders.ko and the headers' auto.conf, and the same tool built the code.";

/// The rule table. Tests and docs read it; [`lint`] evaluates it.
pub static HAZARD_RULES: &[HazardRule] = &[
    HazardRule {
        symbol: "CONFIG_RANDSTRUCT_FULL",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::RandomPerBuild,
        unless: Some(Mitigation::RandstructSeedPinned),
        why: "scripts/gen-randstruct-seed.sh reads /dev/urandom; the seed reorders struct layouts in vmlinuz and every module and is shipped in linux-headers.",
        fix: "Pre-generate scripts/basic/randstruct.seed once, pin it as a source input (patch), and set randstruct_seed_pinned; or choose CONFIG_RANDSTRUCT_NONE.",
    },
    HazardRule {
        symbol: "CONFIG_RANDSTRUCT_PERFORMANCE",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::RandomPerBuild,
        unless: Some(Mitigation::RandstructSeedPinned),
        why: "Same random seed as RANDSTRUCT_FULL (cache-line-limited reordering); struct layouts change per build.",
        fix: "Pre-generate scripts/basic/randstruct.seed and pin it as a source input; or choose CONFIG_RANDSTRUCT_NONE.",
    },
    HazardRule {
        symbol: "CONFIG_GCC_PLUGIN_RANDSTRUCT",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::RandomPerBuild,
        unless: Some(Mitigation::RandstructSeedPinned),
        why: "Kernels up to 5.18: the randomize_layout plugin takes its seed from /dev/urandom via scripts/gcc-plugins/randomize_layout_seed.h.",
        fix: "Pre-generate scripts/gcc-plugins/randomize_layout_seed.h and pin it as a source input; or disable the plugin.",
    },
    HazardRule {
        symbol: "CONFIG_GCC_PLUGIN_LATENT_ENTROPY",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::RandomPerBuild,
        unless: Some(Mitigation::LatentEntropySeedPinned),
        why: "The latent_entropy plugin draws a random value per compilation unit from /dev/urandom unless gcc was given -frandom-seed.",
        fix: "Disable it (# CONFIG_GCC_PLUGIN_LATENT_ENTROPY is not set), or add a fixed -frandom-seed=<value> to KCFLAGS and record it with the build.",
    },
    HazardRule {
        symbol: "CONFIG_MODULE_SIG_KEY",
        when: Condition::Equals(DEFAULT_SIG_KEY),
        also: &[],
        kind: HazardKind::RandomPerBuild,
        unless: Some(Mitigation::ModuleSigningKeyPinned),
        why: "With the default key path, certs/Makefile runs `openssl req -new -x509` for a fresh key every build; its certificate is built into vmlinuz.",
        fix: "Follow Documentation/kbuild/reproducible-builds.rst: CONFIG_MODULE_SIG_KEY=\"\", # CONFIG_MODULE_SIG_ALL is not set, your persistent certificate in CONFIG_SYSTEM_TRUSTED_KEYS, and attach detached module signatures after the build.",
    },
    HazardRule {
        symbol: "CONFIG_MODULE_SIG_ALL",
        when: Condition::Enabled,
        also: &[("CONFIG_MODULE_SIG_KEY", Condition::Equals(DEFAULT_SIG_KEY))],
        kind: HazardKind::RandomPerBuild,
        unless: Some(Mitigation::ModuleSigningKeyPinned),
        why: "modules_install signs every .ko with the key generated during this build, so every module differs between builds.",
        fix: "Disable MODULE_SIG_ALL and set CONFIG_MODULE_SIG_KEY=\"\"; sign afterwards with a persistent key and ship detached signatures (Debian's linux-signed flow).",
    },
    HazardRule {
        symbol: "CONFIG_MODULE_SIG_KEY_TYPE_ECDSA",
        when: Condition::Enabled,
        also: &[("CONFIG_MODULE_SIG_ALL", Condition::Enabled)],
        kind: HazardKind::RandomPerBuild,
        unless: None,
        why: "ECDSA signatures use a random nonce, so signed modules differ even with a pinned key (RSA PKCS#1 v1.5 signatures do not).",
        fix: "Use CONFIG_MODULE_SIG_KEY_TYPE_RSA, or do not sign during the build (detached signatures).",
    },
    HazardRule {
        symbol: "CONFIG_SYSTEM_TRUSTED_KEYS",
        when: Condition::NonEmpty,
        also: &[],
        kind: HazardKind::ExternalInput,
        unless: Some(Mitigation::TrustedKeysPinned),
        why: "The named PEM file is built into vmlinuz; if it is generated per build or taken from the builder's machine, vmlinuz differs.",
        fix: "Ship the certificate file as a pinned source input (patch) and set trusted_keys_pinned; never point it at a file generated during the build.",
    },
    HazardRule {
        symbol: "CONFIG_EXTRA_FIRMWARE",
        when: Condition::NonEmpty,
        also: &[],
        kind: HazardKind::ExternalInput,
        unless: None,
        why: "The listed blobs are read from CONFIG_EXTRA_FIRMWARE_DIR (default /lib/firmware on the build machine) and linked into vmlinuz.",
        fix: "Leave it empty and load firmware at runtime, or pin the blobs as source inputs and point CONFIG_EXTRA_FIRMWARE_DIR into the source tree.",
    },
    HazardRule {
        symbol: "CONFIG_INITRAMFS_SOURCE",
        when: Condition::NonEmpty,
        also: &[],
        kind: HazardKind::ExternalInput,
        unless: None,
        why: "A built-in initramfs is read from the builder's files; directories leak their modes, owners and mtimes, and the contents are not pinned.",
        fix: "Leave it empty (use an external initrd), or make it a cpio description file inside the pinned sources with CONFIG_INITRAMFS_ROOT_UID/GID=0.",
    },
    HazardRule {
        symbol: "CONFIG_IKHEADERS",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::EmbedsTimeOrPath,
        unless: Some(Mitigation::SanitizedEnv),
        why: "kernel/gen_kheaders.sh tars the headers with their mtimes unless KBUILD_BUILD_TIMESTAMP is set; directory modes follow the umask (6.1); xz reads XZ_OPT/XZ_DEFAULTS.",
        fix: "Build in KbuildEnv (pinned KBUILD_BUILD_TIMESTAMP, umask 022, empty environment), or disable IKHEADERS.",
    },
    HazardRule {
        symbol: "CONFIG_LOCALVERSION_AUTO",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::EmbedsTimeOrPath,
        unless: Some(Mitigation::CleanSourceTree),
        why: "scripts/setlocalversion appends -g<sha> and -dirty from git to the kernel release, which names the packages, /lib/modules/<rel> and every module's vermagic.",
        fix: "Build from an exported tree without .git (srcpin unpacks tarballs), or disable LOCALVERSION_AUTO and pass LOCALVERSION= explicitly.",
    },
    HazardRule {
        symbol: "CONFIG_DEBUG_INFO",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::EmbedsTimeOrPath,
        unless: Some(Mitigation::PrefixMaps),
        why: "DWARF records absolute source and build directories; the build-id (a hash over the unstripped file) keeps that difference in stripped modules and vmlinuz.",
        fix: "Pass -ffile-prefix-map for the source and object dirs in KCFLAGS, KAFLAGS and HOSTCFLAGS (KbuildEnv::make_args does), or choose CONFIG_DEBUG_INFO_NONE.",
    },
    HazardRule {
        symbol: "CONFIG_DEBUG_INFO_BTF",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::RandomPerBuild,
        unless: Some(Mitigation::PaholePinned),
        why: "pahole -j numbers BTF types in thread completion order before pahole 1.27's reproducible_build feature; kbuild passes -j to pahole >= 1.22 unless KBUILD_BUILD_TIMESTAMP is set, and the pahole version decides which BTF features exist.",
        fix: "Pin pahole via EnvSpec::pahole (its version goes into the fingerprint) and keep KBUILD_BUILD_TIMESTAMP set (KbuildEnv does), or disable DEBUG_INFO_BTF.",
    },
    HazardRule {
        symbol: "CONFIG_DEBUG_INFO_COMPRESSED_ZLIB",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::ToolchainMatches),
        why: "Compressed debug sections are produced by the zlib inside gcc/binutils; the build-id hashes the compressed bytes.",
        fix: "Match the toolchain fingerprint (zlib1g, binutils, gcc) or choose CONFIG_DEBUG_INFO_COMPRESSED_NONE.",
    },
    HazardRule {
        symbol: "CONFIG_DEBUG_INFO_COMPRESSED_ZSTD",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::ToolchainMatches),
        why: "Compressed debug sections are produced by the libzstd inside gcc/binutils; the build-id hashes the compressed bytes.",
        fix: "Match the toolchain fingerprint (libzstd1, binutils, gcc) or choose CONFIG_DEBUG_INFO_COMPRESSED_NONE.",
    },
    HazardRule {
        symbol: "CONFIG_KERNEL_XZ",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::ToolchainMatches),
        why: "The bzImage payload is compressed by the host's xz; 6.1/6.6 xz_wrap.sh does not force one thread, and xz >= 5.6 defaults to multi-threaded output.",
        fix: "Match the toolchain fingerprint (xz-utils, liblzma5), or use CONFIG_KERNEL_GZIP with a matching gzip.",
    },
    HazardRule {
        symbol: "CONFIG_MODULE_COMPRESS_XZ",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::ToolchainMatches),
        why: "Every .ko.xz is made by the host's xz (no -T), whose version decides the bytes.",
        fix: "Match the toolchain fingerprint (xz-utils), or choose CONFIG_MODULE_COMPRESS_NONE.",
    },
    HazardRule {
        symbol: "CONFIG_MODULE_COMPRESS_ZSTD",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::ToolchainMatches),
        why: "Every .ko.zst is made by the host's zstd without an explicit level (ZSTD_CLEVEL would win), and its version decides the bytes.",
        fix: "Match the toolchain fingerprint (zstd, libzstd1) and build in KbuildEnv (no ZSTD_CLEVEL), or choose CONFIG_MODULE_COMPRESS_NONE.",
    },
    HazardRule {
        symbol: "CONFIG_CC_VERSION_TEXT",
        when: Condition::Set,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::ToolchainMatches),
        why: PROBED_WHY,
        fix: "Compare the toolchain fingerprint with the reference before building; install the exact gcc package versions it names.",
    },
    HazardRule {
        symbol: "CONFIG_GCC_VERSION",
        when: Condition::NonZero,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::ToolchainMatches),
        why: PROBED_WHY,
        fix: "Compare the toolchain fingerprint with the reference; install the exact gcc-N, cpp-N and libgcc-N-dev versions it names.",
    },
    HazardRule {
        symbol: "CONFIG_CLANG_VERSION",
        when: Condition::NonZero,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: None,
        why: "The kernel was configured for clang/LLVM, which samekernel's toolchain fingerprint does not cover.",
        fix: "Build with gcc (do not pass LLVM=1 or CC=clang).",
    },
    HazardRule {
        symbol: "CONFIG_AS_VERSION",
        when: Condition::NonZero,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::ToolchainMatches),
        why: PROBED_WHY,
        fix: "Compare the toolchain fingerprint with the reference; install the exact binutils version it names.",
    },
    HazardRule {
        symbol: "CONFIG_LD_VERSION",
        when: Condition::NonZero,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::ToolchainMatches),
        why: PROBED_WHY,
        fix: "Compare the toolchain fingerprint with the reference; install the exact binutils version it names.",
    },
    HazardRule {
        symbol: "CONFIG_RUSTC_VERSION",
        when: Condition::NonZero,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::RustcPinned),
        why: "Kconfig found a rustc (even with CONFIG_RUST off, a rustc on PATH changed this from 0 in a measured build).",
        fix: "Build in KbuildEnv (RUSTC=samekernel-no-rustc makes it 0); if the config needs Rust, set EnvSpec::rustc/bindgen to pinned tools and record their versions.",
    },
    HazardRule {
        symbol: "CONFIG_RUSTC_LLVM_VERSION",
        when: Condition::NonZero,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::RustcPinned),
        why: "Kconfig probed the LLVM inside the rustc it found.",
        fix: "Build in KbuildEnv (no rustc), or pin rustc via EnvSpec::rustc and record its version.",
    },
    HazardRule {
        symbol: "CONFIG_PAHOLE_VERSION",
        when: Condition::NonZero,
        also: &[],
        kind: HazardKind::ToolchainProbed,
        unless: Some(Mitigation::PaholePinned),
        why: "Kconfig found a pahole; its version selects BTF features and flags (and a missing pahole silently drops DEBUG_INFO_BTF).",
        fix: "Build in KbuildEnv (PAHOLE=samekernel-no-pahole makes it 0); if the config needs BTF, set EnvSpec::pahole to the pinned pahole.",
    },
    HazardRule {
        symbol: "CONFIG_BUILD_SALT",
        when: Condition::Equals(""),
        also: &[],
        kind: HazardKind::Note,
        unless: None,
        why: "Not a reproducibility problem: without a salt the vDSO build-ids can be identical across kernel versions, so -dbg packages of two versions conflict in /usr/lib/debug/.build-id.",
        fix: "Set CONFIG_BUILD_SALT to the kernel release (e.g. \"6.12.0-samekernel1\") if you ship -dbg packages.",
    },
    HazardRule {
        symbol: "CONFIG_IKCONFIG",
        when: Condition::Enabled,
        also: &[],
        kind: HazardKind::Note,
        unless: None,
        why: "The .config is embedded (configs.ko or vmlinuz), including the toolchain-probed symbols above; reproducible exactly when the .config is.",
        fix: "Nothing to do; compare the resolved .config's sha256 with the reference.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> KernelConfig {
        KernelConfig::parse(text, "test").unwrap()
    }

    fn symbols(h: &[Hazard]) -> Vec<&'static str> {
        h.iter().map(|h| h.rule.symbol).collect()
    }

    #[test]
    fn table_is_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for r in HAZARD_RULES {
            assert!(r.symbol.starts_with("CONFIG_"), "{}", r.symbol);
            assert!(
                seen.insert((r.symbol, r.also.len())),
                "duplicate rule {}",
                r.symbol
            );
            assert!(r.why.ends_with('.') && r.fix.ends_with('.'), "{}", r.symbol);
            for (s, _) in r.also {
                assert!(s.starts_with("CONFIG_"));
            }
        }
        for required in [
            "CONFIG_RANDSTRUCT_FULL",
            "CONFIG_RANDSTRUCT_PERFORMANCE",
            "CONFIG_GCC_PLUGIN_RANDSTRUCT",
            "CONFIG_GCC_PLUGIN_LATENT_ENTROPY",
            "CONFIG_MODULE_SIG_ALL",
            "CONFIG_IKHEADERS",
            "CONFIG_LOCALVERSION_AUTO",
            "CONFIG_DEBUG_INFO",
            "CONFIG_DEBUG_INFO_BTF",
            "CONFIG_CC_VERSION_TEXT",
            "CONFIG_RUSTC_VERSION",
            "CONFIG_PAHOLE_VERSION",
            "CONFIG_AS_VERSION",
            "CONFIG_LD_VERSION",
            "CONFIG_CLANG_VERSION",
            "CONFIG_GCC_VERSION",
            "CONFIG_BUILD_SALT",
            "CONFIG_IKCONFIG",
            "CONFIG_SYSTEM_TRUSTED_KEYS",
        ] {
            assert!(
                HAZARD_RULES.iter().any(|r| r.symbol == required),
                "{required}"
            );
        }
    }

    #[test]
    fn a_typical_debian_style_config_fires_the_expected_rules() {
        let c = cfg(concat!(
            "CONFIG_CC_VERSION_TEXT=\"gcc (Debian 12.2.0-14+deb12u1) 12.2.0\"\n",
            "CONFIG_GCC_VERSION=120200\n",
            "CONFIG_CLANG_VERSION=0\n",
            "CONFIG_AS_VERSION=24000\n",
            "CONFIG_LD_VERSION=24000\n",
            "CONFIG_RUSTC_VERSION=0\n",
            "CONFIG_PAHOLE_VERSION=0\n",
            "CONFIG_RANDSTRUCT_FULL=y\n",
            "CONFIG_MODULE_SIG_ALL=y\n",
            "CONFIG_MODULE_SIG_KEY=\"certs/signing_key.pem\"\n",
            "CONFIG_SYSTEM_TRUSTED_KEYS=\"\"\n",
            "CONFIG_BUILD_SALT=\"\"\n",
            "CONFIG_IKCONFIG=m\n",
            "# CONFIG_IKHEADERS is not set\n",
            "CONFIG_DEBUG_INFO=y\n",
        ));
        let all = lint(&c, &LintContext::default());
        assert_eq!(
            symbols(&all),
            [
                "CONFIG_RANDSTRUCT_FULL",
                "CONFIG_MODULE_SIG_KEY",
                "CONFIG_MODULE_SIG_ALL",
                "CONFIG_DEBUG_INFO",
                "CONFIG_CC_VERSION_TEXT",
                "CONFIG_GCC_VERSION",
                "CONFIG_AS_VERSION",
                "CONFIG_LD_VERSION",
                "CONFIG_BUILD_SALT",
                "CONFIG_IKCONFIG",
            ]
        );
        assert_eq!(all[0].value, ConfigValue::Yes);
        assert!(
            all[0]
                .to_string()
                .starts_with("CONFIG_RANDSTRUCT_FULL=y: [random-per-build] ")
        );

        let ctx = LintContext {
            randstruct_seed_pinned: true,
            module_signing_key_pinned: true,
            prefix_maps: true,
            toolchain_matches: true,
            ..LintContext::default()
        };
        let left = lint(&c, &ctx);
        assert_eq!(symbols(&left), ["CONFIG_BUILD_SALT", "CONFIG_IKCONFIG"]);
        assert!(left.iter().all(|h| !h.rule.kind.breaks_reproducibility()));
    }

    #[test]
    fn conditions_follow_values() {
        // MODULE_SIG_ALL with a non-default key: only the ECDSA rule can fire.
        let c = cfg(
            "CONFIG_MODULE_SIG_ALL=y\nCONFIG_MODULE_SIG_KEY=\"keys/mine.pem\"\nCONFIG_MODULE_SIG_KEY_TYPE_ECDSA=y\n",
        );
        assert_eq!(
            symbols(&lint(&c, &LintContext::default())),
            ["CONFIG_MODULE_SIG_KEY_TYPE_ECDSA"]
        );
        // RUSTC_VERSION is a hazard once a rustc was found, unless pinned.
        let c = cfg(
            "CONFIG_RUSTC_VERSION=108500\nCONFIG_PAHOLE_VERSION=0x7d\nCONFIG_DEBUG_INFO_BTF=y\n",
        );
        assert_eq!(
            symbols(&lint(&c, &LintContext::default())),
            [
                "CONFIG_DEBUG_INFO_BTF",
                "CONFIG_RUSTC_VERSION",
                "CONFIG_PAHOLE_VERSION"
            ]
        );
        let ctx = LintContext {
            rustc_pinned: true,
            pahole_pinned: true,
            ..LintContext::default()
        };
        assert!(lint(&c, &ctx).is_empty());
        // LOCALVERSION_AUTO only in a tree that may be dirty; IKHEADERS only outside KbuildEnv.
        let c = cfg(
            "CONFIG_LOCALVERSION_AUTO=y\nCONFIG_IKHEADERS=m\nCONFIG_BUILD_SALT=\"6.12\"\nCONFIG_SYSTEM_TRUSTED_KEYS=\"debian/certs/x.pem\"\n",
        );
        assert_eq!(
            symbols(&lint(&c, &LintContext::default())),
            [
                "CONFIG_SYSTEM_TRUSTED_KEYS",
                "CONFIG_IKHEADERS",
                "CONFIG_LOCALVERSION_AUTO"
            ]
        );
        let ctx = LintContext {
            source_tree_clean: true,
            sanitized_env: true,
            trusted_keys_pinned: true,
            ..LintContext::default()
        };
        assert!(lint(&c, &ctx).is_empty());
        // Disabled or absent symbols never fire.
        let c = cfg("# CONFIG_RANDSTRUCT_FULL is not set\nCONFIG_GCC_PLUGIN_LATENT_ENTROPY=n\n");
        assert!(lint(&c, &LintContext::default()).is_empty());
    }
}
