//! `gantry force-unlock LOCK_ID`: remove a stuck local lock.

use super::output::Output;
use super::{EXIT_ERROR, EXIT_OK};
use crate::ops::locking;
use std::path::Path;

pub(super) async fn run(out: &Output, dir: &Path, id: &str) -> i32 {
    let (backend, region) = locking::stack_backend(dir);
    match locking::force_unlock(dir, backend.as_ref(), &region, id).await {
        Ok(info) => {
            crate::outln!("Lock {} ({} by {} on {}, since {}) removed.", info.id, info.operation, info.user, info.host, info.created);
            EXIT_OK
        }
        Err(e) => {
            crate::errln!("{} {e}", out.err_style.red("Error:"));
            EXIT_ERROR
        }
    }
}
