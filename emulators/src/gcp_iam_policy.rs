//! IAM policies of the fake's resources (service accounts and Compute
//! instances), as `getIamPolicy` / `setIamPolicy` answer in the IAM and
//! Compute references (`Policy`: version, bindings, etag).
//!
//! Modelled rules, each from the references or the IAM docs:
//! - A resource nobody has set a policy on answers `{"version": 1,
//!   "etag": "ACAB"}` (the etag of an empty policy); the policy belongs to
//!   that incarnation of the resource: one deleted and created again
//!   starts empty ("Deleting service accounts": a new account with the same
//!   name is a different principal).
//! - A write whose etag is not the current one answers 409 ABORTED
//!   ("Policy versions"/"concurrency control": read-modify-write).
//! - Members must be `user:`, `serviceAccount:`, `group:`, `domain:`,
//!   `principal://`, `principalSet://`, `allUsers` or
//!   `allAuthenticatedUsers` (400 INVALID_ARGUMENT); a
//!   `serviceAccount:` member of a project this fake serves must exist,
//!   and a project's custom role must exist and not be deleted (400, as
//!   IAM refuses "Service account ... does not exist" and "Role ... is not
//!   supported for this resource" / does not exist).
//! - Bindings with a condition need version 3 (400 otherwise).

use crate::gcp_store::{error, Inner};
use axum::response::Response;
use serde_json::{json, Value};

/// The key of one incarnation of a resource (`name#uniqueId`).
pub(crate) fn incarnation(name: &str, resource: &Value) -> String {
    let id = resource.get("uniqueId").or_else(|| resource.get("id")).and_then(Value::as_str).unwrap_or_default();
    format!("{name}#{id}")
}

/// The current policy of a resource incarnation.
pub(crate) fn get(i: &Inner, key: &str) -> Value {
    i.iam_policies.get(key).cloned().unwrap_or_else(|| json!({"version": 1, "etag": "ACAB"}))
}

fn member_problem(i: &Inner, m: &str) -> Option<String> {
    if m == "allUsers" || m == "allAuthenticatedUsers" {
        return None;
    }
    let known = ["user:", "serviceAccount:", "group:", "domain:", "principal://", "principalSet://"].iter().any(|p| m.starts_with(p));
    if !known {
        return Some(format!("Invalid member type for member {m}."));
    }
    let email = m.strip_prefix("serviceAccount:")?;
    let project = email.strip_suffix(".iam.gserviceaccount.com")?.split('@').nth(1)?;
    let exists = i.service_accounts.contains_key(&format!("projects/{project}/serviceAccounts/{email}"));
    (!exists).then(|| format!("Service account {email} does not exist."))
}

fn role_problem(i: &Inner, role: &str) -> Option<String> {
    if role.starts_with("roles/") {
        return None;
    }
    match i.roles.get(role) {
        Some(r) if r.get("deleted") != Some(&json!(true)) => None,
        _ => Some(format!("Role ({role}) does not exist in the resource's hierarchy.")),
    }
}

/// Replaces a policy after the reference's checks; answers the new one.
pub(crate) fn set(i: &mut Inner, key: &str, policy: &Value) -> Result<Value, Box<Response>> {
    let current = get(i, key);
    if let Some(tag) = policy.get("etag").and_then(Value::as_str) {
        if tag != current["etag"].as_str().unwrap_or_default() {
            return Err(Box::new(error(
                409,
                "ABORTED",
                "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
            )));
        }
    }
    let version = policy.get("version").and_then(Value::as_i64).unwrap_or(1);
    let bindings = policy.get("bindings").and_then(Value::as_array).cloned().unwrap_or_default();
    for b in &bindings {
        let role = b.get("role").and_then(Value::as_str).unwrap_or_default();
        if let Some(p) = role_problem(i, role) {
            return Err(Box::new(error(400, "INVALID_ARGUMENT", p)));
        }
        if b.get("condition").is_some() && version < 3 {
            return Err(Box::new(error(400, "INVALID_ARGUMENT", "Conditional bindings require policy version 3.")));
        }
        for m in b.get("members").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if let Some(p) = member_problem(i, m) {
                return Err(Box::new(error(400, "INVALID_ARGUMENT", p)));
            }
        }
    }
    i.next_op += 1;
    use base64::Engine;
    let etag = base64::engine::general_purpose::STANDARD.encode(format!("policy-{}", i.next_op));
    let mut out = json!({"version": version, "etag": etag});
    if !bindings.is_empty() {
        out["bindings"] = json!(bindings);
    }
    i.iam_policies.insert(key.to_string(), out.clone());
    Ok(out)
}
