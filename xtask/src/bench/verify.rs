//! `cargo xtask bench verify [--runs N]`: `kernel-deb verify` of Debian's linux-image
//! .deb against 20 testimonies (20 fresh sq keys, threshold 20) vs `sha256sum` and
//! 20 × `gpgv` on the same files.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use testimony::build_record::{DebRecord, FileHash, SourcePin, Toolchain};
use testimony::{BuildRecord, canonical};

use crate::cmd::{Measured, measure, median, output, release_kernel_deb, run, step};
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
    let record = build_record_of(&deb)?;
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
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut rss_ours, mut rss_theirs) = (0, 0);
    for _ in 0..runs {
        let m = measure(&ours_cmd, Stdio::null(), None)?;
        ours.push(m.wall.as_secs_f64());
        rss_ours = rss_ours.max(m.peak_rss_kib);
        let m = reference_verify(&deb, &work)?;
        theirs.push(m.wall.as_secs_f64());
        rss_theirs = rss_theirs.max(m.peak_rss_kib);
    }
    let (mo, mt) = (median(&mut ours), median(&mut theirs));
    println!(
        "| task | kernel-deb verify median | sha256sum + 20 x gpgv median | ratio | kernel-deb peak RSS | reference peak RSS |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} ({:.0} MB) vs 20 testimonies | {mo:.3} s | {mt:.3} s | {:.2} | {:.1} MiB | {:.1} MiB |",
        deb.file_name().unwrap_or_default().to_string_lossy(),
        std::fs::metadata(&deb)?.len() as f64 / 1e6,
        mo / mt,
        rss_ours as f64 / 1024.0,
        rss_theirs as f64 / 1024.0
    );
    Ok(())
}

/// A canonical build record for one .deb that no build of ours made: the .deb's own
/// fields and file hashes, and stand-in hashes for the source, config and toolchain.
fn build_record_of(deb: &Path) -> Result<BuildRecord> {
    let stand_in = |what: &str| canonical::sha256_hex(format!("bench verify: {what}").as_bytes());
    let reader = detdeb::DebReader::open(deb)?;
    let control = reader.control()?;
    let field = |name: &str| -> Result<String> {
        control
            .get(name)
            .map(str::to_owned)
            .with_context(|| format!("{}: no {name} field", deb.display()))
    };
    let mut files = Vec::new();
    let mut tar = reader.data_tar()?;
    while let Some(e) = tar.next_entry()? {
        if e.kind == detdeb::TarEntryKind::File {
            let path = e.name_lossy().trim_start_matches("./").to_owned();
            let (sha256, _) = canonical::sha256_reader(tar.data_reader())?;
            files.push(FileHash { path, sha256 });
        }
    }
    let record = BuildRecord {
        source: SourcePin {
            manifest_sha256: stand_in("no source manifest"),
            tarball_name: "linux-source.tar.xz".to_owned(),
            tarball_sha256: stand_in("no source tarball"),
            source_date_epoch: 1_700_000_000,
        },
        toolchain: Toolchain::default(),
        kernel_config_sha256: stand_in("no kernel config"),
        debs: vec![DebRecord {
            file_name: deb.file_name().unwrap_or_default().to_string_lossy().into(),
            package: field("Package")?,
            version: field("Version")?,
            architecture: field("Architecture")?,
            size: std::fs::metadata(deb)?.len(),
            sha256: canonical::sha256_reader(std::fs::File::open(deb)?)?.0,
            files,
        }],
    };
    // What the testify step will read must be a valid record, not just our text.
    BuildRecord::parse(&record.to_text()).context("the bench's own build record")
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A .deb made by the real dpkg-deb: the record names its fields and exactly its
    /// regular files, with their content hashes.
    #[test]
    fn the_record_lists_a_real_debs_files() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir_all(tree.join("DEBIAN")).unwrap();
        std::fs::create_dir_all(tree.join("boot/sub")).unwrap();
        std::fs::write(
            tree.join("DEBIAN/control"),
            "Package: bench-probe\nVersion: 1.2-3\nArchitecture: amd64\n\
             Maintainer: x <x@example.invalid>\nDescription: probe\n",
        )
        .unwrap();
        std::fs::write(tree.join("boot/vmlinuz"), b"kernel bytes").unwrap();
        std::fs::write(tree.join("boot/sub/b"), b"").unwrap();
        std::os::unix::fs::symlink("vmlinuz", tree.join("boot/link")).unwrap();
        let deb = dir.path().join("probe_1.2-3_amd64.deb");
        run(Command::new("dpkg-deb")
            .args(["--root-owner-group", "-b"])
            .arg(&tree)
            .arg(&deb)
            .stdout(Stdio::null()))
        .unwrap();
        let r = build_record_of(&deb).unwrap();
        let d = &r.debs[0];
        assert_eq!(d.file_name, "probe_1.2-3_amd64.deb");
        assert_eq!(
            (d.package.as_str(), d.version.as_str()),
            ("bench-probe", "1.2-3")
        );
        assert_eq!(d.size, std::fs::metadata(&deb).unwrap().len());
        assert_eq!(d.sha256, crate::cmd::sha256_file(&deb).unwrap());
        let files: Vec<(&str, &str)> = d
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .collect();
        let hash = |b: &[u8]| canonical::sha256_hex(b);
        let (empty, kernel) = (hash(b""), hash(b"kernel bytes"));
        assert_eq!(
            files,
            [
                ("boot/sub/b", empty.as_str()),
                ("boot/vmlinuz", kernel.as_str())
            ]
        );
    }
}
