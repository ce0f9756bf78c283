//! The test-gating convention, checked on the source so that a test cannot slip out of
//! (or into) CI by accident:
//!
//! * a test that needs the Debian archive or any network is `#[ignore = "network"]`;
//! * a test too slow for CI is `#[ignore = "slow: <why>"]` AND its name starts with
//!   `slow_` — libtest filters by name, not by ignore reason, so CI
//!   (`cargo test -- --include-ignored --skip slow_`) can only leave it out by name;
//! * no other ignore, and no `slow_` name on any other test.
//!
//! A plain `cargo test` runs neither kind; `cargo xtask test` runs the network ones,
//! `cargo xtask test --slow` both.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The name prefix CI passes to `--skip`.
pub const SLOW_PREFIX: &str = "slow_";

/// Every breach of the convention in the `.rs` files under `dir`, as
/// `path:line: problem`.
pub fn check_tree(dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    rust_files(dir, &mut files)?;
    files.sort();
    let mut problems = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).with_context(|| f.display().to_string())?;
        for (line, p) in check_source(&text) {
            problems.push(format!("{}:{line}: {p}", f.display()));
        }
    }
    Ok(problems)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let p = e?.path();
        if p.is_dir() && p.file_name().is_some_and(|n| n != "target") {
            rust_files(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    Ok(())
}

/// Breaches in one file's text: (1-based line, problem).
fn check_source(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut problems = Vec::new();
    let mut slow_fns = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let l = l.trim();
        if !l.starts_with("#[ignore") {
            continue;
        }
        let name = lines[i + 1..]
            .iter()
            .take(12)
            .find_map(|l| fn_name(l))
            .unwrap_or_default();
        match ignore_reason(l) {
            Some("network") if name.starts_with(SLOW_PREFIX) => {
                slow_fns.push(name); // reported here, not again below
                problems.push((
                    i + 1,
                    format!("network test `{name}` is named {SLOW_PREFIX}…, so CI would skip it"),
                ));
            }
            Some("network") => {}
            Some(r) if r.starts_with("slow: ") && r.len() > "slow: ".len() => {
                if name.starts_with(SLOW_PREFIX) {
                    slow_fns.push(name);
                } else {
                    problems.push((
                        i + 1,
                        format!("slow test `{name}` must be named {SLOW_PREFIX}{name}"),
                    ));
                }
            }
            _ => problems.push((
                i + 1,
                format!(
                    "`{l}`: use #[ignore = \"network\"] or #[ignore = \"slow: <why>\"] (test `{name}`)"
                ),
            )),
        }
    }
    for (i, l) in lines.iter().enumerate() {
        if let Some(name) = fn_name(l)
            && name.starts_with(SLOW_PREFIX)
            && !slow_fns.contains(&name)
        {
            problems.push((
                i + 1,
                format!("`{name}` is named {SLOW_PREFIX}… but is not #[ignore = \"slow: …\"]"),
            ));
        }
    }
    problems
}

/// The string of `#[ignore = "…"]`, or None for a bare or odd `#[ignore…]`.
fn ignore_reason(attr: &str) -> Option<&str> {
    let rest = attr.strip_prefix("#[ignore")?.trim_start();
    let rest = rest.strip_prefix('=')?.trim_start().strip_prefix('"')?;
    rest.split_once('"').map(|(reason, _)| reason)
}

/// The name of the function a line declares, if it declares one.
fn fn_name(line: &str) -> Option<&str> {
    let (_, after) = line.split_once("fn ")?;
    let before = &line[..line.len() - after.len() - 3];
    if !before.split_whitespace().all(|w| {
        ["pub", "async", "unsafe", "const", "extern"].contains(&w) || w.starts_with("pub(")
    }) {
        return None;
    }
    let end = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    Some(&after[..end]).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_convention_passes() {
        let src = "#[test]\n#[ignore = \"network\"]\nfn fetches() {}\n\
                   #[test]\n#[ignore = \"slow: a whole kernel build\"]\nfn slow_rebuilds() {}\n\
                   #[test]\nfn quick() {}\n";
        assert_eq!(check_source(src), []);
    }

    #[test]
    fn each_breach_is_named_with_its_line() {
        let src = "#[test]\n#[ignore]\nfn bare() {}\n\
                   #[test]\n#[ignore = \"slow: boots qemu\"]\nfn boots() {}\n\
                   #[test]\n#[ignore = \"network\"]\npub fn slow_fetch() {}\n\
                   #[test]\nfn slow_but_not_ignored() {}\n\
                   #[test]\n#[ignore = \"flaky\"]\nfn other() {}\n";
        let found: Vec<usize> = check_source(src).into_iter().map(|(l, _)| l).collect();
        assert_eq!(found, [2, 5, 8, 13, 11]);
        let text = format!("{:?}", check_source(src));
        assert!(text.contains("must be named slow_boots"), "{text}");
        assert!(text.contains("CI would skip it"), "{text}");
    }

    #[test]
    fn fn_names_are_found_only_in_declarations() {
        assert_eq!(fn_name("    pub async fn slow_x() {"), Some("slow_x"));
        assert_eq!(fn_name("let f = |x| x; // fn y"), None);
        assert_eq!(fn_name("fn a<T>(t: T)"), Some("a"));
    }
}
