//! What an `agent { }` or `runner { }` block on a Google Cloud node adds
//! to its machine besides the agent: build secrets from Secret Manager,
//! Docker credentials for Artifact Registry, and the user's own setup shell.
//!
//! ```hcl
//! agent {
//!   queue             = "tpu_v6e_queue"
//!   token_secret      = "bk-agent-token"
//!   secrets           = { HF_TOKEN = "hf-token" }
//!   docker_registries = ["us-docker.pkg.dev"]
//!   setup             = "pip install -U 'jax[tpu]'"
//! }
//! ```
//!
//! - **secrets** (`NAME = "SECRET"` or `"projects/P/secrets/SECRET"`): read
//!   at every boot with the node's service account into files only root
//!   and the agent's user can read, exported into each job's environment
//!   (the Buildkite environment hook; the runner's job-started hook writing
//!   `GITHUB_ENV`), and masked in job logs (the agent's `redacted-vars`; the
//!   runner's `::add-mask::`). Metadata, the plan and the boot log hold only
//!   the names, as `agent_secrets` does on AWS. The service account needs
//!   `roles/secretmanager.secretAccessor` on each secret.
//! - **docker_registries** (Artifact Registry hosts): Docker asks a
//!   credential helper gantry installs, which answers with the machine's
//!   service-account token as the `oauth2accesstoken` user ("Configure
//!   authentication to Artifact Registry for Docker", access token method).
//!   gcloud's own helper is not used: on Ubuntu images gcloud is a snap and
//!   `docker-credential-gcloud` is not on a job's PATH.
//! - **setup**: shell run as root at every boot after the above and before
//!   the agent starts; a failure stops the boot (the log says so), so no
//!   job lands on a half-prepared machine. It is in the node's metadata,
//!   which the machine's jobs can read: never put a secret in it.

use crate::core::Diagnostic;
use crate::kinds::common::job_secrets::{self, SECRETS_DIR};
use gantry_schema_derive::Schema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// What both blocks add besides the agent or runner (each flattens it).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Schema)]
#[serde(default)]
pub struct Extras {
    /// Build secrets: NAME = Secret Manager secret (ID or projects/P/secrets/ID), read at boot into root-only files, exported to each job and masked in its log; only names reach metadata and the plan.
    #[schema(default = empty)]
    pub secrets: BTreeMap<String, String>,
    /// Artifact Registry hosts (e.g. us-docker.pkg.dev) Docker logs in to with the machine's service account.
    #[schema(default = empty)]
    pub docker_registries: Vec<String>,
    /// Shell run as root at every boot before the agent starts (in metadata, readable by jobs: no secrets).
    pub setup: Option<String>,
}

/// The credential helper's name: Docker runs `docker-credential-NAME`.
pub const HELPER: &str = "gantry-gcr";

/// Who runs the jobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Runs {
    /// A Buildkite agent.
    Buildkite,
    /// A GitHub Actions runner.
    Actions,
}

impl Runs {
    fn user(self) -> &'static str {
        match self {
            Runs::Buildkite => "buildkite-agent",
            Runs::Actions => "runner",
        }
    }
}

/// A Secret Manager secret ID (letters, digits, - and _, at most 255),
/// alone or as `projects/PROJECT/secrets/ID` (another project's).
pub fn valid_secret(s: &str) -> bool {
    let id_ok = |id: &str| !id.is_empty() && id.len() <= 255 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match s.split('/').collect::<Vec<_>>().as_slice() {
        [id] => id_ok(id),
        ["projects", project, "secrets", id] => {
            !project.is_empty() && project.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') && id_ok(id)
        }
        _ => false,
    }
}

/// Artifact Registry's Docker hosts (`LOCATION-docker.pkg.dev`) and the
/// Container Registry hosts it serves (`gcr.io`, `us.gcr.io`, ...).
pub fn valid_registry(h: &str) -> bool {
    let location = h.strip_suffix("-docker.pkg.dev");
    location.is_some_and(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        || ["gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io"].contains(&h)
}

/// Problems with a block's secrets, registries and setup (`prefix`: the block's name).
pub fn check(block: &Extras, prefix: &str) -> Vec<Diagnostic> {
    let p = |a: &str, m: String| Diagnostic::attr(&format!("{prefix}.{a}"), m);
    let mut out = Vec::new();
    for (name, secret) in &block.secrets {
        if !job_secrets::valid_name(name) {
            out.push(p("secrets", format!("\"{name}\" is not an environment variable name (A-Z, 0-9, _)")));
        }
        if !valid_secret(secret) {
            out.push(p(
                "secrets",
                format!("{name}: \"{secret}\" is not a Secret Manager secret (an ID of letters, digits, - and _, or projects/PROJECT/secrets/ID)"),
            ));
        }
    }
    for host in &block.docker_registries {
        if !valid_registry(host) {
            out.push(p(
                "docker_registries",
                format!("\"{host}\" is not an Artifact Registry Docker host (LOCATION-docker.pkg.dev, or gcr.io and its regional hosts)"),
            ));
        }
    }
    out
}

/// The delimiter of the setup heredoc: derived from the text, so the text
/// cannot end the heredoc early.
fn delimiter(setup: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(setup.as_bytes());
    format!("GANTRY_SETUP_{}", digest.iter().take(6).map(|b| format!("{b:02x}")).collect::<String>())
}

/// The startup-script lines for the block (empty when it asks for nothing).
pub fn render(block: &Extras, runs: Runs) -> String {
    let user = runs.user();
    let secrets = &block.secrets;
    let mut s = String::new();
    s.push_str(&format!(
        "\n# Build secrets: read at every boot into files only root and {user} can\n\
         # read; a secret removed from the block is gone after the next boot.\n\
         rm -rf {SECRETS_DIR}\n"
    ));
    if !secrets.is_empty() {
        s.push_str(&format!("install -d -m 700 -o {user} -g \"$(id -gn {user})\" {SECRETS_DIR}\n"));
        for (name, secret) in secrets {
            s.push_str(&format!("(umask 077 && gcloud secrets versions access latest --secret='{secret}' > {SECRETS_DIR}/{name})\n"));
        }
        s.push_str(&format!("chown {user}: {SECRETS_DIR}/*\nchmod 400 {SECRETS_DIR}/*\n"));
    }
    s.push_str(&match runs {
        Runs::Buildkite => buildkite_hook(secrets),
        Runs::Actions => actions_hook(secrets),
    });
    let hosts = &block.docker_registries;
    if !hosts.is_empty() {
        s.push_str(&include_str!("docker_login.sh").replace("{{USER}}", user).replace("{{HELPER}}", HELPER).replace("{{HOSTS}}", &hosts.join(" ")));
    }
    if let Some(setup) = block.setup.as_deref().filter(|t| !t.trim().is_empty()) {
        let end = delimiter(setup);
        s.push_str(&format!(
            "\n# The block's setup, as root, before {user} starts.\ninstall -d -m 755 /var/lib/gantry\n(umask 077 && cat > /var/lib/gantry/setup.sh) <<'{end}'\n{}\n{end}\n\
             if ! DATA_DIR=\"$DATA_DIR\" bash -euo pipefail /var/lib/gantry/setup.sh; then\n  \
             echo \"gantry: the setup block failed; {user} is not started on this boot\" >&2\n  exit 1\nfi\n",
            setup.trim_end()
        ));
    }
    s
}

/// The agent's environment hook: each secret exported into the job.
fn buildkite_hook(secrets: &BTreeMap<String, String>) -> String {
    let hook = "/etc/buildkite-agent/hooks/environment";
    if secrets.is_empty() {
        return format!("rm -f {hook}\n");
    }
    let mut s = format!("mkdir -p /etc/buildkite-agent/hooks\ncat > {hook} <<'HOOK'\n# gantry: build secrets into the job's environment\n");
    s.push_str(&job_secrets::hook_exports(secrets.keys()));
    s.push_str(&format!("HOOK\nchmod 755 {hook}\n"));
    s
}

/// The runner's job-started hook (a `.sh` file: actions/runner runs only
/// .sh and .ps1 hooks), named in the runner's `.env`, which the listener
/// loads at start: each secret masked, then written to `GITHUB_ENV` under
/// a random delimiter (GitHub docs, "Multiline strings").
fn actions_hook(secrets: &BTreeMap<String, String>) -> String {
    let hook = "/usr/local/bin/gantry-secrets-job-started.sh";
    if secrets.is_empty() {
        return format!("rm -f {hook} /opt/actions-runner/.env\n");
    }
    let names: Vec<&str> = secrets.keys().map(String::as_str).collect();
    format!(
        "cat > {hook} <<'HOOK'\n#!/bin/bash\n# gantry: build secrets into the job's environment, masked in its log\nset -euo pipefail\n\
         for name in {}; do\n  value=$(cat \"{SECRETS_DIR}/$name\")\n  \
         while IFS= read -r line; do if [ -n \"$line\" ]; then echo \"::add-mask::$line\"; fi; done <<< \"$value\"\n  \
         delim=\"GANTRY_$(od -An -N12 -tx1 /dev/urandom | tr -d ' \\n')\"\n  \
         {{ echo \"$name<<$delim\"; printf '%s\\n' \"$value\"; echo \"$delim\"; }} >> \"$GITHUB_ENV\"\ndone\nHOOK\n\
         chmod 755 {hook}\necho 'ACTIONS_RUNNER_HOOK_JOB_STARTED={hook}' > /opt/actions-runner/.env\nchown runner: /opt/actions-runner/.env\n",
        names.join(" ")
    )
}

/// The agent's `redacted-vars` line for its configuration ("" without secrets).
pub fn redacted_vars(block: &Extras) -> String {
    let names: Vec<String> = block.secrets.keys().cloned().collect();
    job_secrets::redacted_vars_line(&names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::common::gcp::node::{runner_startup_script, startup_script, typed};
    use crate::kinds::common::gcp::Machine;
    use serde_json::json;

    fn attrs(p: &[Diagnostic]) -> Vec<&str> {
        p.iter().map(|p| p.attr.as_str()).collect()
    }

    #[test]
    fn secrets_registries_and_setup_are_checked() {
        let ok =
            json!({"secrets": {"HF_TOKEN": "hf-token", "X_KEY": "projects/other-proj/secrets/x_key"}, "docker_registries": ["us-docker.pkg.dev", "gcr.io"]});
        let ok: Extras = typed(ok);
        assert!(check(&ok, "agent").is_empty(), "{:?}", check(&ok, "agent"));
        let bad = json!({"secrets": {"hf-token": "hf-token", "A": "projects/p/secrets/a b", "B": "ssm:/x"}, "docker_registries": ["docker.io", "us-docker.pkg.dev/proj/repo"]});
        let bad: Extras = typed(bad);
        assert_eq!(
            attrs(&check(&bad, "runner")),
            ["runner.secrets", "runner.secrets", "runner.secrets", "runner.docker_registries", "runner.docker_registries"]
        );
        assert!(valid_secret(&"a".repeat(255)) && !valid_secret(&"a".repeat(256)) && !valid_secret("projects/P/secrets/x"));
    }

    #[test]
    fn only_names_reach_the_script_and_the_setup_cannot_end_its_heredoc() {
        let setup = "echo one\nGANTRY_SETUP_x\necho 'two'";
        let block = json!({"secrets": {"HF_TOKEN": "hf-token"}, "docker_registries": ["us-east5-docker.pkg.dev"], "setup": setup});
        let block: Extras = typed(block);
        let s = render(&block, Runs::Buildkite);
        assert!(s.contains("--secret='hf-token' > /var/lib/gantry/secrets/HF_TOKEN"));
        let end = delimiter(setup);
        assert_eq!(s.matches(&format!("\n{end}\n")).count(), 1, "the text's own lines do not end the heredoc");
        assert_ne!(delimiter("a"), delimiter("b"));
        assert!(redacted_vars(&block).contains(",HF_TOKEN\""));
        assert_eq!(redacted_vars(&Extras::default()), "");
        // Without secrets, what an earlier boot left is removed.
        let none = render(&Extras::default(), Runs::Actions);
        assert!(
            none.contains("rm -rf /var/lib/gantry/secrets") && none.contains("rm -f /usr/local/bin/gantry-secrets-job-started.sh /opt/actions-runner/.env")
        );
    }

    #[test]
    fn extras_tpu_agent_startup() {
        let agent = json!({"queue": "tpu_v6e_queue", "token_secret": "bk-agent-token", "agents": 1, "tags": {},
            "secrets": {"HF_TOKEN": "hf-token", "WANDB_API_KEY": "projects/ml-shared/secrets/wandb"},
            "docker_registries": ["us-docker.pkg.dev"], "setup": "echo \"setting up $DATA_DIR\"\ntouch /var/lib/gantry/setup-ran"});
        let s = startup_script("tpu-v6e-ci-0", &typed(agent), Machine { data_device: "", gpu: false });
        assert!(!s.contains("{{"), "every placeholder is filled");
        insta::assert_snapshot!("extras_tpu_agent_startup", s);
    }

    #[test]
    fn extras_gpu_runner_startup() {
        let runner = json!({"repository": "acme/models", "labels": ["gpu-l4"], "runner_version": "2.329.0", "idle_stop": "15m",
            "secrets": {"HF_TOKEN": "hf-token"}, "docker_registries": ["us-central1-docker.pkg.dev"], "setup": "nvidia-smi"});
        let s = runner_startup_script("gpu-ci-runner", &typed(runner), Machine { data_device: "", gpu: true }, false);
        assert!(!s.contains("{{"), "every placeholder is filled");
        insta::assert_snapshot!("extras_gpu_runner_startup", s);
    }
}
