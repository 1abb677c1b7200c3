//! The scaler function of a queue, through [`FunctionApi`]: its comparable
//! state, deploying it (code compared by CodeSha256, so an unchanged build
//! is never uploaded again), Lambda's states waited out, and IAM's
//! eventual consistency for a new role ridden out.

use super::api::{FunctionApi, FunctionConfig, FunctionInfo};
use super::state::{Desired, FunctionState};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::Owner;
use crate::kinds::common::lost_create;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Statement id of the schedule's invoke permission.
pub(super) const PERMISSION_ID: &str = "gantry-schedule";
/// Statement ids of a webhook URL's two permissions.
pub(super) const WEBHOOK_URL_SID: &str = "gantry-webhook-url";
pub(super) const WEBHOOK_INVOKE_SID: &str = "gantry-webhook-invoke";

fn has_statement(policy: &str, sid: &str) -> bool {
    serde_json::from_str::<Value>(policy)
        .ok()
        .and_then(|d| d.get("Statement").and_then(Value::as_array).map(|s| s.iter().any(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))))
        .unwrap_or(false)
}
/// How long a new role may take to become assumable by Lambda.
const ROLE_PROPAGATION_TIMEOUT: Duration = Duration::from_secs(90);

/// The source ARN of the schedule's statement in a resource policy.
fn invoked_by(policy: &str) -> Option<String> {
    let doc: Value = serde_json::from_str(policy).ok()?;
    let statement = doc.get("Statement")?.as_array()?.iter().find(|s| s.get("Sid").and_then(Value::as_str) == Some(PERMISSION_ID))?;
    statement.get("Condition")?.get("ArnLike")?.get("AWS:SourceArn")?.as_str().map(String::from)
}

/// The comparable function state (ListFunctions data + its invoke permission).
pub(super) async fn read(api: &dyn FunctionApi, region: &str, f: &FunctionInfo) -> Result<FunctionState, ProviderError> {
    let policy = api.get_policy(region, &f.name).await?;
    // The URL is looked up only when its permissions say there is one.
    let permitted = policy.as_deref().is_some_and(|p| has_statement(p, WEBHOOK_URL_SID) && has_statement(p, WEBHOOK_INVOKE_SID));
    let webhook = permitted && api.function_url(region, &f.name).await?.is_some();
    Ok(FunctionState {
        name: f.name.clone(),
        runtime: f.runtime.clone(),
        architecture: f.architecture.clone(),
        memory_mb: f.memory_mb,
        timeout_s: f.timeout_s,
        environment: f.environment.clone(),
        code_sha256: Some(f.code_sha256.clone()),
        role: f.role.clone(),
        invoked_by: policy.as_deref().and_then(invoked_by),
        webhook,
    })
}

/// The zip named in the plan, refused if it changed since the plan was made.
fn zip(desired: &Desired) -> Result<Vec<u8>, ProviderError> {
    use base64::Engine;
    use sha2::Digest;
    let path = desired.zip_path.as_deref().unwrap_or_default();
    let bytes = crate::core::bounded::read_limited(std::path::Path::new(path), crate::core::bounded::ARTIFACT_LIMIT)
        .map_err(|e| ProviderError::aws(ErrorClass::Other, "lambda", "ReadZip", format!("cannot read scaler zip {path}: {e}")))?;
    let got = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
    if Some(got) != desired.function.code_sha256 {
        return Err(ProviderError::aws(ErrorClass::Conflict, "lambda", "ReadZip", format!("scaler zip {path} changed since the plan was made; plan again")));
    }
    Ok(bytes)
}

/// Lambda's answer while IAM has not yet propagated a new role.
fn role_not_ready(e: &ProviderError) -> bool {
    e.message.contains("cannot be assumed")
}

/// CreateFunction, retried while IAM has not yet propagated the new role
/// to Lambda ("The role defined for the function cannot be assumed by
/// Lambda": eventual consistency of IAM, typically seconds).
async fn create(api: &dyn FunctionApi, region: &str, config: &FunctionConfig, zip: Vec<u8>, tags: BTreeMap<String, String>) -> Result<(), ProviderError> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        match api.create_function(region, config, zip.clone(), tags.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) if role_not_ready(&e) && start.elapsed() < ROLE_PROPAGATION_TIMEOUT => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            Err(mut e) => {
                if role_not_ready(&e) {
                    e.message = format!(
                        "{} (still refused after {}s in {region}: check the scaler role's trust policy)",
                        e.message,
                        ROLE_PROPAGATION_TIMEOUT.as_secs()
                    );
                }
                return Err(e);
            }
        }
    }
}

/// Creates or updates the scaler so it matches `desired`.
pub(super) async fn deploy(api: &dyn FunctionApi, desired: &Desired, live: Option<&FunctionState>, owner: &Owner) -> Result<(), ProviderError> {
    let region = desired.region.as_str();
    let want = &desired.function;
    let config = FunctionConfig {
        name: want.name.clone(),
        role: want.role.clone(),
        architecture: want.architecture.clone(),
        memory_mb: want.memory_mb,
        timeout_s: want.timeout_s,
        environment: want.environment.clone(),
    };
    match live {
        None => {
            // Ownership only (protection is the stack's, recorded on it).
            let tags = Owner { protect: false, ..owner.clone() }.with_ownership(BTreeMap::new());
            match create(api, region, &config, zip(desired)?, tags).await {
                Err(e) if lost_create::already_exists(&e) => {
                    let arn = api.list_functions(region).await?.into_iter().find(|f| f.name == want.name).map(|f| f.arn);
                    let found = match arn {
                        Some(arn) => Some(api.function_tags(region, &arn).await?),
                        None => None,
                    };
                    lost_create::carry_on_if_ours(e, found, &format!("function {}", want.name), owner)?;
                }
                other => other?,
            }
            api.wait_ready(region, &want.name, true).await?;
        }
        Some(have) => {
            // A function still settling from an earlier change refuses updates.
            api.wait_ready(region, &want.name, false).await?;
            if have.code_sha256 != want.code_sha256 || have.architecture != want.architecture {
                api.update_code(region, &want.name, &want.architecture, zip(desired)?).await?;
                api.wait_ready(region, &want.name, false).await?;
            }
            let configured = (&have.environment, have.memory_mb, have.timeout_s, &have.role, &have.runtime);
            if configured != (&want.environment, want.memory_mb, want.timeout_s, &want.role, &want.runtime) {
                api.update_configuration(region, &config).await?;
                api.wait_ready(region, &want.name, false).await?;
            }
        }
    }
    let have_perm = live.and_then(|l| l.invoked_by.as_deref());
    if have_perm != want.invoked_by.as_deref() {
        if have_perm.is_some() {
            api.remove_permission(region, &want.name, PERMISSION_ID).await?;
        }
        api.add_permission(region, &want.name, PERMISSION_ID, want.invoked_by.as_deref().unwrap_or_default()).await?;
    }
    if live.map_or(want.webhook, |l| l.webhook != want.webhook) {
        webhook(api, region, &want.name, want.webhook).await?;
    }
    Ok(())
}

/// Gives the function its public webhook URL, or takes it away. Each step
/// checks first, so an apply interrupted half-way is finished by the next.
async fn webhook(api: &dyn FunctionApi, region: &str, name: &str, want: bool) -> Result<(), ProviderError> {
    if want {
        let url = match api.function_url(region, name).await? {
            Some(u) => u,
            None => match api.create_function_url(region, name).await {
                // Created by a request whose answer was lost (the URL belongs to our function).
                Err(e) if lost_create::already_exists(&e) || e.message.contains("exists") => match api.function_url(region, name).await? {
                    Some(u) => u,
                    None => return Err(e),
                },
                other => other?,
            },
        };
        api.add_url_permissions(region, name, WEBHOOK_URL_SID, WEBHOOK_INVOKE_SID).await?;
        crate::errln!("gantry: {name} takes GitHub webhooks at {url} (the GitHub App's webhook URL; events: Workflow job)");
    } else {
        api.remove_permission(region, name, WEBHOOK_URL_SID).await?;
        api.remove_permission(region, name, WEBHOOK_INVOKE_SID).await?;
        api.delete_function_url(region, name).await?;
    }
    Ok(())
}
