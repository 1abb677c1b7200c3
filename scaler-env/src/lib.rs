//! The scaler's environment contract: what gantry writes into the scaler
//! function's environment (`gantry::kinds::agent_queue`) and what the
//! scaler reads at cold start (`gantry-scaler`). One type, one copy of the
//! defaults and ranges, so the two sides cannot drift.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ASG_NAME` | required | Auto Scaling group to size |
//! | `QUEUE` | required | queue name as the agents are tagged (`queue=NAME`) |
//! | `AGENT_TOKEN_PARAMETER` | required | SSM parameter holding the agent token (SecureString) |
//! | `METRICS_ENDPOINT` | `https://agent.buildkite.com/v3` | agent metrics API |
//! | `AGENTS_PER_INSTANCE` | 1 | agents per instance (1–64) |
//! | `INSTANCE_BUFFER` | 0 | spare instances while there is work (0–1000) |
//! | `SCALE_OUT_FACTOR` | 1 | fraction of the gap added per decision (0.01–1) |
//! | `INCLUDE_WAITING` | false | count waiting jobs as needing agents |
//! | `SCALE_IN_IDLE` | 10m | surplus time before scaling in |
//! | `SCALE_IN_STEP` | 1 | most instances removed per step (1–1000) |
//! | `DISABLE_SCALE_IN` | false | never lower desired capacity |
//! | `POLL_INTERVAL` | 10s | time between polls within one invocation |
//! | `CLOUDWATCH_NAMESPACE` | `Buildkite` | metrics namespace |
//! | `PUBLISH_METRICS` | true | publish CloudWatch metrics |
//! | `CI` | `buildkite` | `buildkite` or `github` (GitHub Actions runners: see [`github`]; `AGENT_TOKEN_PARAMETER` and `METRICS_ENDPOINT` are then unused) |

// Every public item says what it is (CI's -D warnings makes this an error).
#![warn(missing_docs)]

pub mod github;

use std::collections::BTreeMap;
use std::time::Duration;
use thiserror::Error;

/// Defaults, as the stack files' schema also shows them.
pub mod defaults {
    /// Buildkite's agent metrics API.
    pub const METRICS_ENDPOINT: &str = "https://agent.buildkite.com/v3";
    /// Agents per instance.
    pub const AGENTS_PER_INSTANCE: u32 = 1;
    /// Idle instances kept beyond what jobs need.
    pub const INSTANCE_BUFFER: u32 = 0;
    /// Share of the missing capacity added per poll.
    pub const SCALE_OUT_FACTOR: f64 = 1.0;
    /// How long capacity must stay surplus before scaling in.
    pub const SCALE_IN_IDLE: &str = "10m";
    /// Instances removed per scale-in.
    pub const SCALE_IN_STEP: u32 = 1;
    /// Time between polls.
    pub const POLL_INTERVAL: &str = "10s";
    /// CloudWatch namespace of the scaler's metrics.
    pub const CLOUDWATCH_NAMESPACE: &str = "Buildkite";
}

/// Ranges the scaler accepts (inclusive).
pub mod ranges {
    /// Agents per instance.
    pub const AGENTS_PER_INSTANCE: (u32, u32) = (1, 64);
    /// Idle instances kept beyond what jobs need.
    pub const INSTANCE_BUFFER: (u32, u32) = (0, 1000);
    /// Share of the missing capacity added per poll.
    pub const SCALE_OUT_FACTOR: (f64, f64) = (0.01, 1.0);
    /// Instances removed per scale-in.
    pub const SCALE_IN_STEP: (u32, u32) = (1, 1000);
}

/// A value the contract does not accept, naming the variable.
#[derive(Debug, Clone, Error, PartialEq)]
#[error("{0}")]
pub struct EnvError(pub String);

/// The scaler's settings, as carried in its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalerEnv {
    /// The Auto Scaling group (`ASG_NAME`).
    pub asg_name: String,
    /// The Buildkite queue (`QUEUE`).
    pub queue: String,
    /// SSM parameter of the agent token (`AGENT_TOKEN_PARAMETER`).
    pub token_parameter: String,
    /// The metrics API (`METRICS_ENDPOINT`).
    pub metrics_endpoint: String,
    /// `AGENTS_PER_INSTANCE`.
    pub agents_per_instance: u32,
    /// `INSTANCE_BUFFER`.
    pub instance_buffer: u32,
    /// `SCALE_OUT_FACTOR`.
    pub scale_out_factor: f64,
    /// Count jobs waiting on others too (`INCLUDE_WAITING`).
    pub include_waiting: bool,
    /// `SCALE_IN_IDLE`.
    pub scale_in_idle: Duration,
    /// `SCALE_IN_STEP`.
    pub scale_in_step: u32,
    /// Never scale in (`DISABLE_SCALE_IN`).
    pub disable_scale_in: bool,
    /// `POLL_INTERVAL`.
    pub poll_interval: Duration,
    /// `CLOUDWATCH_NAMESPACE`.
    pub cloudwatch_namespace: String,
    /// Write metrics (`PUBLISH_METRICS`).
    pub publish_metrics: bool,
    /// `Some` for a GitHub Actions runner queue (`CI=github`).
    pub github: Option<github::GithubEnv>,
}

impl ScalerEnv {
    /// The required three, everything else at its default.
    pub fn new(asg_name: &str, queue: &str, token_parameter: &str) -> ScalerEnv {
        ScalerEnv {
            asg_name: asg_name.into(),
            queue: queue.into(),
            token_parameter: token_parameter.into(),
            metrics_endpoint: defaults::METRICS_ENDPOINT.into(),
            agents_per_instance: defaults::AGENTS_PER_INSTANCE,
            instance_buffer: defaults::INSTANCE_BUFFER,
            scale_out_factor: defaults::SCALE_OUT_FACTOR,
            include_waiting: false,
            scale_in_idle: parse_duration("SCALE_IN_IDLE", defaults::SCALE_IN_IDLE).expect("valid default"),
            scale_in_step: defaults::SCALE_IN_STEP,
            disable_scale_in: false,
            poll_interval: parse_duration("POLL_INTERVAL", defaults::POLL_INTERVAL).expect("valid default"),
            cloudwatch_namespace: defaults::CLOUDWATCH_NAMESPACE.into(),
            publish_metrics: true,
            github: None,
        }
    }

    /// Every variable, written explicitly (so the deployed function shows
    /// its whole configuration).
    pub fn to_vars(&self) -> BTreeMap<String, String> {
        let pairs = [
            ("ASG_NAME", self.asg_name.clone()),
            ("QUEUE", self.queue.clone()),
            ("AGENT_TOKEN_PARAMETER", self.token_parameter.clone()),
            ("METRICS_ENDPOINT", self.metrics_endpoint.clone()),
            ("AGENTS_PER_INSTANCE", self.agents_per_instance.to_string()),
            ("INSTANCE_BUFFER", self.instance_buffer.to_string()),
            ("SCALE_OUT_FACTOR", self.scale_out_factor.to_string()),
            ("INCLUDE_WAITING", self.include_waiting.to_string()),
            ("SCALE_IN_IDLE", humantime::format_duration(self.scale_in_idle).to_string()),
            ("SCALE_IN_STEP", self.scale_in_step.to_string()),
            ("DISABLE_SCALE_IN", self.disable_scale_in.to_string()),
            ("POLL_INTERVAL", humantime::format_duration(self.poll_interval).to_string()),
            ("CLOUDWATCH_NAMESPACE", self.cloudwatch_namespace.clone()),
            ("PUBLISH_METRICS", self.publish_metrics.to_string()),
        ];
        let mut vars: BTreeMap<String, String> = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        if let Some(g) = &self.github {
            g.write_vars(&mut vars);
        }
        vars
    }

    /// Reads and validates the variables through `get`; unset ones take
    /// their defaults.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<ScalerEnv, EnvError> {
        let required = |k: &str| get(k).filter(|v| !v.trim().is_empty()).ok_or_else(|| EnvError(format!("{k} is required")));
        let num = |k: &str, d: u32, (lo, hi): (u32, u32)| -> Result<u32, EnvError> {
            match get(k) {
                None => Ok(d),
                Some(v) => match v.trim().parse::<u32>() {
                    Ok(n) if (lo..=hi).contains(&n) => Ok(n),
                    _ => Err(EnvError(format!("{k}={v} must be a whole number from {lo} to {hi}"))),
                },
            }
        };
        let flag = |k: &str, d: bool| -> Result<bool, EnvError> {
            match get(k).as_deref().map(str::trim) {
                None => Ok(d),
                Some("true") | Some("1") => Ok(true),
                Some("false") | Some("0") => Ok(false),
                Some(v) => Err(EnvError(format!("{k}={v} must be true or false"))),
            }
        };
        let dur = |k: &str, d: &str| parse_duration(k, &get(k).unwrap_or_else(|| d.to_string()));
        let (lo, hi) = ranges::SCALE_OUT_FACTOR;
        let scale_out_factor = match get("SCALE_OUT_FACTOR") {
            None => defaults::SCALE_OUT_FACTOR,
            Some(v) => match v.trim().parse::<f64>() {
                Ok(f) if (lo..=hi).contains(&f) => f,
                _ => return Err(EnvError(format!("SCALE_OUT_FACTOR={v} must be a number from {lo} to {hi}"))),
            },
        };
        let (asg_name, queue) = (required("ASG_NAME")?, required("QUEUE")?);
        let github = match get("CI").as_deref().map(str::trim) {
            None | Some("buildkite") => None,
            Some("github") => Some(github::GithubEnv::from_lookup(&get)?),
            Some(v) => return Err(EnvError(format!("CI={v} must be buildkite or github"))),
        };
        // A runner queue has no agent token.
        let token_parameter = if github.is_some() { get("AGENT_TOKEN_PARAMETER").unwrap_or_default() } else { required("AGENT_TOKEN_PARAMETER")? };
        let poll_interval = dur("POLL_INTERVAL", defaults::POLL_INTERVAL)?;
        if poll_interval.is_zero() {
            return Err(EnvError("POLL_INTERVAL must be more than 0".into()));
        }
        Ok(ScalerEnv {
            asg_name,
            queue,
            token_parameter,
            metrics_endpoint: get("METRICS_ENDPOINT").unwrap_or_else(|| defaults::METRICS_ENDPOINT.into()),
            agents_per_instance: num("AGENTS_PER_INSTANCE", defaults::AGENTS_PER_INSTANCE, ranges::AGENTS_PER_INSTANCE)?,
            instance_buffer: num("INSTANCE_BUFFER", defaults::INSTANCE_BUFFER, ranges::INSTANCE_BUFFER)?,
            scale_out_factor,
            include_waiting: flag("INCLUDE_WAITING", false)?,
            scale_in_idle: dur("SCALE_IN_IDLE", defaults::SCALE_IN_IDLE)?,
            scale_in_step: num("SCALE_IN_STEP", defaults::SCALE_IN_STEP, ranges::SCALE_IN_STEP)?,
            disable_scale_in: flag("DISABLE_SCALE_IN", false)?,
            poll_interval,
            cloudwatch_namespace: get("CLOUDWATCH_NAMESPACE").unwrap_or_else(|| defaults::CLOUDWATCH_NAMESPACE.into()),
            publish_metrics: flag("PUBLISH_METRICS", true)?,
            github,
        })
    }

    /// Reads a map of variables (e.g. a function's environment).
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<ScalerEnv, EnvError> {
        ScalerEnv::from_lookup(|k| vars.get(k).cloned())
    }
}

/// A duration as the contract writes it (`10m`, `90s`), naming the variable on error.
pub fn parse_duration(var: &str, text: &str) -> Result<Duration, EnvError> {
    humantime::parse_duration(text.trim()).map_err(|e| EnvError(format!("{var}={text}: {e} (write e.g. \"10m\")")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_is_read_back_unchanged() {
        let mut env = ScalerEnv::new("gantry-ci-gpu", "gpu", "/buildkite/token");
        env.scale_out_factor = 0.25;
        env.scale_in_idle = Duration::from_secs(90);
        env.poll_interval = Duration::from_secs(5);
        env.include_waiting = true;
        env.instance_buffer = 3;
        let vars = env.to_vars();
        assert_eq!(vars["SCALE_IN_IDLE"], "1m 30s");
        assert_eq!(ScalerEnv::from_vars(&vars).unwrap(), env);
        let defaults = ScalerEnv::new("a", "q", "/t");
        assert_eq!(ScalerEnv::from_vars(&defaults.to_vars()).unwrap(), defaults);
    }

    #[test]
    fn a_runner_queue_round_trips_and_needs_no_agent_token() {
        use github::{GithubEnv, Scope, TimeoutAction};
        let mut env = ScalerEnv::new("g", "builders", "");
        let mut gh = GithubEnv::new(
            Scope::parse("acme").unwrap(),
            vec!["gpu".into(), "linux".into()],
            "gantry-builders",
            "/gantry/gh",
            "/gantry/jit/builders",
            "arn:aws:ec2:us-west-2:123456789012:instance/",
        );
        gh.repositories = vec!["app".into()];
        gh.queued_job_timeout = Some(Duration::from_secs(1800));
        gh.timeout_action = TimeoutAction::Report;
        env.github = Some(gh);
        let vars = env.to_vars();
        assert_eq!(vars["CI"], "github");
        assert_eq!(ScalerEnv::from_vars(&vars).unwrap(), env);
        let mut bad = vars.clone();
        bad.remove("GITHUB_REPOSITORIES");
        assert!(ScalerEnv::from_vars(&bad).unwrap_err().0.starts_with("GITHUB_REPOSITORIES"));
        bad = vars.clone();
        bad.insert("JIT_CONFIG_PATH".into(), "jit".into());
        assert!(ScalerEnv::from_vars(&bad).unwrap_err().0.starts_with("JIT_CONFIG_PATH"));
        for prefix in ["arn:aws:ec2:us-west-2:123456789012:instance", "arn:aws:ssm:us-west-2:123456789012:instance/", ""] {
            bad = vars.clone();
            bad.insert("INSTANCE_ARN_PREFIX".into(), prefix.into());
            assert!(ScalerEnv::from_vars(&bad).unwrap_err().0.starts_with("INSTANCE_ARN_PREFIX"), "{prefix}");
        }
        bad = vars;
        bad.insert("CI".into(), "jenkins".into());
        assert!(ScalerEnv::from_vars(&bad).unwrap_err().0.starts_with("CI="));
    }

    #[test]
    fn unset_variables_take_the_defaults_and_bad_ones_are_named() {
        let vars: BTreeMap<String, String> = [("ASG_NAME", "g"), ("QUEUE", "q"), ("AGENT_TOKEN_PARAMETER", "/t")].map(|(k, v)| (k.into(), v.into())).into();
        assert_eq!(ScalerEnv::from_vars(&vars).unwrap(), ScalerEnv::new("g", "q", "/t"));
        for (k, v) in
            [("AGENTS_PER_INSTANCE", "0"), ("SCALE_OUT_FACTOR", "2"), ("POLL_INTERVAL", "soon"), ("DISABLE_SCALE_IN", "maybe"), ("POLL_INTERVAL", "0s")]
        {
            let mut bad = vars.clone();
            bad.insert(k.into(), v.into());
            let e = ScalerEnv::from_vars(&bad).unwrap_err();
            assert!(e.0.starts_with(k), "{e}");
        }
        assert_eq!(ScalerEnv::from_lookup(|k| (k == "QUEUE").then(|| "q".into())).unwrap_err(), EnvError("ASG_NAME is required".into()));
    }
}
