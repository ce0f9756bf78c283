//! Running programs: every command gets its arguments as argv (no shell), is echoed
//! before it runs, and fails the task with the command and its status.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Announces a step of a task.
pub fn step(what: &str) {
    eprintln!("\n==> {what}");
}

/// Runs `cmd`, inheriting stdio; its failure is an error.
pub fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// Runs `cmd` and returns its stdout; its failure is an error carrying its stderr.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `cargo <args…>`.
pub fn cargo<const N: usize>(args: [&str; N]) -> Command {
    let mut c = Command::new("cargo");
    c.args(args);
    c
}

/// Builds the release `kernel-deb` and returns its absolute path.
pub fn release_kernel_deb() -> Result<std::path::PathBuf> {
    step("building kernel-deb (release)");
    run(&mut cargo(["build", "--release", "-p", "kernel-deb"]))?;
    std::fs::canonicalize("target/release/kernel-deb").context("target/release/kernel-deb")
}

/// Lowercase hex sha256 of a file, by `sha256sum` (the reference tool).
pub fn sha256_file(p: &Path) -> Result<String> {
    let out = output(Command::new("sha256sum").arg(p))?;
    Ok(out.split_whitespace().next().unwrap_or("").to_owned())
}

/// Wall time and peak RSS of one command run.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub wall: Duration,
    pub peak_rss_kib: u64,
}

/// Runs `cmd` under GNU time for its peak RSS; stdout goes to `stdout`, stderr is
/// inherited unless `stderr` is given.
pub fn measure(cmd: &Command, stdout: Stdio, stderr: Option<Stdio>) -> Result<Measured> {
    let rss_file = tempfile::NamedTempFile::new()?;
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(rss_file.path())
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdout(stdout);
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    if let Some(e) = stderr {
        wrapped.stderr(e);
    }
    let t = Instant::now();
    run(&mut wrapped)?;
    let wall = t.elapsed();
    let peak_rss_kib = std::fs::read_to_string(rss_file.path())?
        .trim()
        .parse()
        .unwrap_or(0);
    Ok(Measured { wall, peak_rss_kib })
}

/// Repeated measurements of one side of a benchmark.
#[derive(Debug, Default)]
pub struct Samples {
    seconds: Vec<f64>,
    peak_rss_kib: u64,
}

impl Samples {
    pub fn push(&mut self, m: Measured) {
        self.seconds.push(m.wall.as_secs_f64());
        self.peak_rss_kib = self.peak_rss_kib.max(m.peak_rss_kib);
    }

    /// Median wall time in seconds (the samples must not be empty).
    pub fn median(&mut self) -> f64 {
        median(&mut self.seconds)
    }

    /// The largest peak RSS of any run, in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

/// Median of a non-empty sample.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_samples() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn measure_reports_time_and_a_real_rss() {
        let mut c = Command::new("sleep");
        c.arg("0.2");
        let m = measure(&c, Stdio::null(), None).unwrap();
        assert!(m.wall >= Duration::from_millis(200));
        assert!(m.peak_rss_kib > 0);
    }

    #[test]
    fn a_failing_command_is_an_error_naming_it() {
        let e = output(&mut Command::new("false")).unwrap_err();
        assert!(e.to_string().contains("\"false\""), "{e}");
    }
}
