//! The plan-time half of the security lint: every managed policy a block
//! attaches is judged by its document (validate, offline, knows only AWS's
//! names for them). A finding refuses the plan unless the block waives
//! GANTRY-POLICY-006 with a reason, as it would at validate. The documents
//! come over [`ManagedPolicyApi`] (IAM, in gantry-aws's `cloud::managed_policies`).

use crate::config::Stack;
use crate::core::Diagnostic;
use crate::lint::POLICY_ADMIN_MANAGED;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The narrow API the plan-time lint needs.
#[async_trait::async_trait]
pub trait ManagedPolicyApi: Send + Sync {
    /// The default version's document; None when no such policy exists.
    async fn document(&self, arn: &str) -> Result<Option<Value>, crate::core::error::ProviderError>;
}

/// How many documents are read at once.
const READS: usize = 8;

/// What the stack's managed policies hold.
#[derive(Debug, Default)]
pub struct Judged {
    /// ARNs no policy has (an error: apply would fail on them).
    pub missing: Vec<Diagnostic>,
    /// Documents the lint refuses, unwaived (security findings).
    pub findings: Vec<Diagnostic>,
}

/// Judges every managed policy the stack attaches by its document.
pub async fn lint(stack: &Stack, api: &dyn ManagedPolicyApi) -> Result<Judged, crate::core::error::ProviderError> {
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
