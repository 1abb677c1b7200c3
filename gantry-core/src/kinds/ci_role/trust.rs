//! Trust policies built from `allow` rules, and the "what does this change
//! newly allow" analysis behind the plan's broadening review.

use super::spec::AllowRule;
use crate::lint::{is_allow, statements};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The audience GitHub's token carries when a job asks for AWS credentials.
pub const AUDIENCE: &str = "sts.amazonaws.com";

/// The repositories of one allow rule: `repo`, or each of `repos`.
pub fn repos(rule: &AllowRule) -> Vec<String> {
    rule.repo.iter().chain(rule.repos.iter().flatten()).cloned().collect()
}

/// `sub` patterns for one allow rule (every repository named).
pub fn subs(rule: &AllowRule) -> Vec<String> {
    repos(rule).iter().flat_map(|repo| subs_of(rule, repo)).collect()
}

fn subs_of(rule: &AllowRule, repo: &str) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(rule.branches.iter().map(|b| format!("repo:{repo}:ref:refs/heads/{b}")));
    out.extend(rule.tags.iter().map(|t| format!("repo:{repo}:ref:refs/tags/{t}")));
    out.extend(rule.environments.iter().map(|e| format!("repo:{repo}:environment:{e}")));
    if rule.pull_request {
        out.push(format!("repo:{repo}:pull_request"));
    }
    if out.is_empty() {
        // No narrowing given: any ref, environment or event of this one repository.
        out.push(format!("repo:{repo}:*"));
    }
    // AWS evaluates only the standard claims of GitHub's token (GitHub,
    // "Configuring OpenID Connect in Amazon Web Services"): a condition on
    // `job_workflow_ref` never matches and makes the role impossible to
    // assume. A workflow is required through `sub` instead, which GitHub
    // extends with the reusable workflow once the repository customises its
    // subject claim to include_claim_keys = ["repo", "context",
    // "job_workflow_ref"] ("Customizing the subject claims"): then `sub` is
    // `repo:OWNER/REPO:CONTEXT:job_workflow_ref:OWNER/REPO/.github/workflows/F@REF`.
    let workflows = &rule.workflow_refs;
    if !workflows.is_empty() {
        out = out.iter().flat_map(|s| workflows.iter().map(move |w| format!("{s}:job_workflow_ref:{w}"))).collect();
    }
    out
}

/// Builds the trust policy: one statement per allow rule, each requiring
/// the `aud` and one of the rule's `sub` patterns (workflow refs included).
pub fn build(provider_arn: &str, host: &str, rules: &[AllowRule]) -> Value {
    let statements: Vec<Value> = rules
        .iter()
        .map(|rule| {
            let mut like = serde_json::Map::new();
            like.insert(format!("{host}:sub"), json!(subs(rule)));
            json!({
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {format!("{host}:aud"): AUDIENCE},
                    "StringLike": Value::Object(like),
                }
            })
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Allow statements (anything not a Deny, as the lint reads them).
fn allow_statements(doc: &Value) -> Vec<&Value> {
    statements(doc).into_iter().filter(|s| is_allow(s)).collect()
}

/// Who may assume: (principal, subject) pairs. The subject is what the
/// `sub` conditions let through, in words: the patterns a positive test
/// names, else "any" or "any except X" (a negation names who is kept out,
/// not who is let in).
pub fn assumers(trust: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for s in allow_statements(trust).into_iter().filter(|s| crate::lint::grants_assume(s)) {
        let principals: Vec<String> = crate::lint::principals(s)
            .into_iter()
            .map(|(kind, v)| if crate::lint::principal_is_anyone(&kind, &v) { "anyone".to_string() } else { v })
            .collect();
        let tests = crate::lint::conditions::tests_where(s, |k| k.to_ascii_lowercase().ends_with(":sub"));
        for p in &principals {
            for sub in crate::lint::conditions::describe(&tests) {
                out.insert((p.clone(), sub));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> AllowRule {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn rule_shapes_become_sub_patterns() {
        let r = rule(json!({"repo": "acme/mlops", "branches": ["main", "develop"], "tags": ["v*"], "environments": ["prod"], "pull_request": true}));
        assert_eq!(
            subs(&r),
            vec![
                "repo:acme/mlops:ref:refs/heads/main",
                "repo:acme/mlops:ref:refs/heads/develop",
                "repo:acme/mlops:ref:refs/tags/v*",
                "repo:acme/mlops:environment:prod",
                "repo:acme/mlops:pull_request"
            ]
        );
        assert_eq!(subs(&rule(json!({"repo": "acme/x"}))), vec!["repo:acme/x:*"]);
    }

    #[test]
    fn trust_has_aud_sub_and_workflow_conditions() {
        let t = build(
            "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
            "token.actions.githubusercontent.com",
            &[rule(json!({"repo": "acme/mlops", "branches": ["main"], "workflow_refs": ["acme/mlops/.github/workflows/push.yml@refs/heads/main"]}))],
        );
        let c = &t["Statement"][0]["Condition"];
        assert_eq!(c["StringEquals"]["token.actions.githubusercontent.com:aud"], "sts.amazonaws.com");
        // The workflow is part of `sub` (customised subject claim): AWS
        // never evaluates a job_workflow_ref condition key.
        assert_eq!(
            c["StringLike"]["token.actions.githubusercontent.com:sub"],
            json!(["repo:acme/mlops:ref:refs/heads/main:job_workflow_ref:acme/mlops/.github/workflows/push.yml@refs/heads/main"])
        );
        assert!(c["StringLike"].get("token.actions.githubusercontent.com:job_workflow_ref").is_none(), "{c}");
        assert_eq!(c["StringLike"].as_object().unwrap().len(), 1);
        assert!(crate::lint::lint_trust(&t, "allow", None).is_empty());
        // Two workflows and the any-ref form: every pair, scoped to the repository.
        let any = subs(&rule(
            json!({"repo": "o/r", "workflow_refs": ["o/r/.github/workflows/a.yml@refs/heads/main", "o/r/.github/workflows/b.yml@refs/heads/main"]}),
        ));
        assert_eq!(
            any,
            [
                "repo:o/r:*:job_workflow_ref:o/r/.github/workflows/a.yml@refs/heads/main",
                "repo:o/r:*:job_workflow_ref:o/r/.github/workflows/b.yml@refs/heads/main"
            ]
        );
    }

    #[test]
    fn assumers_diff() {
        let a = build("p", "h", &[rule(json!({"repo": "o/r", "branches": ["main"]}))]);
        let b = build("p", "h", &[rule(json!({"repo": "o/r", "branches": ["main", "dev"]}))]);
        let new: Vec<_> = assumers(&b).difference(&assumers(&a)).cloned().collect();
        assert_eq!(new, vec![("p".to_string(), "repo:o/r:ref:refs/heads/dev".to_string())]);
    }

    #[test]
    fn negations_and_not_elements_are_described_as_what_they_let_in() {
        let t = json!({"Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "p"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringNotLike": {"h:sub": "repo:evil/*"}}
        }]});
        let who: Vec<_> = assumers(&t).into_iter().collect();
        assert_eq!(who, vec![("p".to_string(), "any subject except repo:evil/*".to_string())]);
        let anyone = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}});
        assert_eq!(assumers(&anyone).into_iter().collect::<Vec<_>>(), vec![("anyone".to_string(), "any subject".to_string())]);
    }
}
