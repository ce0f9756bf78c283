//! Issue 12, round 3: files a user names on the command line. A FIFO where a .deb,
//! record, config or manifest is expected is refused at once (never a hang), and
//! names that carry terminal controls are escaped in every report and error.

#[path = "../../samekernel/tests/common/mod.rs"]
mod common;

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Runs kernel-deb; a run that takes over 30 s is killed and fails the test.
fn kernel_deb(args: &[OsString]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kernel-deb"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("kernel-deb {args:?} still ran after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn os(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    args.iter().map(|a| a.as_ref().to_owned()).collect()
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success());
}

/// verify/install arguments for `deb` with alice's and bob's testimonies.
fn trust_args(dir: &Path, command: &str, deb: &Path) -> Vec<OsString> {
    let (_, rec) = make_deb(dir, "good");
    let t = testimonies(dir, &[("alice", &rec), ("bob", &rec)]);
    let inp = inputs(dir, vec![t.display().to_string()]);
    let mut a = os(&[
        &command,
        &deb,
        &"--policy",
        &inp.policy,
        &"--testimonies",
        &t,
    ]);
    for k in &inp.keyrings {
        a.extend(os(&[&"--keyring", k]));
    }
    a.extend(os(&[&"--at", &AT.to_string()]));
    a
}

fn testify(record: &Path, key: &Path, out: &Path) -> Vec<OsString> {
    let mut a = os(&[&"testify", &"--record", &record, &"--key", &key]);
    a.extend(os(&[&"--name", &"w", &"--review", &"5", &"--trust", &"5"]));
    a.extend(os(&[&"--output", &out]));
    a
}

#[test]
fn a_fifo_named_as_input_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = make_deb(dir.path(), "good");
    let fifo = dir.path().join("linux-image.deb");
    mkfifo(&fifo);
    let out = dir.path().join("out");
    let cases: Vec<Vec<OsString>> = vec![
        os(&[&"deb", &"list", &fifo]),
        os(&[&"deb", &"info", &fifo]),
        os(&[&"deb", &"extract", &fifo, &out]),
        os(&[&"diff", &fifo, &good]),
        os(&[&"diff", &good, &fifo]),
        os(&[&"inspect", &fifo]),
        os(&[&"harden-report", &fifo]),
        os(&[&"harden-report", &"--deb", &fifo]),
        os(&[&"fetch", &"--manifest", &fifo]),
        trust_args(dir.path(), "verify", &fifo),
        trust_args(dir.path(), "install", &fifo),
        testify(&fifo, &fifo, &out),
        os(&[
            &"verify-signed",
            &"--unsigned",
            &fifo,
            &"--signed",
            &fifo,
            &"--module-cert",
            &fifo,
        ]),
    ];
    // A real record, so that the FIFO given as `--key` is the file that is reached.
    let (_, rec) = make_deb(dir.path(), "good");
    let record = dir.path().join("BUILD-RECORD");
    std::fs::write(&record, rec.to_text()).unwrap();
    let mut cases = cases;
    cases.push(testify(&record, &fifo, &out));
    for args in cases {
        let o = kernel_deb(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}: {err}");
        assert!(
            err.contains("linux-image.deb") && err.contains("a FIFO, not a regular file"),
            "{args:?}: {err}"
        );
    }
    assert!(!out.exists());
}

/// No byte below 0x20 but line feed and tab, no DEL, C1 or bidirectional control.
fn assert_no_controls(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    let bidi = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}');
    let bad = text
        .chars()
        .find(|&c| (c.is_control() && c != '\n' && c != '\t') || bidi(c));
    assert!(bad.is_none(), "{what}: {bad:?} in {text:?}");
}

#[test]
fn names_with_terminal_controls_are_escaped_in_reports_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = make_deb(dir.path(), "good");
    // A .deb whose file name rewrites the line it is printed on.
    let spoof = dir.path().join("e\r\x1b[32mok\u{202e}.deb");
    std::fs::copy(&good, &spoof).unwrap();
    let o = kernel_deb(&trust_args(dir.path(), "verify", &spoof));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_no_controls("verify", &o.stdout);
    assert!(String::from_utf8_lossy(&o.stdout).contains("e\\r\\u{1b}[32mok"));
    // A testimony file whose name carries a forged verdict line: still one line.
    let t = dir.path().join("t");
    std::fs::write(
        t.join("z\nPASS: every .deb has at least 2 agreeing\n.asc"),
        "junk",
    )
    .unwrap();
    let o = kernel_deb(&trust_args(dir.path(), "verify", &good));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let passes = stdout.lines().filter(|l| l.starts_with("PASS")).count();
    assert_eq!(passes, 1, "{stdout}");
    // The same name in an error (not a .deb at all).
    std::fs::write(&spoof, b"junk").unwrap();
    let o = kernel_deb(&os(&[&"deb", &"list", &spoof]));
    assert!(!o.status.success());
    assert_no_controls("deb list error", &o.stderr);
    // A config line with an escape sequence in its symbol name.
    let config = dir.path().join("config");
    std::fs::write(&config, "CONFIG_\x1b[31mFOO=y\nCONFIG_X86_64=y\n").unwrap();
    let o = kernel_deb(&os(&[&"harden-report", &config]));
    assert_no_controls("harden-report", &o.stdout);
    assert_no_controls("harden-report stderr", &o.stderr);
    // diff of two .debs whose entry names differ by controls.
    let mk = |name: &str, tag: &str| {
        let root = dir.path().join(format!("root-{tag}"));
        std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
        std::fs::write(
            root.join("DEBIAN/control"),
            "Package: p\nVersion: 1\nArchitecture: all\nMaintainer: m <m@x>\nDescription: d\n",
        )
        .unwrap();
        std::fs::write(root.join(name), "x").unwrap();
        let deb = dir.path().join(format!("{tag}.deb"));
        let st = Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zgzip", "--build"])
            .arg(&root)
            .arg(&deb)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        deb
    };
    let a = mk("a\rFAKE-OK", "a");
    let b = mk("b\x1b[2J\x1b[Hclear", "b");
    let o = kernel_deb(&os(&[&"diff", &a, &b]));
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_no_controls("diff", &o.stdout);
    assert!(String::from_utf8_lossy(&o.stdout).contains("a\\rFAKE-OK"));
}
