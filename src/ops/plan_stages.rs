//! A loaded stack's plan: the engine's pipeline (`engine::pipeline`: the
//! stages in order, the managed-policy lint, the cost ceilings) over this
//! gantry's kinds and the backend's drivers, built once.

use super::{Backend, OpsError};
use crate::config::Stack;
use crate::core::Kind;
use crate::engine::pipeline::{self, Pipeline, PlanFailure, PlanOptions};
use crate::plan::Plan;
use std::sync::Arc;

/// Plans `stack` with the language's kinds (those it was loaded with).
pub(super) async fn plan_stack(stack: &Stack, kinds: &[&'static dyn Kind], backend: Arc<dyn Backend>, req: &super::PlanRequest) -> Result<Plan, OpsError> {
    let drivers = backend.drivers();
    let managed = backend.managed_policies();
    let with = Pipeline { kinds, drivers: &drivers, zoned: &crate::kinds::is_gcp, managed_policies: managed.as_deref() };
    let opts = PlanOptions {
        destroy: req.destroy,
        all_kinds: req.all_kinds,
        adopt_all: req.adopt_all,
        allow_delete: req.allow_delete.clone(),
        targets: req.targets.clone(),
        change_sets: req.change_sets,
        inputs: inputs_of(req),
        gantry_version: crate::VERSION.to_string(),
    };
    pipeline::plan_stack(stack, &with, &opts).await.map_err(|e| match e {
        PlanFailure::Provider(e) => OpsError::Provider(e),
        PlanFailure::Refused(problems) => OpsError::Refused(problems),
        PlanFailure::Security(findings) => OpsError::Security(findings),
        PlanFailure::PriceBook(why) => OpsError::Usage(why),
    })
}

/// The choices a plan was made with, as a saved plan records them.
fn inputs_of(req: &super::PlanRequest) -> crate::plan::PlanInputs {
    crate::plan::PlanInputs {
        targets: req.targets.clone(),
        all_kinds: req.all_kinds,
        workspace: req.load.workspace.clone(),
        var_files: req.load.var_files.iter().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())).collect(),
        var_names: req.load.vars.iter().filter_map(|v| v.split_once('=')).map(|(n, _)| n.to_string()).collect(),
        adopt_all: req.adopt_all,
        allow_delete: req.allow_delete.iter().cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::managed_lint::{lint, ManagedPolicyApi};
    use async_trait::async_trait;
    use serde_json::{json, Value};
    use std::collections::BTreeMap;

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
