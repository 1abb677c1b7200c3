//! The stages of a stack's plan that need neither files nor a cloud SDK:
//! discover → read → resolve → preflight over the kinds' drivers, then
//! match (the pure planner, each change decorated by its kind) → index →
//! target → preview → broadening. [`super::pipeline`] runs them in order
//! for a loaded stack; each stage is a function of what the last one gave.

use crate::core::{Action, Diagnostic, Driver, IndexEntry, Kind, LiveResource, Op, Plan, ProviderError, ReadScope, State};
use crate::engine::planner::{plan_kind, Allowances, DesiredInstance};
use futures::future::try_join_all;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The drivers, by kind name (built once per plan).
pub type Drivers = BTreeMap<String, Arc<dyn Driver>>;
/// Per kind name.
pub type ByKind<T> = BTreeMap<String, T>;

/// Problems found on the way; any of them refuses the plan.
#[derive(Debug, Default)]
pub struct Problems {
    /// Errors: the plan cannot be made.
    pub errors: Vec<Diagnostic>,
    /// Security findings only the cloud could tell (exit code 3 alone).
    pub security: Vec<Diagnostic>,
}

/// What to read, and where: the stack's owner key, the names its files
/// want of each kind, and the regions and zones it lives in.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// The stack's name, as derived names use it (`NAME-WORKSPACE`).
    pub stack: String,
    /// Who owns what the stack wrote ([`crate::core::owner_key`]).
    pub owner: String,
    /// The cloud names the files want, per kind.
    pub identities: ByKind<Vec<String>>,
    /// The AWS regions the stack manages.
    pub regions: Vec<String>,
    /// The Google Cloud zones its resources live in (widened by discover).
    pub zones: Vec<String>,
}

impl Reach {
    /// What a driver reads of `kind`: everything the owner owns in the
    /// stack's regions and zones, plus the names the files want.
    pub fn scope(&self, kind: &str) -> ReadScope {
        ReadScope {
            stack: self.stack.clone(),
            owner: self.owner.clone(),
            identities: self.identities.get(kind).cloned().unwrap_or_default(),
            regions: self.regions.clone(),
            zones: self.zones.clone(),
        }
    }
}

/// Stage discover: the kinds to read. Those the files use (all with
/// `all_kinds`), plus those the stack still owns of though its files no
/// longer use them (a removed last block: a few calls per kind). Zoned
/// kinds (`zoned`: Google Cloud's) always look (one call): their nodes may
/// sit in a zone no block names any more, and the zones found widen the reach.
pub async fn discover(
    drivers: &Drivers,
    desired: &ByKind<Vec<DesiredInstance>>,
    reach: &mut Reach,
    all_kinds: bool,
    zoned: &(dyn Fn(&str) -> bool + Sync),
) -> Result<BTreeSet<String>, ProviderError> {
    let mut read_kinds: BTreeSet<String> = desired.iter().filter(|(_, d)| all_kinds || !d.is_empty()).map(|(k, _)| k.clone()).collect();
    let looks = drivers.iter().filter(|(k, _)| !read_kinds.contains(*k) || zoned(k)).map(|(k, d)| {
        let scope = reach.scope(k);
        async move { d.discover(&scope).await.map(|f| (k.clone(), f)) }
    });
    for (kind, f) in try_join_all(looks).await? {
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
pub async fn read(drivers: &Drivers, kinds: &BTreeSet<String>, reach: &Reach) -> Result<ByKind<Vec<LiveResource>>, ProviderError> {
    let reads = drivers.iter().filter(|(kind, _)| kinds.contains(*kind)).map(|(kind, driver)| {
        let scope = reach.scope(kind);
        async move { driver.read(&scope).await.map(|l| (kind.clone(), l)) }
    });
    Ok(try_join_all(reads).await?.into_iter().collect())
}

fn items(d: &[DesiredInstance]) -> Vec<(String, State)> {
    d.iter().map(|i| (i.address.clone(), i.state.clone())).collect()
}

/// Stage resolve: plan-time lookups complete the desired state before
/// anything is compared (e.g. a queue's subnets from its VPC).
pub async fn resolve(drivers: &Drivers, desired: &mut ByKind<Vec<DesiredInstance>>, problems: &mut Problems) -> Result<(), ProviderError> {
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
pub async fn preflight(drivers: &Drivers, desired: &ByKind<Vec<DesiredInstance>>, problems: &mut Problems) -> Result<(), ProviderError> {
    let checks = desired.iter().filter(|(_, d)| !d.is_empty()).filter_map(|(kind, d)| {
        let driver = drivers.get(kind)?;
        let items = items(d);
        Some(async move { driver.preflight(&items).await })
    });
    problems.errors.extend(try_join_all(checks).await?.into_iter().flatten());
    Ok(())
}

/// What the match stage is allowed beyond the default rules.
#[derive(Debug, Clone, Copy)]
pub struct Matching<'a> {
    /// The stack's owner key.
    pub owner: &'a str,
    /// Addresses the files adopt (`import { to = ... }`).
    pub adopt: &'a BTreeSet<String>,
    /// `--adopt`: every clash is adopted.
    pub adopt_all: bool,
    /// `--allow-delete` addresses.
    pub allow_delete: &'a BTreeSet<String>,
    /// A destroy: nothing is desired.
    pub destroy: bool,
}

/// Stage match: each kind's desired against its live state (the pure
/// planner), and each change decorated by its kind (notes, explanations).
pub fn match_kinds(
    kinds: &[&'static dyn Kind],
    m: Matching<'_>,
    desired: &ByKind<Vec<DesiredInstance>>,
    live: &ByKind<Vec<LiveResource>>,
    plan: &mut Plan,
    errors: &mut Vec<Diagnostic>,
) {
    let deps_by_address: BTreeMap<&str, &Vec<String>> = desired.values().flatten().map(|d| (d.address.as_str(), &d.depends_on)).collect();
    for k in kinds {
        let Some(live_k) = live.get(k.name()) else { continue };
        let want: &[DesiredInstance] = if m.destroy { &[] } else { desired.get(k.name()).map_or(&[], Vec::as_slice) };
        let problem = |l: &LiveResource| k.live_problem(l);
        let allow = Allowances { adopt: m.adopt, adopt_all: m.adopt_all, allow_delete: m.allow_delete, problem: Some(&problem) };
        let kp = plan_kind(k.name(), k.fields(), m.owner, want, live_k, allow);
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
pub fn index(plan: &mut Plan, desired: &ByKind<Vec<DesiredInstance>>) {
    for c in &plan.changes {
        plan.index.insert(c.address.clone(), IndexEntry { kind: c.kind.clone(), identity: c.identity.clone() });
    }
    for (kind, d) in desired.iter().flat_map(|(k, ds)| ds.iter().map(move |d| (k, d))) {
        if plan.unchanged.contains(&d.address) {
            plan.index.insert(d.address.clone(), IndexEntry { kind: kind.clone(), identity: d.identity.clone() });
        }
    }
}

/// Stage target: keeps only targeted changes (and, for non-deletes, what
/// they depend on).
pub fn apply_targets(plan: &mut Plan, targets: &[String], errors: &mut Vec<Diagnostic>) {
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

/// Stage preview (`--change-sets`): a deeper look at each update from the
/// provider (a CloudFormation change set), as notes.
pub async fn preview(drivers: &Drivers, plan: &mut Plan) -> Result<(), ProviderError> {
    let previews = plan.changes.iter().enumerate().filter_map(|(i, c)| {
        let Op::Update { desired, live } = &c.op else { return None };
        let driver = drivers.get(&c.kind)?;
        Some(async move { driver.preview(desired, live).await.map(|n| (i, n)) })
    });
    for (i, notes) in try_join_all(previews).await? {
        plan.changes[i].notes = notes;
    }
    Ok(())
}

/// Stage broadening: what each change newly allows, for review.
pub fn broadening(plan: &mut Plan, kinds: &[&'static dyn Kind]) {
    for c in &plan.changes {
        let (Some(kind), Some(desired)) = (kinds.iter().find(|k| k.name() == c.kind), c.op.desired()) else { continue };
        let items = kind.broadening(c.op.live().map(|l| &l.state), desired);
        if !items.is_empty() {
            plan.broadening.push(crate::core::Broadening { address: c.address.clone(), items });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Change;

    fn plan() -> Plan {
        serde_json::from_value(serde_json::json!({
            "format_version": 1, "stack": "s", "dir": ".", "region": "us-west-2", "account_id": "1", "destroy": false,
            "changes": [], "unchanged": [], "fingerprints": {}, "index": {}, "warnings": []
        }))
        .unwrap()
    }

    fn create(address: &str, depends_on: &[&str]) -> Change {
        Change {
            address: address.into(),
            kind: "ecr_repository".into(),
            identity: address.rsplit('.').next().unwrap_or_default().into(),
            op: Op::Create { desired: State::new() },
            reason: None,
            attrs: vec![],
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
            notes: vec![],
            protect: false,
        }
    }

    #[test]
    fn a_target_keeps_what_it_depends_on_and_an_unknown_target_is_an_error() {
        let mut p = plan();
        p.changes = vec![create("ecr_repository.base", &[]), create("ecr_repository.app", &["ecr_repository.base"]), create("ecr_repository.other", &[])];
        let mut errors = Vec::new();
        apply_targets(&mut p, &["ecr_repository.app".into(), "ecr_repository.nope".into()], &mut errors);
        let kept: Vec<&str> = p.changes.iter().map(|c| c.address.as_str()).collect();
        assert_eq!(kept, ["ecr_repository.base", "ecr_repository.app"]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("--target ecr_repository.nope matches no resource"), "{errors:?}");
        assert!(p.warnings[0].contains("limited by --target"));
    }

    #[test]
    fn the_index_names_the_kind_of_every_change_and_of_what_stays() {
        let mut p = plan();
        p.changes = vec![create("ecr_repository.new", &[])];
        p.unchanged = vec!["s3_bucket.logs".into()];
        let kept = DesiredInstance { address: "s3_bucket.logs".into(), identity: "logs-1".into(), state: State::new(), protect: false, depends_on: vec![] };
        let desired: ByKind<Vec<DesiredInstance>> = [("s3_bucket".to_string(), vec![kept])].into_iter().collect();
        index(&mut p, &desired);
        assert_eq!(p.index["ecr_repository.new"], IndexEntry { kind: "ecr_repository".into(), identity: "new".into() });
        assert_eq!(p.index["s3_bucket.logs"], IndexEntry { kind: "s3_bucket".into(), identity: "logs-1".into() });
    }

    #[test]
    fn a_reach_scopes_each_kind_to_the_names_its_files_want() {
        let reach = Reach {
            stack: "s".into(),
            owner: "s".into(),
            identities: [("ecr_repository".to_string(), vec!["cache".to_string()])].into_iter().collect(),
            regions: vec!["us-west-2".into()],
            zones: vec!["us-east5-b".into()],
        };
        assert_eq!(reach.scope("ecr_repository").identities, ["cache"]);
        assert!(reach.scope("s3_bucket").identities.is_empty());
        assert_eq!(reach.scope("tpu_node").zones, ["us-east5-b"]);
    }
}
