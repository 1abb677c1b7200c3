//! gantry's core: what every layer shares and no cloud touches. The stack
//! language (`config`: files into typed resources, with diagnostics), the types
//! of a kind's contract and its state (`core`), the planner, the apply
//! walker and the locks (`engine`), the plan's renderers and saved files
//! (`plan`), the security lint and policy analysis (`lint`, `policy`) and
//! the cost ceilings (`cost`), and each kind's pure half (`kinds`: typed
//! block, rules, desired state, outputs, the scripts its machines run). No
//! AWS or Google SDK is in this crate's dependency tree (`cargo tree -p
//! gantry-core`): the SDKs live in the clouds' crates (gantry-aws,
//! gantry-gcp: clients, drivers, the data sources' reads over
//! [`lookup_api`]), and the `gantry` crate hands the language its
//! vocabulary ([`config::Language`]).

// Every public item says what it is (CI's -D warnings makes this an error).
#![warn(missing_docs)]

// Output macros: best-effort terminal writes (a closed pipe is no reason to
// crash), shared by every crate of the workspace.
/// `println!` that ignores a closed stdout (`gantry plan | head -1`):
/// output is best-effort, the work (an apply, the lock's release) goes on.
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `crate::errln!` that ignores a closed stderr (`gantry plan 2>&-`): a
/// diagnostic that cannot be shown is no reason to crash (exit 101).
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// `crate::err!` that ignores a closed stderr (see [`errln!`]).
#[macro_export]
macro_rules! err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($t)*);
    }};
}

/// `print!` that ignores a closed stdout (see [`outln!`]).
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

pub mod config;
pub mod core;
pub mod cost;
pub mod engine;
pub mod kinds;
pub mod lint;
pub mod lookup_api;
pub mod plan;
pub mod policy;
