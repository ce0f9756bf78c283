//! Collecting testimonies from hostile places: FIFOs under a testimony's name,
//! huge files, too many files, indexes that point outside their mirror.

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use testimony::collect::{Collection, Limits, Skipped, is_safe_name, parse_index};

/// Runs `f` on a thread and fails (instead of hanging the suite) if it does not
/// return within a minute: these tests are about not blocking forever.
fn must_return<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("blocked: collecting testimonies must never wait on a FIFO")
}

fn mkfifo(p: &std::path::Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn a_fifo_under_a_testimony_name_is_skipped_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alice.asc"), signed_v2("alice", &record())).unwrap();
    mkfifo(&dir.path().join("fifo.asc"));
    std::os::unix::fs::symlink(dir.path().join("fifo.asc"), dir.path().join("link.asc")).unwrap();
    // A detached signature whose data file is a FIFO.
    let sig = testimony::sign::sign_detached(b"x", &secret("bob"), day_before()).unwrap();
    std::fs::write(dir.path().join("d.asc"), sig).unwrap();
    mkfifo(&dir.path().join("d"));
    let p = dir.path().to_path_buf();
    let (read, skipped, len) = must_return(move || {
        let mut c = Collection::default();
        let n = c.add_dir(&p).unwrap();
        (n, c.skipped().to_vec(), c.len())
    });
    assert_eq!((read, len), (2, 2), "alice.asc and d.asc: {skipped:?}");
    let fifos = skipped
        .iter()
        .filter(|s| matches!(s, Skipped::NotRegular { kind, .. } if kind == "FIFO"))
        .count();
    assert_eq!(fifos, 3, "{skipped:?}");
    assert!(skipped[0].to_string().contains("not a regular file"));
}

#[test]
fn a_huge_local_testimony_is_skipped_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    // 1 GiB, sparse: reading it would take 1 GiB of memory.
    let f = std::fs::File::create(dir.path().join("huge.asc")).unwrap();
    f.set_len(1 << 30).unwrap();
    std::fs::write(dir.path().join("alice.asc"), signed_v2("alice", &record())).unwrap();
    let mut c = Collection::default();
    assert_eq!(c.add_dir(dir.path()).unwrap(), 1);
    assert!(
        matches!(c.skipped(), [Skipped::TooLarge { origin, limit }] if origin.ends_with("huge.asc") && *limit == Limits::default().max_file_bytes),
        "{:?}",
        c.skipped()
    );
}

#[test]
fn file_count_and_total_bytes_are_bounded_and_reported() {
    let t = signed_v2("alice", &record());
    let n = t.len() as u64;
    let mut c = Collection::with_limits(Limits {
        max_file_bytes: n,
        max_files: 3,
        max_total_bytes: 10 * n,
    });
    for i in 0..5 {
        c.add(&format!("{i}.asc"), &format!("m/{i}.asc"), t.clone())
            .unwrap();
    }
    assert_eq!(c.len(), 3);
    assert_eq!(c.skipped().len(), 2);
    assert!(matches!(c.skipped()[0], Skipped::TooMany { limit: 3, .. }));
    let mut c = Collection::with_limits(Limits {
        max_file_bytes: n,
        max_files: 100,
        max_total_bytes: 2 * n + n / 2,
    });
    for i in 0..4 {
        c.add(&format!("{i}.asc"), &format!("m/{i}.asc"), t.clone())
            .unwrap();
    }
    assert_eq!(c.len(), 2);
    assert!(
        c.skipped()
            .iter()
            .all(|s| matches!(s, Skipped::TotalTooLarge { .. })),
        "{:?}",
        c.skipped()
    );
    let mut one = t.clone();
    one.push(b'\n');
    let mut c = Collection::with_limits(Limits {
        max_file_bytes: n,
        ..Limits::default()
    });
    assert!(!c.add("big.asc", "m/big.asc", one).unwrap());
    assert!(matches!(c.skipped()[0], Skipped::TooLarge { .. }));
}

#[test]
fn a_listing_longer_than_the_file_limit_is_one_skipped_entry() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..50 {
        std::fs::write(
            dir.path().join(format!("{i:02}.asc")),
            format!("-----BEGIN PGP SIGNED MESSAGE-----\n{i}\n"),
        )
        .unwrap();
    }
    let mut c = Collection::with_limits(Limits {
        max_files: 10,
        ..Limits::default()
    });
    assert_eq!(c.add_dir(dir.path()).unwrap(), 10);
    assert!(
        matches!(
            c.skipped(),
            [Skipped::LeftOut {
                count: 40,
                limit: 10,
                ..
            }]
        ),
        "{:?}",
        c.skipped()
    );
    let mut names: Vec<String> = (0..90_000).map(|i| format!("{i}.asc")).collect();
    c.fit("https://m/testimonies.txt", &mut names);
    assert!(names.is_empty());
    assert!(
        c.skipped()[1]
            .to_string()
            .contains("90000 more listed file(s) skipped")
    );
}

#[test]
fn index_names_that_leave_the_mirror_are_refused() {
    assert_eq!(
        parse_index("# comment\n\nalice.asc\n  bob.asc  \r\n", "i").unwrap(),
        vec!["alice.asc", "bob.asc"]
    );
    for bad in [
        "../../etc/passwd",
        "a/b.asc",
        "..",
        ".",
        "a\\b",
        "x..asc",
        "caf\u{e9}.asc",
        "a b.asc",
        "a\u{7f}.asc",
    ] {
        let e = parse_index(&format!("ok.asc\n{bad}\n"), "https://m/testimonies.txt").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("https://m/testimonies.txt") && msg.contains("line 2"),
            "{bad:?}: {msg}"
        );
    }
}

proptest! {
    #[test]
    fn parsed_index_names_never_leave_the_directory(text in "[ -~\t\n/\\\\.é]{0,200}") {
        if let Ok(names) = parse_index(&text, "i") {
            for n in names {
                prop_assert!(is_safe_name(&n));
                prop_assert!(!n.contains('/') && !n.contains("..") && !n.contains('\\'));
            }
        }
    }
}

/// Issue 12.7: a `.asc` that is not a signature at all is not called "a detached
/// signature without its data file".
#[test]
fn junk_asc_files_are_named_for_what_they_are() {
    let mut c = Collection::default();
    c.add("junk.asc", "t/junk.asc", b"just some text\n".to_vec())
        .unwrap();
    let sig = testimony::sign::sign_detached(b"x", &secret("bob"), day_before()).unwrap();
    c.add("lonely.asc", "t/lonely.asc", sig.into()).unwrap();
    let ev = c.evidence(&all_keys(), at());
    let error = |origin: &str| {
        let e = ev.iter().find(|e| e.origin == origin).unwrap();
        e.error.clone().unwrap()
    };
    assert!(
        error("t/junk.asc").contains("neither a clearsigned testimony"),
        "{}",
        error("t/junk.asc")
    );
    assert!(
        error("t/lonely.asc").contains("detached signature without its data file \"lonely\""),
        "{}",
        error("t/lonely.asc")
    );
}
