//! `ecr_public_repository`: a repository in the account's Amazon ECR Public
//! registry (`public.ecr.aws/<alias>/<name>`): catalog data the gallery
//! shows, a repository policy (linted: pulls are public already, so a
//! policy exists to let others push — refused unless waived) and tags.
//! The ECR Public API lives in us-east-1 whatever the stack's region.
//!
//! ```hcl
//! ecr_public_repository "openllm" {
//!   name          = "bentoml/openllm"
//!   description   = "Run open-source LLMs as OpenAI-compatible APIs"
//!   architectures = ["x86-64"]
//! }
//! ```

pub mod catalog;
pub mod spec;

use crate::core::schema::{HasSchema, Schema};
use crate::core::{default_attr, Diagnostic, Env, Field, State};
use serde_json::json;
use spec::{Desired, Spec};

/// The `ecr_public_repository` kind.
pub struct EcrPublicRepository;

static FIELDS: &[Field] = &[Field::replace("name"), Field::new("catalog"), Field::new("repository_policy"), Field::new("force_delete"), Field::new("tags")];

impl crate::core::TypedKind for EcrPublicRepository {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "ecr_public_repository"
    }

    fn doc(&self) -> &'static str {
        "A repository in the account's Amazon ECR Public registry (the API is in us-east-1). The name forces replacement; catalog data, policy and tags are updated in place."
    }

    fn schema(&self) -> &'static Schema {
        &Spec::SCHEMA
    }

    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    fn fill_defaults(&self, label: &str, _env: &Env, attrs: &mut State) {
        default_attr(attrs, "name", label);
    }

    fn check(&self, spec: &Spec) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if spec.name.len() > 205 || !crate::kinds::ecr::valid_name(&spec.name) {
            out.push(Diagnostic::attr(
                "name",
                format!("\"{}\" is not a valid ECR Public repository name (2-205 lowercase letters, digits, and . _ - / between them)", spec.name),
            ));
        }
        for (attr, problem) in spec.catalog().problems() {
            out.push(Diagnostic::attr(attr, problem));
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

    fn outputs(&self, spec: &Spec, _attrs: &State, env: &Env) -> State {
        let name = &spec.name;
        let mut out = State::new();
        out.insert("name".into(), json!(name));
        out.insert("arn".into(), json!(format!("arn:aws:ecr-public::{}:repository/{name}", env.account_id)));
        out
    }

    fn desired_state(&self, spec: &Spec, _env: &Env) -> State {
        spec.desired().to_state()
    }

    /// Who the repository policy newly lets in, and to do what.
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        let policy = |s: &State| crate::kinds::common::read_desired::<Desired>(s).ok().and_then(|d| d.repository_policy);
        crate::policy::access::resource_policy_widening(before.and_then(policy).as_ref(), policy(after).as_ref(), "the public repository")
    }

    fn lint(&self, spec: &Spec, _env: &Env) -> Vec<crate::lint::Finding> {
        spec.repository_policy_file.as_ref().map(|doc| crate::lint::lint_repository_policy(doc, "repository_policy_file")).unwrap_or_default()
    }
}
