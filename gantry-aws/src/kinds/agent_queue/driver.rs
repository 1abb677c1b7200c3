//! The I/O half of `agent_queue`: each queue is a CloudFormation stack
//! ([`change_set`]) plus its scaler function ([`function`]), in any region
//! of the stack; plan-time lookups are in [`preflight`].

use super::api::{ChangeSetKind, QueueApi, StackSummary};
use super::change_set::{self, ChangeSet};
use super::function;
use super::preflight;
use super::spec::names;
use super::state::{live_function, Desired, Marks};
use super::REPLACE_STATES;
use crate::cloud::tagging::{owned_in, TaggedApi};
use crate::core::error::ProviderError;
use crate::core::{owner_of, Discovery, Driver, LiveResource, Owner, ReadScope, State, TAG_ADDRESS, TAG_PROTECT};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Tag naming the queue on its CloudFormation stack.
pub(super) const TAG_QUEUE: &str = "gantry:queue";

/// Driver for agent queues in every region of the stack.
pub struct QueueDriver {
    api: Arc<dyn QueueApi>,
    /// Finds the stack's queue stacks by tag.
    tagged: Option<Arc<dyn TaggedApi>>,
}

/// `region/queue` → `queue`.
fn queue_of(identity: &str) -> &str {
    identity.split_once('/').map(|(_, q)| q).unwrap_or(identity)
}

impl QueueDriver {
    /// A driver over `api`.
    pub fn new(api: Arc<dyn QueueApi>) -> Self {
        QueueDriver { api, tagged: None }
    }

    /// Discovery through the tagging API (one call per region) instead of
    /// a read (every stack and function of every region).
    pub fn with_discovery(mut self, tagged: Arc<dyn TaggedApi>) -> Self {
        self.tagged = Some(tagged);
        self
    }

    /// Reads one region: all stacks (paged), all functions (paged), then per
    /// candidate stack its template and its function's invoke permission.
    async fn read_region(&self, region: &str, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let (stacks, functions) = futures::try_join!(self.api.list_stacks(region), self.api.list_functions(region))?;
        let functions: HashMap<String, _> = functions.into_iter().map(|f| (f.name.clone(), f)).collect();
        // Names the files want here, to catch clashes with stacks gantry does not own.
        let wanted: HashMap<String, String> = scope
            .identities
            .iter()
            .filter_map(|id| id.split_once('/'))
            .filter(|(r, _)| *r == region)
            .map(|(_, q)| (names(&scope.stack, q).cfn_stack, format!("{region}/{q}")))
            .collect();
        let candidates: Vec<(StackSummary, String)> = stacks
            .into_iter()
            .filter_map(|st| {
                if owner_of(&st.tags).as_ref() == Some(&scope.owner) {
                    let q = st.tags.get(TAG_QUEUE).cloned().unwrap_or_else(|| st.name.clone());
                    Some((st, format!("{region}/{q}")))
                } else {
                    wanted.get(&st.name).cloned().map(|id| (st, id))
                }
            })
            .collect();
        // A queue not created yet whose scaler's name is already taken by a
        // function that is not gantry's: found now, not by a failed create.
        let have: BTreeSet<&String> = candidates.iter().map(|(_, id)| id).collect();
        // Likewise its roles: the stack creates them by name, so one that
        // exists already would fail the create half-way.
        let mut taken = Vec::new();
        for (cfn, id) in wanted.iter().filter(|(_, id)| !have.contains(id)) {
            let n = names(&scope.stack, queue_of(id));
            let mut marks = Marks::default();
            if let Some(f) = functions.get(&n.function) {
                let tags = self.api.function_tags(region, &f.arn).await?;
                if owner_of(&tags).as_ref() != Some(&scope.owner) {
                    let whose = owner_of(&tags).map(|s| format!("stack {s}'s")).unwrap_or_else(|| "not gantry's".into());
                    marks.foreign_function = Some(format!("{} ({whose})", n.function));
                }
            }
            marks.foreign_roles = self.api.existing_roles(&[n.instance_role.clone(), n.scaler_role.clone()]).await?;
            if marks != Marks::default() {
                let mut state = State::new();
                marks.write(&mut state);
                state.insert("region".into(), json!(region));
                state.insert("stack_name".into(), json!(cfn));
                taken.push(LiveResource { identity: id.clone(), owner_stack: None, owner_address: None, protected: false, state });
            }
        }
        let mut out: Vec<LiveResource> =
            futures::stream::iter(candidates.into_iter().map(|(st, id)| self.read_stack(region, st, id, &scope.stack, &functions)))
                .buffer_unordered(8)
                .try_collect()
                .await?;
        out.extend(taken);
        Ok(out)
    }

    async fn read_stack(
        &self,
        region: &str,
        st: StackSummary,
        identity: String,
        stack_name: &str,
        functions: &HashMap<String, super::api::FunctionInfo>,
    ) -> Result<LiveResource, ProviderError> {
        let body = self.api.get_template(region, &st.name).await?;
        let template: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
        let stack_owner = owner_of(&st.tags);
        // The name this stack gives the queue's scaler (a clash candidate is
        // checked against the name this stack would create).
        let fname = names(stack_name, queue_of(&identity)).function;
        // The function goes with the stack only when its own tags say so: a
        // function of that name that is not this queue's is never updated
        // or deleted (the plan is refused, see `live_problem`).
        let mut foreign = None;
        let function = match functions.get(&fname) {
            Some(f) => {
                let tags = self.api.function_tags(region, &f.arn).await?;
                // The stack decides (a moved block retags the stack first).
                if stack_owner.is_some() && owner_of(&tags) == stack_owner {
                    json!(function::read(self.api.as_ref(), region, f).await?)
                } else {
                    let whose = owner_of(&tags).map(|s| format!("stack {s}'s")).unwrap_or_else(|| "not gantry's".into());
                    foreign = Some(format!("{fname} ({whose})"));
                    Value::Null
                }
            }
            None => Value::Null,
        };
        let usable = if REPLACE_STATES.contains(&st.status.as_str()) { st.status.clone() } else { "usable".into() };
        let user_tags: BTreeMap<&String, &String> = st.tags.iter().filter(|(k, _)| !k.starts_with("gantry:")).collect();
        let mut state = State::new();
        state.insert("region".into(), json!(region));
        state.insert("stack_name".into(), json!(st.name));
        state.insert("stack_status".into(), json!(usable));
        state.insert("template".into(), template);
        state.insert("tags".into(), json!(user_tags));
        state.insert("function".into(), function);
        Marks { raw_status: Some(st.status.clone()), foreign_function: foreign, ..Marks::default() }.write(&mut state);
        Ok(LiveResource {
            identity,
            owner_stack: stack_owner,
            owner_address: st.tags.get(TAG_ADDRESS).cloned(),
            protected: st.tags.contains_key(TAG_PROTECT),
            state,
        })
    }

    fn change_set<'a>(&'a self, d: &'a Desired) -> ChangeSet<'a> {
        ChangeSet { api: self.api.as_ref(), region: &d.region, stack: &d.stack_name, template: d.template.to_string() }
    }

    fn stack_tags(d: &Desired, owner: &Owner, queue: &str) -> BTreeMap<String, String> {
        // The stack's tags from the typed state (no round trip through JSON).
        let mut tags = owner.with_ownership(d.tags.clone());
        tags.insert(TAG_QUEUE.into(), queue.to_string());
        tags
    }

    fn parse_all(items: &[(String, State)]) -> Result<Vec<(String, Desired)>, ProviderError> {
        items.iter().map(|(a, s)| Ok((a.clone(), Desired::parse(s)?))).collect()
    }
}

#[async_trait]
impl Driver for QueueDriver {
    async fn discover(&self, scope: &ReadScope) -> Result<Discovery, ProviderError> {
        match &self.tagged {
            Some(api) => Ok(Discovery { owned: owned_in(api.as_ref(), &scope.regions, "cloudformation:stack", &scope.owner).await?, zones: vec![] }),
            None => Ok(Discovery::of(&self.read(scope).await?, scope)),
        }
    }

    async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let per_region = futures::future::try_join_all(scope.regions.iter().map(|r| self.read_region(r, scope))).await?;
        let mut out: Vec<LiveResource> = per_region.into_iter().flatten().collect();
        out.sort_by(|a, b| a.identity.cmp(&b.identity));
        Ok(out)
    }

    async fn create(&self, desired: &State, owner: &Owner) -> Result<(), ProviderError> {
        let d = Desired::parse(desired)?;
        self.change_set(&d).execute(ChangeSetKind::Create, Self::stack_tags(&d, owner, &d.facts.queue), owner).await?;
        function::deploy(self.api.as_ref(), &d, None, owner).await
    }

    async fn update(&self, desired: &State, live: &LiveResource, changed: &[String], owner: &Owner) -> Result<(), ProviderError> {
        let d = Desired::parse(desired)?;
        if changed.iter().any(|c| c.starts_with("template") || c == "tags" || c == "owner") {
            self.change_set(&d).execute(ChangeSetKind::Update, Self::stack_tags(&d, owner, queue_of(&live.identity)), owner).await?;
        }
        if changed.iter().any(|c| c.starts_with("function")) {
            function::deploy(self.api.as_ref(), &d, live_function(&live.state).as_ref(), owner).await?;
        }
        Ok(())
    }

    async fn resolve(&self, desired: &mut [(String, State)]) -> Result<Vec<crate::core::Diagnostic>, ProviderError> {
        let mut queues = Self::parse_all(desired)?;
        let problems = preflight::resolve(self.api.as_ref(), &mut queues).await?;
        for ((_, state), (_, d)) in desired.iter_mut().zip(queues) {
            *state = d.to_state();
        }
        Ok(problems)
    }

    async fn preflight(&self, desired: &[(String, State)]) -> Result<Vec<crate::core::Diagnostic>, ProviderError> {
        preflight::check(self.api.as_ref(), &Self::parse_all(desired)?).await
    }

    async fn preview(&self, desired: &State, _live: &LiveResource) -> Result<Vec<String>, ProviderError> {
        let d = Desired::parse(desired)?;
        self.change_set(&d).preview().await
    }

    async fn delete(&self, live: &LiveResource) -> Result<(), ProviderError> {
        let at = Marks::read(&live.state);
        if let Some(f) = live_function(&live.state) {
            self.api.delete_function(&at.region, &f.name).await?;
        }
        change_set::delete_stack(self.api.as_ref(), &at.region, &at.stack_name).await
    }
}
