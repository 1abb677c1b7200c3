//! One invocation: poll the queue several times within the Lambda deadline,
//! decide, and size the group. Generic over the source, group and metrics
//! traits so tests drive it with fakes; any source or group error fails the
//! invocation before anything is changed.

use crate::decide::{decide, Action, Decision, Observation, Settings};
use crate::group::{GroupApi, GroupError};
use crate::metrics::MetricsSink;
use crate::sources::{QueueSource, Reconciled, SourceError};
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thiserror::Error;
use tokio::time::Instant;

/// Why an invocation failed (it then changed nothing after the failure).
#[derive(Debug, Error)]
pub enum ScalerError {
    /// The queue could not be read.
    #[error("queue metrics: {0}")]
    Source(#[from] SourceError),
    /// The group could not be read or changed.
    #[error("{0}")]
    Group(#[from] GroupError),
    /// The scaler could not start (configuration, clients).
    #[error("start-up: {0}")]
    Init(String),
}

/// What one poll saw and did.
#[derive(Debug, Clone, Serialize)]
pub struct PollRecord {
    /// What the queue showed.
    pub observation: Observation,
    /// The desired capacity before.
    pub desired_before: u32,
    /// What was decided.
    pub decision: Decision,
    /// Runner queues: what the reconciliation after sizing did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconciled: Option<Reconciled>,
}

/// The invocation's result (the Lambda response).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Every poll of the invocation.
    pub polls: Vec<PollRecord>,
}

/// Time left after which no new poll starts: the poll itself may take this long.
const SAFETY: Duration = Duration::from_secs(3);

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The scaler, built once per cold start.
pub struct Scaler<S, G, M> {
    /// Where the queue's counts come from.
    pub source: S,
    /// The Auto Scaling group.
    pub group: G,
    /// Where metrics go (None: none are written).
    pub metrics: Option<M>,
    /// The queue's name.
    pub queue: String,
    /// How it decides.
    pub settings: Settings,
    /// Time between polls.
    pub poll_interval: Duration,
}

impl<S: QueueSource, G: GroupApi, M: MetricsSink> Scaler<S, G, M> {
    /// Polls until the next poll would not finish before `budget` runs out.
    pub async fn run(&self, budget: Duration) -> Result<Summary, ScalerError> {
        let start = Instant::now();
        let end = start + budget.saturating_sub(SAFETY).max(Duration::from_millis(100));
        let mut polls = Vec::new();
        loop {
            polls.push(self.poll_once(end).await?);
            // The metrics API may ask to be polled less often than configured.
            let interval = match self.source.min_poll_interval() {
                Some(asked) if asked > self.poll_interval => {
                    tracing::info!(queue = %self.queue, asked_s = asked.as_secs(), configured_s = self.poll_interval.as_secs(), "the metrics API asks for a longer poll interval; using it");
                    asked
                }
                _ => self.poll_interval,
            };
            let next = Instant::now() + interval;
            if next >= end {
                break;
            }
            tokio::time::sleep_until(next).await;
        }
        Ok(Summary { polls })
    }

    async fn observe(&self, end: Instant) -> Result<Observation, SourceError> {
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.source.observe().await {
                Ok(o) => return Ok(o),
                Err(e) if e.retryable() && Instant::now() + backoff < end => {
                    tracing::warn!(queue = %self.queue, error = %e, retry_in_ms = backoff.as_millis() as u64, "metrics read failed; retrying");
                    let jitter = Duration::from_millis(fastrand_ms(backoff.as_millis() as u64 / 2));
                    tokio::time::sleep(backoff + jitter).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One poll now (a webhook's nudge), bounded by `budget`.
    pub async fn poll_now(&self, budget: Duration) -> Result<PollRecord, ScalerError> {
        self.poll_once(Instant::now() + budget).await
    }

    async fn poll_once(&self, end: Instant) -> Result<PollRecord, ScalerError> {
        let started = Instant::now();
        let observed = self.observe(end).await;
        let state = self.group.describe().await?;
        let (group, since) = (state.group, state.surplus_since);
        let obs = match observed {
            Ok(o) => o,
            Err(SourceError::RateLimited { until }) => {
                // Waiting is what the API asked for: hold, change nothing, fail nothing.
                let reason = format!("rate limited: the API asked for no calls until {until} (unix seconds); holding at {}", group.desired);
                tracing::warn!(queue = %self.queue, until, desired = group.desired, "rate limited; holding");
                let decision = Decision { desired: group.desired, action: Action::Hold, reason, surplus_since: since };
                return Ok(PollRecord { observation: Observation::default(), desired_before: group.desired, decision, reconciled: None });
            }
            Err(e) => return Err(e.into()),
        };
        if !group.az_rebalance_suspended {
            // AZ rebalancing terminates instances to even out zones, busy ones
            // included; it stays suspended (reconciled here, as a template cannot
            // set it). Sizing goes on if this fails.
            match self.group.suspend_az_rebalance().await {
                Ok(()) => tracing::info!(queue = %self.queue, "suspended AZRebalance on the group"),
                Err(e) => tracing::warn!(queue = %self.queue, error = %e, "could not suspend AZRebalance"),
            }
        }
        let decision = decide(&obs, &group, &self.settings, since, unix_now());
        tracing::info!(
            target: "decision",
            queue = %self.queue,
            scheduled = obs.scheduled,
            running = obs.running,
            waiting = obs.waiting,
            idle_agents = obs.idle_agents,
            busy_agents = obs.busy_agents,
            min = group.min,
            max = group.max,
            protected = group.protected,
            unhealthy = group.unhealthy,
            desired_before = group.desired,
            desired_after = decision.desired,
            action = ?decision.action,
            reason = %decision.reason,
            poll_ms = started.elapsed().as_secs_f64() * 1000.0,
            "scaling decision"
        );
        if decision.desired != group.desired {
            self.group.set_desired(decision.desired).await?;
        }
        if decision.surplus_since != since {
            self.group.set_surplus_since(decision.surplus_since).await?;
        }
        if let Some(m) = &self.metrics {
            if let Err(e) = m.publish(&self.queue, &obs, decision.desired).await {
                tracing::error!(queue = %self.queue, error = %e, "publishing CloudWatch metrics failed");
            }
        }
        debug_assert!(decision.action != Action::ScaleIn || decision.desired < group.desired);
        // New instances are listed right after a scale-out (Pending): read
        // them once more so they get their runner now, not a poll later.
        let members = if decision.desired > group.desired { self.group.describe().await.map(|s| s.members).unwrap_or(state.members) } else { state.members };
        let reconciled = self.source.reconcile(&members).await;
        for id in &reconciled.replace {
            if let Err(e) = self.group.set_unhealthy(id).await {
                tracing::error!(queue = %self.queue, instance = %id, error = %e, "could not mark the instance unhealthy");
            }
        }
        for e in &reconciled.errors {
            tracing::error!(queue = %self.queue, error = %e, "runner reconciliation incomplete; the next poll resumes it");
        }
        let reconciled = (reconciled != Reconciled::default()).then_some(reconciled);
        Ok(PollRecord { observation: obs, desired_before: group.desired, decision, reconciled })
    }
}

/// A small jitter without a RNG dependency: nanoseconds of the clock.
fn fastrand_ms(max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    (SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos() as u64).unwrap_or(0)) % max
}
