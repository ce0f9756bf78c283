//! `kernel-deb build`: pinned source → the same kernel `.debs` for everyone.
//!
//! Stages: fetch and verify the pin (srcpin), safe-unpack it, configure (the built-in
//! tiny config, or `--config`/`--config-fragment`), lint the resolved `.config` for
//! hazards, fingerprint the toolchain, run kbuild out of tree under the sanitized
//! environment (kbuild-env), stage `linux-image` and `linux-headers` and pack them with
//! detdeb, and write the build record (testimony's format) beside them.
//!
//! Nothing half-written reaches `--out`: kbuild runs in a work directory in TMPDIR,
//! the packages are assembled in a directory beside `--out`, and the finished set is
//! renamed into place. On a kbuild failure the last
//! lines of the log and its path are printed, and the work directory is kept.

use std::fs;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use detdeb::{Compressor, DebReader, TarEntryKind};
use indicatif::{ProgressBar, ProgressStyle};
use kbuild_env::{EnvSpec, KbuildEnv, KernelConfig, ToolchainFingerprint};
use sha2::{Digest, Sha256};
use srcpin::UnpackLimits;

use super::fetch::{ProgressUi, load_manifest, make_fetcher};
use crate::build::package::{self, PackageMeta};

/// The built-in default configuration fragment.
pub const DEFAULT_CONFIG: &str = include_str!("../../configs/samekernel-tiny.config");

/// Arguments of `kernel-deb build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The pin (TOML); the built-in default (Debian's linux-source-6.12) when absent.
    #[arg(long, value_name = "M")]
    pub manifest: Option<PathBuf>,
    /// A complete kernel .config (then `make olddefconfig`); default: the built-in
    /// tiny x86_64 config.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Kconfig fragments applied on top (repeatable).
    #[arg(long = "config-fragment", value_name = "FILE")]
    pub fragments: Vec<PathBuf>,
    /// Output directory; must not exist or be empty. Receives the .debs and
    /// BUILD-RECORD.
    #[arg(long, default_value = "kernel-debs")]
    pub out: PathBuf,
    /// Parallel jobs for make (never changes the output).
    #[arg(short, long)]
    pub jobs: Option<u32>,
    /// Cache directory [default: $SAMEKERNEL_CACHE, else $XDG_CACHE_HOME/samekernel].
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Compressor of the .debs. zstd (level 3, as `dpkg-deb -Zzstd`) uses under a
    /// hundredth of xz's CPU on a kernel tree, so rebuilding to testify stays cheap;
    /// `-Z xz` gives Debian's own kernel packages' format (a third smaller, and
    /// installable by dpkg older than 1.21.18). Part of the output: witnesses must
    /// agree on it.
    #[arg(short = 'Z', long, default_value = "zstd")]
    pub compression: Compressor,
    /// A toolchain fingerprint (from another build or a testimony) to compare with
    /// this machine's before building.
    #[arg(long, value_name = "FILE")]
    pub expect_toolchain: Option<PathBuf>,
    /// Also build `linux-libc-dev` (the userspace API headers, `make headers_install`).
    #[arg(long)]
    pub with_libc_dev: bool,
    /// Also build `linux-image-R-dbg` (vmlinux and module debug info); the config must
    /// enable CONFIG_DEBUG_INFO, not split into .dwo files.
    #[arg(long)]
    pub with_dbg: bool,
    /// Build even when the config has hazards that make the output differ per build.
    #[arg(long)]
    pub allow_hazards: bool,
    /// Keep the work directory (source, objects, staging) after a successful build.
    #[arg(long)]
    pub keep_work: bool,
    /// Where to build (kept afterwards) [default: a fresh directory in TMPDIR, removed
    /// after a successful build]. kbuild needs a path without spaces.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Only errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// A JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Stage reporting: a spinner on a terminal, plain lines otherwise.
struct Stages {
    bar: Option<ProgressBar>,
    quiet: bool,
    started: Instant,
}

impl Stages {
    fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .expect("static template"),
            );
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        Stages {
            bar,
            quiet,
            started: Instant::now(),
        }
    }

    fn stage(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.set_message(msg.to_owned()),
            None if !self.quiet => eprintln!("[{:>4}s] {msg}", self.started.elapsed().as_secs()),
            None => {}
        }
    }

    /// A note that stays visible (warnings, results).
    fn note(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => eprintln!("{msg}"),
        }
    }

    fn progress(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_owned());
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Runs make (or a script) under the sanitized environment, logging everything to
/// `log`, counting compile steps for the progress line.
struct Kbuild<'a> {
    env: &'a KbuildEnv,
    log: PathBuf,
    stages: &'a Stages,
}

impl Kbuild<'_> {
    fn make(&self, args: &[&str]) -> Result<()> {
        self.run(self.env.make_command(args), &args.join(" "))
    }

    fn make_output(&self, args: &[&str]) -> Result<String> {
        let mut cmd = self.env.make_command(&[]);
        cmd.arg("-s").args(args);
        let out = cmd.output().context("running make")?;
        if !out.status.success() {
            bail!(
                "make {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn run(&self, mut cmd: Command, what: &str) -> Result<()> {
        let mut log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| self.log.display().to_string())?;
        writeln!(log, "$ {what}")?;
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {what}"))?;
        // stderr to the log from a thread; stdout line by line for progress.
        let mut err_log = log.try_clone()?;
        let stderr = child.stderr.take().expect("piped");
        let err_thread = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(err_log, "{line}");
            }
        });
        let mut steps = 0u64;
        for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
            let line = line?;
            writeln!(log, "{line}")?;
            if line.starts_with("  ") {
                steps += 1;
                if steps.is_multiple_of(25) {
                    self.stages
                        .progress(&format!("compile: {steps} steps ({what})"));
                }
            }
        }
        let _ = err_thread.join();
        let status = child.wait()?;
        if !status.success() {
            let text = fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(25).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "kbuild failed ({what}: {status}); last lines of {}:\n{}",
                self.log.display(),
                tail.join("\n")
            );
        }
        Ok(())
    }
}

fn sha256_file(p: &Path) -> Result<String> {
    let mut h = Sha256::new();
    let mut f = fs::File::open(p).with_context(|| p.display().to_string())?;
    std::io::copy(&mut f, &mut h)?;
    Ok(hex(&h.finalize()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `Sat, 14 Nov 2026 12:56:01 +0000` for an epoch (UTC), for changelogs: the same
/// calendar arithmetic as the pinned KBUILD_BUILD_TIMESTAMP, in RFC 5322 order.
pub fn rfc2822(epoch: i64) -> String {
    // "Sat Nov 14 12:56:01 UTC 2026"
    let c = kbuild_env::env::date_c_locale(epoch);
    let f: Vec<&str> = c.split_whitespace().collect();
    format!("{}, {:0>2} {} {} {} +0000", f[0], f[2], f[1], f[5], f[3])
}

/// Every regular file of a .deb with its sha256, for the build record.
fn deb_record(path: &Path) -> Result<testimony::build_record::DebRecord> {
    let r = DebReader::open(path)?;
    let c = r.control()?;
    let mut files = Vec::new();
    let mut tar = r.data_tar()?;
    while let Some(e) = tar.next_entry()? {
        if e.kind != TarEntryKind::File {
            continue;
        }
        let mut h = Sha256::new();
        std::io::copy(&mut tar.data_reader(), &mut h)?;
        let name = e.name_lossy();
        files.push(testimony::build_record::FileHash {
            path: name.strip_prefix("./").unwrap_or(&name).to_owned(),
            sha256: hex(&h.finalize()),
        });
    }
    files.sort();
    let field = |f: &str| {
        c.get(f)
            .map(str::to_owned)
            .with_context(|| format!("{}: no {f}", path.display()))
    };
    Ok(testimony::build_record::DebRecord {
        file_name: path.file_name().unwrap().to_string_lossy().into_owned(),
        package: field("Package")?,
        version: field("Version")?,
        architecture: field("Architecture")?,
        size: fs::metadata(path)?.len(),
        sha256: sha256_file(path)?,
        files,
    })
}

/// The toolchain fingerprint as a build record's `Toolchain`: packages and binary
/// digests as `name=version` components, banners as banners.
fn record_toolchain(fp: &ToolchainFingerprint) -> testimony::build_record::Toolchain {
    let name_safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".+_-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut t = testimony::build_record::Toolchain::default();
    for (name, version) in &fp.packages {
        t.components
            .push(testimony::build_record::ToolchainComponent {
                name: name_safe(name),
                version: version.as_deref().unwrap_or("none").replace(' ', "_"),
            });
    }
    for (path, digest) in &fp.binaries {
        t.components
            .push(testimony::build_record::ToolchainComponent {
                name: format!("sha256{}", name_safe(path)),
                version: digest.clone(),
            });
    }
    for (tool, banner) in &fp.banners {
        t.banners.push(format!("{tool}: {banner}"));
    }
    t
}

pub fn run(args: BuildArgs) -> Result<ExitCode> {
    let t0 = Instant::now();
    // The one process-wide setting kbuild-env cannot carry in the environment.
    crate::build::set_umask(kbuild_env::UMASK);
    // Fingerprinting checks every tool and -dev package kbuild needs (a missing one is
    // named with its Debian package), so do it before downloading anything.
    let fingerprint = kbuild_env::collect(&kbuild_env::ToolchainQuery::default())?;
    if fs::read_dir(&args.out).is_ok_and(|mut d| d.next().is_some()) {
        bail!(
            "{}: refusing to overwrite an existing non-empty directory",
            args.out.display()
        );
    }
    let stages = Stages::new(args.quiet || args.json);

    // The kbuild tree lives in a temporary directory (TMPDIR), not beside --out:
    // kbuild cannot build in a path with spaces, and --out may have some. Where it
    // lives never reaches the output (prefix maps).
    let out_parent = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&out_parent)?;
    let mut work_holder = None;
    let work: PathBuf = match &args.work_dir {
        Some(w) => {
            fs::create_dir_all(w)?;
            fs::canonicalize(w)?
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("kernel-deb-build-")
                .tempdir()
                .context("creating a work directory in TMPDIR")?;
            let p = fs::canonicalize(t.path())?;
            work_holder = Some(t);
            p
        }
    };
    match build_in(&args, &out_parent, &work, &fingerprint, &stages, t0) {
        Ok(()) => {
            // A temporary work directory goes away with `work_holder` unless kept; one
            // the user named with --work-dir is theirs and stays.
            if args.keep_work
                && let Some(t) = work_holder
            {
                eprintln!("work directory kept: {}", t.keep().display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            stages.finish();
            // Keep what failed for inspection; --out was never touched.
            if let Some(t) = work_holder {
                let kept = t.keep();
                eprintln!(
                    "kernel-deb: work directory kept for inspection: {}",
                    kept.display()
                );
            }
            Err(e)
        }
    }
}

fn build_in(
    args: &BuildArgs,
    out_parent: &Path,
    work: &Path,
    fingerprint: &ToolchainFingerprint,
    stages: &Stages,
    t0: Instant,
) -> Result<()> {
    let log = work.join("build.log");
    // 1. fetch + verify, 2. unpack.
    stages.stage("fetch and verify the pinned source");
    let manifest = load_manifest(args.manifest.as_deref())?;
    let manifest_sha256 = hex(&Sha256::digest(manifest.to_toml_string().as_bytes()));
    let fetcher = make_fetcher(args.cache.clone())?;
    let mut loud = ProgressUi::new();
    let mut silent = srcpin::NoProgress;
    let ui: &mut dyn srcpin::FetchProgress = if args.quiet || args.json {
        &mut silent
    } else {
        &mut loud
    };
    let fetched = srcpin::fetch_sources(&manifest, &fetcher, ui)?;
    stages.stage("unpack the source");
    let src = srcpin::prepare_source(&fetched, &work.join("src"), &UnpackLimits::default(), ui)?;
    loud.finish();
    let src = fs::canonicalize(src)?;
    let sde = i64::try_from(fetched.source_date_epoch).context("SOURCE_DATE_EPOCH out of range")?;

    // 3. configure.
    let obj = work.join("obj");
    fs::create_dir_all(&obj)?;
    let home = work.join("home");
    fs::create_dir_all(&home)?;
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1)
    });
    let mut spec = EnvSpec::new(sde, src.clone(), obj.clone(), home.clone(), jobs);
    spec.build_user = "samekernel".into();
    spec.build_host = "samekernel".into();
    let env = KbuildEnv::new(&spec)?;
    let kb = Kbuild {
        env: &env,
        log: log.clone(),
        stages,
    };
    stages.stage("configure");
    let mut fragment = String::new();
    for f in &args.fragments {
        fragment.push_str(&fs::read_to_string(f).with_context(|| f.display().to_string())?);
        fragment.push('\n');
    }
    match &args.config {
        None => {
            let all = work.join("allconfig");
            fs::write(&all, format!("{DEFAULT_CONFIG}\n{fragment}"))?;
            kb.make(&[
                &format!("KCONFIG_ALLCONFIG={}", all.display()),
                "allnoconfig",
            ])?;
        }
        Some(c) => {
            let text = fs::read_to_string(c).with_context(|| c.display().to_string())?;
            fs::write(obj.join(".config"), format!("{text}\n{fragment}"))?;
            kb.make(&["olddefconfig"])?;
        }
    }
    let config_text = fs::read_to_string(obj.join(".config"))?;
    let config = KernelConfig::parse(&config_text, &obj.join(".config").display().to_string())?;
    let hazards = kbuild_env::lint(&config, &env.lint_context());
    let mut fatal = 0;
    for h in &hazards {
        match h.rule.kind {
            // Only meaningful against another builder's fingerprint (see below).
            kbuild_env::HazardKind::ToolchainProbed | kbuild_env::HazardKind::Note => {}
            kbuild_env::HazardKind::RandomPerBuild => {
                fatal += 1;
                stages.note(&format!("kernel-deb: error: {h}"));
            }
            _ => stages.note(&format!("kernel-deb: warning: {h}")),
        }
    }
    if fatal > 0 && !args.allow_hazards {
        bail!(
            "the config makes every build different ({fatal} hazard(s) above); fix them or pass --allow-hazards"
        );
    }

    if args.with_dbg
        && (!config.is_enabled("CONFIG_DEBUG_INFO") || config.is_enabled("CONFIG_DEBUG_INFO_SPLIT"))
    {
        bail!(
            "--with-dbg: {} has no debug info to package (set CONFIG_DEBUG_INFO_DWARF5=y, without CONFIG_DEBUG_INFO_SPLIT)",
            obj.join(".config").display()
        );
    }

    // 4. compare the toolchain fingerprint (collected before fetching).
    if let Some(expected) = &args.expect_toolchain {
        let text = fs::read_to_string(expected).with_context(|| expected.display().to_string())?;
        let theirs =
            ToolchainFingerprint::parse(&text).with_context(|| expected.display().to_string())?;
        let diffs = fingerprint.diff(&theirs);
        if diffs.is_empty() {
            stages.note("kernel-deb: toolchain identical to the expected fingerprint");
        }
        for d in &diffs {
            stages.note(&format!(
                "kernel-deb: toolchain differs: {}: here {} / expected {}: {} ({})",
                d.item,
                d.ours.as_deref().unwrap_or("(none)"),
                d.theirs.as_deref().unwrap_or("(none)"),
                match d.effect {
                    kbuild_env::Effect::KnownToChangeOutput => "known to change the output",
                    kbuild_env::Effect::NotKnownToChangeOutput => "not known to change the output",
                },
                d.reason
            ));
        }
    }

    // 5. kbuild.
    let release = kb.make_output(&["kernelrelease"])?;
    let image_name = kb.make_output(&["image_name"])?;
    stages.stage(&format!("compile {release} (-j{jobs})"));
    kb.make(&["all"])?;

    // 6. stage and pack.
    stages.stage("package with detdeb");
    let meta = PackageMeta {
        version: format!(
            "{}+sk.{}",
            manifest_version(&manifest, &release),
            &config.sha256()[..12]
        ),
        kernel_release: release.clone(),
        arch: "amd64".into(),
        source_date_epoch: sde,
        rfc2822_date: rfc2822(sde),
        initrd: config.is_enabled("CONFIG_BLK_DEV_INITRD"),
        source_description: manifest_description(&manifest),
    };
    let staging = work.join("staging");
    // The results are assembled beside --out (same filesystem, so the final rename
    // is atomic); on any error this directory disappears with its guard.
    let results_guard = tempfile::Builder::new()
        .prefix(".kernel-deb-out-")
        .tempdir_in(out_parent)
        .with_context(|| out_parent.display().to_string())?;
    let results = results_guard.path().to_path_buf();
    // The headers are staged first and packed on a second thread (with -Z xz,
    // compressing their ~64 MB is most of this stage), while this thread installs the
    // modules and packs the image.
    let headers_stage = staging.join("headers");
    let mut run_script = |script: &Path, dest: &Path| {
        let mut cmd = Command::new("sh");
        env.apply(&mut cmd);
        cmd.current_dir(&obj)
            .arg(script)
            .arg(dest)
            .env("srctree", &src)
            .env("SRCARCH", "x86")
            .env("MAKE", "make")
            .env("CC", "gcc")
            .env("HOSTCC", "gcc");
        kb.run(cmd, "install-extmod-build")
    };
    package::stage_headers(&mut run_script, &src, &headers_stage, &meta)?;
    let image_stage = staging.join("image");
    let (image, headers) = std::thread::scope(|scope| {
        let headers = scope.spawn(|| -> Result<_> {
            deb_record(&package::pack(
                &headers_stage,
                &results,
                &meta,
                args.compression,
            )?)
        });
        let image = (|| -> Result<_> {
            let mut make_in_obj = |a: &[&str]| kb.make(a);
            package::stage_image(&mut make_in_obj, &obj, &image_name, &image_stage, &meta)?;
            let mut debs = vec![package::pack(
                &image_stage,
                &results,
                &meta,
                args.compression,
            )?];
            if args.with_libc_dev {
                let stage = staging.join("libc-dev");
                package::stage_libc_dev(&mut make_in_obj, &stage, "x86_64-linux-gnu", &meta)?;
                debs.push(package::pack(&stage, &results, &meta, args.compression)?);
            }
            if args.with_dbg {
                let stage = staging.join("dbg");
                let tool = |name: &str| {
                    let mut cmd = Command::new(name);
                    env.apply(&mut cmd);
                    cmd
                };
                package::stage_dbg(&tool, &obj, &stage, &meta)?;
                debs.push(package::pack(&stage, &results, &meta, args.compression)?);
            }
            debs.iter()
                .map(|deb| deb_record(deb))
                .collect::<Result<Vec<_>>>()
        })();
        let headers = headers
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (image, headers)
    });
    let mut debs = image?;
    debs.push(headers?);

    // 7. build record.
    stages.stage("write the build record");
    let tarball = &fetched.tarball;
    let mut record = testimony::BuildRecord {
        source: testimony::build_record::SourcePin {
            manifest_sha256,
            tarball_name: source_tarball_name(&manifest),
            tarball_sha256: sha256_file(tarball)?,
            source_date_epoch: fetched.source_date_epoch,
        },
        toolchain: record_toolchain(fingerprint),
        kernel_config_sha256: config.sha256(),
        debs,
    };
    record.normalize();
    let record_text = record.to_text();
    testimony::BuildRecord::parse(&record_text).context("the build record does not validate")?;
    fs::write(results.join("BUILD-RECORD"), &record_text)?;
    fs::write(results.join("TOOLCHAIN"), fingerprint.to_text())?;

    // 8. publish atomically.
    if args.out.exists() {
        fs::remove_dir(&args.out).with_context(|| args.out.display().to_string())?;
    }
    fs::set_permissions(
        &results,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    fs::rename(results_guard.keep(), &args.out).with_context(|| args.out.display().to_string())?;
    stages.finish();
    let elapsed = t0.elapsed().as_secs_f64();
    if args.json {
        let summary = serde_json::json!({
            "out": args.out,
            "kernel_release": release,
            "version": meta.version,
            "build_record_sha256": record.sha256(),
            "elapsed_seconds": elapsed,
            "debs": record.debs.iter().map(|d| serde_json::json!({
                "file": d.file_name, "sha256": d.sha256, "size": d.size, "files": d.files.len(),
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        for d in &record.debs {
            println!("{}  {}", d.sha256, args.out.join(&d.file_name).display());
        }
        println!(
            "{}  {}",
            record.sha256(),
            args.out.join("BUILD-RECORD").display()
        );
        if !args.quiet {
            eprintln!("built {release} in {elapsed:.0} s");
        }
    }
    Ok(())
}

/// The source's version for the package version: the Debian source package version
/// when pinned that way, else the kernel release.
fn manifest_version(m: &srcpin::Manifest, release: &str) -> String {
    match &m.source {
        srcpin::Source::DebianPackage(d) => d.version.clone(),
        srcpin::Source::Tarball(_) => release.split('-').next().unwrap_or(release).to_owned(),
    }
}

/// The source tarball's own name (the cache stores it under its digest).
fn source_tarball_name(m: &srcpin::Manifest) -> String {
    match &m.source {
        srcpin::Source::DebianPackage(d) => d
            .member
            .path
            .rsplit('/')
            .next()
            .unwrap_or(&d.member.path)
            .to_owned(),
        srcpin::Source::Tarball(t) => t.file_name.clone(),
    }
}

fn manifest_description(m: &srcpin::Manifest) -> String {
    match &m.source {
        srcpin::Source::DebianPackage(d) => format!("Debian's {} {}", d.package, d.version),
        srcpin::Source::Tarball(t) => format!("the tarball {}", t.file_name),
    }
}

#[cfg(test)]
mod tests {
    use super::rfc2822;

    #[test]
    fn rfc2822_dates() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(1_794_660_961), "Sat, 14 Nov 2026 12:56:01 +0000");
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }
}
