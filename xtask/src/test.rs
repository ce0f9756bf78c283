//! `cargo xtask test [--slow] [--fuzz-seconds N]`: what CI runs (`.ci/run`).
//!
//! deps, fmt check, clippy `-D warnings`, the test-gating check, the whole test suite
//! with the network tests (real dpkg-deb, gpg, sqv, Debian's packages and archive),
//! a fuzz smoke run and `cargo deny check`. `--slow` also runs the `slow_` tests.

use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::cmd::{cargo, run, step};
use crate::deps::{cargo_tool, install_apt_packages};
use crate::flags::Flags;
use crate::gating::{SLOW_PREFIX, check_tree};

pub fn test(mut flags: Flags) -> Result<()> {
    let slow = flags.switch("--slow");
    let fuzz_seconds = flags.value_or("--fuzz-seconds", crate::fuzz::SMOKE_SECONDS)?;
    flags.finish()?;
    let t0 = Instant::now();
    install_apt_packages()?;
    step("cargo fmt --check");
    run(&mut cargo(["fmt", "--all", "--", "--check"]))?;
    step("cargo clippy");
    run(&mut cargo([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("test gating: #[ignore = \"network\"] | #[ignore = \"slow: …\"] on slow_* tests");
    let problems = check_tree(Path::new("crates"))?;
    if !problems.is_empty() {
        bail!(
            "tests break the gating convention (docs/ARCHITECTURE.md, Testing):\n{}",
            problems.join("\n")
        );
    }
    step(if slow {
        "cargo test, every ignored test included (network and slow)"
    } else {
        "cargo test with the network tests (real dpkg-deb, gpg, sqv, Debian's archive); slow_* skipped"
    });
    let linux_src = pinned_source_tree()?;
    let mut test = cargo([
        "test",
        "--workspace",
        "--no-fail-fast",
        "--",
        "--include-ignored",
    ]);
    if !slow {
        test.args(["--skip", SLOW_PREFIX]);
    }
    test.env("SAMEKERNEL_LINUX_SRC", &linux_src);
    run(&mut test)?;
    crate::fuzz::smoke(fuzz_seconds)?;
    cargo_tool("deny", "cargo-deny")?;
    step("cargo deny check licenses bans sources (advisories need GitHub: see deny.toml)");
    run(&mut cargo([
        "deny",
        "--log-level",
        "error",
        "check",
        "licenses",
        "bans",
        "sources",
    ]))?;
    eprintln!("\nall checks passed in {:.0} s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// The pinned source, unpacked once under `target/` by `kernel-deb source` (which
/// verifies it against the built-in pin), for the tests that read its Kconfig files or
/// build against it (`SAMEKERNEL_LINUX_SRC`). Reused while complete: `kernel-deb source`
/// renames the tree into place only when finished.
fn pinned_source_tree() -> Result<std::path::PathBuf> {
    let tree = std::env::current_dir()?.join("target/pinned-linux-source");
    if !tree.join("Kconfig").is_file() {
        step("the pinned Linux source for the tests (kernel-deb source)");
        if tree.exists() {
            std::fs::remove_dir_all(&tree)?;
        }
        run(cargo([
            "run",
            "--quiet",
            "-p",
            "kernel-deb",
            "--",
            "source",
            "--out",
        ])
        .arg(&tree))?;
    }
    Ok(tree)
}
