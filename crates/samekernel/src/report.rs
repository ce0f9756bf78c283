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
/// a fraction is only shown when it was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileProgress {
    /// Steps so far.
    pub steps: u64,
    /// Steps the previous build of the same `.config` and release took.
    pub expected: Option<u64>,
}

/// `N/M steps (P%)` when the previous build's count is known, else `N steps`. The
/// previous build of this config may have taken fewer steps, so the percentage stops
/// at 99 rather than claim the end.
impl std::fmt::Display for CompileProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.expected {
            Some(m) if m > 0 => {
                let pct = (self.steps * 100 / m).min(99);
                write!(f, "{}/{m} steps ({pct}%)", self.steps)
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
    use super::CompileProgress;

    #[test]
    fn compile_progress_shows_a_fraction_only_when_measured_and_never_100() {
        let p = |steps, expected| CompileProgress { steps, expected }.to_string();
        assert_eq!(p(5, None), "5 steps");
        assert_eq!(p(5, Some(0)), "5 steps");
        assert_eq!(p(5, Some(10)), "5/10 steps (50%)");
        assert_eq!(p(12, Some(10)), "12/10 steps (99%)");
    }
}
