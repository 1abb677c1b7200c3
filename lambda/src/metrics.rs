//! Publishing what the scaler saw and decided as CloudWatch metrics.

use crate::decide::Observation;
use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};

/// Where metrics go.
#[async_trait]
pub trait MetricsSink: Send + Sync {
    /// Publishes one poll's numbers. Errors are returned for logging; they
    /// never stop scaling.
    async fn publish(&self, queue: &str, obs: &Observation, desired: u32) -> Result<(), String>;
}

/// CloudWatch `PutMetricData` (one call per poll).
pub struct CloudWatchSink {
    client: aws_sdk_cloudwatch::Client,
    namespace: String,
}

impl CloudWatchSink {
    pub fn new(client: aws_sdk_cloudwatch::Client, namespace: String) -> Self {
        CloudWatchSink { client, namespace }
    }
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

#[async_trait]
impl MetricsSink for CloudWatchSink {
    async fn publish(&self, queue: &str, obs: &Observation, desired: u32) -> Result<(), String> {
        let dim = Dimension::builder().name("Queue").value(queue).build();
        let data: Vec<MetricDatum> = datums(obs, desired)
            .into_iter()
            .map(|(name, v)| MetricDatum::builder().metric_name(name).dimensions(dim.clone()).value(v as f64).unit(StandardUnit::Count).build())
            .collect();
        self.client
            .put_metric_data()
            .namespace(&self.namespace)
            .set_metric_data(Some(data))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_cloudwatch::error::DisplayErrorContext(&e).to_string())
    }
}
