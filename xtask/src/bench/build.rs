//! `cargo xtask bench build [--flavour F] [-Z C] [--runs N]`: `kernel-deb build` vs
//! upstream `make bindeb-pkg` on the same pinned source and config, both -j2, both timed
//! from the verified tarball (unpack, configure, compile, package), both making image,
//! headers and libc-dev (upstream's `-dbg` package is switched off by its build profile).
//!
//! `tiny` gives upstream the same `allnoconfig` fragment; any other flavour is resolved
//! once, untimed, by `kernel-deb build --config-only` (hardening included), and upstream
//! starts from that `.config` with `make olddefconfig`. Besides the ratio, our overhead:
//! everything but the compile stage (fetch, unpack, configure, gate, package, record), as
//! a share of the compile stage.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::cmd::{measure, median, release_kernel_deb, run, step};
use crate::flags::Flags;

/// Both sides' inputs and where their trees go.
struct Bench {
    bin: PathBuf,
    flavour: String,
    config: UpstreamConfig,
    work: PathBuf,
    compression: String,
    runs: usize,
}

pub fn bench_build(mut flags: Flags) -> Result<()> {
    // `-Z C` passes a compressor to kernel-deb build (upstream stays dpkg-deb's xz).
    let compression = flags.value_or("-Z", "zstd".to_owned())?;
    let runs: usize = flags.value_or("--runs", 1)?;
    let flavour = flags.value_or("--flavour", "tiny".to_owned())?;
    flags.finish()?;
    let bin = release_kernel_deb()?;
    let work = PathBuf::from("target/bench-build");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let work = std::fs::canonicalize(&work)?;
    run(Command::new(&bin).arg("fetch").stdout(Stdio::null()))?; // warm the cache for both
    let config = UpstreamConfig::for_flavour(&bin, &flavour, &work)?;
    let b = Bench {
        bin,
        flavour,
        config,
        work,
        compression,
        runs,
    };
    let (mut ours, mut theirs, mut overheads) = (Vec::new(), Vec::new(), Vec::new());
    settle_disk()?;
    for i in 0..runs {
        // Alternate which side goes first, so caches and clock ramps favour neither.
        let mut ours_run = |b: &Bench| -> Result<()> {
            let (wall, overhead) = b.ours(i)?;
            ours.push(wall);
            overheads.extend(overhead);
            Ok(())
        };
        if i % 2 == 0 {
            ours_run(&b)?;
            theirs.push(b.upstream(i)?);
        } else {
            theirs.push(b.upstream(i)?);
            ours_run(&b)?;
        }
    }
    // Every tree is kept until the last run: deleting 2-3 GB on a filesystem mounted
    // with `discard` slowed the next run's unpack from 8 s to over 20 s here.
    step("removing the build trees");
    for i in 0..runs {
        let _ = std::fs::remove_dir_all(b.work.join(format!("ours-{i}-work")));
        let _ = std::fs::remove_dir_all(b.work.join(format!("upstream-{i}")));
    }
    let list = |v: &[f64]| {
        v.iter()
            .map(|t| format!("{t:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    eprintln!(
        "kernel-deb build: {} s; make bindeb-pkg: {} s",
        list(&ours),
        list(&theirs)
    );
    let (mo, mt) = (median(&mut ours), median(&mut theirs));
    let overhead = if overheads.is_empty() {
        "n/a".to_owned()
    } else {
        format!("{:.1}%", median(&mut overheads) * 100.0)
    };
    println!(
        "| task | kernel-deb build median | make bindeb-pkg median | ratio (ours/upstream) | our overhead / compile |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| built-in pin + {} flavour, -j2, {runs} run(s), ours -Z {} | {mo:.0} s | {mt:.0} s | {:.2} | {overhead} |",
        b.flavour,
        b.compression,
        mo / mt
    );
    Ok(())
}

/// How upstream gets the same config as ours.
enum UpstreamConfig {
    /// `make allnoconfig` with this `KCONFIG_ALLCONFIG` fragment (the tiny flavour).
    Allnoconfig(PathBuf),
    /// This resolved `.config`, then `make olddefconfig`.
    Resolved(PathBuf),
}

impl UpstreamConfig {
    fn for_flavour(bin: &Path, flavour: &str, work: &Path) -> Result<UpstreamConfig> {
        if flavour == "tiny" {
            let fragment = "crates/kernel-deb/configs/samekernel-tiny.config";
            return Ok(UpstreamConfig::Allnoconfig(std::fs::canonicalize(
                fragment,
            )?));
        }
        step(&format!(
            "resolving the {flavour} flavour's config (untimed)"
        ));
        let out = work.join("config-out");
        run(Command::new(bin)
            .args(["build", "--quiet", "--config-only", "--flavour", flavour])
            .arg("--out")
            .arg(&out)
            .arg("--work-dir")
            .arg(work.join("config-work")))?;
        let _ = std::fs::remove_dir_all(work.join("config-work"));
        Ok(UpstreamConfig::Resolved(out.join("config")))
    }
}

/// Seconds of everything but the compile stage, over the compile stage's seconds, from
/// a build's plain stage lines (`[  12s] compile`, `[ 611s] compile took 598 s`).
fn overhead_share(log: &str, wall: f64) -> Option<f64> {
    let compile: f64 = log.lines().find_map(|l| {
        l.split_once("] compile took ")?
            .1
            .strip_suffix(" s")?
            .parse()
            .ok()
    })?;
    (compile > 0.0).then(|| (wall - compile) / compile)
}

impl Bench {
    /// One `kernel-deb build`; its wall time in seconds and its overhead share.
    fn ours(&self, i: usize) -> Result<(f64, Option<f64>)> {
        step(&format!(
            "run {}/{}: kernel-deb build -j2 -Z {}",
            i + 1,
            self.runs,
            self.compression
        ));
        // --work-dir keeps the build tree, as make bindeb-pkg does: deleting
        // 2 GB is nobody's build time, so both sides are cleaned up untimed.
        // Stage lines (plain, as stderr is a file) go to a log and are shown after
        // the run, so a slow run says which stage was slow.
        let log = self.work.join(format!("ours-{i}.log"));
        let mut build = Command::new(&self.bin);
        build
            .args([
                "build",
                "--with-libc-dev",
                "--flavour",
                &self.flavour,
                "-j2",
                "-Z",
                &self.compression,
                "--out",
            ])
            .arg(self.work.join(format!("ours-{i}")))
            .arg("--work-dir")
            .arg(self.work.join(format!("ours-{i}-work")));
        let m = measure(&build, Stdio::inherit(), Some(File::create(&log)?.into()))?;
        let log = std::fs::read_to_string(&log)?;
        for line in log.lines() {
            if line.starts_with('[') || line.starts_with("built ") {
                eprintln!("    {line}");
            }
        }
        settle_disk()?;
        let wall = m.wall.as_secs_f64();
        Ok((wall, overhead_share(&log, wall)))
    }

    /// `kernel-deb source`, `make allnoconfig` (or the resolved config + `make
    /// olddefconfig`), `make -j2 bindeb-pkg`; the three stages' wall times summed, in
    /// seconds.
    fn upstream(&self, i: usize) -> Result<f64> {
        step(&format!(
            "run {}/{}: kernel-deb source + make allnoconfig + make -j2 bindeb-pkg",
            i + 1,
            self.runs
        ));
        let up = self.work.join(format!("upstream-{i}"));
        let (src, obj) = (up.join("src"), up.join("obj"));
        let mut unpack = Command::new(&self.bin);
        unpack.arg("source").arg("--out").arg(&src);
        let t_unpack = timed_stage(unpack, Stdio::null(), Stdio::null())?;
        let mut configure = make(&src, &obj);
        let t_copy = Instant::now();
        match &self.config {
            UpstreamConfig::Allnoconfig(fragment) => {
                configure
                    .arg(kv("KCONFIG_ALLCONFIG=", fragment))
                    .arg("allnoconfig");
            }
            UpstreamConfig::Resolved(config) => {
                std::fs::create_dir_all(&obj)?;
                std::fs::copy(config, obj.join(".config"))?;
                configure.arg("olddefconfig");
            }
        }
        let t_config = t_copy.elapsed() + timed_stage(configure, Stdio::null(), Stdio::inherit())?;
        let log = File::create(up.with_extension("log"))?;
        let mut package = make(&src, &obj);
        // The same package set as ours: no `-dbg` (a debug-info config would add it).
        package.args([
            "-j2",
            "bindeb-pkg",
            "DPKG_FLAGS=-Ppkg.linux-upstream.nokerneldbg",
        ]);
        let t_package = timed_stage(package, log.try_clone()?.into(), log.into())?;
        eprintln!(
            "    unpack {:.0} s, configure {:.0} s, bindeb-pkg (compile + package) {:.0} s",
            t_unpack.as_secs_f64(),
            t_config.as_secs_f64(),
            t_package.as_secs_f64()
        );
        settle_disk()?;
        Ok((t_unpack + t_config + t_package).as_secs_f64())
    }
}

/// `make -s -C <src> O=<obj>`, with the SOURCE_DATE_EPOCH upstream is given.
fn make(src: &Path, obj: &Path) -> Command {
    let mut c = Command::new("make");
    c.arg("-s")
        .arg("-C")
        .arg(src)
        .arg(kv("O=", obj))
        .env("SOURCE_DATE_EPOCH", "1794660961");
    c
}

/// `KEY=<path>` as one argument (make's variable syntax), without going through UTF-8.
fn kv(key: &str, path: &Path) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from(key);
    s.push(path);
    s
}

fn timed_stage(mut cmd: Command, stdout: Stdio, stderr: Stdio) -> Result<Duration> {
    let t = Instant::now();
    run(cmd.stdout(stdout).stderr(stderr))?;
    Ok(t.elapsed())
}

/// Lets one run's writes reach the disk before the next is timed, so neither side pays
/// for the other's writeback.
fn settle_disk() -> Result<()> {
    run(&mut Command::new("sync"))?;
    std::thread::sleep(Duration::from_secs(15));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::overhead_share;

    #[test]
    fn overhead_is_everything_but_the_compile_stage_over_the_compile_stage() {
        let log =
            "[   0s] toolchain\n[   9s] compile\n[ 209s] compile took 200 s\n[ 209s] package\n";
        let share = overhead_share(log, 210.0).unwrap();
        assert!((share - 0.05).abs() < 1e-9, "{share}");
    }

    #[test]
    fn a_log_without_a_timed_compile_stage_has_no_overhead_figure() {
        assert_eq!(overhead_share("[   9s] compile\n", 30.0), None);
        assert_eq!(overhead_share("[ 9s] compile took 0 s\n", 30.0), None);
    }
}
