//! The apply walker: runs a plan's changes concurrently along their
//! dependencies, with bounded parallelism. On the first hard failure (or an
//! interrupt) it starts nothing new, lets in-flight work settle, and reports
//! exactly what was and was not done.

use crate::core::error::ProviderError;
use crate::core::{Action, Change, Op, Plan};
use crate::core::{Driver, Owner};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// What happened to one change.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Applied.
    Done,
    /// Failed, with the provider's words and a hint.
    Failed(String),
    /// Not started because something it depends on failed.
    Skipped(String),
    /// Not started because apply stopped (failure elsewhere or interrupt).
    NotStarted,
}

/// Per-change result.
#[derive(Debug, Clone)]
pub struct ChangeResult {
    /// The change's address.
    pub address: String,
    /// What it did.
    pub action: Action,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it ran.
    pub elapsed: Duration,
}

/// The whole apply's result.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// One per change, in plan order.
    pub results: Vec<ChangeResult>,
    /// Stopped by a signal.
    pub interrupted: bool,
}

impl ApplyReport {
    /// Every change was applied and nothing interrupted.
    pub fn succeeded(&self) -> bool {
        !self.interrupted && self.results.iter().all(|r| r.outcome == Outcome::Done)
    }
    /// How many changes ended as `f` says.
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }
}

/// Observer for progress display.
pub trait Progress: Send + Sync {
    /// A change began.
    fn started(&self, change: &Change);
    /// A change ended.
    fn finished(&self, change: &Change, outcome: &Outcome, elapsed: Duration);
    /// A progress line from inside a long operation (e.g. a stack event).
    fn note(&self, _change: &Change, _line: &str) {}
}

/// A cooperative stop signal (Ctrl-C).
#[derive(Debug, Default, Clone)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Cancel {
    /// A signal not yet given.
    pub fn new() -> Self {
        Cancel::default()
    }
    /// Gives the signal: apply starts no further change.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
    /// Whether the signal was given.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
    async fn cancelled(&self) {
        if self.is_cancelled() {
            return;
        }
        self.notify.notified().await;
    }
}

/// Runs one change against its driver.
async fn run_change(driver: Arc<dyn Driver>, change: Change, owner: Owner) -> Result<(), ProviderError> {
    match change.op {
        Op::Create { desired } => driver.create(&desired, &owner).await,
        Op::Update { desired, live } => {
            let changed: Vec<String> = change.attrs.into_iter().map(|a| a.name).collect();
            driver.update(&desired, &live, &changed, &owner).await
        }
        Op::Replace { desired, live } => {
            driver.delete(&live).await?;
            driver.create(&desired, &owner).await
        }
        Op::Delete { live } => driver.delete(&live).await,
    }
}

/// Prerequisites of each change (indices into `plan.changes`).
/// Creates/updates wait for what they reference; a delete waits for the
/// deletion of everything that references it.
pub fn prerequisites(changes: &[Change]) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = changes.iter().enumerate().map(|(i, c)| (c.address.as_str(), i)).collect();
    let block_of = |a: &str| a.split('[').next().unwrap_or(a).to_string();
    let mut by_block: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        by_block.entry(block_of(&c.address)).or_default().push(i);
    }
    let mut pre = vec![Vec::new(); changes.len()];
    for (i, c) in changes.iter().enumerate() {
        for dep in &c.depends_on {
            let targets: Vec<usize> = match index.get(dep.as_str()) {
                Some(&j) => vec![j],
                None => by_block.get(dep).cloned().unwrap_or_default(),
            };
            for j in targets {
                if j == i {
                    continue;
                }
                let (goes, dep_goes) = (c.action() == Action::Delete, changes[j].action() == Action::Delete);
                if goes && dep_goes {
                    // i depends on j and both go: delete i first.
                    pre[j].push(i);
                } else if !goes && !dep_goes {
                    pre[i].push(j);
                }
            }
        }
    }
    pre
}

/// Applies `plan` with the given drivers (by kind name).
pub async fn apply(plan: &Plan, drivers: &BTreeMap<String, Arc<dyn Driver>>, parallelism: usize, progress: Arc<dyn Progress>, cancel: Cancel) -> ApplyReport {
    let changes = &plan.changes;
    let pre = prerequisites(changes);
    let mut outcome: Vec<Option<Outcome>> = vec![None; changes.len()];
    let mut elapsed = vec![Duration::ZERO; changes.len()];
    let mut running = vec![false; changes.len()];
    let mut set: JoinSet<(usize, Result<(), ProviderError>, Duration)> = JoinSet::new();
    let mut stopping = false;
    let parallelism = parallelism.max(1);

    loop {
        if cancel.is_cancelled() {
            stopping = true;
        }
        // Propagate failures to dependents.
        loop {
            let mut changed = false;
            for i in 0..changes.len() {
                if outcome[i].is_some() || running[i] {
                    continue;
                }
                if let Some(&j) = pre[i].iter().find(|&&j| matches!(outcome[j], Some(Outcome::Failed(_)) | Some(Outcome::Skipped(_)))) {
                    outcome[i] = Some(Outcome::Skipped(format!("{} did not complete", changes[j].address)));
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        if !stopping {
            for i in 0..changes.len() {
                if set.len() >= parallelism {
                    break;
                }
                if outcome[i].is_some() || running[i] || !pre[i].iter().all(|&j| outcome[j] == Some(Outcome::Done)) {
                    continue;
                }
                let change = changes[i].clone();
                let Some(driver) = drivers.get(&change.kind).cloned() else {
                    outcome[i] = Some(Outcome::Failed(format!("no driver for kind {}", change.kind)));
                    stopping = true;
                    break;
                };
                running[i] = true;
                progress.started(&change);
                let notes = {
                    let (progress, change) = (progress.clone(), change.clone());
                    crate::core::Notes(Arc::new(move |line: String| progress.note(&change, &line)))
                };
                let owner = Owner { stack: plan.owner.clone(), address: change.address.clone(), protect: change.protect, notes: Some(notes) };
                set.spawn(async move {
                    let t = Instant::now();
                    let r = run_change(driver, change, owner).await;
                    (i, r, t.elapsed())
                });
            }
        }
        if set.is_empty() {
            break;
        }
        let joined = tokio::select! {
            j = set.join_next() => j,
            _ = cancel.cancelled(), if !stopping => { stopping = true; continue; }
        };
        let Some(joined) = joined else { break };
        let (i, result, took) = match joined {
            Ok(v) => v,
            Err(e) => {
                // A panicked task: find which one is no longer running is not
                // possible from JoinError alone, so stop everything.
                stopping = true;
                tracing::error!("apply task failed: {e}");
                continue;
            }
        };
        running[i] = false;
        elapsed[i] = took;
        let o = match result {
            Ok(()) => Outcome::Done,
            Err(e) => {
                stopping = true;
                let hint = e.hint().map(|h| format!(" ({h})")).unwrap_or_default();
                Outcome::Failed(format!("{e}{hint}"))
            }
        };
        progress.finished(&changes[i], &o, took);
        outcome[i] = Some(o);
    }

    let results = changes
        .iter()
        .enumerate()
        .map(|(i, c)| ChangeResult {
            address: c.address.clone(),
            action: c.action(),
            outcome: if running[i] { Outcome::Failed("task did not report back".into()) } else { outcome[i].clone().unwrap_or(Outcome::NotStarted) },
            elapsed: elapsed[i],
        })
        .collect();
    ApplyReport { results, interrupted: cancel.is_cancelled() }
}
