//! A loaded stack's plan, stage by stage, each a function of what the last
//! gave: desired → discover → read → resolve and preflight (+ the managed
//! policies' lint) → match → index → target → (refuse) → preview →
//! broadening → cost. The stages are [`super::stages`]; this is their
//! order, over what the caller built once: the kinds, their drivers, the
//! managed-policy documents. Problems are collected across stages and
//! refuse the plan together.

use super::ceilings::{add_ceilings, CeilingError};
use super::managed_lint::{self, ManagedPolicyApi};
use super::planner::DesiredInstance;
use super::stages::{self, ByKind, Drivers, Matching, Problems, Reach};
use crate::config::Stack;
use crate::core::{Diagnostic, Kind, OutputValue, PlanInputs, ProviderError};
use crate::plan::{Plan, FORMAT_VERSION};
use std::collections::{BTreeMap, BTreeSet};

/// What the plan is made with, besides the stack.
pub struct Pipeline<'a> {
    /// Every kind (the stack's desired states are read per kind).
    pub kinds: &'a [&'static dyn Kind],
    /// Their drivers, by kind name.
    pub drivers: &'a Drivers,
    /// Kinds that live in zones (Google Cloud's): always discovered.
    pub zoned: &'a (dyn Fn(&str) -> bool + Sync),
    /// Managed policy documents for the lint (none: AWS is not connected).
    pub managed_policies: Option<&'a dyn ManagedPolicyApi>,
}

/// The user's choices for this plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Plan the deletion of everything the stack owns.
    pub destroy: bool,
    /// Read every kind, not only those in the files.
    pub all_kinds: bool,
    /// Adopt every unowned resource whose name clashes.
    pub adopt_all: bool,
    /// Protected resources named for deletion.
    pub allow_delete: BTreeSet<String>,
    /// Limit the plan to these addresses (and what they depend on).
    pub targets: Vec<String>,
    /// Ask the drivers for a deeper preview of updates.
    pub change_sets: bool,
    /// The choices as a saved plan records them.
    pub inputs: PlanInputs,
    /// The gantry that makes the plan (recorded in saved plans).
    pub gantry_version: String,
}

/// Why no plan was made.
#[derive(Debug, thiserror::Error)]
pub enum PlanFailure {
    /// A cloud call failed.
    #[error("{0}")]
    Provider(#[from] ProviderError),
    /// Problems that refuse the plan (security findings among them).
    #[error("the plan cannot be made: {} problem(s)", .0.len())]
    Refused(Vec<Diagnostic>),
    /// Security findings alone (exit code 3, as at validate).
    #[error("the plan is refused by {} security finding(s)", .0.len())]
    Security(Vec<Diagnostic>),
    /// The price book the cost ceilings need cannot be read.
    #[error("{0}")]
    PriceBook(String),
}

/// Any problem refuses the plan; security findings alone are their own failure.
fn refusal(mut p: Problems) -> Option<PlanFailure> {
    if !p.errors.is_empty() {
        p.errors.append(&mut p.security);
        return Some(PlanFailure::Refused(p.errors));
    }
    (!p.security.is_empty()).then_some(PlanFailure::Security(p.security))
}

/// Plans `stack` against what its drivers read.
pub async fn plan_stack(stack: &Stack, with: &Pipeline<'_>, opts: &PlanOptions) -> Result<Plan, PlanFailure> {
    let (kinds, drivers) = (with.kinds, with.drivers);
    let mut desired = desired(stack, kinds);
    let mut reach = reach(stack, &desired);
    let read_kinds = stages::discover(drivers, &desired, &mut reach, opts.all_kinds, with.zoned).await?;
    let live = stages::read(drivers, &read_kinds, &reach).await?;
    let mut problems = Problems::default();
    if !opts.destroy {
        stages::resolve(drivers, &mut desired, &mut problems).await?;
        stages::preflight(drivers, &desired, &mut problems).await?;
        if let Some(api) = with.managed_policies {
            let judged = managed_lint::lint(stack, api).await?;
            problems.errors.extend(judged.missing);
            problems.security = judged.findings;
        }
    }
    let mut plan = empty_plan(stack, opts, &reach.zones);
    let owner = stack.env.owner();
    let matching = Matching { owner: &owner, adopt: &stack.adopt, adopt_all: opts.adopt_all, allow_delete: &opts.allow_delete, destroy: opts.destroy };
    stages::match_kinds(kinds, matching, &desired, &live, &mut plan, &mut problems.errors);
    stages::index(&mut plan, &desired);
    if !opts.targets.is_empty() {
        stages::apply_targets(&mut plan, &opts.targets, &mut problems.errors);
    }
    if let Some(refused) = refusal(problems) {
        return Err(refused);
    }
    plan.changes.sort_by(|a, b| a.address.cmp(&b.address));
    plan.unchanged.sort();
    if opts.change_sets {
        stages::preview(drivers, &mut plan).await?;
    }
    stages::broadening(&mut plan, kinds);
    add_ceilings(&mut plan, stack, kinds, &desired, &live, opts.destroy).map_err(|e| match e {
        CeilingError::PriceBook(why) => PlanFailure::PriceBook(why),
        CeilingError::Refused(problems) => PlanFailure::Refused(problems),
    })?;
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

fn empty_plan(stack: &Stack, opts: &PlanOptions, zones: &[String]) -> Plan {
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
        gantry_version: opts.gantry_version.clone(),
        destroy: opts.destroy,
        changes: Vec::new(),
        unchanged: Vec::new(),
        fingerprints: BTreeMap::new(),
        index: BTreeMap::new(),
        warnings: Vec::new(),
        broadening: Vec::new(),
        waivers: stack.waivers.clone(),
        backend: stack.backend.clone(),
        // After a destroy nothing is left to show.
        outputs: if opts.destroy { Vec::new() } else { stack.outputs.iter().map(redact).collect() },
        inputs: opts.inputs.clone(),
        cost: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: &str) -> Diagnostic {
        Diagnostic::at("x", m)
    }

    #[test]
    fn errors_refuse_with_the_security_findings_and_findings_alone_are_security() {
        assert!(refusal(Problems::default()).is_none());
        let both = refusal(Problems { errors: vec![d("e")], security: vec![d("s")] });
        assert!(matches!(&both, Some(PlanFailure::Refused(all)) if all.len() == 2), "{both:?}");
        let security = refusal(Problems { errors: vec![], security: vec![d("s")] });
        assert!(matches!(&security, Some(PlanFailure::Security(all)) if all.len() == 1), "{security:?}");
    }
}
