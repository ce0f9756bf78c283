//! Entry paths: checked and normalized into components before anything touches the disk.

use crate::error::PathProblem;

/// Splits an archive path into its components: relative, no `..`, no NUL; `.` and empty
/// components (`./a//b/`) are dropped, so `./a//b/` and `a/b` are the same entry. The root
/// (`./`, `.`) is an empty list. With `utf8`, non-UTF-8 paths are refused too.
pub fn components(raw: &[u8], utf8: bool) -> Result<Vec<&[u8]>, PathProblem> {
    if raw.is_empty() {
        return Err(PathProblem::Empty);
    }
    if raw.contains(&0) {
        return Err(PathProblem::Nul);
    }
    if raw[0] == b'/' {
        return Err(PathProblem::Absolute);
    }
    if utf8 && std::str::from_utf8(raw).is_err() {
        return Err(PathProblem::NotUtf8);
    }
    let mut out = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err(PathProblem::DotDot),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Joins components with `/`.
pub fn join(components: &[&[u8]]) -> Vec<u8> {
    components.join(&b'/')
}

/// The same as [`components`] joined back with `/`: the normalized form.
pub fn normalize(raw: &[u8]) -> Result<Vec<u8>, PathProblem> {
    components(raw, false).map(|c| join(&c))
}

/// Whether the problem is a traversal (absolute, `..`) rather than a malformed name.
pub fn is_traversal(p: PathProblem) -> bool {
    matches!(p, PathProblem::Absolute | PathProblem::DotDot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_absolute_and_nul_are_refused() {
        assert_eq!(components(b"../x", false), Err(PathProblem::DotDot));
        assert_eq!(components(b"a/../../x", false), Err(PathProblem::DotDot));
        assert_eq!(
            components(b"/etc/passwd", false),
            Err(PathProblem::Absolute)
        );
        assert_eq!(components(b"a\0b", false), Err(PathProblem::Nul));
        assert_eq!(components(b"a/\xff", true), Err(PathProblem::NotUtf8));
        assert_eq!(components(b"", false), Err(PathProblem::Empty));
    }

    #[test]
    fn dots_and_empty_components_are_normalized() {
        assert_eq!(normalize(b"./a//b/./c/").unwrap(), b"a/b/c");
        assert_eq!(normalize(b"./").unwrap(), b"");
        assert_eq!(normalize(b"a/\xff").unwrap(), b"a/\xff");
    }

    proptest::proptest! {
        #[test]
        fn normalized_paths_stay_below_the_root(raw: Vec<u8>) {
            if let Ok(c) = components(&raw, false) {
                for part in c {
                    proptest::prop_assert!(part != b".." && part != b"." && !part.is_empty());
                    proptest::prop_assert!(!part.contains(&b'/') && !part.contains(&0));
                }
            }
        }

        #[test]
        fn normalizing_is_idempotent(raw: Vec<u8>) {
            if let Ok(n) = normalize(&raw)
                && !n.is_empty()
            {
                proptest::prop_assert_eq!(normalize(&n).unwrap(), n);
            }
        }
    }
}
