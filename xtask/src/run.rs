//! `cargo xtask run [kernel-deb build flags…]`: the main job. A real deterministic
//! kernel build of the built-in default (Debian's linux-source-6.12, pinned; the
//! `generic` flavour: x86_64_defconfig + kvm_guest.config + generic.config, about
//! 10-15 min at -j2; pass `--flavour tiny` for a ~2-3 min build) into
//! `target/kernel-debs/`: linux-image and linux-headers .debs and their build record.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::cmd::{release_kernel_deb, run, sha256_file, step};
use crate::deps::install_apt_packages;
use crate::flags::Flags;

pub fn main_job(flags: Flags) -> Result<()> {
    let passed_on = flags.into_rest();
    install_apt_packages()?;
    let bin = release_kernel_deb()?;
    let out = PathBuf::from("target/kernel-debs");
    let _ = std::fs::remove_dir_all(&out);
    step("kernel-deb build (fetch + verify the pin, unpack, configure, kbuild, package)");
    run(Command::new(bin)
        .arg("build")
        .arg("--out")
        .arg(&out)
        .args(passed_on))?;
    step("result");
    let mut built: Vec<PathBuf> = std::fs::read_dir(&out)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    built.sort();
    for p in built {
        eprintln!("{}  {}", sha256_file(&p)?, p.display());
    }
    eprintln!(
        "\nRebuild anywhere with `kernel-deb build`: the same pin gives these same sha256s.\n\
         Sign them with `kernel-deb testify --record {}/BUILD-RECORD …`.",
        out.display()
    );
    Ok(())
}
