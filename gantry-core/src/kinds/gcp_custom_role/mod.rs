//! `gcp_custom_role`: a project-level IAM custom role, e.g. the three
//! permissions the GPU template's wake job needs on its one instance.
//!
//! ```hcl
//! gcp_custom_role "waker" {
//!   role_id     = "gantryRunnerWaker"
//!   title       = "gantry runner waker"
//!   permissions = ["compute.instances.get", "compute.instances.setMetadata", "compute.instances.start"]
//! }
//! ```
//! `role_id` forces replacement; the rest is updated in place. Deleting a
//! custom role is soft ("Deleting a custom role"): it can be undeleted for
//! 7 days and its ID stays taken for 37. A deleted role is gone for the
//! plan; when a create finds the ID held by a role this stack deleted, apply
//! undeletes and updates it instead of failing. Ownership is recorded at
//! the end of the description, as on service accounts.

use crate::core::schema::{HasSchema, Schema};
use crate::core::{Diagnostic, Env, Field, State};
use crate::kinds::common::gcp::description_marker;
use serde_json::json;

pub mod spec;
use spec::Spec;

/// The `gcp_custom_role` kind.
pub struct GcpCustomRole;

static FIELDS: &[Field] = &[Field::replace("role_id"), Field::new("title"), Field::new("description"), Field::new("permissions"), Field::new("stage")];

/// IAM's rule for custom role IDs (`[a-zA-Z0-9_.]{3,64}`).
pub fn valid_role_id(id: &str) -> bool {
    (3..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// A desired or live state as the role it describes (the defaults when it
/// does not read: a plan judged for broadening shows every permission new).
fn role(state: &State) -> Spec {
    crate::kinds::common::read_desired(state).unwrap_or_default()
}

impl crate::core::TypedKind for GcpCustomRole {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "gcp_custom_role"
    }
    fn doc(&self) -> &'static str {
        "A project IAM custom role (soft-deleted roles are undeleted, not re-created)."
    }
    fn schema(&self) -> &'static Schema {
        &Spec::SCHEMA
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn check(&self, spec: &Spec) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let id = &spec.role_id;
        if !valid_role_id(id) {
            out.push(Diagnostic::attr("role_id", format!("\"{id}\" must be 3-64 letters, digits, _ and .")));
        }
        if spec.title.chars().count() > 100 {
            out.push(Diagnostic::attr("title", "at most 100 characters (IAM's limit)"));
        }
        out.extend(description_marker::check_description(&spec.description));
        let perms = &spec.permissions;
        if perms.is_empty() {
            out.push(Diagnostic::attr("permissions", "a custom role needs at least one permission"));
        }
        if perms.len() > 3000 {
            out.push(Diagnostic::attr("permissions", "IAM allows at most 3,000 permissions in a custom role"));
        }
        for p in perms {
            let parts: Vec<&str> = p.split('.').collect();
            if parts.len() < 3 || parts.iter().any(|s| s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric())) {
                out.push(Diagnostic::attr("permissions", format!("\"{p}\" is not a permission (service.resource.verb)")));
            } else if p.contains('*') {
                out.push(Diagnostic::attr("permissions", format!("\"{p}\": custom roles take no wildcards")));
            }
        }
        out
    }
    fn check_env(&self, _spec: &Spec, env: &Env) -> Vec<Diagnostic> {
        description_marker::check_project(env, "role_id", "gcp_custom_role")
    }
    fn identity(&self, spec: &Spec) -> String {
        spec.role_id.clone()
    }
    fn outputs(&self, spec: &Spec, _attrs: &State, env: &Env) -> State {
        let id = &spec.role_id;
        let mut out = State::new();
        out.insert("name".into(), json!(format!("projects/{}/roles/{id}", env.gcp_project)));
        out.insert("role_id".into(), json!(id));
        out
    }
    fn desired_state(&self, spec: &Spec, _env: &Env) -> State {
        spec.to_state()
    }
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        let old = before.map(|b| role(b).permissions).unwrap_or_default();
        let after = role(after);
        let id = after.role_id;
        after.permissions.difference(&old).map(|p| format!("grants {p} to whoever holds {id}")).collect()
    }
}
