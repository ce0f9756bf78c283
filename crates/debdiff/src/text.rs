//! Text files (config, changelog, control files, scripts): a unified diff.

use std::time::Duration;

use similar::TextDiff;

/// Longest time one diff may take; past it similar returns a coarser (still
/// correct) diff, so a hostile text file cannot hang the report.
const DIFF_DEADLINE: Duration = Duration::from_secs(5);

/// Whether `data` reads as text: UTF-8 (or nearly: a few stray bytes) without NUL.
pub fn is_text(data: &[u8]) -> bool {
    !data.contains(&0)
        && (std::str::from_utf8(data).is_ok()
            || data.iter().filter(|c| **c >= 0x80).count() * 20 < data.len())
}

/// A unified diff of `a` and `b` (3 lines of context), cut after `max_lines`.
pub fn unified(a: &[u8], b: &[u8], name: &str, max_lines: usize) -> String {
    let (ta, tb) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    render_unified(&line_diff(&ta, &tb), name, max_lines)
}

/// The line diff of `a` and `b`. Callers that need both the unified text and the
/// changed lines render both from this one diff: on hostile input a diff can take
/// the whole deadline, and running it twice would double that.
pub fn line_diff<'t>(a: &'t str, b: &'t str) -> TextDiff<'t, 't, 't, str> {
    TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(a, b)
}

/// `diff` as a unified diff (3 lines of context) of `a/name` and `b/name`, cut after
/// `max_lines`.
pub fn render_unified<'t>(
    diff: &'t TextDiff<'t, 't, 't, str>,
    name: &str,
    max_lines: usize,
) -> String {
    let full = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    let mut lines = full.lines();
    let mut out: String = lines
        .by_ref()
        .take(max_lines)
        .map(|l| format!("{l}\n"))
        .collect();
    let rest = lines.count();
    if rest > 0 {
        out.push_str(&format!("… {rest} more diff lines\n"));
    }
    out
}

/// The lines `diff` removes and adds, for classifying what changed.
pub fn changed_lines<'t>(diff: &'t TextDiff<'t, 't, 't, str>) -> (Vec<&'t str>, Vec<&'t str>) {
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for op in diff.ops() {
        for change in diff.iter_changes(op) {
            let line = change.value().trim_end_matches('\n');
            match change.tag() {
                similar::ChangeTag::Delete => removed.push(line),
                similar::ChangeTag::Insert => added.push(line),
                similar::ChangeTag::Equal => {}
            }
        }
    }
    (removed, added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn diff_lines_account_for_the_change(a in proptest::collection::vec("[a-c]{0,3}", 0..30),
                                             b in proptest::collection::vec("[a-c]{0,3}", 0..30)) {
            let (ta, tb) = (a.join("\n") + "\n", b.join("\n") + "\n");
            let diff = line_diff(&ta, &tb);
            let (removed, added) = changed_lines(&diff);
            if ta == tb {
                prop_assert!(removed.is_empty() && added.is_empty());
            }
            // Removed lines come from a, added lines from b.
            for l in removed { prop_assert!(ta.lines().any(|x| x == l)); }
            for l in added { prop_assert!(tb.lines().any(|x| x == l)); }
            let u = unified(ta.as_bytes(), tb.as_bytes(), "f", 5);
            prop_assert!(u.lines().count() <= 6);
        }
    }
}
