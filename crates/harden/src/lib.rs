//! Kernel hardening rules as data, and a report that checks a kernel against them.
//!
//! The original Mempo project promised a kernel "by default in hardened variant"; once it
//! shipped a config where a copied Debian option (XEN) silently turned UDEREF and KERNEXEC off.
//! This crate is the guard against that happening again. grsecurity's ideas live on as upstream
//! options (SMAP for UDEREF; SMEP, STRICT_KERNEL_RWX and STRICT_MODULE_RWX for KERNEXEC;
//! HARDENED_USERCOPY; stack erasing; …); the rule table says which ones a kernel should have,
//! the evaluator says which ones it has, and the guard says *why* a required one is missing.
//!
//! | module | what |
//! |---|---|
//! | [`rules`] | the static tables: [`rules::kconfig::RULES`], [`rules::cmdline::RULES`], [`rules::sysctl::RULES`] |
//! | [`eval`] | [`evaluate`] → [`Report`] (per rule OK / FAIL / NOT APPLICABLE with a reason, totals per group, JSON) |
//! | [`policy`] | [`Policy`]: which rules are required (TOML; default = self-protection) |
//! | [`fragment`](mod@fragment) | a Kconfig fragment turning on what the toolchain supports |
//! | [`kconfig_tree`] | a bounded reader of the kernel's Kconfig files, for explanations |
//! | [`guard`] | [`explain_failures`]: each required failure with its Kconfig culprit |
//! | [`resolve`] | `make allnoconfig` + `olddefconfig` out of tree, to verify a fragment |
//! | [`cmdline`], [`sysctl`] | parsers for /proc/cmdline and sysctl listings |
//!
//! # A rule
//!
//! Each rule is one `static` entry: the option(s) and the value wanted, how terms combine
//! (`Any`: `CONFIG_DEVMEM` off *or* `CONFIG_STRICT_DEVMEM=y`), the arches it applies to, the
//! toolchain it needs, a group, who recommends it with a source reference, and one line of why.
//!
//! ```
//! use harden::rules::{self, Group, Kind};
//!
//! let r = rules::all().find(|r| r.id() == "kconfig:SLAB_FREELIST_HARDENED").unwrap();
//! assert_eq!((r.kind(), r.group), (Kind::Kconfig, Group::SelfProtection));
//! assert!(!r.why.is_empty() && !r.source.is_empty());
//! ```
//!
//! # Evaluating a config
//!
//! Nothing is silently OK: a rule for another arch, one the toolchain cannot meet (clang-only
//! CFI with gcc; GCC plugins without `gcc-12-plugin-dev`), one whose feature is not built
//! (no PCI: no IOMMU rule) or one whose input was not given (no command line) is NOT
//! APPLICABLE, with the reason.
//!
//! ```
//! use harden::{evaluate, Arch, Inputs, KernelConfig, Policy, Status, Toolchain};
//!
//! let config = KernelConfig::parse(
//!     "CONFIG_X86_64=y\nCONFIG_STACKPROTECTOR_STRONG=y\nCONFIG_SLUB_TINY=y\n",
//!     "example.config",
//! )?;
//! let tc = Toolchain::debian12_gcc(Arch::X86_64, false);
//! let report = evaluate(&Inputs::config(&config), &tc, &Policy::default());
//!
//! assert_eq!(report.get("kconfig:STACKPROTECTOR_STRONG").unwrap().status, Status::Ok);
//! assert_eq!(report.get("kconfig:SLUB_TINY").unwrap().status, Status::Fail);
//! let stackleak = report.get("kconfig:GCC_PLUGIN_STACKLEAK").unwrap();
//! assert_eq!(stackleak.status, Status::NotApplicable);
//! assert_eq!(stackleak.reason, "GCC plugins without gcc-12-plugin-dev");
//! assert_eq!(report.get("kconfig:SHADOW_CALL_STACK").unwrap().reason, "arm64-only rule, target is x86_64");
//! assert!(!report.passes());
//! assert!(report.to_json().contains("\"fail\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With a command line and sysctls, their rules are judged too; a kconfig default can satisfy a
//! command-line rule (`init_on_alloc=1` *or* `CONFIG_INIT_ON_ALLOC_DEFAULT_ON=y`):
//!
//! ```
//! use harden::{evaluate, Arch, Cmdline, Inputs, KernelConfig, Policy, Status, Sysctls, Toolchain};
//!
//! let config = KernelConfig::parse("CONFIG_X86_64=y\nCONFIG_INIT_ON_ALLOC_DEFAULT_ON=y\n", "c")?;
//! let cmdline = Cmdline::parse("root=/dev/vda mitigations=off", "/proc/cmdline")?;
//! let sysctls = Sysctls::parse("kernel.kptr_restrict = 1\n", "sysctl -a")?;
//! let inputs = Inputs { config: &config, cmdline: Some(&cmdline), sysctls: Some(&sysctls) };
//! let report = evaluate(&inputs, &Toolchain::debian12_gcc(Arch::X86_64, true), &Policy::report_only());
//!
//! assert_eq!(report.get("cmdline:mitigations").unwrap().status, Status::Fail);
//! assert_eq!(report.get("cmdline:init_on_alloc").unwrap().status, Status::Ok);
//! assert_eq!(report.get("sysctl:kernel.kptr_restrict").unwrap().status, Status::Fail);
//! assert!(report.passes(), "report_only requires nothing");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Policies
//!
//! ```
//! use harden::Policy;
//!
//! let p = Policy::from_toml(r#"
//!     [require]
//!     groups = ["self-protection", "security-policy"]
//!     rules = ["sysctl:kernel.kptr_restrict"]
//!     [relax]
//!     "kconfig:PANIC_ON_OOPS" = "this box must stay up to collect crash data"
//! "#, "policy.toml")?;
//! assert_eq!(p.relaxed_reason("kconfig:PANIC_ON_OOPS"), Some("this box must stay up to collect crash data"));
//! assert!(Policy::from_toml("[relax]\n\"kconfig:TYPO\" = \"x\"\n", "p.toml").is_err());
//! # Ok::<(), harden::Error>(())
//! ```
//!
//! # The bug7 guard
//!
//! Given the kernel tree, [`explain_failures`] traces each required failure through Kconfig:
//!
//! ```no_run
//! use harden::{evaluate, explain_failures, Arch, Inputs, KconfigTree, KernelConfig, Policy, Toolchain};
//!
//! let config = KernelConfig::read("build/.config".as_ref())?;
//! let tree = KconfigTree::load("/usr/src/linux-6.12".as_ref(), Arch::X86_64)?;
//! let report = evaluate(&Inputs::config(&config), &Toolchain::from_config(&config, ".config")?, &Policy::default());
//! for r in explain_failures(&report, &config, &tree) {
//!     // kconfig:SLAB_FREELIST_HARDENED: CONFIG_SLAB_FREELIST_HARDENED is off because it
//!     // depends on !SLUB_TINY (mm/Kconfig:282), and CONFIG_SLUB_TINY=y
//!     println!("{}: {}", r.rule, r.culprit);
//! }
//! # Ok::<(), harden::Error>(())
//! ```
//!
//! # Fragments
//!
//! [`fragment()`] writes the required self-protection options the toolchain supports, plus
//! their prerequisites. RANDSTRUCT is left out unless a seed is pinned
//! ([`FragmentOptions::randstruct_seed_pinned`]); GCC plugins only when the toolchain has them.
//!
//! ```
//! use harden::{fragment, Arch, FragmentOptions, Policy, Toolchain};
//!
//! let text = fragment(&Toolchain::debian12_gcc(Arch::X86_64, true), &Policy::default(), FragmentOptions::default());
//! assert!(text.contains("CONFIG_GCC_PLUGIN_STACKLEAK=y"));
//! assert!(!text.contains("CONFIG_RANDSTRUCT_FULL=y"));
//! ```

//!
//! # Tests and the kernel tree
//!
//! Plain `cargo test` checks the table (unique ids, a why and a source everywhere, coverage),
//! the evaluator, the parsers (with proptest) and the Kconfig reader on small hand-made trees,
//! plus Debian's real 6.12 amd64 config from the `linux-config-6.12` package. The tests that
//! need a full Linux 6.12 tree — every kconfig symbol exists for its arch; the fragment
//! survives `allnoconfig` + `olddefconfig` on x86_64 and arm64; the dependency-loss refusal —
//! take it from `SAMEKERNEL_LINUX_SRC` and are `#[ignore = "network"]`: `cargo xtask test`
//! unpacks the pinned source with `kernel-deb source` and sets the variable. No generated
//! symbol list stands in for the tree.

pub mod check;
pub mod cmdline;
mod error;
pub mod eval;
pub mod fragment;
pub mod guard;
pub mod inputs;
pub mod kconfig_tree;
pub mod policy;
pub mod render;
pub mod resolve;
pub mod rules;
pub mod sysctl;
mod toolchain;

pub use cmdline::Cmdline;
pub use error::{Error, Result};
pub use eval::{Inputs, Report, RuleResult, Status, Totals, evaluate};
pub use fragment::{FragmentOptions, fragment};
pub use guard::{Refusal, explain_failures};
pub use kbuild_env::KernelConfig;
pub use kconfig_tree::KconfigTree;
pub use policy::Policy;
pub use sysctl::Sysctls;
pub use toolchain::{Arch, Compiler, Toolchain};
