//! `gantry runner wake`: the thin CLI over `ops::runner_wake`. Meant for a
//! job on a GitHub-hosted runner, after google-github-actions/auth (GitHub
//! OIDC → workload identity federation), with the GitHub App's id,
//! installation id and key from the repository's secrets.

use super::output::Output;
use super::{EXIT_ERROR, EXIT_OK};
use crate::cloud::gcp::GcpContext;
use crate::ops::runner_wake;
use clap::Subcommand;
use gantry_scaler::github::app::AppCredentials;
use gantry_scaler::github::rest::RestGithub;
use gantry_scaler_env::github::GithubEnv;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub(crate) enum RunnerCommand {
    /// Start a stopped runner node when a job for its labels is queued: register a
    /// just-in-time runner, leave its one-job configuration in the node's metadata,
    /// start the node; with --queued-timeout, cancel runs whose job stays queued.
    Wake {
        /// The node (a gpu_node's instance name).
        node: String,
        /// Google Cloud project.
        #[arg(long, env = "GANTRY_GCP_PROJECT")]
        project: String,
        /// Zone of the node.
        #[arg(long)]
        zone: String,
        /// Wait until the queued jobs are picked up; cancel the runs of jobs queued longer than this (e.g. 30m).
        #[arg(long, value_parser = humantime::parse_duration)]
        queued_timeout: Option<Duration>,
        /// With --queued-timeout: how often to look at the queued jobs, at least (slower when the installation's rate budget is low).
        #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
        poll: Duration,
        /// GitHub App id.
        #[arg(long, env = "GANTRY_GITHUB_APP_ID")]
        app_id: String,
        /// GitHub App installation id.
        #[arg(long, env = "GANTRY_GITHUB_INSTALLATION_ID")]
        installation_id: String,
        /// The App's private key (PEM); from the environment only.
        #[arg(long, env = "GANTRY_GITHUB_APP_KEY", hide_env_values = true, hide = true)]
        app_key: String,
        /// GitHub REST API (GitHub Enterprise Server: https://HOST/api/v3).
        #[arg(long, env = "GANTRY_GITHUB_API", default_value = gantry_scaler_env::github::defaults::GITHUB_API)]
        github_api: String,
    },
}

pub(super) async fn run(out: &Output, cmd: RunnerCommand) -> i32 {
    let RunnerCommand::Wake { node, project, zone, queued_timeout, poll, app_id, installation_id, app_key, github_api } = cmd;
    let error = |m: String| {
        crate::errln!("{} {m}", out.err_style.red("Error:"));
        EXIT_ERROR
    };
    let stats = crate::cloud::stats::ApiStats::new();
    let gcp = match GcpContext::connect(&project, stats).await {
        Ok(g) => g,
        Err(e) => return error(e.to_string()),
    };
    let n = match runner_wake::read_node(&gcp, &zone, &node).await {
        Ok(n) => n,
        Err(e) => return error(e.to_string()),
    };
    let values: BTreeMap<String, String> = [("app_id", app_id), ("installation_id", installation_id), ("private_key", app_key), ("webhook_secret", "-".into())]
        .map(|(k, v)| (k.to_string(), v))
        .into();
    let creds = match AppCredentials::from_parameters(&values, "GANTRY_GITHUB") {
        Ok(c) => c,
        Err(e) => return error(e.to_string().replace("SSM parameter GANTRY_GITHUB/", "GANTRY_GITHUB_")),
    };
    let mut env = GithubEnv::new(n.scope.clone(), n.labels.clone(), &node, "/unused", "/unused", "/unused");
    env.api = github_api.trim_end_matches('/').to_string();
    env.repositories = n.repositories.clone();
    let api = match RestGithub::new(&env, creds) {
        Ok(a) => a,
        Err(e) => return error(e.to_string()),
    };
    let say = |m: String| crate::outln!("gantry runner wake: {m}");
    match runner_wake::wake(&api, &gcp, &zone, &node, queued_timeout, poll.max(Duration::from_secs(1)), &say).await {
        Ok(r) if !r.cancelled.is_empty() => {
            say(format!("cancelled {} run(s) whose job stayed queued", r.cancelled.len()));
            EXIT_OK
        }
        Ok(_) => EXIT_OK,
        Err(e) => error(e.to_string()),
    }
}
