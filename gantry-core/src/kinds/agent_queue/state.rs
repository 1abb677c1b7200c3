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
    /// The function's name.
    pub name: String,
    /// Its Lambda runtime (`provided.al2023`).
    pub runtime: String,
    /// `arm64` or `x86_64`.
    pub architecture: String,
    /// Memory in MB.
    pub memory_mb: i64,
    /// Timeout in seconds.
    pub timeout_s: i64,
    /// The scaler's environment (`gantry_scaler_env::ScalerEnv::to_vars`).
    pub environment: BTreeMap<String, String>,
    /// Base64 SHA-256 of the zip, as Lambda reports `CodeSha256`.
    pub code_sha256: Option<String>,
    /// Its execution role's ARN.
    pub role: String,
    /// The schedule rule allowed to invoke it.
    pub invoked_by: Option<String>,
    /// A public function URL for webhooks (runner queues), with both of its permissions.
    pub webhook: bool,
}

/// What plan-time checks look up, from the queue's spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Facts {
    /// The queue's name.
    pub queue: String,
    /// The SSM parameter holding the AMI id, when the image comes from one.
    pub image_parameter: Option<String>,
    /// The SSM parameter holding the agent token.
    pub token_parameter: String,
    /// SSM parameters named in `agent_secrets` (checked to exist at plan time).
    #[serde(default)]
    pub secret_parameters: Vec<String>,
    /// A runner queue's GitHub App parameters (checked to exist at plan time).
    #[serde(default)]
    pub github_credentials: Vec<String>,
    /// Subnets the instances launch in.
    pub subnets: Vec<String>,
    /// Their VPC (None: not known yet).
    pub vpc_id: Option<String>,
}

/// The desired state of a queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Desired {
    /// The region the queue's stack lives in.
    pub region: String,
    /// The CloudFormation stack's name.
    pub stack_name: String,
    /// Its status (`CREATE_COMPLETE` when desired).
    pub stack_status: String,
    /// The CloudFormation template, sent as it is.
    pub template: Value,
    /// The stack's tags (ownership included).
    pub tags: BTreeMap<String, String>,
    /// The scaler function.
    pub function: FunctionState,
    /// Where the driver finds the zip to upload.
    pub zip_path: Option<String>,
    /// Where that zip came from, for the reviewer (bundled, or named).
    #[serde(default)]
    pub zip_source: Option<String>,
    /// What plan-time checks look up.
    pub facts: Facts,
}

impl Desired {
    /// Parses a desired state (as made by the kind, or read from a saved plan).
    pub fn parse(state: &State) -> Result<Desired, ProviderError> {
        serde_json::from_value(Value::Object(state.clone()))
            .map_err(|e| ProviderError::aws(ErrorClass::Other, "gantry", "ReadPlan", format!("the agent_queue state is not one gantry made ({e}); plan again")))
    }

    /// The desired state as the planner compares it.
    pub fn to_state(&self) -> State {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => State::new(),
        }
    }
}

/// What the driver records beside a live queue's compared fields: its
/// stack's raw status, and the names this queue needs that others hold
/// (the kind's `live_problem` refuses the plan with the way out).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Marks {
    /// The CloudFormation stack's status as read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_status: Option<String>,
    /// `NAME (whose)` of a function with the scaler's name that is not this queue's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_function: Option<String>,
    /// Roles with the names this queue's stack would create.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign_roles: Vec<String>,
    /// Read only: where the queue's stack is (compared fields).
    #[serde(skip_serializing)]
    pub region: String,
    /// Read only: the stack's name (compared fields).
    #[serde(skip_serializing)]
    pub stack_name: String,
}

impl Marks {
    /// The marks of a live state (none when it has none).
    pub fn read(state: &State) -> Marks {
        crate::kinds::common::read_desired(state).unwrap_or_default()
    }

    /// Records the marks in a live state.
    pub fn write(&self, state: &mut State) {
        state.extend(crate::kinds::common::to_state(self));
    }
}

/// The template of a desired or live state (none when it has none).
pub fn template_of(state: &State) -> Option<Value> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct WithTemplate {
        template: Option<Value>,
    }
    crate::kinds::common::read_desired::<WithTemplate>(state).ok().and_then(|t| t.template).filter(|t| !t.is_null())
}

/// The live function as the driver compares it, when there is one.
pub fn live_function(state: &State) -> Option<FunctionState> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct WithFunction {
        function: Option<FunctionState>,
    }
    crate::kinds::common::read_desired::<WithFunction>(state).ok().and_then(|s| s.function)
}
