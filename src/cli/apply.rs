//! `gantry apply` and `gantry destroy` at a terminal: the workflow is
//! `ops::apply`; this shows what it reports, asks what it asks, and says
//! exactly what was and was not done.

use super::output::Output;
use super::progress::{Bars, Plain};
use super::validate::load_options;
use super::{PlanScope, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK};
use crate::config::Loaded;
use crate::engine::apply::{ApplyReport, Outcome, Progress};
use crate::ops::{apply, Applied, ApplyRequest, Connect, OpsError, Prompt};
use crate::plan::{text, Plan};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub(super) struct ApplyArgs {
    pub target: PathBuf,
    pub auto_approve: bool,
    pub parallelism: usize,
    pub adopt: bool,
    pub allow_broadening: bool,
    pub destroy: bool,
    pub scope: PlanScope,
}

pub(super) async fn run(out: &Output, a: ApplyArgs, connect: &dyn Connect) -> i32 {
    let started = Instant::now();
    let req = ApplyRequest {
        target: a.target,
        auto_approve: a.auto_approve,
        parallelism: a.parallelism,
        targets: a.scope.targets,
        adopt: a.adopt,
        allow_broadening: a.allow_broadening,
        destroy: a.destroy,
        all_kinds: a.scope.all_kinds,
        allow_delete: a.scope.allow_delete.into_iter().collect(),
        load: load_options(&a.scope.vars),
    };
    let code = match apply(&req, connect, &Terminal { out }).await {
        Ok(Applied::NoChanges(plan)) => {
            print_outputs(out, &plan);
            EXIT_OK
        }
        Ok(Applied::Ran { plan, report }) => report_outcome(out, &plan, &report),
        Ok(Applied::Declined) => {
            crate::outln!("\nApply cancelled; nothing was changed.");
            EXIT_ERROR
        }
        Ok(Applied::BroadeningDeclined) => {
            crate::outln!("\nBroadening not confirmed; nothing was changed.");
            out.error(&OpsError::Broadening)
        }
        // The notice was given as the signal came.
        Err(OpsError::Interrupted { .. }) => EXIT_INTERRUPTED,
        Err(e @ OpsError::Locked { .. }) => {
            let code = out.error(&e);
            if let OpsError::Locked { dir, .. } = &e {
                crate::errln!("  if no other gantry is running, remove the lock with: gantry force-unlock <LOCK_ID> {}", dir.display());
            }
            code
        }
        Err(e) => out.error(&e),
    };
    out.stats(&connect.stats(), started.elapsed(), a.scope.stats);
    code
}

/// The terminal's answers: the plan printed, "yes" read from stdin.
struct Terminal<'a> {
    out: &'a Output,
}

#[async_trait::async_trait]
impl Prompt for Terminal<'_> {
    fn loaded(&self, loaded: &Loaded) {
        self.out.diagnostics(loaded);
    }

    fn planned(&self, plan: &Plan) {
        crate::out!("{}", text::render(plan, self.out.style));
    }

    /// On a terminal, asks separately for the broadening; elsewhere refuses.
    async fn allow_broadening(&self) -> Result<bool, String> {
        if !self.out.interactive {
            return Err("cannot ask".into());
        }
        let question = self.out.style.bold(&self.out.style.yellow("This plan widens access (see Broadening above). Allow it?"));
        crate::out!("\n{question}\n  Only 'yes' will be accepted.\n\n  Enter a value: ");
        read_yes().await
    }

    /// Asks for "yes" on a terminal; refuses when it may not ask.
    async fn approve(&self, plan: &Plan) -> Result<bool, String> {
        if !self.out.interactive {
            return Err(
                "gantry cannot ask for confirmation (stdin is not a terminal, or -input=false); review the plan and re-run with --auto-approve (or apply a saved plan file)"
                    .into(),
            );
        }
        let what = if plan.destroy { "destroy these resources" } else { "perform these actions" };
        crate::out!("\n{}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", self.out.style.bold(&format!("Do you want to {what}?")));
        read_yes().await
    }

    fn notice(&self, line: &str) {
        crate::errln!("{line}");
    }

    /// Called as the changes start: a blank line after the plan (or the answer).
    fn progress(&self) -> Arc<dyn Progress> {
        crate::outln!();
        let fancy = std::io::stdout().is_terminal() && std::env::var_os("CI").is_none();
        if fancy {
            Arc::new(Bars::new(self.out.style))
        } else {
            Arc::new(Plain { style: self.out.style })
        }
    }
}

/// Reads the answer on a blocking thread, so the apply's signal handling
/// keeps running while the terminal waits (Ctrl-C at the prompt stops the
/// apply and releases the lock; it does not wait for Enter).
async fn read_yes() -> Result<bool, String> {
    let _ = std::io::stdout().flush();
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    });
    let line = read.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    Ok(line.trim() == "yes")
}

/// The `Outputs:` block, after an apply that succeeded (or had nothing to do).
fn print_outputs(out: &Output, plan: &Plan) {
    if !plan.outputs.is_empty() {
        crate::outln!("\n{}\n\n{}", out.style.green("Outputs:"), super::outputs::render(&plan.outputs).trim_end());
    }
}

fn report_outcome(out: &Output, plan: &Plan, r: &ApplyReport) -> i32 {
    let done = r.count(|o| *o == Outcome::Done);
    let failed = r.count(|o| matches!(o, Outcome::Failed(_)));
    let not_done = r.results.len() - done - failed;
    crate::outln!();
    if r.succeeded() {
        let s = plan.summary();
        crate::outln!(
            "{}",
            out.style.green(&out.style.bold(&format!("Apply complete! Resources: {} added, {} changed, {} destroyed.", s.add, s.change, s.destroy)))
        );
        print_outputs(out, plan);
        return EXIT_OK;
    }
    let head = if r.interrupted { "Apply interrupted." } else { "Apply failed." };
    crate::errln!("{} {done} change(s) done, {failed} failed, {not_done} not started.", out.err_style.red(head));
    for res in &r.results {
        let state = match &res.outcome {
            Outcome::Done => "done".to_string(),
            Outcome::Failed(e) => format!("FAILED: {e}"),
            Outcome::Skipped(why) => format!("not done: {why}"),
            Outcome::NotStarted => "not started".to_string(),
        };
        crate::errln!("  {} {} — {state}", res.address, res.action.describe());
    }
    crate::errln!("Run `gantry plan` to see exactly what remains.");
    EXIT_ERROR
}
