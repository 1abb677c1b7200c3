//! An in-memory AWS for queue driver tests, answering as the services do:
//! change sets are `CREATE_PENDING` before they are ready, an empty one
//! FAILS with "didn't contain changes", a CREATE change set leaves a
//! `REVIEW_IN_PROGRESS` stack, stacks pass through `*_IN_PROGRESS`, a
//! template can be made to fail with a resource event; a new function is
//! refused while its role has not propagated and is `Pending` until Active
//! (updates in between are `ResourceConflictException`), `CodeSha256` is
//! computed from the zip, permissions form a resource policy.

use super::api::*;
use crate::cloud::aws::class_of_code;
use crate::core::error::ProviderError;
use async_trait::async_trait;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

struct FakeStack {
    status: String,
    template: String,
    tags: BTreeMap<String, String>,
    /// Polls left before an in-progress status settles.
    settling: u32,
    events: Vec<StackEvent>,
}

struct FakeChangeSet {
    stack: String,
    template: String,
    tags: Option<BTreeMap<String, String>>,
    kind: ChangeSetKind,
    polls: u32,
    state: ChangeSetState,
}

struct FakeFunction {
    info: FunctionInfo,
    tags: BTreeMap<String, String>,
    active: bool,
    statements: BTreeMap<String, String>,
    url: Option<String>,
}

#[derive(Default)]
struct Inner {
    stacks: BTreeMap<(String, String), FakeStack>,
    change_sets: BTreeMap<String, FakeChangeSet>,
    functions: BTreeMap<(String, String), FakeFunction>,
    parameters: BTreeSet<(String, String)>,
    subnets: BTreeMap<(String, String), String>,
    default_vpcs: BTreeMap<String, (String, Vec<String>)>,
    /// CreateFunction refusals left before the role is assumable.
    role_refusals: u32,
    /// A logical id whose creation fails, with the reason.
    failing_resource: Option<(String, String)>,
    calls: Vec<String>,
    next: u32,
    /// ExecuteChangeSet answers OK and does nothing (the execution never starts).
    executes_ignored: bool,
    /// IAM roles that exist outside any queue's stack.
    roles: BTreeSet<String>,
}

#[derive(Default)]
pub(super) struct FakeAws {
    inner: Mutex<Inner>,
}

fn err(service: &'static str, op: &'static str, code: &str, msg: impl Into<String>) -> ProviderError {
    ProviderError::aws(class_of_code(code), service, op, format!("{code}: {}", msg.into()))
}

fn key(region: &str, name: &str) -> (String, String) {
    (region.to_string(), name.to_string())
}

impl FakeAws {
    fn lock(&self, call: String) -> std::sync::MutexGuard<'_, Inner> {
        let mut i = self.inner.lock().unwrap();
        i.calls.push(call);
        i
    }

    pub(super) fn calls(&self) -> Vec<String> {
        self.inner.lock().unwrap().calls.clone()
    }

    pub(super) fn put_parameter(&self, region: &str, name: &str) {
        self.inner.lock().unwrap().parameters.insert(key(region, name));
    }

    pub(super) fn add_subnet(&self, region: &str, subnet: &str, vpc: &str) {
        self.inner.lock().unwrap().subnets.insert(key(region, subnet), vpc.to_string());
    }

    pub(super) fn set_default_vpc(&self, region: &str, vpc: &str, subnets: &[&str]) {
        self.inner.lock().unwrap().default_vpcs.insert(region.into(), (vpc.into(), subnets.iter().map(|s| s.to_string()).collect()));
    }

    /// IAM has not yet propagated a new role for `n` CreateFunction calls.
    pub(super) fn refuse_role(&self, n: u32) {
        self.inner.lock().unwrap().role_refusals = n;
    }

    /// Creating `logical_id` fails with `reason`.
    /// An IAM role made outside gantry.
    pub(super) fn add_role(&self, name: &str) {
        self.inner.lock().unwrap().roles.insert(name.to_string());
    }

    /// ExecuteChangeSet from now on answers OK but never starts: a new
    /// stack stays REVIEW_IN_PROGRESS.
    pub(super) fn ignore_executes(&self) {
        self.inner.lock().unwrap().executes_ignored = true;
    }

    pub(super) fn fail_resource(&self, logical_id: &str, reason: &str) {
        self.inner.lock().unwrap().failing_resource = Some((logical_id.into(), reason.into()));
    }

    pub(super) fn stack(&self, region: &str, name: &str) -> Option<(String, BTreeMap<String, String>)> {
        self.inner.lock().unwrap().stacks.get(&key(region, name)).map(|s| (s.status.clone(), s.tags.clone()))
    }

    pub(super) fn function(&self, region: &str, name: &str) -> Option<FunctionInfo> {
        self.inner.lock().unwrap().functions.get(&key(region, name)).map(|f| f.info.clone())
    }
}

#[async_trait]
impl StackApi for FakeAws {
    async fn list_stacks(&self, region: &str) -> Result<Vec<StackSummary>, ProviderError> {
        let i = self.lock(format!("DescribeStacks {region}"));
        Ok(i.stacks
            .iter()
            .filter(|((r, _), _)| r == region)
            .map(|((_, n), s)| StackSummary { name: n.clone(), status: s.status.clone(), tags: s.tags.clone() })
            .collect())
    }

    async fn stack_status(&self, region: &str, stack: &str) -> Result<Option<String>, ProviderError> {
        let mut i = self.lock(format!("DescribeStacks {stack}"));
        let k = key(region, stack);
        let Some(s) = i.stacks.get_mut(&k) else { return Ok(None) };
        if s.settling > 0 {
            s.settling -= 1;
            return Ok(Some(s.status.clone()));
        }
        let settled = match s.status.as_str() {
            "CREATE_IN_PROGRESS" | "UPDATE_IN_PROGRESS" => s.status.replace("IN_PROGRESS", "COMPLETE"),
            "ROLLBACK_IN_PROGRESS" => "ROLLBACK_COMPLETE".into(),
            "DELETE_IN_PROGRESS" => {
                i.stacks.remove(&k);
                return Ok(None);
            }
            other => other.to_string(),
        };
        s.status = settled;
        Ok(Some(s.status.clone()))
    }

    async fn get_template(&self, region: &str, stack: &str) -> Result<String, ProviderError> {
        let i = self.lock(format!("GetTemplate {stack}"));
        i.stacks
            .get(&key(region, stack))
            .map(|s| s.template.clone())
            .ok_or_else(|| err("cloudformation", "GetTemplate", "ValidationError", format!("Stack with id {stack} does not exist")))
    }

    async fn create_change_set(&self, region: &str, cs: NewChangeSet) -> Result<String, ProviderError> {
        let mut i = self.lock(format!("CreateChangeSet {} {:?}", cs.stack, cs.kind));
        let k = key(region, &cs.stack);
        let exists = i.stacks.get(&k).is_some_and(|s| s.status != "REVIEW_IN_PROGRESS");
        match cs.kind {
            ChangeSetKind::Create if exists => {
                return Err(err("cloudformation", "CreateChangeSet", "AlreadyExistsException", format!("Stack [{}] already exists", cs.stack)))
            }
            ChangeSetKind::Update if !exists => {
                return Err(err("cloudformation", "CreateChangeSet", "ValidationError", format!("Stack [{}] does not exist", cs.stack)))
            }
            _ => {}
        }
        let unchanged = i.stacks.get(&k).is_some_and(|s| s.template == cs.template && cs.tags.as_ref().is_none_or(|t| t == &s.tags));
        let state = if unchanged {
            let reason = "The submitted information didn't contain changes. Submit different information to create a change set.";
            ChangeSetState { status: "FAILED".into(), reason: reason.into(), changes: vec![] }
        } else {
            let action = if cs.kind == ChangeSetKind::Create { "Add" } else { "Modify" };
            let change =
                ResourceChange { action: action.into(), logical_id: "AutoScalingGroup".into(), replacement: (action == "Modify").then(|| "False".into()) };
            ChangeSetState { status: "CREATE_COMPLETE".into(), reason: String::new(), changes: vec![change] }
        };
        if cs.kind == ChangeSetKind::Create {
            i.stacks.entry(k).or_insert(FakeStack {
                status: "REVIEW_IN_PROGRESS".into(),
                template: String::new(),
                tags: BTreeMap::new(),
                settling: 0,
                events: vec![],
            });
        }
        i.next += 1;
        let id = format!("arn:aws:cloudformation:{region}:123456789012:changeSet/{}/{}", cs.name, i.next);
        i.change_sets.insert(id.clone(), FakeChangeSet { stack: cs.stack, template: cs.template, tags: cs.tags, kind: cs.kind, polls: 1, state });
        Ok(id)
    }

    async fn describe_change_set(&self, _region: &str, _stack: &str, id: &str) -> Result<ChangeSetState, ProviderError> {
        let mut i = self.lock("DescribeChangeSet".into());
        let cs = i.change_sets.get_mut(id).ok_or_else(|| err("cloudformation", "DescribeChangeSet", "ChangeSetNotFound", id.to_string()))?;
        if cs.polls > 0 {
            cs.polls -= 1;
            return Ok(ChangeSetState { status: "CREATE_PENDING".into(), reason: String::new(), changes: vec![] });
        }
        Ok(cs.state.clone())
    }

    async fn execute_change_set(&self, region: &str, _stack: &str, id: &str) -> Result<(), ProviderError> {
        let mut i = self.lock("ExecuteChangeSet".into());
        if i.executes_ignored {
            return Ok(());
        }
        let cs = i.change_sets.remove(id).ok_or_else(|| err("cloudformation", "ExecuteChangeSet", "ChangeSetNotFound", id.to_string()))?;
        let failing = i.failing_resource.clone();
        i.next += 1;
        let n = i.next;
        let s = i.stacks.get_mut(&key(region, &cs.stack)).expect("the change set's stack");
        let verb = if cs.kind == ChangeSetKind::Create { "CREATE" } else { "UPDATE" };
        let ev = |status: &str, logical: &str, reason: Option<&str>| StackEvent {
            id: format!("ev-{n}-{logical}-{status}"),
            logical_id: logical.into(),
            status: status.into(),
            reason: reason.map(String::from),
        };
        match failing.filter(|(id, _)| cs.template.contains(id.as_str())) {
            Some((logical, reason)) => {
                s.events.insert(0, ev(&format!("{verb}_FAILED"), &logical, Some(&reason)));
                s.status = if verb == "CREATE" { "ROLLBACK_IN_PROGRESS".into() } else { "UPDATE_ROLLBACK_COMPLETE".into() };
            }
            None => {
                s.events.insert(0, ev(&format!("{verb}_COMPLETE"), "AutoScalingGroup", None));
                s.template = cs.template;
                if let Some(t) = cs.tags {
                    s.tags = t;
                }
                s.status = format!("{verb}_IN_PROGRESS");
            }
        }
        s.settling = 1;
        Ok(())
    }

    async fn delete_change_set(&self, _region: &str, _stack: &str, id: &str) -> Result<(), ProviderError> {
        self.lock("DeleteChangeSet".into()).change_sets.remove(id);
        Ok(())
    }

    async fn delete_stack(&self, region: &str, stack: &str) -> Result<(), ProviderError> {
        let mut i = self.lock(format!("DeleteStack {stack}"));
        if let Some(s) = i.stacks.get_mut(&key(region, stack)) {
            s.status = "DELETE_IN_PROGRESS".into();
            s.settling = 1;
        }
        Ok(())
    }

    async fn stack_events(&self, region: &str, stack: &str) -> Result<Vec<StackEvent>, ProviderError> {
        let i = self.lock(format!("DescribeStackEvents {stack}"));
        Ok(i.stacks.get(&key(region, stack)).map(|s| s.events.clone()).unwrap_or_default())
    }
}

fn sha(zip: &[u8]) -> String {
    crate::core::sha256_base64(zip)
}

#[async_trait]
impl FunctionApi for FakeAws {
    async fn list_functions(&self, region: &str) -> Result<Vec<FunctionInfo>, ProviderError> {
        let i = self.lock(format!("ListFunctions {region}"));
        Ok(i.functions.iter().filter(|((r, _), _)| r == region).map(|(_, f)| f.info.clone()).collect())
    }

    async fn function_tags(&self, region: &str, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        let i = self.lock(format!("ListTags {arn}"));
        Ok(i.functions.iter().find(|((r, _), f)| r == region && f.info.arn == arn).map(|(_, f)| f.tags.clone()).unwrap_or_default())
    }

    async fn get_policy(&self, region: &str, name: &str) -> Result<Option<String>, ProviderError> {
        let i = self.lock(format!("GetPolicy {name}"));
        let f = i
            .functions
            .get(&key(region, name))
            .ok_or_else(|| err("lambda", "GetPolicy", "ResourceNotFoundException", format!("Function not found: {name}")))?;
        if f.statements.is_empty() {
            return Ok(None);
        }
        let statements: Vec<_> = f
            .statements
            .iter()
            .map(|(sid, arn)| {
                json!({"Sid": sid, "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "lambda:InvokeFunction",
                "Resource": format!("arn:aws:lambda:{region}:123456789012:function:{name}"), "Condition": {"ArnLike": {"AWS:SourceArn": arn}}})
            })
            .collect();
        Ok(Some(json!({"Version": "2012-10-17", "Id": "default", "Statement": statements}).to_string()))
    }

    async fn create_function(&self, region: &str, c: &FunctionConfig, zip: Vec<u8>, tags: BTreeMap<String, String>) -> Result<(), ProviderError> {
        let mut i = self.lock(format!("CreateFunction {}", c.name));
        if i.role_refusals > 0 {
            i.role_refusals -= 1;
            return Err(err("lambda", "CreateFunction", "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda."));
        }
        let info = FunctionInfo {
            name: c.name.clone(),
            arn: format!("arn:aws:lambda:{region}:123456789012:function:{}", c.name),
            runtime: "provided.al2023".into(),
            architecture: c.architecture.clone(),
            memory_mb: c.memory_mb,
            timeout_s: c.timeout_s,
            environment: c.environment.clone(),
            code_sha256: sha(&zip),
            role: c.role.clone(),
        };
        i.functions.insert(key(region, &c.name), FakeFunction { info, tags, active: false, statements: BTreeMap::new(), url: None });
        Ok(())
    }

    async fn update_code(&self, region: &str, name: &str, architecture: &str, zip: Vec<u8>) -> Result<(), ProviderError> {
        let mut i = self.lock(format!("UpdateFunctionCode {name}"));
        let f = i.functions.get_mut(&key(region, name)).ok_or_else(|| err("lambda", "UpdateFunctionCode", "ResourceNotFoundException", name.to_string()))?;
        if !f.active {
            return Err(err(
                "lambda",
                "UpdateFunctionCode",
                "ResourceConflictException",
                "The operation cannot be performed at this time. An update is in progress",
            ));
        }
        f.info.code_sha256 = sha(&zip);
        f.info.architecture = architecture.into();
        f.active = false;
        Ok(())
    }

    async fn update_configuration(&self, region: &str, c: &FunctionConfig) -> Result<(), ProviderError> {
        let mut i = self.lock(format!("UpdateFunctionConfiguration {}", c.name));
        let f = i
            .functions
            .get_mut(&key(region, &c.name))
            .ok_or_else(|| err("lambda", "UpdateFunctionConfiguration", "ResourceNotFoundException", c.name.clone()))?;
        if !f.active {
            return Err(err(
                "lambda",
                "UpdateFunctionConfiguration",
                "ResourceConflictException",
                "The operation cannot be performed at this time. An update is in progress",
            ));
        }
        (f.info.environment, f.info.memory_mb, f.info.timeout_s, f.info.role) = (c.environment.clone(), c.memory_mb, c.timeout_s, c.role.clone());
        f.active = false;
        Ok(())
    }

    async fn wait_ready(&self, region: &str, name: &str, _created: bool) -> Result<(), ProviderError> {
        let mut i = self.lock(format!("Wait {name}"));
        if let Some(f) = i.functions.get_mut(&key(region, name)) {
            f.active = true;
        }
        Ok(())
    }

    async fn add_permission(&self, region: &str, name: &str, statement_id: &str, source_arn: &str) -> Result<(), ProviderError> {
        let mut i = self.lock(format!("AddPermission {name}"));
        let f = i.functions.get_mut(&key(region, name)).ok_or_else(|| err("lambda", "AddPermission", "ResourceNotFoundException", name.to_string()))?;
        if f.statements.contains_key(statement_id) {
            return Err(err("lambda", "AddPermission", "ResourceConflictException", format!("The statement id ({statement_id}) provided already exists.")));
        }
        f.statements.insert(statement_id.into(), source_arn.into());
        Ok(())
    }

    async fn remove_permission(&self, region: &str, name: &str, statement_id: &str) -> Result<(), ProviderError> {
        let mut i = self.lock(format!("RemovePermission {name}"));
        if let Some(f) = i.functions.get_mut(&key(region, name)) {
            f.statements.remove(statement_id);
        }
        Ok(())
    }

    async fn delete_function(&self, region: &str, name: &str) -> Result<(), ProviderError> {
        self.lock(format!("DeleteFunction {name}")).functions.remove(&key(region, name));
        Ok(())
    }

    async fn function_url(&self, region: &str, name: &str) -> Result<Option<String>, ProviderError> {
        let i = self.lock(format!("GetFunctionUrlConfig {name}"));
        Ok(i.functions.get(&key(region, name)).and_then(|f| f.url.clone()))
    }

    async fn create_function_url(&self, region: &str, name: &str) -> Result<String, ProviderError> {
        let mut i = self.lock(format!("CreateFunctionUrlConfig {name}"));
        let f =
            i.functions.get_mut(&key(region, name)).ok_or_else(|| err("lambda", "CreateFunctionUrlConfig", "ResourceNotFoundException", name.to_string()))?;
        if f.url.is_some() {
            return Err(err(
                "lambda",
                "CreateFunctionUrlConfig",
                "ResourceConflictException",
                "Failed to create function url config: url config already exists",
            ));
        }
        // Lambda makes the URL up (an id, the region): never what we sent.
        let url = format!(
            "https://{}.lambda-url.{region}.on.aws/",
            sha(name.as_bytes()).to_lowercase().replace(['+', '/', '='], "").chars().take(32).collect::<String>()
        );
        f.url = Some(url.clone());
        Ok(url)
    }

    async fn delete_function_url(&self, region: &str, name: &str) -> Result<(), ProviderError> {
        if let Some(f) = self.lock(format!("DeleteFunctionUrlConfig {name}")).functions.get_mut(&key(region, name)) {
            f.url = None;
        }
        Ok(())
    }

    async fn add_url_permissions(&self, region: &str, name: &str, url_sid: &str, invoke_sid: &str) -> Result<(), ProviderError> {
        let mut i = self.lock(format!("AddPermission(url) {name}"));
        let f = i.functions.get_mut(&key(region, name)).ok_or_else(|| err("lambda", "AddPermission", "ResourceNotFoundException", name.to_string()))?;
        f.statements.entry(url_sid.into()).or_insert_with(|| "function-url".into());
        f.statements.entry(invoke_sid.into()).or_insert_with(|| "function-url".into());
        Ok(())
    }
}

#[async_trait]
impl LookupApi for FakeAws {
    async fn missing_parameters(&self, region: &str, names: &[String]) -> Result<Vec<String>, ProviderError> {
        assert!(names.len() <= 10, "GetParameters takes at most 10 names");
        let i = self.lock(format!("GetParameters {}", names.len()));
        Ok(names.iter().filter(|n| !i.parameters.contains(&key(region, n))).cloned().collect())
    }

    async fn existing_parameters(&self, region: &str, names: &[String]) -> Result<BTreeSet<String>, ProviderError> {
        assert!(names.len() <= 50, "a Name filter takes at most 50 values");
        let i = self.lock(format!("DescribeParameters {}", names.len()));
        Ok(names.iter().filter(|n| i.parameters.contains(&key(region, n))).cloned().collect())
    }

    async fn subnet_vpcs(&self, region: &str, subnets: &[String]) -> Result<BTreeMap<String, String>, ProviderError> {
        let i = self.lock(format!("DescribeSubnets {region}"));
        Ok(subnets.iter().filter_map(|s| i.subnets.get(&key(region, s)).map(|v| (s.clone(), v.clone()))).collect())
    }

    async fn default_subnets(&self, region: &str) -> Result<Option<(String, Vec<String>)>, ProviderError> {
        Ok(self.lock(format!("DescribeVpcs {region}")).default_vpcs.get(region).cloned())
    }

    async fn existing_roles(&self, names: &[String]) -> Result<Vec<String>, ProviderError> {
        let i = self.lock(format!("GetRole {}", names.join(",")));
        Ok(names.iter().filter(|n| i.roles.contains(*n)).cloned().collect())
    }
}
