//! Publishing what the scaler saw and decided as CloudWatch metrics, in the
//! CloudWatch Embedded Metric Format: one JSON line on stdout per poll,
//! which Lambda's log delivery turns into metrics. No API call, no added
//! latency, no throttling, no extra IAM permission beyond writing logs.

use crate::decide::Observation;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where metrics go.
#[async_trait]
pub trait MetricsSink: Send + Sync {
    /// Publishes one poll's numbers. Errors are returned for logging; they
    /// never stop scaling.
    async fn publish(&self, queue: &str, obs: &Observation, desired: u32) -> Result<(), String>;
}

/// Metric names and values for one poll.
pub fn datums(obs: &Observation, desired: u32) -> [(&'static str, u32); 6] {
    [
        ("ScheduledJobsCount", obs.scheduled),
        ("RunningJobsCount", obs.running),
        ("WaitingJobsCount", obs.waiting),
        ("IdleAgentsCount", obs.idle_agents),
        ("BusyAgentsCount", obs.busy_agents),
        ("DesiredCapacity", desired),
    ]
}

/// The EMF document for one poll.
pub fn emf_document(namespace: &str, queue: &str, obs: &Observation, desired: u32, timestamp_ms: u64) -> Value {
    let d = datums(obs, desired);
    let metrics: Vec<Value> = d.iter().map(|(n, _)| json!({"Name": n, "Unit": "Count"})).collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [["Queue"]], "Metrics": metrics}]}),
    );
    doc.insert("Queue".into(), json!(queue));
    for (n, v) in d {
        doc.insert(n.into(), json!(v));
    }
    Value::Object(doc)
}

/// Writes EMF lines to stdout (CloudWatch Logs in Lambda).
pub struct EmfSink {
    /// The CloudWatch namespace.
    pub namespace: String,
}

#[async_trait]
impl MetricsSink for EmfSink {
    async fn publish(&self, queue: &str, obs: &Observation, desired: u32) -> Result<(), String> {
        let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        let line = format!("{}\n", emf_document(&self.namespace, queue, obs, desired, ts));
        // One write per line so it never interleaves with log lines.
        std::io::stdout().lock().write_all(line.as_bytes()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_names_every_metric_with_its_value() {
        let o = Observation { scheduled: 5, running: 2, waiting: 1, idle_agents: 0, busy_agents: 2 };
        let d = emf_document("Buildkite", "q", &o, 7, 1);
        assert_eq!(d["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Buildkite");
        assert_eq!(d["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len(), 6);
        assert_eq!(d["ScheduledJobsCount"], 5);
        assert_eq!(d["DesiredCapacity"], 7);
        assert_eq!(d["Queue"], "q");
    }
}
