//! `kernel-deb harden-report CONFIG | --deb IMAGE.deb | --running`: a config (and
//! command line, sysctls) against the hardening rules (`harden::check`). Exit codes:
//! 0 every required rule OK, 1 a required rule failed, 2 bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use harden::render::Show;
use samekernel::harden_report::{ConfigInput, HardenReport, check};

use super::Exit;

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
    /// Which rules to list: fail, ok (passes) or all (also the not applicable ones).
    #[arg(long, value_name = "fail|ok|all", default_value = "fail")]
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
    let input = match (args.config, args.deb) {
        (Some(config), _) => ConfigInput::File(config),
        (_, Some(deb)) => ConfigInput::Deb(deb),
        _ => ConfigInput::Running,
    };
    let request = HardenReport {
        cmdline: args.cmdline,
        sysctl: args.sysctl,
        policy: args.policy,
        kernel_tree: args.kernel_tree,
        fragment: args.fragment,
        ..HardenReport::new(input)
    };
    let checked = check(&request).map_err(|e| Exit(2, format!("kernel-deb: error: {e}")))?;
    let (report, refusals) = (checked.report, checked.refusals);
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["refusals"] = serde_json::to_value(&refusals)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!(
            "{}",
            super::shown(&report.render_text(&refusals, args.show))
        );
    }
    Ok(ExitCode::from(if report.passes() { 0 } else { 1 }))
}
