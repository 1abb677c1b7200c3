//! A loaded stack's plan, stage by stage, each a function of what the last
//! gave: desired → discover → read → resolve and preflight (+ the managed
//! policies' lint) → match → index → target → (refuse) → preview →
//! broadening → cost. The stages themselves are the engine's
//! (`engine::stages`: drivers and kinds only); what is here reads the
//! stack (its desired states, its reach, the plan's header) and runs them.
//! The drivers are built once; problems are collected across stages and
//! refuse the plan together.

use super::{Backend, OpsError};
use crate::config::Stack;
use crate::core::{Kind, OutputValue};
use crate::engine::planner::DesiredInstance;
use crate::engine::stages::{self, ByKind, Matching, Problems, Reach};
use crate::plan::{Plan, FORMAT_VERSION};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Any problem refuses the plan; security findings alone exit with 3.
fn refusal(mut p: Problems) -> Option<OpsError> {
    if !p.errors.is_empty() {
        p.errors.append(&mut p.security);
        return Some(OpsError::Refused(p.errors));
    }
    (!p.security.is_empty()).then_some(OpsError::Security(p.security))
}

pub(super) async fn plan_stack(stack: &Stack, backend: Arc<dyn Backend>, req: &super::PlanRequest) -> Result<Plan, OpsError> {
    let kinds = crate::kinds::all();
    let drivers = backend.drivers();
    let mut desired = desired(stack, &kinds);
    let mut reach = reach(stack, &desired);
    let zoned = |k: &str| crate::kinds::entry(k).is_some_and(|e| e.is_gcp());
    let read_kinds = stages::discover(&drivers, &desired, &mut reach, req.all_kinds, &zoned).await?;
    let live = stages::read(&drivers, &read_kinds, &reach).await?;
    let mut problems = Problems::default();
    if !req.destroy {
        stages::resolve(&drivers, &mut desired, &mut problems).await?;
        stages::preflight(&drivers, &desired, &mut problems).await?;
        if let Some(api) = backend.managed_policies() {
            let judged = super::managed_lint::lint(stack, api.as_ref()).await?;
            problems.errors.extend(judged.missing);
            problems.security = judged.findings;
        }
    }
    let mut plan = empty_plan(stack, req, &reach.zones);
    let owner = stack.env.owner();
    let matching = Matching { owner: &owner, adopt: &stack.adopt, adopt_all: req.adopt_all, allow_delete: &req.allow_delete, destroy: req.destroy };
    stages::match_kinds(&kinds, matching, &desired, &live, &mut plan, &mut problems.errors);
    stages::index(&mut plan, &desired);
    if !req.targets.is_empty() {
        stages::apply_targets(&mut plan, &req.targets, &mut problems.errors);
    }
    if let Some(refused) = refusal(problems) {
        return Err(refused);
    }
    plan.changes.sort_by(|a, b| a.address.cmp(&b.address));
    plan.unchanged.sort();
    if req.change_sets {
        stages::preview(&drivers, &mut plan).await?;
    }
    stages::broadening(&mut plan, &kinds);
    super::cost::add_ceilings(&mut plan, stack, &desired, &live, req.destroy)?;
    Ok(plan)
}

/// Stage desired: every block's desired state, per kind (every kind, empty
/// when the files have none of it).
fn desired(stack: &Stack, kinds: &[&'static dyn Kind]) -> ByKind<Vec<DesiredInstance>> {
    let of_kind = |kind: &dyn Kind| {
        stack
            .resources
            .iter()
            .filter(|r| r.kind == kind.name())
            .map(|r| DesiredInstance {
                address: r.address.clone(),
                identity: r.block.identity(),
                state: r.block.desired_state(&stack.env),
                protect: r.protect,
                depends_on: r.depends_on.iter().cloned().collect(),
            })
            .collect()
    };
    kinds.iter().map(|k| (k.name().to_string(), of_kind(*k))).collect()
}

fn reach(stack: &Stack, desired: &ByKind<Vec<DesiredInstance>>) -> Reach {
    let identities = desired.iter().map(|(k, d)| (k.clone(), d.iter().map(|i| i.identity.clone()).collect())).collect();
    let mut zones: Vec<String> = stack.gcp_zones.clone();
    zones.extend(stack.resources.iter().filter_map(|r| r.block.zone()));
    zones.sort();
    zones.dedup();
    Reach { stack: stack.name.clone(), owner: stack.env.owner(), identities, regions: stack.env.regions.clone(), zones }
}

fn empty_plan(stack: &Stack, req: &super::PlanRequest, zones: &[String]) -> Plan {
    Plan {
        format_version: FORMAT_VERSION,
        stack: stack.name.clone(),
        owner: stack.env.owner(),
        // Absolute and canonical: a saved plan applied from another working
        // directory takes the lock of the stack it was made for.
        dir: std::fs::canonicalize(&stack.dir).unwrap_or_else(|_| stack.dir.clone()),
        region: stack.env.region.clone(),
        regions: stack.env.regions.clone(),
        gcp_project: stack.gcp_project.clone(),
        zones: zones.to_vec(),
        account_id: stack.env.account_id.clone(),
        gantry_version: crate::VERSION.to_string(),
        destroy: req.destroy,
        changes: Vec::new(),
        unchanged: Vec::new(),
        fingerprints: BTreeMap::new(),
        index: BTreeMap::new(),
        warnings: Vec::new(),
        broadening: Vec::new(),
        waivers: stack.waivers.clone(),
        backend: stack.backend.clone(),
        // After a destroy nothing is left to show.
        outputs: if req.destroy { Vec::new() } else { stack.outputs.iter().map(redact).collect() },
        inputs: inputs_of(req),
        cost: None,
    }
}

/// The choices a plan was made with, as a saved plan records them.
fn inputs_of(req: &super::PlanRequest) -> crate::plan::PlanInputs {
    crate::plan::PlanInputs {
        targets: req.targets.clone(),
        all_kinds: req.all_kinds,
        workspace: req.load.workspace.clone(),
        var_files: req.load.var_files.iter().map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())).collect(),
        var_names: req.load.vars.iter().filter_map(|v| v.split_once('=')).map(|(n, _)| n.to_string()).collect(),
        adopt_all: req.adopt_all,
        allow_delete: req.allow_delete.iter().cloned().collect(),
    }
}

/// An output as a plan carries it: a sensitive value is left out.
fn redact(o: &OutputValue) -> OutputValue {
    let mut o = o.clone();
    if o.sensitive {
        o.value = serde_json::Value::Null;
    }
    o
}
