//! The apply workflow (`apply` and `destroy`): hold the stack's lock from
//! planning through applying, make the plan (or make a saved one again),
//! gate it (broadening, approval), apply it, and stop cleanly on SIGINT or
//! SIGTERM. A front end answers through [`Prompt`] and never holds the lock,
//! handles signals or skips a gate itself.

use super::{apply_plan, locking, make_plan, ApplyGiven, Backend, Connect, OpsError, PlanRequest, SavedPlan};
use crate::config::{LoadOptions, Loaded};
use crate::engine::apply::{ApplyReport, Cancel, Progress};
use crate::plan::Plan;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What to apply and how.
pub struct ApplyRequest {
    /// A stack directory, or a saved plan file.
    pub target: PathBuf,
    /// Apply without asking (`--auto-approve`).
    pub auto_approve: bool,
    /// Changes applied at once (`--parallelism`).
    pub parallelism: usize,
    /// `--target` addresses.
    pub targets: Vec<String>,
    /// `--adopt`.
    pub adopt: bool,
    /// `--allow-broadening`: apply a plan that widens access without asking.
    pub allow_broadening: bool,
    /// Destroy everything the stack owns.
    pub destroy: bool,
    /// `--all-kinds`.
    pub all_kinds: bool,
    /// `--allow-delete` addresses.
    pub allow_delete: BTreeSet<String>,
    /// Variables, workspace and file access.
    pub load: LoadOptions,
}

/// What the workflow shows and asks. The questions are async: while one
/// waits for an answer, a signal still stops the apply (and releases the
/// lock) instead of waiting for the answer first.
#[async_trait::async_trait]
pub trait Prompt: Send + Sync {
    /// The stack's diagnostics, once its files are loaded.
    fn loaded(&self, loaded: &Loaded);
    /// The plan, before any question about it.
    fn planned(&self, plan: &Plan);
    /// May this plan widen access? Err when no one can be asked.
    async fn allow_broadening(&self) -> Result<bool, String>;
    /// Apply this plan? Err (why) when no one can be asked.
    async fn approve(&self, plan: &Plan) -> Result<bool, String>;
    /// A line about a signal received.
    fn notice(&self, line: &str);
    /// Where the changes report their progress (asked once, as they start).
    fn progress(&self) -> Arc<dyn Progress>;
}

/// How an apply ended, when it was not an error.
#[derive(Debug)]
pub enum Applied {
    /// Nothing to change.
    NoChanges(Plan),
    /// The changes ran; the report says which were done.
    Ran {
        /// The plan applied.
        plan: Plan,
        /// How each change ended.
        report: ApplyReport,
    },
    /// The person asked said no; nothing was changed.
    Declined,
    /// The person asked did not allow the broadening; nothing was changed.
    BroadeningDeclined,
}

/// Runs the workflow.
pub async fn apply(req: &ApplyRequest, connect: &dyn Connect, prompt: &dyn Prompt) -> Result<Applied, OpsError> {
    let saved = if req.target.is_file() {
        // The plan's targets are applied as they were reviewed.
        if !req.targets.is_empty() {
            return Err(OpsError::Usage("a saved plan is applied with the targets it was made with: --target belongs to `gantry plan`".into()));
        }
        Some(SavedPlan::open(&req.target)?)
    } else {
        None
    };
    // Hold the lock from planning through applying so nothing changes in
    // between; it says what is applied (a saved plan by its hash).
    let (lock_dir, lock_backend, lock_region, operation) = match &saved {
        Some(s) => (s.plan.dir.clone(), s.plan.backend.clone(), s.plan.region.clone(), format!("apply of plan {}", s.hash)),
        None => {
            let (b, r) = locking::stack_backend(&req.target);
            (req.target.clone(), b, r, if req.destroy { "destroy".to_string() } else { "apply".to_string() })
        }
    };
    let held = locking::acquire(&lock_dir, lock_backend.as_ref(), &lock_region, &operation, connect.stats())
        .await
        .map_err(|e| OpsError::Locked { error: e, dir: lock_dir.clone() })?;
    // Signals: before the first change starts (planning, the prompt) they
    // stop at once; while changes run, the first lets in-flight changes
    // finish and starts no more, a second stops waiting. The lock is
    // released either way.
    let cancel = Cancel::new();
    let applying = AtomicBool::new(false);
    let result = tokio::select! {
        r = locked(req, connect, prompt, saved, &cancel, &applying) => r,
        started = signals(&cancel, &applying, prompt) => Err(OpsError::Interrupted { started }),
    };
    held.release().await;
    result
}

/// Waits for the signal that ends the apply: whether changes had started.
async fn signals(cancel: &Cancel, applying: &AtomicBool, prompt: &dyn Prompt) -> bool {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return std::future::pending().await;
    };
    let mut seen = 0;
    loop {
        let name = tokio::select! {
            _ = int.recv() => "interrupt",
            _ = term.recv() => "termination signal",
        };
        seen += 1;
        let started = applying.load(Ordering::SeqCst);
        if started && seen == 1 {
            prompt.notice(&format!("\n{name} received: no new changes will start; waiting for in-flight ones to finish (again to stop waiting)..."));
            cancel.cancel();
            continue;
        }
        if started {
            prompt.notice(&format!("\n{name} received again: stopped waiting. Changes already sent may still be running in the cloud; the lock is released, so run `gantry plan` to see where things stand."));
        } else {
            prompt.notice(&format!("\n{name} received before any change started: nothing was changed; the lock is released."));
        }
        return started;
    }
}

async fn locked(
    req: &ApplyRequest,
    connect: &dyn Connect,
    prompt: &dyn Prompt,
    saved: Option<SavedPlan>,
    cancel: &Cancel,
    applying: &AtomicBool,
) -> Result<Applied, OpsError> {
    let from_file = saved.is_some();
    let (loaded, result) = match saved {
        Some(saved) => {
            let given = ApplyGiven { destroy: req.destroy, adopt: req.adopt, allow_delete: req.allow_delete.clone(), load: req.load.clone() };
            saved.remake(&given, connect).await
        }
        None => {
            let plan_req = PlanRequest {
                dir: req.target.clone(),
                load: req.load.clone(),
                targets: req.targets.clone(),
                destroy: req.destroy,
                adopt_all: req.adopt,
                change_sets: false,
                all_kinds: req.all_kinds,
                allow_delete: req.allow_delete.clone(),
            };
            let (loaded, result) = make_plan(&plan_req, connect).await;
            (Some(loaded), result)
        }
    };
    if let Some(loaded) = &loaded {
        prompt.loaded(loaded);
    }
    let (plan, backend): (Plan, Arc<dyn Backend>) = result?;
    prompt.planned(&plan);
    if plan.is_empty() {
        return Ok(Applied::NoChanges(plan));
    }
    if !plan.broadening.is_empty() && !req.allow_broadening {
        match prompt.allow_broadening().await {
            Ok(true) => {}
            Ok(false) => return Ok(Applied::BroadeningDeclined),
            Err(_) => return Err(OpsError::Broadening),
        }
    }
    // A saved plan was reviewed when it was made; a directory apply asks now.
    if !from_file && !req.auto_approve && !prompt.approve(&plan).await.map_err(OpsError::Usage)? {
        return Ok(Applied::Declined);
    }
    applying.store(true, Ordering::SeqCst);
    let report = apply_plan(&plan, &backend, req.parallelism, prompt.progress(), cancel.clone()).await?;
    Ok(Applied::Ran { plan, report })
}
