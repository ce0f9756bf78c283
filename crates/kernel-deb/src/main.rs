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

/// The subcommands and their run functions (about: the doc of the arguments' type).
macro_rules! commands {
    ($($(#[$meta:meta])* $name:ident($args:ty) => $run:path,)*) => {
        #[derive(Debug, Subcommand)]
        enum Command { $($(#[$meta])* $name($args),)* }

        fn run(command: Command) -> anyhow::Result<ExitCode> {
            match command { $(Command::$name(a) => $run(a),)* }
        }
    };
}

commands! {
    /// Write and inspect .deb files deterministically (instead of dpkg-deb).
    #[command(subcommand)]
    Deb(cmd::deb::DebCommand) => cmd::deb::run,
    Build(cmd::build::BuildArgs) => cmd::build::run,
    Fetch(cmd::fetch::FetchArgs) => cmd::fetch::run,
    Source(cmd::fetch::SourceArgs) => cmd::fetch::source,
    Pin(cmd::fetch::PinArgs) => cmd::fetch::pin,
    Testify(cmd::testify::TestifyArgs) => cmd::testify::run,
    Verify(cmd::verify::VerifyArgs) => cmd::verify::run,
    Install(cmd::verify::InstallArgs) => cmd::verify::install_run,
    HardenReport(cmd::harden::HardenArgs) => cmd::harden::run,
    Diff(cmd::diff::DiffArgs) => cmd::diff::run,
    ReproCheck(cmd::repro_check::ReproCheckArgs) => cmd::repro_check::run,
    Inspect(cmd::diff::InspectArgs) => cmd::diff::inspect,
    SignModules(cmd::sign::SignModulesArgs) => cmd::sign::sign_modules,
    AttachSignatures(cmd::sign::AttachArgs) => cmd::sign::attach,
    VerifySigned(cmd::sign::VerifySignedArgs) => cmd::sign::verify_signed,
}

fn main() -> ExitCode {
    let err = match run(Cli::parse().command) {
        Ok(code) => return code,
        Err(err) => err,
    };
    if let Some(cmd::Exit(code, message)) = err.downcast_ref() {
        eprintln!("{}", cmd::shown(message));
        return ExitCode::from(*code);
    }
    let line = error_line(err.as_ref());
    eprintln!("kernel-deb: error: {}", cmd::shown(&line));
    ExitCode::from(1)
}
