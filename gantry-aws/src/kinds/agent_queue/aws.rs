//! The queue APIs over the AWS SDK: CloudFormation, Lambda, SSM and EC2
//! clients built once per region and shared by every call there.

use super::api::*;
use crate::cloud::aws::{classify, from_call, AwsContext};
use crate::cloud::ec2::Ec2;
use crate::core::error::{ErrorClass, ProviderError};
use async_trait::async_trait;
use aws_config::Region;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, StackStatus, Tag, TemplateStage};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, Runtime};
use aws_smithy_types::error::display::DisplayErrorContext;
use gantry_aws_wire::ssm::{ParameterFilter, Ssm};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a function may take to become Active or finish an update.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Clone)]
struct Clients {
    cfn: aws_sdk_cloudformation::Client,
    lambda: aws_sdk_lambda::Client,
    ssm: Arc<Ssm>,
    ec2: Arc<Ec2>,
}

/// The real clouds, for every region of a stack.
pub struct AwsQueueApi {
    ctx: AwsContext,
    clients: Mutex<HashMap<String, Clients>>,
}

macro_rules! client {
    ($sdk:ident, $ctx:expr, $region:expr) => {
        $sdk::Client::from_conf($sdk::config::Builder::from(&$ctx.config).region(Region::new($region.to_string())).interceptor($ctx.counter()).build())
    };
}

impl AwsQueueApi {
    /// The queue API over `ctx`'s clients (one set per region, built when first used).
    pub fn new(ctx: AwsContext) -> Self {
        AwsQueueApi { ctx, clients: Mutex::new(HashMap::new()) }
    }

    fn at(&self, region: &str) -> Clients {
        let mut all = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(region.to_string())
            .or_insert_with(|| Clients {
                cfn: client!(aws_sdk_cloudformation, self.ctx, region),
                lambda: client!(aws_sdk_lambda, self.ctx, region),
                ssm: Arc::new(self.ctx.ssm(region)),
                ec2: Arc::new(Ec2::new(&self.ctx, region)),
            })
            .clone()
    }
}

fn lambda_arch(a: &str) -> Architecture {
    if a == "x86_64" {
        Architecture::X8664
    } else {
        Architecture::Arm64
    }
}

fn lambda_env(env: &BTreeMap<String, String>) -> Environment {
    Environment::builder().set_variables(Some(env.iter().map(|(k, v)| (k.clone(), v.clone())).collect())).build()
}

#[async_trait]
impl StackApi for AwsQueueApi {
    async fn list_stacks(&self, region: &str) -> Result<Vec<StackSummary>, ProviderError> {
        let stacks: Vec<aws_sdk_cloudformation::types::Stack> = self
            .at(region)
            .cfn
            .describe_stacks()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("cloudformation", "DescribeStacks", e))?;
        Ok(stacks
            .into_iter()
            .filter(|s| s.stack_status() != Some(&StackStatus::DeleteComplete))
            .map(|s| StackSummary {
                name: s.stack_name().unwrap_or_default().to_string(),
                status: s.stack_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                tags: s.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect(),
            })
            .collect())
    }

    async fn stack_status(&self, region: &str, stack: &str) -> Result<Option<String>, ProviderError> {
        match self.at(region).cfn.describe_stacks().stack_name(stack).send().await {
            Ok(out) => Ok(out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_string())),
            // A deleted stack is no longer found by name.
            Err(e) if e.as_service_error().and_then(|s| s.message()).unwrap_or_default().contains("does not exist") => Ok(None),
            Err(e) => Err(classify("cloudformation", "DescribeStacks", e)),
        }
    }

    async fn get_template(&self, region: &str, stack: &str) -> Result<String, ProviderError> {
        let out = self
            .at(region)
            .cfn
            .get_template()
            .stack_name(stack)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| classify("cloudformation", "GetTemplate", e))?;
        Ok(out.template_body.unwrap_or_default())
    }

    async fn create_change_set(&self, region: &str, cs: NewChangeSet) -> Result<String, ProviderError> {
        let kind = match cs.kind {
            ChangeSetKind::Create => ChangeSetType::Create,
            ChangeSetKind::Update => ChangeSetType::Update,
        };
        let tags = cs.tags.map(|t| t.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect());
        let out = self
            .at(region)
            .cfn
            .create_change_set()
            .stack_name(&cs.stack)
            .change_set_name(&cs.name)
            // The same token on every retry: a retry of a request whose answer was lost gets
            // the first answer instead of AlreadyExistsException (CreateChangeSet ClientToken).
            .client_token(&cs.name)
            .change_set_type(kind)
            .template_body(cs.template)
            .capabilities(Capability::CapabilityNamedIam)
            .set_tags(tags)
            .send()
            .await
            .map_err(|e| classify("cloudformation", "CreateChangeSet", e))?;
        Ok(out.id().map(String::from).unwrap_or(cs.name))
    }

    async fn describe_change_set(&self, region: &str, stack: &str, id: &str) -> Result<ChangeSetState, ProviderError> {
        let cs = self
            .at(region)
            .cfn
            .describe_change_set()
            .change_set_name(id)
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| classify("cloudformation", "DescribeChangeSet", e))?;
        Ok(ChangeSetState {
            status: cs.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            reason: cs.status_reason().unwrap_or_default().to_string(),
            changes: cs
                .changes()
                .iter()
                .filter_map(|c| c.resource_change())
                .map(|rc| ResourceChange {
                    action: rc.action().map(|a| a.as_str().to_string()).unwrap_or_else(|| "?".into()),
                    logical_id: rc.logical_resource_id().unwrap_or("?").to_string(),
                    replacement: rc.replacement().map(|r| r.as_str().to_string()),
                })
                .collect(),
        })
    }

    async fn execute_change_set(&self, region: &str, stack: &str, id: &str) -> Result<(), ProviderError> {
        self.at(region)
            .cfn
            .execute_change_set()
            .change_set_name(id)
            .stack_name(stack)
            // One token per change set: a retried execute is recognised, not refused.
            .client_request_token(execute_token(id))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("cloudformation", "ExecuteChangeSet", e))
    }

    async fn delete_change_set(&self, region: &str, stack: &str, id: &str) -> Result<(), ProviderError> {
        self.at(region)
            .cfn
            .delete_change_set()
            .change_set_name(id)
            .stack_name(stack)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("cloudformation", "DeleteChangeSet", e))
    }

    async fn delete_stack(&self, region: &str, stack: &str) -> Result<(), ProviderError> {
        self.at(region).cfn.delete_stack().stack_name(stack).send().await.map(drop).map_err(|e| classify("cloudformation", "DeleteStack", e))
    }

    async fn stack_events(&self, region: &str, stack: &str) -> Result<Vec<StackEvent>, ProviderError> {
        let out =
            self.at(region).cfn.describe_stack_events().stack_name(stack).send().await.map_err(|e| classify("cloudformation", "DescribeStackEvents", e))?;
        Ok(out
            .stack_events()
            .iter()
            .map(|ev| StackEvent {
                id: ev.event_id().unwrap_or_default().to_string(),
                logical_id: ev.logical_resource_id().unwrap_or("?").to_string(),
                status: ev.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                reason: ev.resource_status_reason().map(String::from),
            })
            .collect())
    }
}

#[async_trait]
impl FunctionApi for AwsQueueApi {
    async fn list_functions(&self, region: &str) -> Result<Vec<FunctionInfo>, ProviderError> {
        let all: Vec<aws_sdk_lambda::types::FunctionConfiguration> =
            self.at(region).lambda.list_functions().into_paginator().items().send().try_collect().await.map_err(|e| classify("lambda", "ListFunctions", e))?;
        Ok(all
            .into_iter()
            .map(|f| FunctionInfo {
                name: f.function_name().unwrap_or_default().to_string(),
                arn: f.function_arn().unwrap_or_default().to_string(),
                runtime: f.runtime().map(|r| r.as_str().to_string()).unwrap_or_default(),
                architecture: match f.architectures().first() {
                    Some(Architecture::Arm64) => "arm64".into(),
                    _ => "x86_64".into(),
                },
                memory_mb: f.memory_size().unwrap_or(128).into(),
                timeout_s: f.timeout().unwrap_or(3).into(),
                environment: f.environment().and_then(|e| e.variables()).map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
                code_sha256: f.code_sha256().unwrap_or_default().to_string(),
                role: f.role().unwrap_or_default().to_string(),
            })
            .collect())
    }

    async fn function_tags(&self, region: &str, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        let out = self.at(region).lambda.list_tags().resource(arn).send().await.map_err(|e| classify("lambda", "ListTags", e))?;
        Ok(out.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())
    }

    async fn get_policy(&self, region: &str, name: &str) -> Result<Option<String>, ProviderError> {
        match self.at(region).lambda.get_policy().function_name(name).send().await {
            Ok(out) => Ok(out.policy().map(String::from)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(None),
            Err(e) => Err(classify("lambda", "GetPolicy", e)),
        }
    }

    async fn create_function(&self, region: &str, c: &FunctionConfig, zip: Vec<u8>, tags: BTreeMap<String, String>) -> Result<(), ProviderError> {
        self.at(region)
            .lambda
            .create_function()
            .function_name(&c.name)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(&c.role)
            .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
            .architectures(lambda_arch(&c.architecture))
            .memory_size(c.memory_mb as i32)
            .timeout(c.timeout_s as i32)
            .environment(lambda_env(&c.environment))
            .set_tags(Some(tags.into_iter().collect()))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("lambda", "CreateFunction", e))
    }

    async fn update_code(&self, region: &str, name: &str, architecture: &str, zip: Vec<u8>) -> Result<(), ProviderError> {
        self.at(region)
            .lambda
            .update_function_code()
            .function_name(name)
            .zip_file(Blob::new(zip))
            .architectures(lambda_arch(architecture))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("lambda", "UpdateFunctionCode", e))
    }

    async fn update_configuration(&self, region: &str, c: &FunctionConfig) -> Result<(), ProviderError> {
        self.at(region)
            .lambda
            .update_function_configuration()
            .function_name(&c.name)
            .role(&c.role)
            .memory_size(c.memory_mb as i32)
            .timeout(c.timeout_s as i32)
            .runtime(Runtime::Providedal2023)
            .environment(lambda_env(&c.environment))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("lambda", "UpdateFunctionConfiguration", e))
    }

    /// The SDK waiters for `State` (Pending → Active) and `LastUpdateStatus`
    /// (InProgress → Successful) ("Lambda function states").
    async fn wait_ready(&self, region: &str, name: &str, created: bool) -> Result<(), ProviderError> {
        use aws_sdk_lambda::client::Waiters;
        let lambda = self.at(region).lambda;
        let failed = |e: String| {
            ProviderError::aws(ErrorClass::Other, "lambda", "Wait", format!("function {name} did not become ready within {}s: {e}", FUNCTION_TIMEOUT.as_secs()))
        };
        if created {
            lambda.wait_until_function_active_v2().function_name(name).wait(FUNCTION_TIMEOUT).await.map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
        }
        lambda.wait_until_function_updated_v2().function_name(name).wait(FUNCTION_TIMEOUT).await.map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }

    async fn add_permission(&self, region: &str, name: &str, statement_id: &str, source_arn: &str) -> Result<(), ProviderError> {
        match self
            .at(region)
            .lambda
            .add_permission()
            .function_name(name)
            .statement_id(statement_id)
            .action("lambda:InvokeFunction")
            .principal("events.amazonaws.com")
            .source_arn(source_arn)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // The statement is there already: a retry whose first answer was lost, or an earlier apply.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_conflict_exception()) => Ok(()),
            Err(e) => Err(classify("lambda", "AddPermission", e)),
        }
    }

    async fn remove_permission(&self, region: &str, name: &str, statement_id: &str) -> Result<(), ProviderError> {
        match self.at(region).lambda.remove_permission().function_name(name).statement_id(statement_id).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(classify("lambda", "RemovePermission", e)),
        }
    }

    async fn delete_function(&self, region: &str, name: &str) -> Result<(), ProviderError> {
        match self.at(region).lambda.delete_function().function_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(classify("lambda", "DeleteFunction", e)),
        }
    }

    async fn function_url(&self, region: &str, name: &str) -> Result<Option<String>, ProviderError> {
        match self.at(region).lambda.get_function_url_config().function_name(name).send().await {
            Ok(out) => Ok(Some(out.function_url().to_string())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(None),
            Err(e) => Err(classify("lambda", "GetFunctionUrlConfig", e)),
        }
    }

    async fn create_function_url(&self, region: &str, name: &str) -> Result<String, ProviderError> {
        let out = self
            .at(region)
            .lambda
            .create_function_url_config()
            .function_name(name)
            .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
            .send()
            .await
            .map_err(|e| classify("lambda", "CreateFunctionUrlConfig", e))?;
        Ok(out.function_url().to_string())
    }

    async fn delete_function_url(&self, region: &str, name: &str) -> Result<(), ProviderError> {
        match self.at(region).lambda.delete_function_url_config().function_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(()),
            Err(e) => Err(classify("lambda", "DeleteFunctionUrlConfig", e)),
        }
    }

    async fn add_url_permissions(&self, region: &str, name: &str, url_sid: &str, invoke_sid: &str) -> Result<(), ProviderError> {
        let lambda = &self.at(region).lambda;
        let url = lambda
            .add_permission()
            .function_name(name)
            .statement_id(url_sid)
            .action("lambda:InvokeFunctionUrl")
            .principal("*")
            .function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
            .send()
            .await;
        let invoke = lambda
            .add_permission()
            .function_name(name)
            .statement_id(invoke_sid)
            .action("lambda:InvokeFunction")
            .principal("*")
            .invoked_via_function_url(true)
            .send()
            .await;
        for (op, r) in [("AddPermission", url.map(drop)), ("AddPermission", invoke.map(drop))] {
            match r {
                Ok(()) => {}
                // The statement is there already (a retried apply).
                Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_conflict_exception()) => {}
                Err(e) => return Err(classify("lambda", op, e)),
            }
        }
        Ok(())
    }
}

#[async_trait]
impl LookupApi for AwsQueueApi {
    async fn missing_parameters(&self, region: &str, names: &[String]) -> Result<Vec<String>, ProviderError> {
        self.at(region).ssm.missing(names).await.map_err(|e| from_call("ssm", "GetParameters", e))
    }

    async fn existing_parameters(&self, region: &str, names: &[String]) -> Result<BTreeSet<String>, ProviderError> {
        let filter = ParameterFilter { key: "Name".into(), option: "Equals".into(), values: names.to_vec() };
        let found = self.at(region).ssm.describe(&[filter]).await.map_err(|e| from_call("ssm", "DescribeParameters", e))?;
        Ok(found.into_iter().map(|p| p.name).collect())
    }

    async fn subnet_vpcs(&self, region: &str, subnets: &[String]) -> Result<BTreeMap<String, String>, ProviderError> {
        self.at(region).ec2.subnet_vpcs(subnets).await
    }

    async fn existing_roles(&self, names: &[String]) -> Result<Vec<String>, ProviderError> {
        let iam = self.ctx.iam();
        let mut out = Vec::new();
        for name in names {
            match iam.get_role().role_name(name).send().await {
                Ok(_) => out.push(name.clone()),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => {}
                Err(e) => return Err(classify("iam", "GetRole", e)),
            }
        }
        Ok(out)
    }

    async fn default_subnets(&self, region: &str) -> Result<Option<(String, Vec<String>)>, ProviderError> {
        self.at(region).ec2.default_subnets().await
    }
}

/// A ClientRequestToken for executing one change set: the same for every
/// retry, different per change set ([a-zA-Z0-9][-a-zA-Z0-9]*, at most 128).
fn execute_token(change_set_id: &str) -> String {
    let h = change_set_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    format!("gantry-execute-{h:016x}")
}
