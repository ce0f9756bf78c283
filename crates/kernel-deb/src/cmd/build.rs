//! `kernel-deb build`: the arguments become a [`BuildRequest`] for the `samekernel`
//! pipeline; [`samekernel::console`] decides what is shown, this module writes it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use detdeb::Compressor;
use samekernel::console::{self, ConfigOnly, ProgressLines};
use samekernel::{BuildRequest, BuildSummary, Extras, Flavour, Target};

use super::fetch::PinnedArgs;
use super::term::Term;

/// Build the pinned kernel into linux-image/linux-headers .debs and a build record.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub pinned: PinnedArgs,
    /// Debian architecture to build for: amd64, or arm64 (cross-built with Debian's
    /// gcc-aarch64-linux-gnu on x86_64).
    #[arg(long, default_value = "amd64", value_parser = Target::from_debian_arch)]
    pub arch: Target,
    #[arg(long, value_name = "NAME", long_help = Flavour::help(), help = "The config source: generic (default), tiny or debian", conflicts_with = "config")]
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
            manifest: self.pinned.manifest.clone(),
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
    // kbuild's outputs take their modes from the process-wide umask.
    // SAFETY: umask(2) cannot fail and only swaps one integer of process state.
    unsafe { libc::umask(kbuild_env::UMASK as libc::mode_t) };
    let fetcher = args.pinned.cache.fetcher()?;
    let request = args.request();
    let started = request.start(
        args.work_dir.as_deref(),
        fetcher.cache().root(),
        &srcpin::AptGet,
    )?;
    let (plan, work) = (&started.plan, started.work);
    let mut ui = ProgressLines::new(
        Term::with_spinner(args.quiet || args.json),
        args.quiet || args.json,
    );
    if let Some(f) = &started.flavour {
        ui.notes(&console::flavour_change_lines(f));
    }
    if args.config_only {
        let result = samekernel::configure(plan, &fetcher, work.path(), &mut ui);
        ui.terminal().finish();
        let configured = result.map_err(|e| anyhow::anyhow!(console::with_remedy(&e)))?;
        ui.notes(&console::config_change_lines(&configured.resolved.changes));
        let written = ConfigOnly::write(&configured, &args.out)?;
        match args.json {
            true => println!("{}", serde_json::to_string_pretty(&written)?),
            false => println!("{}", written.line()),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let result = samekernel::build(plan, &fetcher, work.path(), &mut ui);
    ui.terminal().finish();
    let outcome = match result {
        Ok(o) => o,
        Err(e) if work.is_temporary() => {
            let kept = work.keep().display().to_string();
            eprintln!("kernel-deb: work directory kept for inspection: {kept}");
            anyhow::bail!(console::with_remedy(&e))
        }
        Err(e) => anyhow::bail!(console::with_remedy(&e)),
    };
    if args.keep_work && work.is_temporary() {
        eprintln!("work directory kept: {}", work.keep().display());
    }
    ui.notes(&console::config_change_lines(&outcome.config_changes));
    if args.json {
        // Through a `Value`: every object's keys sorted, as the summary always was.
        let summary = serde_json::to_value(BuildSummary::new(&request, &outcome, t0.elapsed()))?;
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        console::outcome_lines(&outcome)
            .iter()
            .for_each(|l| println!("{l}"));
    }
    if !args.quiet && !args.json {
        if let Some(h) = &outcome.record.hardening {
            eprintln!("{h}");
        }
        eprintln!(
            "built {} in {:.0} s",
            outcome.kernel_release,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
