//! `kernel-deb repro-check`: build twice, the second time under reprotest's variations,
//! and compare (`samekernel::repro`). Exit codes: 0 reproducible, 1 the packages differ,
//! 2 bad input, 3 a build failed (its work directory is kept).

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::Exit;
use anyhow::{Context, Result};
use samekernel::repro::{self, BuildInvocation, ReproError, Sides, VariationSet};

/// Build twice under reprotest's variations and compare the packages.
#[derive(Debug, clap::Args)]
pub struct ReproCheckArgs {
    /// Comma-separated variations to apply (default: all). Names: environment,
    /// build_path, kernel, aslr, num_cpus, time, user_group, fileordering,
    /// domain_host, home, locales, exec_path, timezone, umask.
    #[arg(long, value_name = "LIST")]
    pub vary: Option<String>,
    /// Comma-separated variations not to apply (to bisect a cause).
    #[arg(long, value_name = "LIST")]
    pub no_vary: Option<String>,
    /// Parallel jobs of the control build (the experiment uses 1 with num_cpus).
    #[arg(short, long, default_value_t = 2)]
    pub jobs: u32,
    /// Cache whose source blobs both builds share (hard links) [default: as `build`'s].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Where the builds happen (must not exist; removed but for differing packages).
    #[arg(long, value_name = "DIR")]
    pub base: Option<PathBuf>,
    /// The debdiff report as JSON on stdout (the progress lines go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Keep BASE/a/out and BASE/b/out even when identical (to install or boot them).
    #[arg(long)]
    pub keep_out: bool,
    /// Compare with packages already built (.debs and BUILD-RECORD, e.g. a release) by the
    /// same build flags: only the varied build b runs.
    #[arg(long, value_name = "DIR")]
    pub control: Option<PathBuf>,
    /// Flags for both `kernel-deb build` runs, after `--`.
    #[arg(last = true, value_name = "BUILD FLAGS")]
    pub build_args: Vec<OsString>,
}

pub fn run(args: ReproCheckArgs) -> Result<ExitCode> {
    let control = args.control.as_deref();
    let wanted = repro::check_build_args(&args.build_args, args.jobs)
        .and_then(|()| control.map_or(Ok(()), repro::check_control))
        .and_then(|()| VariationSet::from_flags(args.vary.as_deref(), args.no_vary.as_deref()));
    let wanted = wanted.map_err(bad_input)?;
    let (applied, skipped) = wanted.plan(&repro::probe_capabilities());
    let plan = repro::plan_lines(&applied, &skipped).join("\n");
    eprintln!("{}", super::shown(&plan));
    let base = repro::make_base(args.base.as_deref())?;
    let inv = BuildInvocation {
        kernel_deb: std::env::current_exe().context("finding this kernel-deb binary")?,
        build_args: args.build_args.clone(),
        jobs: args.jobs,
        machine: repro::uname_machine()?,
    };
    let user_cache = super::fetch::cache_root(args.cache.clone())?;
    let progress = &mut |line: String| eprintln!("{}", super::shown(&line));
    let (a, b) = match repro::run_sides(&inv, &base, &applied, &user_cache, control, progress)? {
        Sides::Built(a, b) => (a, b),
        Sides::Failed { side, work_dir } => {
            let (side, dir) = (side.letter(), work_dir.display());
            let kept = format!("build {side} failed; its work directory is kept: {dir}");
            Err(Exit(3, format!("kernel-deb repro-check: {kept}")))?
        }
    };
    let c = match repro::compare(&base, &a, &b, control.is_some(), args.keep_out) {
        Err(e @ ReproError::Compare(_)) => Err(bad_input(e))?,
        other => other?,
    };
    let mut out = std::io::stdout().lock();
    (c.packages.iter()).try_for_each(|p| writeln!(out, "{}", super::shown(&p.to_string())))?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&c.report)?)?;
    } else if !c.reproducible() {
        out.write_all(super::shown(&c.report.render()).as_bytes())?;
    }
    writeln!(out, "{}", super::shown(&c.verdict().to_string()))?;
    Ok(ExitCode::from(if c.reproducible() { 0 } else { 1 }))
}

fn bad_input(problem: ReproError) -> Exit {
    Exit(2, format!("kernel-deb repro-check: {problem}"))
}
