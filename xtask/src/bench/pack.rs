//! `cargo xtask bench pack [--runs N]`: detdeb (`kernel-deb deb pack`) vs
//! `dpkg-deb --build` on Debian's linux-image tree, per compressor.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Result, bail};

use crate::cmd::{Samples, measure, release_kernel_deb, run, sha256_file};
use crate::flags::Flags;

const SOURCE_DATE_EPOCH: &str = "1700000000";

pub fn bench_pack(mut flags: Flags) -> Result<()> {
    let runs: usize = flags.value_or("--runs", 3)?;
    flags.finish()?;
    let bin = release_kernel_deb()?;
    let deb = super::debian_image_deb()?;
    let work = PathBuf::from("target/bench-pack");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let tree = work.join("tree");
    run(Command::new("dpkg-deb").arg("-R").arg(&deb).arg(&tree))?;
    eprintln!("\ntree: {} ({runs} runs each, alternating)", deb.display());
    println!(
        "| compressor | dpkg-deb median | detdeb median | ratio (ours/dpkg) | dpkg-deb peak RSS | detdeb peak RSS | identical |"
    );
    println!("|---|---|---|---|---|---|---|");
    for z in ["xz", "gzip", "zstd"] {
        let ref_out = work.join(format!("dpkg.{z}.deb"));
        let our_out = work.join(format!("ours.{z}.deb"));
        let mut reference = Command::new("dpkg-deb");
        reference
            .args(["--root-owner-group", &format!("-Z{z}"), "--build"])
            .arg(&tree)
            .arg(&ref_out)
            .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH);
        let mut ours = Command::new(&bin);
        ours.args(["deb", "pack"])
            .arg(&tree)
            .arg("-o")
            .arg(&our_out)
            .args(["-Z", z, "--source-date-epoch", SOURCE_DATE_EPOCH]);
        let (mut s_ref, mut s_ours) = (Samples::default(), Samples::default());
        for _ in 0..runs {
            s_ref.push(measure(&reference, Stdio::null(), None)?);
            s_ours.push(measure(&ours, Stdio::null(), None)?);
        }
        let same = sha256_file(&ref_out)? == sha256_file(&our_out)?;
        let (mt, mo) = (s_ref.median(), s_ours.median());
        println!(
            "| {z} | {mt:.2} s | {mo:.2} s | {:.2} | {:.1} MiB | {:.1} MiB | {} |",
            mo / mt,
            s_ref.peak_rss_mib(),
            s_ours.peak_rss_mib(),
            if same { "yes" } else { "NO" }
        );
        if !same {
            bail!("-Z{z}: detdeb output differs from dpkg-deb");
        }
    }
    Ok(())
}
