//! `kernel-deb install`: verify, and install only what passed.
//!
//! ```text
//! kernel-deb install DEB... --policy P --testimonies DIR|URL... --keyring FILE... [--root DIR] [--at TIME]
//! ```
//!
//! Copies the .debs into a private directory, runs exactly the checks of
//! `kernel-deb verify` on those copies, and only when every .deb passes runs
//! `dpkg -i` on the same copies (so nobody can swap a file between the check and
//! the install; see `samekernel::install`) (with `--root DIR`: `dpkg --root DIR -i`,
//! which installs under DIR and uses DIR/var/lib/dpkg as its database). On any
//! failure nothing is installed and the matrix says why.
//!
//! Exit codes: those of `verify` (0 pass and installed, 3 not enough votes, 4
//! dissent, 1 bad input), plus 5 when verification passed but dpkg failed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use samekernel::install::{DpkgTarget, Installed, install};

use super::verify::{TrustArgs, print_report};

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
