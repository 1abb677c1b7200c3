//! The scaler function of a queue, through the Lambda API: read its
//! comparable state, deploy it (code compared by CodeSha256, so an
//! unchanged build is never uploaded again), wait out Lambda's states, and
//! delete it.

use super::deploy::{s, QueueDriver};
use crate::cloud::aws::classify;
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{Owner, State, TAG_ADDRESS, TAG_STACK};
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, FunctionConfiguration, Runtime};
use aws_smithy_types::error::display::DisplayErrorContext;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Statement id of the schedule's invoke permission.
const PERMISSION_ID: &str = "gantry-schedule";
/// How long a function update may take.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How long a new role may take to become assumable by Lambda.
const ROLE_PROPAGATION_TIMEOUT: Duration = Duration::from_secs(90);

/// Lambda's answer while IAM has not yet propagated a new role.
fn role_not_ready<R>(e: &aws_smithy_runtime_api::client::result::SdkError<aws_sdk_lambda::operation::create_function::CreateFunctionError, R>) -> bool {
    e.as_service_error().is_some_and(|s| s.is_invalid_parameter_value_exception() && s.message().unwrap_or_default().contains("cannot be assumed"))
}

impl QueueDriver {
    /// The comparable function state (ListFunctions data + its invoke permission).
    pub(super) async fn function_state(&self, region: &str, f: &FunctionConfiguration) -> Result<Value, ProviderError> {
        let name = f.function_name().unwrap_or_default();
        let invoked_by = match self.lambda(region).get_policy().function_name(name).send().await {
            Ok(out) => out
                .policy()
                .and_then(|p| serde_json::from_str::<Value>(p).ok())
                .and_then(|p| {
                    p["Statement"].as_array().and_then(|st| {
                        st.iter()
                            .find(|s| s["Sid"] == PERMISSION_ID)
                            .and_then(|s| s.pointer("/Condition/ArnLike/AWS:SourceArn").and_then(Value::as_str).map(String::from))
                    })
                })
                .map(Value::String)
                .unwrap_or(Value::Null),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Value::Null,
            Err(e) => return Err(classify("lambda", "GetPolicy", e)),
        };
        let env: BTreeMap<String, String> =
            f.environment().and_then(|e| e.variables()).map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
        let arch = match f.architectures().first() {
            Some(Architecture::Arm64) => "arm64",
            _ => "x86_64",
        };
        Ok(json!({
            "name": name,
            "runtime": f.runtime().map(|r| r.as_str().to_string()).unwrap_or_default(),
            "architecture": arch,
            "memory_mb": f.memory_size().unwrap_or(128),
            "timeout_s": f.timeout().unwrap_or(3),
            "environment": env,
            "code_sha256": f.code_sha256(),
            "role": f.role(),
            "invoked_by": invoked_by,
        }))
    }

    fn zip(desired: &State) -> Result<Vec<u8>, ProviderError> {
        use base64::Engine;
        use sha2::Digest;
        let path = s(desired, "zip_path");
        let bytes =
            std::fs::read(path).map_err(|e| ProviderError::new(ErrorClass::Other, "lambda", "ReadZip", format!("cannot read scaler zip {path}: {e}")))?;
        let want = desired.get("function").and_then(|f| f.get("code_sha256")).and_then(Value::as_str).unwrap_or_default();
        let got = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
        if got != want {
            return Err(ProviderError::new(
                ErrorClass::Conflict,
                "lambda",
                "ReadZip",
                format!("scaler zip {path} changed since the plan was made; plan again"),
            ));
        }
        Ok(bytes)
    }

    /// Waits until the function can be changed or invoked: the SDK waiters
    /// for `State` (Pending → Active after create) and `LastUpdateStatus`
    /// (InProgress → Successful after an update). Lambda refuses updates
    /// in between with ResourceConflictException ("Lambda function states").
    async fn wait_function(&self, region: &str, name: &str, created: bool) -> Result<(), ProviderError> {
        use aws_sdk_lambda::client::Waiters;
        let lambda = self.lambda(region);
        let failed = |e: String| {
            ProviderError::new(ErrorClass::Other, "lambda", "Wait", format!("function {name} did not become ready within {}s: {e}", FUNCTION_TIMEOUT.as_secs()))
        };
        if created {
            lambda.wait_until_function_active_v2().function_name(name).wait(FUNCTION_TIMEOUT).await.map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
        }
        lambda.wait_until_function_updated_v2().function_name(name).wait(FUNCTION_TIMEOUT).await.map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }

    /// CreateFunction, retried while IAM has not yet propagated the new
    /// role to Lambda ("The role defined for the function cannot be assumed
    /// by Lambda": eventual consistency of IAM, typically seconds).
    async fn create_function(
        &self,
        region: &str,
        request: aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder,
    ) -> Result<(), ProviderError> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(500);
        loop {
            match request.clone().send().await {
                Ok(_) => return Ok(()),
                Err(e) if role_not_ready(&e) && start.elapsed() < ROLE_PROPAGATION_TIMEOUT => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(8));
                }
                Err(e) => {
                    let mut err = classify("lambda", "CreateFunction", e);
                    if start.elapsed() >= ROLE_PROPAGATION_TIMEOUT {
                        err.message = format!(
                            "{} (still refused after {}s in {region}: check the scaler role's trust policy)",
                            err.message,
                            ROLE_PROPAGATION_TIMEOUT.as_secs()
                        );
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Creates or updates the scaler so it matches `desired`.
    pub(super) async fn deploy_function(&self, desired: &State, live: Option<&Value>, owner: &Owner) -> Result<(), ProviderError> {
        let region = s(desired, "region");
        let want = desired.get("function").cloned().unwrap_or(Value::Null);
        let name = want["name"].as_str().unwrap_or_default().to_string();
        let lambda = self.lambda(region);
        let arch = if want["architecture"] == "x86_64" { Architecture::X8664 } else { Architecture::Arm64 };
        let env: HashMap<String, String> = want["environment"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        let environment = Environment::builder().set_variables(Some(env)).build();
        let role = want["role"].as_str().unwrap_or_default();
        let memory = want["memory_mb"].as_i64().unwrap_or(128) as i32;
        let timeout = want["timeout_s"].as_i64().unwrap_or(60) as i32;
        match live.filter(|l| !l.is_null()) {
            None => {
                let mut tags = HashMap::new();
                tags.insert(TAG_STACK.to_string(), owner.stack.clone());
                tags.insert(TAG_ADDRESS.to_string(), owner.address.clone());
                let request = lambda
                    .create_function()
                    .function_name(&name)
                    .runtime(Runtime::Providedal2023)
                    .handler("bootstrap")
                    .role(role)
                    .code(FunctionCode::builder().zip_file(Blob::new(Self::zip(desired)?)).build())
                    .architectures(arch)
                    .memory_size(memory)
                    .timeout(timeout)
                    .environment(environment)
                    .set_tags(Some(tags));
                self.create_function(region, request).await?;
                self.wait_function(region, &name, true).await?;
            }
            Some(have) => {
                // A function still settling from an earlier change refuses updates.
                self.wait_function(region, &name, false).await?;
                if have["code_sha256"] != want["code_sha256"] || have["architecture"] != want["architecture"] {
                    lambda
                        .update_function_code()
                        .function_name(&name)
                        .zip_file(Blob::new(Self::zip(desired)?))
                        .architectures(arch)
                        .send()
                        .await
                        .map_err(|e| classify("lambda", "UpdateFunctionCode", e))?;
                    self.wait_function(region, &name, false).await?;
                }
                let config_keys = ["environment", "memory_mb", "timeout_s", "role", "runtime"];
                if config_keys.iter().any(|k| have[*k] != want[*k]) {
                    lambda
                        .update_function_configuration()
                        .function_name(&name)
                        .role(role)
                        .memory_size(memory)
                        .timeout(timeout)
                        .runtime(Runtime::Providedal2023)
                        .environment(environment)
                        .send()
                        .await
                        .map_err(|e| classify("lambda", "UpdateFunctionConfiguration", e))?;
                    self.wait_function(region, &name, false).await?;
                }
            }
        }
        let have_perm = live.map(|l| &l["invoked_by"]).unwrap_or(&Value::Null);
        if have_perm != &want["invoked_by"] {
            if !have_perm.is_null() {
                let _ = lambda.remove_permission().function_name(&name).statement_id(PERMISSION_ID).send().await;
            }
            lambda
                .add_permission()
                .function_name(&name)
                .statement_id(PERMISSION_ID)
                .action("lambda:InvokeFunction")
                .principal("events.amazonaws.com")
                .source_arn(want["invoked_by"].as_str().unwrap_or_default())
                .send()
                .await
                .map_err(|e| classify("lambda", "AddPermission", e))?;
        }
        Ok(())
    }

    pub(super) async fn delete_function(&self, region: &str, name: &str) -> Result<(), ProviderError> {
        match self.lambda(region).delete_function().function_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(classify("lambda", "DeleteFunction", e)),
        }
    }
}
