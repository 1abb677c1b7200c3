//! `gantry runner wake`: starts a stopped Google Cloud runner node when a
//! job for its labels is queued (see `kinds::common::gcp::runner` for why
//! this runs in the repository's workflow). One pass:
//!
//! 1. read the node: its status and the scope/labels gantry wrote into its
//!    metadata;
//! 2. list the jobs queued for those labels; with a queued-job timeout,
//!    the runs of jobs already past it are cancelled at once and never
//!    boot a machine; none left → nothing to do;
//! 3. unless a runner of the node is online and idle, or one was
//!    registered less than [`BOOT_GRACE`] ago and has not connected yet (a
//!    booting machine's: a second or concurrent wake must not take its
//!    configuration away), register a just-in-time runner
//!    (`NODE-UNIXTIME`) and leave its configuration in the node's metadata
//!    (unused registrations older than that go);
//! 4. start the node if it is stopped (after a stop in progress finishes);
//! 5. with a queued-job timeout: watch those jobs (one conditional read
//!    each: an unchanged job costs no request of the primary limit), spend
//!    at most [`BUDGET_SHARE_PERCENT`] of what remains of the installation's
//!    hourly budget, wait out a rate limit instead of failing, and cancel
//!    the runs of jobs still queued past the limit.
//!
//! Every step reads before it writes, so a wake cut off half-way (or two
//! at once) leaves nothing a second wake cannot finish.

use crate::core::error::{ErrorClass, ProviderError};
use crate::kinds::common::gcp::runner::{META_JITCONFIG, META_LABELS, META_REPOSITORIES, META_SCOPE};
use crate::kinds::gpu_node::NodeControl;
use gantry_scaler::github::{labels_match, GithubApi, QueuedJob};
use gantry_scaler_env::github::Scope;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the node says about its runner (from its metadata).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeRunner {
    pub status: String,
    pub scope: Scope,
    pub labels: Vec<String>,
    pub repositories: Vec<String>,
}

/// What one wake did.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct WakeReport {
    pub queued: usize,
    /// The runner registered for the node, if one was.
    pub registered: Option<String>,
    pub started: bool,
    /// Runs cancelled because their job stayed queued past the limit.
    pub cancelled: Vec<u64>,
}

/// How long a registration may wait for its booting node before a wake
/// replaces it: a GPU VM boots, may install its driver on a first boot,
/// then installs the runner — minutes, not hours.
pub(crate) const BOOT_GRACE: Duration = Duration::from_secs(15 * 60);
/// The share of the installation's remaining hourly budget a waiting wake
/// may spend (the scaler of a queue takes at most half).
pub(crate) const BUDGET_SHARE_PERCENT: u64 = 10;
/// GitHub's primary limit is per hour: its reset is never further away.
const RATE_WINDOW: u64 = 3600;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn fail(op: &'static str, message: String) -> ProviderError {
    ProviderError::github(ErrorClass::Other, op, message)
}

fn gh(e: gantry_scaler::github::GithubError) -> ProviderError {
    let class = match e {
        gantry_scaler::github::GithubError::Unauthorized(..) | gantry_scaler::github::GithubError::Credentials(_) => ErrorClass::Credentials,
        gantry_scaler::github::GithubError::RateLimited { .. } => ErrorClass::Throttled,
        _ => ErrorClass::Other,
    };
    ProviderError::github(class, "GitHub", e.to_string())
}

/// One GitHub call, waiting out a rate limit (primary or secondary) as
/// GitHub asks rather than failing the wake: the job it serves still needs
/// its machine, and a run past its limit still needs cancelling.
async fn patiently<T, F, Fut>(say: &dyn Fn(String), mut call: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, gantry_scaler::github::GithubError>>,
{
    loop {
        match call().await {
            Err(gantry_scaler::github::GithubError::RateLimited { until }) => {
                let secs = until.saturating_sub(now()).clamp(1, RATE_WINDOW);
                say(format!("GitHub's rate limit is spent; waiting {secs}s before the next request"));
                tokio::time::sleep(Duration::from_secs(secs)).await;
            }
            other => return other.map_err(gh),
        }
    }
}

/// Reads the node and what gantry wrote about its runner.
pub(crate) async fn read_node(gcp: &dyn NodeControl, zone: &str, node: &str) -> Result<NodeRunner, ProviderError> {
    let inst = gcp.node(zone, node).await?;
    let meta = &inst.metadata;
    let missing =
        || fail("ReadNode", format!("{zone}/{node} has no GitHub runner (no {META_LABELS} metadata): give its gpu_node a runner {{ }} block and apply"));
    let labels: Vec<String> = meta.get(META_LABELS).ok_or_else(missing)?.split(',').filter(|l| !l.is_empty()).map(String::from).collect();
    let scope = Scope::parse(meta.get(META_SCOPE).ok_or_else(missing)?).map_err(|e| fail("ReadNode", e.0))?;
    let repositories = meta.get(META_REPOSITORIES).map(|r| r.split(',').filter(|x| !x.is_empty()).map(String::from).collect()).unwrap_or_default();
    Ok(NodeRunner { status: inst.status, scope, labels, repositories })
}

/// The jobs queued for the node's labels.
pub(crate) async fn queued_for(api: &dyn GithubApi, n: &NodeRunner, say: &dyn Fn(String)) -> Result<Vec<QueuedJob>, ProviderError> {
    let mut out = Vec::new();
    for repo in n.scope.polled(&n.repositories) {
        out.extend(patiently(say, || api.queued_jobs(&repo)).await?.into_iter().filter(|j| labels_match(&j.labels, &n.labels)));
    }
    Ok(out)
}

/// Leaves `value` under `key` in the node's metadata, keeping every other item.
async fn put_metadata(gcp: &dyn NodeControl, zone: &str, node: &str, key: &str, value: &str) -> Result<(), ProviderError> {
    let mut inst = gcp.node(zone, node).await?;
    inst.metadata.insert(key.to_string(), value.to_string());
    gcp.request_metadata(zone, node, inst.metadata, inst.fingerprint).await?;
    // The write's operation is not read (see `NodeControl`): the instance
    // is, until the value is there, so the node never boots before its
    // configuration is in place.
    for _ in 0..60 {
        if gcp.node(zone, node).await?.metadata.get(key).map(String::as_str) == Some(value) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(ProviderError::google(ErrorClass::Other, "compute", "SetMetadata", format!("{key} was not in {zone}/{node}'s metadata a minute after it was set")))
}

/// When a runner of the node was registered, from its `NODE-UNIXTIME` name.
fn registered_at(name: &str, node: &str) -> Option<u64> {
    name.strip_prefix(node)?.strip_prefix('-').filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))?.parse().ok()
}

/// Registers a runner for the node unless one is waiting already.
async fn ensure_runner(
    api: &dyn GithubApi,
    gcp: &dyn NodeControl,
    zone: &str,
    node: &str,
    status: &str,
    say: &dyn Fn(String),
) -> Result<Option<String>, ProviderError> {
    let ours: Vec<_> = patiently(say, || api.runners()).await?.into_iter().filter(|r| registered_at(&r.name, node).is_some()).collect();
    if let Some(r) = ours.iter().find(|r| r.online() && !r.busy) {
        say(format!("runner {} is online and idle; it takes the job", r.name));
        return Ok(None);
    }
    // A registration younger than BOOT_GRACE that has not connected is a
    // machine's that is booting (or about to: a concurrent wake may still
    // be writing its configuration or starting the node). Replacing it
    // could leave that machine with a configuration whose registration is
    // gone, so it is left alone and only the start is ensured.
    let t = now();
    let age = |r: &gantry_scaler::github::Runner| t.saturating_sub(registered_at(&r.name, node).unwrap_or(0));
    if let Some(r) = ours.iter().find(|r| !r.online() && !r.busy && age(r) < BOOT_GRACE.as_secs()) {
        say(format!("runner {} was registered {}s ago and has not connected yet ({node} is {status}): it takes the job when it connects", r.name, age(r)));
        return Ok(None);
    }
    // An unused configuration older than that (the node never started, or
    // its runner failed): its registration goes, a fresh one replaces it.
    for r in ours.iter().filter(|r| !r.online() && !r.busy) {
        patiently(say, || api.delete_runner(r.id)).await?;
        say(format!("deleted unused runner registration {}", r.name));
    }
    let name = format!("{node}-{t}");
    let Some(cfg) = patiently(say, || api.jit_config(&name)).await? else {
        // Another wake registered this name in the same second: its configuration serves.
        say(format!("runner {name} was registered by another wake at the same moment; it takes the job"));
        return Ok(None);
    };
    // Metadata writes carry the fingerprint read last: a concurrent writer
    // makes this one fail (412), and it is done again on a fresh read.
    let mut put = put_metadata(gcp, zone, node, META_JITCONFIG, &cfg.encoded).await;
    if matches!(&put, Err(e) if e.class == ErrorClass::Conflict) {
        put = put_metadata(gcp, zone, node, META_JITCONFIG, &cfg.encoded).await;
    }
    put?;
    say(format!("registered just-in-time runner {name} and left its configuration in the node's metadata"));
    Ok(Some(name))
}

/// Starts the node unless it is running or starting (waits out a stop in progress).
async fn ensure_started(gcp: &dyn NodeControl, zone: &str, node: &str, status: &str, say: &dyn Fn(String)) -> Result<bool, ProviderError> {
    let mut status = status.to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while matches!(status.as_str(), "STOPPING" | "SUSPENDING") {
        if std::time::Instant::now() > deadline {
            return Err(ProviderError::google(ErrorClass::Conflict, "compute", "StartInstance", format!("{zone}/{node} is still {status} after 3 minutes")));
        }
        say(format!("{node} is {status}; waiting to start it"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        status = read_status(gcp, zone, node).await?;
    }
    if matches!(status.as_str(), "TERMINATED" | "STOPPED" | "SUSPENDED") {
        say(format!("starting {node} (was {status})"));
        gcp.start(zone, node).await?;
        return Ok(true);
    }
    say(format!("{node} is {status}; not starting it"));
    Ok(false)
}

async fn read_status(gcp: &dyn NodeControl, zone: &str, node: &str) -> Result<String, ProviderError> {
    Ok(gcp.node(zone, node).await?.status)
}

/// How long to wait before the next look: at least `poll`, and slow enough
/// that a look costing `spent` requests of the primary limit uses at most
/// [`BUDGET_SHARE_PERCENT`] of the `remaining` requests before the reset
/// (pure; unchanged jobs read conditionally cost nothing).
pub(crate) fn next_look(poll: Duration, spent: u64, remaining: u64, reset: u64, now: u64) -> Duration {
    if spent == 0 {
        return poll;
    }
    let window = reset.saturating_sub(now).clamp(1, RATE_WINDOW);
    let looks = (remaining * BUDGET_SHARE_PERCENT / 100 / spent).max(1);
    poll.max(Duration::from_secs(window.div_ceil(looks)))
}

/// Cancels the run of every job queued `limit` or longer (each run once,
/// recorded in `cancelled`) and returns the jobs left, those of a
/// cancelled run gone with it. `before_wake`: the job was past the limit
/// when this wake began (it boots no machine).
async fn cancel_expired(
    api: &dyn GithubApi,
    jobs: Vec<QueuedJob>,
    limit: Duration,
    cancelled: &mut Vec<u64>,
    before_wake: bool,
    say: &dyn Fn(String),
) -> Result<Vec<QueuedJob>, ProviderError> {
    let t = now();
    for j in jobs.iter().filter(|j| t.saturating_sub(j.created_at) >= limit.as_secs()) {
        if !cancelled.contains(&j.run_id) {
            patiently(say, || api.cancel_run(&j.repo, j.run_id)).await?;
            let how =
                if before_wake { format!("was queued over {}s before this wake", limit.as_secs()) } else { format!("stayed queued over {}s", limit.as_secs()) };
            say(format!("job {} of {} {how}: cancelled run {}", j.id, j.repo, j.run_id));
            cancelled.push(j.run_id);
        }
    }
    Ok(jobs.into_iter().filter(|j| !cancelled.contains(&j.run_id)).collect())
}

/// Waits until `jobs` are no longer queued; cancels the runs of those still
/// queued `limit` after they were queued (GitHub's timeout-minutes does not
/// count queue time). A rate limit is waited out, not an error.
async fn enforce_timeout(api: &dyn GithubApi, jobs: &[QueuedJob], limit: Duration, poll: Duration, say: &dyn Fn(String)) -> Result<Vec<u64>, ProviderError> {
    let mut cancelled = Vec::new();
    let mut waiting: Vec<QueuedJob> = jobs.to_vec();
    loop {
        let before = api.budget();
        let mut still = Vec::new();
        for j in &waiting {
            if patiently(say, || api.job_status(&j.repo, j.id)).await? == "queued" {
                still.push(j.id);
            }
        }
        waiting.retain(|j| still.contains(&j.id));
        if waiting.is_empty() {
            say("every queued job was picked up".into());
            return Ok(cancelled);
        }
        waiting = cancel_expired(api, waiting, limit, &mut cancelled, false, say).await?;
        if waiting.is_empty() {
            return Ok(cancelled);
        }
        let wait = match (before, api.budget()) {
            (Some((r0, _)), Some((r1, reset))) => next_look(poll, r0.saturating_sub(r1), r1, reset, now()),
            _ => poll,
        };
        tokio::time::sleep(wait).await;
    }
}

/// One wake of `node` in `zone`.
pub(crate) async fn wake(
    api: &dyn GithubApi,
    gcp: &dyn NodeControl,
    zone: &str,
    node: &str,
    queued_timeout: Option<Duration>,
    poll: Duration,
    say: &dyn Fn(String),
) -> Result<WakeReport, ProviderError> {
    let n = read_node(gcp, zone, node).await?;
    let mut jobs = queued_for(api, &n, say).await?;
    let mut report = WakeReport { queued: jobs.len(), ..WakeReport::default() };
    // A job already past the limit is cancelled, and boots no machine.
    if let Some(limit) = queued_timeout {
        jobs = cancel_expired(api, jobs, limit, &mut report.cancelled, true, say).await?;
    }
    if jobs.is_empty() {
        say(format!("no job queued for [{}]; {node} stays {}", n.labels.join(", "), n.status));
        return Ok(report);
    }
    say(format!("{} job(s) queued for [{}]", jobs.len(), n.labels.join(", ")));
    report.registered = ensure_runner(api, gcp, zone, node, &n.status, say).await?;
    report.started = ensure_started(gcp, zone, node, &n.status, say).await?;
    if let Some(limit) = queued_timeout {
        report.cancelled.extend(enforce_timeout(api, &jobs, limit, poll, say).await?);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_are_dated_by_their_name() {
        assert_eq!(registered_at("gpu-ci-runner-1764820000", "gpu-ci-runner"), Some(1_764_820_000));
        assert_eq!(registered_at("gpu-ci-runner-2-1764820000", "gpu-ci-runner"), None, "another node's runner");
        assert_eq!(registered_at("gpu-ci-runner-", "gpu-ci-runner"), None);
        assert_eq!(registered_at("other", "gpu-ci-runner"), None);
    }

    /// A wake that waits spends at most a tenth of what is left before the
    /// reset; looks answered 304 cost nothing and keep the poll interval.
    #[test]
    fn waiting_spends_a_bounded_share_of_the_budget() {
        let poll = Duration::from_secs(5);
        assert_eq!(next_look(poll, 0, 10, 4000, 1000), poll, "conditional reads that found no change are free");
        // 5,000 left, one request per look: 500 looks in the hour → 7.2 s apart.
        assert_eq!(next_look(poll, 1, 5000, 1000 + 3600, 1000), Duration::from_secs(8));
        // Four open jobs that changed: four requests a look.
        assert_eq!(next_look(poll, 4, 5000, 1000 + 3600, 1000), Duration::from_secs(29));
        // Nearly spent: one look for the rest of the window.
        assert_eq!(next_look(poll, 4, 30, 1000 + 1800, 1000), Duration::from_secs(1800));
        // A reset far away (or in the past) is read as GitHub's hour window.
        assert_eq!(next_look(poll, 1, 5000, u64::MAX, 1000), Duration::from_secs(8));
        assert_eq!(next_look(poll, 1, 5000, 10, 1000), poll);
        // Spending: looks × cost over the window never exceeds the share.
        for (spent, remaining) in [(1u64, 5000u64), (3, 1200), (7, 400), (2, 90)] {
            let gap = next_look(poll, spent, remaining, 1000 + 3600, 1000).as_secs();
            assert!(3600 / gap * spent <= remaining * BUDGET_SHARE_PERCENT / 100 + spent, "{spent} {remaining} {gap}");
        }
    }
}
