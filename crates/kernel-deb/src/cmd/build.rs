//! `kernel-deb build`: the arguments become a [`BuildRequest`] for the `samekernel`
//! pipeline; [`samekernel::console`] decides what is shown, this module writes it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use detdeb::Compressor;
use samekernel::console::{self, ConfigOnly, ProgressLines};
use samekernel::{BuildError, BuildRequest, BuildSummary, Extras, Flavour, Target};

use super::fetch::PinnedArgs;
use super::term::Term;

/// Build the pinned kernel into linux-image/linux-headers .debs and a build record.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub pinned: PinnedArgs,
    /// Debian architecture: amd64, or arm64 (cross-built with gcc-aarch64-linux-gnu).
    #[arg(long, default_value = "amd64", value_parser = Target::from_debian_arch)]
    pub arch: Target,
    #[arg(long, value_name = "NAME", long_help = Flavour::help(), help = "The config source: generic (default), tiny or debian", conflicts_with = "config")]
    pub flavour: Option<Flavour>,
    /// A complete kernel .config (then `make olddefconfig`) instead of a flavour.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Let kbuild drop this guarded option (CONFIG_DEBUG_INFO_BTF…); changes are printed.
    #[arg(long = "allow-config-loss", value_name = "SYM")]
    pub allow_config_loss: Vec<String>,
    /// Stop after resolving and gating the config: print what kbuild changed, write OUT/config.
    #[arg(long)]
    pub config_only: bool,
    /// Kconfig fragments applied on top (repeatable).
    #[arg(long = "config-fragment", value_name = "FILE")]
    pub fragments: Vec<PathBuf>,
    /// Output directory for the .debs and BUILD-RECORD; must not exist or be empty.
    #[arg(long, default_value = "kernel-debs")]
    pub out: PathBuf,
    /// Parallel jobs for make (never changes the output).
    #[arg(short, long)]
    pub jobs: Option<u32>,
    /// Compressor of the .debs, part of the output: zstd (as `dpkg-deb -Zzstd`, cheap to
    /// rebuild), or xz (Debian's format: a third smaller, for dpkg older than 1.21.18).
    #[arg(short = 'Z', long, default_value = "zstd")]
    pub compression: Compressor,
    /// A toolchain fingerprint (another build's, a testimony's) to compare with this one's.
    #[arg(long, value_name = "FILE")]
    pub expect_toolchain: Option<PathBuf>,
    /// Also build `linux-libc-dev` (the userspace API headers, `make headers_install`).
    #[arg(long)]
    pub with_libc_dev: bool,
    /// Also build `linux-image-R-dbg` (debug info; needs CONFIG_DEBUG_INFO, not split).
    #[arg(long)]
    pub with_dbg: bool,
    /// Build even when the config has hazards that make the output differ per build.
    #[arg(long)]
    pub allow_hazards: bool,
    /// Do not apply the hardening fragment (the gate only reports; `hardening-mode=off`).
    #[arg(long)]
    pub no_harden: bool,
    /// Build even when a required hardening rule is lost (`hardening-mode=allow-weaker`).
    #[arg(long)]
    pub allow_weaker: bool,
    /// Hardening policy (TOML: `[require]` groups/rules, `[relax]` id = "reason") [default:
    /// the supported self-protection rules but RANDSTRUCT, latent entropy, module signing].
    #[arg(long, value_name = "FILE")]
    pub harden_policy: Option<PathBuf>,
    /// Module signing stage 1: trust only this certificate; modules stay unsigned till
    /// `sign-modules`.
    #[arg(long, value_name = "CERT.pem")]
    pub module_cert: Option<PathBuf>,
    /// Keep the work directory (source, objects, staging) after a successful build.
    #[arg(long)]
    pub keep_work: bool,
    /// Where to build, kept; no spaces [default: a TMPDIR one, removed after a success].
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
    let (fetcher, request, quiet) = (args.pinned.cache.fetcher()?, args.request(), args.quiet);
    let cache = fetcher.cache().root();
    let started = request.start(args.work_dir.as_deref(), cache, &srcpin::AptGet)?;
    let (plan, work) = (&started.plan, started.work);
    let mut ui = ProgressLines::new(Term::new(!(quiet || args.json)), quiet || args.json);
    ui.notes(&console::flavour_change_lines(started.flavour.as_ref()));
    let remedy = |e: BuildError| anyhow::anyhow!(console::with_remedy(&e));
    if args.config_only {
        let result = samekernel::configure(plan, &fetcher, work.path(), &mut ui);
        ui.terminal().finish();
        let configured = result.map_err(remedy)?;
        ui.notes(&console::config_change_lines(&configured.resolved.changes));
        let written = ConfigOnly::write(&configured, &args.out)?;
        match args.json {
            true => println!("{}", serde_json::to_string_pretty(&written)?),
            false => println!("{}", super::shown(&written.line())),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let result = samekernel::build(plan, &fetcher, work.path(), &mut ui);
    ui.terminal().finish();
    let outcome = match result {
        Err(e) if work.is_temporary() => {
            let kept = work.keep().display().to_string();
            eprintln!("kernel-deb: work directory kept for inspection: {kept}");
            return Err(remedy(e));
        }
        other => other.map_err(remedy)?,
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
        println!(
            "{}",
            super::shown(&console::outcome_lines(&outcome).join("\n"))
        );
    }
    ui.notes(&console::done_lines(&outcome, t0.elapsed()));
    Ok(ExitCode::SUCCESS)
}
