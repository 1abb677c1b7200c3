//! A runner queue as the scaler's [`QueueSource`]: queued jobs for our
//! labels are the scheduled work, our busy runners the running work. After
//! each sizing, [`GithubSource::reconcile`] hands new instances their
//! configuration, cleans up, and applies the queued-job timeout.
//!
//! Rate limits: every answer's `x-ratelimit-*` is recorded; the source
//! then asks for a poll interval that spends at most half of what is left
//! before the reset (the rest stays for configurations, clean-up and
//! webhook-driven polls), and a limit hit makes the poll hold, not fail.

use super::jit_store::JitStore;
use super::pool::{self, runner_name};
use super::{labels_match, GithubApi, GithubError, QueuedJob, Runner};
use crate::decide::Observation;
use crate::group::Member;
use crate::sources::{QueueSource, Reconciled, SourceError};
use async_trait::async_trait;
use gantry_scaler_env::github::{GithubEnv, TimeoutAction};
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The interval that spends at most half the `remaining` requests before
/// `reset`, at `cost` requests per poll. `None` when unknown or unneeded.
pub fn budget_interval(remaining: u64, reset: u64, now: u64, cost: u64) -> Option<Duration> {
    if cost == 0 || reset <= now {
        return None;
    }
    let polls = remaining / 2 / cost;
    let window = reset - now;
    Some(Duration::from_secs(window.checked_div(polls).unwrap_or(window)))
}

#[derive(Default)]
struct LastPoll {
    jobs: Vec<QueuedJob>,
    runners: Vec<Runner>,
    cost: u64,
}

/// The GitHub side of one runner queue.
pub struct GithubSource<G, J> {
    /// GitHub's REST API.
    pub api: G,
    /// Where runner configurations are kept for the instances.
    pub store: J,
    labels: Vec<String>,
    prefix: String,
    repos: Vec<String>,
    grace: u64,
    timeout: Option<u64>,
    action: TimeoutAction,
    last: Mutex<LastPoll>,
    /// Runs already cancelled by the timeout (a run is cancelled once).
    cancelled: Mutex<BTreeSet<u64>>,
}

impl<G: GithubApi, J: JitStore> GithubSource<G, J> {
    /// The queue `env` describes.
    pub fn new(api: G, store: J, env: &GithubEnv) -> Self {
        GithubSource {
            api,
            store,
            labels: env.labels.clone(),
            prefix: env.name_prefix.clone(),
            repos: env.scope.polled(&env.repositories),
            grace: env.registration_grace.as_secs(),
            timeout: env.queued_job_timeout.map(|d| d.as_secs()),
            action: env.timeout_action,
            last: Mutex::default(),
            cancelled: Mutex::default(),
        }
    }

    async fn read(&self) -> Result<(Vec<QueuedJob>, Vec<Runner>), GithubError> {
        let mut jobs = Vec::new();
        for repo in &self.repos {
            jobs.extend(self.api.queued_jobs(repo).await?.into_iter().filter(|j| labels_match(&j.labels, &self.labels)));
        }
        let runners = self.api.runners().await?.into_iter().filter(|r| pool::instance_of(&self.prefix, &r.name).is_some()).collect();
        Ok((jobs, runners))
    }

    async fn apply_timeouts(&self, jobs: &[QueuedJob], now: u64, out: &mut Reconciled) -> Result<(), GithubError> {
        let Some(limit) = self.timeout else { return Ok(()) };
        for j in jobs.iter().filter(|j| now.saturating_sub(j.created_at) >= limit) {
            let waited = now.saturating_sub(j.created_at);
            match self.action {
                TimeoutAction::Report => {
                    tracing::warn!(repo = %j.repo, job = j.id, run = j.run_id, waited_s = waited, limit_s = limit, "job queued longer than the queued-job timeout");
                    out.timed_out += 1;
                }
                TimeoutAction::Cancel => {
                    if !self.cancelled.lock().unwrap().insert(j.run_id) {
                        continue;
                    }
                    self.api.cancel_run(&j.repo, j.run_id).await?;
                    tracing::warn!(repo = %j.repo, job = j.id, run = j.run_id, waited_s = waited, limit_s = limit, "cancelled a workflow run whose job stayed queued past the queued-job timeout");
                    out.timed_out += 1;
                }
            }
        }
        Ok(())
    }

    async fn reconcile_inner(&self, members: &[Member], out: &mut Reconciled) -> Result<(), GithubError> {
        let (jobs, runners) = {
            let l = self.last.lock().unwrap();
            (l.jobs.clone(), l.runners.clone())
        };
        let now = now();
        let configs = self.store.list().await?;
        let plan = pool::plan(members, &runners, &configs, &self.prefix, now, self.grace);
        for (id, name) in &plan.delete_runners {
            if self.api.delete_runner(*id).await? {
                tracing::info!(runner = %name, "deleted a runner registration whose instance is gone or never started it");
                out.deleted_runners += 1;
            } else {
                tracing::info!(runner = %name, "runner is running a job; not deleted");
            }
        }
        for id in &plan.issue {
            match self.api.jit_config(&runner_name(&self.prefix, id)).await? {
                Some(cfg) => {
                    // If this write is lost, the next round finds the
                    // registration without a configuration and starts over.
                    self.store.put(id, &cfg.encoded).await?;
                    tracing::info!(instance = %id, runner_id = cfg.runner_id, "registered a just-in-time runner for the instance");
                    out.issued += 1;
                }
                None => tracing::info!(instance = %id, "a runner of this name exists already (an overlapping invocation); next round decides"),
            }
        }
        for id in &plan.delete_configs {
            self.store.delete(id).await?;
        }
        for id in &plan.replace {
            tracing::warn!(instance = %id, grace_s = self.grace, "the instance's runner never came online; replacing the instance");
        }
        out.replace = plan.replace;
        self.apply_timeouts(&jobs, now, out).await
    }

    /// Hands out configurations, cleans up, applies the timeout. Failures
    /// are reported in the result; sizing has already happened.
    pub async fn reconcile_members(&self, members: &[Member]) -> Reconciled {
        let mut out = Reconciled::default();
        if let Err(e) = self.reconcile_inner(members, &mut out).await {
            out.errors.push(e.to_string());
        }
        out
    }
}

fn to_source(e: GithubError) -> SourceError {
    match e {
        GithubError::RateLimited { until } => SourceError::RateLimited { until },
        other => SourceError::Github(other),
    }
}

#[async_trait]
impl<G: GithubApi, J: JitStore> QueueSource for GithubSource<G, J> {
    async fn observe(&self) -> Result<Observation, SourceError> {
        let before = self.api.budget().map(|(r, _)| r);
        let (jobs, runners) = self.read().await.map_err(to_source)?;
        let busy = runners.iter().filter(|r| r.busy).count() as u32;
        let idle = runners.iter().filter(|r| r.online() && !r.busy).count() as u32;
        let obs = Observation { scheduled: jobs.len() as u32, running: busy, waiting: 0, idle_agents: idle, busy_agents: busy };
        let cost = match (before, self.api.budget()) {
            (Some(b), Some((a, _))) if b > a => b - a,
            _ => 0,
        };
        *self.last.lock().unwrap() = LastPoll { jobs, runners, cost };
        Ok(obs)
    }

    fn min_poll_interval(&self) -> Option<Duration> {
        let (remaining, reset) = self.api.budget()?;
        budget_interval(remaining, reset, now(), self.last.lock().unwrap().cost)
    }

    async fn reconcile(&self, members: &[Member]) -> Reconciled {
        self.reconcile_members(members).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_interval_spreads_half_the_budget_until_the_reset() {
        assert_eq!(budget_interval(5000, 3600, 0, 5), Some(Duration::from_secs(7)), "500 polls in an hour");
        assert_eq!(budget_interval(100, 600, 0, 5), Some(Duration::from_secs(60)));
        assert_eq!(budget_interval(4, 600, 0, 5), Some(Duration::from_secs(600)), "nothing to spare: wait for the reset");
        assert_eq!(budget_interval(100, 600, 0, 0), None);
        assert_eq!(budget_interval(100, 600, 700, 5), None, "reset passed");
    }
}
