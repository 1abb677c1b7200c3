//! `runner { }` on a `gpu_node` or `tpu_node`: the machine runs a GitHub
//! Actions runner instead of a Buildkite agent, for seed 004's cost model:
//! kept stopped while idle, started when a job for its labels is queued.
//!
//! Where the start/stop logic runs, and why:
//! - stopping is the machine's own business: after `idle_stop` without a
//!   job it shuts itself down (a guest shutdown stops a Compute Engine VM),
//!   so nothing outside needs permission to stop it and nothing stays up;
//! - starting happens in the repository's own workflow: a job on a
//!   GitHub-hosted runner runs `gantry runner wake` with a least-privilege
//!   Google identity obtained through GitHub OIDC and workload identity
//!   federation (no service-account key), and the GitHub App's key from the
//!   repository's secrets. It registers a just-in-time runner, leaves its
//!   one-job configuration in the machine's metadata, starts the machine,
//!   and (optionally) cancels the run if the job is still queued after a
//!   limit. No always-on service, no AWS account for a GCP-only project,
//!   and the App key never reaches the machine that runs untrusted jobs.
//!   (An AWS scaler driving GCP through workload identity federation was
//!   the alternative; it makes a GCP-only project depend on AWS.)
//!
//! The scope and labels are also written to the machine's metadata
//! (`github-runner-*`), so `gantry runner wake` needs only the machine.

use super::extras::Extras;
use crate::core::Diagnostic;
use crate::kinds::common::github_runner::{all_labels, check_scope_and_labels, RunnerScope, DEFAULT_RUNNER_VERSION};
use gantry_schema_derive::Schema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Metadata keys.
pub const META_SCOPE: &str = "github-runner-scope";
/// Metadata key: the runner's scope (repository or organisation).
pub const META_LABELS: &str = "github-runner-labels";
/// Metadata key: the runner's labels.
pub const META_REPOSITORIES: &str = "github-runner-repositories";
/// Metadata key: the repositories an organisation runner may serve.
/// Left by `gantry runner wake`; never compared (gantry- keys are gantry's own).
pub const META_JITCONFIG: &str = "gantry-runner-jitconfig";

/// The evaluated `runner { }` block.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Schema)]
#[serde(default)]
pub struct RunnerBlock {
    /// Where the runner registers (a repository or an organisation) and its labels.
    #[serde(flatten)]
    pub scope: RunnerScope,
    /// Organisation runner: repositories whose queued jobs `gantry runner wake` looks at.
    #[schema(default = empty)]
    pub repositories: Vec<String>,
    /// actions/runner release installed at boot.
    #[schema(default = DEFAULT_RUNNER_VERSION)]
    pub runner_version: Option<String>,
    /// Stop the machine after this long without a job (gpu_node; 0s: never). `gantry runner wake` starts it again.
    #[schema(default = "15m")]
    pub idle_stop: Option<String>,
    /// Docker registries, build secrets and packages (shared with `agent { }`).
    #[serde(flatten)]
    pub extras: Extras,
}

/// `idle_stop` in seconds (0: never stop).
pub fn idle_stop_secs(r: &RunnerBlock) -> Result<u64, String> {
    let t = r.idle_stop.as_deref().unwrap_or("15m");
    humantime::parse_duration(t).map(|d| d.as_secs()).map_err(|e| format!("\"{t}\" is not a duration (e.g. 15m): {e}"))
}

/// The block's problems; `can_stop`: the machine can stop itself (a GPU VM, not a TPU VM).
pub fn check(r: &RunnerBlock, can_stop: bool) -> Vec<Diagnostic> {
    let mut out = check_scope_and_labels(&r.scope, "runner", "machine");
    out.extend(super::extras::check(&r.extras, "runner"));
    let p = |a: &str, m: String| Diagnostic::attr(&format!("runner.{a}"), m);
    match idle_stop_secs(r) {
        Err(e) => out.push(p("idle_stop", e)),
        Ok(s) if s > 0 && !can_stop => {
            out.push(p("idle_stop", "a TPU VM cannot stop itself (its guest shutdown does not stop the node); set idle_stop = \"0s\" or use a gpu_node".into()))
        }
        Ok(s) if s > 0 && s < 60 => out.push(p("idle_stop", "at least 1m: a machine takes longer than that to boot".into())),
        _ => {}
    }
    out
}

const STARTUP: &str = include_str!("runner_startup.sh");

/// The runner part of the startup script.
pub fn startup(r: &RunnerBlock, arm64: bool) -> String {
    STARTUP
        .replace("{{RUNNER_INSTALL}}", crate::kinds::common::RUNNER_INSTALL.trim_end())
        .replace("{{SCOPE}}", r.scope.scope())
        .replace("{{LABELS}}", &all_labels(&r.scope, arm64).join(","))
        .replace("{{RUNNER_VERSION}}", r.runner_version.as_deref().unwrap_or(DEFAULT_RUNNER_VERSION))
        .replace("{{IDLE_STOP}}", &idle_stop_secs(r).unwrap_or(900).to_string())
        .replace("{{EXTRAS}}", super::extras::render(&r.extras, super::extras::Runs::Actions).trim_start_matches('\n'))
}

/// The metadata `gantry runner wake` reads.
pub fn metadata(r: &RunnerBlock, arm64: bool, m: &mut BTreeMap<String, String>) {
    m.insert(META_SCOPE.into(), r.scope.scope().to_string());
    m.insert(META_LABELS.into(), all_labels(&r.scope, arm64).join(","));
    if !r.repositories.is_empty() {
        m.insert(META_REPOSITORIES.into(), r.repositories.join(","));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::common::gcp::node::typed;
    use crate::kinds::common::script_bench::{installed, Bench};
    use serde_json::json;

    fn block() -> RunnerBlock {
        typed(json!({"repository": "carducaldeira/GPU-CICD-Pipeline-Template", "labels": ["gpu-l4"], "runner_version": "2.329.0", "idle_stop": "15m"}))
    }

    #[test]
    fn gpu_runner_startup_script() {
        let s = super::super::node::runner_startup_script("gpu-ci-runner", &block(), super::super::Machine { data_device: "", gpu: true }, false);
        assert!(!s.contains("{{"), "every placeholder is filled");
        assert!(s.contains("IDLE_STOP=\"__IDLE_STOP__\"") && s.contains("s/__IDLE_STOP__/900/"));
        insta::assert_snapshot!("gpu_runner_startup", s);
    }

    #[test]
    fn checks() {
        assert!(check(&block(), true).is_empty());
        let msgs: Vec<String> = check(&block(), false).into_iter().map(|p| p.attr).collect();
        assert_eq!(msgs, ["runner.idle_stop"], "a TPU VM cannot stop itself");
        let bad: RunnerBlock = typed(json!({"labels": [], "idle_stop": "soon"}));
        assert_eq!(check(&bad, true).len(), 3);
    }

    /// The loop runs one job per new configuration (never the same one
    /// twice) and stops the machine after idle_stop without one.
    #[test]
    fn the_runner_loop_runs_each_configuration_once_and_stops_when_idle() {
        let script = super::super::node::runner_startup_script("n", &block(), super::super::Machine::default(), false);
        let body = installed(&script, "gantry-runner-loop");
        let b = Bench::new();
        let cfg = b.path().join("jit");
        b.script("curl", &format!("[ -f '{0}' ] && cat '{0}' || exit 22\n", cfg.display()));
        b.script("runuser", &format!("echo \"runuser $*\" >> '{}'\n", b.log().display()));
        b.fake("shutdown", 0);
        let state = b.path().join("state");
        let env = [("GANTRY_STATE_DIR", state.to_str().unwrap()), ("GANTRY_RUNNER_POLL", "0"), ("GANTRY_RUNNER_ONCE", "1"), ("GANTRY_RUNNER_DIR", "/opt/r")];
        // No configuration yet, not idle long enough: nothing.
        assert_eq!(b.run(&body.replace("__IDLE_STOP__", "900"), &env), "");
        // A configuration: one job with it; the same one again: nothing.
        std::fs::write(&cfg, "Y29uZmln").unwrap();
        let log = b.run(&body.replace("__IDLE_STOP__", "900"), &env);
        assert_eq!(log, "runuser -u runner -- /opt/r/run.sh --jitconfig Y29uZmln\n");
        assert_eq!(b.run(&body.replace("__IDLE_STOP__", "900"), &env), "", "a configuration works once");
        // Idle past idle_stop (1 s here): the machine stops itself.
        let idle = body.replace("__IDLE_STOP__", "1");
        let log = b.run(&idle, &[("GANTRY_STATE_DIR", state.to_str().unwrap()), ("GANTRY_RUNNER_POLL", "1")]);
        assert_eq!(log, "shutdown -h now\n");
    }
}
