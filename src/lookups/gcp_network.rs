//! `data "gcp_network"`: an existing VPC network in the stack's Google
//! Cloud project (e.g. the shared CI network TPU and GPU nodes join).

use super::{given, LookupApis, LookupError, TypedRead};
use crate::core::Diagnostic;
use crate::core::TypedDataSchema;
use async_trait::async_trait;
use gantry_schema_derive::Schema;
use serde::{Deserialize, Serialize};

pub(super) struct GcpNetwork;

/// The block's arguments (the schema is derived from them).
#[derive(Debug, Default, Deserialize, Schema)]
#[serde(default)]
pub(super) struct Args {
    /// The network's name.
    #[schema(required)]
    name: Option<String>,
    /// Project that owns it (default: the stack's; a Shared VPC host project otherwise).
    project: Option<String>,
}

/// What the read gives (the attributes' schema is derived from it).
#[derive(Debug, Serialize, Schema)]
pub(super) struct Found {
    /// The network's name.
    name: String,
    /// Numeric id Compute assigned.
    id: String,
    /// Full resource URL (https://www.googleapis.com/compute/v1/projects/P/global/networks/N).
    self_link: String,
    /// Auto mode (one subnetwork per region) or custom mode.
    auto_create_subnetworks: bool,
    /// Its subnetworks' full URLs, sorted.
    subnetworks: Vec<String>,
}

impl TypedDataSchema for GcpNetwork {
    const NAME: &'static str = "gcp_network";
    const DOC: &'static str = "An existing Google Cloud VPC network, by name.";
    type Args = Args;
    type Found = Found;
    fn check_args(&self, a: &Args) -> Vec<Diagnostic> {
        let name = given(&a.name).unwrap_or_default();
        // Compute resource names: RFC 1035, 1-63 characters.
        let ok = (1..=63).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.ends_with('-');
        if ok {
            Vec::new()
        } else {
            vec![Diagnostic::attr("name", format!("\"{name}\" is not a Compute network name (lowercase letters, digits and -, up to 63)"))]
        }
    }
}

#[async_trait]
impl TypedRead for GcpNetwork {
    async fn find(&self, a: &Args, apis: &LookupApis) -> Result<Found, LookupError> {
        let name = given(&a.name).unwrap_or_default();
        let project = given(&a.project).unwrap_or(&apis.project);
        let Some(n) = apis.gcp(Self::NAME)?.network(project, name).await? else {
            return Err(LookupError::Missing(format!("no network named \"{name}\" in project {project}")));
        };
        let mut subnetworks = n.subnetworks;
        subnetworks.sort();
        Ok(Found { name: name.to_string(), id: n.id, self_link: n.self_link, auto_create_subnetworks: n.auto_create_subnetworks, subnetworks })
    }
}
