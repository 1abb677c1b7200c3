//! What a GitHub Actions runner block says the same way on EC2 queues
//! (`agent_queue { github { } }`) and Google Cloud nodes (`runner { }`):
//! one scope (a repository or an organisation) and labels.

use crate::core::Diagnostic;
use gantry_scaler_env::github::Scope;
use gantry_schema_derive::Schema;
use serde::Deserialize;

/// The actions/runner release installed at boot when none is named.
pub const DEFAULT_RUNNER_VERSION: &str = "2.329.0";

/// The scope and labels of a runner block (a queue's `github { }`, a
/// node's `runner { }`: each flattens it, so both document them alike).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Schema)]
#[serde(default)]
pub struct RunnerScope {
    /// owner/repo whose jobs the runners take (or organization).
    pub repository: Option<String>,
    /// Organisation runners instead: available to the organisation's repositories.
    pub organization: Option<String>,
    /// Labels besides self-hosted, linux and the architecture (x64 or arm64): a job runs here when each of its runs-on labels is one of the runner's.
    #[schema(required)]
    pub labels: Vec<String>,
}

impl RunnerScope {
    /// The repository or organisation as written ("" when neither is).
    pub fn scope(&self) -> &str {
        self.repository.as_deref().or(self.organization.as_deref()).unwrap_or_default()
    }
}

/// Problems with the scope and the labels; `block` prefixes the attribute
/// names (`github`, `runner`), `what` names where jobs land.
pub fn check_scope_and_labels(b: &RunnerScope, block: &str, what: &str) -> Vec<Diagnostic> {
    let p = |attr: &str, m: String| Diagnostic::attr(&format!("{block}.{attr}"), m);
    let mut out = Vec::new();
    match (b.repository.as_deref(), b.organization.as_deref()) {
        (Some(_), Some(_)) | (None, None) => out.push(p("repository", "set exactly one of repository (owner/repo) and organization".into())),
        (Some(r), None) if !matches!(Scope::parse(r), Ok(Scope::Repository { .. })) => out.push(p("repository", format!("\"{r}\" is not owner/repo"))),
        (None, Some(o)) if !matches!(Scope::parse(o), Ok(Scope::Organization(_))) => {
            out.push(p("organization", format!("\"{o}\" is not an organisation name")))
        }
        _ => {}
    }
    if b.labels.is_empty() {
        out.push(p("labels", format!("list at least one label, so only jobs meant for this {what} land on it")));
    }
    for l in b.labels.iter().filter(|l| l.is_empty() || l.contains(',') || l.chars().any(char::is_whitespace)) {
        out.push(p("labels", format!("\"{l}\" is not a runner label (no spaces or commas)")));
    }
    out
}

/// The labels a runner carries: self-hosted, linux, the architecture, then the block's.
pub fn all_labels(b: &RunnerScope, arm64: bool) -> Vec<String> {
    let mut labels = vec!["self-hosted".to_string(), "linux".to_string(), if arm64 { "arm64" } else { "x64" }.to_string()];
    for l in &b.labels {
        if !labels.iter().any(|x| x.eq_ignore_ascii_case(l)) {
            labels.push(l.clone());
        }
    }
    labels
}
