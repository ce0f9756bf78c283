//! One report from named inputs, as `kernel-deb harden-report` asks for it: a config
//! (its text and where it came from), an optional command line and sysctls (files,
//! or the running kernel's), an optional policy file, and an optional kernel tree to
//! trace each required failure to its Kconfig culprit.
//!
//! ```no_run
//! use harden::check::{Extras, Request, check};
//!
//! let (text, origin) = harden::inputs::running_config()?;
//! let request = Request { extras: Extras::Running, ..Request::new(&text, &origin) };
//! let checked = check(&request)?;
//! print!("{}", checked.report.render_text(&checked.refusals, harden::render::Show::Fail));
//! # Ok::<(), harden::Error>(())
//! ```

use std::path::{Path, PathBuf};

use crate::inputs::{read_text, running_cmdline, running_sysctls};
use crate::{
    Cmdline, Inputs, KconfigTree, KernelConfig, Policy, Refusal, Report, Result, Sysctls, Toolchain,
};

/// Where the command line and sysctls come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extras {
    /// A saved command line and/or sysctl listing; without them, the rules about
    /// them are not applicable.
    Files {
        /// A kernel command line (e.g. a saved `/proc/cmdline`).
        cmdline: Option<PathBuf>,
        /// `sysctl -a` output or sysctl.conf text.
        sysctl: Option<PathBuf>,
    },
    /// `/proc/cmdline` and `/proc/sys`.
    Running,
}

/// What to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The config's text.
    pub config: &'a str,
    /// Where it came from (named in errors and the report).
    pub origin: &'a str,
    /// Command line and sysctls.
    pub extras: Extras,
    /// A policy file (TOML) [default: [`Policy::default`]].
    pub policy: Option<PathBuf>,
    /// The kernel source the config belongs to: explain each required failure.
    pub kernel_tree: Option<PathBuf>,
}

impl<'a> Request<'a> {
    /// The config alone (no command line or sysctls), under the default policy.
    pub fn new(config: &'a str, origin: &'a str) -> Request<'a> {
        Request {
            config,
            origin,
            extras: Extras::Files {
                cmdline: None,
                sysctl: None,
            },
            policy: None,
            kernel_tree: None,
        }
    }
}

/// The report and what it was made with.
#[derive(Debug)]
pub struct Checked {
    /// Every rule's result.
    pub report: Report,
    /// Each required failure traced through Kconfig (empty without a kernel tree, or
    /// when the policy passes).
    pub refusals: Vec<Refusal>,
    /// The toolchain facts read from the config.
    pub toolchain: Toolchain,
    /// The policy applied.
    pub policy: Policy,
}

fn parse_file<T>(path: &Path, parse: impl Fn(&str, &str) -> Result<T>) -> Result<T> {
    parse(&read_text(path)?, &path.display().to_string())
}

/// Parses the inputs, evaluates every rule, and explains the required failures
/// when a kernel tree is given.
pub fn check(request: &Request<'_>) -> Result<Checked> {
    let config = KernelConfig::parse(request.config, request.origin)?;
    let toolchain = Toolchain::from_config(&config, request.origin)?;
    let policy = match &request.policy {
        Some(p) => parse_file(p, Policy::from_toml)?,
        None => Policy::default(),
    };
    let (cmdline, sysctls) = match &request.extras {
        Extras::Running => (Some(running_cmdline()?), Some(running_sysctls()?)),
        Extras::Files { cmdline, sysctl } => (
            cmdline
                .as_deref()
                .map(|p| parse_file(p, Cmdline::parse))
                .transpose()?,
            sysctl
                .as_deref()
                .map(|p| parse_file(p, Sysctls::parse))
                .transpose()?,
        ),
    };
    let inputs = Inputs {
        config: &config,
        cmdline: cmdline.as_ref(),
        sysctls: sysctls.as_ref(),
    };
    let report = crate::evaluate(&inputs, &toolchain, &policy);
    let refusals = match &request.kernel_tree {
        Some(tree) if !report.passes() => {
            let tree = KconfigTree::load(tree, toolchain.arch)?;
            crate::explain_failures(&report, &config, &tree)
        }
        _ => Vec::new(),
    };
    Ok(Checked {
        report,
        refusals,
        toolchain,
        policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_and_named_and_the_policy_applies() {
        let dir = tempfile::tempdir().unwrap();
        let config = "CONFIG_X86_64=y\nCONFIG_CC_IS_GCC=y\nCONFIG_GCC_VERSION=120200\n";
        let cmdline = dir.path().join("cmdline");
        std::fs::write(&cmdline, "ro quiet\n").unwrap();
        let request = Request {
            extras: Extras::Files {
                cmdline: Some(cmdline.clone()),
                sysctl: None,
            },
            ..Request::new(config, "tiny.config")
        };
        let checked = check(&request).unwrap();
        assert!(!checked.report.passes());
        assert!(
            checked.refusals.is_empty(),
            "no kernel tree, no explanations"
        );

        let missing = dir.path().join("no-sysctls");
        let request = Request {
            extras: Extras::Files {
                cmdline: None,
                sysctl: Some(missing),
            },
            ..Request::new(config, "tiny.config")
        };
        let e = check(&request).unwrap_err().to_string();
        assert!(e.contains("no-sysctls"), "{e}");

        let policy = dir.path().join("p.toml");
        std::fs::write(&policy, "[require]\nrules = [\"no-such-rule\"]\n").unwrap();
        let request = Request {
            policy: Some(policy),
            ..Request::new(config, "tiny.config")
        };
        assert!(matches!(check(&request), Err(crate::Error::Policy { .. })));
    }
}
