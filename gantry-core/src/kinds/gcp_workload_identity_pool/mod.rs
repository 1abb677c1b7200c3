//! `gcp_workload_identity_pool`: a workload identity pool with a GitHub
//! Actions OIDC provider, so named repositories' workflows can act as a
//! service account without a key (the GPU template's wake job).
//!
//! ```hcl
//! gcp_workload_identity_pool "github" {
//!   pool_id = "github"
//!   github {
//!     repositories = ["carducaldeira/GPU-CICD-Pipeline-Template"]
//!   }
//! }
//! gcp_service_account "waker" {
//!   account_id = "gpu-ci-waker"
//!   iam_binding {
//!     role    = "roles/iam.workloadIdentityUser"
//!     members = gcp_workload_identity_pool.github.members
//!   }
//! }
//! ```
//! The provider trusts GitHub's issuer and maps `google.subject`,
//! `attribute.repository` and `attribute.repository_owner`; its attribute
//! condition admits exactly the listed repositories (GitHub's issuer is
//! shared by every GitHub user, so Google requires a condition, and a
//! pool without one would admit any repository on GitHub). `members` is
//! one `principalSet://` per repository; `provider_name` is what
//! google-github-actions/auth takes as `workload_identity_provider`. Both
//! use the project *number*, which plan reads from Resource Manager.
//!
//! The pool's providers are the block's (one, `github`): another provider
//! found in the pool is planned for removal. Deletes are soft (30 days,
//! ID still taken): a deleted pool is gone for the plan, and a create that
//! finds the ID held by a pool (or provider) this stack deleted undeletes
//! and updates it. Ownership is recorded at the end of the pool's
//! description, as on service accounts.

use crate::core::schema::{HasSchema, Schema};
use crate::core::{Diagnostic, Env, Field, State};
use crate::kinds::common::gcp::description_marker;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

pub mod spec;
use spec::{Desired, Spec};

/// The `gcp_workload_identity_pool` kind.
pub struct GcpWorkloadIdentityPool;

/// GitHub Actions' OIDC issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

static FIELDS: &[Field] =
    &[Field::replace("pool_id"), Field::new("display_name"), Field::new("description"), Field::new("disabled"), Field::new("state"), Field::new("providers")];

/// IAM's rule for pool and provider IDs.
pub fn valid_id(id: &str) -> bool {
    (4..=32).contains(&id.len()) && !id.starts_with("gcp-") && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The attribute condition admitting exactly `repos` (CEL).
pub fn condition(repos: &BTreeSet<String>) -> String {
    let quoted: Vec<String> = repos.iter().map(|r| format!("'{r}'")).collect();
    format!("assertion.repository in [{}]", quoted.join(", "))
}

/// The repositories a condition gantry wrote admits (None for any other condition).
pub fn condition_repositories(c: &str) -> Option<BTreeSet<String>> {
    let inner = c.strip_prefix("assertion.repository in [")?.strip_suffix(']')?;
    inner.split(", ").filter(|s| !s.is_empty()).map(|q| q.strip_prefix('\'')?.strip_suffix('\'').map(String::from)).collect()
}

/// The attribute mapping every GitHub provider gets.
pub fn mapping() -> BTreeMap<String, String> {
    [("google.subject", "assertion.sub"), ("attribute.repository", "assertion.repository"), ("attribute.repository_owner", "assertion.repository_owner")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn valid_repository(r: &str) -> bool {
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    matches!(r.split_once('/'), Some((o, n)) if ok(o) && ok(n) && !n.contains('/'))
}

fn pool_name(spec: &Spec, env: &Env) -> String {
    format!("projects/{}/locations/global/workloadIdentityPools/{}", env.gcp_project_number, spec.pool_id)
}

impl crate::core::TypedKind for GcpWorkloadIdentityPool {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "gcp_workload_identity_pool"
    }
    fn doc(&self) -> &'static str {
        "A workload identity pool whose GitHub provider admits the named repositories (keyless Google access from Actions)."
    }
    fn schema(&self) -> &'static Schema {
        &Spec::SCHEMA
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn needs_gcp_project_number(&self) -> bool {
        true
    }
    fn check(&self, spec: &Spec) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (attr, id) in [("pool_id", spec.pool_id.clone()), ("github", spec.provider_id())] {
            if !valid_id(&id) {
                out.push(Diagnostic::attr(attr, format!("\"{id}\" must be 4-32 lowercase letters, digits and -, not starting with gcp-")));
            }
        }
        if spec.display_name.chars().count() > 32 {
            out.push(Diagnostic::attr("display_name", "at most 32 characters (IAM's limit)"));
        }
        out.extend(description_marker::check_description(&spec.description));
        let repositories = spec.repositories();
        if spec.github.is_none() {
            out.push(Diagnostic::attr("pool_id", "a pool needs a github { repositories = [...] } block (its provider)"));
        } else if repositories.is_empty() {
            out.push(Diagnostic::attr("github", "name at least one repository: a GitHub provider without a condition would admit every repository on GitHub"));
        }
        for r in repositories.iter().filter(|r| !valid_repository(r)) {
            out.push(Diagnostic::attr("github", format!("\"{r}\" is not OWNER/REPO (wildcards are refused: name each repository)")));
        }
        out
    }
    fn check_env(&self, _spec: &Spec, env: &Env) -> Vec<Diagnostic> {
        description_marker::check_project(env, "pool_id", "gcp_workload_identity_pool")
    }
    fn identity(&self, spec: &Spec) -> String {
        spec.pool_id.clone()
    }
    fn outputs(&self, spec: &Spec, _attrs: &State, env: &Env) -> State {
        let name = pool_name(spec, env);
        let members: Vec<String> = spec.repositories().iter().map(|r| format!("principalSet://iam.googleapis.com/{name}/attribute.repository/{r}")).collect();
        let mut out = State::new();
        out.insert("pool_id".into(), json!(spec.pool_id));
        out.insert("provider_name".into(), json!(format!("{name}/providers/{}", spec.provider_id())));
        out.insert("name".into(), json!(name));
        out.insert("members".into(), json!(members));
        out
    }
    fn desired_state(&self, spec: &Spec, _env: &Env) -> State {
        spec.desired().to_state()
    }
    /// Repositories the provider newly admits; any other condition change
    /// (one gantry did not write) is broadening as a whole.
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        let conditions = |s: Option<&State>| -> BTreeMap<String, String> {
            let pool = s.and_then(|s| Desired::parse(s, "broadening").ok()).unwrap_or_default();
            pool.providers.into_iter().map(|(k, v)| (k, v.attribute_condition)).collect()
        };
        let (old, new) = (conditions(before), conditions(Some(after)));
        let mut out = Vec::new();
        for (id, cond) in &new {
            let was = old.get(id).and_then(|c| condition_repositories(c));
            match (was, condition_repositories(cond)) {
                (Some(was), Some(now)) => {
                    out.extend(now.difference(&was).map(|r| format!("GitHub Actions workflows of {r} may now federate through provider {id}")));
                }
                _ if old.get(id) != Some(cond) => out.push(format!("provider {id} now admits: {cond}")),
                _ => {}
            }
        }
        out
    }
}
