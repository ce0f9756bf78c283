//! `kernel-deb build`: pinned source → the same kernel `.debs` for everyone.
//!
//! The pipeline is the `samekernel` library; this module turns the arguments into a
//! [`BuildPlan`], draws its progress and prints the result. Nothing half-written
//! reaches `--out`; on a failure the work directory is kept and its path printed.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use detdeb::Compressor;
use indicatif::{ProgressBar, ProgressStyle};
use kbuild_env::{Effect, FingerprintDiff};
use samekernel::stage::compile::StepMemo;
use samekernel::stage::config::ConfigError;
use samekernel::stage::requested::ConfigChange;
use samekernel::{
    BuildError, BuildPlan, BuildReporter, BuildRequest, BuildSummary, CompileProgress, Extras,
    Finding, Flavour, Stage, Target, WorkDir,
};

use super::fetch::{ProgressUi, make_fetcher};

const FLAVOUR_HELP: &str = "The config source [default: generic]:
  generic  x86_64_defconfig + kvm_guest.config + configs/generic.config (common storage,
           network, USB, filesystems as modules; BTF); ~17 min at -j2
  tiny     allnoconfig + configs/samekernel-tiny.config (arm64: samekernel-tiny-arm64.config)
           + ikconfig.config; ~2-3 min at -j2
  debian   Debian's config.amd64_none_amd64 (linux-config-6.12 6.12.117-1~deb12u1, pinned
           by sha256) + configs/debian-samekernel.config (changes printed with reasons)";

/// Arguments of `kernel-deb build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The pin (TOML); the built-in default (Debian's linux-source-6.12) when absent.
    #[arg(long, value_name = "M")]
    pub manifest: Option<PathBuf>,
    /// Debian architecture to build for: amd64, or arm64 (cross-built with Debian's
    /// gcc-aarch64-linux-gnu on x86_64).
    #[arg(long, default_value = "amd64", value_parser = Target::from_debian_arch)]
    pub arch: Target,
    #[arg(long, value_name = "NAME", long_help = FLAVOUR_HELP, help = "The config source: generic (default), tiny or debian", conflicts_with = "config")]
    pub flavour: Option<Flavour>,
    /// A complete kernel .config (then `make olddefconfig`) instead of a flavour.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Let kbuild drop this guarded option (CONFIG_DEBUG_INFO_BTF…) without failing
    /// (repeatable); every dropped or changed option is printed either way.
    #[arg(long = "allow-config-loss", value_name = "SYM")]
    pub allow_config_loss: Vec<String>,
    /// Stop after resolving and gating the config (no compile): prints what kbuild
    /// changed, and writes the resolved config to OUT/config.
    #[arg(long)]
    pub config_only: bool,
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
    /// Do not apply the hardening fragment (the hardening gate still reports, but does not
    /// refuse, and the build record says `hardening-mode=off`).
    #[arg(long)]
    pub no_harden: bool,
    /// Build even when the resolved config loses a required hardening rule (recorded as
    /// `hardening-mode=allow-weaker`).
    #[arg(long)]
    pub allow_weaker: bool,
    /// Hardening policy (TOML: `[require]` groups/rules, `[relax]` id = "reason")
    /// [default: every self-protection rule the target and toolchain support, minus
    /// RANDSTRUCT, the latent-entropy plugin and module signing].
    #[arg(long, value_name = "FILE")]
    pub harden_policy: Option<PathBuf>,
    /// Two-stage module signing, stage 1: build in this certificate (PEM) of a persistent
    /// signing key, require signed modules, leave them unsigned (then `sign-modules`).
    #[arg(long, value_name = "CERT.pem")]
    pub module_cert: Option<PathBuf>,
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

impl BuildArgs {
    fn request(&self) -> BuildRequest {
        BuildRequest {
            manifest: self.manifest.clone(),
            target: self.arch,
            flavour: self.flavour,
            config: self.config.clone(),
            fragments: self.fragments.clone(),
            allow_config_loss: self.allow_config_loss.clone(),
            out: self.out.clone(),
            jobs: self.jobs,
            compressor: self.compression,
            extras: Extras {
                libc_dev: self.with_libc_dev,
                dbg: self.with_dbg,
            },
            allow_hazards: self.allow_hazards,
            apply_hardening: !self.no_harden,
            allow_weaker: self.allow_weaker,
            harden_policy: self.harden_policy.clone(),
            expect_toolchain: self.expect_toolchain.clone(),
            module_cert: self.module_cert.clone(),
        }
    }
}

pub fn run(args: BuildArgs) -> Result<ExitCode> {
    let t0 = Instant::now();
    // The one process-wide setting kbuild-env cannot carry in the environment:
    // kbuild's outputs take their modes from the umask.
    // SAFETY: umask(2) cannot fail and only swaps one integer of process state.
    unsafe { libc::umask(kbuild_env::UMASK as libc::mode_t) };
    // Refusals that need no work directory come first (the library checks again).
    args.arch.check_buildable()?;
    samekernel::stage::publish::check_out_free(&args.out)?;
    let fetcher = make_fetcher(args.cache.clone())?;
    let work = match &args.work_dir {
        Some(w) => WorkDir::at(w).with_context(|| w.display().to_string())?,
        None => WorkDir::temporary().context("creating a work directory in TMPDIR")?,
    };
    let request = args.request();
    let flavour = request.prepare_flavour(&work.path().join("flavour"), &srcpin::AptGet)?;
    let mut plan = request.plan(flavour.as_ref())?;
    plan.step_memo = Some(StepMemo {
        dir: fetcher.cache().root().to_path_buf(),
        // Extra fragments change the work: then only a remembered count is shown.
        typical: request
            .effective_flavour()
            .filter(|_| request.fragments.is_empty())
            .and_then(|f| f.typical_compile_steps(&plan.target)),
    });
    let mut ui = BuildUi::new(args.quiet || args.json);
    if let Some(f) = flavour
        .as_ref()
        .filter(|f| !f.changes.is_empty() && !ui.quiet)
    {
        ui.note(&format!(
            "kernel-deb: flavour {}: samekernel changes {} option(s) of the base config:",
            f.flavour,
            f.changes.len()
        ));
        f.changes.iter().for_each(|c| ui.note(&format!("  {c}")));
    }
    if args.config_only {
        return config_only(&args, &plan, &fetcher, work, &mut ui);
    }
    let result = samekernel::build(&plan, &fetcher, work.path(), &mut ui);
    ui.finish();
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            if work.is_temporary() {
                let kept = work.keep();
                eprintln!(
                    "kernel-deb: work directory kept for inspection: {}",
                    kept.display()
                );
            }
            return Err(explain(e));
        }
    };
    if args.keep_work && work.is_temporary() {
        eprintln!("work directory kept: {}", work.keep().display());
    }
    print_changes(&ui, &outcome.config_changes);
    if args.json {
        // Through a `Value`: every object's keys sorted, as the summary always was.
        let summary = serde_json::to_value(BuildSummary::new(&request, &outcome, t0.elapsed()))?;
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(ExitCode::SUCCESS);
    }
    let record = &outcome.record;
    for d in &record.debs {
        println!("{}  {}", d.sha256, outcome.out.join(&d.file_name).display());
    }
    let record_path = outcome.out.join("BUILD-RECORD");
    println!("{}  {}", record.sha256(), record_path.display());
    if !args.quiet {
        if let Some(h) = &record.hardening {
            eprintln!("{h}");
        }
        let took = t0.elapsed().as_secs_f64();
        eprintln!("built {} in {took:.0} s", outcome.kernel_release);
    }
    Ok(ExitCode::SUCCESS)
}

/// `--config-only`: the stages up to the gate, the changes, `OUT/config`.
fn config_only(
    args: &BuildArgs,
    plan: &BuildPlan,
    fetcher: &srcpin::Fetcher,
    work: WorkDir,
    ui: &mut BuildUi,
) -> Result<ExitCode> {
    let result = samekernel::configure(plan, fetcher, work.path(), ui);
    ui.finish();
    let resolved = result.map_err(explain)?.resolved;
    print_changes(ui, &resolved.changes);
    std::fs::create_dir_all(&args.out).with_context(|| args.out.display().to_string())?;
    let out = args.out.join("config");
    std::fs::copy(&resolved.path, &out).with_context(|| out.display().to_string())?;
    if args.json {
        let summary = serde_json::json!({
            "config": out, "config_sha256": resolved.sha256(), "changes": resolved.changes,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("{}  {}", resolved.sha256(), out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Every requested option kbuild dropped or changed.
fn print_changes(ui: &BuildUi, changes: &[ConfigChange]) {
    if changes.is_empty() || ui.quiet {
        return;
    }
    ui.note(&format!(
        "kernel-deb: kbuild resolved {} requested option(s) differently:",
        changes.len()
    ));
    for c in changes {
        ui.note(&format!("  {c}"));
    }
}

/// Adds the command-line spelling of the fix to the library's error.
fn explain(e: BuildError) -> anyhow::Error {
    match &e {
        BuildError::Gate(_) => anyhow::anyhow!(
            "{e} (hazards: --allow-hazards; hardening rules: --harden-policy or --allow-weaker)"
        ),
        BuildError::Config(ConfigError::NoDebugInfo { .. }) => anyhow::anyhow!("--with-dbg: {e}"),
        BuildError::Config(ConfigError::Lost { .. }) => anyhow::anyhow!("{e} SYM"),
        _ => e.into(),
    }
}

/// The build's progress: a spinner on a terminal, plain lines otherwise; srcpin's
/// fetch progress through [`ProgressUi`].
struct BuildUi {
    bar: Option<ProgressBar>,
    fetch: ProgressUi,
    quiet: bool,
    started: Instant,
    last_line: Instant,
    stage: String,
}

impl BuildUi {
    fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .expect("static template"),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        BuildUi {
            bar,
            fetch: ProgressUi::new(),
            quiet,
            started: Instant::now(),
            last_line: Instant::now(),
            stage: String::new(),
        }
    }

    /// A line that stays visible (warnings, results); shown even when quiet.
    fn note(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => eprintln!("{msg}"),
        }
    }

    fn finish(&mut self) {
        self.fetch.finish();
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl BuildReporter for BuildUi {
    fn stage_started(&mut self, stage: Stage, detail: &str) {
        self.stage = format!("{} {detail}", stage.name()).trim_end().to_owned();
        match &self.bar {
            Some(b) => b.set_message(self.stage.clone()),
            None if !self.quiet => {
                eprintln!("[{:>4}s] {}", self.started.elapsed().as_secs(), self.stage)
            }
            None => {}
        }
    }

    fn stage_finished(&mut self, stage: Stage, took: Duration) {
        if stage == Stage::Pin || stage == Stage::Source {
            self.fetch.finish();
        }
        if self.bar.is_none() && !self.quiet && took >= Duration::from_secs(10) {
            eprintln!(
                "[{:>4}s] {} took {} s",
                self.started.elapsed().as_secs(),
                stage.name(),
                took.as_secs()
            );
        }
    }

    fn fetch(&mut self, event: &srcpin::FetchEvent<'_>) {
        if !self.quiet {
            srcpin::FetchProgress::event(&mut self.fetch, event);
        }
    }

    fn compile(&mut self, p: CompileProgress) {
        match &self.bar {
            Some(b) => b.set_message(format!("{}: {p}", self.stage)),
            // Logs get a line a minute, so a long compile is not silent.
            None if !self.quiet && self.last_line.elapsed() >= Duration::from_secs(60) => {
                self.last_line = Instant::now();
                eprintln!(
                    "[{:>4}s] {}: {p}",
                    self.started.elapsed().as_secs(),
                    self.stage
                );
            }
            None => {}
        }
    }

    fn finding(&mut self, finding: &Finding) {
        self.note(&format!("kernel-deb: {finding}"));
    }

    fn toolchain_compared(&mut self, diffs: &[FingerprintDiff]) {
        if diffs.is_empty() {
            self.note("kernel-deb: toolchain identical to the expected fingerprint");
        }
        for d in diffs {
            let effect = match d.effect {
                Effect::KnownToChangeOutput => "known to change the output",
                Effect::NotKnownToChangeOutput => "not known to change the output",
            };
            self.note(&format!(
                "kernel-deb: toolchain differs: {}: here {} / expected {}: {effect} ({})",
                d.item,
                d.ours.as_deref().unwrap_or("(none)"),
                d.theirs.as_deref().unwrap_or("(none)"),
                d.reason
            ));
        }
    }
}
