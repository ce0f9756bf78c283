//! Install orchestration without a race: verify exactly the bytes dpkg gets.
//!
//! Verifying `/srv/x.deb` and then running `dpkg -i /srv/x.deb` installs
//! whatever is at that path when dpkg opens it: anyone who can write to
//! `/srv` between the two steps gets their own file installed. So [`install`]
//! first copies every .deb (each opened once) into a fresh private directory
//! (mode 0700, owned by the caller), verifies **those copies**, and hands
//! **those copies** to dpkg. Nothing can change them in between except their
//! owner.
//!
//! ```no_run
//! use samekernel::install::{DpkgTarget, install};
//! use samekernel::verify::TrustInputs;
//! # fn main() -> Result<(), samekernel::verify::VerifyError> {
//! let inputs = TrustInputs::new("policy.toml".into(), vec!["t/".into()], vec!["w.cert".into()]);
//! let done = install(&["linux-image.deb".into()], &inputs, &DpkgTarget::default())?;
//! print!("{}", done.report.to_table());
//! # Ok(()) }
//! ```

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::verify::{Report, TrustInputs, VerifyError, verify};

/// Where dpkg installs.
#[derive(Debug, Clone, Default)]
pub struct DpkgTarget {
    /// `dpkg --root DIR` (installs under DIR, database DIR/var/lib/dpkg);
    /// `None`: the running system.
    pub root: Option<PathBuf>,
}

/// What happened after verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// The verdict did not pass: nothing was installed.
    Nothing,
    /// dpkg installed this many package files.
    Installed(usize),
    /// The verdict passed but dpkg failed (its exit status).
    DpkgFailed(String),
}

/// The verdict and what was installed.
#[derive(Debug, Clone)]
pub struct InstallOutcome {
    /// The verification report (of the private copies).
    pub report: Report,
    /// What dpkg did.
    pub installed: Installed,
}

/// The exit code of `kernel-deb install` when the .debs passed but dpkg failed.
pub const DPKG_FAILED: u8 = 5;

impl InstallOutcome {
    /// The line after the matrix, and the exit code: the verdict's when nothing was
    /// installed, 0 once installed, [`DPKG_FAILED`] when dpkg failed.
    pub fn summary(&self) -> (String, u8) {
        match &self.installed {
            Installed::Nothing => (
                "nothing was installed".into(),
                self.report.verdict.exit_code(),
            ),
            Installed::Installed(n) => (
                format!("installed {n} package file(s) with dpkg (the verified private copies)"),
                0,
            ),
            Installed::DpkgFailed(status) => (format!("dpkg failed ({status})"), DPKG_FAILED),
        }
    }
}

/// Copies, verifies and installs `debs` (see the module docs).
pub fn install(
    debs: &[PathBuf],
    inputs: &TrustInputs,
    target: &DpkgTarget,
) -> Result<InstallOutcome, VerifyError> {
    install_with_hook(debs, inputs, target, &mut |_| {})
}

/// [`install`], calling `between` after verification and before dpkg (with
/// the private copies): tests use it to change the original files at the worst
/// moment.
pub fn install_with_hook(
    debs: &[PathBuf],
    inputs: &TrustInputs,
    target: &DpkgTarget,
    between: &mut dyn FnMut(&[PathBuf]),
) -> Result<InstallOutcome, VerifyError> {
    let private = tempfile::Builder::new()
        .prefix("kernel-deb-install-")
        .tempdir()
        .map_err(|e| VerifyError::Io {
            path: std::env::temp_dir(),
            source: e,
        })?;
    let copies = private_copies(debs, private.path())?;
    let report = verify(&copies, inputs)?;
    if !report.verdict.passed() {
        return Ok(InstallOutcome {
            report,
            installed: Installed::Nothing,
        });
    }
    between(&copies);
    let installed = dpkg_install(&copies, target)?;
    Ok(InstallOutcome { report, installed })
}

/// Copies each .deb (opened once) into `dir` as `N/NAME` (the user's file
/// name, so the report shows it), fsynced.
fn private_copies(debs: &[PathBuf], dir: &Path) -> Result<Vec<PathBuf>, VerifyError> {
    let mut out = Vec::with_capacity(debs.len());
    for (i, deb) in debs.iter().enumerate() {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| VerifyError::Io { path, source }
        };
        let name = deb.file_name().map_or_else(
            || "package.deb".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        let slot = dir.join(i.to_string());
        std::fs::create_dir(&slot).map_err(io(&slot))?;
        let copy = slot.join(name);
        // Errors about the package name the user's file, not the private copy
        // (only the copy is hashed, by `verify`).
        crate::verify::control_identity(deb)?;
        let mut src = safe_extract::regular::open_regular(deb).map_err(io(deb))?;
        let mut dst = File::create_new(&copy).map_err(io(&copy))?;
        std::io::copy(&mut src, &mut dst).map_err(io(&copy))?;
        dst.flush().map_err(io(&copy))?;
        dst.sync_all().map_err(io(&copy))?;
        out.push(copy);
    }
    Ok(out)
}

fn dpkg_install(copies: &[PathBuf], target: &DpkgTarget) -> Result<Installed, VerifyError> {
    let mut cmd = Command::new("dpkg");
    if let Some(root) = &target.root {
        cmd.arg("--root").arg(root);
    }
    cmd.arg("-i").args(copies);
    let status = cmd.status().map_err(|source| VerifyError::Io {
        path: "dpkg".into(),
        source,
    })?;
    Ok(if status.success() {
        Installed::Installed(copies.len())
    } else {
        Installed::DpkgFailed(status.to_string())
    })
}
