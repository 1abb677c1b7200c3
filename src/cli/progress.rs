//! Apply progress: a spinner per resource on a terminal (indicatif), plain
//! timestamped lines otherwise (CI logs).

use crate::engine::apply::{Outcome, Progress};
use crate::plan::text::Style;
use crate::plan::{Action, Change};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

fn verb(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::Create => ("Creating", "Creation"),
        Action::Update => ("Modifying", "Modification"),
        Action::Replace => ("Replacing", "Replacement"),
        Action::Delete => ("Destroying", "Destruction"),
        Action::NoOp => ("Checking", "Check"),
    }
}

fn finished_line(c: &Change, o: &Outcome, took: Duration, style: Style) -> String {
    let (_, noun) = verb(c.action());
    match o {
        Outcome::Done => format!("{}: {noun} complete after {:.1}s", c.address, took.as_secs_f64()),
        Outcome::Failed(e) => style.red(&format!("{}: {noun} FAILED after {:.1}s: {e}", c.address, took.as_secs_f64())),
        Outcome::Skipped(r) => format!("{}: skipped ({r})", c.address),
        Outcome::NotStarted => format!("{}: not started", c.address),
    }
}

/// Plain lines, one per event.
pub(super) struct Plain {
    pub style: Style,
}

impl Progress for Plain {
    fn started(&self, c: &Change) {
        crate::outln!("{}: {}... ({} \"{}\")", c.address, verb(c.action()).0, c.kind, c.identity);
    }
    fn finished(&self, c: &Change, o: &Outcome, took: Duration) {
        crate::outln!("{}", finished_line(c, o, took, self.style));
    }
    fn note(&self, c: &Change, line: &str) {
        crate::outln!("{}: {line}", c.address);
    }
}

/// One spinner per in-flight resource.
pub(super) struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    style: Style,
}

impl Bars {
    pub(super) fn new(style: Style) -> Self {
        Bars { multi: MultiProgress::new(), bars: Mutex::new(HashMap::new()), style }
    }
}

impl Progress for Bars {
    fn started(&self, c: &Change) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| ProgressStyle::default_spinner()));
        bar.set_message(format!("{}: {}...", c.address, verb(c.action()).0));
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bars.lock().unwrap_or_else(|e| e.into_inner()).insert(c.address.clone(), bar);
    }
    fn finished(&self, c: &Change, o: &Outcome, took: Duration) {
        let bar = self.bars.lock().unwrap_or_else(|e| e.into_inner()).remove(&c.address);
        let line = finished_line(c, o, took, self.style);
        match bar {
            Some(b) => {
                b.finish_and_clear();
                let _ = self.multi.println(line);
            }
            None => crate::outln!("{line}"),
        }
    }
    fn note(&self, c: &Change, line: &str) {
        if let Some(b) = self.bars.lock().unwrap_or_else(|e| e.into_inner()).get(&c.address) {
            b.set_message(format!("{}: {line}", c.address));
        }
    }
}
