//! The plain-text report `kernel-deb harden-report` prints: one block per shown rule,
//! a table of totals per group, the Kconfig culprits, and a one-line verdict.
//!
//! ```no_run
//! # fn demo(report: &harden::Report) {
//! print!("{}", report.render_text(&[], harden::render::Show::Fail));
//! # }
//! ```

use std::fmt::Write;

use crate::{Refusal, Report, Status};

/// Which results the text lists (totals and the verdict are always shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Only failures.
    Fail,
    /// Only passes.
    Ok,
    /// Everything, including not applicable.
    All,
}

/// `fail`, `ok` or `all` (as `--show` takes them).
impl std::str::FromStr for Show {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Show, String> {
        match s {
            "fail" => Ok(Show::Fail),
            "ok" => Ok(Show::Ok),
            "all" => Ok(Show::All),
            _ => Err(format!("{s:?}: expected fail, ok or all")),
        }
    }
}

impl Show {
    fn shows(self, status: Status) -> bool {
        match self {
            Show::Fail => status == Status::Fail,
            Show::Ok => status == Status::Ok,
            Show::All => true,
        }
    }
}

impl Report {
    /// The report as text; every line ends with a newline.
    pub fn render_text(&self, refusals: &[Refusal], show: Show) -> String {
        let mut out = String::new();
        for r in self.results.iter().filter(|r| show.shows(r.status)) {
            let (tag, detail) = match r.status {
                Status::Ok => ("OK  ", r.found.clone()),
                Status::Fail => ("FAIL", format!("{} (want {})", r.found, r.expected)),
                Status::NotApplicable => ("N/A ", format!("not applicable: {}", r.reason)),
            };
            let req = if r.required { "*" } else { " " };
            let _ = writeln!(
                out,
                "{tag}{req} {:<45} {detail}\n        why: {}",
                r.id, r.why
            );
        }
        let _ = writeln!(
            out,
            "\n{:<20} {:>5} {:>5} {:>5}",
            "group", "ok", "fail", "n/a"
        );
        for (g, t) in &self.groups {
            let _ = writeln!(
                out,
                "{:<20} {:>5} {:>5} {:>5}",
                g.name(),
                t.ok,
                t.fail,
                t.not_applicable
            );
        }
        let t = &self.totals;
        let _ = writeln!(
            out,
            "{:<20} {:>5} {:>5} {:>5}",
            "total", t.ok, t.fail, t.not_applicable
        );
        for r in refusals {
            let _ = writeln!(out, "REFUSED {}: {}", r.rule, r.culprit);
        }
        let verdict = if self.passes() {
            "every required rule holds"
        } else {
            "required rules FAIL (marked *)"
        };
        let _ = writeln!(
            out,
            "toolchain: {} {}; {} required failure(s): {verdict}",
            self.toolchain.arch.name(),
            self.toolchain.describe(),
            self.required_fail
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_parses_its_three_names_only() {
        assert_eq!("fail".parse::<Show>(), Ok(Show::Fail));
        assert_eq!("ok".parse::<Show>(), Ok(Show::Ok));
        assert_eq!("all".parse::<Show>(), Ok(Show::All));
        assert!(
            "Fail"
                .parse::<Show>()
                .unwrap_err()
                .contains("fail, ok or all")
        );
    }
    use crate::{Arch, Inputs, KernelConfig, Policy, Toolchain, evaluate};

    #[test]
    fn text_lists_only_the_chosen_statuses_and_ends_with_the_verdict() {
        let config = KernelConfig::parse("CONFIG_X86_64=y\n", "t.config").unwrap();
        let tc = Toolchain::debian12_gcc(Arch::X86_64, true);
        let report = evaluate(&Inputs::config(&config), &tc, &Policy::default());
        let fails = report.render_text(&[], Show::Fail);
        assert!(fails.contains("FAIL*"), "{fails}");
        assert!(!fails.contains("\nOK  "), "{fails}");
        let last = fails.lines().last().unwrap();
        assert!(last.ends_with("required rules FAIL (marked *)"), "{last}");
        let all = report.render_text(&[], Show::All);
        assert!(all.lines().count() > fails.lines().count());
    }
}
