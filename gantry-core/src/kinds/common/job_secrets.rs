//! What a machine does with its build secrets, on AWS queues and Google
//! Cloud nodes alike: where their files live, the names a shell can
//! export, the hook lines that export them to each job, and the agent's
//! `redacted-vars` line that masks them in job logs.

/// Environment variable names: what a shell can export.
pub fn valid_name(n: &str) -> bool {
    n.starts_with(|c: char| c.is_ascii_uppercase() || c == '_') && n.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Where an instance keeps its build secrets' files (AWS queues and Google Cloud nodes).
pub const SECRETS_DIR: &str = "/var/lib/gantry/secrets";

/// The Buildkite environment hook's lines exporting each secret from its file.
pub fn hook_exports<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(|name| format!("{name}=\"$(cat {SECRETS_DIR}/{name})\"\nexport {name}\n")).collect()
}

/// The `redacted-vars` configuration line for these secret names ("" for none).
pub fn redacted_vars_line(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    // buildkite-agent's default list (agent configuration reference, redacted-vars).
    let mut vars = vec!["*_PASSWORD", "*_SECRET", "*_TOKEN", "*_PRIVATE_KEY", "*_ACCESS_KEY", "*_SECRET_KEY", "*_CONNECTION_STRING"];
    vars.extend(names.iter().map(String::as_str));
    format!("\nredacted-vars=\"{}\"", vars.join(","))
}
