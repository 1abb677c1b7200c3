//! The one retry loop of the clients gantry drives itself (the Google
//! clients, the EC2 Query calls): the SDKs' standard policy, restated.

use crate::cloud::stats::ApiStats;
use crate::core::ProviderError;
use std::time::Duration;

/// A failed attempt, and whether another is worth making.
pub(crate) struct Failure {
    pub error: ProviderError,
    pub retry: bool,
}

/// Runs `f` until it succeeds, fails for good, or has been tried 6 times:
/// counts each attempt, and after a retryable failure waits 200 ms
/// doubling to 10 s, with jitter (the AWS SDKs' standard mode and the
/// Google clients' policy).
pub(crate) async fn backoff<T, F, Fut>(stats: &ApiStats, service: &'static str, operation: &'static str, mut f: F) -> Result<T, ProviderError>
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
