//! `ci_role`: an IAM role that CI jobs assume through GitHub OIDC, with a
//! trust policy built from `allow` rules and permissions from policy files.
//!
//! ```hcl
//! ci_role "ecr-push" {
//!   provider = github_oidc_provider.github
//!   allow {
//!     repo     = "acme/mlops"
//!     branches = ["main", "develop"]
//!     tags     = ["v*"]
//!   }
//!   policy_files = ["../../policies/ecr-push.json"]
//!   policy_vars  = { repositories = [ecr_repository.cache.arn] }
//!   max_session_duration = "1h"
//! }
//! ```
//! Roles live under the IAM path `/gantry/<stack>/`. Name and path force
//! replacement; everything else is updated in place.

pub mod spec;
pub mod trust;

use spec::{Desired, Spec};

use crate::core::schema::{HasSchema, Schema};
use crate::core::{default_attr, Diagnostic, Env, Field, State};
use crate::lint::{self, Finding};
use serde_json::{json, Value};

/// The `ci_role` kind.
pub struct CiRole;

static FIELDS: &[Field] = &[
    Field::replace("name"),
    Field::replace("path"),
    Field::new("description"),
    Field::new("max_session_duration"),
    Field::new("permissions_boundary"),
    Field::new("trust_policy"),
    Field::new("inline_policies"),
    Field::new("managed_policy_arns"),
    Field::new("tags"),
];

/// IAM path for a stack's roles.
pub fn role_path(stack: &str) -> String {
    format!("/gantry/{stack}/")
}

fn valid_repo(repo: &str) -> bool {
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    matches!(repo.split_once('/'), Some((o, n)) if ok(o) && ok(n))
}

fn session_seconds(spec: &Spec) -> Result<i64, String> {
    let text = spec.max_session_duration.as_deref().unwrap_or("1h");
    let d = humantime::parse_duration(text).map_err(|e| format!("\"{text}\": {e} (write e.g. \"1h\" or \"90m\")"))?;
    let secs = d.as_secs() as i64;
    if !(3600..=43200).contains(&secs) {
        return Err(format!("\"{text}\" must be between 1h and 12h"));
    }
    Ok(secs)
}

/// The trust policy: the file as written, or built from the `allow` rules.
pub fn trust_policy(spec: &Spec) -> Value {
    if let Some(doc) = &spec.trust_policy_file {
        return doc.clone();
    }
    let provider = spec.provider.clone().unwrap_or_default();
    let arn = provider.arn.unwrap_or_default();
    let host = provider.host.unwrap_or_else(|| lint::GITHUB_HOST.to_string());
    trust::build(&arn, &host, &spec.allow)
}

/// `OWNER/REPO/.github/workflows/FILE@REF`, as GitHub writes
/// `job_workflow_ref`; no wildcard, so the rule names one workflow.
fn valid_workflow_ref(w: &str) -> bool {
    let Some((path, git_ref)) = w.split_once('@') else { return false };
    let parts: Vec<&str> = path.splitn(3, '/').collect();
    !w.contains('*')
        && !w.contains('?')
        && !git_ref.is_empty()
        && parts.len() == 3
        && valid_repo(&format!("{}/{}", parts[0], parts[1]))
        && parts[2].strip_prefix(".github/workflows/").is_some_and(|f| !f.is_empty() && !f.contains('/'))
}

impl crate::core::TypedKind for CiRole {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "ci_role"
    }
    fn doc(&self) -> &'static str {
        "An IAM role for CI jobs, trusted through GitHub OIDC by repository/branch/tag/environment rules."
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
        let name = spec.name.as_str();
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)) {
            out.push(Diagnostic::attr("name", format!("\"{name}\" is not a valid IAM role name (1-64 of letters, digits and +=,.@_-)")));
        }
        let rules = &spec.allow;
        let raw = spec.trust_policy_file.is_some();
        match (spec.provider.is_some(), raw) {
            (true, true) => out.push(Diagnostic::attr("trust_policy_file", "use either provider + allow rules or trust_policy_file, not both")),
            (false, false) => out.push(Diagnostic::attr("provider", "set provider = github_oidc_provider.NAME (with allow rules), or trust_policy_file")),
            (true, false) if rules.is_empty() => out.push(Diagnostic::attr("allow", "add at least one allow { repo = \"OWNER/NAME\" ... } rule")),
            _ => {}
        }
        if raw && !rules.is_empty() {
            out.push(Diagnostic::attr("allow", "allow rules have no effect with trust_policy_file"));
        }
        if let Some(p) = &spec.provider {
            if p.arn.as_deref().is_none_or(|a| !a.contains(":oidc-provider/")) {
                out.push(Diagnostic::attr("provider", "provider must reference a github_oidc_provider block"));
            }
        }
        for r in rules {
            let repos = trust::repos(r);
            match (r.repo.is_some(), r.repos.is_some()) {
                (true, true) => out.push(Diagnostic::attr("allow", "give repo or repos, not both")),
                (false, false) => out.push(Diagnostic::attr("allow", "each allow rule names repo = \"OWNER/NAME\" or repos = [...]")),
                (false, true) if repos.is_empty() => {
                    out.push(Diagnostic::attr("allow", "repos is empty: this rule would let no one in (did the data source choose nothing?)"))
                }
                _ => {}
            }
            for repo in repos.iter().filter(|r| !valid_repo(r)) {
                out.push(Diagnostic::attr("allow", format!("repo \"{repo}\" must look like OWNER/NAME (no wildcards)")));
            }
            for w in &r.workflow_refs {
                if !valid_workflow_ref(w) {
                    out.push(Diagnostic::attr(
                        "allow.workflow_refs",
                        format!("\"{w}\" must look like OWNER/REPO/.github/workflows/FILE@REF (no wildcards; e.g. acme/ci/.github/workflows/push.yml@refs/heads/main)"),
                    ));
                }
            }
        }
        // IAM counts a trust policy's characters without white space.
        let quota = spec.trust_policy_quota.unwrap_or(2048) as usize;
        let size = serde_json::to_string(&trust_policy(spec)).map(|t| t.len()).unwrap_or(0);
        if size > quota {
            out.push(Diagnostic::attr(
                "allow",
                format!(
                    "the trust policy would be {size} characters and IAM takes {quota} (the account's quota; 4096 at most once raised, then set trust_policy_quota): split the repositories over several roles, or require one reusable workflow (workflow_refs) they all call"
                ),
            ));
        }
        if let Err(e) = session_seconds(spec) {
            out.push(Diagnostic::attr("max_session_duration", e));
        }
        let docs = &spec.policy_files;
        for f in docs {
            for p in crate::policy::problems(&f.document) {
                out.push(Diagnostic::attr("policy_files", format!("{}: {p}", f.file)));
            }
        }
        if let Some(doc) = &spec.trust_policy_file {
            for p in crate::policy::problems(doc) {
                out.push(Diagnostic::attr("trust_policy_file", p));
            }
        }
        for (i, f) in docs.iter().enumerate() {
            if docs[..i].iter().any(|g| g.name == f.name) {
                out.push(Diagnostic::attr(
                    "policy_files",
                    format!("two policy files are named \"{}\" ({}); inline policies are named by file name", f.name, f.file),
                ));
            }
        }
        for k in spec.tags.keys().filter(|k| k.starts_with("gantry:") || k.starts_with("aws:")) {
            out.push(Diagnostic::attr("tags", format!("tag key \"{k}\" is reserved")));
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
        out.insert("path".into(), json!(role_path(&env.stack)));
        out.insert("arn".into(), json!(format!("arn:aws:iam::{}:role{}{name}", env.account_id, role_path(&env.stack))));
        out
    }
    fn desired_state(&self, spec: &Spec, env: &Env) -> State {
        let trust = trust_policy(spec);
        let mut managed = spec.managed_policy_arns.clone();
        managed.sort();
        managed.dedup();
        Desired {
            name: spec.name.clone(),
            path: role_path(&env.stack),
            description: spec.description.clone(),
            max_session_duration: session_seconds(spec).unwrap_or(3600),
            permissions_boundary: spec.permissions_boundary.clone(),
            trust_policy: crate::policy::normalize(&trust),
            trust_policy_document: Some(trust),
            inline_policies: spec.policy_files.iter().map(|f| (f.name.clone(), crate::policy::normalize(&f.document))).collect(),
            inline_policy_documents: Some(spec.policy_files.iter().map(|f| (f.name.clone(), f.document.clone())).collect()),
            managed_policy_arns: managed,
            tags: spec.tags.clone(),
        }
        .to_state()
    }
    fn managed_policy_arns(&self, spec: &Spec) -> Vec<String> {
        spec.managed_policy_arns.clone()
    }
    fn lint(&self, spec: &Spec, _env: &Env) -> Vec<Finding> {
        let attr = if spec.trust_policy_file.is_some() { "trust_policy_file" } else { "allow" };
        let mut out = lint::lint_trust(&trust_policy(spec), attr, None);
        for f in &spec.policy_files {
            out.extend(lint::lint_permissions(&f.document, "policy_files", Some(&f.file)));
        }
        let managed: Vec<&str> = spec.managed_policy_arns.iter().map(String::as_str).collect();
        out.extend(lint::lint_managed(&managed, "managed_policy_arns"));
        out
    }
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        let (before, after) = (before.map(role), role(after));
        let old_trust = before.as_ref().map(|b| b.trust_policy.clone()).unwrap_or(json!({}));
        // Grouped so a reviewer reads one line per principal and per resource.
        let mut by_principal: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (p, sub) in trust::assumers(&after.trust_policy).difference(&trust::assumers(&old_trust)) {
            by_principal.entry(p.clone()).or_default().push(sub.clone());
        }
        let mut out: Vec<String> = by_principal.into_iter().map(|(p, subs)| format!("may now be assumed by {} (via {p})", subs.join(", "))).collect();
        out.extend(crate::policy::access::widening(&access(before.as_ref()), &access(Some(&after))));
        out
    }
}

/// A desired or live state as the role it describes (empty when it does not read).
fn role(state: &State) -> Desired {
    Desired::parse(state, "broadening").unwrap_or_default()
}

/// What a role's policies and settings allow, for the broadening review
/// (its trust is read by `trust::assumers`, in terms of who may assume).
fn access(s: Option<&Desired>) -> crate::policy::access::Access {
    let mut a = crate::policy::access::Access::default();
    let Some(s) = s else { return a };
    for doc in s.inline_policies.values() {
        a.add_policy(doc, "");
    }
    for arn in &s.managed_policy_arns {
        a.managed_policy(arn, None);
    }
    if let Ok(seconds) = u64::try_from(s.max_session_duration) {
        a.limit("max session duration", seconds, humantime::format_duration(std::time::Duration::from_secs(seconds)).to_string());
    }
    if let Some(b) = &s.permissions_boundary {
        a.guards.insert("permissions boundary".into(), b.clone());
    }
    a
}
