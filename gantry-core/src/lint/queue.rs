//! Rules for agent queues that run untrusted code (`untrusted_code = true`,
//! e.g. pull requests from forks): such a job must not be able to write to
//! what later builds trust, read secrets, or meet another job's leftovers.

use super::{action_matches, is_allow, is_read_action, resource_is_wildcard, statements, strings};
use super::{Finding, QUEUE_UNTRUSTED_SECRETS, QUEUE_UNTRUSTED_SHARED, QUEUE_UNTRUSTED_WRITE};

/// Reads that hand out secrets: on every resource they read them all.
const SECRET_READS: &[&str] =
    &["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "kms:Decrypt"];
use serde_json::Value;

/// What the rules look at, from a queue's evaluated attributes.
pub struct UntrustedQueue<'a> {
    /// `(file, document)` of each instance policy.
    pub policies: Vec<(&'a str, &'a Value)>,
    /// Names in `agent_secrets`.
    pub secrets: Vec<&'a str>,
    /// Each instance runs one job (`terminate_after_job`).
    pub terminate_after_job: bool,
    /// Managed policies on the instance role.
    pub managed_policy_arns: Vec<&'a str>,
}

/// Findings for a queue that runs untrusted code.
pub fn lint_untrusted(q: &UntrustedQueue) -> Vec<Finding> {
    let mut out = Vec::new();
    for (file, doc) in &q.policies {
        let writes: Vec<String> = statements(doc)
            .into_iter()
            .filter(|s| is_allow(s))
            .flat_map(|s| {
                // NotAction grants every action it does not name: writes included.
                let not = s.get("NotAction").map(|_| "NotAction".to_string());
                strings(s.get("Action")).into_iter().filter(|a| !is_read_action(a)).chain(not)
            })
            .collect();
        if let Some(first) = writes.first() {
            out.push(Finding::new(QUEUE_UNTRUSTED_WRITE, &writes.join(", "), "instance_policies").at(Some(file), first));
        }
        for s in statements(doc).into_iter().filter(|s| is_allow(s)) {
            let everything = strings(s.get("Resource")).iter().any(|r| resource_is_wildcard(r));
            let actions = strings(s.get("Action"));
            let reads: Vec<&str> = SECRET_READS.iter().copied().filter(|r| actions.iter().any(|a| action_matches(a, r))).collect();
            if everything && !reads.is_empty() {
                let needle = actions.iter().find(|a| action_matches(a, reads[0])).cloned().unwrap_or_default();
                out.push(
                    Finding::new(QUEUE_UNTRUSTED_SECRETS, &format!("{} on every resource", reads.join(", ")), "instance_policies").at(Some(file), &needle),
                );
            }
        }
    }
    if !q.managed_policy_arns.is_empty() {
        // Their contents are not in the files: say so rather than pass them silently.
        out.push(Finding::new(QUEUE_UNTRUSTED_WRITE, &format!("managed policies not checked: {}", q.managed_policy_arns.join(", ")), "managed_policy_arns"));
    }
    if !q.secrets.is_empty() {
        out.push(Finding::new(QUEUE_UNTRUSTED_SECRETS, &q.secrets.join(", "), "agent_secrets"));
    }
    if !q.terminate_after_job {
        out.push(Finding::new(QUEUE_UNTRUSTED_SHARED, "", "terminate_after_job"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn untrusted_queues_may_only_read_and_run_one_job_per_machine() {
        let push = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:PutImage"], "Resource": "arn:x"}]});
        let pull =
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetAuthorizationToken"], "Resource": "*"}]});
        let safe = UntrustedQueue { policies: vec![("pull.json", &pull)], secrets: vec![], terminate_after_job: true, managed_policy_arns: vec![] };
        assert!(lint_untrusted(&safe).is_empty());
        let risky = UntrustedQueue { policies: vec![("push.json", &push)], secrets: vec!["HF_TOKEN"], terminate_after_job: false, managed_policy_arns: vec![] };
        let found: Vec<&str> = lint_untrusted(&risky).iter().map(|f| f.rule).collect();
        assert_eq!(found, [QUEUE_UNTRUSTED_WRITE, QUEUE_UNTRUSTED_SECRETS, QUEUE_UNTRUSTED_SHARED]);
        let f = &lint_untrusted(&risky)[0];
        assert!(f.message.contains("(ecr:PutImage)"), "{}", f.message);
        assert_eq!((f.file.as_deref(), f.needle.as_deref()), (Some("push.json"), Some("ecr:PutImage")));
        // NotAction grants writes too, whatever it excludes.
        let not = json!({"Statement": [{"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": "arn:x"}]});
        let q = UntrustedQueue { policies: vec![("not.json", &not)], secrets: vec![], terminate_after_job: true, managed_policy_arns: vec![] };
        assert_eq!(lint_untrusted(&q).iter().map(|f| f.rule).collect::<Vec<_>>(), [QUEUE_UNTRUSTED_WRITE]);
        // Reading every parameter or secret is reading the build secrets.
        for (action, resource) in [
            ("ssm:GetParameter*", "*"),
            ("ssm:GetParametersByPath", "arn:aws:ssm:us-west-2:123456789012:parameter/*"),
            ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-west-2:123456789012:secret:*"),
            ("kms:Decrypt", "*"),
        ] {
            let doc = json!({"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]});
            let q = UntrustedQueue { policies: vec![("r.json", &doc)], secrets: vec![], terminate_after_job: true, managed_policy_arns: vec![] };
            // (kms:Decrypt is no Get/List verb: it is a write to QUEUE-001 as well.)
            assert!(lint_untrusted(&q).iter().any(|f| f.rule == QUEUE_UNTRUSTED_SECRETS), "{action} on {resource}");
        }
        let named = json!({"Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "arn:aws:ssm:us-west-2:123456789012:parameter/ci/public-config"}]});
        let q = UntrustedQueue { policies: vec![("r.json", &named)], secrets: vec![], terminate_after_job: true, managed_policy_arns: vec![] };
        assert!(lint_untrusted(&q).is_empty(), "a named, non-secret parameter is fine");
    }
}
