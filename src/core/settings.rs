//! Stack-wide settings read from the `stack` block.

use serde::{Deserialize, Serialize};

/// `backend "s3" { bucket, key, region }`: the shared lock for CI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendConfig {
    pub bucket: String,
    pub key: String,
    pub region: Option<String>,
}
