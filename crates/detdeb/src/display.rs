//! `dpkg-deb -I` / `dpkg-deb -c` style text for a package, every byte that came from
//! the package escaped (as `dpkg-deb -c` escapes names), so CR and ESC bytes in names,
//! link targets, script lines or control fields cannot rewrite the terminal.
//!
//! ```no_run
//! let r = detdeb::DebReader::open("linux-image.deb".as_ref())?;
//! print!("{}", detdeb::display::info_text(&r)?);
//! for e in r.data_entries()? {
//!     println!("{}", detdeb::display::list_line(&e?));
//! }
//! # Ok::<(), detdeb::Error>(())
//! ```

use crate::safe_extract::escape;
use crate::{DebReader, Result, TarEntry, TarEntryKind};

/// The `dpkg-deb -I` text: version, sizes, one line per control member, then the
/// control file indented by one space. Ends with a newline.
pub fn info_text(r: &DebReader) -> Result<String> {
    let mut out = format!(
        " new Debian package, version {}.\n size {} bytes: control archive={} bytes.\n",
        r.format_version(),
        r.len(),
        r.control_member().size
    );
    for f in r.control_files()? {
        let lines = f.contents.iter().filter(|&&b| b == b'\n').count();
        let kind = if f.contents.starts_with(b"#!") {
            let first = f.contents.split(|&b| b == b'\n').next().unwrap_or_default();
            format!("{:>7}", escape(first))
        } else {
            String::new()
        };
        out.push_str(&format!(
            " {:>7} bytes, {:>5} lines   {}  {:<24}{}\n",
            f.contents.len(),
            lines,
            mode_string(f.entry.mode, '-'),
            escape(f.name.as_bytes()),
            kind
        ));
    }
    out.push_str(&indent(&r.control()?.to_text()));
    Ok(out)
}

/// Each line of `text` prefixed with one space and escaped, as `dpkg-deb -I` shows the
/// control file.
pub fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!(" {}\n", escape(l.as_bytes())))
        .collect()
}

/// One `dpkg-deb -c` style line, every untrusted byte escaped.
pub fn list_line(e: &TarEntry) -> String {
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
pub fn mode_string(mode: u32, kind: char) -> String {
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
    use crate::tar_write::{GnuTarWriter, TarHeader};

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
