//! Configuration from the function's environment, validated at cold start.
//! The variables, their defaults and ranges are the contract shared with
//! gantry (`gantry-scaler-env`, which documents them); this module only
//! turns them into the scaler's settings.

use crate::decide::Settings;
use gantry_scaler_env::ScalerEnv;
use std::time::Duration;
use thiserror::Error;

/// Invalid configuration.
#[derive(Debug, Error, PartialEq)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Everything the scaler needs besides clients.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The Auto Scaling group it sizes (`ASG_NAME`).
    pub asg_name: String,
    /// The Buildkite queue it reads (`QUEUE`).
    pub queue: String,
    /// The SSM parameter holding the agent token.
    pub token_parameter: String,
    /// The Buildkite agent metrics API.
    pub endpoint: String,
    /// How it decides.
    pub settings: Settings,
    /// Time between polls within one invocation.
    pub poll_interval: Duration,
    /// CloudWatch namespace of its metrics.
    pub namespace: String,
    /// Write metrics (EMF lines) at all.
    pub publish_metrics: bool,
    /// A GitHub Actions runner queue (`CI=github`).
    pub github: Option<gantry_scaler_env::github::GithubEnv>,
}

impl From<ScalerEnv> for Config {
    fn from(e: ScalerEnv) -> Config {
        Config {
            asg_name: e.asg_name,
            queue: e.queue,
            token_parameter: e.token_parameter,
            endpoint: e.metrics_endpoint,
            settings: Settings {
                agents_per_instance: e.agents_per_instance,
                instance_buffer: e.instance_buffer,
                scale_out_factor: e.scale_out_factor,
                include_waiting: e.include_waiting,
                scale_in_idle_secs: e.scale_in_idle.as_secs(),
                scale_in_step: e.scale_in_step,
                disable_scale_in: e.disable_scale_in,
            },
            poll_interval: e.poll_interval,
            namespace: e.cloudwatch_namespace,
            publish_metrics: e.publish_metrics,
            github: e.github,
        }
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (testable without the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        ScalerEnv::from_lookup(get).map(Config::from).map_err(|e| ConfigError(e.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    const BASE: &[(&str, &str)] = &[("ASG_NAME", "g"), ("QUEUE", "q"), ("AGENT_TOKEN_PARAMETER", "/t")];

    #[test]
    fn the_contract_defaults_are_the_deciders_defaults() {
        let c = cfg(BASE).unwrap();
        assert_eq!(c.settings, Settings::default());
        assert_eq!(c.poll_interval, Duration::from_secs(10));
    }

    #[test]
    fn out_of_range_settings_are_errors() {
        for (k, v) in [("AGENTS_PER_INSTANCE", "0"), ("SCALE_OUT_FACTOR", "2"), ("POLL_INTERVAL", "soon"), ("DISABLE_SCALE_IN", "maybe")] {
            let mut pairs = BASE.to_vec();
            pairs.push((k, v));
            let e = cfg(&pairs).unwrap_err();
            assert!(e.0.starts_with(k), "{e}");
        }
        assert_eq!(cfg(&[("QUEUE", "q")]).unwrap_err(), ConfigError("ASG_NAME is required".into()));
    }

    #[test]
    fn what_gantry_writes_the_scaler_reads() {
        let mut env = ScalerEnv::new("gantry-ci-gpu", "gpu", "/bk/token");
        env.scale_in_step = 4;
        env.scale_in_idle = Duration::from_secs(300);
        let vars = env.to_vars();
        let c = cfg(&vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()).unwrap();
        assert_eq!(c.settings.scale_in_step, 4);
        assert_eq!(c.settings.scale_in_idle_secs, 300);
        assert_eq!(c.asg_name, "gantry-ci-gpu");
    }
}
