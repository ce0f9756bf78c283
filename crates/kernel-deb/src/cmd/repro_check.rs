//! `kernel-deb repro-check [--vary LIST] [--no-vary LIST] [-- BUILD FLAGS…]`: build
//! the same pin and config twice, the second time with reprotest's variations
//! (another directory, user, hostname, clock, personality, CPUs, umask, locale,
//! PATH…), then compare the two output directories with debdiff.
//!
//! Both builds are child `kernel-deb build` processes (this binary), run one
//! after the other; everything after `--` is passed to both (`--config`,
//! `--config-fragment`, `-Z`, `--arch`, `--with-libc-dev`…). A variation this
//! machine cannot apply is skipped and named with the reason, never silently.
//!
//! `--keep-out` keeps both output directories even when identical (the CI test
//! installs and boots what it checked). `--control DIR` compares against packages
//! already built (published ones, or build a of an earlier check) and runs only the
//! varied build: what a witness does to confirm a release.
//!
//! Exit codes: 0 reproducible, 1 the packages differ, 2 bad input (unknown
//! variation, a build flag the check sets itself), 3 a build failed (its work
//! directory is kept).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use samekernel::repro::{self, BuildInvocation, Kept, PreparedSide, Side, VariationSet};

/// Arguments of `kernel-deb repro-check`.
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
    /// Cache whose source blobs both builds share (hard links) [default:
    /// $SAMEKERNEL_CACHE, else $XDG_CACHE_HOME/samekernel].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Where the two builds happen [default: a fresh directory in TMPDIR]; must not
    /// exist. Removed afterwards, except the packages when they differ.
    #[arg(long, value_name = "DIR")]
    pub base: Option<PathBuf>,
    /// The debdiff report as JSON on stdout (the progress lines go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Keep both output directories (BASE/a/out, BASE/b/out) even when identical,
    /// e.g. to install or boot what was checked.
    #[arg(long)]
    pub keep_out: bool,
    /// Packages already built (a directory of .debs and BUILD-RECORD, e.g. a release
    /// or BASE/a/out of an earlier check) to compare with: build a is skipped, only
    /// the varied build b runs. The build flags must be the ones that made them.
    #[arg(long, value_name = "DIR")]
    pub control: Option<PathBuf>,
    /// Flags for both `kernel-deb build` runs, after `--`.
    #[arg(last = true, value_name = "BUILD FLAGS")]
    pub build_args: Vec<OsString>,
}

pub fn run(args: ReproCheckArgs) -> Result<ExitCode> {
    let wanted = match repro::check_build_args(&args.build_args, args.jobs)
        .and_then(|()| VariationSet::from_flags(args.vary.as_deref(), args.no_vary.as_deref()))
    {
        Ok(w) => w,
        Err(problem) => {
            eprintln!("kernel-deb repro-check: {problem}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(c) = args
        .control
        .as_ref()
        .filter(|c| !c.join("BUILD-RECORD").is_file())
    {
        eprintln!(
            "kernel-deb repro-check: --control {}: no BUILD-RECORD there; give the directory a build wrote (its .debs and BUILD-RECORD)",
            c.display()
        );
        return Ok(ExitCode::from(2));
    }
    let (applied, skipped) = wanted.plan(&repro::probe_capabilities());
    let mut err = std::io::stderr().lock();
    writeln!(err, "varied in build b: {}", applied.names())?;
    for v in applied.iter() {
        writeln!(err, "  {v}: {}", repro::describe(v))?;
    }
    for (v, why) in &skipped {
        writeln!(err, "  skipped {v}: {why}")?;
    }
    drop(err);

    let base = repro::make_base(args.base.as_deref())?;
    let inv = BuildInvocation {
        kernel_deb: std::env::current_exe().context("finding this kernel-deb binary")?,
        build_args: args.build_args.clone(),
        jobs: args.jobs,
        machine: repro::uname_machine()?,
    };
    let user_cache = super::fetch::cache_root(args.cache.clone())?;
    let mut outs = Vec::new();
    let mut sides = vec![Side::Control, Side::Experiment];
    if let Some(control) = &args.control {
        eprintln!("build a: not built; comparing with {}", control.display());
        outs.push(control.clone());
        sides.remove(0);
    }
    for side in sides {
        let prepared = PreparedSide::new(&inv, &base, side, &applied, &user_cache)?;
        let (out, work_dir) = (prepared.paths.out.clone(), prepared.paths.work_dir.clone());
        eprintln!("build {}: {}", side.letter(), prepared.child.display());
        let Some(took) = prepared.run()? else {
            eprintln!(
                "kernel-deb repro-check: build {} failed; its work directory is kept: {}",
                side.letter(),
                work_dir.display()
            );
            return Ok(ExitCode::from(3));
        };
        eprintln!(
            "build {}: {} s ({})",
            side.letter(),
            took.as_secs(),
            out.display()
        );
        outs.push(out);
    }
    compare(&base, &outs[0], &outs[1], &args)
}

/// debdiff over the two output directories; prints per package and cleans up.
fn compare(base: &Path, a: &Path, b: &Path, args: &ReproCheckArgs) -> Result<ExitCode> {
    let report = match debdiff::diff_dirs(a, b, &debdiff::Limits::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kernel-deb repro-check: comparing the outputs: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut out = std::io::stdout().lock();
    for line in repro::per_package(a, &report)? {
        writeln!(out, "{line}")?;
    }
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else if !report.is_identical() {
        out.write_all(report.render().as_bytes())?;
    }
    let identical = report.is_identical();
    let kept_in = match &args.control {
        Some(_) => format!("{}/b/out", base.display()),
        None => format!("{}/{{a,b}}/out", base.display()),
    };
    let (line, code) = match (repro::clean_up(base, identical, args.keep_out)?, identical) {
        (Kept::Nothing, _) => ("reproducible: every package is identical".to_owned(), 0),
        // --keep-out: identical, and the outputs stay for whoever asked to keep them.
        (Kept::Outputs, true) => (
            format!("reproducible: every package is identical; kept in {kept_in}"),
            0,
        ),
        (Kept::Outputs, false) => (
            format!("NOT reproducible; the packages are kept in {kept_in}"),
            1,
        ),
    };
    writeln!(out, "{line}")?;
    Ok(ExitCode::from(code))
}
