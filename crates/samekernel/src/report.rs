//! Progress of a build: which stage runs, how far compiling is, and what the gates and
//! the toolchain comparison found. The library reports; the caller draws.

use std::time::Duration;

use kbuild_env::FingerprintDiff;
use srcpin::FetchEvent;

use crate::gate::Finding;

/// The stages of [`crate::build`], in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Fingerprint the toolchain and compare it with an expected one.
    Toolchain,
    /// Fetch and verify the pinned sources.
    Pin,
    /// Safe-unpack and patch the source tree.
    Source,
    /// Resolve the final `.config`.
    Config,
    /// Run the config gates over it.
    Gate,
    /// Compile (`make all`).
    Compile,
    /// Stage the package trees and pack them.
    Package,
    /// Write the build record.
    Record,
    /// Rename the finished set into place.
    Publish,
}

impl Stage {
    /// Short lowercase name, e.g. `compile`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Toolchain => "toolchain",
            Stage::Pin => "fetch and verify the pinned source",
            Stage::Source => "unpack the source",
            Stage::Config => "configure",
            Stage::Gate => "check the config",
            Stage::Compile => "compile",
            Stage::Package => "package",
            Stage::Record => "write the build record",
            Stage::Publish => "publish",
        }
    }
}

/// How far the compile stage is. `steps` counts kbuild's quiet-mode lines (`  CC …`,
/// `  LD …`); `expected` is the count the same config took last time, when known, so
/// a fraction is only shown when it was measured (or, for a flavour's first build, the
/// flavour's typical count: see [`crate::Flavour::typical_compile_steps`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileProgress {
    /// Steps so far.
    pub steps: u64,
    /// Steps the previous build of the same `.config` and release took.
    pub expected: Option<u64>,
    /// Time since the compile stage began.
    pub elapsed: Duration,
}

impl CompileProgress {
    /// Steps so far the estimate trusts, at least: fewer, and the first steps' pace
    /// says little about the rest.
    const MIN_STEPS_FOR_ESTIMATE: u64 = 100;

    /// Time left at the pace so far, when the expected count is known and a fifth of
    /// it is done: the first steps (host tools, generated headers, small files) run
    /// several times faster than the average (measured on the generic flavour: 325 of
    /// 4652 steps in 38 s of a 30-minute compile). Linking (vmlinux, BTF) is slower
    /// per step than compiling, so near the end it is a lower bound, not a promise.
    pub fn remaining(&self) -> Option<Duration> {
        let m = self.expected?;
        let trusted = Self::MIN_STEPS_FOR_ESTIMATE.max(m / 5);
        if self.steps < trusted || self.steps >= m {
            return None;
        }
        Some(
            self.elapsed
                .mul_f64((m - self.steps) as f64 / self.steps as f64),
        )
    }
}

/// `N/M steps (P%), about T left` when the expected count is known, else `N steps`.
/// The previous build of this config may have taken fewer steps, so the percentage
/// stops at 99 rather than claim the end.
impl std::fmt::Display for CompileProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.expected {
            Some(m) if m > 0 => {
                let pct = (self.steps * 100 / m).min(99);
                write!(f, "{}/{m} steps ({pct}%)", self.steps)?;
                match self.remaining() {
                    Some(left) if left >= Duration::from_secs(90) => {
                        write!(f, ", about {} min left", (left.as_secs() + 30) / 60)
                    }
                    Some(left) => write!(f, ", about {} s left", left.as_secs()),
                    None => Ok(()),
                }
            }
            _ => write!(f, "{} steps", self.steps),
        }
    }
}

/// Receives a build's progress. Every method has an empty default.
pub trait BuildReporter {
    /// A stage begins.
    fn stage_started(&mut self, _stage: Stage, _detail: &str) {}
    /// A stage ended successfully after `took`.
    fn stage_finished(&mut self, _stage: Stage, _took: Duration) {}
    /// srcpin's fetch progress (during [`Stage::Pin`] and [`Stage::Source`]).
    fn fetch(&mut self, _event: &FetchEvent<'_>) {}
    /// Compile progress, about every 25 steps.
    fn compile(&mut self, _progress: CompileProgress) {}
    /// A gate finding (also returned with the build's outcome).
    fn finding(&mut self, _finding: &Finding) {}
    /// The toolchain was compared with an expected fingerprint; empty = identical.
    fn toolchain_compared(&mut self, _diffs: &[FingerprintDiff]) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReport;

impl BuildReporter for NoReport {}

/// Lets a [`BuildReporter`] receive srcpin's events.
pub(crate) struct FetchToReporter<'a>(pub &'a mut dyn BuildReporter);

impl srcpin::FetchProgress for FetchToReporter<'_> {
    fn event(&mut self, event: &FetchEvent<'_>) {
        self.0.fetch(event);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::CompileProgress;

    fn progress(steps: u64, expected: Option<u64>, secs: u64) -> CompileProgress {
        CompileProgress {
            steps,
            expected,
            elapsed: Duration::from_secs(secs),
        }
    }

    #[test]
    fn compile_progress_shows_a_fraction_only_when_measured_and_never_100() {
        let p = |steps, expected| progress(steps, expected, 1).to_string();
        assert_eq!(p(5, None), "5 steps");
        assert_eq!(p(5, Some(0)), "5 steps");
        assert_eq!(p(5, Some(10)), "5/10 steps (50%)");
        assert_eq!(p(12, Some(10)), "12/10 steps (99%)");
    }

    #[test]
    fn the_estimate_extrapolates_the_pace_so_far_once_it_has_enough_steps() {
        assert_eq!(progress(99, Some(1000), 60).remaining(), None);
        assert_eq!(progress(199, Some(1000), 60).remaining(), None);
        assert_eq!(progress(1000, Some(1000), 60).remaining(), None);
        assert_eq!(progress(100, None, 60).remaining(), None);
        // 250 of 1000 steps in 5 min: 750 more at that pace is 15 min.
        let p = progress(250, Some(1000), 300);
        assert_eq!(p.remaining(), Some(Duration::from_secs(900)));
        assert_eq!(p.to_string(), "250/1000 steps (25%), about 15 min left");
        assert_eq!(
            progress(900, Some(1000), 450).to_string(),
            "900/1000 steps (90%), about 50 s left"
        );
    }
}
