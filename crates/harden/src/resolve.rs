//! Resolving a fragment for real: `make allnoconfig KCONFIG_ALLCONFIG=…` then
//! `make olddefconfig` in a kernel tree, out of tree (`O=`), so the tree may be read-only.

use std::path::Path;
use std::process::Command;

use kbuild_env::KernelConfig;

use crate::error::{Error, Result};
use crate::toolchain::Arch;

/// Resolves `allconfig` (base config text followed by fragments) against the kernel tree
/// `src` for `arch`, in the empty or absent directory `out`, and returns the `.config`.
/// For arm64 `cross_compile` is the compiler prefix (`aarch64-linux-gnu-`) so Kconfig's
/// compiler tests ask the right compiler.
pub fn resolve_allnoconfig(
    src: &Path,
    arch: Arch,
    cross_compile: Option<&str>,
    allconfig: &str,
    out: &Path,
) -> Result<KernelConfig> {
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.into(),
        source,
    })?;
    let all = out.join("allconfig.fragment");
    std::fs::write(&all, allconfig).map_err(|source| Error::Io {
        path: all.clone(),
        source,
    })?;
    let allconfig_arg = format!("KCONFIG_ALLCONFIG={}", all.display());
    make(
        src,
        arch,
        cross_compile,
        out,
        &[&allconfig_arg, "allnoconfig"],
    )?;
    make(src, arch, cross_compile, out, &["olddefconfig"])?;
    Ok(KernelConfig::read(&out.join(".config"))?)
}

fn make(src: &Path, arch: Arch, cross: Option<&str>, out: &Path, args: &[&str]) -> Result<()> {
    let mut cmd = Command::new("make");
    cmd.arg("-s")
        .arg("-C")
        .arg(src)
        .arg(format!("O={}", out.display()))
        .arg(format!("ARCH={}", arch.name()));
    if let Some(prefix) = cross {
        cmd.arg(format!("CROSS_COMPILE={prefix}"));
    }
    let output = cmd
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .map_err(|source| Error::Io {
            path: "make".into(),
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: String = stderr
        .lines()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    Err(Error::Make {
        target: args.join(" "),
        tree: src.into(),
        status: output.status.to_string(),
        stderr: tail,
    })
}
