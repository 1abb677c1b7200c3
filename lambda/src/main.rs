//! The Lambda entry point (`bootstrap`). Clients, configuration and
//! credentials (the Buildkite agent token, or the GitHub App's) are set up
//! once per cold start; if that fails, every invocation fails with the
//! reason (so the Errors metric alarms) and set-up is retried on the next.
//!
//! Two kinds of invocation: the schedule (poll for the function's time
//! budget) and, for runner queues, a `workflow_job` webhook through the
//! function URL (see `gantry_scaler::github::webhook`).

use gantry_aws_wire::autoscaling::AutoScaling;
use gantry_aws_wire::ssm::Ssm;
use gantry_scaler::config::Config;
use gantry_scaler::github::app::AppCredentials;
use gantry_scaler::github::jit_store::{read_path, SsmJitStore};
use gantry_scaler::github::rest::RestGithub;
use gantry_scaler::github::source::GithubSource;
use gantry_scaler::github::webhook::{judge, Seen, UrlEvent, Verdict};
use gantry_scaler::group::AwsGroup;
use gantry_scaler::handler::{Scaler, ScalerError};
use gantry_scaler::metrics::EmfSink;
use gantry_scaler::sources::buildkite::BuildkiteSource;
use gantry_scaler::sources::QueueSource;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// GitHub gives up on a delivery after 10 s; the nudged poll gets less.
const WEBHOOK_POLL_BUDGET: Duration = Duration::from_secs(8);

struct Webhook {
    secret: String,
    labels: Vec<String>,
    seen: Seen,
}

struct Live {
    scaler: Scaler<Box<dyn QueueSource>, AwsGroup, EmfSink>,
    webhook: Option<Webhook>,
}

async fn buildkite(cfg: &Config, ssm: &Ssm) -> Result<Box<dyn QueueSource>, ScalerError> {
    let param = ssm.get_parameter(&cfg.token_parameter).await.map_err(|e| ScalerError::Init(format!("reading SSM parameter {}: {e}", cfg.token_parameter)))?;
    let token = param.value.trim().to_string();
    if token.is_empty() {
        return Err(ScalerError::Init(format!("SSM parameter {} is empty", cfg.token_parameter)));
    }
    Ok(Box::new(BuildkiteSource::new(&cfg.endpoint, &cfg.queue, token).map_err(|e| ScalerError::Init(e.to_string()))?))
}

async fn init() -> Result<Live, ScalerError> {
    let cfg = Config::from_env().map_err(|e| ScalerError::Init(e.to_string()))?;
    let aws = aws_config::load_from_env().await;
    let region = aws.region().map(|r| r.to_string()).ok_or_else(|| ScalerError::Init("no AWS region (AWS_REGION is unset)".into()))?;
    let ssm = Arc::new(Ssm::new(&aws, &region));
    let (source, webhook): (Box<dyn QueueSource>, _) = match &cfg.github {
        None => (buildkite(&cfg, &ssm).await?, None),
        Some(gh) => {
            let init = |e: gantry_scaler::github::GithubError| ScalerError::Init(e.to_string());
            let values = read_path(&ssm, &gh.credentials_path).await.map_err(init)?;
            let creds = AppCredentials::from_parameters(&values, &gh.credentials_path).map_err(init)?;
            let webhook = Webhook { secret: creds.webhook_secret.clone(), labels: gh.labels.clone(), seen: Seen::default() };
            let api = RestGithub::new(gh, creds).map_err(init)?;
            let source = GithubSource::new(api, SsmJitStore::new(ssm.clone(), &gh.jit_config_path, &gh.instance_arn_prefix), gh);
            (Box::new(source), Some(webhook))
        }
    };
    let group = AwsGroup::new(AutoScaling::new(&aws, &region), cfg.asg_name.clone());
    let metrics = cfg.publish_metrics.then(|| EmfSink { namespace: cfg.namespace.clone() });
    let scaler = Scaler { source, group, metrics, queue: cfg.queue, settings: cfg.settings, poll_interval: cfg.poll_interval };
    Ok(Live { scaler, webhook })
}

fn http(status: u16, body: Value) -> Value {
    json!({"statusCode": status, "headers": {"content-type": "application/json"}, "body": body.to_string()})
}

/// A function URL request: a webhook delivery.
async fn delivery(live: &Live, event: Value, budget: Duration) -> Value {
    let Some(hook) = &live.webhook else {
        return http(404, json!({"message": "this queue takes no webhooks"}));
    };
    let url_event: UrlEvent = match serde_json::from_value(event) {
        Ok(e) => e,
        Err(e) => return http(400, json!({"message": e.to_string()})),
    };
    match judge(&url_event, &hook.secret, &hook.labels, &hook.seen) {
        Verdict::Forged => {
            tracing::warn!(queue = %live.scaler.queue, "refused a webhook delivery with a missing or wrong signature");
            http(401, json!({"message": "signature does not match"}))
        }
        Verdict::Malformed(m) => http(400, json!({"message": m})),
        Verdict::Ignored(why) => http(200, json!({"ignored": why})),
        Verdict::Reconcile { job_id } => {
            tracing::info!(queue = %live.scaler.queue, job = job_id, "a job for this queue was queued; polling now");
            // An unfinished poll is safe to cut: reconciliation resumes on the next one.
            match tokio::time::timeout(budget.min(WEBHOOK_POLL_BUDGET), live.scaler.poll_now(budget.min(WEBHOOK_POLL_BUDGET))).await {
                Ok(Ok(record)) => http(202, json!({"job": job_id, "desired": record.decision.desired, "reason": record.decision.reason})),
                Ok(Err(e)) => {
                    tracing::error!(queue = %live.scaler.queue, error = %e, "the nudged poll failed; the scheduled one will retry");
                    http(202, json!({"job": job_id, "deferred": e.to_string()}))
                }
                Err(_) => http(202, json!({"job": job_id, "deferred": "the poll did not finish in time; the next one resumes it"})),
            }
        }
    }
}

async fn handle(state: Arc<Mutex<Option<Arc<Live>>>>, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let live = {
        let mut slot = state.lock().await;
        match slot.as_ref() {
            Some(s) => s.clone(),
            None => match init().await {
                Ok(s) => {
                    let s = Arc::new(s);
                    *slot = Some(s.clone());
                    s
                }
                Err(e) => {
                    tracing::error!(error = %e, "scaler set-up failed; no scaling done");
                    return Err(e.into());
                }
            },
        }
    };
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let budget = Duration::from_millis(event.context.deadline.saturating_sub(now_ms));
    if event.payload.get("requestContext").is_some() {
        return Ok(delivery(&live, event.payload, budget).await);
    }
    match live.scaler.run(budget).await {
        Ok(summary) => Ok(serde_json::to_value(summary)?),
        Err(e) => {
            tracing::error!(queue = %live.scaler.queue, error = %e, "invocation failed; no scaling done after the failure");
            Err(e.into())
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_current_span(false)
        .with_target(true)
        .without_time()
        .init();
    // Set up at cold start; a failure is reported by the first invocation.
    let started = std::time::Instant::now();
    let first = init().await;
    tracing::info!(init_ms = started.elapsed().as_secs_f64() * 1000.0, ok = first.is_ok(), "cold-start set-up finished");
    if let Err(e) = &first {
        tracing::error!(error = %e, "cold-start set-up failed; will retry on each invocation");
    }
    let state = Arc::new(Mutex::new(first.ok().map(Arc::new)));
    lambda_runtime::run(service_fn(move |event| handle(state.clone(), event))).await
}
