//! `ecr_repository`: an Amazon ECR repository with tag immutability, scan on
//! push, encryption, a lifecycle policy generated from rules, an optional
//! repository policy and tags.
//!
//! ```hcl
//! ecr_repository "test-cache" {
//!   image_tag_mutability = "IMMUTABLE"
//!   scan_on_push         = true
//!   lifecycle_policy {
//!     expire_untagged_after_days = 14
//!     keep_last_tagged           = 100
//!   }
//!   tags = { team = "ci" }
//! }
//! ```

pub mod lifecycle;
pub mod spec;

use spec::{Desired, Spec};

use crate::core::schema::{HasSchema, Schema};
use crate::core::{default_attr, Diagnostic, Env, Field, State};
use serde_json::json;

/// The `ecr_repository` kind.
pub struct EcrRepository;

static FIELDS: &[Field] = &[
    Field::replace("name"),
    Field::new("image_tag_mutability"),
    Field::new("scan_on_push"),
    Field::replace("encryption"),
    Field::replace("kms_key"),
    Field::new("lifecycle_policy"),
    Field::new("repository_policy"),
    Field::new("force_delete"),
    Field::new("tags"),
];

/// ECR repository names: lowercase segments separated by `/`, each made of
/// `[a-z0-9]` runs joined by `.`, `_` or `-`.
pub fn valid_name(name: &str) -> bool {
    if name.len() < 2 || name.len() > 256 {
        return false;
    }
    name.split('/').all(|seg| {
        !seg.is_empty() && seg.split(['.', '_', '-']).all(|run| !run.is_empty() && run.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    })
}

impl crate::core::TypedKind for EcrRepository {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "ecr_repository"
    }

    fn doc(&self) -> &'static str {
        "An Amazon ECR repository. Encryption and name force replacement; everything else is updated in place."
    }

    fn schema(&self) -> &'static Schema {
        &Spec::SCHEMA
    }

    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    /// `name` defaults to the block label.
    fn fill_defaults(&self, label: &str, _env: &Env, attrs: &mut State) {
        default_attr(attrs, "name", label);
    }
    fn check(&self, spec: &Spec) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if !valid_name(&spec.name) {
            out.push(Diagnostic::attr(
                "name",
                format!("\"{}\" is not a valid ECR repository name (2-256 lowercase letters, digits, and . _ - / between them)", spec.name),
            ));
        }
        if spec.kms_key.is_some() && spec.encryption != "KMS" {
            out.push(Diagnostic::attr("kms_key", "kms_key needs encryption = \"KMS\""));
        }
        if let Some(lp) = &spec.lifecycle_policy {
            if lifecycle::render(lp).is_none() {
                out.push(Diagnostic::attr("lifecycle_policy", "lifecycle_policy needs expire_untagged_after_days or keep_last_tagged"));
            }
            if lp.tag_prefixes.is_some() && lp.keep_last_tagged.is_none() {
                out.push(Diagnostic::attr("lifecycle_policy", "tag_prefixes only applies with keep_last_tagged"));
            }
        }
        out.extend(crate::kinds::common::aws_tags::check(&spec.tags));
        if spec.repository_policy_file.as_ref().is_some_and(|p| !p.is_object()) {
            out.push(Diagnostic::attr("repository_policy_file", "the policy document must be a JSON object"));
        }
        out
    }

    fn identity(&self, spec: &Spec) -> String {
        spec.name.clone()
    }

    /// The block as written (without the policy document) and the
    /// repository's ARN, URL and registry.
    fn outputs(&self, spec: &Spec, attrs: &State, env: &Env) -> State {
        let name = &spec.name;
        let mut out = attrs.clone();
        out.remove("repository_policy_file");
        out.insert("arn".into(), json!(format!("arn:aws:ecr:{}:{}:repository/{}", env.region, env.account_id, name)));
        out.insert("repository_url".into(), json!(format!("{}.dkr.ecr.{}.amazonaws.com/{}", env.account_id, env.region, name)));
        out.insert("registry_id".into(), json!(env.account_id));
        out
    }

    fn desired_state(&self, spec: &Spec, _env: &Env) -> State {
        spec.desired().to_state()
    }

    /// Who the repository policy newly lets in, and to do what.
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        let policy = |s: &State| crate::kinds::common::read_desired::<Desired>(s).ok().and_then(|d| d.repository_policy);
        crate::policy::access::resource_policy_widening(before.and_then(policy).as_ref(), policy(after).as_ref(), "the repository")
    }

    fn lint(&self, spec: &Spec, _env: &Env) -> Vec<crate::lint::Finding> {
        spec.repository_policy_file.as_ref().map(|doc| crate::lint::lint_repository_policy(doc, "repository_policy_file")).unwrap_or_default()
    }
}
