//! Configuration from the function's environment, validated at cold start.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `ASG_NAME` | required | Auto Scaling group to size |
//! | `QUEUE` | required | queue name as the agents are tagged (`queue=NAME`) |
//! | `AGENT_TOKEN_PARAMETER` | required | SSM parameter holding the agent token (SecureString) |
//! | `METRICS_ENDPOINT` | `https://agent.buildkite.com/v3` | agent metrics API |
//! | `AGENTS_PER_INSTANCE` | 1 | agents per instance (1–64) |
//! | `INSTANCE_BUFFER` | 0 | spare instances while there is work |
//! | `SCALE_OUT_FACTOR` | 1.0 | fraction of the gap added per decision (0.01–1) |
//! | `INCLUDE_WAITING` | false | count waiting jobs as needing agents |
//! | `SCALE_IN_IDLE` | 10m | surplus time before scaling in |
//! | `SCALE_IN_STEP` | 1 | most instances removed per step |
//! | `DISABLE_SCALE_IN` | false | never lower desired capacity |
//! | `POLL_INTERVAL` | 10s | time between polls within one invocation |
//! | `CLOUDWATCH_NAMESPACE` | `Buildkite` | metrics namespace |
//! | `PUBLISH_METRICS` | true | publish CloudWatch metrics |

use crate::decide::Settings;
use std::time::Duration;
use thiserror::Error;

/// Invalid configuration.
#[derive(Debug, Error, PartialEq)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Everything the scaler needs besides clients.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub asg_name: String,
    pub queue: String,
    pub token_parameter: String,
    pub endpoint: String,
    pub settings: Settings,
    pub poll_interval: Duration,
    pub namespace: String,
    pub publish_metrics: bool,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (testable without the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |k: &str| get(k).filter(|v| !v.trim().is_empty()).ok_or_else(|| ConfigError(format!("{k} is required")));
        let num = |k: &str, d: u32, lo: u32, hi: u32| -> Result<u32, ConfigError> {
            match get(k) {
                None => Ok(d),
                Some(v) => match v.trim().parse::<u32>() {
                    Ok(n) if (lo..=hi).contains(&n) => Ok(n),
                    _ => Err(ConfigError(format!("{k}={v} must be a whole number from {lo} to {hi}"))),
                },
            }
        };
        let flag = |k: &str, d: bool| -> Result<bool, ConfigError> {
            match get(k).as_deref().map(str::trim) {
                None => Ok(d),
                Some("true") | Some("1") => Ok(true),
                Some("false") | Some("0") => Ok(false),
                Some(v) => Err(ConfigError(format!("{k}={v} must be true or false"))),
            }
        };
        let dur = |k: &str, d: &str| -> Result<Duration, ConfigError> {
            let v = get(k).unwrap_or_else(|| d.to_string());
            humantime::parse_duration(v.trim()).map_err(|e| ConfigError(format!("{k}={v}: {e}")))
        };
        let factor = match get("SCALE_OUT_FACTOR") {
            None => 1.0,
            Some(v) => match v.trim().parse::<f64>() {
                Ok(f) if (0.01..=1.0).contains(&f) => f,
                _ => return Err(ConfigError(format!("SCALE_OUT_FACTOR={v} must be a number from 0.01 to 1"))),
            },
        };
        let poll_interval = dur("POLL_INTERVAL", "10s")?;
        if poll_interval.is_zero() {
            return Err(ConfigError("POLL_INTERVAL must be more than 0".into()));
        }
        Ok(Config {
            asg_name: required("ASG_NAME")?,
            queue: required("QUEUE")?,
            token_parameter: required("AGENT_TOKEN_PARAMETER")?,
            endpoint: get("METRICS_ENDPOINT").unwrap_or_else(|| "https://agent.buildkite.com/v3".into()),
            settings: Settings {
                agents_per_instance: num("AGENTS_PER_INSTANCE", 1, 1, 64)?,
                instance_buffer: num("INSTANCE_BUFFER", 0, 0, 1000)?,
                scale_out_factor: factor,
                include_waiting: flag("INCLUDE_WAITING", false)?,
                scale_in_idle_secs: dur("SCALE_IN_IDLE", "10m")?.as_secs(),
                scale_in_step: num("SCALE_IN_STEP", 1, 1, 1000)?,
                disable_scale_in: flag("DISABLE_SCALE_IN", false)?,
            },
            poll_interval,
            namespace: get("CLOUDWATCH_NAMESPACE").unwrap_or_else(|| "Buildkite".into()),
            publish_metrics: flag("PUBLISH_METRICS", true)?,
        })
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
    fn defaults() {
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
}
