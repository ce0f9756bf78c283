//! `cargo xtask bench diff [--runs N]`: `kernel-deb diff` vs `diffoscope` on a pair
//! of real, differing kernel packages, in the same run: medians and their ratio,
//! peak RSS of each.
//!
//! The pair: Debian's own `linux-image-6.12.*-amd64-unsigned` .deb (downloaded
//! with `apt-get download` into target/debian-debs/), unpacked with `dpkg-deb -R`
//! into two trees. In tree B one module gets another compiler banner in its
//! `.comment` (Mempo's bug2: `objcopy --update-section`, recompressed with
//! `xz --check=crc32` as kbuild does). Both trees are packed by the same
//! `dpkg-deb --root-owner-group -Zzstd --build` with the same SOURCE_DATE_EPOCH,
//! so the two packages differ exactly in that module (and `md5sums`); both tools
//! must open all ~4,000 files' worth of data to find it. (Debian signs its modules
//! at build time; objcopy drops the signature appendix, so the module is also
//! unsigned on side B, and `kernel-deb diff` says so.)
//!
//! Measured once (2 cores, shared; linux-image-6.12.117+deb12-amd64-unsigned, 3 runs):
//! kernel-deb diff median 1.74 s, diffoscope 240 median 74.41 s, ratio 0.023;
//! peak RSS 18 MiB vs 68 MiB.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const MODULE_SUFFIX: &str = "kernel/fs/isofs/isofs.ko.xz";
const BANNER: &[u8] = b"GCC: (Debian 13.2.0-25) 13.2.0\0";

/// Entry point (`args`: what follows `bench diff`).
pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = match args {
        [] => 3,
        [flag, n] if flag == "--runs" => n.parse()?,
        _ => bail!("usage: cargo xtask bench diff [--runs N]"),
    };
    sh(Command::new("cargo").args(["build", "--release", "-p", "kernel-deb"]))?;
    let bin = std::fs::canonicalize("target/release/kernel-deb")?;
    let work = PathBuf::from("target/bench-diff");
    let (a, b) = make_pair(&debian_image_deb()?, &work)?;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut rss_ours, mut rss_theirs) = (0u64, 0u64);
    for i in 0..runs {
        let mut o = Command::new(&bin);
        o.arg("diff").arg(&a).arg(&b);
        let mut d = Command::new("diffoscope");
        d.arg("--text")
            .arg(work.join("diffoscope.txt"))
            .arg(&a)
            .arg(&b);
        // Alternate which side goes first so neither always gets the warmer cache.
        let order: [(&mut Command, bool); 2] = if i % 2 == 0 {
            [(&mut o, true), (&mut d, false)]
        } else {
            [(&mut d, false), (&mut o, true)]
        };
        for (cmd, is_ours) in order {
            let (t, rss) = timed(cmd)?;
            eprintln!(
                "run {}: {} {:.2} s, {} MiB",
                i + 1,
                if is_ours {
                    "kernel-deb diff"
                } else {
                    "diffoscope"
                },
                t.as_secs_f64(),
                rss / 1024
            );
            if is_ours {
                ours.push(t.as_secs_f64());
                rss_ours = rss_ours.max(rss);
            } else {
                theirs.push(t.as_secs_f64());
                rss_theirs = rss_theirs.max(rss);
            }
        }
    }
    check_both_found_it(&bin, &a, &b, &work)?;
    let (mo, mt) = (median(&mut ours), median(&mut theirs));
    println!(
        "| pair | kernel-deb diff median | diffoscope median | ratio (ours/diffoscope) | kernel-deb peak RSS | diffoscope peak RSS |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} (one module's .comment changed) | {mo:.2} s | {mt:.2} s | {:.4} | {:.0} MiB | {:.0} MiB |",
        a.file_name().unwrap_or_default().to_string_lossy(),
        mo / mt,
        rss_ours as f64 / 1024.0,
        rss_theirs as f64 / 1024.0
    );
    Ok(())
}

fn check_both_found_it(bin: &Path, a: &Path, b: &Path, work: &Path) -> Result<()> {
    let out = Command::new(bin).arg("diff").arg(a).arg(b).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if out.status.code() != Some(1)
        || !text.contains(MODULE_SUFFIX)
        || !text.contains("compiler banner")
    {
        bail!("kernel-deb diff did not name the changed module's banner:\n{text}");
    }
    eprintln!("kernel-deb diff: {}", text.lines().next().unwrap_or(""));
    let theirs = std::fs::read_to_string(work.join("diffoscope.txt"))?;
    if !theirs.contains(MODULE_SUFFIX) {
        bail!("diffoscope's report does not mention {MODULE_SUFFIX}");
    }
    Ok(())
}

fn make_pair(deb: &Path, work: &Path) -> Result<(PathBuf, PathBuf)> {
    let (a, b) = (work.join("a.deb"), work.join("b.deb"));
    if a.is_file() && b.is_file() {
        return Ok((a, b));
    }
    let _ = std::fs::remove_dir_all(work);
    let (ta, tb) = (work.join("tree-a"), work.join("tree-b"));
    std::fs::create_dir_all(work)?;
    sh(Command::new("dpkg-deb").arg("-R").arg(deb).arg(&ta))?;
    sh(Command::new("cp").arg("-a").arg(&ta).arg(&tb))?;
    let module = find_module(&tb)?;
    change_banner(&module, work)?;
    regenerate_md5sums(&tb)?;
    for (tree, out) in [(&ta, &a), (&tb, &b)] {
        sh(Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zzstd", "--build"])
            .arg(tree)
            .arg(out)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .stdout(Stdio::null()))?;
    }
    std::fs::remove_dir_all(&ta)?;
    std::fs::remove_dir_all(&tb)?;
    Ok((a, b))
}

fn find_module(tree: &Path) -> Result<PathBuf> {
    let modules = tree.join("lib/modules");
    let release = std::fs::read_dir(&modules)
        .with_context(|| format!("{}", modules.display()))?
        .next()
        .context("no kernel release under lib/modules")??;
    let m = release.path().join(MODULE_SUFFIX);
    if !m.is_file() {
        bail!("{} not in the package", m.display());
    }
    Ok(m)
}

fn change_banner(module: &Path, work: &Path) -> Result<()> {
    let ko = work.join("module.ko");
    let banner = work.join("banner");
    std::fs::write(&banner, BANNER)?;
    sh(Command::new("sh").arg("-c").arg(format!(
        "xz -dc '{}' > '{}'",
        module.display(),
        ko.display()
    )))?;
    sh(Command::new("objcopy")
        .arg("--update-section")
        .arg(format!(".comment={}", banner.display()))
        .arg(&ko))?;
    sh(Command::new("sh").arg("-c").arg(format!(
        "xz --check=crc32 --lzma2=dict=1MiB -c '{}' > '{}'",
        ko.display(),
        module.display()
    )))?;
    Ok(())
}

fn regenerate_md5sums(tree: &Path) -> Result<()> {
    sh(Command::new("sh").current_dir(tree).arg("-c").arg(
        "find . -path ./DEBIAN -prune -o -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 md5sum > DEBIAN/md5sums",
    ))
}

fn debian_image_deb() -> Result<PathBuf> {
    let dir = PathBuf::from("target/debian-debs");
    std::fs::create_dir_all(&dir)?;
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                let n = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                n.starts_with("linux-image-6.12.")
                    && n.contains("-amd64-unsigned_")
                    && n.ends_with(".deb")
            })
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    let names = String::from_utf8(
        Command::new("apt-cache")
            .args([
                "search",
                "--names-only",
                r"^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$",
            ])
            .output()?
            .stdout,
    )?;
    let pkg = names
        .lines()
        .filter_map(|l| l.split(' ').next())
        .max_by_key(|p| {
            p["linux-image-6.12.".len()..]
                .split('+')
                .next()
                .unwrap_or("0")
                .parse::<u32>()
                .unwrap_or(0)
        });
    let pkg =
        pkg.context("apt knows no linux-image-6.12.*-amd64-unsigned (run cargo xtask deps)")?;
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

/// Wall time and peak RSS (KiB, GNU time) of a diff: exit 0 or 1 are both results.
fn timed(cmd: &mut Command) -> Result<(Duration, u64)> {
    let rss_file = std::env::temp_dir().join(format!("xtask-diff-rss-{}", std::process::id()));
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    wrapped.stdout(Stdio::null());
    let t = Instant::now();
    let status = wrapped
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    let elapsed = t.elapsed();
    if !matches!(status.code(), Some(0 | 1)) {
        bail!("{cmd:?} failed: {status}");
    }
    let text = std::fs::read_to_string(&rss_file)?;
    let rss = text
        .lines()
        .last()
        .unwrap_or("0")
        .trim()
        .parse()
        .unwrap_or(0);
    Ok((elapsed, rss))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
