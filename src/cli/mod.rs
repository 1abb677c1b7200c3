//! Command-line interface: one file per command, each a thin layer over
//! `ops`. Exit codes are documented in `--help` (see [`EXIT_CODES`]).

mod apply;
pub mod docs;
mod fmt;
mod info;
mod output;
mod outputs;
mod plan;
mod prices;
mod progress;
mod runner;
mod scaler;
mod simulate;
mod unlock;
mod validate;

use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// Exit codes, as printed in `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (plan: no changes, unless --detailed-exitcode says otherwise)
  1  error: bad stack files, cloud errors, refused or stale plans, a failed apply
  2  plan --detailed-exitcode: success, and there are changes
  3  plan refused by a security rule
  130  apply or destroy stopped by SIGINT/SIGTERM (the lock released)";

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: any error.
pub const EXIT_ERROR: i32 = 1;
/// Exit code: changes present (`--detailed-exitcode`).
pub const EXIT_CHANGES: i32 = 2;
/// Exit code: refused by a security rule.
pub const EXIT_SECURITY: i32 = 3;
/// Exit code: stopped by a signal (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

const ABOUT: &str = "Declarative infrastructure for ML CI fleets: ECR repositories, GitHub OIDC roles, \
autoscaling agent queues, TPU/GPU nodes. gantry reads *.gantry.hcl stack files, compares them \
with what is live in the cloud (no state file: ownership is read from tags), prints a plan you \
can review, and applies it.";

const AFTER_HELP: &str = "\
Typical use:
  gantry validate stacks/demo          check files, all problems at once
  gantry plan stacks/demo -out demo.plan
  gantry apply demo.plan               apply exactly what was reviewed (refused if stale)

Credentials and endpoints come from the usual AWS places (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO,
instance roles); AWS_ENDPOINT_URL points every service at an emulator.";

#[derive(Parser, Debug)]
#[command(name = "gantry", version, about = ABOUT, after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES}"))]
pub(crate) struct Cli {
    /// More logging (repeat for more); also prints API call statistics.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Never use colour (also honoured: NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Whether gantry may ask questions on a terminal; --input=false makes a
    /// confirmation a refusal instead (as in Terraform; gantry never asks for variables).
    #[arg(long, global = true, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_value_t = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub input: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// What a plan covers: the flags `plan`, `apply` and `destroy` share.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct PlanScope {
    /// Limit to these addresses (KIND.NAME or KIND.NAME[KEY]); a create or update brings what
    /// it depends on along.
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Read every kind fully, even those the files do not use (a plan already finds what
    /// the stack owns of those by tag, and reads them then; needs read permission for every kind).
    #[arg(long)]
    pub all_kinds: bool,
    /// Let the plan delete this protected resource (KIND.NAME; protection is recorded on the
    /// resource, so a removed block or destroy never deletes it otherwise). Repeatable.
    #[arg(long = "allow-delete", value_name = "ADDR")]
    pub allow_delete: Vec<String>,
    /// Print API calls per service and wall time.
    #[arg(long)]
    pub stats: bool,
    #[command(flatten)]
    pub vars: VarArgs,
}

/// How changes are made: the flags `apply` and `destroy` share.
#[derive(Args, Debug, Clone)]
pub(crate) struct ApplyControl {
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// How many changes run at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
}

/// Variable inputs shared by commands that evaluate a stack.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct VarArgs {
    /// Set a variable: NAME=VALUE (repeatable; also -var NAME=VALUE).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a file of NAME = VALUE lines (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// Another environment from the same files: the stack becomes NAME-WORKSPACE
    /// (its own resources, lock and derived names; `stack.workspace` in expressions).
    #[arg(long, value_name = "WORKSPACE", env = "GANTRY_WORKSPACE")]
    pub workspace: Option<String>,
    /// Read files the stack names (policy, var, template and artifact files) outside the
    /// repository too. Off by default so that a plan of a pull request cannot read the
    /// runner's files; for local use only.
    #[arg(long, env = "GANTRY_ALLOW_OUTSIDE_FILES")]
    pub allow_outside_files: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// GitHub Actions runners on Google Cloud nodes (see `gantry runner wake --help`).
    #[command(subcommand)]
    Runner(runner::RunnerCommand),
    /// Price books for cost ceilings and simulate (see `gantry prices update --help`).
    #[command(subcommand)]
    Prices(prices::PricesCommand),
    /// Check stack files: syntax, types, references, cycles. Reports every problem at once.
    Validate {
        /// Stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Print diagnostics as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Show the stack's output values, evaluated against the live account (no state file:
    /// an output of a resource not created yet is left out, with a warning).
    Output {
        /// Only this output, as a value (sensitive ones too).
        name: Option<String>,
        /// Stack directory.
        #[arg(long, short = 'd', default_value = ".")]
        dir: PathBuf,
        /// Print as JSON ({"NAME": {"sensitive", "type", "value"}}, as Terraform does).
        #[arg(long)]
        json: bool,
        /// With NAME: print a string, number or bool as is (no quotes, no newline).
        #[arg(long, requires = "name")]
        raw: bool,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Rewrite stack files in canonical style (indentation, aligned `=`).
    Fmt {
        /// Stack directory (or a single file).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Change nothing; exit 1 and list files that need formatting.
        #[arg(long)]
        check: bool,
        /// Also format stack files in every subdirectory.
        #[arg(long)]
        recursive: bool,
    },
    /// Show what apply would change, reading live state from the cloud.
    #[command(after_help = "With --detailed-exitcode: 0 no changes, 1 error, 2 changes present.")]
    Plan {
        /// Stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Save the plan to FILE for `gantry apply FILE` (also -out=FILE).
        #[arg(long = "out", short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print the plan as JSON (schema: format_version 1, see README).
        #[arg(long)]
        json: bool,
        /// Exit 2 when there are changes.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Plan the deletion of everything the stack owns.
        #[arg(long)]
        destroy: bool,
        /// Take ownership of existing unmanaged resources whose names clash.
        #[arg(long)]
        adopt: bool,
        /// For agent queues, create a CloudFormation change set per update to show which
        /// resources CloudFormation would modify or replace, then delete it.
        #[arg(long)]
        change_sets: bool,
        #[command(flatten)]
        scope: PlanScope,
    },
    /// Apply a stack directory (plan, confirm, apply) or a saved plan file.
    Apply {
        /// Stack directory or saved plan file. A saved plan is made again from the files and
        /// live state and applied only if both agree; `--adopt`, `--allow-delete` and variables
        /// it was made with must be given again.
        #[arg(default_value = ".")]
        target: PathBuf,
        #[command(flatten)]
        control: ApplyControl,
        /// Take ownership of existing unmanaged resources whose names clash.
        #[arg(long)]
        adopt: bool,
        /// Accept changes that widen who may assume a role or what it may do (for CI, after review).
        #[arg(long)]
        allow_broadening: bool,
        #[command(flatten)]
        scope: PlanScope,
    },
    /// Delete everything the stack owns (resources of other stacks and unmanaged ones are never touched).
    Destroy {
        /// Stack directory, or a destroy plan saved with `gantry plan -destroy -out FILE`.
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        control: ApplyControl,
        #[command(flatten)]
        scope: PlanScope,
    },
    /// Print a saved plan.
    Show {
        /// A plan saved with `gantry plan -out FILE`.
        plan_file: PathBuf,
        /// Print the plan as JSON (the same schema as plan --json).
        #[arg(long)]
        json: bool,
    },
    /// Print gantry's version (and, with --json, its platform and bundled scaler).
    Version {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script: gantry completions bash > /etc/bash_completion.d/gantry
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): gantry man > gantry.1
    Man,
    /// Print the stack-file reference for every resource kind (Markdown, from the schemas).
    Docs,
    /// Show where the scaler bundled with this gantry is (building it once from a source checkout).
    Scaler {
        /// Lambda architectures to locate.
        #[arg(long = "arch", value_name = "ARCH", default_values_t = ["arm64".to_string()], value_parser = ["arm64", "x86_64"])]
        arches: Vec<String>,
    },
    /// Replay demand through a queue's scaler (its own decision code): job waits, instance-hours
    /// and cost, as written and with --set changes side by side, and a picture (--svg).
    Simulate(simulate::SimulateArgs),
    /// Remove a stuck lock (after making sure no apply is running).
    ForceUnlock {
        /// The id printed in the "stack is locked" message.
        lock_id: String,
        /// Stack directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

/// Accepts Terraform's single-dash spellings of long flags (`-out=F`,
/// `-var k=v`, `-no-color`, `-input=false`, ...): any `-NAME[=VALUE]` whose
/// NAME is a long flag of some gantry command. Short flags (`-v`, `-vv`,
/// `-o`) are single letters and stay as they are.
fn normalize_args(args: Vec<OsString>) -> Vec<OsString> {
    fn walk(cmd: &clap::Command, out: &mut std::collections::BTreeSet<String>) {
        out.extend(cmd.get_arguments().filter_map(|a| a.get_long()).map(String::from));
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut longs = std::collections::BTreeSet::new();
    walk(&command(), &mut longs);
    let mut after_separator = false;
    args.into_iter()
        .map(|a| {
            after_separator |= a == "--";
            let Some(s) = a.to_str().filter(|_| !after_separator) else { return a };
            if let Some(rest) = s.strip_prefix('-').filter(|r| !r.starts_with('-')) {
                let name = rest.split('=').next().unwrap_or("");
                if name.len() > 1 && longs.contains(name) {
                    return OsString::from(format!("-{s}"));
                }
            }
            a
        })
        .collect()
}

/// The full command-line definition (for completions, the man page, tests).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Entry point used by `main` (and CLI tests): returns the exit code.
pub fn main_with_args(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(normalize_args(args)) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
        }
    };
    let filter = match cli.verbose {
        0 => "warn",
        1 => "info,aws_smithy_runtime=warn,aws_config=warn",
        _ => "debug",
    };
    let out = output::Output::new(cli.no_color, cli.verbose, cli.input);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("GANTRY_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)))
        .with_writer(std::io::stderr)
        // Log lines follow the same colour rule as everything else (--no-color, NO_COLOR, a terminal).
        .with_ansi(out.err_style.color)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            crate::errln!("error: cannot start the async runtime: {e}");
            return EXIT_ERROR;
        }
    };
    // The real clouds; the commands receive their connection.
    let connect = crate::ops::AwsConnect::default();
    let code = runtime.block_on(run(cli.command, out, &connect));
    // Not waiting for blocking work left behind: a prompt's read of stdin
    // after Ctrl-C stopped the apply would otherwise hold the exit until Enter.
    runtime.shutdown_background();
    code
}

async fn run(command: Command, out: output::Output, connect: &dyn crate::ops::Connect) -> i32 {
    match command {
        Command::Validate { dir, json, vars } => validate::run(&out, &dir, json, &vars),
        Command::Fmt { dir, check, recursive } => fmt::run(&out, &dir, check, recursive),
        Command::Plan { dir, out: out_file, json, detailed_exitcode, destroy, adopt, change_sets, scope } => {
            let args = plan::PlanArgs { dir, out_file, json, detailed_exitcode, destroy, adopt, change_sets, scope };
            plan::run(&out, args, connect).await
        }
        Command::Apply { target, control, adopt, allow_broadening, scope } => {
            let args = apply::ApplyArgs {
                target,
                auto_approve: control.auto_approve,
                parallelism: control.parallelism as usize,
                adopt,
                allow_broadening,
                destroy: false,
                scope,
            };
            apply::run(&out, args, connect).await
        }
        Command::Destroy { dir, control, scope } => {
            let args = apply::ApplyArgs {
                target: dir,
                auto_approve: control.auto_approve,
                parallelism: control.parallelism as usize,
                adopt: false,
                allow_broadening: false,
                destroy: true,
                scope,
            };
            apply::run(&out, args, connect).await
        }
        Command::Output { name, dir, json, raw, vars } => outputs::run(&out, outputs::OutputArgs { dir, name, json, raw, vars }, connect).await,
        Command::Show { plan_file, json } => plan::show(&out, &plan_file, json),
        Command::Version { json } => info::version(json),
        Command::Completions { shell } => info::completions(shell),
        Command::Man => info::man(),
        Command::ForceUnlock { lock_id, dir } => unlock::run(&out, &dir, &lock_id).await,
        Command::Docs => docs::run(),
        Command::Scaler { arches } => scaler::run(&out, &arches),
        Command::Simulate(args) => simulate::run(&out, args).await,
        Command::Runner(cmd) => runner::run(&out, cmd).await,
        Command::Prices(cmd) => prices::run(&out, cmd, connect.stats()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_style_flags_are_accepted() {
        let args: Vec<OsString> = ["gantry", "plan", "-out=x.plan", "-var", "a=b", "--json"].iter().map(OsString::from).collect();
        let n = normalize_args(args);
        assert_eq!(n[2], OsString::from("--out=x.plan"));
        assert_eq!(n[3], OsString::from("--var"));
        assert_eq!(n[5], OsString::from("--json"));
    }

    #[test]
    fn clap_definition_is_valid() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
