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
//! installs and boots what it checked).
//!
//! Exit codes: 0 reproducible, 1 the packages differ, 2 bad input (unknown
//! variation, a build flag the check sets itself), 3 a build failed (its work
//! directory is kept).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use samekernel::repro::{self, BuildInvocation, Capabilities, Side, SidePaths, VariationSet};

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
    /// Flags for both `kernel-deb build` runs, after `--`.
    #[arg(last = true, value_name = "BUILD FLAGS")]
    pub build_args: Vec<OsString>,
}

/// Flags the check sets itself on each side.
const OWN_FLAGS: [&str; 8] = [
    "--out",
    "--work-dir",
    "--cache",
    "--jobs",
    "-j",
    "--keep-work",
    "--json",
    "--quiet",
];

pub fn run(args: ReproCheckArgs) -> Result<ExitCode> {
    let wanted = match check_input(&args) {
        Ok(w) => w,
        Err(problem) => {
            eprintln!("kernel-deb repro-check: {problem}");
            return Ok(ExitCode::from(2));
        }
    };
    let caps = probe_capabilities();
    let (applied, skipped) = wanted.plan(&caps);
    let mut err = std::io::stderr().lock();
    writeln!(err, "varied in build b: {}", applied.names())?;
    for v in applied.iter() {
        writeln!(err, "  {v}: {}", repro::describe(v))?;
    }
    for (v, why) in &skipped {
        writeln!(err, "  skipped {v}: {why}")?;
    }
    drop(err);

    let base = make_base(args.base.as_deref())?;
    let inv = BuildInvocation {
        kernel_deb: std::env::current_exe().context("finding this kernel-deb binary")?,
        build_args: args.build_args.clone(),
        jobs: args.jobs,
        machine: uname_machine()?,
    };
    let user_cache = user_cache(args.cache.clone())?;
    let mut outs = Vec::new();
    for side in [Side::Control, Side::Experiment] {
        let paths = SidePaths::new(&base, side, &applied);
        match build_side(&inv, &paths, side, &applied, &user_cache)? {
            Some(took) => eprintln!(
                "build {}: {} s ({})",
                side.letter(),
                took.as_secs(),
                paths.out.display()
            ),
            None => {
                eprintln!(
                    "kernel-deb repro-check: build {} failed; its work directory is kept: {}",
                    side.letter(),
                    paths.work_dir.display()
                );
                return Ok(ExitCode::from(3));
            }
        }
        outs.push(paths.out);
    }
    compare(&base, &outs[0], &outs[1], &args)
}

/// The variation set, or why the input is bad.
fn check_input(args: &ReproCheckArgs) -> Result<VariationSet, String> {
    for a in &args.build_args {
        let a = a.to_string_lossy();
        let own = OWN_FLAGS.iter().find(|f| {
            a == **f || a.starts_with(&format!("{f}=")) || (**f == "-j" && a.starts_with("-j"))
        });
        if let Some(f) = own {
            return Err(format!(
                "{a}: repro-check sets {f} on each build itself; use `repro-check {}` instead",
                if f.starts_with("-j") || *f == "--jobs" {
                    "--jobs N"
                } else {
                    "--cache/--base"
                }
            ));
        }
    }
    if args.jobs == 0 {
        return Err("--jobs 0: give at least 1".into());
    }
    VariationSet::from_flags(args.vary.as_deref(), args.no_vary.as_deref())
        .map_err(|e| e.to_string())
}

/// Root, FUSE (loading the module when root and /dev/fuse is missing), programs.
fn probe_capabilities() -> Capabilities {
    let root = effective_uid() == 0;
    if root && !Path::new("/dev/fuse").exists() {
        let _ = std::process::Command::new("modprobe").arg("fuse").status();
    }
    Capabilities::probe(root)
}

fn effective_uid() -> u32 {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u32::MAX)
}

fn uname_machine() -> Result<String> {
    let out = std::process::Command::new("uname")
        .arg("-m")
        .output()
        .context("running uname -m")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn user_cache(cache: Option<PathBuf>) -> Result<PathBuf> {
    let root = cache
        .or_else(srcpin::cache::Cache::default_root)
        .context("no cache directory: pass --cache DIR or set SAMEKERNEL_CACHE")?;
    Ok(std::path::absolute(root)?)
}

fn make_base(given: Option<&Path>) -> Result<PathBuf> {
    let base = match given {
        Some(b) => {
            std::fs::create_dir(b).with_context(|| format!("{}: must not exist", b.display()))?;
            b.to_owned()
        }
        None => tempfile::Builder::new()
            .prefix("kernel-deb-repro-")
            .tempdir()
            .context("creating the check's directory in TMPDIR")?
            .keep(),
    };
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755))?;
    Ok(std::fs::canonicalize(base)?)
}

/// Prepares and runs one side; `None` when the build failed. The work directory
/// is removed after a successful build (both sides may use the same path).
fn build_side(
    inv: &BuildInvocation,
    paths: &SidePaths,
    side: Side,
    applied: &VariationSet,
    user_cache: &Path,
) -> Result<Option<Duration>> {
    let none = VariationSet::default();
    let vary = if side == Side::Experiment {
        applied
    } else {
        &none
    };
    let mount = repro::prepare_side(paths, user_cache, vary)?;
    let child = repro::build_command(inv, paths, side, applied);
    eprintln!("build {}: {}", side.letter(), child.display());
    let t0 = Instant::now();
    // The builds' own output goes to stderr: stdout is the check's report.
    let status = child
        .to_command()
        .stdout(std::io::stderr())
        .status()
        .with_context(|| format!("starting {}", child.display()))?;
    let took = t0.elapsed();
    if !status.success() {
        return Ok(None);
    }
    let _ = std::fs::remove_dir_all(&paths.work_dir);
    drop(mount);
    let _ = std::fs::remove_dir_all(&paths.view);
    let _ = std::fs::remove_dir_all(&paths.cache);
    Ok(Some(took))
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
    for (name, verdict) in per_package(a, &report)? {
        writeln!(out, "{name}: {verdict}")?;
    }
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else if !report.is_identical() {
        out.write_all(report.render().as_bytes())?;
    }
    let identical = report.is_identical();
    if identical && !args.keep_out {
        std::fs::remove_dir_all(base).with_context(|| base.display().to_string())?;
        writeln!(out, "reproducible: every package is identical")?;
        return Ok(ExitCode::SUCCESS);
    }
    for side in ["a", "b"] {
        let side_root = base.join(side);
        for e in std::fs::read_dir(&side_root)?.flatten() {
            if e.file_name() != "out" {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    if identical {
        // --keep-out: identical, and the outputs stay for whoever asked to keep them.
        writeln!(
            out,
            "reproducible: every package is identical; kept in {}/{{a,b}}/out",
            base.display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "NOT reproducible; the packages are kept in {}/{{a,b}}/out",
        base.display()
    )?;
    Ok(ExitCode::from(1))
}

/// One line per package of side A: `identical`, or its differing files and causes.
fn per_package(a: &Path, report: &debdiff::DiffReport) -> Result<Vec<(String, String)>> {
    let mut names: Vec<String> = std::fs::read_dir(a)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".deb"))
        .collect();
    names.sort();
    let lines = names
        .into_iter()
        .map(|file| {
            let package = file.split('_').next().unwrap_or_default().to_owned();
            let items: Vec<&debdiff::ItemDiff> = report
                .items
                .iter()
                .filter(|i| i.package == package)
                .collect();
            let verdict = match items.len() {
                0 => "identical".to_owned(),
                n => {
                    let mut causes: Vec<&str> = items
                        .iter()
                        .filter_map(|i| i.primary().map(|f| f.kind.phrase()))
                        .collect();
                    causes.sort_unstable();
                    causes.dedup();
                    format!("DIFFERS: {n} item(s); causes: {}", causes.join("; "))
                }
            };
            (file, verdict)
        })
        .collect();
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use samekernel::repro::Variation;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: ReproCheckArgs,
    }

    fn parse(line: &str) -> ReproCheckArgs {
        Cli::try_parse_from(std::iter::once("x").chain(line.split_whitespace()))
            .unwrap()
            .args
    }

    #[test]
    fn build_flags_after_the_separator_pass_through_and_own_flags_are_refused() {
        let a = parse("--no-vary time -- --config x.config -Z xz --arch amd64");
        assert_eq!(
            a.build_args,
            ["--config", "x.config", "-Z", "xz", "--arch", "amd64"]
        );
        assert!(!check_input(&a).unwrap().contains(Variation::Time));
        for bad in ["-- --out o", "-- -j4", "-- --cache=c", "--vary clock"] {
            assert!(check_input(&parse(bad)).is_err(), "{bad} accepted");
        }
    }
}
