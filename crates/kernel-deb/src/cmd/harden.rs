//! `kernel-deb harden-report CONFIG | --deb IMAGE.deb | --running`: a config (and
//! command line, sysctls) against the hardening rules (`harden::check`). Exit codes:
//! 0 every required rule OK, 1 a required rule failed, 2 bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use harden::check::{Extras, Request};
use harden::inputs::{read_text, running_config};
use harden::{Refusal, Report};

/// Which results to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Show {
    /// Only failures.
    Fail,
    /// Only passes.
    Ok,
    /// Everything, including not applicable.
    All,
}

impl From<Show> for harden::render::Show {
    fn from(show: Show) -> Self {
        match show {
            Show::Fail => harden::render::Show::Fail,
            Show::Ok => harden::render::Show::Ok,
            Show::All => harden::render::Show::All,
        }
    }
}

/// Check a kernel config (or the running kernel) against the hardening rules.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["config", "deb", "running"]))]
pub struct HardenArgs {
    /// A resolved kernel .config.
    pub config: Option<PathBuf>,
    /// A linux-image .deb: its boot/config-* is checked.
    #[arg(long, value_name = "IMAGE.deb")]
    pub deb: Option<PathBuf>,
    /// The running kernel: /proc/config.gz or /boot/config-$(uname -r), /proc/cmdline, /proc/sys.
    #[arg(long)]
    pub running: bool,
    /// A kernel command line to check (a file such as a saved /proc/cmdline).
    #[arg(long, value_name = "FILE", conflicts_with = "running")]
    pub cmdline: Option<PathBuf>,
    /// Sysctl values to check (`sysctl -a` output or sysctl.conf syntax).
    #[arg(long, value_name = "FILE", conflicts_with = "running")]
    pub sysctl: Option<PathBuf>,
    /// Hardening policy (TOML) [default: every self-protection rule the toolchain supports].
    #[arg(long, value_name = "P.toml")]
    pub policy: Option<PathBuf>,
    /// The kernel source tree the config belongs to: explain each required failure.
    #[arg(long, value_name = "DIR")]
    pub kernel_tree: Option<PathBuf>,
    /// Which rules to list.
    #[arg(long, value_enum, default_value = "fail")]
    pub show: Show,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write the hardening fragment for this config's toolchain to OUT.
    #[arg(long, value_name = "OUT")]
    pub fragment: Option<PathBuf>,
}

/// Runs the subcommand; bad input is exit code 2, required failures 1.
pub fn run(args: HardenArgs) -> Result<ExitCode> {
    let (report, refusals) = match check(&args) {
        Ok(v) => v,
        Err(err) => {
            eprintln!("kernel-deb: error: {err:#}");
            return Ok(ExitCode::from(2));
        }
    };
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["refusals"] = serde_json::to_value(&refusals)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", report.render_text(&refusals, args.show.into()));
    }
    Ok(if report.passes() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn check(args: &HardenArgs) -> Result<(Report, Vec<Refusal>)> {
    let (text, origin) = if let Some(path) = &args.config {
        (read_text(path)?, path.display().to_string())
    } else if let Some(deb) = &args.deb {
        let found = samekernel::image_config::read(deb)?;
        (found.text, found.origin)
    } else {
        running_config()?
    };
    let extras = match args.running {
        true => Extras::Running,
        false => Extras::Files {
            cmdline: args.cmdline.clone(),
            sysctl: args.sysctl.clone(),
        },
    };
    let request = Request {
        extras,
        policy: args.policy.clone(),
        kernel_tree: args.kernel_tree.clone(),
        ..Request::new(&text, &origin)
    };
    let checked = harden::check::check(&request)?;
    if let Some(out) = &args.fragment {
        let text = harden::fragment(&checked.toolchain, &checked.policy, Default::default());
        detdeb::safe_extract::atomic::write_file(out, text.as_bytes(), 0o644, ".harden-")
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok((checked.report, checked.refusals))
}
