//! What a GitHub Actions runner block says the same way on EC2 queues
//! (`agent_queue { github { } }`) and Google Cloud nodes (`runner { }`):
//! one scope (a repository or an organisation) and labels.

use crate::core::AttrProblem;
use gantry_scaler_env::github::Scope;
use serde_json::{Map, Value};

fn text<'a>(b: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    b.get(k).and_then(Value::as_str)
}

/// The block's strings under `k`.
pub fn strings(b: &Map<String, Value>, k: &str) -> Vec<String> {
    b.get(k).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(String::from).collect()
}

/// Problems with the scope and the labels; `block` prefixes the attribute
/// names (`github`, `runner`), `what` names where jobs land.
pub fn check_scope_and_labels(b: &Map<String, Value>, block: &str, what: &str) -> Vec<AttrProblem> {
    let p = |attr: &str, m: String| AttrProblem::new(&format!("{block}.{attr}"), m);
    let mut out = Vec::new();
    match (text(b, "repository"), text(b, "organization")) {
        (Some(_), Some(_)) | (None, None) => out.push(p("repository", "set exactly one of repository (owner/repo) and organization".into())),
        (Some(r), None) if !matches!(Scope::parse(r), Ok(Scope::Repository { .. })) => out.push(p("repository", format!("\"{r}\" is not owner/repo"))),
        (None, Some(o)) if !matches!(Scope::parse(o), Ok(Scope::Organization(_))) => {
            out.push(p("organization", format!("\"{o}\" is not an organisation name")))
        }
        _ => {}
    }
    let labels = strings(b, "labels");
    if labels.is_empty() {
        out.push(p("labels", format!("list at least one label, so only jobs meant for this {what} land on it")));
    }
    for l in labels.iter().filter(|l| l.is_empty() || l.contains(',') || l.chars().any(char::is_whitespace)) {
        out.push(p("labels", format!("\"{l}\" is not a runner label (no spaces or commas)")));
    }
    out
}

/// The labels a runner carries: self-hosted, linux, the architecture, then the block's.
pub fn all_labels(b: &Map<String, Value>, arm64: bool) -> Vec<String> {
    let mut labels = vec!["self-hosted".to_string(), "linux".to_string(), if arm64 { "arm64" } else { "x64" }.to_string()];
    for l in strings(b, "labels") {
        if !labels.iter().any(|x| x.eq_ignore_ascii_case(&l)) {
            labels.push(l);
        }
    }
    labels
}
