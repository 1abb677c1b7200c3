//! Buildkite's REST API, for `gantry simulate --buildkite ORG[/PIPELINE]`:
//! the builds created since a time, every page (`Link: rel="next"`), and of
//! their jobs the command steps that ran, with their queue and times.
//! `BUILDKITE_API_TOKEN` (scope `read_builds`); `GANTRY_BUILDKITE_API`
//! points at a test fake (default `https://api.buildkite.com/v2`).

use crate::core::error::{ErrorClass, ProviderError};
use gantry_scaler::github::rest::next_link;
use serde::Deserialize;
use std::time::{Duration, SystemTime};

const DEFAULT_API: &str = "https://api.buildkite.com/v2";

#[derive(Deserialize)]
struct Build {
    #[serde(default)]
    jobs: Vec<ApiJob>,
}

#[derive(Deserialize)]
struct ApiJob {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    agent_query_rules: Vec<String>,
    scheduled_at: Option<String>,
    runnable_at: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
}

/// A job that ran on an agent: which queue, when it could start, how long it ran.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RanJob {
    pub queue: String,
    pub runnable_at: SystemTime,
    pub ran_for: Duration,
}

/// The queue a job targets (`queue=NAME` among its agent rules; `default` without one, as Buildkite routes it).
fn queue_of(rules: &[String]) -> String {
    rules.iter().find_map(|r| r.strip_prefix("queue=")).unwrap_or("default").to_string()
}

/// The jobs of builds created since `since`: the organisation's, or one
/// pipeline's (`ORG/PIPELINE`).
pub(crate) async fn ran_jobs(source: &str, since: SystemTime) -> Result<Vec<RanJob>, ProviderError> {
    let err = |class, msg: String| ProviderError::buildkite(class, "ListBuilds", msg);
    let token = std::env::var("BUILDKITE_API_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| err(ErrorClass::Credentials, "set BUILDKITE_API_TOKEN (an API access token with the read_builds scope)".into()))?;
    let api = std::env::var("GANTRY_BUILDKITE_API").unwrap_or_else(|_| DEFAULT_API.to_string());
    let api = api.trim_end_matches('/');
    let path = match source.split_once('/') {
        Some((org, pipeline)) => format!("organizations/{org}/pipelines/{pipeline}/builds"),
        None => format!("organizations/{source}/builds"),
    };
    let from = humantime::format_rfc3339_seconds(since);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("gantry/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| err(ErrorClass::Other, e.to_string()))?;
    let mut next = Some(format!("{api}/{path}?created_from={from}&per_page=100"));
    let mut out = Vec::new();
    while let Some(url) = next.take() {
        let resp = http.get(&url).bearer_auth(&token).send().await.map_err(|e| err(ErrorClass::Network, e.to_string()))?;
        let status = resp.status().as_u16();
        let link = resp.headers().get("link").and_then(|v| v.to_str().ok()).map(String::from);
        let body = resp.text().await.map_err(|e| err(ErrorClass::Network, e.to_string()))?;
        match status {
            200 => {}
            401 | 403 => return Err(err(ErrorClass::AccessDenied, format!("HTTP {status}: the token cannot read builds of {source} (scope read_builds)"))),
            404 => return Err(err(ErrorClass::NotFound, format!("no organization or pipeline {source}"))),
            429 => return Err(err(ErrorClass::Throttled, "Buildkite's REST rate limit (200 requests a minute) is used up; try again in a minute".into())),
            s => return Err(err(if s >= 500 { ErrorClass::Network } else { ErrorClass::Other }, format!("HTTP {s} from {url}"))),
        }
        let builds: Vec<Build> = serde_json::from_str(&body).map_err(|e| err(ErrorClass::Other, format!("unexpected answer from {url}: {e}")))?;
        for j in builds.into_iter().flat_map(|b| b.jobs).filter(|j| j.kind == "script") {
            let time = |t: &Option<String>| super::api_time(t.as_deref());
            let (Some(ready), Some(start), Some(end)) = (time(&j.runnable_at).or(time(&j.scheduled_at)), time(&j.started_at), time(&j.finished_at)) else {
                continue;
            };
            out.push(RanJob { queue: queue_of(&j.agent_query_rules), runnable_at: ready, ran_for: end.duration_since(start).unwrap_or_default() });
        }
        // The token goes only to the API it was given for, whatever a Link header names.
        next = link.as_deref().and_then(next_link).filter(|n| n.starts_with(&format!("{api}/")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_and_times_read_as_buildkite_writes_them() {
        assert_eq!(queue_of(&["os=linux".into(), "queue=gpu".into()]), "gpu");
        assert_eq!(queue_of(&[]), "default");
        let t = crate::cloud::api_time(Some("2026-12-04T10:00:05.250Z")).unwrap();
        assert_eq!(t.duration_since(crate::cloud::api_time(Some("2026-12-04T10:00:00.000Z")).unwrap()).unwrap(), Duration::from_millis(5250));
        assert!(crate::cloud::api_time(Some("yesterday")).is_none() && crate::cloud::api_time(None).is_none());
    }
}
