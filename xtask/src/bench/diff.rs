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

use anyhow::{Context, Result, bail};

use crate::cmd::{Samples, measure, release_kernel_deb, run};
use crate::flags::Flags;

const MODULE_SUFFIX: &str = "kernel/fs/isofs/isofs.ko.xz";
const BANNER: &[u8] = b"GCC: (Debian 13.2.0-25) 13.2.0\0";

pub fn bench_diff(mut flags: Flags) -> Result<()> {
    let runs: usize = flags.value_or("--runs", 3)?;
    flags.finish()?;
    let bin = release_kernel_deb()?;
    let work = PathBuf::from("target/bench-diff");
    let (a, b) = make_pair(&super::debian_image_deb()?, &work)?;
    let ours = differ(Command::new(&bin).arg("diff").arg(&a).arg(&b));
    let theirs = differ(
        Command::new("diffoscope")
            .arg("--text")
            .arg(work.join("diffoscope.txt"))
            .arg(&a)
            .arg(&b),
    );
    let (mut s_ours, mut s_theirs) = (Samples::default(), Samples::default());
    for i in 0..runs {
        // Alternate which side goes first so neither always gets the warmer cache.
        if i % 2 == 1 {
            s_theirs.push(measure(&theirs, Stdio::null(), None)?);
        }
        s_ours.push(measure(&ours, Stdio::null(), None)?);
        if i % 2 == 0 {
            s_theirs.push(measure(&theirs, Stdio::null(), None)?);
        }
    }
    check_both_found_it(&bin, &a, &b, &work)?;
    let (mo, mt) = (s_ours.median(), s_theirs.median());
    println!(
        "| pair | kernel-deb diff median | diffoscope median | ratio (ours/diffoscope) | kernel-deb peak RSS | diffoscope peak RSS |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} (one module's .comment changed) | {mo:.2} s | {mt:.2} s | {:.4} | {:.0} MiB | {:.0} MiB |",
        a.file_name().unwrap_or_default().to_string_lossy(),
        mo / mt,
        s_ours.peak_rss_mib(),
        s_theirs.peak_rss_mib()
    );
    Ok(())
}

/// `cmd` wrapped so that exit 1 ("the packages differ") counts as success, as `measure`
/// wants; the shell waits for the differ, so its peak RSS is what GNU time reports.
fn differ(cmd: &Command) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(r#""$0" "$@"; test $? -le 1"#)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    sh
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
    run(Command::new("dpkg-deb").arg("-R").arg(deb).arg(&ta))?;
    run(Command::new("cp").arg("-a").arg(&ta).arg(&tb))?;
    let module = find_module(&tb)?;
    change_banner(&module, work)?;
    regenerate_md5sums(&tb)?;
    for (tree, out) in [(&ta, &a), (&tb, &b)] {
        run(Command::new("dpkg-deb")
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
    run(Command::new("sh").arg("-c").arg(format!(
        "xz -dc '{}' > '{}'",
        module.display(),
        ko.display()
    )))?;
    run(Command::new("objcopy")
        .arg("--update-section")
        .arg(format!(".comment={}", banner.display()))
        .arg(&ko))?;
    run(Command::new("sh").arg("-c").arg(format!(
        "xz --check=crc32 --lzma2=dict=1MiB -c '{}' > '{}'",
        ko.display(),
        module.display()
    )))?;
    Ok(())
}

fn regenerate_md5sums(tree: &Path) -> Result<()> {
    run(Command::new("sh").current_dir(tree).arg("-c").arg(
        "find . -path ./DEBIAN -prune -o -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 md5sum > DEBIAN/md5sums",
    ))
}
