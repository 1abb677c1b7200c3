//! A stack's plan, stage by stage, each a function of what the last gave:
//! desired → discover → read → resolve and preflight → match → index →
//! target → (refuse) → preview → broadening → cost. The drivers are built
//! once; problems are collected across stages and refuse the plan together.

use super::{Backend, OpsError};
use crate::config::Stack;
use crate::core::Diagnostic;
use crate::core::{Driver, Kind, LiveResource, OutputValue, ReadScope, State};
use crate::engine::planner::{plan_kind, Allowances, DesiredInstance};
use crate::plan::{Action, IndexEntry, Op, Plan, FORMAT_VERSION};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

type Drivers = BTreeMap<String, Arc<dyn Driver>>;
/// Per kind name.
type ByKind<T> = BTreeMap<String, T>;

/// Problems found on the way; any of them refuses the plan.
#[derive(Default)]
struct Problems {
    errors: Vec<Diagnostic>,
    /// Security findings only the cloud could tell (exit code 3 alone).
    security: Vec<Diagnostic>,
}

impl Problems {
    fn refusal(mut self) -> Option<OpsError> {
        if !self.errors.is_empty() {
            self.errors.append(&mut self.security);
            return Some(OpsError::Refused(self.errors));
        }
        (!self.security.is_empty()).then_some(OpsError::Security(self.security))
    }
}

/// What to read, and where: the stack's owner key, the names its files
/// want of each kind, and the zones its Google Cloud kinds live in.
struct Reach<'a> {
    stack: &'a Stack,
    owner: String,
    identities: ByKind<Vec<String>>,
    zones: Vec<String>,
}

impl Reach<'_> {
    /// What a driver reads of `kind`: everything the owner owns in the
    /// stack's regions and zones, plus the names the files want.
    fn scope(&self, kind: &str) -> ReadScope {
        ReadScope {
            stack: self.stack.name.clone(),
            owner: self.owner.clone(),
            identities: self.identities.get(kind).cloned().unwrap_or_default(),
            regions: self.stack.env.regions.clone(),
            zones: self.zones.clone(),
        }
    }
}

pub(super) async fn plan_stack(stack: &Stack, backend: Arc<dyn Backend>, req: &super::PlanRequest) -> Result<Plan, OpsError> {
    let kinds = crate::kinds::all();
    let drivers = backend.drivers();
    let mut desired = desired(stack, &kinds);
    let mut reach = reach(stack, &desired);
    let read_kinds = discover(&drivers, &desired, &mut reach, req.all_kinds).await?;
    let live = read(&drivers, &read_kinds, &reach).await?;
    let mut problems = Problems::default();
    if !req.destroy {
        resolve(&drivers, &mut desired, &mut problems).await?;
        preflight(&drivers, &desired, &mut problems).await?;
        if let Some(api) = backend.managed_policies() {
            let judged = super::managed_lint::lint(stack, api.as_ref()).await?;
            problems.errors.extend(judged.missing);
            problems.security = judged.findings;
        }
    }
    let mut plan = empty_plan(stack, req, &reach.zones);
    match_kinds(&kinds, stack, req, &desired, &live, &mut plan, &mut problems.errors);
    index(&mut plan, stack, &desired);
    if !req.targets.is_empty() {
        apply_targets(&mut plan, &req.targets, &mut problems.errors);
    }
    if let Some(refused) = problems.refusal() {
        return Err(refused);
    }
    plan.changes.sort_by(|a, b| a.address.cmp(&b.address));
    plan.unchanged.sort();
    if req.change_sets {
        preview(&drivers, &mut plan).await?;
    }
    broadening(&mut plan);
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

fn reach<'a>(stack: &'a Stack, desired: &ByKind<Vec<DesiredInstance>>) -> Reach<'a> {
    let identities = desired.iter().map(|(k, d)| (k.clone(), d.iter().map(|i| i.identity.clone()).collect())).collect();
    let mut zones: Vec<String> = stack.gcp_zones.clone();
    zones.extend(stack.resources.iter().filter_map(|r| r.block.zone()));
    zones.sort();
    zones.dedup();
    Reach { stack, owner: stack.env.owner(), identities, zones }
}

/// Stage discover: the kinds to read. Those the files use (all with
/// `--all-kinds`), plus those the stack still owns of though its files no
/// longer use them (a removed last block: a few calls per kind). Google
/// Cloud kinds always look (one call): their nodes may sit in a zone no
/// block names any more, and the zones found widen the reach.
async fn discover(drivers: &Drivers, desired: &ByKind<Vec<DesiredInstance>>, reach: &mut Reach<'_>, all_kinds: bool) -> Result<BTreeSet<String>, OpsError> {
    let mut read_kinds: BTreeSet<String> = desired.iter().filter(|(_, d)| all_kinds || !d.is_empty()).map(|(k, _)| k.clone()).collect();
    let zoned = |k: &str| crate::kinds::entry(k).is_some_and(|e| e.is_gcp());
    let looks = drivers.iter().filter(|(k, _)| !read_kinds.contains(*k) || zoned(k)).map(|(k, d)| {
        let scope = reach.scope(k);
        async move { d.discover(&scope).await.map(|f| (k.clone(), f)) }
    });
    for (kind, f) in futures::future::try_join_all(looks).await? {
        if f.owned {
            tracing::info!(kind = %kind, "the stack owns resources of a kind its files no longer use");
            read_kinds.insert(kind);
        }
        reach.zones.extend(f.zones);
    }
    reach.zones.sort();
    reach.zones.dedup();
    Ok(read_kinds)
}

/// Stage read: the live state of the kinds to read, concurrently.
async fn read(drivers: &Drivers, kinds: &BTreeSet<String>, reach: &Reach<'_>) -> Result<ByKind<Vec<LiveResource>>, OpsError> {
    let reads = drivers.iter().filter(|(kind, _)| kinds.contains(*kind)).map(|(kind, driver)| {
        let scope = reach.scope(kind);
        async move { driver.read(&scope).await.map(|l| (kind.clone(), l)) }
    });
    Ok(futures::future::try_join_all(reads).await?.into_iter().collect())
}

fn items(d: &[DesiredInstance]) -> Vec<(String, State)> {
    d.iter().map(|i| (i.address.clone(), i.state.clone())).collect()
}

/// Stage resolve: plan-time lookups complete the desired state before
/// anything is compared (e.g. a queue's subnets from its VPC).
async fn resolve(drivers: &Drivers, desired: &mut ByKind<Vec<DesiredInstance>>, problems: &mut Problems) -> Result<(), OpsError> {
    for (kind, d) in desired.iter_mut().filter(|(_, d)| !d.is_empty()) {
        let Some(driver) = drivers.get(kind) else { continue };
        let mut resolved = items(d);
        problems.errors.extend(driver.resolve(&mut resolved).await?);
        for (inst, (_, state)) in d.iter_mut().zip(resolved) {
            inst.state = state;
        }
    }
    Ok(())
}

/// Stage preflight: what the cloud must hold before an apply could work
/// (a parameter, a role), for every kind at once.
async fn preflight(drivers: &Drivers, desired: &ByKind<Vec<DesiredInstance>>, problems: &mut Problems) -> Result<(), OpsError> {
    let checks = desired.iter().filter(|(_, d)| !d.is_empty()).filter_map(|(kind, d)| {
        let driver = drivers.get(kind)?;
        let items = items(d);
        Some(async move { driver.preflight(&items).await })
    });
    problems.errors.extend(futures::future::try_join_all(checks).await?.into_iter().flatten());
    Ok(())
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

/// Stage match: each kind's desired against its live state (the pure
/// planner), and each change decorated by its kind (notes, explanations).
fn match_kinds(
    kinds: &[&'static dyn Kind],
    stack: &Stack,
    req: &super::PlanRequest,
    desired: &ByKind<Vec<DesiredInstance>>,
    live: &ByKind<Vec<LiveResource>>,
    plan: &mut Plan,
    errors: &mut Vec<Diagnostic>,
) {
    let owner = stack.env.owner();
    let deps_by_address: BTreeMap<&str, &Vec<String>> = desired.values().flatten().map(|d| (d.address.as_str(), &d.depends_on)).collect();
    for k in kinds {
        let Some(live_k) = live.get(k.name()) else { continue };
        let want: &[DesiredInstance] = if req.destroy { &[] } else { &desired[k.name()] };
        let problem = |l: &LiveResource| k.live_problem(l);
        let allow = Allowances { adopt: &stack.adopt, adopt_all: req.adopt_all, allow_delete: &req.allow_delete, problem: Some(&problem) };
        let kp = plan_kind(k.name(), k.fields(), &owner, want, live_k, allow);
        errors.extend(kp.errors);
        plan.unchanged.extend(kp.unchanged);
        plan.fingerprints.extend(kp.fingerprints);
        for mut c in kp.changes {
            if c.action() == Action::Delete && c.depends_on.is_empty() {
                // For destroy, the files still say what depends on what.
                c.depends_on = deps_by_address.get(c.address.as_str()).map(|d| d.to_vec()).unwrap_or_default();
            }
            if let Some(desired) = c.op.desired() {
                c.notes.extend(k.change_notes(c.action(), &c.attrs, desired));
            }
            c.attrs = k.explain(std::mem::take(&mut c.attrs));
            plan.changes.push(c);
        }
    }
}

/// Stage index: every address the plan touches or leaves alone, with its
/// kind and cloud name (a saved plan is checked against it).
fn index(plan: &mut Plan, stack: &Stack, desired: &ByKind<Vec<DesiredInstance>>) {
    for c in &plan.changes {
        plan.index.insert(c.address.clone(), IndexEntry { kind: c.kind.clone(), identity: c.identity.clone() });
    }
    for d in desired.values().flatten() {
        if plan.unchanged.contains(&d.address) {
            let kind = stack.resources.iter().find(|r| r.address == d.address).map(|r| r.kind).unwrap_or_default();
            plan.index.insert(d.address.clone(), IndexEntry { kind: kind.to_string(), identity: d.identity.clone() });
        }
    }
}

/// Stage preview (`--change-sets`): a deeper look at each update from the
/// provider (a CloudFormation change set), as notes.
async fn preview(drivers: &Drivers, plan: &mut Plan) -> Result<(), OpsError> {
    let previews = plan.changes.iter().enumerate().filter_map(|(i, c)| {
        let Op::Update { desired, live } = &c.op else { return None };
        let driver = drivers.get(&c.kind)?;
        Some(async move { driver.preview(desired, live).await.map(|n| (i, n)) })
    });
    for (i, notes) in futures::future::try_join_all(previews).await? {
        plan.changes[i].notes = notes;
    }
    Ok(())
}

/// Stage broadening: what each change newly allows, for review.
fn broadening(plan: &mut Plan) {
    for c in &plan.changes {
        let (Some(kind), Some(desired)) = (crate::kinds::by_name(&c.kind), c.op.desired()) else { continue };
        let items = kind.broadening(c.op.live().map(|l| &l.state), desired);
        if !items.is_empty() {
            plan.broadening.push(crate::plan::Broadening { address: c.address.clone(), items });
        }
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

/// Stage target: keeps only targeted changes (and, for non-deletes, what
/// they depend on).
fn apply_targets(plan: &mut Plan, targets: &[String], errors: &mut Vec<Diagnostic>) {
    let matches = |t: &str, addr: &str| addr == t || addr.split('[').next() == Some(t);
    for t in targets {
        let known = plan.changes.iter().any(|c| matches(t, &c.address)) || plan.unchanged.iter().any(|u| matches(t, u));
        if !known {
            errors.push(
                Diagnostic::at(t.clone(), format!("--target {t} matches no resource in the stack or the cloud"))
                    .with_note("addresses look like KIND.NAME or KIND.NAME[INDEX]"),
            );
        }
    }
    let mut keep: BTreeSet<String> = plan.changes.iter().filter(|c| targets.iter().any(|t| matches(t, &c.address))).map(|c| c.address.clone()).collect();
    loop {
        let extra: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| keep.contains(&c.address) && c.action() != Action::Delete)
            .flat_map(|c| c.depends_on.iter())
            .flat_map(|dep| plan.changes.iter().filter(move |d| matches(dep, &d.address) && d.action() != Action::Delete))
            .map(|d| d.address.clone())
            .filter(|a| !keep.contains(a))
            .collect();
        if extra.is_empty() {
            break;
        }
        keep.extend(extra);
    }
    plan.changes.retain(|c| keep.contains(&c.address));
    plan.warnings.push("this plan is limited by --target; other changes may remain (run plan without --target to see them)".into());
}
