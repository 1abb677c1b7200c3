//! Resource policies: who else may use an ECR repository or an S3 bucket.
//! The account's own roles need no resource policy; one exists to let
//! other principals in, so it is read for who (anyone?) and for what (more
//! than reading?).

use super::trust::{principal_is_anyone, principals};
use super::{is_allow, is_read_action, statements, strings, Finding, BUCKET_ANYONE, BUCKET_OTHERS_WRITE, REPO_ANYONE, REPO_OTHERS_WRITE};
use serde_json::Value;

/// Findings for an ECR repository policy.
pub fn lint_repository_policy(doc: &Value, attr: &str) -> Vec<Finding> {
    lint_resource_policy(doc, attr, REPO_ANYONE, REPO_OTHERS_WRITE)
}

/// Findings for an S3 bucket policy file (public reads are written with
/// `public_read_prefixes`, not in the file).
pub fn lint_bucket_policy(doc: &Value, attr: &str) -> Vec<Finding> {
    lint_resource_policy(doc, attr, BUCKET_ANYONE, BUCKET_OTHERS_WRITE)
}

fn lint_resource_policy(doc: &Value, attr: &str, anyone_rule: &'static str, write_rule: &'static str) -> Vec<Finding> {
    let mut out = Vec::new();
    for stmt in statements(doc).into_iter().filter(|s| is_allow(s)) {
        let who = principals(stmt);
        if let Some((kind, value)) = who.iter().find(|(k, v)| principal_is_anyone(k, v)) {
            let what = match () {
                _ if stmt.get("NotPrincipal").is_some() => "NotPrincipal: everyone else".to_string(),
                _ if kind == "*" => format!("Principal \"{value}\""),
                _ => format!("{kind}: {value}"),
            };
            out.push(Finding::new(anyone_rule, &what, attr));
        }
        let mut writes: Vec<String> = strings(stmt.get("Action")).into_iter().filter(|a| !is_read_action(a)).collect();
        if stmt.get("NotAction").is_some() {
            writes.push("NotAction".into());
        }
        if !writes.is_empty() {
            out.push(Finding::new(write_rule, &writes.join(", "), attr));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(doc: Value) -> Vec<&'static str> {
        lint_repository_policy(&doc, "repository_policy_file").iter().map(|f| f.rule).collect()
    }

    #[test]
    fn pulls_by_named_accounts_pass_anyone_or_writes_do_not() {
        let stmt = |p: Value, a: Value| json!({"Statement": [{"Effect": "Allow", "Principal": p, "Action": a}]});
        let pull = json!(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]);
        assert!(ids(stmt(json!({"AWS": "arn:aws:iam::111122223333:root"}), pull.clone())).is_empty());
        assert_eq!(ids(stmt(json!("*"), pull.clone())), [REPO_ANYONE]);
        assert_eq!(ids(stmt(json!({"AWS": "arn:aws:iam::*:root"}), pull)), [REPO_ANYONE]);
        assert_eq!(ids(stmt(json!({"AWS": "arn:aws:iam::111122223333:root"}), json!("ecr:*"))), [REPO_OTHERS_WRITE]);
        assert_eq!(ids(stmt(json!("*"), json!(["ecr:PutImage"]))), [REPO_ANYONE, REPO_OTHERS_WRITE]);
        let deny = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ecr:*"}]});
        assert!(ids(deny).is_empty());
    }

    #[test]
    fn bucket_policies_carry_their_own_rules() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}]});
        let rules: Vec<&str> = lint_bucket_policy(&doc, "policy_file").iter().map(|f| f.rule).collect();
        assert_eq!(rules, [BUCKET_ANYONE, BUCKET_OTHERS_WRITE]);
    }
}
