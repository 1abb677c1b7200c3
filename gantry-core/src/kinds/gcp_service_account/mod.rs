//! `gcp_service_account`: a Google Cloud IAM service account, e.g. the
//! identity the GPU template's wake job impersonates.
//!
//! ```hcl
//! gcp_service_account "waker" {
//!   account_id   = "gpu-ci-waker"
//!   display_name = "GPU CI waker"
//!   description  = "Starts gpu-ci-runner for queued GitHub jobs"
//!   iam_binding {
//!     role    = "roles/iam.workloadIdentityUser"
//!     members = gcp_workload_identity_pool.github.members
//!   }
//! }
//! ```
//! `iam_binding` blocks are the account's whole IAM policy (who may act as
//! it; see `common::gcp::iam_binding`).
//! `account_id` forces replacement (the email derives from it); the display
//! name and description are updated in place. Service accounts carry no
//! labels, so ownership is recorded at the end of the description
//! (`[gantry:STACK ADDRESS]`, plus ` protected`); the plan shows the
//! description without it. IAM caps the description at 256 characters, so
//! a block's own is kept to 180. A new account can take a minute to be
//! listed (IAM is eventually consistent; "Create service accounts"): a plan
//! right after apply may not see it yet.

use crate::core::schema::{HasSchema, Schema};
use crate::core::{Diagnostic, Env, Field, State};
use crate::kinds::common::gcp::{description_marker, iam_binding};
use serde_json::json;

pub mod spec;
use spec::Spec;

/// The `gcp_service_account` kind.
pub struct GcpServiceAccount;

static FIELDS: &[Field] = &[Field::replace("account_id"), Field::new("display_name"), Field::new("description"), Field::new("iam")];

/// IAM's rule for account IDs (`serviceAccounts.create`: `[a-z]([-a-z0-9]*[a-z0-9])`, 6-30).
pub fn valid_account_id(id: &str) -> bool {
    (6..=30).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The account's email in a project.
pub fn email(account_id: &str, project: &str) -> String {
    format!("{account_id}@{project}.iam.gserviceaccount.com")
}

impl crate::core::TypedKind for GcpServiceAccount {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "gcp_service_account"
    }
    fn doc(&self) -> &'static str {
        "A Google Cloud IAM service account (ownership recorded in its description)."
    }
    fn schema(&self) -> &'static Schema {
        &Spec::SCHEMA
    }
    fn fields(&self) -> &'static [Field] {
        FIELDS
    }
    fn check(&self, spec: &Spec) -> Vec<Diagnostic> {
        let mut out = iam_binding::check(&spec.iam_binding);
        let id = &spec.account_id;
        if !valid_account_id(id) {
            out.push(Diagnostic::attr(
                "account_id",
                format!("\"{id}\" must be 6-30 lowercase letters, digits and -, starting with a letter and not ending with -"),
            ));
        }
        if spec.display_name.chars().count() > 100 {
            out.push(Diagnostic::attr("display_name", "at most 100 characters (IAM's limit)"));
        }
        out.extend(description_marker::check_description(&spec.description));
        out
    }
    fn check_env(&self, _spec: &Spec, env: &Env) -> Vec<Diagnostic> {
        description_marker::check_project(env, "account_id", "gcp_service_account")
    }
    fn identity(&self, spec: &Spec) -> String {
        spec.account_id.clone()
    }
    fn outputs(&self, spec: &Spec, _attrs: &State, env: &Env) -> State {
        let email = email(&spec.account_id, &env.gcp_project);
        let mut out = State::new();
        out.insert("account_id".into(), json!(spec.account_id));
        out.insert("name".into(), json!(format!("projects/{}/serviceAccounts/{email}", env.gcp_project)));
        out.insert("member".into(), json!(format!("serviceAccount:{email}")));
        out.insert("email".into(), json!(email));
        out
    }
    fn desired_state(&self, spec: &Spec, _env: &Env) -> State {
        spec.desired().to_state()
    }
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        iam_binding::broadening(before, after)
    }
}
