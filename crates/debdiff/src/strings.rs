//! Printable strings and what their differences mean in kernel terms.
//!
//! Like `strings(1)`: runs of at least [`MIN_LEN`] printable ASCII bytes. The
//! strings present on one side only are classified: a path that differs by its
//! leading directories is a build path, a `Linux version …`/`#1 SMP …` string is
//! the uname banner, a date or time is a timestamp, `vermagic=` is the module's
//! vermagic.

use std::collections::HashSet;

use crate::limits::Limits;
use crate::report::{CauseKind, Finding};

/// Shortest run of printable bytes counted as a string.
pub const MIN_LEN: usize = 4;

/// The printable strings of `data` (at most `max`), in order.
pub fn printable_strings(data: &[u8], max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &c) in data.iter().chain(std::iter::once(&0)).enumerate() {
        let printable = c == b'\t' || (0x20..0x7f).contains(&c);
        match (printable, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= MIN_LEN {
                    // Only ASCII bytes were taken, so this cannot fail.
                    out.push(std::str::from_utf8(&data[s..i]).unwrap_or_default());
                    if out.len() >= max {
                        return out;
                    }
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Strings only in `a` and only in `b`, deduplicated, in first-seen order.
pub fn one_sided<'x>(a: &[&'x str], b: &[&'x str]) -> (Vec<&'x str>, Vec<&'x str>) {
    let set_a: HashSet<&str> = a.iter().copied().collect();
    let set_b: HashSet<&str> = b.iter().copied().collect();
    let only = |v: &[&'x str], other: &HashSet<&str>| {
        let mut seen = HashSet::new();
        v.iter()
            .copied()
            .filter(|s| !other.contains(s) && seen.insert(*s))
            .collect::<Vec<_>>()
    };
    (only(a, &set_b), only(b, &set_a))
}

/// Whether `s` holds `HH:MM:SS`.
pub fn has_time(s: &str) -> bool {
    s.as_bytes().windows(8).any(|w| {
        let d = |i: usize| w[i].is_ascii_digit();
        d(0) && d(1) && w[2] == b':' && d(3) && d(4) && w[5] == b':' && d(6) && d(7)
    })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Whether `s` holds a `__DATE__`-style (`Nov 30 2026`) or ISO (`2026-11-30`) date.
pub fn has_date(s: &str) -> bool {
    let b = s.as_bytes();
    let iso = b.windows(10).any(|w| {
        w[..4].iter().all(u8::is_ascii_digit)
            && w[4] == b'-'
            && w[5..7].iter().all(u8::is_ascii_digit)
            && w[7] == b'-'
            && w[8..10].iter().all(u8::is_ascii_digit)
    });
    iso || MONTHS.iter().any(|m| {
        s.match_indices(m).any(|(i, _)| {
            let rest = &b[i + 3..];
            rest.len() >= 8
                && rest[0] == b' '
                && (rest[1] == b' ' || rest[1].is_ascii_digit())
                && rest[2].is_ascii_digit()
                && rest[3] == b' '
                && rest[4..8].iter().all(u8::is_ascii_digit)
        })
    })
}

/// Whether `s` looks like a file system path (has a `/` between name characters).
pub fn looks_like_path(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'/' && (w[1].is_ascii_alphanumeric() || w[1] == b'.' || w[1] == b'_'))
        && !s.contains("://")
}

fn is_uname(s: &str) -> bool {
    s.contains("Linux version ")
        || (s.starts_with('#') && (s.contains(" SMP") || s.contains("PREEMPT")) && has_time(s))
}

/// The differing leading parts of two paths that share a tail of components:
/// `/tmp/a/src/x.c` vs `/tmp/b/src/x.c` gives (`/tmp/a`, `/tmp/b`).
pub fn path_roots<'x>(a: &'x str, b: &'x str) -> (&'x str, &'x str) {
    let (ca, cb): (Vec<&str>, Vec<&str>) = (a.split('/').collect(), b.split('/').collect());
    let common = ca
        .iter()
        .rev()
        .zip(cb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let cut = |s: &'x str, parts: &[&str]| {
        let keep = parts.len() - common.min(parts.len());
        let len: usize = parts[..keep].iter().map(|p| p.len() + 1).sum::<usize>();
        &s[..len.saturating_sub(1).min(s.len())]
    };
    (cut(a, &ca), cut(b, &cb))
}

/// Whether two paths are one path under two build directories: they share a
/// tail of components and differ in a leading part that is a plain directory
/// (no spaces: `<md5>  boot/x` lines are not paths that moved).
fn is_moved_path(a: &str, b: &str) -> bool {
    let (ra, rb) = path_roots(a, b);
    ra.len() < a.len()
        && !ra.is_empty()
        && !rb.is_empty()
        && !ra.contains(char::is_whitespace)
        && !rb.contains(char::is_whitespace)
}

/// Pairs of one-sided paths that are the same path under other build directories
/// (looking at most at 64 strings per side).
fn moved_paths<'x>(a: &[&'x str], b: &[&'x str], max: usize) -> Vec<(&'x str, &'x str)> {
    let mut out = Vec::new();
    for x in a.iter().take(64) {
        if let Some(y) = b.iter().take(64).find(|y| is_moved_path(x, y)) {
            out.push((*x, *y));
            if out.len() >= max {
                break;
            }
        }
    }
    out
}

/// A cause, the strings that show it, and what to call them in evidence.
type Rule = (CauseKind, fn(&str) -> bool, &'static str);

/// Classifies one-sided strings found at `location`.
pub fn classify(only_a: &[&str], only_b: &[&str], location: &str, limits: &Limits) -> Vec<Finding> {
    let mut out = Vec::new();
    let rules: [Rule; 4] = [
        (
            CauseKind::Vermagic,
            |s| s.starts_with("vermagic="),
            "vermagic",
        ),
        (CauseKind::UnameBanner, is_uname, "uname banner string"),
        (
            CauseKind::Timestamp,
            |s| !is_uname(s) && (has_time(s) || has_date(s)),
            "date/time string",
        ),
        (CauseKind::BuildPath, looks_like_path, "path string"),
    ];
    for (kind, matches, what) in rules {
        let a: Vec<&str> = only_a.iter().copied().filter(|s| matches(s)).collect();
        let b: Vec<&str> = only_b.iter().copied().filter(|s| matches(s)).collect();
        let pairs = if kind == CauseKind::BuildPath {
            moved_paths(&a, &b, limits.max_evidence)
        } else {
            a.iter()
                .copied()
                .zip(b.iter().copied())
                .take(limits.max_evidence)
                .collect()
        };
        let Some(&(x0, y0)) = pairs.first() else {
            continue;
        };
        let detail = if kind == CauseKind::BuildPath {
            let (ra, rb) = path_roots(x0, y0);
            format!("{location} (build directory {ra:?} vs {rb:?})")
        } else {
            location.to_owned()
        };
        let mut f = Finding::new(kind, detail);
        for (x, y) in pairs {
            f = f.with(format!("{what} in {location}"), x, y);
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_times_paths() {
        assert!(has_time("built 07:48:04 UTC"));
        assert!(!has_time("7:48:04"));
        assert!(has_date("Nov 30 2026"));
        assert!(has_date("Nov  3 2026"));
        assert!(has_date("2026-11-30"));
        assert!(!has_date("November"));
        assert!(looks_like_path("/tmp/a/x.c"));
        assert!(!looks_like_path("a / b"));
        assert_eq!(
            path_roots("/tmp/a/src/x.c", "/tmp/bb/src/x.c"),
            ("/tmp/a", "/tmp/bb")
        );
    }

    #[test]
    fn classifies_kernel_strings() {
        let l = Limits::default();
        let f = classify(
            &["Linux version 6.12.0 (a@h) #1 SMP Mon Nov 30 07:48:04 UTC 2026"],
            &["Linux version 6.12.0 (a@h) #1 SMP Tue Dec  1 07:48:04 UTC 2026"],
            ".rodata",
            &l,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, CauseKind::UnameBanner);
    }

    proptest! {
        #[test]
        fn strings_are_printable_and_in_input(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            for s in printable_strings(&data, usize::MAX) {
                prop_assert!(s.len() >= MIN_LEN);
                prop_assert!(s.bytes().all(|c| c == b'\t' || (0x20..0x7f).contains(&c)));
                prop_assert!(data.windows(s.len()).any(|w| w == s.as_bytes()));
            }
        }

        #[test]
        fn one_sided_is_disjoint(a in proptest::collection::vec("[a-c]{4,6}", 0..20),
                                 b in proptest::collection::vec("[a-c]{4,6}", 0..20)) {
            let ra: Vec<&str> = a.iter().map(String::as_str).collect();
            let rb: Vec<&str> = b.iter().map(String::as_str).collect();
            let (oa, ob) = one_sided(&ra, &rb);
            for s in &oa { prop_assert!(!rb.contains(s)); prop_assert!(ra.contains(s)); }
            for s in &ob { prop_assert!(!ra.contains(s)); prop_assert!(rb.contains(s)); }
        }

        #[test]
        fn path_roots_are_prefixes(common in "(/[a-z]{1,5}){1,3}", pa in "(/[a-z]{1,5}){1,3}", pb in "(/[A-Z]{1,5}){1,3}") {
            let a = format!("{pa}{common}");
            let b = format!("{pb}{common}");
            let (ra, rb) = path_roots(&a, &b);
            prop_assert!(a.starts_with(ra));
            prop_assert!(b.starts_with(rb));
            prop_assert_eq!(&a[ra.len()..], &b[rb.len()..]);
        }
    }
}
