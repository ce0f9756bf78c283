//! `kernel-deb`: the thin command line over the samekernel libraries. Each subcommand
//! is a module of `cmd/` that parses, prints and maps exit codes: 0 success, 1 failure,
//! 2 usage (clap); further codes in the module docs and README.md.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use samekernel::console::error_line;

mod cmd;

/// Build, inspect and verify deterministic Linux kernel Debian packages.
#[derive(Debug, Parser)]
#[command(name = "kernel-deb", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write and inspect .deb files deterministically (instead of dpkg-deb).
    #[command(subcommand)]
    Deb(cmd::deb::DebCommand),
    Build(cmd::build::BuildArgs),
    Fetch(cmd::fetch::FetchArgs),
    Source(cmd::fetch::SourceArgs),
    Pin(cmd::fetch::PinArgs),
    Testify(cmd::testify::TestifyArgs),
    Verify(cmd::verify::VerifyArgs),
    Install(cmd::verify::InstallArgs),
    HardenReport(cmd::harden::HardenArgs),
    Diff(cmd::diff::DiffArgs),
    ReproCheck(cmd::repro_check::ReproCheckArgs),
    Inspect(cmd::inspect::InspectArgs),
    SignModules(cmd::sign::SignModulesArgs),
    AttachSignatures(cmd::sign::AttachArgs),
    VerifySigned(cmd::sign::VerifySignedArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Deb(c) => cmd::deb::run(c),
        Command::Build(a) => cmd::build::run(a),
        Command::Fetch(a) => cmd::fetch::run(a),
        Command::Source(a) => cmd::fetch::source(a),
        Command::Pin(a) => cmd::fetch::pin(a),
        Command::Testify(a) => cmd::testify::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Install(a) => cmd::verify::install_run(a),
        Command::HardenReport(a) => cmd::harden::run(a),
        Command::Diff(a) => cmd::diff::run(a),
        Command::ReproCheck(a) => cmd::repro_check::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::SignModules(a) => cmd::sign::sign_modules(a),
        Command::AttachSignatures(a) => cmd::sign::attach(a),
        Command::VerifySigned(a) => cmd::sign::verify_signed(a),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kernel-deb: error: {}", error_line(err.as_ref()));
            ExitCode::from(1)
        }
    }
}
