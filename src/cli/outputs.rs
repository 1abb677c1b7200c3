//! `gantry output [NAME]`: the stack's outputs, from the files evaluated
//! against the live account (data blocks read, resources checked to exist),
//! and the `Outputs:` block printed after apply.

use super::output::Output;
use super::validate::load_options;
use super::{VarArgs, EXIT_ERROR, EXIT_OK};
use crate::core::OutputValue;
use crate::ops::{make_plan, output_states, Connect, PlanRequest};
use crate::plan::hcl;
use serde_json::{json, Value};
use std::path::PathBuf;

pub(super) struct OutputArgs {
    pub dir: PathBuf,
    pub name: Option<String>,
    pub json: bool,
    pub raw: bool,
    pub vars: VarArgs,
}

/// Terraform's JSON type of a value (`"string"`, `["tuple", [...]]`, `["object", {...}]`).
fn type_of(v: &Value) -> Value {
    match v {
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("dynamic"),
        Value::Array(a) => json!(["tuple", a.iter().map(type_of).collect::<Vec<_>>()]),
        Value::Object(m) => json!(["object", m.iter().map(|(k, x)| (k.clone(), type_of(x))).collect::<serde_json::Map<_, _>>()]),
    }
}

/// `name = value` lines, sensitive values hidden.
pub(super) fn render(outputs: &[OutputValue]) -> String {
    let width = outputs.iter().map(|o| o.name.len()).max().unwrap_or(0);
    outputs
        .iter()
        .map(|o| {
            let v = if o.sensitive { "<sensitive>".to_string() } else { hcl::value(&o.value, 0) };
            format!("{:<width$} = {v}\n", o.name)
        })
        .collect()
}

pub(super) async fn run(out: &Output, a: OutputArgs, connect: &dyn Connect) -> i32 {
    let req = PlanRequest { dir: a.dir, load: load_options(&a.vars), ..PlanRequest::default() };
    let (loaded, result) = make_plan(&req, connect).await;
    out.diagnostics(&loaded);
    let plan = match result {
        Ok((plan, _)) => plan,
        Err(e) => return out.error(&e),
    };
    let outputs = loaded.stack.map(|s| s.outputs).unwrap_or_default();
    let states = output_states(&outputs, &plan);
    let warn = |msg: String| crate::errln!("{} {msg}", out.err_style.yellow("Warning:"));
    if let Some(name) = &a.name {
        let Some(s) = states.iter().find(|s| &s.output.name == name) else {
            let known: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
            let list = if known.is_empty() { "the stack has no output blocks".to_string() } else { format!("outputs: {}", known.join(", ")) };
            crate::errln!("{} no output named \"{name}\" ({list})", out.err_style.red("Error:"));
            return EXIT_ERROR;
        };
        if !s.known() {
            crate::errln!(
                "{} output \"{name}\" is not available: {} not created yet (run gantry apply)",
                out.err_style.red("Error:"),
                s.waiting_for.join(", ")
            );
            return EXIT_ERROR;
        }
        if !s.pending.is_empty() {
            warn(format!("{} has changes not yet applied; this is the configured value", s.pending.join(", ")));
        }
        match (&s.output.value, a.raw, a.json) {
            (_, _, true) => crate::outln!("{}", serde_json::to_string_pretty(&s.output.value).unwrap_or_default()),
            (Value::String(text), true, _) => crate::out!("{text}"),
            (Value::Number(_) | Value::Bool(_), true, _) => crate::out!("{}", s.output.value),
            (_, true, _) => {
                crate::errln!("{} -raw prints strings, numbers and bools only; use -json for \"{name}\"", out.err_style.red("Error:"));
                return EXIT_ERROR;
            }
            // Asked for by name: shown even when sensitive, as Terraform does.
            (v, false, false) => crate::outln!("{}", hcl::value(v, 0)),
        }
        return EXIT_OK;
    }
    for s in states.iter().filter(|s| !s.known()) {
        warn(format!("output \"{}\" is left out: {} not created yet (run gantry apply)", s.output.name, s.waiting_for.join(", ")));
    }
    for s in states.iter().filter(|s| s.known() && !s.pending.is_empty()) {
        warn(format!("output \"{}\": {} has changes not yet applied; the configured value is shown", s.output.name, s.pending.join(", ")));
    }
    let known: Vec<OutputValue> = states.into_iter().filter(|s| s.known()).map(|s| s.output).collect();
    if a.json {
        // Sensitive values stay out of a listing (logs keep it); `output NAME --json` shows one.
        let shown = |o: &OutputValue| if o.sensitive { json!("(sensitive)") } else { o.value.clone() };
        let doc: serde_json::Map<String, Value> =
            known.iter().map(|o| (o.name.clone(), json!({"sensitive": o.sensitive, "type": type_of(&o.value), "value": shown(o)}))).collect();
        crate::outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else if known.is_empty() && outputs.is_empty() {
        warn("the stack has no output blocks; add output \"NAME\" { value = ... }".into());
    } else {
        crate::out!("{}", render(&known));
    }
    EXIT_OK
}
