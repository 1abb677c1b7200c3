//! `github { ... }` in an `agent_queue`: the queue's agents are GitHub
//! Actions runners instead of Buildkite agents. Same stack, same scaler,
//! same lifecycle (scale-in protection while busy, drain, disk guard); what
//! changes is who registers a runner and how:
//!
//! - the scaler holds the GitHub App's credentials (an SSM path it alone
//!   may read) and registers one just-in-time runner per instance, named
//!   after it; the configuration reaches the instance through SSM under
//!   `/gantry/jit/STACK/QUEUE/INSTANCE_ID`, tagged with the instance's ARN
//!   (an instance may read only the one tagged with its own
//!   `${ec2:SourceInstanceARN}`), so no GitHub credential is ever on a
//!   machine that runs jobs, and a job cannot take another instance's runner;
//! - each runner takes one job (JIT runners are ephemeral), then the
//!   instance leaves the group, lowering desired capacity as it goes;
//! - the scaler's function URL takes the App's `workflow_job` webhook
//!   (HMAC-checked) to scale at once instead of at the next poll.
//!
//! ```hcl
//! agent_queue "gpu_builders" {
//!   instance_types = ["g5.2xlarge"]
//!   max_size       = 4
//!   github {
//!     repository  = "bentoml/OpenLLM"
//!     labels      = ["ec2-gpu"]
//!     credentials = "/gantry/openllm/github-app"
//!   }
//! }
//! ```

use super::block::Spec;
use crate::core::Diagnostic;
use crate::kinds::common::github_runner::{all_labels, check_scope_and_labels, DEFAULT_RUNNER_VERSION};
use gantry_scaler_env::github::{GithubEnv, Scope, TimeoutAction};
use serde_json::{json, Value};

/// A runner queue's GitHub side, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct GithubSpec {
    /// The repository or organisation the runners serve.
    pub scope: Scope,
    /// Organisation runners: the repositories whose queued jobs the scaler polls.
    pub repositories: Vec<String>,
    /// Every label the runners get (self-hosted, linux, arch, then the user's).
    pub labels: Vec<String>,
    /// SSM path of the GitHub App's credentials (only the scaler reads them).
    pub credentials: String,
    /// The runner group the runners join (1: the default group).
    pub runner_group_id: u64,
    /// The actions/runner release installed at boot.
    pub runner_version: String,
    /// How long a job may wait for a runner before `timeout_action`.
    pub queued_job_timeout: std::time::Duration,
    /// What the scaler does with a job that waited too long.
    pub timeout_action: TimeoutAction,
    /// Whether the scaler also takes GitHub's workflow_job webhooks.
    pub webhook: bool,
    /// Where the scaler leaves each instance's configuration.
    pub jit_path: String,
}

/// The JIT configuration path of a queue: per stack and queue, so two
/// queues' instances never read each other's.
pub fn jit_path(stack: &str, queue: &str) -> String {
    format!("/gantry/jit/{stack}/{queue}")
}

/// Parses the block (after `check` accepted it); `None` for Buildkite queues.
pub fn spec(queue_block: &Spec, stack: &str, queue: &str) -> Option<GithubSpec> {
    let b = queue_block.github.clone()?;
    // Neither repository nor organisation is "", which does not parse.
    let scope = Scope::parse(b.scope.scope()).ok()?;
    let labels = all_labels(&b.scope, queue_block.arm64());
    Some(GithubSpec {
        scope,
        labels,
        credentials: b.credentials.trim_end_matches('/').to_string(),
        runner_group_id: b.runner_group_id.unwrap_or(1),
        runner_version: b.runner_version.unwrap_or_else(|| DEFAULT_RUNNER_VERSION.to_string()),
        queued_job_timeout: b.queued_job_timeout.as_deref().and_then(|t| humantime::parse_duration(t).ok()).unwrap_or_default(),
        timeout_action: if b.queued_job_timeout_action.as_deref() == Some("report") { TimeoutAction::Report } else { TimeoutAction::Cancel },
        webhook: b.webhook.unwrap_or(true),
        jit_path: jit_path(stack, queue),
        repositories: b.repositories,
    })
}

/// The scaler's GitHub settings.
pub fn scaler_env(g: &GithubSpec, prefix: &str, registration_grace_secs: u64, instance_arn_prefix: &str) -> GithubEnv {
    let mut e = GithubEnv::new(g.scope.clone(), g.labels.clone(), prefix, &g.credentials, &g.jit_path, instance_arn_prefix);
    e.repositories = g.repositories.clone();
    e.runner_group_id = g.runner_group_id;
    e.registration_grace = std::time::Duration::from_secs(registration_grace_secs);
    e.queued_job_timeout = (!g.queued_job_timeout.is_zero()).then_some(g.queued_job_timeout);
    e.timeout_action = g.timeout_action;
    e
}

/// What a runner queue may not say or must say.
pub fn check(a: &Spec) -> Vec<Diagnostic> {
    let Some(b) = &a.github else {
        return match a.agent_token_parameter.as_deref() {
            None => vec![Diagnostic::attr(
                "agent_token_parameter",
                "missing required attribute \"agent_token_parameter\": a Buildkite queue reads its agent token from this SSM parameter (a github { } block makes the agents GitHub Actions runners instead)",
            )],
            Some(token) if token.is_empty() || !token.chars().all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c)) => {
                vec![Diagnostic::attr("agent_token_parameter", format!("\"{token}\" is not an SSM parameter name"))]
            }
            Some(_) => Vec::new(),
        };
    };
    let mut out = check_scope_and_labels(&b.scope, "github", "queue");
    let p = |attr: &str, m: String| Diagnostic::attr(&format!("github.{attr}"), m);
    if b.scope.repository.is_none() && b.scope.organization.is_some() && b.repositories.is_empty() {
        out.push(p("repositories", "organisation runners need the repositories whose queued jobs the scaler polls (webhooks alone can be lost)".into()));
    }
    let creds = b.credentials.as_str();
    if !creds.starts_with('/') || creds.len() < 2 || !creds.chars().all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c)) {
        out.push(p("credentials", format!("\"{creds}\" is not an SSM path (e.g. /gantry/github-app)")));
    }
    let version = b.runner_version.as_deref().unwrap_or(DEFAULT_RUNNER_VERSION);
    if version.split('.').count() != 3 || !version.split('.').all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())) {
        out.push(p("runner_version", format!("\"{version}\" is not an actions/runner release (e.g. {DEFAULT_RUNNER_VERSION})")));
    }
    if let Some(t) = b.queued_job_timeout.as_deref() {
        if humantime::parse_duration(t).is_err() {
            out.push(p("queued_job_timeout", format!("\"{t}\" is not a duration (e.g. 30m)")));
        }
    }
    // What only Buildkite agents have.
    for (k, set, why) in [
        (
            "agent_token_parameter",
            a.agent_token_parameter.as_ref().is_some_and(|t| !t.is_empty()),
            "runners are registered by the scaler with the GitHub App; there is no agent token",
        ),
        ("agent_tags", !a.agent_tags.is_empty(), "a runner's labels are github { labels }"),
        (
            "agent_secrets",
            !a.agent_secrets.is_empty(),
            "GitHub Actions jobs read secrets from the repository or organisation (secrets.NAME), masked by the runner",
        ),
    ] {
        if set {
            out.push(Diagnostic::attr(k, format!("not for GitHub Actions runners: {why}")));
        }
    }
    if a.agents_per_instance.unwrap_or(1) != 1 {
        out.push(Diagnostic::attr(
            "agents_per_instance",
            "GitHub Actions runner queues run one runner per instance (each takes one job, then the instance goes)",
        ));
    }
    out
}

/// Where a queue's parameters live: (region, account id).
pub type Place<'a> = (&'a str, &'a str);

fn arn((region, account_id): Place, path: &str) -> String {
    format!("arn:aws:ssm:{region}:{account_id}:parameter/{}", path.trim_start_matches('/'))
}

/// The scaler's GitHub statements: its App credentials, the configurations
/// it writes, replacing an instance whose runner never started.
pub fn scaler_statements(q: Place, g: &GithubSpec, asg_arn: &str) -> Vec<Value> {
    vec![
        json!({"Sid": "ReadGithubAppCredentials", "Effect": "Allow", "Action": "ssm:GetParametersByPath", "Resource": arn(q, &g.credentials)}),
        // Tagging on create needs AddTagsToResource too (SSM "Tagging parameters").
        json!({"Sid": "HandOutRunnerConfigurations", "Effect": "Allow", "Action": ["ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource"],
               "Resource": format!("{}/*", arn(q, &g.jit_path))}),
        // DescribeParameters has no resource-level permission (SSM's service authorization reference).
        json!({"Sid": "ListRunnerConfigurations", "Effect": "Allow", "Action": "ssm:DescribeParameters", "Resource": "*"}),
        json!({"Sid": "ReplaceInstancesWhoseRunnerNeverStarted", "Effect": "Allow", "Action": "autoscaling:SetInstanceHealth", "Resource": asg_arn}),
    ]
}

use gantry_scaler_env::github::INSTANCE_TAG;

/// The ARN prefix of a queue's instances (the scaler appends the id).
pub fn instance_arn_prefix(region: &str, account_id: &str) -> String {
    format!("arn:aws:ec2:{region}:{account_id}:instance/")
}

/// What a runner instance reads: its own configuration only. The scaler
/// tags each with its instance's ARN; `${ec2:SourceInstanceARN}` is the
/// ARN of the instance whose role credentials sign the request (IAM policy
/// variables; AWS's own DRS agent policy scopes by it the same way), so a
/// job on one instance cannot read another instance's registration.
pub fn agent_statement(q: Place, g: &GithubSpec) -> Value {
    json!({"Sid": "ReadOwnRunnerConfiguration", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": format!("{}/*", arn(q, &g.jit_path)),
           "Condition": {"StringEquals": {format!("ssm:resourceTag/{INSTANCE_TAG}"): "${ec2:SourceInstanceARN}"}}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(github: Value) -> Spec {
        serde_json::from_value(json!({ "github": github })).unwrap()
    }

    #[test]
    fn a_runner_queue_names_one_scope_labels_and_credentials() {
        let ok = attrs(json!({"repository": "bentoml/OpenLLM", "labels": ["ec2-gpu"], "credentials": "/gantry/gh"}));
        assert!(check(&ok).is_empty(), "{:?}", check(&ok));
        let g = spec(&ok, "openllm", "builders").unwrap();
        assert_eq!(g.labels, ["self-hosted", "linux", "x64", "ec2-gpu"]);
        assert_eq!(g.jit_path, "/gantry/jit/openllm/builders");
        let bad = attrs(json!({"organization": "bentoml", "labels": ["a b"], "credentials": "gh", "runner_version": "latest"}));
        let msgs: Vec<String> = check(&bad).into_iter().map(|p| format!("{}: {}", p.attr, p.message)).collect();
        assert_eq!(msgs.len(), 4, "{msgs:#?}");
        let mut both = ok.clone();
        both.agent_token_parameter = Some("/bk/token".into());
        both.agents_per_instance = Some(2);
        let msgs: Vec<String> = check(&both).into_iter().map(|p| p.attr).collect();
        assert_eq!(msgs, ["agent_token_parameter", "agents_per_instance"]);
        assert_eq!(check(&Spec::default())[0].attr, "agent_token_parameter", "a Buildkite queue still needs its token");
    }
}
