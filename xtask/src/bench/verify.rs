//! `cargo xtask bench verify [--runs N]`: `kernel-deb verify` of Debian's linux-image
//! .deb against 20 testimonies (20 fresh sq keys, threshold 20) vs `sha256sum` and
//! 20 × `gpgv` on the same files.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::cmd::{Measured, Samples, measure, output, release_kernel_deb, run, step};
use crate::flags::Flags;

const WITNESSES: usize = 20;

pub fn bench_verify(mut flags: Flags) -> Result<()> {
    let runs: usize = flags.value_or("--runs", 5)?;
    flags.finish()?;
    let bin = release_kernel_deb()?;
    let deb = std::fs::canonicalize(super::debian_image_deb()?)?;
    let work = PathBuf::from("target/bench-verify");
    let _ = std::fs::remove_dir_all(&work);
    for d in ["keys", "t"] {
        std::fs::create_dir_all(work.join(d))?;
    }
    let work = std::fs::canonicalize(&work)?;
    step("a build record for the .deb (per-file sha256s of its data tarball)");
    let record = crate::record::build_record_of(&[&deb], Default::default())?;
    std::fs::write(work.join("record.txt"), record.to_text())?;
    step("20 witnesses: sq keys, testimonies, policy, keyrings");
    make_witnesses(&bin, &work)?;
    let _ = std::fs::read(&deb)?; // warm the page cache for both sides
    let mut ours_cmd = Command::new(&bin);
    ours_cmd
        .arg("verify")
        .arg(&deb)
        .arg("--policy")
        .arg(work.join("policy.toml"))
        .arg("--testimonies")
        .arg(work.join("t"))
        .arg("--keyring")
        .arg(work.join("keyring.asc"));
    let (mut ours, mut theirs) = (Samples::default(), Samples::default());
    for _ in 0..runs {
        ours.push(measure(&ours_cmd, Stdio::null(), None)?);
        theirs.push(reference_verify(&deb, &work)?);
    }
    let (mo, mt) = (ours.median(), theirs.median());
    println!(
        "| task | kernel-deb verify median | sha256sum + 20 x gpgv median | ratio | kernel-deb peak RSS | reference peak RSS |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} ({:.0} MB) vs 20 testimonies | {mo:.3} s | {mt:.3} s | {:.2} | {:.1} MiB | {:.1} MiB |",
        deb.file_name().unwrap_or_default().to_string_lossy(),
        std::fs::metadata(&deb)?.len() as f64 / 1e6,
        mo / mt,
        ours.peak_rss_mib(),
        theirs.peak_rss_mib()
    );
    Ok(())
}

/// sq keys, one testimony each (by `kernel-deb testify`), the policy naming them all,
/// and their certificates armored (for us) and binary (for gpgv).
fn make_witnesses(bin: &Path, work: &Path) -> Result<()> {
    let mut policy = format!("threshold = {WITNESSES}\n");
    let (mut keyring, mut gpg_keyring) = (Vec::new(), Vec::new());
    for i in 1..=WITNESSES {
        let n = format!("w{i:02}");
        let key = work.join(format!("keys/{n}.key"));
        run(Command::new("sq")
            .args(["key", "generate", "--userid"])
            .arg(format!("<{n}@bench.invalid>"))
            .arg("--export")
            .arg(&key)
            .stderr(Stdio::null()))?;
        let cert = output(Command::new("sq").args(["key", "extract-cert"]).arg(&key))?;
        let fp = output(Command::new("sq").arg("inspect").arg(&key))?
            .lines()
            .find_map(|l| l.trim().strip_prefix("Fingerprint: ").map(str::to_owned))
            .context("sq inspect printed no fingerprint")?;
        run(Command::new(bin)
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
        dearmor
            .stdin
            .take()
            .context("gpg stdin")?
            .write_all(cert.as_bytes())?;
        gpg_keyring.extend_from_slice(&dearmor.wait_with_output()?.stdout);
    }
    std::fs::write(work.join("policy.toml"), policy)?;
    std::fs::write(work.join("keyring.asc"), keyring)?;
    std::fs::write(work.join("keyring.gpg"), gpg_keyring)?;
    Ok(())
}

/// `sha256sum` of the .deb, then `gpgv` of each testimony: wall times summed, peak
/// RSS the largest.
fn reference_verify(deb: &Path, work: &Path) -> Result<Measured> {
    let mut sum = Command::new("sha256sum");
    sum.arg(deb);
    let mut total = measure(&sum, Stdio::null(), None)?;
    let mut testimonies: Vec<PathBuf> = std::fs::read_dir(work.join("t"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    testimonies.sort();
    for t in testimonies {
        let mut gpgv = Command::new("gpgv");
        gpgv.arg("--keyring").arg(work.join("keyring.gpg")).arg(t);
        let m = measure(&gpgv, Stdio::null(), Some(Stdio::null()))?;
        total.wall += m.wall;
        total.peak_rss_kib = total.peak_rss_kib.max(m.peak_rss_kib);
    }
    Ok(total)
}
