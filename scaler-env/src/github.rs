//! The GitHub Actions half of the contract (`CI=github`): which repository
//! or organisation the runners serve, their labels, where the GitHub App's
//! credentials and the runners' just-in-time configurations live in SSM,
//! and the runner-specific timeouts.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `GITHUB_API` | `https://api.github.com` | REST API base (GHES: `https://HOST/api/v3`) |
//! | `GITHUB_SCOPE` | required | `owner/repo` (repository runners) or `org` (organisation runners) |
//! | `GITHUB_REPOSITORIES` | empty | organisation scope: repositories whose queued jobs are polled (`repo,repo`) |
//! | `RUNNER_LABELS` | required | labels every runner gets (`a,b`); a job is ours when its `runs-on` labels are all among them |
//! | `RUNNER_GROUP_ID` | 1 | runner group (organisation scope; 1 = Default) |
//! | `RUNNER_NAME_PREFIX` | required | runners are named `PREFIX-INSTANCE_ID`; only those are ever deleted |
//! | `GITHUB_CREDENTIALS_PATH` | required | SSM path holding `app_id`, `installation_id`, `private_key`, `webhook_secret` |
//! | `JIT_CONFIG_PATH` | required | SSM path the scaler writes each instance's runner configuration under |
//! | `INSTANCE_ARN_PREFIX` | required | `arn:PARTITION:ec2:REGION:ACCOUNT:instance/`: each configuration is tagged `gantry:instance` with its instance's ARN, which the instance role's policy compares with `${ec2:SourceInstanceARN}` |
//! | `REGISTRATION_GRACE` | 15m | an instance whose runner is not online this long after its configuration was written is replaced |
//! | `QUEUED_JOB_TIMEOUT` | 0s (off) | jobs for our labels queued longer than this are handled by `QUEUED_JOB_TIMEOUT_ACTION` |
//! | `QUEUED_JOB_TIMEOUT_ACTION` | `cancel` | `cancel` (cancel the workflow run) or `report` (a warning log line per job, nothing cancelled) |

use crate::{parse_duration, EnvError};
use std::collections::BTreeMap;
use std::time::Duration;

/// The tag the scaler puts on each runner configuration: its instance's ARN.
pub const INSTANCE_TAG: &str = "gantry:instance";

/// The parameters under `GITHUB_CREDENTIALS_PATH`.
pub const CREDENTIAL_PARAMETERS: [&str; 4] = ["app_id", "installation_id", "private_key", "webhook_secret"];

/// Defaults of the GitHub settings.
pub mod defaults {
    /// `GITHUB_API`: github.com's REST API.
    pub const GITHUB_API: &str = "https://api.github.com";
    /// `RUNNER_GROUP_ID`: the default runner group.
    pub const RUNNER_GROUP_ID: u64 = 1;
    /// How long a booting instance may take to register its runner.
    pub const REGISTRATION_GRACE: &str = "15m";
}

/// What to do with a job queued longer than the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutAction {
    /// Cancel the job's workflow run (GitHub has no per-job cancel).
    Cancel,
    /// Log a warning per job; cancel nothing.
    Report,
}

impl TimeoutAction {
    /// The value as the environment carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutAction::Cancel => "cancel",
            TimeoutAction::Report => "report",
        }
    }
}

/// Repository (`owner/repo`) or organisation runners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One repository's runners.
    Repository {
        /// The repository's owner.
        owner: String,
        /// The repository's name.
        repo: String,
    },
    /// An organisation's runners.
    Organization(String),
}

impl Scope {
    /// `owner/repo` or an organisation's name (`GITHUB_SCOPE`).
    pub fn parse(text: &str) -> Result<Scope, EnvError> {
        let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        match text.split_once('/') {
            Some((o, r)) if ok(o) && ok(r) => Ok(Scope::Repository { owner: o.into(), repo: r.into() }),
            None if ok(text) => Ok(Scope::Organization(text.into())),
            _ => Err(EnvError(format!("GITHUB_SCOPE={text} must be owner/repo or an organisation name"))),
        }
    }

    /// The scope as `GITHUB_SCOPE` carries it.
    pub fn as_string(&self) -> String {
        match self {
            Scope::Repository { owner, repo } => format!("{owner}/{repo}"),
            Scope::Organization(o) => o.clone(),
        }
    }

    /// The repositories whose queued jobs are polled (`owner/repo` each).
    pub fn polled(&self, repositories: &[String]) -> Vec<String> {
        match self {
            Scope::Repository { .. } => vec![self.as_string()],
            Scope::Organization(org) => repositories.iter().map(|r| if r.contains('/') { r.clone() } else { format!("{org}/{r}") }).collect(),
        }
    }
}

/// Settings of a GitHub Actions runner queue.
#[derive(Debug, Clone, PartialEq)]
pub struct GithubEnv {
    /// The REST API's base URL (`GITHUB_API`).
    pub api: String,
    /// Whose runners (`GITHUB_SCOPE`).
    pub scope: Scope,
    /// An organisation's repositories whose jobs are polled (`GITHUB_REPOSITORIES`).
    pub repositories: Vec<String>,
    /// Labels the runners carry and jobs ask for (`RUNNER_LABELS`).
    pub labels: Vec<String>,
    /// The runner group (`RUNNER_GROUP_ID`).
    pub runner_group_id: u64,
    /// Runner names start with this (`RUNNER_NAME_PREFIX`).
    pub name_prefix: String,
    /// SSM path of the app's credentials (`GITHUB_CREDENTIALS_PATH`).
    pub credentials_path: String,
    /// SSM path the runners' configurations are written under (`JIT_CONFIG_PATH`).
    pub jit_config_path: String,
    /// Prefix of the instances' ARNs (the id is appended).
    pub instance_arn_prefix: String,
    /// How long a booting instance may take to register its runner.
    pub registration_grace: Duration,
    /// How long a job may wait queued before `timeout_action` (None: forever).
    pub queued_job_timeout: Option<Duration>,
    /// What happens to a job queued too long.
    pub timeout_action: TimeoutAction,
}

/// `arn:PARTITION:ec2:REGION:ACCOUNT:instance/`, checked.
fn arn_prefix(p: &str) -> Result<String, EnvError> {
    let parts: Vec<&str> = p.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "ec2"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5] == "instance/";
    if ok {
        Ok(p.to_string())
    } else {
        Err(EnvError(format!("INSTANCE_ARN_PREFIX={p} must look like arn:aws:ec2:REGION:ACCOUNT:instance/")))
    }
}

impl GithubEnv {
    /// Settings for `scope` with the defaults for the rest.
    pub fn new(scope: Scope, labels: Vec<String>, name_prefix: &str, credentials_path: &str, jit_config_path: &str, instance_arn_prefix: &str) -> GithubEnv {
        GithubEnv {
            api: defaults::GITHUB_API.into(),
            scope,
            repositories: vec![],
            labels,
            runner_group_id: defaults::RUNNER_GROUP_ID,
            name_prefix: name_prefix.into(),
            credentials_path: credentials_path.into(),
            jit_config_path: jit_config_path.into(),
            instance_arn_prefix: instance_arn_prefix.into(),
            registration_grace: parse_duration("REGISTRATION_GRACE", defaults::REGISTRATION_GRACE).expect("valid default"),
            queued_job_timeout: None,
            timeout_action: TimeoutAction::Cancel,
        }
    }

    /// Writes the settings as environment variables.
    pub fn write_vars(&self, out: &mut BTreeMap<String, String>) {
        let pairs = [
            ("CI", "github".to_string()),
            ("GITHUB_API", self.api.clone()),
            ("GITHUB_SCOPE", self.scope.as_string()),
            ("GITHUB_REPOSITORIES", self.repositories.join(",")),
            ("RUNNER_LABELS", self.labels.join(",")),
            ("RUNNER_GROUP_ID", self.runner_group_id.to_string()),
            ("RUNNER_NAME_PREFIX", self.name_prefix.clone()),
            ("GITHUB_CREDENTIALS_PATH", self.credentials_path.clone()),
            ("JIT_CONFIG_PATH", self.jit_config_path.clone()),
            ("INSTANCE_ARN_PREFIX", self.instance_arn_prefix.clone()),
            ("REGISTRATION_GRACE", humantime::format_duration(self.registration_grace).to_string()),
            ("QUEUED_JOB_TIMEOUT", humantime::format_duration(self.queued_job_timeout.unwrap_or_default()).to_string()),
            ("QUEUED_JOB_TIMEOUT_ACTION", self.timeout_action.as_str().to_string()),
        ];
        out.extend(pairs.into_iter().map(|(k, v)| (k.to_string(), v)));
    }

    /// Reads the settings from environment variables (`get`), naming any bad one.
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<GithubEnv, EnvError> {
        let required = |k: &str| get(k).filter(|v| !v.trim().is_empty()).ok_or_else(|| EnvError(format!("{k} is required when CI=github")));
        let list = |k: &str| -> Vec<String> { get(k).unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect() };
        let path = |k: &str| -> Result<String, EnvError> {
            let p = required(k)?;
            if p.starts_with('/') && !p.ends_with('/') {
                Ok(p)
            } else {
                Err(EnvError(format!("{k}={p} must be an SSM path like /gantry/github (leading /, no trailing /)")))
            }
        };
        let labels = list("RUNNER_LABELS");
        if labels.is_empty() {
            return Err(EnvError("RUNNER_LABELS is required when CI=github".into()));
        }
        let runner_group_id = match get("RUNNER_GROUP_ID") {
            None => defaults::RUNNER_GROUP_ID,
            Some(v) => v.trim().parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| EnvError(format!("RUNNER_GROUP_ID={v} must be a whole number ≥ 1")))?,
        };
        let timeout = parse_duration("QUEUED_JOB_TIMEOUT", &get("QUEUED_JOB_TIMEOUT").unwrap_or_else(|| "0s".into()))?;
        let timeout_action = match get("QUEUED_JOB_TIMEOUT_ACTION").as_deref().map(str::trim) {
            None | Some("cancel") => TimeoutAction::Cancel,
            Some("report") => TimeoutAction::Report,
            Some(v) => return Err(EnvError(format!("QUEUED_JOB_TIMEOUT_ACTION={v} must be cancel or report"))),
        };
        let scope = Scope::parse(&required("GITHUB_SCOPE")?)?;
        let repositories = list("GITHUB_REPOSITORIES");
        if matches!(scope, Scope::Organization(_)) && repositories.is_empty() {
            return Err(EnvError("GITHUB_REPOSITORIES is required for organisation runners: the repositories whose queued jobs are polled".into()));
        }
        Ok(GithubEnv {
            api: get("GITHUB_API").unwrap_or_else(|| defaults::GITHUB_API.into()).trim_end_matches('/').to_string(),
            scope,
            repositories,
            labels,
            runner_group_id,
            name_prefix: required("RUNNER_NAME_PREFIX")?,
            credentials_path: path("GITHUB_CREDENTIALS_PATH")?,
            jit_config_path: path("JIT_CONFIG_PATH")?,
            instance_arn_prefix: arn_prefix(&required("INSTANCE_ARN_PREFIX")?)?,
            registration_grace: parse_duration("REGISTRATION_GRACE", &get("REGISTRATION_GRACE").unwrap_or_else(|| defaults::REGISTRATION_GRACE.into()))?,
            queued_job_timeout: (!timeout.is_zero()).then_some(timeout),
            timeout_action,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_name_the_polled_repositories() {
        assert_eq!(Scope::parse("bentoml/OpenLLM").unwrap().polled(&[]), vec!["bentoml/OpenLLM"]);
        let org = Scope::parse("bentoml").unwrap();
        assert_eq!(org.polled(&["OpenLLM".into(), "other/x".into()]), vec!["bentoml/OpenLLM", "other/x"]);
        for bad in ["", "a/b/c", "a/", "sp ace"] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }
}
