//! `kernel-deb repro-check` refuses bad input before building anything (exit 2):
//! flags after `--` reach the check (and the ones it sets itself are refused),
//! unknown variation names are refused, and so is a `--control` directory that no
//! build wrote.

use std::process::Command;

fn repro_check(args: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kernel-deb"))
        .arg("repro-check")
        .args(args.split_whitespace())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn own_build_flags_after_the_separator_and_unknown_variations_are_refused() {
    for (line, says) in [
        (
            "-- --config x.config --out o",
            "--out: repro-check sets --out",
        ),
        ("-- -Z xz -j4", "use `repro-check --jobs N` instead"),
        ("-- --cache=c", "--cache=c: repro-check sets --cache"),
        (
            "--vary clock -- --config x.config",
            "unknown variation \"clock\"",
        ),
        ("--jobs 0", "--jobs 0: give at least 1"),
        (
            "--control /nonexistent-samekernel-out -- --flavour tiny",
            "--control /nonexistent-samekernel-out: no BUILD-RECORD there",
        ),
    ] {
        let (code, stderr) = repro_check(line);
        assert_eq!(code, Some(2), "{line}: {stderr}");
        assert!(stderr.contains(says), "{line}: {stderr}");
    }
}
