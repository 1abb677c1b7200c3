//! The `gantry` binary: parse arguments, run one command, map the result to
//! an exit code (see `gantry --help`).

fn main() {
    let code = gantry::cli::main_with_args(std::env::args_os().collect());
    std::process::exit(code);
}
