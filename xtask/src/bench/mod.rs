//! `cargo xtask bench pack|verify|build|diff`: our tools against the reference tools in the
//! same run, as medians and ratios (speed is measured here, never asserted in tests).

mod build;
mod diff;
mod pack;
mod verify;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd::{output, run};
use crate::flags::Flags;

pub fn dispatch(mut flags: Flags) -> Result<()> {
    match flags.word().as_deref() {
        Some("pack") => pack::bench_pack(flags),
        Some("verify") => verify::bench_verify(flags),
        Some("build") => build::bench_build(flags),
        Some("diff") => diff::bench_diff(flags),
        other => bail!(
            "unknown bench {:?}; try `cargo xtask bench pack|verify|build|diff`",
            other.unwrap_or("")
        ),
    }
}

/// Debian's newest linux-image-6.12.*-amd64-unsigned .deb, downloaded once into
/// `target/debian-debs/`.
fn debian_image_deb() -> Result<PathBuf> {
    let dir = PathBuf::from("target/debian-debs");
    std::fs::create_dir_all(&dir)?;
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                let n = p.file_name().unwrap_or_default().to_string_lossy();
                n.starts_with("linux-image-6.12.") && n.contains("-amd64-unsigned_")
            })
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    let names = output(Command::new("apt-cache").args([
        "search",
        "--names-only",
        r"^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$",
    ]))?;
    let pkg = newest_point_release(&names)
        .context("apt knows no linux-image-6.12.*-amd64-unsigned (run cargo xtask deps)")?;
    // Download into a private directory and rename into place, so a killed
    // or concurrent run never leaves a half-written .deb for `find` to take.
    let partial = dir.join(format!(".download-{}", std::process::id()));
    std::fs::create_dir_all(&partial)?;
    run(Command::new("apt-get")
        .arg("download")
        .arg(pkg)
        .current_dir(&partial))?;
    for e in std::fs::read_dir(&partial)? {
        let e = e?;
        std::fs::rename(e.path(), dir.join(e.file_name()))?;
    }
    std::fs::remove_dir(&partial)?;
    find().context("apt-get download produced no file")
}

/// The package with the highest 6.12 point release in `apt-cache search` output.
fn newest_point_release(apt_cache_search: &str) -> Option<&str> {
    let point = |p: &str| -> u32 {
        p.strip_prefix("linux-image-6.12.")
            .and_then(|r| r.split('+').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    apt_cache_search
        .lines()
        .filter_map(|l| l.split(' ').next())
        .max_by_key(|p| point(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_point_release_is_compared_as_a_number() {
        let search = "linux-image-6.12.9+deb12-amd64-unsigned - Linux 6.12\n\
                      linux-image-6.12.38+deb12-amd64-unsigned - Linux 6.12\n\
                      linux-image-6.12.10+deb12-amd64-unsigned - Linux 6.12\n";
        assert_eq!(
            newest_point_release(search),
            Some("linux-image-6.12.38+deb12-amd64-unsigned")
        );
        assert_eq!(newest_point_release(""), None);
    }
}
