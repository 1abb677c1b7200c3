//! Counts API calls per service and operation (every attempt, retries
//! included) so `--stats` can show what a plan or apply cost: the AWS SDK
//! interceptor that feeds the count ([`ApiStats`], gantry-core's).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::sync::Arc;

pub use crate::core::calls::ApiStats;

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
