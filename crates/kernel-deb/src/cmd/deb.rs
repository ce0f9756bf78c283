//! `kernel-deb deb pack|info|list|extract`: what a packager reaches for instead of
//! `dpkg-deb --build/-I/-c/-x`. `pack` is byte-identical to
//! `SOURCE_DATE_EPOCH=N dpkg-deb --root-owner-group -Z<c> --build DIR OUT`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use detdeb::safe_extract::escape;
use detdeb::{
    CompressionParams, Compressor, DebBuilder, DebReader, ExtractOptions, TarEntry, TarEntryKind,
};

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
            let r = DebReader::open(&deb)?;
            writeln!(out, " new Debian package, version {}.", r.format_version())?;
            writeln!(
                out,
                " size {} bytes: control archive={} bytes.",
                r.len(),
                r.control_member().size
            )?;
            // Names, script lines and control fields come from the package: escaped, so
            // CR and ESC bytes cannot rewrite the terminal (as `dpkg-deb -c` escapes names).
            for f in r.control_files()? {
                let lines = f.contents.iter().filter(|&&b| b == b'\n').count();
                let kind = if f.contents.starts_with(b"#!") {
                    let first = f.contents.split(|&b| b == b'\n').next().unwrap_or_default();
                    format!("{:>7}", escape(first))
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    " {:>7} bytes, {:>5} lines   {}  {:<24}{}",
                    f.contents.len(),
                    lines,
                    mode_string(f.entry.mode, '-'),
                    escape(f.name.as_bytes()),
                    kind
                )?;
            }
            write!(out, "{}", indent(&r.control()?.to_text()))?;
        }
        DebCommand::List { deb } => {
            // Streamed: each line is printed as its header is read, so memory does not
            // grow with the number of entries.
            let r = DebReader::open(&deb)?;
            for e in r.data_entries()? {
                writeln!(out, "{}", list_line(&e?))?;
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

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!(" {}\n", escape(l.as_bytes())))
        .collect()
}

/// One `dpkg-deb -c` style line, every untrusted byte escaped.
fn list_line(e: &TarEntry) -> String {
    let (t, suffix) = match &e.kind {
        TarEntryKind::Dir => ('d', String::new()),
        TarEntryKind::File => ('-', String::new()),
        TarEntryKind::Symlink { target } => ('l', format!(" -> {}", escape(target))),
        TarEntryKind::HardLink { target } => ('h', format!(" link to {}", escape(target))),
        TarEntryKind::CharDev { .. } => ('c', String::new()),
        TarEntryKind::BlockDev { .. } => ('b', String::new()),
        TarEntryKind::Fifo => ('p', String::new()),
    };
    format!(
        "{} {}/{} {:>9} {} {}{}",
        mode_string(e.mode, t),
        escape(e.uname.as_bytes()),
        escape(e.gname.as_bytes()),
        e.size,
        e.mtime,
        escape(&e.name),
        suffix
    )
}

/// `ls -l` style mode string.
fn mode_string(mode: u32, kind: char) -> String {
    let mut s = String::with_capacity(10);
    s.push(kind);
    for (shift, special, lower, upper) in [
        (6, 0o4000, 's', 'S'),
        (3, 0o2000, 's', 'S'),
        (0, 0o1000, 't', 'T'),
    ] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        let x = bits & 1 != 0;
        s.push(match (mode & special != 0, x) {
            (true, true) => lower,
            (true, false) => upper,
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_lines_escape_terminal_controls_like_dpkg_deb() {
        let e = TarEntry {
            name: b"./ok\r\x1b[2Kevil".to_vec(),
            kind: TarEntryKind::Symlink {
                target: b"t\x1b]0;x\x07".to_vec(),
            },
            mode: 0o777,
            uid: 0,
            gid: 0,
            uname: "root".into(),
            gname: "root\r".into(),
            mtime: 0,
            size: 0,
            offset: 0,
        };
        let line = list_line(&e);
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(
            line.ends_with("./ok\\r\\033[2Kevil -> t\\033]0;x\\a"),
            "{line}"
        );
        assert_eq!(
            indent("Description: a\x1b[31m\r"),
            " Description: a\\033[31m\\r\n"
        );
    }
}

#[cfg(test)]
mod dpkg_parity {
    use super::*;
    use detdeb::tar_write::{GnuTarWriter, TarHeader};

    fn tar(entries: &[(&[u8], TarEntryKind)]) -> Vec<u8> {
        let mut w = GnuTarWriter::new(Vec::new());
        for (name, kind) in entries {
            let h = TarHeader {
                name: name.to_vec(),
                mode: 0o644,
                mtime: 0,
                size: 0,
                kind: kind.clone(),
            };
            w.append(&h, Some(&mut &b""[..])).unwrap();
        }
        w.finish().unwrap().0
    }

    fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = b"!<arch>\n".to_vec();
        for (name, data) in members {
            let h = format!(
                "{name:<16}{:<12}{:<6}{:<6}{:<8o}{:<10}`\n",
                0,
                0,
                0,
                0o100644,
                data.len()
            );
            out.extend(h.as_bytes());
            out.extend(*data);
            if data.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    /// The name (and link) part of a listing line: everything from ` ./` on.
    fn tail(line: &str) -> &str {
        &line[line.find(" ./").expect("a ./ name")..]
    }

    #[test]
    fn names_and_targets_are_escaped_exactly_as_dpkg_deb_c_does() {
        let data = tar(&[
            (b"./", TarEntryKind::Dir),
            (b"./ok\r\x1b[2Kevil\\x\ttab", TarEntryKind::File),
            (
                b"./l",
                TarEntryKind::Symlink {
                    target: b"tgt\x1b]0;t\x07\n".to_vec(),
                },
            ),
        ]);
        let control = tar(&[(b"./control", TarEntryKind::File)]);
        let dir = tempfile::tempdir().unwrap();
        let deb = dir.path().join("esc.deb");
        std::fs::write(
            &deb,
            ar(&[
                ("debian-binary", b"2.0\n"),
                ("control.tar", &control),
                ("data.tar", &data),
            ]),
        )
        .unwrap();
        let out = std::process::Command::new("dpkg-deb")
            .arg("-c")
            .arg(&deb)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("dpkg-deb (dpkg-dev) is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| tail(l).to_owned())
            .collect();
        let r = DebReader::open(&deb).unwrap();
        let ours: Vec<String> = r
            .data_entries()
            .unwrap()
            .map(|e| tail(&list_line(&e.unwrap())).to_owned())
            .collect();
        assert_eq!(ours, theirs);
        assert!(ours.iter().all(|l| !l.chars().any(char::is_control)));
    }
}
