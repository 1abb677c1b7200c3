//! Security lint for IAM trust and permission policies. Every rule has a
//! stable id, a message and how to fix it. Findings are errors that refuse
//! the plan (exit code 3) unless waived in the block with a reason.

use serde_json::Value;

mod queue;
pub use queue::{lint_untrusted, UntrustedQueue};

/// A lint rule's description (for docs and waiver validation).
pub struct Rule {
    pub id: &'static str,
    pub summary: &'static str,
    pub fix: &'static str,
}

pub const TRUST_NO_AUD: &str = "GANTRY-TRUST-001";
pub const TRUST_NO_SUB: &str = "GANTRY-TRUST-002";
pub const TRUST_WILDCARD_SUB: &str = "GANTRY-TRUST-003";
pub const TRUST_FOREIGN_PROVIDER: &str = "GANTRY-TRUST-004";
pub const POLICY_STAR_ACTION: &str = "GANTRY-POLICY-001";
pub const POLICY_STAR_RESOURCE_WRITE: &str = "GANTRY-POLICY-002";
pub const POLICY_PASSROLE_STAR: &str = "GANTRY-POLICY-003";
pub const QUEUE_UNTRUSTED_WRITE: &str = "GANTRY-QUEUE-001";
pub const QUEUE_UNTRUSTED_SECRETS: &str = "GANTRY-QUEUE-002";
pub const QUEUE_UNTRUSTED_SHARED: &str = "GANTRY-QUEUE-003";

/// Every rule.
pub static RULES: &[Rule] = &[
    Rule {
        id: TRUST_NO_AUD,
        summary: "web-identity trust without an `aud` condition: any audience's token is accepted",
        fix: "add StringEquals on token.actions.githubusercontent.com:aud = sts.amazonaws.com (ci_role adds it for you)",
    },
    Rule {
        id: TRUST_NO_SUB,
        summary: "web-identity trust without a `sub` condition: every repository on GitHub may assume the role",
        fix: "restrict :sub to repo:OWNER/NAME:ref:refs/heads/BRANCH (use allow { repo = ..., branches = [...] })",
    },
    Rule {
        id: TRUST_WILDCARD_SUB,
        summary: "`sub` is a wildcard (`*`, `repo:*`, or a whole organisation)",
        fix: "name the repository and the branches, tags or environments that may assume the role",
    },
    Rule {
        id: TRUST_FOREIGN_PROVIDER,
        summary: "sts:AssumeRoleWithWebIdentity trusted for a provider that is not GitHub Actions",
        fix: "trust the token.actions.githubusercontent.com provider (github_oidc_provider), or waive with the reason",
    },
    Rule { id: POLICY_STAR_ACTION, summary: "`Action: \"*\"` grants every action on every service", fix: "list the actions the job needs" },
    Rule {
        id: POLICY_STAR_RESOURCE_WRITE,
        summary: "write actions on `Resource: \"*\"`",
        fix: "scope write actions to the ARNs they need (e.g. ${ecr_repository.cache.arn})",
    },
    Rule { id: POLICY_PASSROLE_STAR, summary: "iam:PassRole on `*` lets the holder hand any role to a service", fix: "list the role ARNs that may be passed" },
    Rule {
        id: QUEUE_UNTRUSTED_WRITE,
        summary: "a queue running untrusted code may write (push images, change objects): a pull request could poison what later builds trust",
        fix: "give untrusted queues read-only instance policies (e.g. policies/ci-instance-readonly.json), or waive with the reason",
    },
    Rule {
        id: QUEUE_UNTRUSTED_SECRETS,
        summary: "a queue running untrusted code receives build secrets: a pull request can print or send them",
        fix: "keep secrets on trusted queues (post-merge), or waive with the reason (e.g. a read-only token scoped to public data)",
    },
    Rule {
        id: QUEUE_UNTRUSTED_SHARED,
        summary: "a queue running untrusted code reuses machines: a job can leave something behind for the next one",
        fix: "set terminate_after_job = true (one job per instance), or waive with the reason",
    },
];

fn rule(id: &str) -> &'static Rule {
    RULES.iter().find(|r| r.id == id).expect("known rule")
}

/// One finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub message: String,
    pub fix: &'static str,
    /// Attribute or block the finding is about (for its location).
    pub attr: String,
    /// Policy file (relative path) holding the problem, if any.
    pub file: Option<String>,
    /// Text to find in that file to point at the exact spot.
    pub needle: Option<String>,
}

impl Finding {
    pub(crate) fn new(id: &'static str, detail: &str, attr: &str) -> Finding {
        let r = rule(id);
        let message = if detail.is_empty() { format!("{id}: {}", r.summary) } else { format!("{id}: {} ({detail})", r.summary) };
        Finding { rule: r.id, message, fix: r.fix, attr: attr.to_string(), file: None, needle: None }
    }
    pub(crate) fn at(mut self, file: Option<&str>, needle: &str) -> Finding {
        self.file = file.map(String::from);
        self.needle = Some(needle.to_string());
        self
    }
}

/// The GitHub Actions OIDC host.
pub const GITHUB_HOST: &str = "token.actions.githubusercontent.com";

pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

/// Condition values for `key` under any operator, with the operator.
fn condition_values(stmt: &Value, key: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(Value::Object(ops)) = stmt.get("Condition") {
        for (op, kv) in ops {
            if let Value::Object(keys) = kv {
                for (k, v) in keys {
                    if k.eq_ignore_ascii_case(key) {
                        out.extend(strings(Some(v)).into_iter().map(|s| (op.clone(), s)));
                    }
                }
            }
        }
    }
    out
}

/// True when a `sub` pattern lets in more than one repository.
pub fn sub_is_wildcard(sub: &str) -> bool {
    let Some(rest) = sub.strip_prefix("repo:") else { return sub.contains('*') || sub.contains('?') };
    let repo = rest.split(':').next().unwrap_or("");
    let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
    owner.is_empty() || owner.contains(['*', '?']) || name.is_empty() || name.contains(['*', '?'])
}

/// Lints a trust policy. `attr`/`file` locate findings.
pub fn lint_trust(doc: &Value, attr: &str, file: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    for stmt in statements(doc) {
        if stmt.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let actions = strings(stmt.get("Action"));
        if !actions.iter().any(|a| a.eq_ignore_ascii_case("sts:AssumeRoleWithWebIdentity") || a == "*" || a.eq_ignore_ascii_case("sts:*")) {
            continue;
        }
        let federated = stmt.get("Principal").map(|p| strings(p.get("Federated"))).unwrap_or_default();
        let hosts: Vec<String> = federated.iter().map(|f| f.rsplit("oidc-provider/").next().unwrap_or(f).to_string()).collect();
        for (f, h) in federated.iter().zip(&hosts) {
            if h != GITHUB_HOST {
                out.push(Finding::new(TRUST_FOREIGN_PROVIDER, &format!("provider {f}"), attr).at(file, f));
            }
        }
        for host in hosts.iter().filter(|h| h.as_str() == GITHUB_HOST) {
            let aud = condition_values(stmt, &format!("{host}:aud"));
            if aud.is_empty() {
                out.push(Finding::new(TRUST_NO_AUD, "", attr).at(file, "AssumeRoleWithWebIdentity"));
            }
            let subs = condition_values(stmt, &format!("{host}:sub"));
            if subs.is_empty() {
                out.push(Finding::new(TRUST_NO_SUB, "", attr).at(file, "AssumeRoleWithWebIdentity"));
            }
            for (_, s) in subs.iter().filter(|(_, s)| sub_is_wildcard(s)) {
                out.push(Finding::new(TRUST_WILDCARD_SUB, &format!("sub = \"{s}\""), attr).at(file, s));
            }
        }
    }
    out
}

/// Whether an action only reads (by the usual AWS verb prefixes).
pub fn is_read_action(action: &str) -> bool {
    let verb = action.split(':').nth(1).unwrap_or(action);
    ["Get", "List", "Describe", "BatchGet", "BatchCheck", "Head", "Query", "Scan", "Search", "Lookup", "View"]
        .iter()
        .any(|p| verb.len() >= p.len() && verb[..p.len()].eq_ignore_ascii_case(p))
}

/// Lints a permission policy.
pub fn lint_permissions(doc: &Value, attr: &str, file: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    for stmt in statements(doc) {
        if stmt.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let actions = strings(stmt.get("Action"));
        let resources = strings(stmt.get("Resource"));
        if actions.iter().any(|a| a == "*") {
            out.push(Finding::new(POLICY_STAR_ACTION, "", attr).at(file, "\"*\""));
        }
        let star_resource = resources.iter().any(|r| r == "*");
        if star_resource {
            let writes: Vec<&String> = actions.iter().filter(|a| a.as_str() != "*" && !is_read_action(a)).collect();
            let passrole = writes.iter().any(|a| a.eq_ignore_ascii_case("iam:PassRole") || a.eq_ignore_ascii_case("iam:*"));
            if passrole {
                out.push(Finding::new(POLICY_PASSROLE_STAR, "", attr).at(file, "PassRole"));
            }
            let others: Vec<&&String> = writes.iter().filter(|a| !a.eq_ignore_ascii_case("iam:PassRole")).collect();
            if let Some(first) = others.first() {
                let list: Vec<&str> = others.iter().map(|s| s.as_str()).collect();
                out.push(Finding::new(POLICY_STAR_RESOURCE_WRITE, &list.join(", "), attr).at(file, first));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.rule).collect()
    }

    fn trust(cond: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": cond
        }]})
    }

    #[test]
    fn safe_trust_is_quiet() {
        let t = trust(json!({
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": ["repo:acme/mlops:ref:refs/heads/main", "repo:acme/mlops:ref:refs/tags/v*"]}
        }));
        assert!(lint_trust(&t, "allow", None).is_empty());
    }

    #[test]
    fn every_trust_rule_fires() {
        assert_eq!(ids(&lint_trust(&trust(json!({})), "a", None)), vec![TRUST_NO_AUD, TRUST_NO_SUB]);
        for sub in ["*", "repo:*", "repo:acme/*", "repo:acme/*:ref:refs/heads/main", "repo:*/mlops:*"] {
            let t = trust(json!({
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": sub}
            }));
            assert_eq!(ids(&lint_trust(&t, "a", None)), vec![TRUST_WILDCARD_SUB], "{sub}");
        }
        // A whole-repo wildcard on refs is allowed (seed 001's repo:ORG/REPO:*).
        assert!(!sub_is_wildcard("repo:acme/mlops:*"));
        let mut t = trust(json!({"StringEquals": {"accounts.google.com:aud": "x"}}));
        t["Statement"][0]["Principal"]["Federated"] = json!("arn:aws:iam::1:oidc-provider/accounts.google.com");
        assert_eq!(ids(&lint_trust(&t, "a", None)), vec![TRUST_FOREIGN_PROVIDER]);
    }

    #[test]
    fn permission_rules_fire_and_stay_quiet_on_safe_variants() {
        let p = |a: Value, r: Value| json!({"Statement": [{"Effect": "Allow", "Action": a, "Resource": r}]});
        assert_eq!(ids(&lint_permissions(&p(json!("*"), json!("arn:x")), "a", None)), vec![POLICY_STAR_ACTION]);
        assert_eq!(ids(&lint_permissions(&p(json!(["ecr:PutImage"]), json!("*")), "a", None)), vec![POLICY_STAR_RESOURCE_WRITE]);
        assert_eq!(ids(&lint_permissions(&p(json!("iam:PassRole"), json!("*")), "a", None)), vec![POLICY_PASSROLE_STAR]);
        assert!(lint_permissions(&p(json!(["ecr:GetAuthorizationToken", "ecr:DescribeImages"]), json!("*")), "a", None).is_empty());
        assert!(lint_permissions(&p(json!(["ecr:PutImage"]), json!("arn:aws:ecr:us-west-2:1:repository/x")), "a", None).is_empty());
        let deny = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]});
        assert!(lint_permissions(&deny, "a", None).is_empty());
    }
}
