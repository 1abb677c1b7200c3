//! Deploying queues: CloudFormation change sets (always with an explicit
//! ChangeSetType), waits with timeouts, the failing resource and reason on
//! failure; then the scaler through the Lambda API (code compared by
//! CodeSha256, so an unchanged build is never uploaded again).

use super::spec::names;
use super::REPLACE_STATES;
use crate::cloud::aws::{classify, AwsContext};
use crate::core::error::{ErrorClass, ProviderError};
use crate::core::{owned_tags, Driver, LiveResource, Owner, ReadScope, State, TAG_ADDRESS, TAG_STACK};
use async_trait::async_trait;
use aws_config::Region;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Stack, StackStatus, Tag, TemplateStage};
use aws_sdk_lambda::types::FunctionConfiguration;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Tag naming the queue on its CloudFormation stack.
pub const TAG_QUEUE: &str = "gantry:queue";
/// How long a stack operation may take before gantry stops waiting.
const STACK_TIMEOUT: Duration = Duration::from_secs(45 * 60);
/// Driver for agent queues in every region of the stack.
pub struct QueueDriver {
    ctx: AwsContext,
}

pub(super) fn s<'a>(st: &'a State, k: &str) -> &'a str {
    st.get(k).and_then(Value::as_str).unwrap_or_default()
}

fn other(op: &'static str, msg: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorClass::Other, "cloudformation", op, msg)
}

/// Polls with a growing interval until `done` says so or the timeout passes.
pub(super) async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut step: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, ProviderError>>,
{
    let start = Instant::now();
    let mut interval = Duration::from_millis(100);
    loop {
        if let Some(v) = step().await? {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            return Err(ProviderError::new(
                ErrorClass::Other,
                "cloudformation",
                "Wait",
                format!("gave up waiting for {what} after {}s; it may still finish: run gantry plan to see where it stands", timeout.as_secs()),
            ));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_secs(5));
    }
}

impl QueueDriver {
    pub fn new(ctx: AwsContext) -> Self {
        QueueDriver { ctx }
    }

    fn cfn(&self, region: &str) -> aws_sdk_cloudformation::Client {
        let conf =
            aws_sdk_cloudformation::config::Builder::from(&self.ctx.config).region(Region::new(region.to_string())).interceptor(self.ctx.counter()).build();
        aws_sdk_cloudformation::Client::from_conf(conf)
    }

    fn ssm(&self, region: &str) -> aws_sdk_ssm::Client {
        let conf = aws_sdk_ssm::config::Builder::from(&self.ctx.config).region(Region::new(region.to_string())).interceptor(self.ctx.counter()).build();
        aws_sdk_ssm::Client::from_conf(conf)
    }

    fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.ctx.config).region(Region::new(region.to_string())).interceptor(self.ctx.counter()).build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    pub(super) fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::config::Builder::from(&self.ctx.config).region(Region::new(region.to_string())).interceptor(self.ctx.counter()).build();
        aws_sdk_lambda::Client::from_conf(conf)
    }

    /// Reads one region: all stacks (paged), all functions (paged), then per
    /// candidate stack its template and its function's invoke permission.
    async fn read_region(&self, region: &str, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let cfn = self.cfn(region);
        let lambda = self.lambda(region);
        let stacks: Vec<Stack> =
            cfn.describe_stacks().into_paginator().items().send().try_collect().await.map_err(|e| classify("cloudformation", "DescribeStacks", e))?;
        let functions: Vec<FunctionConfiguration> =
            lambda.list_functions().into_paginator().items().send().try_collect().await.map_err(|e| classify("lambda", "ListFunctions", e))?;
        let functions: HashMap<String, FunctionConfiguration> = functions.into_iter().map(|f| (f.function_name().unwrap_or_default().to_string(), f)).collect();
        // Names the files want here, to catch clashes with stacks gantry does not own.
        let wanted: HashMap<String, String> = scope
            .identities
            .iter()
            .filter_map(|id| id.split_once('/'))
            .filter(|(r, _)| *r == region)
            .map(|(_, q)| (names(&scope.stack, q).cfn_stack, format!("{region}/{q}")))
            .collect();
        let candidates: Vec<(Stack, String)> = stacks
            .into_iter()
            .filter(|st| st.stack_status() != Some(&StackStatus::DeleteComplete))
            .filter_map(|st| {
                let tags: BTreeMap<&str, &str> = st.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())).collect();
                let name = st.stack_name().unwrap_or_default().to_string();
                if tags.get(TAG_STACK) == Some(&scope.stack.as_str()) {
                    let q = tags.get(TAG_QUEUE).map(|q| q.to_string()).unwrap_or_else(|| name.clone());
                    Some((st, format!("{region}/{q}")))
                } else {
                    wanted.get(&name).cloned().map(|id| (st, id))
                }
            })
            .collect();
        futures::stream::iter(candidates.into_iter().map(|(st, id)| self.read_stack(region, st, id, &functions))).buffer_unordered(8).try_collect().await
    }

    async fn read_stack(
        &self,
        region: &str,
        st: Stack,
        identity: String,
        functions: &HashMap<String, FunctionConfiguration>,
    ) -> Result<LiveResource, ProviderError> {
        let name = st.stack_name().unwrap_or_default().to_string();
        let tags: BTreeMap<String, String> =
            st.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect();
        let body = self
            .cfn(region)
            .get_template()
            .stack_name(&name)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| classify("cloudformation", "GetTemplate", e))?
            .template_body
            .unwrap_or_default();
        let template: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
        let status = st.stack_status().map(|s| s.as_str().to_string()).unwrap_or_default();
        let queue = identity.split_once('/').map(|(_, q)| q.to_string()).unwrap_or_default();
        let stack_owner = tags.get(TAG_STACK).cloned().unwrap_or_default();
        let fname = names(&stack_owner, &queue).function;
        let function = match functions.get(&fname) {
            Some(f) => self.function_state(region, f).await?,
            None => Value::Null,
        };
        let mut state = State::new();
        state.insert("region".into(), json!(region));
        state.insert("stack_name".into(), json!(name));
        state.insert("stack_status".into(), json!(if REPLACE_STATES.contains(&status.as_str()) { status.clone() } else { "usable".into() }));
        state.insert("raw_status".into(), json!(status));
        state.insert("template".into(), template);
        state.insert("tags".into(), json!(tags.iter().filter(|(k, _)| !k.starts_with("gantry:")).collect::<BTreeMap<_, _>>()));
        state.insert("function".into(), function);
        Ok(LiveResource { identity, owner_stack: tags.get(TAG_STACK).cloned(), owner_address: tags.get(TAG_ADDRESS).cloned(), state })
    }

    fn cfn_tags(desired: &State, owner: &Owner, queue: &str) -> Vec<Tag> {
        let mut tags = owned_tags(desired, owner);
        tags.insert(TAG_QUEUE.into(), queue.to_string());
        tags.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
    }

    /// Creates and executes a change set; returns false when there was nothing to change.
    async fn change_set(&self, desired: &State, owner: &Owner, queue: &str, kind: ChangeSetType) -> Result<bool, ProviderError> {
        let region = s(desired, "region");
        let stack = s(desired, "stack_name");
        let cfn = self.cfn(region);
        let name = format!("gantry-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0));
        let created = cfn
            .create_change_set()
            .stack_name(stack)
            .change_set_name(&name)
            .change_set_type(kind.clone())
            .template_body(desired.get("template").map(|t| t.to_string()).unwrap_or_default())
            .capabilities(Capability::CapabilityNamedIam)
            .set_tags(Some(Self::cfn_tags(desired, owner, queue)))
            .send()
            .await
            .map_err(|e| classify("cloudformation", "CreateChangeSet", e))?;
        let id = created.id().unwrap_or(&name).to_string();
        let (status, reason) = wait_for(&format!("change set of {stack}"), STACK_TIMEOUT, || async {
            let cs = cfn
                .describe_change_set()
                .change_set_name(&id)
                .stack_name(stack)
                .send()
                .await
                .map_err(|e| classify("cloudformation", "DescribeChangeSet", e))?;
            Ok(match cs.status() {
                Some(ChangeSetStatus::CreatePending) | Some(ChangeSetStatus::CreateInProgress) => None,
                other => Some((other.cloned(), cs.status_reason().unwrap_or_default().to_string())),
            })
        })
        .await?;
        if status == Some(ChangeSetStatus::Failed) {
            let _ = cfn.delete_change_set().change_set_name(&id).stack_name(stack).send().await;
            if reason.contains("didn't contain changes") || reason.contains("No updates") {
                return Ok(false);
            }
            if kind == ChangeSetType::Create {
                // A failed CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind.
                let _ = cfn.delete_stack().stack_name(stack).send().await;
            }
            return Err(other("CreateChangeSet", format!("change set for {stack} failed: {reason}; nothing was changed")));
        }
        cfn.execute_change_set().change_set_name(&id).stack_name(stack).send().await.map_err(|e| classify("cloudformation", "ExecuteChangeSet", e))?;
        let seen = std::sync::Mutex::new(std::collections::HashSet::new());
        let final_status = wait_for(&format!("stack {stack}"), STACK_TIMEOUT, || async {
            let out = cfn.describe_stacks().stack_name(stack).send().await.map_err(|e| classify("cloudformation", "DescribeStacks", e))?;
            let st = out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_string()).unwrap_or_default();
            if st.ends_with("_IN_PROGRESS") {
                // Still working: show what happened so far.
                self.report_events(&cfn, stack, &seen, owner).await;
                return Ok(None);
            }
            Ok(Some(st))
        })
        .await?;
        self.report_events(&cfn, stack, &seen, owner).await;
        if final_status == "CREATE_COMPLETE" || final_status == "UPDATE_COMPLETE" {
            return Ok(true);
        }
        Err(self.failure(region, stack, &final_status).await)
    }

    /// Reports stack events not seen before as progress lines (oldest first).
    /// Best effort: a failed read only means fewer progress lines.
    async fn report_events(
        &self,
        cfn: &aws_sdk_cloudformation::Client,
        stack: &str,
        seen: &std::sync::Mutex<std::collections::HashSet<String>>,
        owner: &Owner,
    ) {
        let Ok(out) = cfn.describe_stack_events().stack_name(stack).send().await else { return };
        let mut fresh = Vec::new();
        {
            let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
            for ev in out.stack_events() {
                if seen.insert(ev.event_id().unwrap_or_default().to_string()) {
                    fresh.push(format!(
                        "{} {}{}",
                        ev.logical_resource_id().unwrap_or("?"),
                        ev.resource_status().map(|s| s.as_str()).unwrap_or(""),
                        ev.resource_status_reason().map(|r| format!(" ({r})")).unwrap_or_default()
                    ));
                }
            }
        }
        for line in fresh.into_iter().rev() {
            owner.note(line);
        }
    }

    /// Explains a failed stack operation: the first failing resource and the way out.
    async fn failure(&self, region: &str, stack: &str, status: &str) -> ProviderError {
        let events = self.cfn(region).describe_stack_events().stack_name(stack).send().await;
        let first = events.ok().and_then(|e| {
            e.stack_events()
                .iter()
                .rev()
                .find(|ev| ev.resource_status().is_some_and(|s| s.as_str().ends_with("_FAILED")) && ev.logical_resource_id() != Some(stack))
                .map(|ev| {
                    format!(
                        "{} {}: {}",
                        ev.logical_resource_id().unwrap_or("?"),
                        ev.resource_status().map(|s| s.as_str()).unwrap_or(""),
                        ev.resource_status_reason().unwrap_or("")
                    )
                })
        });
        let way_out = match status {
            "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" => "the stack cannot be updated now; the next apply deletes and recreates it (or run gantry destroy)",
            "UPDATE_ROLLBACK_COMPLETE" => "the update was rolled back; the stack is as before: fix the cause and apply again",
            "UPDATE_ROLLBACK_FAILED" => "run `aws cloudformation continue-update-rollback` for this stack, then plan again",
            _ => "see the stack's events in the CloudFormation console",
        };
        other("ExecuteChangeSet", format!("stack {stack} ended {status}: {}; {way_out}", first.unwrap_or_else(|| "no failing resource reported".into())))
    }

    /// Subnets must exist in the queue's region and belong to its `vpc_id`
    /// (one filtered DescribeSubnets per region; filters do not fail on
    /// unknown ids, so every missing subnet is named).
    async fn check_subnets(&self, desired: &[(String, State)]) -> Result<Vec<(String, String)>, ProviderError> {
        let mut out = Vec::new();
        // Per region: (address, subnets, vpc_id) of each queue that names subnets.
        type Named<'a> = (&'a String, Vec<String>, String);
        let mut by_region: BTreeMap<String, Vec<Named>> = BTreeMap::new();
        for (address, d) in desired {
            let subnets: Vec<String> = d
                .get("template")
                .and_then(|t| t.pointer("/Resources/AutoScalingGroup/Properties/VPCZoneIdentifier"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            if subnets.is_empty() {
                continue;
            }
            let vpc =
                d.get("template").and_then(|t| t.pointer("/Resources/SecurityGroup/Properties/VpcId")).and_then(Value::as_str).unwrap_or_default().to_string();
            by_region.entry(s(d, "region").to_string()).or_default().push((address, subnets, vpc));
        }
        for (region, items) in by_region {
            let ec2 = self.ec2(&region);
            let ids: std::collections::BTreeSet<&String> = items.iter().flat_map(|(_, s, _)| s).collect();
            let filter = aws_sdk_ec2::types::Filter::builder().name("subnet-id").set_values(Some(ids.iter().map(|s| s.to_string()).collect())).build();
            let found = ec2.describe_subnets().filters(filter).send().await.map_err(|e| classify("ec2", "DescribeSubnets", e))?;
            let vpc_of: BTreeMap<String, String> =
                found.subnets().iter().filter_map(|s| Some((s.subnet_id()?.to_string(), s.vpc_id().unwrap_or_default().to_string()))).collect();
            for (address, subnets, vpc) in items {
                for sn in subnets {
                    match vpc_of.get(&sn) {
                        None => out.push((address.clone(), format!("subnet {sn} does not exist in {region} (a subnet of another region or account?)"))),
                        Some(v) if !vpc.is_empty() && v != &vpc => out.push((address.clone(), format!("subnet {sn} is in {v}, not in vpc_id {vpc}"))),
                        _ => {}
                    }
                }
            }
        }
        Ok(out)
    }

    async fn delete_stack(&self, region: &str, stack: &str) -> Result<(), ProviderError> {
        let cfn = self.cfn(region);
        cfn.delete_stack().stack_name(stack).send().await.map_err(|e| classify("cloudformation", "DeleteStack", e))?;
        let status = wait_for(&format!("deletion of {stack}"), STACK_TIMEOUT, || async {
            match cfn.describe_stacks().stack_name(stack).send().await {
                Ok(out) => {
                    let st = out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_string()).unwrap_or_else(|| "DELETE_COMPLETE".into());
                    Ok((!st.ends_with("_IN_PROGRESS")).then_some(st))
                }
                // A deleted stack is no longer found by name.
                Err(e) if e.as_service_error().and_then(|s| s.message()).unwrap_or_default().contains("does not exist") => Ok(Some("DELETE_COMPLETE".into())),
                Err(e) => Err(classify("cloudformation", "DescribeStacks", e)),
            }
        })
        .await?;
        if status == "DELETE_COMPLETE" {
            Ok(())
        } else {
            Err(self.failure(region, stack, &status).await)
        }
    }
}

fn queue_of(identity: &str) -> &str {
    identity.split_once('/').map(|(_, q)| q).unwrap_or(identity)
}

#[async_trait]
impl Driver for QueueDriver {
    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let per_region = futures::future::try_join_all(scope.regions.iter().map(|r| self.read_region(r, scope))).await?;
        let mut out: Vec<LiveResource> = per_region.into_iter().flatten().collect();
        out.sort_by(|a, b| a.identity.cmp(&b.identity));
        Ok(out)
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let queue = desired.get("function").and_then(|f| f.pointer("/environment/QUEUE")).and_then(Value::as_str).unwrap_or_default().to_string();
        self.change_set(desired, owner, &queue, ChangeSetType::Create).await?;
        self.deploy_function(desired, None, owner).await
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let queue = queue_of(&live.identity).to_string();
        if changed.iter().any(|c| c.starts_with("template") || c == "tags" || c == "owner") {
            self.change_set(desired, owner, &queue, ChangeSetType::Update).await?;
        }
        if changed.iter().any(|c| c.starts_with("function")) {
            self.deploy_function(desired, live.state.get("function"), owner).await?;
        }
        Ok(())
    }

    /// Queues given no subnets go into the default VPC's default-for-AZ
    /// subnets, looked up once per region and shown in the plan's template.
    async fn resolve(&self, desired: &mut [(String, State)]) -> Result<Vec<(String, String)>, ProviderError> {
        let mut problems = Vec::new();
        let mut by_region: BTreeMap<String, Option<(String, Vec<String>)>> = BTreeMap::new();
        for (address, d) in desired.iter_mut() {
            let region = s(d, "region").to_string();
            let Some(template) = d.get_mut("template").filter(|t| super::template::needs_subnets(t)) else { continue };
            let found = match by_region.get(&region) {
                Some(f) => f.clone(),
                None => {
                    let f = super::network::default_subnets(&self.ec2(&region)).await?;
                    by_region.insert(region.clone(), f.clone());
                    f
                }
            };
            match found {
                Some((vpc, subnets)) if !subnets.is_empty() => super::template::place_in_subnets(template, &vpc, &subnets),
                _ => problems.push((address.clone(), format!("{region} has no default VPC with default subnets; set subnets and vpc_id on the queue"))),
            }
        }
        Ok(problems)
    }

    /// The image parameter and the token parameter must exist in the queue's
    /// region (the token's value is never read: DescribeParameters only).
    /// Batched per region: one GetParameters and one DescribeParameters.
    async fn preflight(&self, desired: &[(String, State)]) -> Result<Vec<(String, String)>, ProviderError> {
        let mut by_region: BTreeMap<String, Vec<(&String, Option<String>, String)>> = BTreeMap::new();
        let mut out = self.check_subnets(desired).await?;
        for (address, d) in desired {
            let image = d.get("template").and_then(|t| t.pointer("/Parameters/ImageId/Default")).and_then(Value::as_str).map(String::from);
            let token = d.get("function").and_then(|f| f.pointer("/environment/AGENT_TOKEN_PARAMETER")).and_then(Value::as_str).unwrap_or_default().to_string();
            by_region.entry(s(d, "region").to_string()).or_default().push((address, image, token));
        }
        for (region, items) in by_region {
            let ssm = self.ssm(&region);
            let images: std::collections::BTreeSet<&String> = items.iter().filter_map(|(_, i, _)| i.as_ref()).collect();
            let mut missing_images = Vec::new();
            for chunk in images.into_iter().collect::<Vec<_>>().chunks(10) {
                let r = ssm
                    .get_parameters()
                    .set_names(Some(chunk.iter().map(|s| s.to_string()).collect()))
                    .send()
                    .await
                    .map_err(|e| classify("ssm", "GetParameters", e))?;
                missing_images.extend(r.invalid_parameters().iter().cloned());
            }
            let tokens: std::collections::BTreeSet<&String> = items.iter().map(|(_, _, t)| t).collect();
            let mut found_tokens = std::collections::BTreeSet::new();
            for chunk in tokens.into_iter().collect::<Vec<_>>().chunks(50) {
                let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
                    .key("Name")
                    .option("Equals")
                    .set_values(Some(chunk.iter().map(|s| s.to_string()).collect()))
                    .build()
                    .map_err(|e| ProviderError::new(ErrorClass::Other, "ssm", "DescribeParameters", e.to_string()))?;
                // Every page, even after an empty one that carries a NextToken.
                let pages: Vec<_> = ssm
                    .describe_parameters()
                    .parameter_filters(filter)
                    .max_results(50)
                    .into_paginator()
                    .send()
                    .try_collect()
                    .await
                    .map_err(|e| classify("ssm", "DescribeParameters", e))?;
                found_tokens.extend(pages.iter().flat_map(|p| p.parameters()).filter_map(|p| p.name().map(String::from)));
            }
            for (address, image, token) in items {
                if let Some(i) = image.filter(|i| missing_images.contains(i)) {
                    out.push((address.clone(), format!("image parameter {i} does not exist in {region}")));
                }
                if !found_tokens.contains(&token) {
                    out.push((
                        address.clone(),
                        format!(
                            "agent token parameter {token} does not exist in {region}; create it (aws ssm put-parameter --type SecureString) before the queue"
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Creates an UPDATE change set, lists what CloudFormation would do to
    /// each resource (and whether it replaces it), and deletes the change set.
    async fn preview(&self, desired: &State, _live: &LiveResource) -> Result<Vec<String>, ProviderError> {
        let region = s(desired, "region");
        let stack = s(desired, "stack_name");
        let cfn = self.cfn(region);
        let name = format!("gantry-preview-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0));
        let created = cfn
            .create_change_set()
            .stack_name(stack)
            .change_set_name(&name)
            .change_set_type(ChangeSetType::Update)
            .template_body(desired.get("template").map(|t| t.to_string()).unwrap_or_default())
            .capabilities(Capability::CapabilityNamedIam)
            .send()
            .await
            .map_err(|e| classify("cloudformation", "CreateChangeSet", e))?;
        let id = created.id().unwrap_or(&name).to_string();
        let described = wait_for(&format!("change set of {stack}"), STACK_TIMEOUT, || async {
            let cs = cfn
                .describe_change_set()
                .change_set_name(&id)
                .stack_name(stack)
                .send()
                .await
                .map_err(|e| classify("cloudformation", "DescribeChangeSet", e))?;
            Ok(match cs.status() {
                Some(ChangeSetStatus::CreatePending) | Some(ChangeSetStatus::CreateInProgress) => None,
                _ => Some(cs),
            })
        })
        .await;
        let _ = cfn.delete_change_set().change_set_name(&id).stack_name(stack).send().await;
        let cs = described?;
        if cs.status() == Some(&ChangeSetStatus::Failed) {
            return Ok(vec![format!("change set: {}", cs.status_reason().unwrap_or("failed"))]);
        }
        Ok(cs
            .changes()
            .iter()
            .filter_map(|c| c.resource_change())
            .map(|rc| {
                let replacement = match rc.replacement().map(|r| r.as_str()) {
                    Some("True") => "REPLACES it".to_string(),
                    Some("Conditional") => "may replace it".to_string(),
                    Some(_) => "in place".to_string(),
                    None => "replacement not reported".to_string(),
                };
                format!("CloudFormation: {} {} ({})", rc.action().map(|a| a.as_str()).unwrap_or("?"), rc.logical_resource_id().unwrap_or("?"), replacement)
            })
            .collect())
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let region = s(&live.state, "region").to_string();
        if let Some(name) = live.state.get("function").and_then(|f| f.get("name")).and_then(Value::as_str) {
            self.delete_function(&region, name).await?;
        }
        self.delete_stack(&region, s(&live.state, "stack_name")).await
    }
}
