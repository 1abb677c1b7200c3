//! What every Google Cloud node block says the same way (`tpu_node`,
//! `gpu_node`): its name and zone, its network and identity, its labels
//! and metadata, and what it runs (an agent, a runner or a script of the
//! user's), typed, with the rules and the desired fields they share.

use super::extras::{self, Extras};
use super::runner::{self, RunnerBlock};
use super::{check_labels, prelude, valid_name, valid_zone, Machine, STARTUP};
use crate::core::{Diagnostic, State};
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// The node attributes both kinds take (each kind's `Spec` flattens it,
/// so both document them alike).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Schema)]
#[serde(default)]
pub struct NodeSpec {
    /// Node name (default: the block label).
    #[schema(forces_replacement)]
    pub name: String,
    /// Zone, e.g. us-east5-b or us-central1-a.
    #[schema(required, forces_replacement)]
    pub zone: String,
    /// VPC network.
    #[schema(default = "default", forces_replacement)]
    pub network: String,
    /// Subnetwork.
    #[schema(forces_replacement)]
    pub subnetwork: Option<String>,
    /// Service account email (default: the project's default compute service account).
    #[schema(forces_replacement)]
    pub service_account: Option<String>,
    /// OAuth scopes (default: cloud-platform; access is then governed by IAM).
    #[schema(forces_replacement)]
    pub scopes: Option<Vec<String>>,
    /// Labels (updated in place).
    #[schema(default = empty)]
    pub labels: BTreeMap<String, String>,
    /// Metadata (updated in place).
    #[schema(default = empty)]
    pub metadata: BTreeMap<String, String>,
    /// Startup script (or use an agent block).
    pub startup_script: Option<String>,
    /// Run a CI agent for a queue (renders the startup script).
    #[schema(block)]
    pub agent: Option<AgentBlock>,
    /// Run a GitHub Actions runner instead (one job per configuration from `gantry runner wake`; renders the startup script).
    #[schema(block)]
    pub runner: Option<RunnerBlock>,
}

/// A node's network and service-account fields in its comparable state
/// (each kind's `Desired` flattens it; null where unset, or server-filled).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeNetwork {
    /// The VPC network (default: the project's default network).
    pub network: Option<String>,
    /// The subnetwork (default: the network's in the region).
    pub subnetwork: Option<String>,
    /// The service account the node runs as (default: the Compute Engine default).
    pub service_account: Option<String>,
    /// Sorted, without duplicates.
    pub scopes: Option<Vec<String>>,
}

/// Where a node lives, read from its desired or live state.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Placement {
    /// The node's zone.
    pub zone: String,
    /// The node's name.
    pub name: String,
}

impl Placement {
    /// The state's zone and name ("" where it has none: only an edited plan).
    pub fn of(state: &State) -> Placement {
        crate::kinds::common::read_desired(state).unwrap_or_default()
    }
}

/// The evaluated `agent { }` block.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Schema)]
#[serde(default)]
pub struct AgentBlock {
    /// Queue the agent serves (tag queue=NAME).
    #[schema(required)]
    pub queue: String,
    /// Secret Manager secret holding the agent token (never put in metadata).
    #[schema(required)]
    pub token_secret: String,
    /// Agents on the machine.
    #[schema(default = 1, range(1, 64))]
    pub agents: Option<i64>,
    /// Extra agent tags.
    #[schema(default = empty)]
    pub tags: BTreeMap<String, String>,
    /// Docker registries, build secrets and packages (shared with `runner { }`).
    #[serde(flatten)]
    pub extras: Extras,
}

impl NodeSpec {
    /// Node identity: `zone/name` (names are unique per zone).
    pub fn identity(&self) -> String {
        format!("{}/{}", self.zone, self.name)
    }

    /// Checks every node kind shares: name, zone, agent vs startup script,
    /// labels, and the runner block (`can_stop`: whether the machine can
    /// stop itself when idle).
    pub fn check(&self, can_stop: bool) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if !valid_name(&self.name) {
            out.push(Diagnostic::attr("name", format!("\"{}\" must be 1-63 lowercase letters, digits and -, starting with a letter", self.name)));
        }
        if !valid_zone(&self.zone) {
            out.push(Diagnostic::attr("zone", format!("\"{}\" is not a zone (e.g. us-east5-b)", self.zone)));
        }
        let ways = [self.agent.is_some(), self.runner.is_some(), self.startup_script.is_some()].iter().filter(|w| **w).count();
        if ways > 1 {
            out.push(Diagnostic::attr("startup_script", "use one of an agent block, a runner block or startup_script"));
        }
        out.extend(check_labels("labels", &self.labels));
        if let Some(agent) = &self.agent {
            out.extend(extras::check(&agent.extras, "agent"));
        }
        if let Some(r) = &self.runner {
            out.extend(runner::check(r, can_stop));
        }
        out
    }

    /// Referenceable attributes of a node: name, zone and its resource id.
    pub fn outputs(&self, id: String) -> State {
        let mut out = State::new();
        out.insert("name".into(), json!(self.name));
        out.insert("zone".into(), json!(self.zone));
        out.insert("id".into(), json!(id));
        out
    }

    /// Desired network and service-account fields (None where the user left them unset).
    pub fn network(&self) -> NodeNetwork {
        let mut scopes = self.scopes.clone();
        if let Some(s) = scopes.as_mut() {
            s.sort();
            s.dedup();
        }
        NodeNetwork { network: Some(self.network.clone()), subnetwork: self.subnetwork.clone(), service_account: self.service_account.clone(), scopes }
    }

    /// The metadata a node should carry: the user's plus the startup script
    /// (and a runner's scope and labels). `machine_type` tells arm64 from x64.
    pub fn metadata(&self, setup: Machine, machine_type: &str) -> BTreeMap<String, String> {
        let mut m = self.metadata.clone();
        if let Some(agent) = &self.agent {
            m.insert("startup-script".into(), startup_script(&self.name, agent, setup));
        } else if let Some(r) = &self.runner {
            // Arm machine families (t2a, c4a) run arm64 runners.
            let arm64 = machine_type.starts_with("t2a-") || machine_type.starts_with("c4a-");
            m.insert("startup-script".into(), runner_startup_script(&self.name, r, setup, arm64));
            runner::metadata(r, arm64, &mut m);
        } else if let Some(s) = &self.startup_script {
            m.insert("startup-script".into(), s.clone());
        }
        m
    }
}

/// Renders the startup script for a runner block.
pub fn runner_startup_script(node: &str, runner: &RunnerBlock, m: Machine, arm64: bool) -> String {
    format!("{}{}", prelude("GitHub Actions runner", node, m), runner::startup(runner, arm64))
}

/// Renders the startup script for an agent block.
pub fn startup_script(node: &str, agent: &AgentBlock, m: Machine) -> String {
    let tags: String = agent.tags.iter().map(|(k, v)| format!(",{k}={v}")).collect();
    let queue = agent.queue.as_str();
    format!("{}{}", prelude(&format!("CI agent for queue {queue}"), node, m), STARTUP)
        .replace("{{QUEUE}}", queue)
        .replace("{{TOKEN_SECRET}}", &agent.token_secret)
        .replace("{{AGENTS}}", &agent.agents.unwrap_or(1).to_string())
        .replace("{{AGENT_TAGS}}", &tags)
        .replace("{{AGENT_CFG_EXTRA}}", &extras::redacted_vars(&agent.extras))
        .replace("{{EXTRAS}}", extras::render(&agent.extras, extras::Runs::Buildkite).trim_start_matches('\n'))
        .replace("{{NODE}}", node)
}

/// A JSON value as a typed block, for tests that write blocks inline.
#[cfg(test)]
pub fn typed<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("the test's block reads")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_way_to_start_and_the_runner_rules_apply() {
        let both: NodeSpec = typed(json!({"name": "n", "zone": "us-east5-b", "startup_script": "echo", "agent": {"queue": "q", "token_secret": "t"}}));
        assert_eq!(both.check(true).iter().map(|p| p.attr.as_str()).collect::<Vec<_>>(), ["startup_script"]);
        let runner: NodeSpec = typed(json!({"name": "n", "zone": "us-east5-b", "runner": {"repository": "a/b", "labels": ["x"], "idle_stop": "15m"}}));
        assert!(runner.check(true).is_empty());
        assert_eq!(runner.check(false).iter().map(|p| p.attr.as_str()).collect::<Vec<_>>(), ["runner.idle_stop"], "a TPU VM cannot stop itself");
    }

    #[test]
    fn unset_network_fields_are_null_and_scopes_sorted() {
        let n: NodeSpec = typed(json!({"network": "default", "scopes": ["b", "a", "b"]}));
        assert_eq!(json!(n.network()), json!({"network": "default", "subnetwork": null, "service_account": null, "scopes": ["a", "b"]}));
    }
}
