//! `cargo xtask …`: the project's developer tasks (never shipped).
//!
//! * `cargo xtask deps` — `apt-get update` and install everything in
//!   `.ci/apt-packages` (with sudo when not root).
//! * `cargo xtask test [--slow] [--fuzz-seconds N]` — what CI runs ([`test`]).
//! * `cargo xtask run [kernel-deb build flags]` — the main job ([`run`]).
//! * `cargo xtask repro-check [flags] [-- build flags]` — build twice under
//!   reprotest's variations and compare ([`repro_check`]).
//! * `cargo xtask bench pack|verify|build|diff …` — speed against the reference tools
//!   ([`bench`]).
//! * `cargo xtask fuzz [--seconds N] [--runs N] [--target T]… [--sanitizer S]` and
//!   `cargo xtask fuzz seeds` — the fuzz targets and their seed corpus ([`fuzz`]).
//!
//! Every task parses its flags with [`flags::Flags`] and runs programs with argv
//! only ([`cmd`]): no path is ever pasted into a shell string.

mod bench;
mod cmd;
mod deps;
mod flags;
mod fuzz;
mod gating;
mod record;
mod repro_check;
mod run;
mod test;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};

use flags::Flags;

const USAGE: &str = "\
usage: cargo xtask <task>
  deps                                   install .ci/apt-packages
  test [--slow] [--fuzz-seconds N]       what CI runs (network tests included; --slow adds slow_*)
  run [kernel-deb build flags]           the main job: a real kernel build into target/kernel-debs
  repro-check [--vary L] [--no-vary L] [-- build flags]
                                         two builds under reprotest's variations, then debdiff
  bench pack [--runs N]                  detdeb vs dpkg-deb on Debian's linux-image tree
  bench verify [--runs N]                kernel-deb verify vs sha256sum + 20 x gpgv
  bench build [--flavour F] [-Z C] [--runs N]
                                         kernel-deb build vs make bindeb-pkg (same config),
                                         and our overhead beyond the compile
  bench diff [--runs N]                  kernel-deb diff vs diffoscope on a real differing pair
  fuzz [--seconds N] [--runs N] [--target T]... [--sanitizer address|none]
                                         every (or the named) fuzz target; prints executions
  fuzz seeds                             rebuild fuzz/seeds/ from real files";

fn main() -> ExitCode {
    match run_task() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_task() -> Result<()> {
    let mut flags = Flags::new(std::env::args().skip(1));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace");
    std::env::set_current_dir(root)?;
    match flags.word().as_deref() {
        Some("deps") => flags.finish().and_then(|()| deps::install_apt_packages()),
        Some("test") => test::test(flags),
        Some("run") => run::main_job(flags),
        Some("repro-check") => repro_check::repro_check(flags),
        Some("bench") => bench::dispatch(flags),
        Some("fuzz") => fuzz::dispatch(flags),
        None => bail!("no task given\n{USAGE}"),
        Some("help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task {other:?}\n{USAGE}"),
    }
}
