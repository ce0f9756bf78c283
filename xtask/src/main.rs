//! `cargo xtask …`: the project's developer tasks (never shipped).
//!
//! * `cargo xtask deps` — `apt-get update` and install everything in
//!   `.ci/apt-packages` (with sudo when not root).
//! * `cargo xtask test` — deps, then fmt check, clippy `-D warnings`, the whole test
//!   suite (real dpkg-deb, gpg, sqv, Debian's packages), a short fuzz smoke run and
//!   `cargo deny check`. `.ci/run` runs exactly this.
//! * `cargo xtask run` — the main job (see README).
//! * `cargo xtask bench pack [--runs N]` — detdeb vs `dpkg-deb --build` on Debian's
//!   linux-image tree, per compressor, medians and ratios.
//! * `cargo xtask fuzz [--seconds N]` — every fuzz target for N seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("deps") => deps(),
        Some("test") => test(),
        Some("run") => main_job(&args[1..]),
        Some("bench") => match args.get(1).map(String::as_str) {
            Some("pack") => bench_pack(&args[2..]),
            other => bail!("unknown bench {other:?}; try `cargo xtask bench pack`"),
        },
        Some("fuzz") => fuzz(seconds_arg(&args[1..], 20)?),
        _ => {
            eprintln!(
                "usage: cargo xtask (deps | test | run | bench pack [--runs N] | fuzz [--seconds N])"
            );
            std::process::exit(2);
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn step(what: &str) {
    eprintln!("\n==> {what}");
}

fn sh(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

fn output(cmd: &mut Command) -> Result<String> {
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

fn is_root() -> bool {
    output(Command::new("id").arg("-u"))
        .map(|s| s.trim() == "0")
        .unwrap_or(false)
}

fn apt_packages() -> Result<Vec<String>> {
    let text = std::fs::read_to_string(".ci/apt-packages").context(".ci/apt-packages")?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

fn deps() -> Result<()> {
    step("installing Debian packages from .ci/apt-packages");
    let pkgs = apt_packages()?;
    let sudo = |args: &[&str]| {
        let mut c = if is_root() {
            Command::new(args[0])
        } else {
            let mut c = Command::new("sudo");
            c.arg(args[0]);
            c
        };
        c.args(&args[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    sh(&mut sudo(&["apt-get", "update", "-q"]))?;
    let mut install = sudo(&["apt-get", "install", "-y", "-q", "--no-install-recommends"]);
    install.args(&pkgs);
    sh(&mut install)?;
    Ok(())
}

fn cargo_tool(tool: &str, krate: &str) -> Result<()> {
    let have = Command::new("cargo")
        .arg(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !have {
        step(&format!("installing {krate} from crates.io"));
        sh(Command::new("cargo").args(["install", "--locked", krate]))?;
    }
    Ok(())
}

fn test() -> Result<()> {
    let t0 = Instant::now();
    deps()?;
    step("cargo fmt --check");
    sh(Command::new("cargo").args(["fmt", "--all", "--", "--check"]))?;
    step("cargo clippy");
    sh(Command::new("cargo").args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("cargo test (real dpkg-deb, gpg, sqv, Debian's packages and archive)");
    sh(Command::new("cargo")
        .args(["test", "--workspace", "--no-fail-fast"])
        .env("SAMEKERNEL_NETWORK_TESTS", "1"))?;
    fuzz(10)?;
    cargo_tool("deny", "cargo-deny")?;
    step("cargo deny check licenses bans sources (advisories need GitHub: see deny.toml)");
    sh(Command::new("cargo").args([
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

fn fuzz_targets() -> Result<Vec<String>> {
    let text = std::fs::read_to_string("fuzz/Cargo.toml")?;
    Ok(text
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .map(|l| l.trim_end_matches('"').to_owned())
        .filter(|n| n != "samekernel-fuzz")
        .collect())
}

/// Runs every fuzz target for `seconds`. cargo-fuzz needs nightly-only flags for
/// sanitizers; with `--sanitizer none` and `RUSTC_BOOTSTRAP=1` the pinned stable
/// toolchain builds the libFuzzer targets (only the fuzz build uses it).
fn fuzz(seconds: u64) -> Result<()> {
    cargo_tool("fuzz", "cargo-fuzz")?;
    for t in fuzz_targets()? {
        step(&format!("fuzz smoke: {t} for {seconds} s"));
        let corpus = PathBuf::from("fuzz/corpus").join(&t);
        std::fs::create_dir_all(&corpus)?;
        sh(Command::new("cargo")
            .args(["fuzz", "run", "--sanitizer", "none", &t])
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-rss_limit_mb=2048")
            .env("RUSTC_BOOTSTRAP", "1"))?;
    }
    Ok(())
}

fn seconds_arg(args: &[String], default: u64) -> Result<u64> {
    match args {
        [] => Ok(default),
        [flag, n] if flag == "--seconds" => Ok(n.parse()?),
        _ => bail!("expected --seconds N"),
    }
}

/// The main job. Until `kernel-deb build` exists, it fetches and verifies the
/// built-in pin (Debian's linux-source-6.12), unpacks it, and packs the kernel's
/// own documentation into a .deb twice — in two directories, with different
/// umask, TZ and thread counts — and with dpkg-deb, and shows the three are the
/// same bytes.
fn main_job(_args: &[String]) -> Result<()> {
    deps()?;
    step("building kernel-deb (release)");
    sh(Command::new("cargo").args(["build", "--release", "-p", "kernel-deb"]))?;
    let bin = PathBuf::from("target/release/kernel-deb");
    let work = PathBuf::from("target/main-job");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    step("fetching and verifying the pinned source (kernel-deb fetch)");
    sh(Command::new(&bin).arg("fetch"))?;
    step("unpacking it (kernel-deb source)");
    let src = work.join("linux");
    sh(Command::new(&bin).arg("source").arg("--out").arg(&src))?;
    let sde = std::fs::metadata(src.join("Makefile"))?
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut shas = Vec::new();
    for (i, (umask, tz, threads)) in [("022", "UTC", "1"), ("077", "Asia/Tokyo", "2")]
        .iter()
        .enumerate()
    {
        let stage = work.join(format!("stage-{i}"));
        let doc = stage.join("usr/share/doc/linux-doc-demo");
        std::fs::create_dir_all(stage.join("DEBIAN"))?;
        std::fs::create_dir_all(&doc)?;
        sh(Command::new("sh").arg("-c").arg(format!(
            "umask {umask} && cp -r '{}/Documentation/process' '{}/' && cp '{}/COPYING' '{}/README' '{}/' && chmod -R u=rwX,go=rX '{}' && chmod 0755 '{}/DEBIAN'",
            src.display(), doc.display(), src.display(), src.display(), doc.display(), stage.display(), stage.display()
        )))?;
        std::fs::write(
            stage.join("DEBIAN/control"),
            "Package: linux-doc-demo\nVersion: 6.12\nArchitecture: all\nMaintainer: samekernel <samekernel@example.invalid>\nDescription: demo: kernel process docs from the pinned source\n",
        )?;
        let out = work.join(format!("linux-doc-demo-{i}.deb"));
        sh(Command::new(&bin)
            .args(["deb", "pack"])
            .arg(&stage)
            .arg("-o")
            .arg(&out)
            .args([
                "-Z",
                "xz",
                "--threads",
                threads,
                "--source-date-epoch",
                &sde.to_string(),
            ])
            .env("TZ", tz))?;
        shas.push(sha256(&out)?);
        if i == 0 {
            let theirs = work.join("linux-doc-demo-dpkg.deb");
            sh(Command::new("dpkg-deb")
                .args(["--root-owner-group", "-Zxz", "--build"])
                .arg(&stage)
                .arg(&theirs)
                .env("SOURCE_DATE_EPOCH", sde.to_string())
                .stdout(Stdio::null()))?;
            shas.push(sha256(&theirs)?);
        }
    }
    step("result");
    eprintln!(
        "ours (build 1): {}\ndpkg-deb:       {}\nours (build 2): {}",
        shas[0], shas[1], shas[2]
    );
    if shas.iter().any(|s| s != &shas[0]) {
        bail!("the three packages differ");
    }
    eprintln!("identical: the package is a function of the pinned source only");
    Ok(())
}

fn sha256(p: &Path) -> Result<String> {
    let out = output(Command::new("sha256sum").arg(p))?;
    Ok(out.split_whitespace().next().unwrap_or("").to_owned())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Wall time and peak RSS (KiB, from GNU time) of one command.
fn timed(cmd: &mut Command) -> Result<(Duration, u64)> {
    let rss_file = std::env::temp_dir().join(format!("xtask-rss-{}", std::process::id()));
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(cmd.get_program());
    wrapped.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped.stdout(Stdio::null());
    let t = Instant::now();
    sh(&mut wrapped)?;
    let elapsed = t.elapsed();
    let rss = std::fs::read_to_string(&rss_file)?
        .trim()
        .parse()
        .unwrap_or(0);
    Ok((elapsed, rss))
}

fn debian_image_deb() -> Result<PathBuf> {
    let dir = PathBuf::from("target/debian-debs");
    std::fs::create_dir_all(&dir)?;
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.starts_with("linux-image-6.12.") && n.contains("-amd64-unsigned_")
            })
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    let names = output(Command::new("apt-cache").args([
        "search",
        "--names-only",
        r"^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$",
    ]))?;
    let mut pkgs: Vec<&str> = names.lines().filter_map(|l| l.split(' ').next()).collect();
    pkgs.sort_by_key(|p| {
        p["linux-image-6.12.".len()..]
            .split('+')
            .next()
            .unwrap_or("0")
            .parse::<u32>()
            .unwrap_or(0)
    });
    let pkg = pkgs
        .last()
        .context("apt knows no linux-image-6.12.*-amd64-unsigned (run cargo xtask deps)")?;
    sh(Command::new("apt-get")
        .arg("download")
        .arg(pkg)
        .current_dir(&dir))?;
    find().context("apt-get download produced no file")
}

fn bench_pack(args: &[String]) -> Result<()> {
    let runs: usize = match args {
        [] => 3,
        [f, n] if f == "--runs" => n.parse()?,
        _ => bail!("expected --runs N"),
    };
    step("building kernel-deb (release)");
    sh(Command::new("cargo").args(["build", "--release", "-p", "kernel-deb"]))?;
    let bin = std::fs::canonicalize("target/release/kernel-deb")?;
    let deb = debian_image_deb()?;
    let work = PathBuf::from("target/bench-pack");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let tree = work.join("tree");
    sh(Command::new("dpkg-deb").arg("-R").arg(&deb).arg(&tree))?;
    let sde = "1700000000";
    eprintln!(
        "\ntree: {} ({} runs each, alternating)",
        deb.display(),
        runs
    );
    println!(
        "| compressor | dpkg-deb median | detdeb median | ratio (ours/dpkg) | dpkg-deb peak RSS | detdeb peak RSS | identical |"
    );
    println!("|---|---|---|---|---|---|---|");
    for z in ["xz", "gzip", "zstd"] {
        let (mut theirs, mut ours) = (Vec::new(), Vec::new());
        let (mut rss_theirs, mut rss_ours) = (0, 0);
        let ref_out = work.join(format!("dpkg.{z}.deb"));
        let our_out = work.join(format!("ours.{z}.deb"));
        for _ in 0..runs {
            let (t, r) = timed(
                Command::new("dpkg-deb")
                    .args(["--root-owner-group", &format!("-Z{z}"), "--build"])
                    .arg(&tree)
                    .arg(&ref_out)
                    .env("SOURCE_DATE_EPOCH", sde),
            )?;
            theirs.push(t.as_secs_f64());
            rss_theirs = rss_theirs.max(r);
            let (t, r) = timed(
                Command::new(&bin)
                    .args(["deb", "pack"])
                    .arg(&tree)
                    .arg("-o")
                    .arg(&our_out)
                    .args(["-Z", z, "--source-date-epoch", sde]),
            )?;
            ours.push(t.as_secs_f64());
            rss_ours = rss_ours.max(r);
        }
        let same = sha256(&ref_out)? == sha256(&our_out)?;
        let (mt, mo) = (median(&mut theirs), median(&mut ours));
        println!(
            "| {z} | {mt:.2} s | {mo:.2} s | {:.2} | {:.1} MiB | {:.1} MiB | {} |",
            mo / mt,
            rss_theirs as f64 / 1024.0,
            rss_ours as f64 / 1024.0,
            if same { "yes" } else { "NO" }
        );
        if !same {
            bail!("-Z{z}: detdeb output differs from dpkg-deb");
        }
    }
    Ok(())
}
