//! Helpers the kinds' pure halves share: tags on AWS resources, a GitHub
//! runner block, build secrets on the machine, names cut to a length, and
//! desired states to and from the plan's comparable state.

pub mod aws_tags;
pub mod gcp;
pub mod github_runner;
pub mod job_secrets;
#[cfg(test)]
pub(crate) mod script_bench;

/// Installs the GitHub Actions runner (`{{RUNNER_VERSION}}` to fill): the
/// same steps on EC2 instances and Compute Engine machines.
pub const RUNNER_INSTALL: &str = include_str!("runner_install.sh");
/// `s` cut to `max` characters, with a short hash of the whole when cut so
/// distinct long names stay distinct (a queue's derived AWS names, a node's
/// label values).
pub fn limit(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let hash: String = <sha2::Sha256 as sha2::Digest>::digest(s.as_bytes()).iter().take(3).map(|b| format!("{b:02x}")).collect();
    format!("{}-{hash}", &s[..max - 7])
}

/// A kind's typed desired state read back from a plan, as its
/// `desired_state` wrote it (a shape that does not read is a bug, or an
/// edited plan: the driver reports it as the call that could not be made).
pub fn read_desired<T: serde::de::DeserializeOwned>(state: &crate::core::State) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::Object(state.clone())).map_err(|e| format!("the desired state does not read: {e}"))
}

/// A typed desired state as the plan's comparable state (field by field).
pub fn to_state<T: serde::Serialize>(desired: &T) -> crate::core::State {
    match serde_json::to_value(desired) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => crate::core::State::new(),
    }
}

/// Reads `null` as the type's default: a live state records what the API
/// left unset as `null` where the desired state always has a value.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// One file of a `policy_files`/`instance_policies` attribute, as the
/// loader read it (`Ty::PolicyFiles`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PolicyFile {
    /// The inline policy's name (the file's name).
    pub name: String,
    /// The path as written, for messages.
    pub file: String,
    /// The policy document the file holds.
    pub document: serde_json::Value,
}
