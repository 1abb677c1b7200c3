//! `agent_secrets = { HF_TOKEN = "ssm:/ci/hf-token", GH_KEY = "secretsmanager:ci/github-key" }`:
//! build secrets fetched by each instance at boot into root-only files and
//! put into every job's environment by the agent's environment hook. The
//! template, the user data, the plan and the bootstrap log hold only the
//! names; the instance role may read exactly these secrets; the agent
//! redacts their values from job logs.

use crate::kinds::common::job_secrets::{hook_exports, redacted_vars_line, valid_name, SECRETS_DIR};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Where one secret's value lives.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    /// An SSM parameter (SecureString or String), by name.
    Ssm(String),
    /// A Secrets Manager secret, by name (in the queue's region and account) or full ARN.
    SecretsManager(String),
}

/// Parses `ssm:/path` or `secretsmanager:NAME|ARN`; the characters allowed
/// are those the services allow in names, so the generated script can quote
/// them safely.
pub fn parse(source: &str) -> Result<SecretSource, String> {
    let safe = |s: &str, extra: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
    if let Some(name) = source.strip_prefix("ssm:") {
        return if safe(name, "_.-/") {
            Ok(SecretSource::Ssm(name.to_string()))
        } else {
            Err(format!("\"{source}\": an SSM parameter name has letters, digits and _ . - /"))
        };
    }
    if let Some(id) = source.strip_prefix("secretsmanager:") {
        return if safe(id, "_+=.@-/:") {
            Ok(SecretSource::SecretsManager(id.to_string()))
        } else {
            Err(format!("\"{source}\": a secret name or ARN has letters, digits and _ + = . @ - / :"))
        };
    }
    Err(format!("\"{source}\" must start with ssm: (a parameter name) or secretsmanager: (a secret name or ARN)"))
}

/// Problems with the `agent_secrets` map (names, sources, clashes with `agent_env`).
pub fn check(secrets: &BTreeMap<String, String>, agent_env: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, source) in secrets {
        if !valid_name(name) {
            out.push(format!("\"{name}\" is not an environment variable name (A-Z, 0-9, _)"));
        }
        if agent_env.contains_key(name) {
            out.push(format!("{name} is both in agent_env and agent_secrets"));
        }
        if let Err(e) = parse(source) {
            out.push(format!("{name}: {e}"));
        }
    }
    out
}

/// The ARN IAM needs for one secret. A name matches any version suffix
/// (Secrets Manager appends six random characters to a secret's ARN; the
/// IAM user guide's pattern for a secret by name is `NAME-??????`).
fn arn(region: &str, account_id: &str, s: &SecretSource) -> String {
    match s {
        SecretSource::Ssm(name) => format!("arn:aws:ssm:{region}:{account_id}:parameter/{}", name.trim_start_matches('/')),
        SecretSource::SecretsManager(id) if id.starts_with("arn:") => id.clone(),
        SecretSource::SecretsManager(name) => format!("arn:aws:secretsmanager:{region}:{account_id}:secret:{name}-??????"),
    }
}

/// A queue's build secrets by name.
pub type Secrets = std::collections::BTreeMap<String, SecretSource>;

/// Policy statements that let the instance (in `region` of `account_id`) read exactly its secrets.
pub fn statements(secrets: &Secrets, region: &str, account_id: &str) -> Vec<Value> {
    let (mut ssm, mut sm) = (Vec::new(), Vec::new());
    for s in secrets.values() {
        match s {
            SecretSource::Ssm(_) => ssm.push(arn(region, account_id, s)),
            SecretSource::SecretsManager(_) => sm.push(arn(region, account_id, s)),
        }
    }
    let mut out = Vec::new();
    if !ssm.is_empty() {
        out.push(json!({"Sid": "ReadBuildSecretsFromParameterStore", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": ssm}));
    }
    if !sm.is_empty() {
        out.push(json!({"Sid": "ReadBuildSecretsFromSecretsManager", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": sm}));
    }
    out
}

/// The bootstrap lines that fetch the secrets and export them to jobs
/// (empty without secrets). Names and sources were validated, so single
/// quotes hold them as they are.
pub fn bootstrap(secrets: &Secrets) -> String {
    if secrets.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n# Build secrets (agent_secrets): fetched now into files only root and the\n\
         # agent can read, exported into each job's environment by the environment\n\
         # hook. Their values never appear in this script or its log.\n\
         install -d -m 700 -o buildkite-agent /var/lib/gantry/secrets\n",
    );
    for (name, source) in secrets {
        let file = format!("{SECRETS_DIR}/{name}");
        let fetch = match source {
            SecretSource::Ssm(p) => format!("aws ssm get-parameter --region \"$REGION\" --name '{p}' --with-decryption --query Parameter.Value --output text"),
            SecretSource::SecretsManager(id) => {
                format!("aws secretsmanager get-secret-value --region \"$REGION\" --secret-id '{id}' --query SecretString --output text")
            }
        };
        s.push_str(&format!("(umask 077 && {fetch} > {file})\n"));
    }
    s.push_str(
        "chown buildkite-agent: /var/lib/gantry/secrets/*\nchmod 400 /var/lib/gantry/secrets/*\ncat >> /etc/buildkite-agent/hooks/environment <<'HOOK'\n",
    );
    s.push_str(&hook_exports(secrets.keys()));
    s.push_str("HOOK\n");
    s
}

/// The agent's `redacted-vars` setting: its defaults plus every secret's
/// name, so a value echoed by a job is masked in the job log.
pub fn redacted_vars(secrets: &Secrets) -> String {
    redacted_vars_line(&secrets.keys().cloned().collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_parsed_and_refused_with_the_reason() {
        assert_eq!(parse("ssm:/ci/hf-token"), Ok(SecretSource::Ssm("/ci/hf-token".into())));
        assert_eq!(parse("secretsmanager:ci/github-key"), Ok(SecretSource::SecretsManager("ci/github-key".into())));
        assert!(parse("vault:x").unwrap_err().contains("must start with ssm:"));
        assert!(parse("ssm:/a b").is_err() && parse("ssm:/it's").is_err());
        let env: BTreeMap<String, String> = [("HF_TOKEN".to_string(), "x".to_string())].into();
        let secrets: BTreeMap<String, String> = [("HF_TOKEN".to_string(), "ssm:/a".to_string()), ("bad-name".to_string(), "ssm:/b".to_string())].into();
        let problems = check(&secrets, &env);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
