//! `cargo xtask bench build [-Z C] [--runs N]`: `kernel-deb build` vs upstream
//! `make bindeb-pkg` on the same pinned source and config, both -j2, both timed from
//! the verified tarball (unpack, configure, compile, package).

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
    config: PathBuf,
    work: PathBuf,
    compression: String,
    runs: usize,
}

pub fn bench_build(mut flags: Flags) -> Result<()> {
    // `-Z C` passes a compressor to kernel-deb build (upstream stays dpkg-deb's xz).
    let compression = flags.value_or("-Z", "zstd".to_owned())?;
    let runs: usize = flags.value_or("--runs", 1)?;
    flags.finish()?;
    let bin = release_kernel_deb()?;
    let config = std::fs::canonicalize("crates/kernel-deb/configs/samekernel-tiny.config")?;
    let work = PathBuf::from("target/bench-build");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let work = std::fs::canonicalize(&work)?;
    run(Command::new(&bin).arg("fetch").stdout(Stdio::null()))?; // warm the cache for both
    let b = Bench {
        bin,
        config,
        work,
        compression,
        runs,
    };
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    settle_disk()?;
    for i in 0..runs {
        // Alternate which side goes first, so caches and clock ramps favour neither.
        if i % 2 == 0 {
            ours.push(b.ours(i)?);
            theirs.push(b.upstream(i)?);
        } else {
            theirs.push(b.upstream(i)?);
            ours.push(b.ours(i)?);
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
    println!("| task | kernel-deb build median | make bindeb-pkg median | ratio (ours/upstream) |");
    println!("|---|---|---|---|");
    println!(
        "| built-in pin + tiny config, -j2, {runs} run(s), ours -Z {} | {mo:.0} s | {mt:.0} s | {:.2} |",
        b.compression,
        mo / mt
    );
    Ok(())
}

impl Bench {
    /// One `kernel-deb build`; its wall time in seconds.
    fn ours(&self, i: usize) -> Result<f64> {
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
                "--flavour",
                "tiny",
                "-j2",
                "-Z",
                &self.compression,
                "--out",
            ])
            .arg(self.work.join(format!("ours-{i}")))
            .arg("--work-dir")
            .arg(self.work.join(format!("ours-{i}-work")));
        let m = measure(&build, Stdio::inherit(), Some(File::create(&log)?.into()))?;
        for line in std::fs::read_to_string(&log)?.lines() {
            if line.starts_with('[') || line.starts_with("built ") {
                eprintln!("    {line}");
            }
        }
        settle_disk()?;
        Ok(m.wall.as_secs_f64())
    }

    /// `kernel-deb source`, `make allnoconfig`, `make -j2 bindeb-pkg`; the three
    /// stages' wall times summed, in seconds.
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
        configure
            .arg(kv("KCONFIG_ALLCONFIG=", &self.config))
            .arg("allnoconfig");
        let t_config = timed_stage(configure, Stdio::null(), Stdio::inherit())?;
        let log = File::create(up.with_extension("log"))?;
        let mut package = make(&src, &obj);
        package.args(["-j2", "bindeb-pkg"]);
        let t_package = timed_stage(package, log.try_clone()?.into(), log.into())?;
        eprintln!(
            "    unpack {:.0} s, allnoconfig {:.0} s, bindeb-pkg (compile + package) {:.0} s",
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
