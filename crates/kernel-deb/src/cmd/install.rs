//! `kernel-deb install`: verify, and install only what passed.
//!
//! ```text
//! kernel-deb install DEB... --policy P --testimonies DIR|URL... --keyring FILE... [--root DIR] [--at TIME]
//! ```
//!
//! Runs exactly the checks of `kernel-deb verify` (see there). Only when every
//! .deb passes is `dpkg -i DEB...` run (with `--root DIR`: `dpkg --root DIR -i`,
//! which installs under DIR and uses DIR/var/lib/dpkg as its database). On any
//! failure nothing is installed and the matrix says why.
//!
//! Exit codes: those of `verify` (0 pass and installed, 3 not enough votes, 4
//! dissent, 1 bad input), plus 5 when verification passed but dpkg failed.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

use super::verify::{TrustArgs, decide};

/// Arguments of `kernel-deb install`.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The .deb files to verify and install.
    #[arg(value_name = "DEB", required = true)]
    pub debs: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Install into this dpkg root (`dpkg --root DIR`) instead of the running system.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// Exit code when the .debs passed but dpkg failed.
const DPKG_FAILED: u8 = 5;

pub fn run(args: InstallArgs) -> Result<ExitCode> {
    let (code, table) = install(&args)?;
    print!("{table}");
    Ok(ExitCode::from(code))
}

/// Verifies, installs on pass; returns the exit code and the report.
fn install(args: &InstallArgs) -> Result<(u8, String)> {
    let verdict = decide(&args.debs, &args.trust)?;
    let mut report = verdict.to_table();
    if !verdict.passed() {
        report.push_str("nothing was installed\n");
        return Ok((verdict.exit_code(), report));
    }
    let mut cmd = Command::new("dpkg");
    if let Some(root) = &args.root {
        cmd.arg("--root").arg(root);
    }
    cmd.arg("-i").args(&args.debs);
    let status = cmd.status().context("running dpkg")?;
    if status.success() {
        report.push_str(&format!(
            "installed {} package file(s) with dpkg\n",
            args.debs.len()
        ));
        Ok((0, report))
    } else {
        report.push_str(&format!("dpkg failed ({status})\n"));
        Ok((DPKG_FAILED, report))
    }
}

#[cfg(test)]
mod tests {
    use super::super::verify::tests::{make_deb, testify, trust};
    use super::*;

    fn dpkg_root(dir: &std::path::Path) -> PathBuf {
        let root = dir.join("root");
        for d in [
            "var/lib/dpkg/info",
            "var/lib/dpkg/updates",
            "var/lib/dpkg/triggers",
        ] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
        std::fs::write(root.join("var/lib/dpkg/available"), "").unwrap();
        root
    }

    #[test]
    fn installs_only_after_a_pass() {
        let dir = tempfile::tempdir().unwrap();
        let (deb, rec) = make_deb(dir.path(), "good");
        let (_, other) = make_deb(dir.path(), "evil");
        let root = dpkg_root(dir.path());
        let t = dir.path().join("t");
        std::fs::create_dir(&t).unwrap();
        std::fs::write(t.join("alice.asc"), testify("alice", &rec)).unwrap();
        std::fs::write(t.join("dave.asc"), testify("dave", &other)).unwrap();
        let installed = root.join("usr/share/sk-test/file");
        let args = |t: &std::path::Path| InstallArgs {
            debs: vec![deb.clone()],
            trust: trust(dir.path(), vec![t.display().to_string()]),
            root: Some(root.clone()),
        };
        // alice agrees, dave dissents: refused, nothing installed.
        let (code, report) = install(&args(&t)).unwrap();
        assert_eq!(code, 4, "{report}");
        assert!(report.contains("nothing was installed"));
        assert!(!installed.exists());
        // Only alice: not enough.
        std::fs::remove_file(t.join("dave.asc")).unwrap();
        assert_eq!(install(&args(&t)).unwrap().0, 3);
        assert!(!installed.exists());
        // alice and bob agree: installed into the dpkg root.
        std::fs::write(t.join("bob.asc"), testify("bob", &rec)).unwrap();
        let (code, report) = install(&args(&t)).unwrap();
        assert_eq!(code, 0, "{report}");
        assert_eq!(std::fs::read_to_string(&installed).unwrap(), "good");
        let status = std::fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
        assert!(
            status.contains("Package: sk-test") && status.contains("Status: install ok installed"),
            "{status}"
        );
    }
}
