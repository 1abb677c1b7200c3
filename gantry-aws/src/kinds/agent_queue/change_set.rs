//! The CloudFormation half of a queue: one change-set routine (always with
//! an explicit type) used by apply and by preview, waits with timeouts,
//! stack events as progress, and the failing resource with the way out.

use super::api::{ChangeSetKind, ChangeSetState, NewChangeSet, StackApi};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::Owner;
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;
// Tokio's clock, so tests with paused time see the bounds pass.
use tokio::time::Instant;

/// How long a stack operation may take before gantry stops waiting.
const STACK_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// How long a stack may still say REVIEW_IN_PROGRESS after its change set
/// was executed. CloudFormation starts the execution at once; a stack that
/// stays in review was never started (another change set ran, or the
/// execute never arrived), and waiting for it would hold the lock forever.
const REVIEW_GRACE: Duration = Duration::from_secs(60);

fn other(op: &'static str, msg: impl Into<String>) -> ProviderError {
    ProviderError::aws(ErrorClass::Other, "cloudformation", op, msg)
}

/// Polls with a growing interval until `step` answers or the timeout passes.
async fn wait_for<T, F, Fut>(what: &str, mut step: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, ProviderError>>,
{
    let start = Instant::now();
    let mut interval = Duration::from_millis(100);
    loop {
        if let Some(v) = step().await? {
            return Ok(v);
        }
        if start.elapsed() > STACK_TIMEOUT {
            return Err(other(
                "Wait",
                format!("gave up waiting for {what} after {}s; it may still finish: run gantry plan to see where it stands", STACK_TIMEOUT.as_secs()),
            ));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_secs(5));
    }
}

/// A change set name unique enough for one stack.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0))
}

/// The stack's template applied through a change set that is created,
/// waited for, and then executed (`execute`) or deleted (a preview).
pub(super) struct ChangeSet<'a> {
    pub api: &'a dyn StackApi,
    pub region: &'a str,
    pub stack: &'a str,
    pub template: String,
}

impl ChangeSet<'_> {
    /// Creates the change set and waits until it is ready or failed.
    async fn create(&self, kind: ChangeSetKind, tags: Option<BTreeMap<String, String>>, prefix: &str) -> Result<(String, ChangeSetState), ProviderError> {
        let cs = NewChangeSet { stack: self.stack.to_string(), name: unique(prefix), kind, template: self.template.clone(), tags };
        let id = self.api.create_change_set(self.region, cs).await?;
        let state = wait_for(&format!("change set of {}", self.stack), || async {
            let cs = self.api.describe_change_set(self.region, self.stack, &id).await?;
            Ok((!matches!(cs.status.as_str(), "CREATE_PENDING" | "CREATE_IN_PROGRESS")).then_some(cs))
        })
        .await;
        Ok((id, state?))
    }

    /// Applies the template; false when there was nothing to change.
    pub(super) async fn execute(&self, kind: ChangeSetKind, tags: BTreeMap<String, String>, owner: &Owner) -> Result<bool, ProviderError> {
        let (id, cs) = self.create(kind, Some(tags), "gantry").await?;
        if cs.status == "FAILED" {
            let _ = self.api.delete_change_set(self.region, self.stack, &id).await;
            if cs.reason.contains("didn't contain changes") || cs.reason.contains("No updates") {
                return Ok(false);
            }
            if kind == ChangeSetKind::Create {
                // A failed CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind.
                let _ = self.api.delete_stack(self.region, self.stack).await;
            }
            return Err(other("CreateChangeSet", format!("change set for {} failed: {}; nothing was changed", self.stack, cs.reason)));
        }
        self.api.execute_change_set(self.region, self.stack, &id).await?;
        let seen = Mutex::new(HashSet::new());
        let executed = Instant::now();
        let status = wait_for(&format!("stack {}", self.stack), || async {
            let st = self.api.stack_status(self.region, self.stack).await?.unwrap_or_default();
            if st == "REVIEW_IN_PROGRESS" && executed.elapsed() > REVIEW_GRACE {
                return Err(other(
                    "ExecuteChangeSet",
                    format!(
                        "stack {} is still REVIEW_IN_PROGRESS {}s after its change set was executed: the execution never started; nothing was created. Run gantry plan: it replaces the empty stack",
                        self.stack,
                        REVIEW_GRACE.as_secs()
                    ),
                ));
            }
            if st.ends_with("_IN_PROGRESS") {
                // Still working: show what happened so far.
                report_events(self.api, self.region, self.stack, &seen, owner).await;
                return Ok(None);
            }
            Ok(Some(st))
        })
        .await?;
        report_events(self.api, self.region, self.stack, &seen, owner).await;
        if status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE" {
            return Ok(true);
        }
        Err(failure(self.api, self.region, self.stack, &status).await)
    }

    /// What an update would do to each resource (and whether it replaces
    /// it); the change set is deleted afterwards.
    pub(super) async fn preview(&self) -> Result<Vec<String>, ProviderError> {
        let (id, cs) = self.create(ChangeSetKind::Update, None, "gantry-preview").await?;
        let _ = self.api.delete_change_set(self.region, self.stack, &id).await;
        if cs.status == "FAILED" {
            return Ok(vec![format!("change set: {}", if cs.reason.is_empty() { "failed" } else { &cs.reason })]);
        }
        Ok(cs
            .changes
            .iter()
            .map(|rc| {
                let replacement = match rc.replacement.as_deref() {
                    Some("True") => "REPLACES it",
                    Some("Conditional") => "may replace it",
                    Some(_) => "in place",
                    None => "replacement not reported",
                };
                format!("CloudFormation: {} {} ({replacement})", rc.action, rc.logical_id)
            })
            .collect())
    }
}

/// Reports stack events not seen before as progress lines (oldest first).
/// Best effort: a failed read only means fewer progress lines.
async fn report_events(api: &dyn StackApi, region: &str, stack: &str, seen: &Mutex<HashSet<String>>, owner: &Owner) {
    let Ok(events) = api.stack_events(region, stack).await else { return };
    let fresh: Vec<String> = {
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        events
            .iter()
            .filter(|ev| seen.insert(ev.id.clone()))
            .map(|ev| format!("{} {}{}", ev.logical_id, ev.status, ev.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()))
            .collect()
    };
    for line in fresh.into_iter().rev() {
        owner.note(line);
    }
}

/// Explains a failed stack operation: the first failing resource and the way out.
async fn failure(api: &dyn StackApi, region: &str, stack: &str, status: &str) -> ProviderError {
    let first = api.stack_events(region, stack).await.ok().and_then(|events| {
        events
            .iter()
            .rev()
            .find(|ev| ev.status.ends_with("_FAILED") && ev.logical_id != stack)
            .map(|ev| format!("{} {}: {}", ev.logical_id, ev.status, ev.reason.as_deref().unwrap_or("")))
    });
    let way_out = match status {
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" => "the stack cannot be updated now; the next apply deletes and recreates it (or run gantry destroy)",
        "UPDATE_ROLLBACK_COMPLETE" => "the update was rolled back; the stack is as before: fix the cause and apply again",
        "UPDATE_ROLLBACK_FAILED" => "run `aws cloudformation continue-update-rollback` for this stack, then plan again",
        _ => "see the stack's events in the CloudFormation console",
    };
    other("ExecuteChangeSet", format!("stack {stack} ended {status}: {}; {way_out}", first.unwrap_or_else(|| "no failing resource reported".into())))
}

/// Deletes the stack and waits until it is gone.
pub(super) async fn delete_stack(api: &dyn StackApi, region: &str, stack: &str) -> Result<(), ProviderError> {
    api.delete_stack(region, stack).await?;
    let status = wait_for(&format!("deletion of {stack}"), || async {
        let st = api.stack_status(region, stack).await?.unwrap_or_else(|| "DELETE_COMPLETE".into());
        Ok((!st.ends_with("_IN_PROGRESS")).then_some(st))
    })
    .await?;
    if status == "DELETE_COMPLETE" {
        Ok(())
    } else {
        Err(failure(api, region, stack, &status).await)
    }
}
