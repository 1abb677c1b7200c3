//! `gantry runner wake`: starts a stopped Google Cloud runner node when a
//! job for its labels is queued (see `kinds::common::gcp::runner` for why
//! this runs in the repository's workflow). One pass:
//!
//! 1. read the node: its status and the scope/labels gantry wrote into its
//!    metadata;
//! 2. list the jobs queued for those labels; none → nothing to do;
//! 3. unless a runner of the node is already online and idle, register a
//!    just-in-time runner (`NODE-UNIXTIME`) and leave its configuration in
//!    the node's metadata (stale unused registrations of the node go);
//! 4. start the node if it is stopped (after a stop in progress finishes);
//! 5. with a queued-job timeout: wait until those jobs are picked up, and
//!    cancel the runs of those still queued past the limit.
//!
//! Every step reads before it writes, so a wake cut off half-way (or two
//! at once) leaves nothing a second wake cannot finish.

use crate::core::error::{ErrorClass, ProviderError};
use crate::kinds::common::gcp::runner::{META_JITCONFIG, META_LABELS, META_REPOSITORIES, META_SCOPE};
use crate::kinds::gpu_node::GpuApi;
use gantry_scaler::github::{labels_match, GithubApi, QueuedJob};
use gantry_scaler_env::github::Scope;
use google_cloud_compute_v1::model::metadata::Items;
use google_cloud_compute_v1::model::Metadata;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the node says about its runner (from its metadata).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRunner {
    pub status: String,
    pub scope: Scope,
    pub labels: Vec<String>,
    pub repositories: Vec<String>,
}

/// What one wake did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WakeReport {
    pub queued: usize,
    /// The runner registered for the node, if one was.
    pub registered: Option<String>,
    pub started: bool,
    /// Runs cancelled because their job stayed queued past the limit.
    pub cancelled: Vec<u64>,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn fail(op: &'static str, message: String) -> ProviderError {
    ProviderError::new(ErrorClass::Other, "github", op, message)
}

fn gh(e: gantry_scaler::github::GithubError) -> ProviderError {
    let class = match e {
        gantry_scaler::github::GithubError::Unauthorized(..) | gantry_scaler::github::GithubError::Credentials(_) => ErrorClass::Credentials,
        gantry_scaler::github::GithubError::RateLimited { .. } => ErrorClass::Throttled,
        _ => ErrorClass::Other,
    };
    ProviderError::new(class, "github", "GitHub", e.to_string())
}

fn metadata_map(inst: &google_cloud_compute_v1::model::Instance) -> BTreeMap<String, String> {
    inst.metadata
        .as_ref()
        .map(|m| m.items.iter().map(|i| (i.key.clone().unwrap_or_default(), i.value.clone().unwrap_or_default())).collect())
        .unwrap_or_default()
}

/// Reads the node and what gantry wrote about its runner.
pub async fn read_node(gcp: &dyn GpuApi, zone: &str, node: &str) -> Result<NodeRunner, ProviderError> {
    let inst = gcp.get_instance(zone, node).await?;
    let meta = metadata_map(&inst);
    let missing =
        || fail("ReadNode", format!("{zone}/{node} has no GitHub runner (no {META_LABELS} metadata): give its gpu_node a runner {{ }} block and apply"));
    let labels: Vec<String> = meta.get(META_LABELS).ok_or_else(missing)?.split(',').filter(|l| !l.is_empty()).map(String::from).collect();
    let scope = Scope::parse(meta.get(META_SCOPE).ok_or_else(missing)?).map_err(|e| fail("ReadNode", e.0))?;
    let repositories = meta.get(META_REPOSITORIES).map(|r| r.split(',').filter(|x| !x.is_empty()).map(String::from).collect()).unwrap_or_default();
    let status = inst.status.as_ref().and_then(|s| s.name()).unwrap_or("UNKNOWN").to_string();
    Ok(NodeRunner { status, scope, labels, repositories })
}

/// The jobs queued for the node's labels.
pub async fn queued_for(api: &dyn GithubApi, n: &NodeRunner) -> Result<Vec<QueuedJob>, ProviderError> {
    let mut out = Vec::new();
    for repo in n.scope.polled(&n.repositories) {
        out.extend(api.queued_jobs(&repo).await.map_err(gh)?.into_iter().filter(|j| labels_match(&j.labels, &n.labels)));
    }
    Ok(out)
}

/// Leaves `value` under `key` in the node's metadata, keeping every other item.
async fn put_metadata(gcp: &dyn GpuApi, zone: &str, node: &str, key: &str, value: &str) -> Result<(), ProviderError> {
    let inst = gcp.get_instance(zone, node).await?;
    let mut meta = metadata_map(&inst);
    meta.insert(key.to_string(), value.to_string());
    let md = Metadata::new()
        .set_items(meta.into_iter().map(|(k, v)| Items::new().set_key(k).set_value(v)))
        .set_or_clear_fingerprint(inst.metadata.as_ref().and_then(|m| m.fingerprint.clone()));
    gcp.set_metadata(zone, node, md).await
}

/// Registers a runner for the node unless one is waiting already.
async fn ensure_runner(api: &dyn GithubApi, gcp: &dyn GpuApi, zone: &str, node: &str, say: &dyn Fn(String)) -> Result<Option<String>, ProviderError> {
    let prefix = format!("{node}-");
    let ours: Vec<_> =
        api.runners().await.map_err(gh)?.into_iter().filter(|r| r.name.strip_prefix(&prefix).is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()))).collect();
    if let Some(r) = ours.iter().find(|r| r.online() && !r.busy) {
        say(format!("runner {} is online and idle; it takes the job", r.name));
        return Ok(None);
    }
    // An unused configuration left earlier (the node never started, or a
    // wake was cut off): its registration goes, a fresh one replaces it.
    for r in ours.iter().filter(|r| !r.online() && !r.busy) {
        api.delete_runner(r.id).await.map_err(gh)?;
        say(format!("deleted unused runner registration {}", r.name));
    }
    let name = format!("{node}-{}", now());
    let cfg =
        api.jit_config(&name).await.map_err(gh)?.ok_or_else(|| fail("GenerateJitConfig", format!("a runner named {name} exists already; run wake again")))?;
    put_metadata(gcp, zone, node, META_JITCONFIG, &cfg.encoded).await?;
    say(format!("registered just-in-time runner {name} and left its configuration in the node's metadata"));
    Ok(Some(name))
}

/// Starts the node unless it is running or starting (waits out a stop in progress).
async fn ensure_started(gcp: &dyn GpuApi, zone: &str, node: &str, status: &str, say: &dyn Fn(String)) -> Result<bool, ProviderError> {
    let mut status = status.to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while matches!(status.as_str(), "STOPPING" | "SUSPENDING") {
        if std::time::Instant::now() > deadline {
            return Err(ProviderError::new(ErrorClass::Conflict, "compute", "StartInstance", format!("{zone}/{node} is still {status} after 3 minutes")));
        }
        say(format!("{node} is {status}; waiting to start it"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        status = read_status(gcp, zone, node).await?;
    }
    if matches!(status.as_str(), "TERMINATED" | "STOPPED" | "SUSPENDED") {
        say(format!("starting {node} (was {status})"));
        gcp.start_instance(zone, node).await?;
        return Ok(true);
    }
    say(format!("{node} is {status}; not starting it"));
    Ok(false)
}

async fn read_status(gcp: &dyn GpuApi, zone: &str, node: &str) -> Result<String, ProviderError> {
    Ok(gcp.get_instance(zone, node).await?.status.as_ref().and_then(|s| s.name()).unwrap_or("UNKNOWN").to_string())
}

/// Waits until `jobs` are no longer queued; cancels the runs of those still
/// queued `limit` after they were queued (GitHub's timeout-minutes does not
/// count queue time).
async fn enforce_timeout(
    api: &dyn GithubApi,
    n: &NodeRunner,
    jobs: &[QueuedJob],
    limit: Duration,
    poll: Duration,
    say: &dyn Fn(String),
) -> Result<Vec<u64>, ProviderError> {
    let mut cancelled = Vec::new();
    let mut waiting: Vec<QueuedJob> = jobs.to_vec();
    loop {
        let still: Vec<u64> = queued_for(api, n).await?.into_iter().map(|j| j.id).collect();
        waiting.retain(|j| still.contains(&j.id));
        if waiting.is_empty() {
            say("every queued job was picked up".into());
            return Ok(cancelled);
        }
        let t = now();
        for j in waiting.iter().filter(|j| t.saturating_sub(j.created_at) >= limit.as_secs()) {
            if !cancelled.contains(&j.run_id) {
                api.cancel_run(&j.repo, j.run_id).await.map_err(gh)?;
                say(format!("job {} of {} stayed queued over {}s: cancelled run {}", j.id, j.repo, limit.as_secs(), j.run_id));
                cancelled.push(j.run_id);
            }
        }
        waiting.retain(|j| !cancelled.contains(&j.run_id));
        if waiting.is_empty() {
            return Ok(cancelled);
        }
        tokio::time::sleep(poll).await;
    }
}

/// One wake of `node` in `zone`.
pub async fn wake(
    api: &dyn GithubApi,
    gcp: &dyn GpuApi,
    zone: &str,
    node: &str,
    queued_timeout: Option<Duration>,
    poll: Duration,
    say: &dyn Fn(String),
) -> Result<WakeReport, ProviderError> {
    let n = read_node(gcp, zone, node).await?;
    let jobs = queued_for(api, &n).await?;
    let mut report = WakeReport { queued: jobs.len(), ..WakeReport::default() };
    if jobs.is_empty() {
        say(format!("no job queued for [{}]; {node} stays {}", n.labels.join(", "), n.status));
        return Ok(report);
    }
    say(format!("{} job(s) queued for [{}]", jobs.len(), n.labels.join(", ")));
    report.registered = ensure_runner(api, gcp, zone, node, say).await?;
    report.started = ensure_started(gcp, zone, node, &n.status, say).await?;
    if let Some(limit) = queued_timeout {
        report.cancelled = enforce_timeout(api, &n, &jobs, limit, poll, say).await?;
    }
    Ok(report)
}
