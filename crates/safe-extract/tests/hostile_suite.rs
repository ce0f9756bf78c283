//! The shared hostile suite against the extractor itself, with both policies (detdeb and
//! srcpin run the same table through their own readers: a `.deb`, a source tarball).

#![cfg(feature = "hostile-suite")]

use safe_extract::hostile::{Layout, cases, raw_tar};
use safe_extract::{Limits, Policy, TarReader, extract};

fn files_below(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn every_hostile_case_has_its_outcome_under_both_policies() {
    let mut failures = Vec::new();
    let mut checked = 0;
    // srcpin's per-file limit is 1 GiB; detdeb keeps the default.
    let source_limits = Limits {
        max_file_size: 1 << 30,
        ..Limits::default()
    };
    for (layout, policy, limits) in [
        (Layout::Package, Policy::package(), Limits::default()),
        (Layout::Source("top"), Policy::source("top"), source_limits),
    ] {
        let sandbox = tempfile::tempdir().unwrap();
        let outside = sandbox.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        for case in cases(&outside) {
            let parent = sandbox.path().join("parent");
            std::fs::create_dir(&parent).unwrap();
            let tar = raw_tar(&case.entries, layout);
            let mut r =
                TarReader::new(&tar[..], "case.tar", limits).with_input_size(tar.len() as u64);
            let result = extract(&mut r, &parent.join("out"), &policy).map(drop);
            let expect = match layout {
                Layout::Package => case.package,
                Layout::Source(_) => case.source,
            };
            if let Err(e) = expect.check(&result.as_ref().map(drop)) {
                failures.push(format!("{:?} {}: {e}", layout, case.name));
            }
            if result.is_err() && !files_below(&parent).is_empty() {
                failures.push(format!("{} left {:?}", case.name, files_below(&parent)));
            }
            assert!(
                files_below(&outside).is_empty(),
                "{}: wrote outside",
                case.name
            );
            std::fs::remove_dir_all(&parent).unwrap();
            checked += 1;
        }
    }
    assert!(checked >= 60, "{checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
