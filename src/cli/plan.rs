//! `gantry plan`: read live state, print what apply would do; and
//! `gantry show PLANFILE`: print a saved plan.

use super::output::Output;
use super::validate::load_options;
use super::{PlanScope, EXIT_CHANGES, EXIT_ERROR, EXIT_OK};
use crate::ops::{make_plan, Connect, PlanRequest};
use crate::plan::{file, json, text};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(super) struct PlanArgs {
    pub dir: PathBuf,
    pub out_file: Option<PathBuf>,
    pub json: bool,
    pub detailed_exitcode: bool,
    pub destroy: bool,
    pub adopt: bool,
    pub change_sets: bool,
    pub scope: PlanScope,
}

pub(super) async fn run(out: &Output, a: PlanArgs, connect: &dyn Connect) -> i32 {
    let started = Instant::now();
    let req = PlanRequest {
        dir: a.dir,
        load: load_options(&a.scope.vars),
        targets: a.scope.targets,
        destroy: a.destroy,
        adopt_all: a.adopt,
        change_sets: a.change_sets,
        all_kinds: a.scope.all_kinds,
        allow_delete: a.scope.allow_delete.into_iter().collect(),
    };
    let (loaded, result) = make_plan(&req, connect).await;
    out.diagnostics(&loaded);
    let code = match result {
        Err(e) => out.error(&e),
        Ok((plan, _)) => {
            if a.json {
                crate::outln!("{}", serde_json::to_string_pretty(&json::render(&plan)).unwrap_or_default());
            } else {
                crate::out!("{}", text::render(&plan, out.style));
            }
            if let Some(path) = &a.out_file {
                let saved = file::PlanKey::from_env().and_then(|key| file::save(&plan, path, key.as_ref()));
                match saved {
                    Ok(()) if !a.json => crate::outln!("\nSaved the plan to {}. To apply exactly this plan: gantry apply {}", path.display(), path.display()),
                    Ok(()) => {}
                    Err(e) => {
                        crate::errln!("{} {e}", out.err_style.red("Error:"));
                        return EXIT_ERROR;
                    }
                }
            }
            if a.detailed_exitcode && !plan.is_empty() {
                EXIT_CHANGES
            } else {
                EXIT_OK
            }
        }
    };
    out.stats(&connect.stats(), started.elapsed(), a.scope.stats);
    code
}

/// `gantry show PLANFILE`.
pub(super) fn show(out: &Output, path: &Path, as_json: bool) -> i32 {
    match file::PlanKey::from_env().and_then(|key| file::load(path, key.as_ref())) {
        Ok(plan) => {
            if as_json {
                crate::outln!("{}", serde_json::to_string_pretty(&json::render(&plan)).unwrap_or_default());
            } else {
                crate::out!("{}", text::render(&plan, out.style));
            }
            EXIT_OK
        }
        Err(e) => {
            crate::errln!("{} {e}", out.err_style.red("Error:"));
            EXIT_ERROR
        }
    }
}
