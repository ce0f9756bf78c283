use std::time::Duration;

use kbuild_env::{Effect, FingerprintDiff};

use super::*;
use crate::stage::requested::ChangeKind;
use crate::{Severity, Stage};

/// A plain log (or, `live`, a spinner) that records what it was given.
#[derive(Default)]
struct Log {
    live: bool,
    lines: Vec<String>,
    status: Vec<String>,
    fetch_done: usize,
}

impl Terminal for Log {
    fn live(&self) -> bool {
        self.live
    }
    fn line(&mut self, text: &str) {
        self.lines.push(text.to_owned());
    }
    fn status(&mut self, text: &str) {
        self.status.push(text.to_owned());
    }
    fn fetch_done(&mut self) {
        self.fetch_done += 1;
    }
}

impl srcpin::FetchProgress for Log {
    fn event(&mut self, _: &FetchEvent<'_>) {}
}

fn finding() -> Finding {
    Finding {
        gate: "hazards",
        severity: Severity::Warning,
        item: "CONFIG_X".into(),
        message: "varies".into(),
    }
}

#[test]
fn a_log_gets_stamped_stage_lines_and_only_slow_stages_durations() {
    let mut p = ProgressLines::new(Log::default(), false);
    p.stage_started(Stage::Config, "tiny");
    p.stage_finished(Stage::Config, Duration::from_secs(3));
    p.stage_finished(Stage::Pin, Duration::from_secs(12));
    // The first compile progress comes before a minute passed: no line.
    p.compile(CompileProgress {
        steps: 5,
        expected: None,
        elapsed: Duration::ZERO,
    });
    let log = p.terminal();
    assert_eq!(
        log.lines,
        [
            "[   0s] configure tiny",
            "[   0s] fetch and verify the pinned source took 12 s"
        ]
    );
    assert_eq!(log.fetch_done, 1, "the pin stage ends the download bar");
}

#[test]
fn a_spinner_gets_the_stage_and_compile_progress_as_its_status() {
    let mut p = ProgressLines::new(
        Log {
            live: true,
            ..Log::default()
        },
        false,
    );
    p.stage_started(Stage::Compile, "");
    p.compile(CompileProgress {
        steps: 5,
        expected: Some(10),
        elapsed: Duration::ZERO,
    });
    p.stage_finished(Stage::Compile, Duration::from_secs(600));
    let log = p.terminal();
    assert_eq!(log.status, ["compile", "compile: 5/10 steps (50%)"]);
    assert!(log.lines.is_empty(), "{:?}", log.lines);
}

#[test]
fn quiet_shows_findings_and_the_toolchain_but_no_progress() {
    let mut p = ProgressLines::new(Log::default(), true);
    p.stage_started(Stage::Gate, "");
    p.stage_finished(Stage::Gate, Duration::from_secs(30));
    p.notes(&["a note".into()]);
    p.finding(&finding());
    p.toolchain_compared(&[]);
    assert_eq!(
        p.terminal().lines,
        [
            format!("kernel-deb: {}", finding()),
            "kernel-deb: toolchain identical to the expected fingerprint".into()
        ]
    );
}

#[test]
fn toolchain_differences_name_both_values_and_the_effect() {
    let diff = FingerprintDiff {
        item: "package gcc-12".into(),
        ours: Some("12.2.0-14".into()),
        theirs: None,
        effect: Effect::KnownToChangeOutput,
        reason: "the compiler",
    };
    assert_eq!(
        toolchain_lines(&[diff]),
        [
            "kernel-deb: toolchain differs: package gcc-12: 12.2.0-14 here, absent there (known to change output: the compiler)"
        ]
    );
}

#[test]
fn config_changes_get_a_counted_heading_and_nothing_when_none() {
    assert!(config_change_lines(&[]).is_empty());
    assert!(flavour_change_lines(None).is_empty());
    let change = ConfigChange {
        symbol: "CONFIG_BTF".into(),
        kind: ChangeKind::Dropped,
        requested: "y".into(),
        resolved: None,
    };
    assert_eq!(
        config_change_lines(&[change]),
        [
            "kernel-deb: kbuild resolved 1 requested option(s) differently:",
            "  dropped: CONFIG_BTF requested y, resolved absent"
        ]
    );
}

#[test]
fn remedies_name_the_flag_that_gets_past_the_refusal() {
    let lost = BuildError::Config(ConfigError::Lost {
        path: "c".into(),
        symbols: vec!["CONFIG_X".into()],
    });
    assert!(
        with_remedy(&lost).ends_with(" SYM"),
        "{}",
        with_remedy(&lost)
    );
    let io = BuildError::Io {
        path: "w".into(),
        source: std::io::Error::other("full"),
    };
    assert_eq!(with_remedy(&io), "w: full");
}

/// An error that does not quote its cause.
#[derive(Debug, thiserror::Error)]
#[error("reading x.deb")]
struct Reading(#[source] std::io::Error);

#[test]
fn an_error_line_joins_the_causes_and_prints_a_quoted_one_once() {
    let quoted = BuildError::Io {
        path: "x.deb".into(),
        source: std::io::Error::other("No such file or directory"),
    };
    assert_eq!(error_line(&quoted), "x.deb: No such file or directory");
    let unquoted = Reading(std::io::Error::other("inner problem"));
    assert_eq!(error_line(&unquoted), "reading x.deb: inner problem");
}

fn outcome() -> BuildOutcome {
    BuildOutcome {
        out: "/srv/debs".into(),
        kernel_release: "6.12.117-samekernel".into(),
        version: "1".into(),
        record: crate::record::tests::example(),
        findings: Vec::new(),
        toolchain_diffs: Vec::new(),
        config_changes: Vec::new(),
    }
}

#[test]
fn a_finished_build_prints_each_deb_then_the_record_with_their_sha256() {
    let o = outcome();
    let lines = outcome_lines(&o);
    assert_eq!(
        lines[0],
        format!("{}  /srv/debs/a_1_amd64.deb", "cd".repeat(32))
    );
    assert_eq!(
        lines[1],
        format!("{}  /srv/debs/BUILD-RECORD", o.record.sha256())
    );
    assert_eq!(lines.len(), 2);
    assert_eq!(
        done_lines(&o, Duration::from_millis(61_600)),
        ["built 6.12.117-samekernel in 62 s"]
    );
}
