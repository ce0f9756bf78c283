//! Parsing and strictly applying unified diffs (`patch -p<N>` semantics, no fuzz).
//!
//! * Several files per patch; anything outside `---`/`+++`/`@@` blocks (mail headers,
//!   commit messages, `diff --git` lines) is ignored. Git binary patches are refused.
//! * A hunk applies where its context and removed lines match **exactly**; like GNU patch
//!   it may be found at an offset from the stated line, but never with fuzz. Hunks apply in
//!   order and never overlap.
//! * `/dev/null` as the old file creates a file (which must not exist); as the new file it
//!   deletes one (which must become empty).
//! * Target paths (after stripping) must be relative, free of `..`, and must not pass
//!   through or end in a symlink of the tree.
//! * Each file is written atomically; its mode (0644/0755) is kept.
//!
//! Errors name the patch, the file and the hunk number (1-based, per file). Files are
//! patched one after the other, so a failure can leave earlier files of the same patch
//! changed; [`crate::prepare_source`] works in a temporary tree that it then discards.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cache::{set_mode, write_atomically};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
struct FilePatch {
    old: Option<String>,
    new: Option<String>,
    hunks: Vec<Hunk>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Hunk {
    header: String,
    old_start: usize,
    old: Vec<Vec<u8>>,
    new: Vec<Vec<u8>>,
}

/// Applies the unified diff `patch` (named `name` in errors) to the tree at `root`,
/// stripping `strip` leading path components.
pub fn apply_patch(name: &str, patch: &[u8], root: &Path, strip: u32) -> Result<()> {
    let err = |problem: String| Error::Patch {
        patch: name.to_owned(),
        problem,
    };
    let files = parse(patch).map_err(err)?;
    if files.is_empty() {
        return Err(err("contains no unified diff".into()));
    }
    for fp in &files {
        let shown = fp.new.as_deref().or(fp.old.as_deref()).unwrap_or("?");
        let target = match (&fp.old, &fp.new) {
            (_, Some(n)) => n,
            (Some(o), None) => o,
            (None, None) => return Err(err("a diff from /dev/null to /dev/null".into())),
        };
        let rel = strip_path(target, strip).map_err(|p| err(format!("{shown}: {p}")))?;
        let path =
            checked_target(root, &rel).map_err(|p| err(format!("{}: {p}", rel.display())))?;
        let existing = match fs::symlink_metadata(&path) {
            Ok(md) if md.is_file() => Some(md),
            Ok(_) => return Err(err(format!("{}: not a regular file", rel.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(&path, e)),
        };
        let creating = fp.old.is_none();
        let original = match (&existing, creating) {
            (Some(_), true) => {
                return Err(err(format!(
                    "{}: creates a file that already exists",
                    rel.display()
                )));
            }
            (None, false) => {
                return Err(err(format!(
                    "{}: file to patch does not exist",
                    rel.display()
                )));
            }
            (Some(_), false) => fs::read(&path).map_err(|e| Error::io(&path, e))?,
            (None, true) => Vec::new(),
        };
        let result = apply_hunks(&original, &fp.hunks).map_err(|(i, h)| {
            err(format!(
                "{}: hunk #{} ({h}) does not apply",
                rel.display(),
                i + 1
            ))
        })?;
        if fp.new.is_none() {
            if !result.is_empty() {
                return Err(err(format!(
                    "{}: deletion leaves {} bytes behind",
                    rel.display(),
                    result.len()
                )));
            }
            fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = match &existing {
            Some(md) if md.permissions().mode() & 0o111 != 0 => 0o755,
            _ => 0o644,
        };
        write_atomically(&path, &result)?;
        set_mode(&path, mode)?;
    }
    Ok(())
}

fn strip_path(p: &str, strip: u32) -> Result<PathBuf, String> {
    let comps: Vec<&str> = p.split('/').filter(|c| !c.is_empty()).collect();
    if p.starts_with('/') && strip == 0 {
        return Err("absolute path".into());
    }
    let strip = strip as usize;
    if comps.len() <= strip {
        return Err(format!("cannot strip {strip} component(s) from {p:?}"));
    }
    let mut out = PathBuf::new();
    for c in &comps[strip..] {
        if *c == ".." || *c == "." {
            return Err(format!("path {p:?} leaves the tree"));
        }
        out.push(c);
    }
    Ok(out)
}

/// Every existing ancestor of `root/rel` must be a real directory, not a symlink.
fn checked_target(root: &Path, rel: &Path) -> Result<PathBuf, String> {
    let mut cur = root.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for (i, c) in comps.iter().enumerate() {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(md) if md.file_type().is_symlink() => {
                return Err(format!(
                    "goes through or ends in the symlink {}",
                    cur.display()
                ));
            }
            Ok(md) if i + 1 < comps.len() && !md.is_dir() => {
                return Err(format!("{} is not a directory", cur.display()));
            }
            _ => {}
        }
    }
    Ok(cur)
}

/// Splits into lines, each keeping its `\n` (the last may lack one).
fn lines(data: &[u8]) -> Vec<Vec<u8>> {
    data.split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn apply_hunks(original: &[u8], hunks: &[Hunk]) -> Result<Vec<u8>, (usize, String)> {
    let src = lines(original);
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(src.len());
    let mut pos = 0usize; // next unconsumed line of `src`
    let mut delta: isize = 0;
    for (i, h) in hunks.iter().enumerate() {
        let fail = || (i, h.header.clone());
        let stated = if h.old.is_empty() {
            h.old_start
        } else {
            h.old_start.saturating_sub(1)
        };
        let want = (stated as isize + delta).max(pos as isize) as usize;
        let matches =
            |at: usize| at + h.old.len() <= src.len() && src[at..at + h.old.len()] == h.old[..];
        let max_at = src.len().checked_sub(h.old.len()).ok_or_else(fail)?;
        let mut found = None;
        for d in 0..=src.len() {
            let up = want.checked_add(d).filter(|&c| c <= max_at);
            let down = want
                .checked_sub(d)
                .filter(|&c| d > 0 && c >= pos && c <= max_at);
            if up.is_none() && want.checked_sub(d).is_none_or(|c| c < pos) {
                break;
            }
            if let Some(c) = up.filter(|&c| matches(c)).or(down.filter(|&c| matches(c))) {
                found = Some(c);
                break;
            }
        }
        let at = found.ok_or_else(fail)?;
        out.extend_from_slice(&src[pos..at]);
        out.extend(h.new.iter().cloned());
        pos = at + h.old.len();
        delta = at as isize - stated as isize;
    }
    out.extend_from_slice(&src[pos..]);
    Ok(out.concat())
}

fn parse(patch: &[u8]) -> Result<Vec<FilePatch>, String> {
    let all = lines(patch);
    let mut files = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let l = &all[i];
        if l.starts_with(b"GIT binary patch") {
            return Err("git binary patches are not supported".into());
        }
        if l.starts_with(b"--- ") && i + 1 < all.len() && all[i + 1].starts_with(b"+++ ") {
            let old = header_path(&l[4..])?;
            let new = header_path(&all[i + 1][4..])?;
            i += 2;
            let mut hunks = Vec::new();
            while i < all.len() && all[i].starts_with(b"@@ ") {
                let (h, next) = parse_hunk(&all, i)?;
                hunks.push(h);
                i = next;
            }
            if hunks.is_empty() {
                return Err(format!(
                    "no hunks after the header for {:?}",
                    new.as_ref().or(old.as_ref())
                ));
            }
            files.push(FilePatch { old, new, hunks });
            continue;
        }
        i += 1;
    }
    Ok(files)
}

fn header_path(rest: &[u8]) -> Result<Option<String>, String> {
    let s = std::str::from_utf8(rest).map_err(|_| "non-UTF-8 file name".to_owned())?;
    let s = s.trim_end_matches(['\n', '\r']);
    let s = s.split('\t').next().unwrap_or("");
    if s == "/dev/null" {
        return Ok(None);
    }
    if s.is_empty() || s.starts_with('"') {
        return Err(format!("unsupported file name in diff header: {s:?}"));
    }
    Ok(Some(s.to_owned()))
}

fn parse_range(s: &str) -> Option<(usize, usize)> {
    let (a, b) = match s.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    Some((a.parse().ok()?, b.map_or(Some(1), |b| b.parse().ok())?))
}

fn parse_hunk(all: &[Vec<u8>], start: usize) -> Result<(Hunk, usize), String> {
    let header = String::from_utf8_lossy(&all[start]).trim_end().to_owned();
    let bad = || format!("malformed hunk header {header:?}");
    let inner = header.strip_prefix("@@ -").ok_or_else(bad)?;
    let (ranges, _) = inner.split_once(" @@").ok_or_else(bad)?;
    let (o, n) = ranges.split_once(" +").ok_or_else(bad)?;
    let (old_start, old_len) = parse_range(o).ok_or_else(bad)?;
    let (_, new_len) = parse_range(n).ok_or_else(bad)?;
    let mut old: Vec<Vec<u8>> = Vec::new();
    let mut new: Vec<Vec<u8>> = Vec::new();
    let mut i = start + 1;
    // 0 = context, 1 = removed, 2 = added: for "\ No newline at end of file".
    let mut last: Option<u8> = None;
    while old.len() < old_len
        || new.len() < new_len
        || all.get(i).is_some_and(|l| l.starts_with(b"\\"))
    {
        let Some(l) = all.get(i) else {
            return Err(format!("{header}: hunk ends early"));
        };
        match l.first() {
            Some(b' ') => {
                old.push(l[1..].to_vec());
                new.push(l[1..].to_vec());
                last = Some(0);
            }
            Some(b'\n') => {
                old.push(b"\n".to_vec());
                new.push(b"\n".to_vec());
                last = Some(0);
            }
            Some(b'-') => {
                old.push(l[1..].to_vec());
                last = Some(1);
            }
            Some(b'+') => {
                new.push(l[1..].to_vec());
                last = Some(2);
            }
            Some(b'\\') => {
                let strip = |v: &mut Vec<Vec<u8>>| {
                    if let Some(x) = v.last_mut()
                        && x.last() == Some(&b'\n')
                    {
                        x.pop();
                    }
                };
                match last {
                    Some(0) => {
                        strip(&mut old);
                        strip(&mut new);
                    }
                    Some(1) => strip(&mut old),
                    Some(2) => strip(&mut new),
                    _ => return Err(format!("{header}: stray '\\' line")),
                }
                last = None;
            }
            _ => {
                return Err(format!(
                    "{header}: unexpected line {:?}",
                    String::from_utf8_lossy(l).trim_end()
                ));
            }
        }
        if old.len() > old_len || new.len() > new_len {
            return Err(format!("{header}: more lines than the header says"));
        }
        i += 1;
    }
    Ok((
        Hunk {
            header,
            old_start,
            old,
            new,
        },
        i,
    ))
}
