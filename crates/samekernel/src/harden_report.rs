//! `kernel-deb harden-report`'s work: read a config from a file, a linux-image .deb
//! (never unpacked) or the running system, check it with harden, and optionally write
//! the hardening fragment for its toolchain.
//!
//! ```no_run
//! use samekernel::harden_report::{ConfigInput, HardenReport, check};
//!
//! let mut request = HardenReport::new(ConfigInput::Deb("linux-image.deb".into()));
//! request.fragment = Some("harden.config".into());
//! let checked = check(&request)?;
//! print!("{}", checked.report.render_text(&checked.refusals, harden::render::Show::Fail));
//! # Ok::<(), samekernel::harden_report::HardenReportError>(())
//! ```

use std::path::PathBuf;

use harden::check::{Checked, Extras, Request};

use crate::image_config::ImageConfigError;

/// Where the config comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigInput {
    /// A resolved `.config`.
    File(PathBuf),
    /// The `boot/config-*` inside a linux-image .deb.
    Deb(PathBuf),
    /// The running kernel's (with its command line and sysctls).
    Running,
}

/// A report as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardenReport {
    /// The config.
    pub input: ConfigInput,
    /// A saved command line to check (not with [`ConfigInput::Running`]).
    pub cmdline: Option<PathBuf>,
    /// Saved sysctls to check (not with [`ConfigInput::Running`]).
    pub sysctl: Option<PathBuf>,
    /// A policy file [default: harden's].
    pub policy: Option<PathBuf>,
    /// The kernel tree the config belongs to: explain each required failure.
    pub kernel_tree: Option<PathBuf>,
    /// Where to write the hardening fragment for the config's toolchain.
    pub fragment: Option<PathBuf>,
}

/// Why no report could be made; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum HardenReportError {
    /// The package's config could not be read.
    #[error(transparent)]
    Image(#[from] ImageConfigError),
    /// A config, policy, command line or sysctl file is unreadable or malformed.
    #[error(transparent)]
    Harden(#[from] harden::Error),
    /// The fragment could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The fragment's path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl HardenReport {
    /// The config alone, under the default policy.
    pub fn new(input: ConfigInput) -> HardenReport {
        HardenReport {
            input,
            cmdline: None,
            sysctl: None,
            policy: None,
            kernel_tree: None,
            fragment: None,
        }
    }
}

/// Reads the input, checks it, and writes the fragment when asked (atomically).
pub fn check(r: &HardenReport) -> Result<Checked, HardenReportError> {
    let (text, origin) = match &r.input {
        ConfigInput::File(path) => (harden::inputs::read_text(path)?, path.display().to_string()),
        ConfigInput::Deb(deb) => {
            let found = crate::image_config::read(deb)?;
            (found.text, found.origin)
        }
        ConfigInput::Running => harden::inputs::running_config()?,
    };
    let extras = match r.input {
        ConfigInput::Running => Extras::Running,
        _ => Extras::Files {
            cmdline: r.cmdline.clone(),
            sysctl: r.sysctl.clone(),
        },
    };
    let request = Request {
        extras,
        policy: r.policy.clone(),
        kernel_tree: r.kernel_tree.clone(),
        ..Request::new(&text, &origin)
    };
    let checked = harden::check::check(&request)?;
    if let Some(path) = &r.fragment {
        let text = harden::fragment(&checked.toolchain, &checked.policy, Default::default());
        detdeb::safe_extract::atomic::write_file(path, text.as_bytes(), 0o644, ".harden-")
            .map_err(|source| HardenReportError::Write {
                path: path.clone(),
                source,
            })?;
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_is_checked_and_the_fragment_written() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(
            &config,
            "CONFIG_X86_64=y\nCONFIG_CC_IS_GCC=y\nCONFIG_GCC_VERSION=120200\n",
        )
        .unwrap();
        let mut r = HardenReport::new(ConfigInput::File(config));
        r.fragment = Some(dir.path().join("harden.config"));
        let checked = check(&r).unwrap();
        assert!(
            !checked.report.passes(),
            "a three-line config is not hardened"
        );
        let fragment = std::fs::read_to_string(dir.path().join("harden.config")).unwrap();
        assert!(fragment.contains("CONFIG_"), "{fragment}");
    }

    #[test]
    fn unreadable_inputs_name_the_file() {
        let r = HardenReport::new(ConfigInput::Deb("/nonexistent/image.deb".into()));
        let err = check(&r).unwrap_err();
        assert!(matches!(err, HardenReportError::Image(_)), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/image.deb"), "{err}");
        let r = HardenReport::new(ConfigInput::File("/nonexistent/config".into()));
        assert!(
            check(&r)
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/config")
        );
    }
}
