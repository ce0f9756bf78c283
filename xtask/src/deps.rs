//! `cargo xtask deps`: the Debian packages in `.ci/apt-packages`, and the cargo
//! subcommands the other tasks use.

use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::cmd::{output, run, step};

/// `apt-get update` and install every package `.ci/apt-packages` names (with sudo
/// when not root).
pub fn install_apt_packages() -> Result<()> {
    step("installing Debian packages from .ci/apt-packages");
    let text = std::fs::read_to_string(".ci/apt-packages").context(".ci/apt-packages")?;
    run(&mut as_root(&["apt-get", "update", "-q"]))?;
    let mut install = as_root(&["apt-get", "install", "-y", "-q", "--no-install-recommends"]);
    install.args(package_names(&text));
    run(&mut install)
}

/// The names in an apt-packages list: one per line, `#` starts a comment.
fn package_names(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect()
}

fn as_root(argv: &[&str]) -> Command {
    let root = output(Command::new("id").arg("-u")).is_ok_and(|s| s.trim() == "0");
    let mut c = if root {
        Command::new(argv[0])
    } else {
        let mut c = Command::new("sudo");
        c.arg(argv[0]);
        c
    };
    c.args(&argv[1..]).env("DEBIAN_FRONTEND", "noninteractive");
    c
}

/// Installs `cargo <tool>` from crates.io (crate `krate`) unless it is already there.
pub fn cargo_tool(tool: &str, krate: &str) -> Result<()> {
    let have = Command::new("cargo")
        .args([tool, "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        step(&format!("installing {krate} from crates.io"));
        run(Command::new("cargo").args(["install", "--locked", krate]))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_not_packages() {
        let text = "# header\ndpkg-dev\n\n  zstd  # why\n#gone\n";
        assert_eq!(package_names(text), ["dpkg-dev", "zstd"]);
    }

    #[test]
    fn the_committed_list_names_the_reference_tools() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let text = std::fs::read_to_string(root.join(".ci/apt-packages")).unwrap();
        let names = package_names(&text);
        for must in ["dpkg-dev", "gpgv", "sqv"] {
            assert!(
                names.contains(&must),
                "{must} missing from .ci/apt-packages"
            );
        }
    }
}
