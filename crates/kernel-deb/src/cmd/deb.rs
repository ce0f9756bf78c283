//! `kernel-deb deb pack|info|list|extract` (detdeb): `dpkg-deb --build/-I/-c/-x`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use detdeb::{CompressionParams, Compressor, DebBuilder, DebReader, ExtractOptions, display};

#[derive(Debug, Subcommand)]
pub enum DebCommand {
    /// Build a .deb from DIR, byte for byte as `dpkg-deb --root-owner-group --build`.
    Pack(PackArgs),
    /// Show the members and the control file (like `dpkg-deb -I`).
    Info {
        /// The package.
        deb: PathBuf,
    },
    /// List the data tree (like `dpkg-deb -c`).
    List {
        /// The package.
        deb: PathBuf,
    },
    /// Extract the data tree into a new directory (`dpkg-deb -x`, refusing traversal,
    /// escaping links and device nodes).
    Extract {
        /// The package.
        deb: PathBuf,
        /// Destination; must not exist yet.
        dest: PathBuf,
        /// Keep setuid/setgid/sticky bits.
        #[arg(long)]
        keep_special_bits: bool,
    },
}

#[derive(Debug, Args)]
pub struct PackArgs {
    /// Staging directory: DIR/DEBIAN/control, maintainer scripts, and the tree.
    dir: PathBuf,
    /// Output .deb.
    #[arg(short, long)]
    output: PathBuf,
    /// Compressor for both members.
    #[arg(short = 'Z', long, default_value = "xz")]
    compression: Compressor,
    /// Compression level (default: dpkg-deb's for the compressor).
    #[arg(short = 'z', long)]
    level: Option<u32>,
    /// Timestamp of every header (required: the clock is never used).
    #[arg(long, env = "SOURCE_DATE_EPOCH")]
    source_date_epoch: i64,
    /// Add DEBIAN/md5sums computed from the tree (off by default, as dpkg-deb).
    #[arg(long)]
    md5sums: bool,
    /// Accept device nodes and FIFOs in the tree.
    #[arg(long)]
    allow_special_files: bool,
    /// Compressor threads for xz/zstd (0: one per CPU). Changes speed, never bytes.
    #[arg(long, default_value_t = 0)]
    threads: u32,
}

pub fn run(cmd: DebCommand) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cmd {
        DebCommand::Pack(a) => {
            let level = a.level.unwrap_or(a.compression.default_level());
            let mut params = CompressionParams::new(a.compression).with_level(level);
            params.threads = a.threads;
            params.validate().map_err(anyhow::Error::msg)?;
            let b =
                DebBuilder::from_staging_dir(&a.dir, a.source_date_epoch, a.allow_special_files)?;
            let b = if a.md5sums { b.with_md5sums()? } else { b };
            let s = b.compression(params).write_to_path(&a.output)?;
            writeln!(out, "{} ({} bytes)", s.path.display(), s.size)?;
        }
        DebCommand::Info { deb } => {
            write!(out, "{}", display::info_text(&DebReader::open(&deb)?)?)?;
        }
        DebCommand::List { deb } => {
            // Streamed: memory does not grow with the number of entries.
            for e in DebReader::open(&deb)?.data_entries()? {
                writeln!(out, "{}", display::list_line(&e?))?;
            }
        }
        DebCommand::Extract {
            deb,
            dest,
            keep_special_bits,
        } => {
            // The error already names the package, member and entry (or the destination).
            let opts = ExtractOptions { keep_special_bits };
            let s = DebReader::open(&deb)?.extract_data(&dest, &opts)?;
            writeln!(out, "{}: {s}", dest.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
