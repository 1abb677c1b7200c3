//! Applying a saved plan. The file is never trusted for what it claims: it
//! was reviewed, so apply makes the plan again from the stack's files, live
//! state and its own command line, and goes ahead only when both agree.
//! Every safety fact (which resources the stack owns, `protect`, the lint of
//! each document, what widens access) is thereby derived now, never read
//! from the file. The file only narrows (`--target`, which variables and
//! workspace): what lifts a guard (`--adopt`, `--allow-delete`, a destroy,
//! `--allow-broadening`) must be on apply's own command line.

use super::{make_plan, Backend, Connect, OpsError, PlanRequest};
use crate::config::{LoadOptions, Loaded};
use crate::plan::{file, Plan};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// A plan file as read from disk.
pub struct SavedPlan {
    /// The plan it holds.
    pub plan: Plan,
    /// The first bytes of the file's SHA-256, in hex.
    pub hash: String,
}

/// What `gantry apply PLANFILE` (or `destroy PLANFILE`) was given itself.
#[derive(Debug, Clone, Default)]
pub struct ApplyGiven {
    /// `destroy PLANFILE`.
    pub destroy: bool,
    /// `--adopt`.
    pub adopt: bool,
    /// `--allow-delete` addresses.
    pub allow_delete: BTreeSet<String>,
    /// Variables, var files, workspace and file access as given to apply.
    pub load: LoadOptions,
}

impl SavedPlan {
    /// Reads and parses the file once, checking its signature when
    /// `GANTRY_PLAN_KEY` is set; a plan made by another gantry is refused
    /// (what it means could differ).
    pub fn open(path: &Path) -> Result<SavedPlan, OpsError> {
        use sha2::Digest;
        let bytes =
            crate::core::bounded::read_limited(path, crate::core::bounded::ARTIFACT_LIMIT).map_err(|e| file::PlanFileError::Read(path.to_path_buf(), e))?;
        let key = file::PlanKey::from_env()?;
        let plan = file::parse(&bytes, path, key.as_ref())?;
        if plan.gantry_version != crate::VERSION {
            return Err(OpsError::WrongVersion { planned: plan.gantry_version, current: crate::VERSION.to_string() });
        }
        let hash = sha2::Sha256::digest(&bytes).iter().take(6).map(|b| format!("{b:02x}")).collect();
        Ok(SavedPlan { plan, hash })
    }

    /// The request that makes this plan again: its targets, workspace and
    /// var files, with what apply itself was given. Refused when apply was
    /// not given a guard-lifting choice the plan was made with, or a
    /// variable it needs.
    pub fn request(&self, given: &ApplyGiven) -> Result<PlanRequest, OpsError> {
        let (plan, inputs) = (&self.plan, &self.plan.inputs);
        if plan.destroy && !given.destroy {
            return Err(OpsError::Usage("this is a destroy plan: apply it with `gantry destroy PLANFILE` (a plan file alone never deletes a stack)".into()));
        }
        if !plan.destroy && given.destroy {
            return Err(OpsError::Usage("this plan was not made with --destroy: apply it with `gantry apply PLANFILE`".into()));
        }
        if inputs.adopt_all && !given.adopt {
            return Err(OpsError::Usage("this plan was made with --adopt (it takes over resources no stack owns): apply it with --adopt too".into()));
        }
        let missing: Vec<&str> = inputs.allow_delete.iter().filter(|a| !given.allow_delete.contains(*a)).map(String::as_str).collect();
        if !missing.is_empty() {
            return Err(OpsError::Usage(format!(
                "this plan was made with --allow-delete {}: apply it with the same (deleting a protected resource is confirmed where it is applied)",
                missing.join(" --allow-delete ")
            )));
        }
        let given_vars: BTreeSet<&str> = given.load.vars.iter().filter_map(|v| v.split_once('=')).map(|(n, _)| n).collect();
        let unset: Vec<&str> = inputs.var_names.iter().map(String::as_str).filter(|n| !given_vars.contains(n)).collect();
        if !unset.is_empty() {
            return Err(OpsError::Usage(format!(
                "this plan was made with --var {}: give the same values again (a plan file keeps no variable value)",
                unset.join(", --var ")
            )));
        }
        if given.load.workspace.as_ref().is_some_and(|w| Some(w) != inputs.workspace.as_ref()) {
            return Err(OpsError::Usage(format!(
                "this plan was made for workspace {}, not {}",
                inputs.workspace.as_deref().unwrap_or("(none)"),
                given.load.workspace.as_deref().unwrap_or_default()
            )));
        }
        let mut load = given.load.clone();
        load.workspace = inputs.workspace.clone();
        if load.var_files.is_empty() {
            load.var_files = inputs.var_files.clone();
        }
        Ok(PlanRequest {
            dir: plan.dir.clone(),
            load,
            targets: inputs.targets.clone(),
            destroy: plan.destroy,
            adopt_all: given.adopt,
            allow_delete: given.allow_delete.clone(),
            change_sets: false,
            all_kinds: inputs.all_kinds,
        })
    }

    /// Makes the plan again and returns it when it agrees with the saved
    /// one; the loaded files come back for their diagnostics.
    pub async fn remake(&self, given: &ApplyGiven, connect: &dyn Connect) -> (Option<Loaded>, Result<(Plan, Arc<dyn Backend>), OpsError>) {
        let req = match self.request(given) {
            Ok(r) => r,
            Err(e) => return (None, Err(e)),
        };
        let (loaded, result) = make_plan(&req, connect).await;
        let result = result.and_then(|(fresh, backend)| agree(&self.plan, &fresh).map(|()| (fresh, backend)));
        (Some(loaded), result)
    }
}

/// Whether a plan made now agrees with the saved one: the same account,
/// the same live state (fingerprints), and the same plan in every field but
/// display-only notes. Pure, so each disagreement is unit-tested.
pub(super) fn agree(saved: &Plan, fresh: &Plan) -> Result<(), OpsError> {
    if saved.account_id != fresh.account_id {
        return Err(OpsError::WrongAccount { planned: saved.account_id.clone(), current: fresh.account_id.clone() });
    }
    let addresses: BTreeSet<&String> = saved.fingerprints.keys().chain(fresh.fingerprints.keys()).collect();
    let stale: Vec<String> = addresses.into_iter().filter(|a| saved.fingerprints.get(*a) != fresh.fingerprints.get(*a)).cloned().collect();
    if !stale.is_empty() {
        return Err(OpsError::Stale(stale));
    }
    let mut differ = Vec::new();
    let changes = |p: &Plan| -> BTreeMap<String, serde_json::Value> {
        p.changes
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.notes.clear();
                (c.address.clone(), serde_json::to_value(c).unwrap_or_default())
            })
            .collect()
    };
    let (was, now) = (changes(saved), changes(fresh));
    for address in was.keys().chain(now.keys()).collect::<BTreeSet<_>>() {
        match (was.get(address), now.get(address)) {
            (Some(_), None) => differ.push(format!("{address} (no longer planned)")),
            (None, Some(_)) => differ.push(format!("{address} (not in the saved plan)")),
            (Some(a), Some(b)) if a != b => differ.push(format!("{address} ({})", first_difference(a, b))),
            _ => {}
        }
    }
    let rest = |p: &Plan| -> BTreeMap<String, serde_json::Value> {
        let mut v = serde_json::to_value(p).unwrap_or_default();
        let map = v.as_object_mut().map(std::mem::take).unwrap_or_default();
        // Compared above, or apply's own (checked where given).
        map.into_iter().filter(|(k, _)| !matches!(k.as_str(), "changes" | "fingerprints" | "inputs" | "gantry_version")).collect()
    };
    let (was, now) = (rest(saved), rest(fresh));
    for (field, value) in &was {
        if now.get(field) != Some(value) {
            differ.push(format!("the plan's {field}"));
        }
    }
    if differ.is_empty() {
        Ok(())
    } else {
        Err(OpsError::Mismatch(differ))
    }
}

/// The first top-level field in which two changes differ.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value) -> String {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return "differs".into() };
    a.keys().chain(b.keys()).find(|k| a.get(*k) != b.get(*k)).map(|k| format!("{k} differs")).unwrap_or_else(|| "differs".into())
}

#[cfg(test)]
#[path = "saved_tests.rs"]
mod tests;
