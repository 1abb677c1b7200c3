//! `gantry simulate`: a queue's scaler replayed over demand, to see the
//! wait and the bill before apply. The queue's settings go through the
//! same path as the deployed function's (the block → the scaler's
//! environment → its `Config`), and each decision is the scaler's own
//! `decide`: what is simulated is the code that runs, not a copy.

mod engine;
pub mod report;
pub mod svg;
#[cfg(test)]
mod tests;
pub mod trace;

pub use engine::{run, Conditions, Job, Outcome, QueueModel, Sample};

use crate::core::State;
use serde_json::Value;

/// The queue of an evaluated `agent_queue` block, as its scaler will see it.
pub fn model(attrs: &State) -> Result<QueueModel, String> {
    let prefix = crate::kinds::agent_queue::github::instance_arn_prefix("us-east-1", crate::config::OFFLINE_ACCOUNT_ID);
    let env = crate::kinds::agent_queue::spec::scaler_env(attrs, "asg", "stack", &prefix).map_err(|e| e.0)?;
    let cfg = gantry_scaler::config::Config::from(env);
    let int = |k: &str, d: u64| attrs.get(k).and_then(Value::as_u64).unwrap_or(d);
    Ok(QueueModel {
        settings: cfg.settings,
        poll_secs: cfg.poll_interval.as_secs_f64().max(1.0),
        min: int("min_size", 0) as u32,
        max: int("max_size", 0) as u32,
        terminate_after_job: attrs.get("terminate_after_job") == Some(&Value::Bool(true)),
        on_demand_percentage: int("on_demand_percentage", 100).min(100) as u32,
    })
}

/// `--set KEY=VALUE` on an evaluated block: `max_size=32`,
/// `scaler.instance_buffer=1`, `scale_in_idle="5m"`. The value is HCL-ish:
/// a number, true/false, or text; the block's own checks then judge it.
pub fn set(attrs: &mut State, assignment: &str) -> Result<(), String> {
    let (key, raw) = assignment.split_once('=').ok_or_else(|| format!("--set {assignment}: expected KEY=VALUE"))?;
    let raw = raw.trim().trim_matches('"');
    let value = match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => raw.parse::<i64>().map(Value::from).or_else(|_| raw.parse::<f64>().map(Value::from)).unwrap_or_else(|_| Value::String(raw.to_string())),
    };
    let key = key.trim();
    match key.split_once('.') {
        Some((block, attr)) => {
            let b = attrs.entry(block.to_string()).or_insert_with(|| Value::Object(Default::default()));
            match b.as_object_mut() {
                Some(o) => o.insert(attr.to_string(), value),
                None => return Err(format!("--set {key}: {block} is not a block")),
            };
        }
        None => {
            attrs.insert(key.to_string(), value);
        }
    }
    Ok(())
}
