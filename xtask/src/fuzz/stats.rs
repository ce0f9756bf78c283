//! What one libFuzzer run did, read from its output: the final stats block
//! (`-print_final_stats=1`) and the `Done N runs in S second(s)` line.

/// Executions and speed of one finished (or crashed) libFuzzer run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunStats {
    /// Inputs executed (`stat::number_of_executed_units`, else `Done N runs`).
    pub executions: u64,
    /// `stat::average_exec_per_sec`.
    pub exec_per_sec: Option<u64>,
    /// Seconds from the `Done … in S second(s)` line (absent after a crash).
    pub seconds: Option<u64>,
    /// Peak RSS in MB (`stat::peak_rss_mb`).
    pub peak_rss_mb: Option<u64>,
    /// The crash/leak/timeout input libFuzzer wrote, if it found one.
    pub artifact: Option<String>,
}

/// Reads the stats from a libFuzzer log; None if it never got as far as running.
pub fn parse(log: &str) -> Option<RunStats> {
    let mut s = RunStats::default();
    let mut seen = false;
    for line in log.lines() {
        let line = line.trim();
        if let Some(v) = stat(line, "stat::number_of_executed_units:") {
            s.executions = v;
            seen = true;
        } else if let Some(v) = stat(line, "stat::average_exec_per_sec:") {
            s.exec_per_sec = Some(v);
        } else if let Some(v) = stat(line, "stat::peak_rss_mb:") {
            s.peak_rss_mb = Some(v);
        } else if let Some((runs, secs)) = done_line(line) {
            if !seen {
                s.executions = runs;
            }
            s.seconds = Some(secs);
            seen = true;
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            s.artifact = Some(path.trim().to_owned());
        }
    }
    seen.then_some(s)
}

/// Several workers of one target, run side by side: their executions and rates add up,
/// the time and peak RSS are the largest, and the first finding is kept.
pub fn combine(runs: &[RunStats]) -> RunStats {
    RunStats {
        executions: runs.iter().map(|r| r.executions).sum(),
        // A worker without a rate leaves the total unknown rather than too low.
        exec_per_sec: runs.iter().map(|r| r.exec_per_sec).sum(),
        seconds: runs.iter().filter_map(|r| r.seconds).max(),
        peak_rss_mb: runs.iter().filter_map(|r| r.peak_rss_mb).max(),
        artifact: runs.iter().find_map(|r| r.artifact.clone()),
    }
}

fn stat(line: &str, key: &str) -> Option<u64> {
    line.strip_prefix(key)?.trim().parse().ok()
}

/// `Done 123 runs in 10 second(s)` → (123, 10).
fn done_line(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("Done ")?;
    let (runs, rest) = rest.split_once(" runs in ")?;
    let secs = rest.strip_suffix(" second(s)")?;
    Some((runs.parse().ok()?, secs.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The tail of a real run of deb_control (libFuzzer from libfuzzer-sys 0.4).
    const FINISHED: &str = "\
#1048576\tpulse  cov: 1162 ft: 4567 corp: 612/40Kb lim: 4096 exec/s: 104857 rss: 410Mb
#1203327\tDONE   cov: 1162 ft: 4570 corp: 613/40Kb lim: 4096 exec/s: 109393 rss: 412Mb
Done 1203327 runs in 11 second(s)
stat::number_of_executed_units: 1203327
stat::average_exec_per_sec:     109393
stat::new_units_added:          5
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              412
";

    #[test]
    fn a_finished_run() {
        assert_eq!(
            parse(FINISHED),
            Some(RunStats {
                executions: 1_203_327,
                exec_per_sec: Some(109_393),
                seconds: Some(11),
                peak_rss_mb: Some(412),
                artifact: None,
            })
        );
    }

    #[test]
    fn a_crashed_run_names_its_input() {
        let log = "==12== ERROR: libFuzzer: deadly signal\n\
                   MS: 1 ChangeBit-; base unit: 0\n\
                   artifact_prefix='/w/fuzz/artifacts/deb_ar/'; Test unit written to /w/fuzz/artifacts/deb_ar/crash-3a\n\
                   stat::number_of_executed_units: 4242\n\
                   stat::average_exec_per_sec:     1414\n";
        let s = parse(log).unwrap();
        assert_eq!(s.executions, 4242);
        assert_eq!(s.seconds, None);
        assert_eq!(
            s.artifact.as_deref(),
            Some("/w/fuzz/artifacts/deb_ar/crash-3a")
        );
    }

    #[test]
    fn workers_add_up_to_one_row() {
        let finished = parse(FINISHED).unwrap();
        let other = RunStats {
            executions: 1_000,
            exec_per_sec: Some(7),
            seconds: Some(12),
            peak_rss_mb: Some(300),
            artifact: None,
        };
        // One worker's row is its own stats, unchanged.
        assert_eq!(combine(std::slice::from_ref(&finished)), finished);
        let both = combine(&[finished.clone(), other.clone()]);
        assert_eq!(both.executions, 1_204_327);
        assert_eq!(both.exec_per_sec, Some(109_400));
        assert_eq!(both.seconds, Some(12));
        assert_eq!(both.peak_rss_mb, Some(412));
        assert_eq!(both.artifact, None);
        let crashed = RunStats {
            exec_per_sec: None,
            artifact: Some("crash-1".to_owned()),
            ..other
        };
        let with_crash = combine(&[finished, crashed]);
        assert_eq!(with_crash.exec_per_sec, None);
        assert_eq!(with_crash.artifact.as_deref(), Some("crash-1"));
    }

    #[test]
    fn a_build_failure_has_no_stats() {
        assert_eq!(parse("error[E0425]: cannot find value `x`\n"), None);
    }
}
