//! `kernel-deb install`: `samekernel::install` verifies private copies and `dpkg -i`s
//! exactly those. Exit codes: those of `verify`, plus 5 when dpkg failed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use samekernel::install::{DpkgTarget, Installed, install};

use super::verify::{TrustArgs, print_report};

/// Verify, then install with dpkg only if the policy passed.
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
    let target = DpkgTarget {
        root: args.root.clone(),
    };
    let done = install(&args.debs, &args.trust.inputs()?, &target)?;
    print_report(&done.report, false)?;
    let code = match &done.installed {
        Installed::Nothing => {
            println!("nothing was installed");
            done.report.verdict.exit_code()
        }
        Installed::Installed(n) => {
            println!("installed {n} package file(s) with dpkg (the verified private copies)");
            0
        }
        Installed::DpkgFailed(status) => {
            println!("dpkg failed ({status})");
            DPKG_FAILED
        }
    };
    Ok(ExitCode::from(code))
}
