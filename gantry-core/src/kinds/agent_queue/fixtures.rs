//! Test fixtures for a queue: the stack's environment, a block's
//! evaluated attributes with the schema's defaults (as the loader hands
//! them over), and the queue's spec from them. Compiled for gantry-core's
//! tests and, through the `fixtures` feature, for the gantry crate's
//! driver tests.

use super::spec::QueueSpec;
use crate::core::{Env, State};
use serde_json::{json, Value};

/// Evaluation facts for the tests' stack.
pub fn env() -> Env {
    Env {
        stack: "vllm-ci".into(),
        region: "us-west-2".into(),
        account_id: "123456789012".into(),
        dir: ".".into(),
        regions: vec!["us-west-2".into()],
        gcp_project: String::new(),
        gcp_project_number: String::new(),
        workspace: "default".into(),
    }
}

/// A queue's attributes as the loader hands them over (defaults applied).
pub fn attrs(v: Value) -> State {
    let mut base = json!({
        "on_demand_percentage": 100, "spot_allocation_strategy": "price-capacity-optimized", "min_size": 0,
        "agents_per_instance": 1, "root_volume_gb": 250, "root_volume_type": "gp3", "agent_token_parameter": "/bk_agent_token_cluster_ci",
        "subnets": [], "instance_policies": [], "managed_policy_arns": [], "extra_user_data": "", "agent_tags": {}, "agent_env": {},
        "scale_in_idle": "10m", "tags": {}, "region": "us-west-2",
        "scaler": {"zip": {"path": "/tmp/bootstrap.zip", "sha256": "abc=", "size": 1}, "architecture": "arm64", "memory_mb": 128, "timeout_s": 60,
                   "poll_interval": "10s", "scale_out_factor": 1, "instance_buffer": 0, "scale_in_step": 1, "disable_scale_in": false,
                   "include_waiting": false, "metrics_endpoint": "https://agent.buildkite.com/v3"}
    });
    for (k, val) in v.as_object().unwrap() {
        base[k] = val.clone();
    }
    base.as_object().unwrap().clone()
}

/// The queue's evaluated attributes read into its block.
pub fn spec(attrs: &State, env: &Env) -> QueueSpec {
    super::spec::build(&crate::core::read_spec(&super::AgentQueue, attrs).expect("the test block reads"), env)
}
