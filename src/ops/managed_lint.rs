//! The plan-time half of the security lint: every managed policy a block
//! attaches is judged by its document (validate, offline, knows only AWS's
//! names for them). A finding refuses the plan unless the block waives
//! GANTRY-POLICY-006 with a reason, as it would at validate.

use crate::cloud::managed_policies::ManagedPolicyApi;
use crate::config::Stack;
use crate::core::Diagnostic;
use crate::lint::POLICY_ADMIN_MANAGED;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How many documents are read at once.
const READS: usize = 8;

/// What the stack's managed policies hold.
#[derive(Debug, Default)]
pub(super) struct Judged {
    /// ARNs no policy has (an error: apply would fail on them).
    pub missing: Vec<Diagnostic>,
    /// Documents the lint refuses, unwaived (security findings).
    pub findings: Vec<Diagnostic>,
}

/// Judges every managed policy the stack attaches by its document.
pub(super) async fn lint(stack: &Stack, api: &dyn ManagedPolicyApi) -> Result<Judged, crate::core::error::ProviderError> {
    let mut uses: Vec<(String, String, bool)> = Vec::new();
    for r in &stack.resources {
        let waive = crate::lint::waivers(&r.attrs).iter().any(|(rule, _)| rule == POLICY_ADMIN_MANAGED);
        uses.extend(r.block.managed_policy_arns().into_iter().map(|arn| (r.address.clone(), arn, waive)));
    }
    let arns: BTreeSet<String> = uses.iter().map(|(_, a, _)| a.clone()).collect();
    let docs: BTreeMap<String, Option<Value>> = futures::stream::iter(arns.into_iter().map(|arn| async move { api.document(&arn).await.map(|d| (arn, d)) }))
        .buffer_unordered(READS)
        .try_collect()
        .await?;
    let mut out = Judged::default();
    for (address, arn, waive) in uses {
        match docs.get(&arn) {
            Some(None) => out.missing.push(
                Diagnostic::at(address, format!("managed_policy_arns: no managed policy {arn} exists in this account"))
                    .with_note("check the ARN (AWS managed policies are arn:aws:iam::aws:policy/NAME, some under a path such as service-role/)"),
            ),
            Some(Some(doc)) if !waive => {
                if let Some(f) = crate::lint::lint_managed_document(&arn, doc, "managed_policy_arns") {
                    out.findings.push(
                        Diagnostic::at(address, f.message)
                            .with_note(format!("fix: {}; or waive it in the block: waive \"{}\" {{ reason = \"...\" }}", f.fix, f.rule)),
                    );
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use serde_json::json;

    struct Docs(BTreeMap<String, Value>);

    #[async_trait]
    impl ManagedPolicyApi for Docs {
        async fn document(&self, arn: &str) -> Result<Option<Value>, crate::core::error::ProviderError> {
            Ok(self.0.get(arn).cloned())
        }
    }

    #[tokio::test]
    async fn a_managed_policy_is_judged_by_what_its_document_grants() {
        let escalates = "arn:aws:iam::aws:policy/service-role/SomeServiceRole";
        let reads = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
        let api = Docs(
            [
                (escalates.to_string(), json!({"Statement": [{"Effect": "Allow", "Action": ["ec2:Describe*", "iam:PassRole"], "Resource": "*"}]})),
                (reads.to_string(), json!({"Statement": [{"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetAuthorizationToken"], "Resource": "*"}]})),
            ]
            .into(),
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        let stack = |arns: &str, waive: &str| {
            let text = format!(
                "stack \"m\" {{\n  aws {{ region = \"us-west-2\" }}\n}}\n\nci_role \"r\" {{\n  trust_policy_file = \"t.json\"\n  managed_policy_arns = {arns}\n{waive}}}\n"
            );
            std::fs::write(dir.path().join("main.gantry.hcl"), text).unwrap();
            std::fs::write(
                dir.path().join("t.json"),
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}"#,
            )
            .unwrap();
            let l = crate::config::load_dir(dir.path(), &crate::config::LoadOptions::default(), &crate::ops::language());
            l.stack.unwrap_or_else(|| panic!("{}", l.diags.render(&l.sources, false)))
        };
        let found = lint(&stack(&format!("[\"{escalates}\", \"{reads}\"]"), ""), &api).await.unwrap().findings;
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("GANTRY-POLICY-006") && found[0].message.contains("SomeServiceRole") && found[0].message.contains("PassRole"),
            "{}",
            found[0].message
        );
        let waived = lint(&stack(&format!("[\"{escalates}\"]"), "  waive \"GANTRY-POLICY-006\" {\n    reason = \"the service needs it\"\n  }\n"), &api)
            .await
            .unwrap()
            .findings;
        assert!(waived.is_empty(), "{waived:?}");
        let missing = lint(&stack("[\"arn:aws:iam::aws:policy/NoSuchPolicy\"]", ""), &api).await.unwrap().missing;
        assert!(missing[0].message.contains("no managed policy arn:aws:iam::aws:policy/NoSuchPolicy exists"), "{missing:?}");
    }
}
