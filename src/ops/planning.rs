//! plan / apply / destroy as operations.

use super::{Backend, Connect, OpsError, Target};
use crate::config::{load_dir, read_settings, LoadOptions, Loaded, Stack};
use crate::core::{Kind, LiveResource, OutputValue, ReadScope};
use crate::engine::apply::{apply, ApplyReport, Cancel, Progress};
use crate::engine::planner::{plan_kind, Allowances, DesiredInstance, PlanError};
use crate::plan::{Action, IndexEntry, Plan, FORMAT_VERSION};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

/// What to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    pub dir: PathBuf,
    pub load: LoadOptions,
    /// Limit the plan to these addresses (and what they depend on).
    pub targets: Vec<String>,
    /// Plan the deletion of everything the stack owns.
    pub destroy: bool,
    /// Adopt every unowned resource whose name clashes (`--adopt`).
    pub adopt_all: bool,
    /// Protected resources the user named for deletion (`--allow-delete ADDR`).
    pub allow_delete: std::collections::BTreeSet<String>,
    /// Ask the provider for a deeper preview of updates (CloudFormation change sets).
    pub change_sets: bool,
    /// Read every kind, not only those in the files: finds what the stack
    /// still owns of a kind whose last block was removed (`--all-kinds`).
    pub all_kinds: bool,
}

/// Loads the stack, reads live state and plans. Returns the loaded files
/// too, so callers can render diagnostics (warnings included).
pub async fn make_plan(req: &PlanRequest, connect: &dyn Connect) -> (Loaded, Result<(Plan, Arc<dyn Backend>), OpsError>) {
    let kinds = &crate::kinds::all();
    // Only the stack block first (no network yet): where to connect. The
    // stack is then evaluated once, with the account id its ARNs need.
    let (first, settings) = read_settings(&req.dir, &req.load, kinds);
    let Some((settings, used)) = settings else {
        let e = OpsError::config(&first);
        return (first, Err(e));
    };
    let is_gcp = |k: &&str| crate::kinds::entry(k).is_some_and(|e| e.is_gcp());
    if used.iter().any(|k| !is_gcp(k)) && settings.aws_region.is_none() {
        return (first, Err(OpsError::Usage("the stack block needs aws { region = \"...\" } to manage AWS resources".into())));
    }
    if used.iter().any(is_gcp) && settings.gcp_project.is_none() {
        return (first, Err(OpsError::Usage("the stack block needs gcp { project = \"...\" } to manage Google Cloud resources".into())));
    }
    let target = Target { aws_region: settings.aws_region.clone(), gcp_project: settings.gcp_project.clone() };
    let connected = match connect.connect(&target).await {
        Ok(b) => b.account_id().await.map(|a| (b, a)),
        Err(e) => Err(e),
    };
    let (backend, account) = match connected {
        Ok(c) => c,
        // Bad files matter more than an unreachable cloud: say so first.
        Err(e) => {
            return match offline_errors(req, kinds) {
                Some(loaded) => {
                    let config = OpsError::config(&loaded);
                    (loaded, Err(config))
                }
                None => (first, Err(e.into())),
            };
        }
    };
    if !account.is_empty() && !settings.allowed_account_ids.is_empty() && !settings.allowed_account_ids.contains(&account) {
        return (first, Err(OpsError::AccountNotAllowed { account, allowed: settings.allowed_account_ids.clone() }));
    }
    // One Resource Manager read, only for stacks whose names need it.
    let mut load = req.load.clone();
    if used.iter().filter_map(|k| crate::kinds::by_name(k)).any(|k| k.needs_gcp_project_number()) {
        match backend.gcp_project_number().await {
            Ok(n) => load.gcp_project_number = Some(n),
            Err(e) => return (first, Err(e.into())),
        }
    }
    load.account_id = (!account.is_empty()).then(|| account.clone());
    load.local_inputs = !req.destroy;
    let loaded = match load_with_data(&req.dir, load, kinds, backend.as_ref(), &account).await {
        Ok(l) => l,
        Err(e) => return (first, Err(e)),
    };
    let Some(stack) = loaded.stack.clone() else {
        let e = OpsError::config(&loaded);
        return (loaded, Err(e));
    };
    let result = plan_stack(&stack, backend.clone(), req).await.map(|p| (p, backend));
    (loaded, result)
}

/// Evaluates the stack, reading its `data` blocks first: each evaluation
/// names the data blocks it could not yet give values to; those are read
/// (concurrently) and the stack evaluated again, until none is left (a
/// data block may use another's value, so this can take a few rounds).
async fn load_with_data(
    dir: &std::path::Path,
    mut load: LoadOptions,
    kinds: &[&'static dyn Kind],
    backend: &dyn Backend,
    account: &str,
) -> Result<Loaded, OpsError> {
    // Lookup clients only for a stack that has data blocks to read.
    let mut apis: Option<crate::lookups::LookupApis> = None;
    let mut values = BTreeMap::new();
    loop {
        load.data = Some(values.clone());
        let loaded = load_dir(dir, &load, kinds);
        if loaded.data_requests.is_empty() || loaded.diags.has_errors() {
            return Ok(loaded);
        }
        let apis = &*apis.get_or_insert_with(|| crate::lookups::LookupApis { account_id: account.to_string(), ..backend.lookups() });
        let reads = loaded.data_requests.iter().map(|r| async move {
            let source = crate::lookups::by_name(r.source).expect("requests name registered sources");
            tracing::info!(address = %r.address, "reading data source");
            (r.address.clone(), source.read(&r.args, apis).await)
        });
        for (address, result) in futures::future::join_all(reads).await {
            let value = match result {
                Ok(v) => Ok(v),
                Err(crate::lookups::LookupError::Missing(why)) => Err(why),
                Err(crate::lookups::LookupError::Provider(e)) => return Err(e.into()),
            };
            values.insert(address, value);
        }
    }
}

/// The stack evaluated offline, when that finds errors (only on the way
/// out after a failed connect, so a good stack is evaluated once).
fn offline_errors(req: &PlanRequest, kinds: &[&'static dyn Kind]) -> Option<Loaded> {
    let loaded = load_dir(&req.dir, &req.load, kinds);
    loaded.diags.has_errors().then_some(loaded)
}

fn desired_instances(stack: &Stack, kind: &dyn Kind) -> Vec<DesiredInstance> {
    stack
        .resources
        .iter()
        .filter(|r| r.kind == kind.name())
        .map(|r| DesiredInstance {
            address: r.address.clone(),
            identity: kind.identity(&r.attrs),
            state: kind.desired_state(&r.attrs, &stack.env),
            protect: r.protect,
            depends_on: r.depends_on.iter().cloned().collect(),
        })
        .collect()
}

/// What a driver reads of `kind` for the stack: everything the owner
/// owns in its regions and `zones`, plus the names the files want.
fn read_scope(stack: &Stack, owner: &str, identities: &BTreeMap<String, Vec<String>>, zones: &[String], kind: &str) -> ReadScope {
    ReadScope {
        stack: stack.name.clone(),
        owner: owner.to_string(),
        identities: identities.get(kind).cloned().unwrap_or_default(),
        regions: stack.env.regions.clone(),
        zones: zones.to_vec(),
    }
}

/// Reads the live state of `kinds` concurrently (the kinds the files use
/// and those discovery found the stack still owns).
async fn read_all(
    backend: &Arc<dyn Backend>,
    kinds: &BTreeSet<String>,
    scope: impl Fn(&str) -> ReadScope,
) -> Result<BTreeMap<String, Vec<LiveResource>>, OpsError> {
    let drivers = backend.drivers();
    let reads = drivers.iter().filter(|(kind, _)| kinds.contains(*kind)).map(|(kind, driver)| {
        let scope = scope(kind);
        let kind = kind.clone();
        let driver = driver.clone();
        async move { driver.read(&scope).await.map(|l| (kind, l)) }
    });
    let results = futures::future::try_join_all(reads).await?;
    Ok(results.into_iter().collect())
}

async fn plan_stack(stack: &Stack, backend: Arc<dyn Backend>, req: &PlanRequest) -> Result<Plan, OpsError> {
    let kinds = &crate::kinds::all();
    let mut desired: BTreeMap<String, Vec<DesiredInstance>> = BTreeMap::new();
    for k in kinds {
        desired.insert(k.name().to_string(), desired_instances(stack, *k));
    }
    let identities: BTreeMap<String, Vec<String>> = desired.iter().map(|(k, d)| (k.clone(), d.iter().map(|i| i.identity.clone()).collect())).collect();
    let mut zones: Vec<String> = stack.gcp_zones.clone();
    zones.extend(stack.resources.iter().filter_map(|r| crate::kinds::by_name(r.kind)?.zone(&r.attrs)));
    zones.sort();
    zones.dedup();
    let mut read_kinds: BTreeSet<String> = desired.iter().filter(|(_, d)| req.all_kinds || !d.is_empty()).map(|(k, _)| k.clone()).collect();
    let owner = stack.env.owner();
    // What the stack owns of a kind its files no longer use (a removed last
    // block) is found too: a few calls per kind, then read like the rest.
    // Google Cloud kinds always look (one call): their nodes may sit in a
    // zone no block names any more.
    let drivers = backend.drivers();
    let zoned = |k: &str| crate::kinds::entry(k).is_some_and(|e| e.is_gcp());
    let unused: Vec<(String, ReadScope)> =
        drivers.keys().filter(|k| !read_kinds.contains(*k) || zoned(k)).map(|k| (k.clone(), read_scope(stack, &owner, &identities, &zones, k))).collect();
    let found = futures::future::try_join_all(unused.iter().map(|(k, s)| {
        let d = drivers[k].clone();
        async move { d.discover(s).await.map(|f| (k.clone(), f)) }
    }))
    .await?;
    for (kind, f) in found {
        if f.owned {
            tracing::info!(kind = %kind, "the stack owns resources of a kind its files no longer use");
            read_kinds.insert(kind);
        }
        zones.extend(f.zones);
    }
    zones.sort();
    zones.dedup();
    let live = read_all(&backend, &read_kinds, |k| read_scope(stack, &owner, &identities, &zones, k)).await?;
    let mut errors: Vec<PlanError> = Vec::new();
    let mut security: Vec<PlanError> = Vec::new();
    if !req.destroy {
        // Plan-time lookups complete the desired state before anything is compared.
        let drivers = backend.drivers();
        for (kind, d) in desired.iter_mut().filter(|(_, d)| !d.is_empty()) {
            let Some(driver) = drivers.get(kind) else { continue };
            let mut items: Vec<(String, crate::core::State)> = d.iter().map(|i| (i.address.clone(), i.state.clone())).collect();
            for (address, message) in driver.resolve(&mut items).await? {
                errors.push(PlanError { address, message, hint: None });
            }
            for (inst, (_, state)) in d.iter_mut().zip(items) {
                inst.state = state;
            }
        }
        let checks = desired.iter().filter(|(_, d)| !d.is_empty()).filter_map(|(kind, d)| {
            let driver = drivers.get(kind)?.clone();
            let items: Vec<(String, crate::core::State)> = d.iter().map(|i| (i.address.clone(), i.state.clone())).collect();
            Some(async move { driver.preflight(&items).await })
        });
        for (address, message) in futures::future::try_join_all(checks).await?.into_iter().flatten() {
            errors.push(PlanError { address, message, hint: None });
        }
        if let Some(api) = backend.managed_policies() {
            let judged = super::managed_lint::lint(stack, api.as_ref()).await?;
            errors.extend(judged.missing);
            security = judged.findings;
        }
    }

    let mut plan = Plan {
        format_version: FORMAT_VERSION,
        stack: stack.name.clone(),
        owner: stack.env.owner(),
        // Absolute and canonical: a saved plan applied from another working
        // directory takes the lock of the stack it was made for.
        dir: std::fs::canonicalize(&stack.dir).unwrap_or_else(|_| stack.dir.clone()),
        region: stack.env.region.clone(),
        regions: stack.env.regions.clone(),
        gcp_project: stack.gcp_project.clone(),
        zones: zones.clone(),
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
    };
    let deps_by_address: BTreeMap<String, Vec<String>> = desired.values().flatten().map(|d| (d.address.clone(), d.depends_on.clone())).collect();
    for k in kinds {
        let Some(live_k) = live.get(k.name()) else { continue };
        let want: &[DesiredInstance] = if req.destroy { &[] } else { &desired[k.name()] };
        let problem = |l: &crate::core::LiveResource| k.live_problem(l);
        let allow = Allowances { adopt: &stack.adopt, adopt_all: req.adopt_all, allow_delete: &req.allow_delete, problem: Some(&problem) };
        let kp = plan_kind(k.name(), k.fields(), &owner, want, live_k, allow);
        errors.extend(kp.errors);
        for l in live_k.iter().filter(|l| l.owner_stack.as_deref() == Some(owner.as_str())) {
            if let Some(problem) = k.live_problem(l) {
                let address = l.owner_address.clone().unwrap_or_else(|| l.identity.clone());
                errors.push(PlanError { address, message: problem, hint: None });
            }
        }
        plan.unchanged.extend(kp.unchanged);
        for (addr, fp) in kp.fingerprints {
            plan.fingerprints.insert(addr, fp);
        }
        for mut c in kp.changes {
            if c.action == Action::Delete && c.depends_on.is_empty() {
                // For destroy, the files still say what depends on what.
                c.depends_on = deps_by_address.get(&c.address).cloned().unwrap_or_default();
            }
            if let Some(desired) = c.desired.as_ref().filter(|_| c.action != Action::Delete) {
                c.notes.extend(k.change_notes(c.action, &c.attrs, desired));
            }
            c.attrs = k.explain(std::mem::take(&mut c.attrs));
            plan.changes.push(c);
        }
    }
    for c in &plan.changes {
        plan.index.insert(c.address.clone(), IndexEntry { kind: c.kind.clone(), identity: c.identity.clone() });
    }
    for d in desired.values().flatten() {
        if plan.unchanged.contains(&d.address) {
            let kind = stack.resources.iter().find(|r| r.address == d.address).map(|r| r.kind).unwrap_or_default();
            plan.index.insert(d.address.clone(), IndexEntry { kind: kind.to_string(), identity: d.identity.clone() });
        }
    }
    if !req.targets.is_empty() {
        apply_targets(&mut plan, &req.targets, &mut errors);
    }
    if !errors.is_empty() {
        errors.extend(security);
        return Err(OpsError::Refused(errors));
    }
    if !security.is_empty() {
        return Err(OpsError::Security(security));
    }
    plan.changes.sort_by(|a, b| a.address.cmp(&b.address));
    plan.unchanged.sort();
    if req.change_sets {
        let drivers = backend.drivers();
        let previews = plan.changes.iter().enumerate().filter(|(_, c)| c.action == Action::Update).filter_map(|(i, c)| {
            let driver = drivers.get(&c.kind)?.clone();
            let (desired, live) = (c.desired.clone()?, c.live.clone()?);
            Some(async move { driver.preview(&desired, &live).await.map(|n| (i, n)) })
        });
        for (i, notes) in futures::future::try_join_all(previews).await? {
            plan.changes[i].notes = notes;
        }
    }
    for c in &plan.changes {
        let (Some(kind), Some(desired)) = (crate::kinds::by_name(&c.kind), c.desired.as_ref()) else { continue };
        let items = kind.broadening(c.live.as_ref().map(|l| &l.state), desired);
        if !items.is_empty() {
            plan.broadening.push(crate::plan::Broadening { address: c.address.clone(), items });
        }
    }
    super::cost::add_ceilings(&mut plan, stack, &desired, &live, req.destroy)?;
    Ok(plan)
}

/// The choices a plan was made with, as a saved plan records them.
fn inputs_of(req: &PlanRequest) -> crate::plan::PlanInputs {
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

/// Keeps only targeted changes (and, for non-deletes, what they depend on).
fn apply_targets(plan: &mut Plan, targets: &[String], errors: &mut Vec<PlanError>) {
    let matches = |t: &str, addr: &str| addr == t || addr.split('[').next() == Some(t);
    for t in targets {
        let known = plan.changes.iter().any(|c| matches(t, &c.address)) || plan.unchanged.iter().any(|u| matches(t, u));
        if !known {
            errors.push(PlanError {
                address: t.clone(),
                message: format!("--target {t} matches no resource in the stack or the cloud"),
                hint: Some("addresses look like KIND.NAME or KIND.NAME[INDEX]".into()),
            });
        }
    }
    let mut keep: BTreeSet<String> = plan.changes.iter().filter(|c| targets.iter().any(|t| matches(t, &c.address))).map(|c| c.address.clone()).collect();
    loop {
        let extra: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| keep.contains(&c.address) && c.action != Action::Delete)
            .flat_map(|c| c.depends_on.iter())
            .flat_map(|dep| plan.changes.iter().filter(move |d| matches(dep, &d.address) && d.action != Action::Delete))
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

/// Applies a plan. The caller holds the stack lock.
pub async fn apply_plan(
    plan: &Plan,
    backend: &Arc<dyn Backend>,
    parallelism: usize,
    progress: Arc<dyn Progress>,
    cancel: Cancel,
) -> Result<ApplyReport, OpsError> {
    Ok(apply(plan, &backend.drivers(), parallelism, progress, cancel).await)
}
