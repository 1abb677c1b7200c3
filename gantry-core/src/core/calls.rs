//! The API calls of a run: their count per service and operation (every
//! attempt, retries included, for `--stats`), and the retry loop of the
//! Google clients gantry drives itself: the SDKs' standard policy,
//! restated. (The AWS calls made without an SDK crate retry in
//! gantry-aws-wire, as the AWS SDK clients are configured.)

use crate::core::ProviderError;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Shared call counters.
#[derive(Debug, Default)]
pub struct ApiStats {
    calls: Mutex<BTreeMap<(String, String), u64>>,
}

impl ApiStats {
    /// An empty count.
    pub fn new() -> Arc<Self> {
        Arc::new(ApiStats::default())
    }

    /// Records one call.
    pub fn record(&self, service: &str, operation: &str) {
        let mut m = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry((service.to_string(), operation.to_string())).or_default() += 1;
    }

    /// Calls per service.
    pub fn per_service(&self) -> BTreeMap<String, u64> {
        let m = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = BTreeMap::new();
        for ((svc, _), n) in m.iter() {
            *out.entry(svc.clone()).or_default() += n;
        }
        out
    }

    /// Calls per (service, operation).
    pub fn per_operation(&self) -> BTreeMap<(String, String), u64> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Total number of calls.
    pub fn total(&self) -> u64 {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).values().sum()
    }
}

/// A failed attempt, and whether another is worth making.
pub struct Failure {
    /// What failed.
    pub error: ProviderError,
    /// Whether another attempt may succeed.
    pub retry: bool,
}

/// Runs `f` until it succeeds, fails for good, or has been tried 6 times:
/// counts each attempt, and after a retryable failure waits 200 ms
/// doubling to 10 s, with jitter (the AWS SDKs' standard mode and the
/// Google clients' policy).
pub async fn backoff<T, F, Fut>(stats: &ApiStats, service: &'static str, operation: &'static str, mut f: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut delay = Duration::from_millis(200);
    for attempt in 1.. {
        stats.record(service, operation);
        match f().await {
            Ok(v) => return Ok(v),
            Err(Failure { error, retry }) if !retry || attempt >= 6 => return Err(error),
            Err(_) => {
                let jitter = Duration::from_millis(fastrand::u64(0..=delay.as_millis() as u64 / 2));
                tokio::time::sleep(delay + jitter).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
    unreachable!("the loop returns")
}
