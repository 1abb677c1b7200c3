//! `gantry apply` and `gantry destroy`: plan (or load a saved plan), confirm,
//! apply with progress, and report exactly what was and was not done.

use super::output::Output;
use super::progress::{Bars, Plain};
use super::validate::load_options;
use super::{VarArgs, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK};
use crate::engine::apply::{ApplyReport, Cancel, Outcome, Progress};
use crate::ops::{apply_plan, locking, make_plan, ApplyGiven, Backend, Connect, OpsError, PlanRequest, SavedPlan};
use crate::plan::{text, Plan};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub struct ApplyArgs {
    pub target: PathBuf,
    pub auto_approve: bool,
    pub parallelism: usize,
    pub targets: Vec<String>,
    pub adopt: bool,
    pub allow_broadening: bool,
    pub stats: bool,
    pub vars: VarArgs,
    pub destroy: bool,
    pub all_kinds: bool,
    pub allow_delete: Vec<String>,
}

pub async fn run(out: &Output, a: ApplyArgs, connect: &dyn Connect) -> i32 {
    let started = Instant::now();
    let code = run_inner(out, &a, connect).await;
    out.stats(&connect.stats(), started.elapsed(), a.stats);
    code
}

async fn run_inner(out: &Output, a: &ApplyArgs, connect: &dyn Connect) -> i32 {
    let saved = if a.target.is_file() {
        // The plan's targets are applied as they were reviewed.
        if !a.targets.is_empty() {
            return out.error(&OpsError::Usage("a saved plan is applied with the targets it was made with: --target belongs to `gantry plan`".into()));
        }
        match SavedPlan::open(&a.target) {
            Ok(s) => Some(s),
            Err(e) => return out.error(&e),
        }
    } else {
        None
    };
    // Hold the lock from planning through applying so nothing changes in between.
    // The lock says what is being applied: a saved plan is named by its hash.
    let (lock_dir, lock_backend, lock_region, operation) = match &saved {
        Some(s) => (s.plan.dir.clone(), s.plan.backend.clone(), s.plan.region.clone(), format!("apply of plan {}", s.hash)),
        None => {
            let (b, r) = locking::stack_backend(&a.target);
            (a.target.clone(), b, r, if a.destroy { "destroy".to_string() } else { "apply".to_string() })
        }
    };
    let held = match locking::acquire(&lock_dir, lock_backend.as_ref(), &lock_region, &operation, connect.stats()).await {
        Ok(g) => g,
        Err(e) => {
            let code = out.error(&e.into());
            crate::errln!("  if no other gantry is running, remove the lock with: gantry force-unlock <LOCK_ID> {}", lock_dir.display());
            return code;
        }
    };
    // From here on SIGINT and SIGTERM are handled: before the first change
    // starts (planning, the prompt) they release the lock and stop; while
    // changes run, the first one lets in-flight changes finish and starts no
    // more, a second one stops waiting. The lock is released either way.
    let held = Arc::new(tokio::sync::Mutex::new(Some(held)));
    let cancel = Cancel::new();
    let applying = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = tokio::spawn(watch_signals(held.clone(), cancel.clone(), applying.clone()));
    let code = locked(out, a, connect, saved, cancel, applying).await;
    watcher.abort();
    if let Some(h) = held.lock().await.take() {
        h.release().await;
    }
    code
}

async fn watch_signals(held: Arc<tokio::sync::Mutex<Option<locking::HeldLock>>>, cancel: Cancel, applying: Arc<std::sync::atomic::AtomicBool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else { return };
    let mut seen = 0;
    loop {
        let name = tokio::select! {
            _ = int.recv() => "interrupt",
            _ = term.recv() => "termination signal",
        };
        seen += 1;
        let started = applying.load(std::sync::atomic::Ordering::SeqCst);
        if started && seen == 1 {
            crate::errln!("\n{name} received: no new changes will start; waiting for in-flight ones to finish (again to stop waiting)...");
            cancel.cancel();
            continue;
        }
        if started {
            crate::errln!("\n{name} received again: stopped waiting. Changes already sent may still be running in the cloud; the lock is released, so run `gantry plan` to see where things stand.");
        } else {
            crate::errln!("\n{name} received before any change started: nothing was changed; the lock is released.");
        }
        if let Some(h) = held.lock().await.take() {
            h.release().await;
        }
        std::process::exit(EXIT_INTERRUPTED);
    }
}

async fn locked(
    out: &Output,
    a: &ApplyArgs,
    connect: &dyn Connect,
    saved: Option<SavedPlan>,
    cancel: Cancel,
    applying: Arc<std::sync::atomic::AtomicBool>,
) -> i32 {
    let from_file = saved.is_some();
    let (plan, backend): (Plan, Arc<dyn Backend>) = if let Some(saved) = saved {
        let given = ApplyGiven { destroy: a.destroy, adopt: a.adopt, allow_delete: a.allow_delete.iter().cloned().collect(), load: load_options(&a.vars) };
        let (loaded, result) = saved.remake(&given, connect).await;
        if let Some(loaded) = &loaded {
            out.diagnostics(loaded);
        }
        match result {
            Ok((plan, backend)) => {
                crate::out!("{}", text::render(&plan, out.style));
                (plan, backend)
            }
            Err(e) => return out.error(&e),
        }
    } else {
        let req = PlanRequest {
            dir: a.target.clone(),
            load: load_options(&a.vars),
            targets: a.targets.clone(),
            destroy: a.destroy,
            adopt_all: a.adopt,
            change_sets: false,
            all_kinds: a.all_kinds,
            allow_delete: a.allow_delete.iter().cloned().collect(),
        };
        let (loaded, result) = make_plan(&req, connect).await;
        out.diagnostics(&loaded);
        match result {
            Ok((plan, backend)) => {
                crate::out!("{}", text::render(&plan, out.style));
                (plan, backend)
            }
            Err(e) => return out.error(&e),
        }
    };
    if plan.is_empty() {
        print_outputs(out, &plan);
        return EXIT_OK;
    }
    if !plan.broadening.is_empty() && !a.allow_broadening {
        match confirm_broadening(out) {
            Ok(true) => {}
            Ok(false) => {
                crate::outln!("\nBroadening not confirmed; nothing was changed.");
                return out.error(&OpsError::Broadening);
            }
            Err(()) => return out.error(&OpsError::Broadening),
        }
    }
    // A saved plan was reviewed when it was made; a directory apply asks now.
    if !from_file && !a.auto_approve {
        match confirm(out, &plan) {
            Ok(true) => {}
            Ok(false) => {
                crate::outln!("\nApply cancelled; nothing was changed.");
                return EXIT_ERROR;
            }
            Err(msg) => return out.error(&OpsError::Usage(msg)),
        }
    }
    crate::outln!();
    applying.store(true, std::sync::atomic::Ordering::SeqCst);
    let fancy = std::io::stdout().is_terminal() && std::env::var_os("CI").is_none();
    let progress: Arc<dyn Progress> = if fancy { Arc::new(Bars::new(out.style)) } else { Arc::new(Plain { style: out.style }) };
    let report = apply_plan(&plan, &backend, a.parallelism, progress, cancel).await;
    match report {
        Ok(r) => report_outcome(out, &plan, &r),
        Err(e) => out.error(&e),
    }
}

/// Asks for "yes" on a terminal; refuses when it may not ask.
fn confirm(out: &Output, plan: &Plan) -> Result<bool, String> {
    if !out.interactive {
        return Err(
            "gantry cannot ask for confirmation (stdin is not a terminal, or -input=false); review the plan and re-run with --auto-approve (or apply a saved plan file)"
                .into(),
        );
    }
    let what = if plan.destroy { "destroy these resources" } else { "perform these actions" };
    crate::out!("\n{}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", out.style.bold(&format!("Do you want to {what}?")));
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
    Ok(line.trim() == "yes")
}

/// On a terminal, asks separately for the broadening; elsewhere refuses.
fn confirm_broadening(out: &Output) -> Result<bool, ()> {
    if !out.interactive {
        return Err(());
    }
    crate::out!(
        "\n{}\n  Only 'yes' will be accepted.\n\n  Enter a value: ",
        out.style.bold(&out.style.yellow("This plan widens access (see Broadening above). Allow it?"))
    );
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|_| ())?;
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
