//! What a command line shows of a build, as lines: this module decides and formats,
//! the caller only writes them (a spinner or plain stderr lines are a [`Terminal`]).
//!
//! ```
//! use samekernel::console::{ProgressLines, Terminal};
//! use samekernel::{BuildReporter, Stage};
//!
//! #[derive(Default)]
//! struct Log(Vec<String>);
//! impl Terminal for Log {
//!     fn live(&self) -> bool { false }
//!     fn line(&mut self, text: &str) { self.0.push(text.to_owned()) }
//!     fn status(&mut self, _: &str) {}
//!     fn fetch_done(&mut self) {}
//! }
//! impl srcpin::FetchProgress for Log {
//!     fn event(&mut self, _: &srcpin::FetchEvent<'_>) {}
//! }
//! let mut progress = ProgressLines::new(Log::default(), false);
//! progress.stage_started(Stage::Compile, "");
//! assert_eq!(progress.terminal().0, ["[   0s] compile"]);
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kbuild_env::FingerprintDiff;
use serde::Serialize;
use srcpin::FetchEvent;

use crate::stage::config::ConfigError;
use crate::stage::requested::ConfigChange;
use crate::{BuildError, BuildOutcome, BuildReporter, CompileProgress, Finding, Stage};

/// Where [`ProgressLines`] writes: the caller's terminal or log, which also shows
/// srcpin's fetch progress (a download bar, or its lines).
pub trait Terminal: srcpin::FetchProgress {
    /// Whether a live status line (a spinner) shows the stage; plain logs get
    /// time-stamped lines instead.
    fn live(&self) -> bool;
    /// A line that stays visible (warnings, results).
    fn line(&mut self, text: &str);
    /// Replaces the live status line.
    fn status(&mut self, text: &str);
    /// Ends a download bar, if one is drawn.
    fn fetch_done(&mut self);
}

/// A [`BuildReporter`] deciding what a user sees: stage lines (time-stamped in logs),
/// slow stages' durations, a compile line a minute in logs, gate findings and the
/// toolchain comparison. With `quiet` only findings and the comparison show.
pub struct ProgressLines<T: Terminal> {
    term: T,
    quiet: bool,
    started: Instant,
    last_line: Instant,
    stage: String,
}

/// A stage that took this long gets a "took" line in logs.
const SLOW_STAGE: Duration = Duration::from_secs(10);
/// Logs get a compile line this often, so a long compile is not silent.
const COMPILE_LINE_EVERY: Duration = Duration::from_secs(60);

impl<T: Terminal> ProgressLines<T> {
    /// Starts the clock.
    pub fn new(term: T, quiet: bool) -> Self {
        ProgressLines {
            term,
            quiet,
            started: Instant::now(),
            last_line: Instant::now(),
            stage: String::new(),
        }
    }

    /// The terminal (to end its bars).
    pub fn terminal(&mut self) -> &mut T {
        &mut self.term
    }

    /// Whether only errors, findings and warnings show.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Writes `lines` unless quiet.
    pub fn notes(&mut self, lines: &[String]) {
        if !self.quiet {
            lines.iter().for_each(|l| self.term.line(l));
        }
    }

    fn stamped(&mut self, text: &str) {
        let line = format!("[{:>4}s] {text}", self.started.elapsed().as_secs());
        self.term.line(&line);
    }
}

impl<T: Terminal> BuildReporter for ProgressLines<T> {
    fn stage_started(&mut self, stage: Stage, detail: &str) {
        self.stage = format!("{} {detail}", stage.name()).trim_end().to_owned();
        let stage = self.stage.clone();
        match (self.term.live(), self.quiet) {
            (true, _) => self.term.status(&stage),
            (false, false) => self.stamped(&stage),
            (false, true) => {}
        }
    }

    fn stage_finished(&mut self, stage: Stage, took: Duration) {
        if stage == Stage::Pin || stage == Stage::Source {
            self.term.fetch_done();
        }
        if !self.term.live() && !self.quiet && took >= SLOW_STAGE {
            self.stamped(&format!("{} took {} s", stage.name(), took.as_secs()));
        }
    }

    fn fetch(&mut self, event: &FetchEvent<'_>) {
        if !self.quiet {
            self.term.event(event);
        }
    }

    fn compile(&mut self, p: CompileProgress) {
        let text = format!("{}: {p}", self.stage);
        if self.term.live() {
            self.term.status(&text);
        } else if !self.quiet && self.last_line.elapsed() >= COMPILE_LINE_EVERY {
            self.last_line = Instant::now();
            self.stamped(&text);
        }
    }

    fn finding(&mut self, finding: &Finding) {
        self.term.line(&format!("kernel-deb: {finding}"));
    }

    fn toolchain_compared(&mut self, diffs: &[FingerprintDiff]) {
        toolchain_lines(diffs)
            .iter()
            .for_each(|l| self.term.line(l));
    }
}

/// One line per toolchain difference, or one saying it is identical.
pub fn toolchain_lines(diffs: &[FingerprintDiff]) -> Vec<String> {
    if diffs.is_empty() {
        return vec!["kernel-deb: toolchain identical to the expected fingerprint".into()];
    }
    // FingerprintDiff's own display: `package gcc-12: A here, B there (effect: why)`,
    // where "there" is the fingerprint the build expected.
    diffs
        .iter()
        .map(|d| format!("kernel-deb: toolchain differs: {d}"))
        .collect()
}

/// What the flavour, if any, changes in its base config: a heading, then a line each.
pub fn flavour_change_lines(flavour: Option<&crate::FlavourConfig>) -> Vec<String> {
    let Some(flavour) = flavour else {
        return Vec::new();
    };
    let heading = format!(
        "kernel-deb: flavour {}: samekernel changes {} option(s) of the base config:",
        flavour.flavour,
        flavour.changes.len()
    );
    listed(heading, &flavour.changes)
}

/// Every requested option kbuild dropped or changed: a heading, then a line each.
pub fn config_change_lines(changes: &[ConfigChange]) -> Vec<String> {
    let heading = format!(
        "kernel-deb: kbuild resolved {} requested option(s) differently:",
        changes.len()
    );
    listed(heading, changes)
}

fn listed<I: std::fmt::Display>(heading: String, items: &[I]) -> Vec<String> {
    if items.is_empty() {
        return Vec::new();
    }
    let lines = items.iter().map(|i| format!("  {i}"));
    std::iter::once(heading).chain(lines).collect()
}

/// The error with the command-line spelling of its way out, where there is one.
pub fn with_remedy(e: &BuildError) -> String {
    match e {
        BuildError::Gate(_) => format!(
            "{e} (hazards: --allow-hazards; hardening rules: --harden-policy or --allow-weaker)"
        ),
        BuildError::Config(ConfigError::NoDebugInfo { .. }) => format!("--with-dbg: {e}"),
        BuildError::Config(ConfigError::Lost { .. }) => format!("{e} SYM"),
        _ => e.to_string(),
    }
}

/// A finished build's stdout: `SHA256  PATH` for each .deb, then the build record.
pub fn outcome_lines(outcome: &BuildOutcome) -> Vec<String> {
    let record = &outcome.record;
    let line = |sha: &str, file: &str| format!("{sha}  {}", outcome.out.join(file).display());
    let debs = record.debs.iter().map(|d| line(&d.sha256, &d.file_name));
    debs.chain([line(&record.sha256(), "BUILD-RECORD")])
        .collect()
}

/// A finished build's last stderr lines: the hardening summary, then the time it took.
pub fn done_lines(outcome: &BuildOutcome, took: Duration) -> Vec<String> {
    let hardening = outcome.record.hardening.iter().map(|h| h.to_string());
    let built = format!(
        "built {} in {:.0} s",
        outcome.kernel_release,
        took.as_secs_f64()
    );
    hardening.chain([built]).collect()
}

/// `--config-only`'s result: the resolved config copied to `OUT/config`.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigOnly {
    /// `OUT/config`.
    pub config: PathBuf,
    /// Its sha256.
    pub config_sha256: String,
    /// What kbuild resolved differently from the request.
    pub changes: Vec<ConfigChange>,
}

impl ConfigOnly {
    /// Copies the resolved config of `configured` to `out/config` (creating `out`).
    pub fn write(configured: &crate::Configured, out: &Path) -> Result<ConfigOnly, BuildError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| BuildError::Io { path, source }
        };
        std::fs::create_dir_all(out).map_err(io(out))?;
        let config = out.join("config");
        let resolved = &configured.resolved;
        std::fs::copy(&resolved.path, &config).map_err(io(&config))?;
        Ok(ConfigOnly {
            config,
            config_sha256: resolved.sha256(),
            changes: resolved.changes.clone(),
        })
    }

    /// `SHA256  OUT/config`.
    pub fn line(&self) -> String {
        format!("{}  {}", self.config_sha256, self.config.display())
    }
}

/// An error and its causes on one line, joined by ": ", leaving out a cause whose text
/// the line already holds: many errors quote their cause, and printing it again gave
/// "X: X: …".
pub fn error_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = String::new();
    for cause in std::iter::successors(Some(err), |e| e.source()) {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests;
