//! `gantry simulate`: a queue's scaler replayed over demand, to see the
//! wait and the bill before apply. The queue's settings go through the
//! same path as the deployed function's (the block → the scaler's
//! environment → its `Config`), and each decision is the scaler's own
//! `decide`: what is simulated is the code that runs, not a copy.

mod engine;
pub(crate) mod report;
pub(crate) mod svg;
#[cfg(test)]
mod tests;
pub(crate) mod trace;

pub(crate) use engine::{run, Conditions, Job, Outcome, QueueModel, Sample};

use crate::core::{Kind, State};
use serde_json::Value;

/// The queue of an evaluated `agent_queue` block, as its scaler will see it.
pub(crate) fn model(attrs: &State) -> Result<QueueModel, String> {
    let prefix = crate::kinds::agent_queue::github::instance_arn_prefix("us-east-1", crate::config::OFFLINE_ACCOUNT_ID);
    let block = crate::core::read_spec(&crate::kinds::agent_queue::AgentQueue, attrs)?;
    let env = crate::kinds::agent_queue::spec::scaler_env(&block, "asg", "stack", &prefix).map_err(|e| e.0)?;
    let cfg = gantry_scaler::config::Config::from(env);
    let count = |n: i64| u32::try_from(n).unwrap_or(0);
    Ok(QueueModel {
        settings: cfg.settings,
        poll_secs: cfg.poll_interval.as_secs_f64().max(1.0),
        min: count(block.min_size),
        max: count(block.max_size),
        terminate_after_job: block.terminate_after_job,
        on_demand_percentage: count(block.on_demand_percentage.unwrap_or(100)).min(100),
    })
}

/// `--set KEY=VALUE` on an evaluated block: `max_size=32`,
/// `scaler.instance_buffer=1`, `scale_in_idle=5m`. The key must be an
/// `agent_queue` attribute (or one of its blocks'), and the value is judged
/// by that attribute's type, allowed values and range, as in a stack file.
pub(crate) fn set(attrs: &mut State, assignment: &str) -> Result<(), String> {
    use crate::core::schema::check_attr;
    let (key, raw) = assignment.split_once('=').ok_or_else(|| format!("--set {assignment}: expected KEY=VALUE"))?;
    let raw = raw.trim().trim_matches('"');
    let given = match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => raw.parse::<i64>().map(Value::from).or_else(|_| raw.parse::<f64>().map(Value::from)).unwrap_or_else(|_| Value::String(raw.to_string())),
    };
    let key = key.trim();
    let schema = crate::kinds::agent_queue::AgentQueue.schema();
    let (block, attr) = match key.split_once('.') {
        Some((b, a)) => (Some(b), a),
        None => (None, key),
    };
    let spec = match block {
        Some(b) => schema.block(b).and_then(|nb| nb.schema.attr(attr)),
        None => schema.attr(attr),
    }
    .ok_or_else(|| format!("--set {key}: not an agent_queue attribute"))?;
    // A number given for a text attribute (`scale_in_idle=600`) stays text.
    let given = if matches!(given, Value::Number(_)) && spec.ty == crate::core::schema::Ty::String { Value::String(raw.to_string()) } else { given };
    let value = check_attr(spec, &given).map_err(|e| format!("--set {key}: {e}"))?;
    match block {
        Some(b) => {
            let entry = attrs.entry(b.to_string()).or_insert_with(|| Value::Object(Default::default()));
            if entry.is_null() {
                *entry = Value::Object(Default::default());
            }
            entry.as_object_mut().ok_or_else(|| format!("--set {key}: {b} is not a block"))?.insert(attr.to_string(), value);
        }
        None => {
            attrs.insert(attr.to_string(), value);
        }
    }
    Ok(())
}
