//! Security lint for IAM trust and permission policies. Every rule has a
//! stable id, a message and how to fix it. Findings are errors that refuse
//! the plan (exit code 3) unless waived in the block with a reason.

use serde_json::Value;

pub mod conditions;
mod managed;
mod permissions;
mod queue;
mod repository;
mod trust;
pub use managed::{admin_like, lint_managed, lint_managed_document, ADMIN_LIKE};
pub use permissions::{lint_permissions, resource_is_wildcard};
pub use queue::{lint_untrusted, UntrustedQueue};
pub use repository::{lint_bucket_policy, lint_repository_policy};
pub use trust::{grants_assume, lint_trust, principal_is_anyone, principals, sub_is_wildcard};

/// A lint rule's description (for docs and waiver validation).
pub struct Rule {
    /// The rule's id (`GANTRY-TRUST-001`): findings and waivers name it.
    pub id: &'static str,
    /// What the rule refuses, one sentence.
    pub summary: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

/// Rule: web-identity trust without an `aud` condition: any audience's token is accepted.
pub const TRUST_NO_AUD: &str = "GANTRY-TRUST-001";
/// Rule: web-identity trust without a `sub` condition: every repository on GitHub may assume the role.
pub const TRUST_NO_SUB: &str = "GANTRY-TRUST-002";
/// Rule: `sub` is a wildcard (`*`, `repo:*`, or a whole organisation).
pub const TRUST_WILDCARD_SUB: &str = "GANTRY-TRUST-003";
/// Rule: sts:AssumeRoleWithWebIdentity trusted for a provider that is not GitHub Actions.
pub const TRUST_FOREIGN_PROVIDER: &str = "GANTRY-TRUST-004";
/// Rule: anyone may assume the role (`Principal: "*"`, `{"AWS": "*"}`, a wildcard account, or `NotPrincipal`).
pub const TRUST_ANY_PRINCIPAL: &str = "GANTRY-TRUST-005";
/// Rule: a trust statement with `NotAction` grants every action it does not name, including sts:AssumeRole.
pub const TRUST_NOT_ACTION: &str = "GANTRY-TRUST-006";
/// Rule: the only condition on the token's `aud` or `sub` does not narrow (a negation, `Null`, `...IfExists`, `ForAllValues:` or a policy variable admits tokens it does not name).
pub const TRUST_NON_NARROWING: &str = "GANTRY-TRUST-007";
/// Rule: `aud` is matched with a wildcard: tokens minted for any audience are accepted.
pub const TRUST_WILDCARD_AUD: &str = "GANTRY-TRUST-008";
/// Rule: a condition operator that IAM does not define (gantry cannot tell what it lets in; IAM rejects the policy).
pub const TRUST_UNKNOWN_OPERATOR: &str = "GANTRY-TRUST-009";
/// Rule: `Action: "*"` grants every action on every service.
pub const POLICY_STAR_ACTION: &str = "GANTRY-POLICY-001";
/// Rule: write actions on every resource (`*`, or an ARN that names every resource of its type such as `arn:aws:s3:::*` or `role/*`).
pub const POLICY_STAR_RESOURCE_WRITE: &str = "GANTRY-POLICY-002";
/// Rule: iam:PassRole on every role lets the holder hand any role to a service.
pub const POLICY_PASSROLE_STAR: &str = "GANTRY-POLICY-003";
/// Rule: an Allow with `NotAction` grants every action it does not name, including ones AWS adds later.
pub const POLICY_NOT_ACTION: &str = "GANTRY-POLICY-004";
/// Rule: an Allow with `NotResource` grants the actions on every resource it does not name.
pub const POLICY_NOT_RESOURCE: &str = "GANTRY-POLICY-005";
/// Rule: a managed policy that grants administrator or full-service access (by AWS's name for it, or by its document, read at plan time).
pub const POLICY_ADMIN_MANAGED: &str = "GANTRY-POLICY-006";
/// Rule: an action that lets the holder raise its own privileges, whatever resource it names (a new policy version, a policy attached or put on a role, user or group, a rewritten trust policy, a boundary removed, new credentials, a federation token).
pub const POLICY_ESCALATION: &str = "GANTRY-POLICY-007";
/// Rule: a repository policy lets anyone (`Principal: "*"` or any account) use the repository.
pub const REPO_ANYONE: &str = "GANTRY-REPO-001";
/// Rule: a repository policy lets another principal push, delete or change the repository (a write action, `ecr:*` or `NotAction`).
pub const REPO_OTHERS_WRITE: &str = "GANTRY-REPO-002";
/// Rule: a bucket policy file lets anyone (`Principal: "*"` or any account) use the bucket.
pub const BUCKET_ANYONE: &str = "GANTRY-BUCKET-001";
/// Rule: a bucket policy lets another principal write, delete or reconfigure (a write action, `s3:*` or `NotAction`).
pub const BUCKET_OTHERS_WRITE: &str = "GANTRY-BUCKET-002";
/// Rule: a queue running untrusted code may write (push images, change objects): a pull request could poison what later builds trust.
pub const QUEUE_UNTRUSTED_WRITE: &str = "GANTRY-QUEUE-001";
/// Rule: a queue running untrusted code receives build secrets, or may read secrets by wildcard (SSM parameters, Secrets Manager, KMS decrypt on every resource): a pull request can print or send them.
pub const QUEUE_UNTRUSTED_SECRETS: &str = "GANTRY-QUEUE-002";
/// Rule: a queue running untrusted code reuses machines: a job can leave something behind for the next one.
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
    Rule {
        id: TRUST_ANY_PRINCIPAL,
        summary: "anyone may assume the role (`Principal: \"*\"`, `{\"AWS\": \"*\"}`, a wildcard account, or `NotPrincipal`)",
        fix: "trust the GitHub OIDC provider (allow { repo = ... }) or name the accounts and roles that may assume it",
    },
    Rule {
        id: TRUST_NOT_ACTION,
        summary: "a trust statement with `NotAction` grants every action it does not name, including sts:AssumeRole",
        fix: "name the action: \"Action\": \"sts:AssumeRoleWithWebIdentity\"",
    },
    Rule {
        id: TRUST_NON_NARROWING,
        summary: "the only condition on the token's `aud` or `sub` does not narrow (a negation, `Null`, `...IfExists`, `ForAllValues:` or a policy variable admits tokens it does not name)",
        fix: "require the value with StringEquals or StringLike (allow { repo = ..., branches = [...] } writes it for you)",
    },
    Rule {
        id: TRUST_WILDCARD_AUD,
        summary: "`aud` is matched with a wildcard: tokens minted for any audience are accepted",
        fix: "require StringEquals token.actions.githubusercontent.com:aud = sts.amazonaws.com",
    },
    Rule {
        id: TRUST_UNKNOWN_OPERATOR,
        summary: "a condition operator that IAM does not define (gantry cannot tell what it lets in; IAM rejects the policy)",
        fix: "use an IAM condition operator, e.g. StringEquals or StringLike",
    },
    Rule { id: POLICY_STAR_ACTION, summary: "`Action: \"*\"` grants every action on every service", fix: "list the actions the job needs" },
    Rule {
        id: POLICY_STAR_RESOURCE_WRITE,
        summary: "write actions on every resource (`*`, or an ARN that names every resource of its type such as `arn:aws:s3:::*` or `role/*`)",
        fix: "scope write actions to the ARNs they need (e.g. ${ecr_repository.cache.arn})",
    },
    Rule {
        id: POLICY_PASSROLE_STAR,
        summary: "iam:PassRole on every role lets the holder hand any role to a service",
        fix: "list the role ARNs that may be passed",
    },
    Rule {
        id: POLICY_NOT_ACTION,
        summary: "an Allow with `NotAction` grants every action it does not name, including ones AWS adds later",
        fix: "list the actions the job needs in `Action`",
    },
    Rule {
        id: POLICY_NOT_RESOURCE,
        summary: "an Allow with `NotResource` grants the actions on every resource it does not name",
        fix: "list the resources in `Resource`",
    },
    Rule {
        id: POLICY_ADMIN_MANAGED,
        summary: "a managed policy that grants administrator or full-service access (by AWS's name for it, or by its document, read at plan time)",
        fix: "attach a policy file with the actions and resources the job needs, or waive with the reason",
    },
    Rule {
        id: POLICY_ESCALATION,
        summary: "an action that lets the holder raise its own privileges, whatever resource it names (a new policy version, a policy attached or put on a role, user or group, a rewritten trust policy, a boundary removed, new credentials, a federation token)",
        fix: "leave IAM changes to gantry's apply role; if the job really manages IAM, waive with the reason and scope it to resources it cannot use itself",
    },
    Rule {
        id: REPO_ANYONE,
        summary: "a repository policy lets anyone (`Principal: \"*\"` or any account) use the repository",
        fix: "name the accounts or roles that may pull (Principal: {\"AWS\": \"arn:aws:iam::ACCOUNT:root\"}), or waive with the reason for a public repository",
    },
    Rule {
        id: REPO_OTHERS_WRITE,
        summary: "a repository policy lets another principal push, delete or change the repository (a write action, `ecr:*` or `NotAction`)",
        fix: "grant pull actions only (ecr:BatchGetImage, ecr:GetDownloadUrlForLayer); pushes come from the account's own roles",
    },
    Rule {
        id: BUCKET_ANYONE,
        summary: "a bucket policy file lets anyone (`Principal: \"*\"` or any account) use the bucket",
        fix: "name the accounts or roles; for public downloads list the prefixes in public_read_prefixes (s3:GetObject only, reviewed as broadening)",
    },
    Rule {
        id: BUCKET_OTHERS_WRITE,
        summary: "a bucket policy lets another principal write, delete or reconfigure (a write action, `s3:*` or `NotAction`)",
        fix: "grant other principals read actions only; uploads come from the account's own roles (a ci_role with a policy file)",
    },
    Rule {
        id: QUEUE_UNTRUSTED_WRITE,
        summary: "a queue running untrusted code may write (push images, change objects): a pull request could poison what later builds trust",
        fix: "give untrusted queues read-only instance policies (e.g. policies/ci-instance-readonly.json), or waive with the reason",
    },
    Rule {
        id: QUEUE_UNTRUSTED_SECRETS,
        summary: "a queue running untrusted code receives build secrets, or may read secrets by wildcard (SSM parameters, Secrets Manager, KMS decrypt on every resource): a pull request can print or send them",
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
    /// The rule's id.
    pub rule: &'static str,
    /// What is wrong here.
    pub message: String,
    /// How to fix it.
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

/// A block's `waive "RULE" { reason = "..." }` blocks, as (rule, reason).
pub fn waivers(attrs: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    attrs
        .get("waive")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|w| (w["rule"].as_str().unwrap_or("").to_string(), w["reason"].as_str().unwrap_or("").to_string())).collect())
        .unwrap_or_default()
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

/// A policy document's statements (one statement or a list).
pub fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

/// Whether a statement allows (IAM knows `Allow` and `Deny`; anything
/// that is not a Deny is read as an Allow, the safe side for a lint).
pub fn is_allow(stmt: &Value) -> bool {
    !stmt.get("Effect").and_then(Value::as_str).is_some_and(|e| e.eq_ignore_ascii_case("Deny"))
}

/// IAM's action matching: case-insensitive, `*` any run, `?` one character.
/// Greedy with one backtrack point, so hostile patterns stay O(n·m).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.as_bytes(), action.as_bytes());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < a.len() {
        if i < p.len() && (p[i] == b'?' || p[i].eq_ignore_ascii_case(&a[j])) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == b'*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

/// Whether an action only reads (by the usual AWS verb prefixes).
pub fn is_read_action(action: &str) -> bool {
    let verb = action.split(':').nth(1).unwrap_or(action);
    ["Get", "List", "Describe", "BatchGet", "BatchCheck", "Head", "Query", "Scan", "Search", "Lookup", "View"]
        .iter()
        .any(|p| verb.len() >= p.len() && verb[..p.len()].eq_ignore_ascii_case(p))
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

    #[test]
    fn actions_match_as_iam_matches_them() {
        assert!(action_matches("sts:AssumeRole*", "sts:AssumeRoleWithWebIdentity"));
        assert!(action_matches("STS:assume?ole", "sts:AssumeRole"));
        assert!(action_matches("*", "iam:PassRole") && action_matches("iam:*", "iam:PassRole") && action_matches("iam:Pass*", "iam:PassRole"));
        assert!(!action_matches("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"));
        assert!(!action_matches("iam:Get*", "iam:PassRole"));
        let hostile = "*a".repeat(2000);
        assert!(!action_matches(&hostile, &"b".repeat(4000)), "linear, not exponential");
    }
}
