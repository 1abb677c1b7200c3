//! Rules for agent queues that run untrusted code (`untrusted_code = true`,
//! e.g. pull requests from forks): such a job must not be able to write to
//! what later builds trust, read secrets, or meet another job's leftovers.

use super::{is_allow, is_read_action, statements, strings, Finding, QUEUE_UNTRUSTED_SECRETS, QUEUE_UNTRUSTED_SHARED, QUEUE_UNTRUSTED_WRITE};
use serde_json::Value;

/// What the rules look at, from a queue's evaluated attributes.
pub struct UntrustedQueue<'a> {
    /// `(file, document)` of each instance policy.
    pub policies: Vec<(&'a str, &'a Value)>,
    /// Names in `agent_secrets`.
    pub secrets: Vec<&'a str>,
    pub terminate_after_job: bool,
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
    }
}
