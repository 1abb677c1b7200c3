//! The Buildkite agent metrics endpoint:
//! `GET {endpoint}/metrics/queue?name=QUEUE` with `Authorization: Token …`.

use super::{QueueSource, SourceError};
use crate::decide::Observation;
use async_trait::async_trait;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The header in which the metrics API says how often to poll, in whole
/// seconds (as buildkite-agent-metrics and buildkite-agent-scaler read it).
pub const POLL_DURATION_HEADER: &str = "Buildkite-Agent-Metrics-Poll-Duration";

#[derive(Deserialize)]
struct Agents {
    idle: u32,
    busy: u32,
}

#[derive(Deserialize)]
struct Jobs {
    scheduled: u32,
    running: u32,
    waiting: u32,
}

#[derive(Deserialize)]
struct Metrics {
    agents: Agents,
    jobs: Jobs,
}

/// Parses the endpoint's answer; every count must be present.
pub fn parse(body: &str) -> Result<Observation, SourceError> {
    let m: Metrics = serde_json::from_str(body).map_err(|e| SourceError::Malformed(e.to_string()))?;
    Ok(Observation { scheduled: m.jobs.scheduled, running: m.jobs.running, waiting: m.jobs.waiting, idle_agents: m.agents.idle, busy_agents: m.agents.busy })
}

/// Reads one queue's counts from the Buildkite agent metrics API.
pub struct BuildkiteSource {
    client: reqwest::Client,
    url: String,
    token: String,
    /// The last poll duration the API asked for, in seconds (0: none).
    poll_duration: AtomicU64,
}

impl BuildkiteSource {
    /// `endpoint` like `https://agent.buildkite.com/v3`.
    pub fn new(endpoint: &str, queue: &str, token: String) -> Result<Self, SourceError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .user_agent(concat!("gantry-scaler/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SourceError::Network(e.to_string()))?;
        let mut url = reqwest::Url::parse(&format!("{}/metrics/queue", endpoint.trim_end_matches('/')))
            .map_err(|e| SourceError::Network(format!("bad endpoint {endpoint}: {e}")))?;
        url.query_pairs_mut().append_pair("name", queue);
        Ok(BuildkiteSource { client, url: url.to_string(), token, poll_duration: AtomicU64::new(0) })
    }
}

#[async_trait]
impl QueueSource for BuildkiteSource {
    async fn observe(&self) -> Result<Observation, SourceError> {
        let resp = self
            .client
            .get(&self.url)
            .header("Authorization", format!("Token {}", self.token))
            .send()
            .await
            .map_err(|e| SourceError::Network(e.to_string()))?;
        let status = resp.status().as_u16();
        if let Some(secs) = resp.headers().get(POLL_DURATION_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok()) {
            self.poll_duration.store(secs, Ordering::Relaxed);
        }
        let body = resp.text().await.map_err(|e| SourceError::Network(e.to_string()))?;
        match status {
            200 => parse(&body),
            401 | 403 => Err(SourceError::Unauthorized(status)),
            429 => Err(SourceError::Throttled),
            _ => Err(SourceError::Http(status, body.chars().take(200).collect())),
        }
    }

    fn min_poll_interval(&self) -> Option<Duration> {
        match self.poll_duration.load(Ordering::Relaxed) {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let o = parse(r#"{"organization":{"slug":"acme"},"cluster":{"name":"ci"},"agents":{"idle":0,"busy":2,"total":2},"jobs":{"scheduled":5,"running":2,"waiting":0,"total":7}}"#).unwrap();
        assert_eq!((o.scheduled, o.running, o.busy_agents), (5, 2, 2));
    }

    #[test]
    fn partial_or_malformed_json_is_an_error() {
        assert!(matches!(parse(r#"{"agents":{"idle":0,"busy":2},"jobs":{"scheduled":5}}"#), Err(SourceError::Malformed(_))));
        assert!(matches!(parse("<html>"), Err(SourceError::Malformed(_))));
        assert!(matches!(parse(r#"{"agents":{"idle":-1,"busy":2},"jobs":{"scheduled":5,"running":0,"waiting":0}}"#), Err(SourceError::Malformed(_))));
    }

    #[test]
    fn retryable_classes() {
        assert!(SourceError::Throttled.retryable());
        assert!(SourceError::Http(503, String::new()).retryable());
        assert!(!SourceError::Unauthorized(401).retryable());
        assert!(!SourceError::Malformed(String::new()).retryable());
    }
}
