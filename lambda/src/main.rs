//! The Lambda entry point (`bootstrap`). Clients, configuration and the
//! agent token are set up once per cold start; if that fails, every
//! invocation fails with the reason (so the Errors metric alarms) and set-up
//! is retried on the next one.

use gantry_scaler::config::Config;
use gantry_scaler::group::AwsGroup;
use gantry_scaler::handler::{Scaler, ScalerError, Summary};
use gantry_scaler::metrics::EmfSink;
use gantry_scaler::sources::buildkite::BuildkiteSource;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

type Live = Scaler<BuildkiteSource, AwsGroup, EmfSink>;

async fn init() -> Result<Live, ScalerError> {
    let cfg = Config::from_env().map_err(|e| ScalerError::Init(e.to_string()))?;
    let aws = aws_config::load_from_env().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let param = ssm
        .get_parameter()
        .name(&cfg.token_parameter)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| ScalerError::Init(format!("reading SSM parameter {}: {}", cfg.token_parameter, aws_sdk_ssm::error::DisplayErrorContext(&e))))?;
    let token = param.parameter().and_then(|p| p.value()).unwrap_or_default().trim().to_string();
    if token.is_empty() {
        return Err(ScalerError::Init(format!("SSM parameter {} is empty", cfg.token_parameter)));
    }
    let source = BuildkiteSource::new(&cfg.endpoint, &cfg.queue, token).map_err(|e| ScalerError::Init(e.to_string()))?;
    let group = AwsGroup::new(aws_sdk_autoscaling::Client::new(&aws), cfg.asg_name.clone());
    let metrics = cfg.publish_metrics.then(|| EmfSink { namespace: cfg.namespace.clone() });
    Ok(Scaler { source, group, metrics, queue: cfg.queue, settings: cfg.settings, poll_interval: cfg.poll_interval })
}

async fn handle(state: Arc<Mutex<Option<Arc<Live>>>>, event: LambdaEvent<Value>) -> Result<Summary, Error> {
    let scaler = {
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
    match scaler.run(budget).await {
        Ok(summary) => Ok(summary),
        Err(e) => {
            tracing::error!(queue = %scaler.queue, error = %e, "invocation failed; no scaling done after the failure");
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
