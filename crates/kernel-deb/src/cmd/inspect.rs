//! `kernel-deb inspect DEB`: the kernel's own banner and embedded config, checked
//! against the build record and toolchain fingerprint beside it. Exit 0 consistent,
//! 1 a mismatch, 2 bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use kbuild_env::ToolchainFingerprint;
use samekernel::inspect::{Check, check, files_beside, kernel_facts};

/// Arguments of `kernel-deb inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The linux-image .deb.
    pub deb: PathBuf,
    /// The build record [default: BUILD-RECORD beside the .deb]; TOOLCHAIN is read from
    /// beside the record when present.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Also print the embedded .config.
    #[arg(long)]
    pub config: bool,
    /// A JSON report on stdout.
    #[arg(long)]
    pub json: bool,
}

fn bad(e: impl std::fmt::Display) -> Result<ExitCode> {
    eprintln!("kernel-deb: inspect: {e}");
    Ok(ExitCode::from(2))
}

pub fn run(args: InspectArgs) -> Result<ExitCode> {
    let facts = match kernel_facts(&args.deb, &debdiff::Limits::default()) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let (record_path, toolchain_path) = files_beside(&args.deb, args.record.as_deref());
    let record = match debdiff::read_record(&record_path) {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    let toolchain = match std::fs::read_to_string(&toolchain_path) {
        Ok(text) => match ToolchainFingerprint::parse(&text) {
            Ok(t) => Some(t),
            Err(e) => return bad(format!("{}: {e}", toolchain_path.display())),
        },
        Err(_) => None,
    };
    let checks = match check(&args.deb, &facts, &record, toolchain.as_ref()) {
        Ok(c) => c,
        Err(e) => return bad(e),
    };
    let ok = checks.iter().all(|c| c.ok);
    if args.json {
        let report = serde_json::json!({ "kernel": facts, "checks": checks, "consistent": ok });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&facts, &checks, args.config);
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_text(facts: &samekernel::inspect::KernelFacts, checks: &[Check], config: bool) {
    println!("image:    {} ({} payload)", facts.image, facts.codec);
    println!("banner:   {}", facts.banner);
    println!(
        "compiler: {}",
        facts.compiler.as_deref().unwrap_or("(not found)")
    );
    println!(
        "config:   {}",
        facts.config_sha256.as_deref().unwrap_or("(not embedded)")
    );
    for c in checks {
        let mark = if c.ok { "ok      " } else { "MISMATCH" };
        println!("{mark} {}: {}", c.what, c.detail);
    }
    if config {
        print!("{}", facts.config.as_deref().unwrap_or(""));
    }
}
