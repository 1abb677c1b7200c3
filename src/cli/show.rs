//! `gantry show PLANFILE`: print a saved plan.

use super::output::Output;
use super::{EXIT_ERROR, EXIT_OK};
use crate::plan::{file, json, text};
use std::path::Path;

pub fn run(out: &Output, path: &Path, as_json: bool) -> i32 {
    match file::load(path) {
        Ok(plan) => {
            if as_json {
                println!("{}", serde_json::to_string_pretty(&json::render(&plan)).unwrap_or_default());
            } else {
                print!("{}", text::render(&plan, out.style));
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("{} {e}", out.err_style.red("Error:"));
            EXIT_ERROR
        }
    }
}
