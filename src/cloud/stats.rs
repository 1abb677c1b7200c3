//! Counts API calls per service and operation (every attempt, retries
//! included) so `--stats` can show what a plan or apply cost.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

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

/// SDK interceptor that feeds [`ApiStats`].
#[derive(Debug, Clone)]
pub struct CallCounter {
    /// Where the calls are counted.
    pub stats: Arc<ApiStats>,
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "gantry-call-counter"
    }

    fn read_before_attempt(&self, _ctx: &BeforeTransmitInterceptorContextRef<'_>, _rc: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        match cfg.load::<Metadata>() {
            Some(m) => self.stats.record(m.service(), m.name()),
            None => self.stats.record("unknown", "unknown"),
        }
        Ok(())
    }
}
