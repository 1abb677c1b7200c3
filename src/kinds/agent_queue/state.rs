//! A queue's state as the driver reads it: the plan's JSON state parsed
//! once into types (no JSON pointers into templates). The compared fields
//! are `region`, `stack_name`, `stack_status`, `template`, `tags` and
//! `function`; `zip_path`, `zip_source` and `facts` ride along uncompared.

use crate::core::error::{ErrorClass, ProviderError};
use crate::core::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The scaler function, desired or live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FunctionState {
    pub name: String,
    pub runtime: String,
    pub architecture: String,
    pub memory_mb: i64,
    pub timeout_s: i64,
    /// The scaler's environment (`gantry_scaler_env::ScalerEnv::to_vars`).
    pub environment: BTreeMap<String, String>,
    /// Base64 SHA-256 of the zip, as Lambda reports `CodeSha256`.
    pub code_sha256: Option<String>,
    pub role: String,
    /// The schedule rule allowed to invoke it.
    pub invoked_by: Option<String>,
    /// A public function URL for webhooks (runner queues), with both of its permissions.
    pub webhook: bool,
}

/// What plan-time checks look up, from the queue's spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Facts {
    pub queue: String,
    /// The SSM parameter holding the AMI id, when the image comes from one.
    pub image_parameter: Option<String>,
    pub token_parameter: String,
    /// SSM parameters named in `agent_secrets` (checked to exist at plan time).
    #[serde(default)]
    pub secret_parameters: Vec<String>,
    /// A runner queue's GitHub App parameters (checked to exist at plan time).
    #[serde(default)]
    pub github_credentials: Vec<String>,
    pub subnets: Vec<String>,
    pub vpc_id: Option<String>,
}

/// The desired state of a queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Desired {
    pub region: String,
    pub stack_name: String,
    pub stack_status: String,
    /// The CloudFormation template, sent as it is.
    pub template: Value,
    pub tags: BTreeMap<String, String>,
    pub function: FunctionState,
    /// Where the driver finds the zip to upload.
    pub zip_path: Option<String>,
    /// Where that zip came from, for the reviewer (bundled, or named).
    #[serde(default)]
    pub zip_source: Option<String>,
    pub facts: Facts,
}

impl Desired {
    /// Parses a desired state (as made by the kind, or read from a saved plan).
    pub fn parse(state: &State) -> Result<Desired, ProviderError> {
        serde_json::from_value(Value::Object(state.clone()))
            .map_err(|e| ProviderError::aws(ErrorClass::Other, "gantry", "ReadPlan", format!("the agent_queue state is not one gantry made ({e}); plan again")))
    }

    pub fn to_state(&self) -> State {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => State::new(),
        }
    }
}

/// The live function as the driver compares it, when there is one.
pub fn live_function(state: &State) -> Option<FunctionState> {
    state.get("function").filter(|f| !f.is_null()).and_then(|f| serde_json::from_value(f.clone()).ok())
}
