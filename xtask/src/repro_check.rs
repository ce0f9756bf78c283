//! `cargo xtask repro-check [kernel-deb repro-check flags…] [-- build flags…]`: the
//! reproducibility check of the built-in default (or of the build flags given after
//! `--`) with the release `kernel-deb`: two builds, the second under every
//! variation this machine allows, and a debdiff of the packages. Fails when they
//! differ (their directory is kept and named).

use std::process::Command;

use anyhow::{Result, bail};

use crate::cmd::{release_kernel_deb, step};
use crate::flags::Flags;

pub fn repro_check(flags: Flags) -> Result<()> {
    let passed_on = flags.into_rest();
    let bin = release_kernel_deb()?;
    step("kernel-deb repro-check (two builds, then debdiff)");
    let status = Command::new(&bin)
        .arg("repro-check")
        .args(&passed_on)
        .status()?;
    match status.code() {
        Some(0) => Ok(()),
        Some(1) => bail!("the two builds differ (see the report above)"),
        Some(2) => bail!("kernel-deb repro-check refused its input"),
        _ => bail!("kernel-deb repro-check failed: {status}"),
    }
}
