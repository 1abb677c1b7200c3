//! The machine-readable plan (`plan --json`, `show --json`).
//!
//! Schema, version 1 (additive changes keep the version; anything else bumps it):
//! ```json
//! {
//!   "format_version": 1,
//!   "stack": "demo", "region": "us-west-2", "account_id": "123456789012",
//!   "destroy": false,
//!   "summary": {"add": 1, "change": 0, "destroy": 0, "replace": 0, "unchanged": 2},
//!   "changes": [{
//!     "address": "ecr_repository.cache", "kind": "ecr_repository", "name": "cache",
//!     "action": "create" | "update" | "replace" | "delete",
//!     "reason": "text or null",
//!     "attributes": [{"name": "scan_on_push", "before": false, "after": true,
//!                     "forces_replacement": false}]
//!   }],
//!   "unchanged": ["ecr_repository.other"],
//!   "warnings": [],
//!   "broadening": [{"address": "ci_role.push", "items": ["may now be assumed by repo:o/r:ref:refs/heads/dev (via arn:...)"]}],
//!   "waivers": ["ci_role.push: GANTRY-POLICY-002 waived: reason"],
//!   "cost": {"prices": "source", "prices_date": "2026-12-04", "currency": "USD",
//!            "lines": [{"address": "agent_queue.gpu", "before": null,
//!                       "after": {"hourly": 45.376, "accelerators": 32, "floor_hourly": 0.0, "basis": "8 × g5.12xlarge at $5.672/h"}}],
//!            "total_before": 0.0, "total_after": 45.376, "unpriced": []}
//! }
//! ```
//! `cost` (additive) is present when the stack runs machines: per-hour
//! ceilings, not estimates (every queue at max_size of its dearest type).
//! Sensitive values are replaced by the string `"(sensitive)"`.

use crate::plan::Plan;
use serde_json::{json, Value};

/// Builds the JSON document for a plan.
pub fn render(plan: &Plan) -> Value {
    let changes: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            let attrs: Vec<Value> = c
                .attrs
                .iter()
                .map(|a| {
                    let hide = |v: &Value| if a.sensitive { json!("(sensitive)") } else { v.clone() };
                    let mut attr = json!({"name": a.name, "before": hide(&a.before), "after": hide(&a.after), "forces_replacement": a.forces_replacement});
                    if a.known_after_apply {
                        // Additive (format_version 1): the server chooses the value.
                        attr["known_after_apply"] = json!(true);
                    }
                    attr
                })
                .collect();
            json!({
                "address": c.address,
                "kind": c.kind,
                "name": c.identity,
                "action": c.action(),
                "reason": c.reason,
                "attributes": attrs,
                "notes": c.notes,
            })
        })
        .collect();
    let mut doc = json!({
        "format_version": plan.format_version,
        "stack": plan.stack,
        "region": plan.region,
        "account_id": plan.account_id,
        "destroy": plan.destroy,
        "summary": plan.summary(),
        "changes": changes,
        "unchanged": plan.unchanged,
        "warnings": plan.warnings,
        "broadening": plan.broadening,
        "waivers": plan.waivers,
    });
    if let Some(c) = &plan.cost {
        doc["cost"] = json!(c);
    }
    doc
}
