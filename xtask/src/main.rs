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
//! * `cargo xtask bench verify [--runs N]` — `kernel-deb verify` of Debian's
//!   linux-image .deb against 20 signed testimonies vs `sha256sum` + 20 × `gpgv`.
//! * `cargo xtask bench build [--runs N]` — `kernel-deb build` vs upstream
//!   `make bindeb-pkg` on the same pinned source and config, both -j2, both timed
//!   from the verified tarball (unpack, configure, compile, package).
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
            Some("verify") => bench_verify(&args[2..]),
            Some("build") => bench_build(&args[2..]),
            other => bail!("unknown bench {other:?}; try `cargo xtask bench pack|verify|build`"),
        },
        Some("fuzz") => fuzz(seconds_arg(&args[1..], 20)?),
        _ => {
            eprintln!(
                "usage: cargo xtask (deps | test | run | bench pack|verify [--runs N] | bench build [-Z C] [--runs N] | fuzz [--seconds N])"
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

/// The main job: a real deterministic kernel build of the built-in default (Debian's
/// linux-source-6.12, pinned; the built-in tiny x86_64 config) into
/// `target/kernel-debs/`: linux-image and linux-headers .debs and their build record.
fn main_job(args: &[String]) -> Result<()> {
    deps()?;
    step("building kernel-deb (release)");
    sh(Command::new("cargo").args(["build", "--release", "-p", "kernel-deb"]))?;
    let out = PathBuf::from("target/kernel-debs");
    let _ = std::fs::remove_dir_all(&out);
    step("kernel-deb build (fetch + verify the pin, unpack, configure, kbuild, package)");
    sh(Command::new("target/release/kernel-deb")
        .arg("build")
        .arg("--out")
        .arg(&out)
        .args(args))?;
    step("result");
    for e in std::fs::read_dir(&out)? {
        let p = e?.path();
        eprintln!("{}  {}", sha256(&p)?, p.display());
    }
    eprintln!(
        "\nRebuild anywhere with `kernel-deb build`: the same pin gives these same sha256s.\n\
         Sign them with `kernel-deb testify --record {}/BUILD-RECORD …`.",
        out.display()
    );
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
    // Download into a private directory and rename into place, so a killed
    // or concurrent run never leaves a half-written .deb for `find` to take.
    let partial = dir.join(format!(".download-{}", std::process::id()));
    std::fs::create_dir_all(&partial)?;
    sh(Command::new("apt-get")
        .arg("download")
        .arg(pkg)
        .current_dir(&partial))?;
    for e in std::fs::read_dir(&partial)? {
        let e = e?;
        std::fs::rename(e.path(), dir.join(e.file_name()))?;
    }
    std::fs::remove_dir(&partial)?;
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

fn runs_arg(args: &[String]) -> Result<usize> {
    match args {
        [] => Ok(5),
        [f, n] if f == "--runs" => Ok(n.parse()?),
        _ => bail!("expected --runs N"),
    }
}

/// `kernel-deb verify` of Debian's linux-image .deb against 20 testimonies (20 fresh
/// sq keys, threshold 20) vs `sha256sum` + 20 × `gpgv` on the same files.
fn bench_verify(args: &[String]) -> Result<()> {
    let runs = runs_arg(args)?;
    step("building kernel-deb (release)");
    sh(Command::new("cargo").args(["build", "--release", "-p", "kernel-deb"]))?;
    let bin = std::fs::canonicalize("target/release/kernel-deb")?;
    let deb = std::fs::canonicalize(debian_image_deb()?)?;
    let work = PathBuf::from("target/bench-verify");
    let _ = std::fs::remove_dir_all(&work);
    for d in ["keys", "t"] {
        std::fs::create_dir_all(work.join(d))?;
    }
    step("a build record for the .deb (per-file sha256s from dpkg-deb --fsys-tarfile)");
    let field = |f: &str| -> Result<String> {
        Ok(output(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(f))?
            .trim()
            .to_owned())
    };
    let script = work.join("hash_files.py");
    std::fs::write(
        &script,
        "import sys, tarfile, hashlib\n\
         t = tarfile.open(fileobj=sys.stdin.buffer, mode='r|')\n\
         out = [(m.name.removeprefix('./'), hashlib.sha256(t.extractfile(m).read()).hexdigest()) for m in t if m.isreg()]\n\
         for p, d in sorted(out):\n    print(f'file={d} {p}')\n",
    )?;
    let files = output(Command::new("sh").arg("-c").arg(format!(
        "dpkg-deb --fsys-tarfile '{}' | python3 '{}'",
        deb.display(),
        script.display()
    )))?;
    let h = |s: &str| format!("{:0>64}", s.len());
    let record = format!(
        "samekernel-build-record=1\nsource-manifest-sha256={}\nsource-tarball={} linux-source.tar.xz\nsource-date-epoch=1700000000\ntoolchain-sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nkernel-config-sha256={}\ndeb={}\ndeb-package={}\ndeb-version={}\ndeb-architecture={}\ndeb-size={}\ndeb-sha256={}\n{files}",
        h("m"),
        h("tt"),
        h("ccc"),
        deb.file_name().unwrap().to_string_lossy(),
        field("Package")?,
        field("Version")?,
        field("Architecture")?,
        std::fs::metadata(&deb)?.len(),
        sha256(&deb)?
    );
    std::fs::write(work.join("record.txt"), record)?;
    step("20 witnesses: sq keys, testimonies, policy, keyrings");
    let mut policy = String::from("threshold = 20\n");
    let mut keyring = Vec::new();
    let mut gpg_keyring = Vec::new();
    for i in 1..=20 {
        let n = format!("w{i:02}");
        let key = work.join(format!("keys/{n}.key"));
        sh(Command::new("sq")
            .args([
                "key",
                "generate",
                "--userid",
                &format!("<{n}@bench.invalid>"),
                "--export",
            ])
            .arg(&key)
            .stderr(Stdio::null()))?;
        let cert = output(Command::new("sq").args(["key", "extract-cert"]).arg(&key))?;
        let fp = output(Command::new("sq").arg("inspect").arg(&key))?
            .lines()
            .find_map(|l| l.trim().strip_prefix("Fingerprint: ").map(str::to_owned))
            .context("sq inspect printed no fingerprint")?;
        sh(Command::new(&bin)
            .args(["testify", "--record"])
            .arg(work.join("record.txt"))
            .arg("--key")
            .arg(&key)
            .args(["--name", &n, "--review", "4", "--trust", "50", "-o"])
            .arg(work.join(format!("t/{n}.asc")))
            .stdout(Stdio::null()))?;
        policy.push_str(&format!(
            "[[witness]]\nname = \"{n}\"\nfingerprint = \"{fp}\"\n"
        ));
        keyring.extend_from_slice(cert.as_bytes());
        let mut dearmor = Command::new("gpg")
            .arg("--dearmor")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        use std::io::Write as _;
        dearmor.stdin.take().unwrap().write_all(cert.as_bytes())?;
        gpg_keyring.extend_from_slice(&dearmor.wait_with_output()?.stdout);
    }
    std::fs::write(work.join("policy.toml"), policy)?;
    std::fs::write(work.join("keyring.asc"), keyring)?;
    std::fs::write(work.join("keyring.gpg"), gpg_keyring)?;
    let _ = output(Command::new("cat").arg(&deb)); // warm the page cache for both sides
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut rss_ours, mut rss_theirs) = (0, 0);
    for _ in 0..runs {
        let (t, r) = timed(
            Command::new(&bin)
                .arg("verify")
                .arg(&deb)
                .arg("--policy")
                .arg(work.join("policy.toml"))
                .arg("--testimonies")
                .arg(work.join("t"))
                .arg("--keyring")
                .arg(work.join("keyring.asc")),
        )?;
        ours.push(t.as_secs_f64());
        rss_ours = rss_ours.max(r);
        let (t, r) = timed(Command::new("sh").arg("-c").arg(format!(
            "sha256sum '{}' >/dev/null && for f in '{}'/t/*.asc; do gpgv --keyring '{}' \"$f\" 2>/dev/null || exit 1; done",
            deb.display(), std::fs::canonicalize(&work)?.display(), std::fs::canonicalize(work.join("keyring.gpg"))?.display()
        )))?;
        theirs.push(t.as_secs_f64());
        rss_theirs = rss_theirs.max(r);
    }
    let (mo, mt) = (median(&mut ours), median(&mut theirs));
    println!(
        "| task | kernel-deb verify median | sha256sum + 20 x gpgv median | ratio | kernel-deb peak RSS | reference peak RSS |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} ({:.0} MB) vs 20 testimonies | {mo:.3} s | {mt:.3} s | {:.2} | {:.1} MiB | {:.1} MiB |",
        deb.file_name().unwrap().to_string_lossy(),
        std::fs::metadata(&deb)?.len() as f64 / 1e6,
        mo / mt,
        rss_ours as f64 / 1024.0,
        rss_theirs as f64 / 1024.0
    );
    Ok(())
}

/// Lets one run's writes reach the disk before the next is timed, so neither side pays
/// for the other's writeback.
fn settle_disk() -> Result<()> {
    sh(&mut Command::new("sync"))?;
    std::thread::sleep(std::time::Duration::from_secs(15));
    Ok(())
}

/// `kernel-deb build` vs upstream `make bindeb-pkg` on the same source and config.
fn bench_build(args: &[String]) -> Result<()> {
    // `-Z C` passes a compressor to kernel-deb build (upstream stays dpkg-deb's xz).
    let (compression, args) = match args {
        [f, z, rest @ ..] if f == "-Z" => (z.clone(), rest),
        _ => ("zstd".to_owned(), args),
    };
    let runs = match args {
        [] => 1,
        _ => runs_arg(args)?,
    };
    step("building kernel-deb (release)");
    sh(Command::new("cargo").args(["build", "--release", "-p", "kernel-deb"]))?;
    let bin = std::fs::canonicalize("target/release/kernel-deb")?;
    let config = std::fs::canonicalize("crates/kernel-deb/configs/samekernel-tiny.config")?;
    let work = PathBuf::from("target/bench-build");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let work = std::fs::canonicalize(&work)?;
    sh(Command::new(&bin).arg("fetch").stdout(Stdio::null()))?; // warm the cache for both
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    settle_disk()?;
    for i in 0..runs {
        // Alternate which side goes first, so caches and clock ramps favour neither.
        let ours_run = |ours: &mut Vec<f64>| -> Result<()> {
            step(&format!(
                "run {}/{runs}: kernel-deb build -j2 -Z {compression}",
                i + 1
            ));
            // --work-dir keeps the build tree, as make bindeb-pkg does: deleting
            // 2 GB is nobody's build time, so both sides are cleaned up untimed.
            // Stage lines (plain, as stderr is a file) go to a log and are shown after
            // the run, so a slow run says which stage was slow.
            let ours_work = work.join(format!("ours-{i}-work"));
            let ours_log = work.join(format!("ours-{i}.log"));
            let script = format!(
                "exec '{bin}' build -j2 -Z {compression} --out '{out}' --work-dir '{work}' 2>'{log}'",
                bin = bin.display(),
                out = work.join(format!("ours-{i}")).display(),
                work = ours_work.display(),
                log = ours_log.display()
            );
            let (t, _) = timed(Command::new("sh").arg("-c").arg(script))?;
            ours.push(t.as_secs_f64());
            for line in std::fs::read_to_string(&ours_log)?.lines() {
                if line.starts_with('[') || line.starts_with("built ") {
                    eprintln!("    {line}");
                }
            }
            settle_disk()?;
            Ok(())
        };
        let upstream_run = |theirs: &mut Vec<f64>| -> Result<()> {
            step(&format!(
                "run {}/{runs}: kernel-deb source + make allnoconfig + make -j2 bindeb-pkg",
                i + 1
            ));
            let up = work.join(format!("upstream-{i}"));
            // Stage times (epoch nanoseconds) go to a file, shown after the run like ours.
            let script = format!(
                "set -e; date +%s%N >'{up}.times'; \
                 '{bin}' source --out '{up}/src' >/dev/null 2>&1; date +%s%N >>'{up}.times'; \
                 make -s -C '{up}/src' O='{up}/obj' KCONFIG_ALLCONFIG='{config}' allnoconfig >/dev/null; \
                 date +%s%N >>'{up}.times'; \
                 make -s -C '{up}/src' O='{up}/obj' -j2 bindeb-pkg >'{up}.log' 2>&1; date +%s%N >>'{up}.times'",
                bin = bin.display(),
                up = up.display(),
                config = config.display()
            );
            let (t, _) = timed(
                Command::new("sh")
                    .arg("-c")
                    .arg(script)
                    .env("SOURCE_DATE_EPOCH", "1794660961"),
            )?;
            theirs.push(t.as_secs_f64());
            let stamps: Vec<f64> = std::fs::read_to_string(up.with_extension("times"))?
                .lines()
                .filter_map(|l| l.trim().parse::<f64>().ok())
                .collect();
            if let [t0, t1, t2, t3] = stamps[..] {
                eprintln!(
                    "    unpack {:.0} s, allnoconfig {:.0} s, bindeb-pkg (compile + package) {:.0} s",
                    (t1 - t0) / 1e9,
                    (t2 - t1) / 1e9,
                    (t3 - t2) / 1e9
                );
            }
            settle_disk()?;
            Ok(())
        };
        if i % 2 == 0 {
            ours_run(&mut ours)?;
            upstream_run(&mut theirs)?;
        } else {
            upstream_run(&mut theirs)?;
            ours_run(&mut ours)?;
        }
    }
    // Every tree is kept until the last run: deleting 2-3 GB on a filesystem mounted
    // with `discard` slowed the next run's unpack from 8 s to over 20 s here.
    step("removing the build trees");
    for i in 0..runs {
        let _ = std::fs::remove_dir_all(work.join(format!("ours-{i}-work")));
        let _ = std::fs::remove_dir_all(work.join(format!("upstream-{i}")));
    }
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|t| format!("{t:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    eprintln!(
        "kernel-deb build: {} s; make bindeb-pkg: {} s",
        fmt(&ours),
        fmt(&theirs)
    );
    let (mo, mt) = (median(&mut ours), median(&mut theirs));
    println!("| task | kernel-deb build median | make bindeb-pkg median | ratio (ours/upstream) |");
    println!("|---|---|---|---|");
    println!(
        "| built-in pin + tiny config, -j2, {runs} run(s), ours -Z {compression} | {mo:.0} s | {mt:.0} s | {:.2} |",
        mo / mt
    );
    Ok(())
}
