//! Terminal output shared by commands: colour decision, diagnostics, error
//! messages and their exit codes, API statistics.

use super::{EXIT_ERROR, EXIT_SECURITY};
use crate::cloud::stats::ApiStats;
use crate::config::Loaded;
use crate::ops::OpsError;
use crate::plan::text::Style;
use std::io::IsTerminal;
use std::time::Duration;

/// Output settings for one run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Output {
    pub style: Style,
    pub err_style: Style,
    pub verbose: u8,
    /// gantry may ask on this terminal (stdin is one, and not --input=false).
    pub interactive: bool,
}

impl Output {
    /// Colour only on a TTY, never with NO_COLOR or --no-color.
    pub(super) fn new(no_color: bool, verbose: u8, input: bool) -> Self {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Output {
            style: Style { color: allowed && std::io::stdout().is_terminal() },
            err_style: Style { color: allowed && std::io::stderr().is_terminal() },
            verbose,
            interactive: input && std::io::stdin().is_terminal(),
        }
    }

    /// Prints all diagnostics of a load to stderr.
    pub(super) fn diagnostics(&self, loaded: &Loaded) {
        if !loaded.diags.is_empty() {
            crate::err!("{}", loaded.diags.render(&loaded.sources, self.err_style.color));
        }
    }

    /// Prints an operation error with what to do, returning the exit code.
    pub(super) fn error(&self, e: &OpsError) -> i32 {
        let label = self.err_style.red("Error:");
        match e {
            OpsError::Config { errors, security_only } => {
                if *security_only {
                    crate::errln!("{label} the plan is refused by {errors} security finding(s) (see above); nothing was read or changed.");
                } else {
                    crate::errln!("{label} {errors} problem(s) in the stack files (see above); nothing was read or changed.");
                }
            }
            OpsError::Broadening => {
                crate::errln!("{label} this plan widens who may assume a role or what it may do (see the Broadening block).");
                crate::errln!("  review it, then apply with --allow-broadening (in CI), or answer the prompt on a terminal; nothing was changed.");
            }
            OpsError::Provider(p) => {
                crate::errln!("{label} {p}");
                if let Some(h) = p.hint() {
                    crate::errln!("  {h}");
                }
            }
            OpsError::Refused(errors) | OpsError::Security(errors) => {
                for pe in errors {
                    crate::errln!("{label} {}: {}", pe.address, pe.message);
                    for h in &pe.notes {
                        crate::errln!("  {h}");
                    }
                }
                crate::errln!("No plan was made and nothing was changed.");
            }
            OpsError::Stale(addrs) => {
                crate::errln!("{label} the saved plan is stale: live state changed since it was made, for:");
                for a in addrs {
                    crate::errln!("  - {a}");
                }
                crate::errln!("Nothing was changed. Run `gantry plan` again, review, and apply the new plan.");
            }
            OpsError::Mismatch(what) => {
                crate::errln!("{label} the saved plan does not match the plan the stack's files and live state give now:");
                for w in what {
                    crate::errln!("  - {w}");
                }
                crate::errln!(
                    "Nothing was changed. The files or the plan file changed since it was made: run `gantry plan` again, review, and apply the new plan."
                );
            }
            other => crate::errln!("{label} {other}"),
        }
        match e {
            OpsError::Config { security_only: true, .. } | OpsError::Broadening | OpsError::Security(_) => EXIT_SECURITY,
            _ => EXIT_ERROR,
        }
    }

    /// Prints API call counts and wall time (`--stats` or `-v`).
    pub(super) fn stats(&self, stats: &ApiStats, wall: Duration, shown: bool) {
        if !shown && self.verbose == 0 {
            return;
        }
        let per = stats.per_service();
        let list: Vec<String> = per.iter().map(|(s, n)| format!("{s}={n}")).collect();
        crate::errln!("API calls: {} total ({}); wall time {:.2}s", stats.total(), list.join(", "), wall.as_secs_f64());
        if self.verbose > 0 {
            for ((svc, op), n) in stats.per_operation() {
                crate::errln!("  {svc} {op}: {n}");
            }
        }
    }
}
