//! `kernel-deb deb pack|info|list|extract` (detdeb): `dpkg-deb --build/-I/-c/-x`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use detdeb::{CompressionParams, Compressor, DebBuilder, DebReader, ExtractOptions, display};

#[derive(Debug, Subcommand)]
pub enum DebCommand {
    /// Build a .deb from DIR (DIR/DEBIAN holds the control area), like `dpkg-deb --build
    /// --root-owner-group`, byte for byte.
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
    /// Safely extract the data tree into a new directory (like `dpkg-deb -x`, but
    /// refusing traversal, escaping links and device nodes).
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
    /// Timestamp for every header; defaults to $SOURCE_DATE_EPOCH. Required: the
    /// clock is never used.
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
            let mut params = CompressionParams::new(a.compression);
            if let Some(l) = a.level {
                params = params.with_level(l);
            }
            params.threads = a.threads;
            if let Err(e) = params.validate() {
                bail!("{e}");
            }
            let mut b =
                DebBuilder::from_staging_dir(&a.dir, a.source_date_epoch, a.allow_special_files)?
                    .compression(params);
            if a.md5sums {
                b = b.with_md5sums()?;
            }
            let s = b.write_to_path(&a.output)?;
            writeln!(out, "{} ({} bytes)", s.path.display(), s.size)?;
        }
        DebCommand::Info { deb } => {
            write!(out, "{}", display::info_text(&DebReader::open(&deb)?)?)?;
        }
        DebCommand::List { deb } => {
            // Streamed: each line is printed as its header is read, so memory does not
            // grow with the number of entries.
            let r = DebReader::open(&deb)?;
            for e in r.data_entries()? {
                writeln!(out, "{}", display::list_line(&e?))?;
            }
        }
        DebCommand::Extract {
            deb,
            dest,
            keep_special_bits,
        } => {
            let r = DebReader::open(&deb)?;
            // The error already names the package, member and entry (or the destination).
            let s = r.extract_data(&dest, &ExtractOptions { keep_special_bits })?;
            writeln!(
                out,
                "{}: {} files, {} directories, {} symlinks, {} hard links, {} bytes",
                dest.display(),
                s.files,
                s.dirs,
                s.symlinks,
                s.hard_links,
                s.bytes
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
