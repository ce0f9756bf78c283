//! Progress on stderr: on a terminal a spinner for a build's stage and a bar per
//! download, plain lines otherwise. What to show is decided by the libraries
//! (`samekernel::console`, srcpin's `FetchEvent::message`); this only draws it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use samekernel::console::Terminal;
use srcpin::{FetchEvent, FetchProgress};

#[derive(Default)]
pub(crate) struct Term {
    tty: bool,
    spinner: Option<ProgressBar>,
    download: Option<ProgressBar>,
}

impl Term {
    /// Download bars, and with `spinner` one for a build's stages (on a terminal).
    pub(crate) fn new(spinner: bool) -> Term {
        let mut term = Term::default();
        term.tty = std::io::stderr().is_terminal();
        term.spinner = (spinner && term.tty).then(|| {
            let b = ProgressBar::new_spinner();
            let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}");
            b.set_style(style.expect("static template"));
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        term
    }

    /// Writes each of `lines` (above the bars).
    pub(crate) fn lines(&mut self, lines: &[String]) {
        lines.iter().for_each(|l| self.line(l));
    }

    /// Clears every bar.
    pub(crate) fn finish(&mut self) {
        self.fetch_done();
        self.spinner
            .take()
            .iter()
            .for_each(ProgressBar::finish_and_clear);
    }
}

impl Terminal for Term {
    fn live(&self) -> bool {
        self.spinner.is_some()
    }
    fn line(&mut self, text: &str) {
        let text = &super::shown(text);
        match self.download.as_ref().or(self.spinner.as_ref()) {
            Some(b) => b.println(text),
            None => eprintln!("{text}"),
        }
    }
    fn status(&mut self, text: &str) {
        let text = super::shown(text);
        self.spinner
            .iter()
            .for_each(|b| b.set_message(text.clone()));
    }
    fn fetch_done(&mut self) {
        self.download
            .take()
            .iter()
            .for_each(ProgressBar::finish_and_clear);
    }
}

impl FetchProgress for Term {
    fn event(&mut self, event: &FetchEvent<'_>) {
        if event.ends_download() {
            self.fetch_done();
        }
        match event {
            FetchEvent::Start { what, total, .. } if self.tty && *total > 0 => {
                let bar = ProgressBar::new(*total);
                let template = "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}";
                let style = ProgressStyle::with_template(template).expect("static template");
                bar.set_style(style.progress_chars("=> "));
                bar.set_message(super::shown(what));
                self.download = Some(bar);
            }
            FetchEvent::Progress { so_far, .. } => {
                self.download.iter().for_each(|b| b.set_position(*so_far));
            }
            _ => {}
        }
        if let Some(line) = event.message() {
            self.line(&line);
        }
    }
}
