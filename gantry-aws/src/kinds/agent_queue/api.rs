//! The calls an `agent_queue` driver makes, in three narrow traits: the
//! CloudFormation stack ([`StackApi`]), the scaler function ([`FunctionApi`])
//! and the plan-time lookups ([`LookupApi`]). Every call names its region;
//! results are gantry's own types, errors arrive classified.

use crate::core::error::ProviderError;
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};

/// A stack as `DescribeStacks` lists it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackSummary {
    pub name: String,
    pub status: String,
    pub tags: BTreeMap<String, String>,
}

/// Whether a change set creates the stack or updates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSetKind {
    Create,
    Update,
}

/// A change set to create.
#[derive(Debug, Clone)]
pub struct NewChangeSet {
    pub stack: String,
    pub name: String,
    pub kind: ChangeSetKind,
    pub template: String,
    /// Stack tags; `None` keeps the stack's (a preview).
    pub tags: Option<BTreeMap<String, String>>,
}

/// One resource change a change set would make.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    pub action: String,
    pub logical_id: String,
    /// `True`, `False` or `Conditional`, when reported.
    pub replacement: Option<String>,
}

/// A change set as `DescribeChangeSet` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSetState {
    /// `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `FAILED`, ...
    pub status: String,
    pub reason: String,
    pub changes: Vec<ResourceChange>,
}

/// One stack event.
#[derive(Debug, Clone, PartialEq)]
pub struct StackEvent {
    pub id: String,
    pub logical_id: String,
    pub status: String,
    pub reason: Option<String>,
}

/// CloudFormation stacks.
#[async_trait]
pub trait StackApi: Send + Sync {
    /// Every stack of the region (all pages; deleted ones excluded).
    async fn list_stacks(&self, region: &str) -> Result<Vec<StackSummary>, ProviderError>;
    /// One stack's status; `None` once it no longer exists.
    async fn stack_status(&self, region: &str, stack: &str) -> Result<Option<String>, ProviderError>;
    /// The template as gantry sent it (the Original stage).
    async fn get_template(&self, region: &str, stack: &str) -> Result<String, ProviderError>;
    /// Creates a change set; returns its id.
    async fn create_change_set(&self, region: &str, cs: NewChangeSet) -> Result<String, ProviderError>;
    /// A change set's status and the changes it would make.
    async fn describe_change_set(&self, region: &str, stack: &str, id: &str) -> Result<ChangeSetState, ProviderError>;
    /// Executes a change set (with a request token, so a retry is not a second run).
    async fn execute_change_set(&self, region: &str, stack: &str, id: &str) -> Result<(), ProviderError>;
    /// Deletes a change set (after a preview).
    async fn delete_change_set(&self, region: &str, stack: &str, id: &str) -> Result<(), ProviderError>;
    /// Deletes the stack.
    async fn delete_stack(&self, region: &str, stack: &str) -> Result<(), ProviderError>;
    /// The stack's events, newest first (as the API orders them).
    async fn stack_events(&self, region: &str, stack: &str) -> Result<Vec<StackEvent>, ProviderError>;
}

/// The scaler function as `ListFunctions` reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunctionInfo {
    pub name: String,
    pub arn: String,
    pub runtime: String,
    pub architecture: String,
    pub memory_mb: i64,
    pub timeout_s: i64,
    pub environment: BTreeMap<String, String>,
    pub code_sha256: String,
    pub role: String,
}

/// What a function is created or configured with.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    pub name: String,
    pub role: String,
    pub architecture: String,
    pub memory_mb: i64,
    pub timeout_s: i64,
    pub environment: BTreeMap<String, String>,
}

/// Lambda functions.
#[async_trait]
pub trait FunctionApi: Send + Sync {
    /// Every function of the region (all pages).
    async fn list_functions(&self, region: &str) -> Result<Vec<FunctionInfo>, ProviderError>;
    /// The function's tags (`ListTags`: ListFunctions does not return them).
    async fn function_tags(&self, region: &str, arn: &str) -> Result<BTreeMap<String, String>, ProviderError>;
    /// The function's resource policy; `None` when it has none.
    async fn get_policy(&self, region: &str, name: &str) -> Result<Option<String>, ProviderError>;
    /// Creates the scaler function from its zip.
    async fn create_function(&self, region: &str, config: &FunctionConfig, zip: Vec<u8>, tags: BTreeMap<String, String>) -> Result<(), ProviderError>;
    /// Uploads new code.
    async fn update_code(&self, region: &str, name: &str, architecture: &str, zip: Vec<u8>) -> Result<(), ProviderError>;
    /// Changes its settings (memory, timeout, environment, role).
    async fn update_configuration(&self, region: &str, config: &FunctionConfig) -> Result<(), ProviderError>;
    /// Waits until the function is Active (after a create) and its last
    /// update Successful; Lambda refuses changes in between.
    async fn wait_ready(&self, region: &str, name: &str, created: bool) -> Result<(), ProviderError>;
    /// Lets the schedule rule `source_arn` invoke the function.
    async fn add_permission(&self, region: &str, name: &str, statement_id: &str, source_arn: &str) -> Result<(), ProviderError>;
    /// Succeeds when there is no such statement.
    async fn remove_permission(&self, region: &str, name: &str, statement_id: &str) -> Result<(), ProviderError>;
    /// Succeeds when the function is already gone.
    async fn delete_function(&self, region: &str, name: &str) -> Result<(), ProviderError>;
    /// The function URL, when it has one (`GetFunctionUrlConfig`).
    async fn function_url(&self, region: &str, name: &str) -> Result<Option<String>, ProviderError>;
    /// Creates a public function URL (`AuthType NONE`); returns it.
    async fn create_function_url(&self, region: &str, name: &str) -> Result<String, ProviderError>;
    /// Succeeds when there is none.
    async fn delete_function_url(&self, region: &str, name: &str) -> Result<(), ProviderError>;
    /// The two statements a public URL needs since October 2025: anyone may
    /// call the URL (`lambda:InvokeFunctionUrl`, auth type NONE) and, through
    /// it only, invoke the function (`lambda:InvokeFunction`,
    /// `InvokedViaFunctionUrl`). Statements already there are kept.
    async fn add_url_permissions(&self, region: &str, name: &str, url_sid: &str, invoke_sid: &str) -> Result<(), ProviderError>;
}

/// Plan-time lookups: parameters and the network.
#[async_trait]
pub trait LookupApi: Send + Sync {
    /// Which of up to 10 parameter names do not exist (`GetParameters`;
    /// SecureString values are never asked for).
    async fn missing_parameters(&self, region: &str, names: &[String]) -> Result<Vec<String>, ProviderError>;
    /// Which of up to 50 parameter names exist (`DescribeParameters`, every
    /// page: the metadata only, never a value).
    async fn existing_parameters(&self, region: &str, names: &[String]) -> Result<BTreeSet<String>, ProviderError>;
    /// The VPC of each subnet that exists (unknown ids are left out).
    async fn subnet_vpcs(&self, region: &str, subnets: &[String]) -> Result<BTreeMap<String, String>, ProviderError>;
    /// The default VPC and its default-for-AZ subnets (sorted); `None`
    /// when the region has no default VPC.
    async fn default_subnets(&self, region: &str) -> Result<Option<(String, Vec<String>)>, ProviderError>;
    /// Which of these IAM role names exist (GetRole each; IAM is global).
    async fn existing_roles(&self, names: &[String]) -> Result<Vec<String>, ProviderError>;
}

/// Everything a queue driver calls.
pub trait QueueApi: StackApi + FunctionApi + LookupApi {}
impl<T: StackApi + FunctionApi + LookupApi> QueueApi for T {}
