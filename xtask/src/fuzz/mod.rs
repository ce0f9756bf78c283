//! `cargo xtask fuzz`: every fuzz target in `fuzz/` (its own workspace), on the pinned
//! stable toolchain with `RUSTC_BOOTSTRAP=1` (cargo-fuzz passes `-Z` flags), and a
//! table of executions per target read from libFuzzer's final stats.
//!
//! * `--seconds N` (default 20) and/or `--runs N`: the budget per target (the first
//!   limit reached ends it);
//! * `--workers W` (default 1): W libFuzzer processes per target sharing its corpus
//!   directory (libFuzzer reloads it every second), each with `--seconds N` and an equal
//!   share of `--runs N`; the table adds their executions and rates. For long runs:
//!   srcpin_signature's 10 million took 74 minutes on two workers, ~2.5 hours on one;
//! * `--target T` (repeatable): only these targets;
//! * `--sanitizer address|none` (default address);
//! * `--no-trace-compares`: build without libFuzzer's comparison tracing, into its own
//!   `fuzz/target/no-trace-compares/`. For targets whose time goes into a third-party
//!   inner loop (debdiff_elf spent ~80% of it in the tracing hooks of `similar`'s Myers
//!   diff); it costs the fuzzer its help with magic values, so keep it for long runs on a
//!   grown corpus.
//!
//! Each target's corpus is `fuzz/corpus/<target>/` (grown, not committed) read together
//! with the committed seeds `fuzz/seeds/<target>/` and past findings
//! `fuzz/regressions/<target>/`; its log is
//! `target/fuzz-logs/<target>.log` (`<target>.w<i>.log` per worker when there are
//! several); a crash input lands in `fuzz/artifacts/<target>/`.

mod seeds;
mod stats;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use anyhow::{Context, Result, bail};

use crate::cmd::{run, step};
use crate::deps::cargo_tool;
use crate::flags::Flags;

/// How the targets are instrumented.
#[derive(Debug)]
struct Instrumentation {
    sanitizer: String,
    trace_compares: bool,
}

impl Default for Instrumentation {
    /// AddressSanitizer with comparison tracing: what CI's smoke run uses.
    fn default() -> Self {
        Instrumentation {
            sanitizer: "address".to_owned(),
            trace_compares: true,
        }
    }
}

impl Instrumentation {
    fn describe(&self) -> String {
        let tracing = if self.trace_compares {
            ""
        } else {
            ", no comparison tracing"
        };
        format!("sanitizer: {}{tracing}", self.sanitizer)
    }
}

/// How long each target runs: whichever limit comes first.
#[derive(Debug, Clone, Copy)]
struct Budget {
    seconds: Option<u64>,
    /// Executions per target, shared equally among the workers.
    runs: Option<u64>,
    workers: u64,
}

impl Budget {
    fn describe(&self) -> String {
        let limits: Vec<String> = [
            self.seconds.map(|s| format!("{s} s")),
            self.runs.map(|r| format!("{r} runs")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let workers = match self.workers {
            1 => String::new(),
            w => format!(", {w} workers sharing one corpus"),
        };
        format!("at most {}{workers}", limits.join(" or "))
    }

    /// One worker's `-runs`: its share of the target's, rounded up.
    fn runs_per_worker(&self) -> Option<u64> {
        self.runs.map(|r| r.div_ceil(self.workers))
    }
}

pub fn dispatch(mut flags: Flags) -> Result<()> {
    match flags.word().as_deref() {
        Some("seeds") => return seeds::build(flags),
        Some(w) => bail!("unknown `fuzz {w}`; name targets with --target {w}"),
        None => {}
    }
    let workers = flags.value_or("--workers", 1u64)?;
    if workers == 0 {
        bail!("--workers 0: give at least one");
    }
    let (seconds, runs) = match (flags.value("--seconds")?, flags.value("--runs")?) {
        (None, None) => (Some(20), None),
        given => given,
    };
    let budget = Budget {
        seconds,
        runs,
        workers,
    };
    let wanted: Vec<String> = flags.values("--target")?;
    let how = Instrumentation {
        sanitizer: flags.value_or("--sanitizer", Instrumentation::default().sanitizer)?,
        trace_compares: !flags.switch("--no-trace-compares"),
    };
    flags.finish()?;
    let all = targets()?;
    if let Some(unknown) = wanted.iter().find(|t| !all.contains(t)) {
        bail!(
            "no fuzz target {unknown:?}; fuzz/Cargo.toml has {}",
            all.join(", ")
        );
    }
    let chosen = if wanted.is_empty() { all } else { wanted };
    fuzz(&chosen, budget, &how)
}

/// Seconds per target in CI's smoke run. Measured with 22 targets on a pre-built
/// `fuzz/target`: 157 s in all (5 s each plus cargo-fuzz's start and the seeds); 10 s each
/// would take about 270 s, past the ~4 minutes CI gives the fuzz smoke run.
pub const SMOKE_SECONDS: u64 = 5;

/// CI's short run: every target for `seconds`, with AddressSanitizer.
pub fn smoke(seconds: u64) -> Result<()> {
    let budget = Budget {
        seconds: Some(seconds),
        runs: None,
        workers: 1,
    };
    fuzz(&targets()?, budget, &Instrumentation::default())
}

/// The `[[bin]]` names in fuzz/Cargo.toml.
fn targets() -> Result<Vec<String>> {
    let text = std::fs::read_to_string("fuzz/Cargo.toml").context("fuzz/Cargo.toml")?;
    Ok(bin_names(&text))
}

fn bin_names(cargo_toml: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in cargo_toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(v) = line.strip_prefix("name") {
            let v = v
                .trim_start()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"');
            names.push(v.to_owned());
        }
    }
    names
}

fn fuzz(targets: &[String], budget: Budget, how: &Instrumentation) -> Result<()> {
    cargo_tool("fuzz", "cargo-fuzz")?;
    step(&format!("building the fuzz targets ({})", how.describe()));
    let root = std::env::current_dir()?;
    let mut build = fuzz_cmd("build", how, &root);
    if let [only] = targets {
        // cargo-fuzz builds one named target or all of them: one, when one is asked for.
        build.arg(only);
    }
    run(&mut build)?;
    let logs = root.join("target/fuzz-logs");
    std::fs::create_dir_all(&logs)?;
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for t in targets {
        step(&format!("fuzz {t} ({})", budget.describe()));
        let worker_logs = log_paths(&logs, t, budget.workers);
        let finished = run_target(&root, t, budget, how, &worker_logs)?;
        let mut runs = Vec::new();
        for (log, ok) in worker_logs.iter().zip(finished) {
            let text = std::fs::read_to_string(log)?;
            let s = stats::parse(&text);
            if !ok || s.is_none() {
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
                for l in tail.iter().rev() {
                    eprintln!("    {l}");
                }
                failed.push(format!("{t} (log: {})", log.display()));
            }
            runs.push(s);
        }
        let s: Option<Vec<stats::RunStats>> = runs.into_iter().collect();
        rows.push(row(t, s.map(|v| stats::combine(&v)).as_ref(), &root));
    }
    println!("| target | executions | seconds | exec/s | peak RSS | corpus files | finding |");
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        println!("{r}");
    }
    if !failed.is_empty() {
        bail!("fuzzing failed or found something: {}", failed.join(", "));
    }
    Ok(())
}

fn fuzz_cmd(sub: &str, how: &Instrumentation, root: &Path) -> Command {
    let mut c = Command::new("cargo");
    c.args(["fuzz", sub, "--sanitizer", &how.sanitizer]);
    if !how.trace_compares {
        // Its own directory: sharing fuzz/target would rebuild every target at each switch.
        c.arg("--no-trace-compares")
            .arg("--target-dir")
            .arg(root.join("fuzz/target/no-trace-compares"));
    }
    c.env("RUSTC_BOOTSTRAP", "1")
        // cargo-fuzz runs targets with RUST_BACKTRACE=1, which makes every `anyhow` and
        // `std::backtrace` error capture a backtrace; Sequoia builds one per rejected packet,
        // and unwinding took half of the OpenPGP targets' CPU time (measured: 1.7-2.4x more
        // executions per CPU second without it). Panics (findings) still print theirs:
        // that is RUST_BACKTRACE's, not this variable's.
        .env("RUST_LIB_BACKTRACE", "0")
        .env(
            "ASAN_OPTIONS",
            asan_options(std::env::var("ASAN_OPTIONS").ok()),
        );
    c
}

/// AddressSanitizer's options for a run: ours first, so that the caller's own
/// `ASAN_OPTIONS` (read later, the last value wins) can undo them.
///
/// `malloc_context_size=0`: ASan unwinds and stores the stack at every allocation and
/// free, only to print them beside a finding; srcpin_signature's allocation-heavy
/// certificate parsing ran 30% more executions per second without it (467 → 608 exec/s,
/// the same corpus side by side). Every error is still caught; to see where the memory
/// was allocated and freed, replay the artifact with `cargo fuzz run T ARTIFACT`.
fn asan_options(caller: Option<String>) -> String {
    let ours = "malloc_context_size=0";
    match caller {
        Some(theirs) if !theirs.is_empty() => format!("{ours}:{theirs}"),
        _ => ours.to_owned(),
    }
}

/// `<target>.log`, or one `<target>.w<i>.log` per worker when there are several.
fn log_paths(dir: &Path, t: &str, workers: u64) -> Vec<PathBuf> {
    match workers {
        1 => vec![dir.join(format!("{t}.log"))],
        w => (0..w).map(|i| dir.join(format!("{t}.w{i}.log"))).collect(),
    }
}

/// Runs target `t` as one libFuzzer process per log, side by side on one corpus; for
/// each, true if it finished without a finding.
fn run_target(
    root: &Path,
    t: &str,
    budget: Budget,
    how: &Instrumentation,
    logs: &[PathBuf],
) -> Result<Vec<bool>> {
    let corpus = root.join("fuzz/corpus").join(t);
    std::fs::create_dir_all(&corpus)?;
    let mut workers: Vec<Child> = Vec::new();
    for log in logs {
        let mut c = worker_cmd(root, t, budget, how, &corpus);
        let out = File::create(log)?;
        c.stdout(out.try_clone()?).stderr(out);
        eprintln!("$ {c:?} >{}", log.display());
        // Every worker runs the same `cargo`: if one cannot start, the first could not.
        workers.push(c.spawn().with_context(|| format!("cannot run {c:?}"))?);
    }
    workers
        .into_iter()
        .map(|mut w| Ok(w.wait()?.success()))
        .collect()
}

/// One libFuzzer process of target `t` on `corpus`, with its share of the budget.
fn worker_cmd(
    root: &Path,
    t: &str,
    budget: Budget,
    how: &Instrumentation,
    corpus: &Path,
) -> Command {
    let mut c = fuzz_cmd("run", how, root);
    c.arg(t).arg(corpus);
    // Past findings run first, so a regression fails the run at once.
    for extra in ["fuzz/seeds", "fuzz/regressions"] {
        let dir = root.join(extra).join(t);
        if dir.is_dir() {
            c.arg(dir);
        }
    }
    c.arg("--");
    if let Some(s) = budget.seconds {
        c.arg(format!("-max_total_time={s}"));
    }
    if let Some(r) = budget.runs_per_worker() {
        c.arg(format!("-runs={r}"));
    }
    c.args(["-rss_limit_mb=2048", "-print_final_stats=1"]);
    c
}

fn row(t: &str, s: Option<&stats::RunStats>, root: &Path) -> String {
    let corpus = std::fs::read_dir(root.join("fuzz/corpus").join(t)).map_or(0, |d| d.count());
    let opt = |v: Option<u64>, unit: &str| v.map_or("?".to_owned(), |v| format!("{v}{unit}"));
    match s {
        None => format!("| {t} | ? | ? | ? | ? | {corpus} | did not run (see its log) |"),
        Some(s) => format!(
            "| {t} | {} | {} | {} | {} | {corpus} | {} |",
            s.executions,
            opt(s.seconds, ""),
            opt(s.exec_per_sec, ""),
            opt(s.peak_rss_mb, " MB"),
            s.artifact
                .as_deref()
                .map_or("none".to_owned(), relative(root))
        ),
    }
}

fn relative(root: &Path) -> impl Fn(&str) -> String + '_ {
    move |p| {
        let p = PathBuf::from(p);
        p.strip_prefix(root).unwrap_or(&p).display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bin_sections_name_targets() {
        let toml = "[package]\nname = \"samekernel-fuzz\"\n\n[[bin]]\nname = \"deb_ar\"\npath = \"x\"\n\
                    [dependencies]\nname = \"no\"\n[[bin]]\nname=\"kbuild_config\"\n";
        assert_eq!(bin_names(toml), ["deb_ar", "kbuild_config"]);
    }

    #[test]
    fn workers_share_the_runs_and_each_has_its_own_log() {
        let budget = Budget {
            seconds: None,
            runs: Some(10_000_001),
            workers: 2,
        };
        assert_eq!(budget.runs_per_worker(), Some(5_000_001));
        let logs = log_paths(Path::new("/l"), "t", 2);
        assert_eq!(logs, [Path::new("/l/t.w0.log"), Path::new("/l/t.w1.log")]);
        assert_eq!(log_paths(Path::new("/l"), "t", 1), [Path::new("/l/t.log")]);
        let one = Budget {
            workers: 1,
            ..budget
        };
        assert_eq!(one.runs_per_worker(), Some(10_000_001));
    }

    #[test]
    fn the_callers_asan_options_come_last_and_win() {
        assert_eq!(asan_options(None), "malloc_context_size=0");
        assert_eq!(asan_options(Some(String::new())), "malloc_context_size=0");
        assert_eq!(
            asan_options(Some("malloc_context_size=30".to_owned())),
            "malloc_context_size=0:malloc_context_size=30"
        );
    }

    #[test]
    fn every_committed_target_has_a_source_file() {
        let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
        let names = bin_names(&std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap());
        assert!(names.len() >= 10, "{names:?}");
        for n in names {
            assert!(fuzz.join(format!("fuzz_targets/{n}.rs")).is_file(), "{n}");
        }
    }
}
