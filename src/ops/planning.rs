//! Making a plan: the stack block read first (where to connect), the
//! cloud connected, the stack evaluated with its data blocks, then the
//! stages of `plan_stages`; and applying one.

use super::{Backend, Connect, OpsError, Target};
use crate::config::{load_dir, read_settings, Language, LoadOptions, Loaded};
use crate::engine::apply::{apply, ApplyReport, Cancel, Progress};
use crate::plan::Plan;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// What to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    /// The stack directory.
    pub dir: PathBuf,
    /// Variables, workspace and file access.
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
    let lang = &super::language();
    // Only the stack block first (no network yet): where to connect. The
    // stack is then evaluated once, with the account id its ARNs need.
    let (first, settings) = read_settings(&req.dir, &req.load, lang);
    let Some((settings, used)) = settings else {
        let e = OpsError::config(&first);
        return (first, Err(e));
    };
    let is_gcp = |k: &&str| crate::kinds::is_gcp(k);
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
            return match offline_errors(req, lang) {
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
    // A destroy deploys nothing: no scaler is looked for (or built).
    load.bundled = (!req.destroy).then(|| Arc::new(super::bundled_scaler::BundledScaler) as Arc<dyn crate::core::Bundled>);
    let loaded = match load_with_data(&req.dir, load, lang, backend.as_ref(), &account).await {
        Ok(l) => l,
        Err(e) => return (first, Err(e)),
    };
    let Some(stack) = loaded.stack.clone() else {
        let e = OpsError::config(&loaded);
        return (loaded, Err(e));
    };
    let result = super::plan_stages::plan_stack(&stack, &lang.kinds, backend.clone(), req).await.map(|p| (p, backend));
    (loaded, result)
}

/// Evaluates the stack, reading its `data` blocks first: each evaluation
/// names the data blocks it could not yet give values to; those are read
/// (concurrently) and the stack evaluated again, until none is left (a
/// data block may use another's value, so this can take a few rounds).
async fn load_with_data(dir: &std::path::Path, mut load: LoadOptions, lang: &Language, backend: &dyn Backend, account: &str) -> Result<Loaded, OpsError> {
    // Lookup clients only for a stack that has data blocks to read.
    let mut apis: Option<crate::lookups::LookupApis> = None;
    let mut values = BTreeMap::new();
    loop {
        load.data = Some(values.clone());
        let loaded = load_dir(dir, &load, lang);
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
fn offline_errors(req: &PlanRequest, lang: &Language) -> Option<Loaded> {
    let loaded = load_dir(&req.dir, &req.load, lang);
    loaded.diags.has_errors().then_some(loaded)
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
