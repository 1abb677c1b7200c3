//! `gantry force-unlock LOCK_ID`: remove a stuck local lock.

use super::output::Output;
use super::{EXIT_ERROR, EXIT_OK};
use crate::engine::lock;
use std::path::Path;

pub fn run(out: &Output, dir: &Path, id: &str) -> i32 {
    match lock::force_unlock(dir, id) {
        Ok(info) => {
            println!("Lock {} ({} by {} on {}, since {}) removed.", info.id, info.operation, info.user, info.host, info.created);
            EXIT_OK
        }
        Err(e) => {
            eprintln!("{} {e}", out.err_style.red("Error:"));
            EXIT_ERROR
        }
    }
}
