//! Trust policies built from `allow` rules, and the "what does this change
//! newly allow" analysis behind the plan's broadening review.

use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The audience GitHub's token carries when a job asks for AWS credentials.
pub const AUDIENCE: &str = "sts.amazonaws.com";

/// `sub` patterns for one allow rule.
pub fn subs(rule: &Value) -> Vec<String> {
    let repo = rule.get("repo").and_then(Value::as_str).unwrap_or_default();
    let list = |k: &str| -> Vec<String> { rule.get(k).and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect() };
    let mut out = Vec::new();
    out.extend(list("branches").iter().map(|b| format!("repo:{repo}:ref:refs/heads/{b}")));
    out.extend(list("tags").iter().map(|t| format!("repo:{repo}:ref:refs/tags/{t}")));
    out.extend(list("environments").iter().map(|e| format!("repo:{repo}:environment:{e}")));
    if rule.get("pull_request") == Some(&Value::Bool(true)) {
        out.push(format!("repo:{repo}:pull_request"));
    }
    if out.is_empty() {
        // No narrowing given: any ref, environment or event of this one repository.
        out.push(format!("repo:{repo}:*"));
    }
    out
}

/// Builds the trust policy: one statement per allow rule, each requiring
/// the `aud` and one of the rule's `sub` patterns (and workflow refs if given).
pub fn build(provider_arn: &str, host: &str, rules: &[Value]) -> Value {
    let statements: Vec<Value> = rules
        .iter()
        .map(|rule| {
            let mut like = serde_json::Map::new();
            like.insert(format!("{host}:sub"), json!(subs(rule)));
            let workflows: Vec<Value> = rule.get("workflow_refs").and_then(Value::as_array).cloned().unwrap_or_default();
            if !workflows.is_empty() {
                like.insert(format!("{host}:job_workflow_ref"), Value::Array(workflows));
            }
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

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

fn allow_statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow")).collect(),
        _ => Vec::new(),
    }
}

/// Who may assume: (principal, sub pattern) pairs; a statement without a
/// `sub` condition contributes `*`.
pub fn assumers(trust: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for s in allow_statements(trust) {
        let principals: Vec<String> = match s.get("Principal") {
            Some(Value::Object(p)) => p.values().flat_map(|v| strings(Some(v))).collect(),
            Some(Value::String(p)) => vec![p.clone()],
            _ => vec!["*".into()],
        };
        let mut subs = Vec::new();
        if let Some(Value::Object(ops)) = s.get("Condition") {
            for kv in ops.values() {
                if let Value::Object(keys) = kv {
                    for (k, v) in keys {
                        if k.ends_with(":sub") {
                            subs.extend(strings(Some(v)));
                        }
                    }
                }
            }
        }
        if subs.is_empty() {
            subs.push("*".into());
        }
        for p in &principals {
            for sub in &subs {
                out.insert((p.clone(), sub.clone()));
            }
        }
    }
    out
}

/// What may be done: (action, resource) pairs, actions lower-cased.
pub fn grants(docs: &[&Value]) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for d in docs {
        for s in allow_statements(d) {
            let resources = strings(s.get("Resource"));
            let resources = if resources.is_empty() { vec!["*".to_string()] } else { resources };
            for a in strings(s.get("Action")) {
                for r in &resources {
                    out.insert((a.to_lowercase(), r.clone()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_shapes_become_sub_patterns() {
        let r = json!({"repo": "acme/mlops", "branches": ["main", "develop"], "tags": ["v*"], "environments": ["prod"], "pull_request": true});
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
        assert_eq!(subs(&json!({"repo": "acme/x"})), vec!["repo:acme/x:*"]);
    }

    #[test]
    fn trust_has_aud_sub_and_workflow_conditions() {
        let t = build(
            "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
            "token.actions.githubusercontent.com",
            &[json!({"repo": "acme/mlops", "branches": ["main"], "workflow_refs": ["acme/mlops/.github/workflows/push.yml@refs/heads/main"]})],
        );
        let c = &t["Statement"][0]["Condition"];
        assert_eq!(c["StringEquals"]["token.actions.githubusercontent.com:aud"], "sts.amazonaws.com");
        assert_eq!(c["StringLike"]["token.actions.githubusercontent.com:sub"][0], "repo:acme/mlops:ref:refs/heads/main");
        assert!(c["StringLike"]["token.actions.githubusercontent.com:job_workflow_ref"].is_array());
        assert!(crate::lint::lint_trust(&t, "allow", None).is_empty());
    }

    #[test]
    fn assumers_and_grants_diff() {
        let a = build("p", "h", &[json!({"repo": "o/r", "branches": ["main"]})]);
        let b = build("p", "h", &[json!({"repo": "o/r", "branches": ["main", "dev"]})]);
        let new: Vec<_> = assumers(&b).difference(&assumers(&a)).cloned().collect();
        assert_eq!(new, vec![("p".to_string(), "repo:o/r:ref:refs/heads/dev".to_string())]);
        let p1 = json!({"Statement": [{"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "arn:r"}]});
        let p2 = json!({"Statement": [{"Effect": "Allow", "Action": ["ECR:PutImage", "ecr:BatchDeleteImage"], "Resource": "arn:r"}]});
        let new: Vec<_> = grants(&[&p2]).difference(&grants(&[&p1])).cloned().collect();
        assert_eq!(new, vec![("ecr:batchdeleteimage".to_string(), "arn:r".to_string())]);
    }
}
