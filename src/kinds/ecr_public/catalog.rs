//! A public repository's catalog data (what the Amazon ECR Public Gallery
//! shows), typed, with the gallery's limits (ECR Public API reference,
//! RepositoryCatalogDataInput).

use serde::{Deserialize, Serialize};

/// Architectures the gallery shows as badges and filters on.
pub(crate) const ARCHITECTURES: &[&str] = &["ARM", "ARM 64", "x86", "x86-64"];
/// Operating systems the gallery shows.
pub(crate) const OPERATING_SYSTEMS: &[&str] = &["Linux", "Windows"];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Catalog {
    pub description: Option<String>,
    pub about_text: Option<String>,
    pub usage_text: Option<String>,
    /// Sorted: the gallery keeps no order.
    pub architectures: Vec<String>,
    pub operating_systems: Vec<String>,
}

fn text(v: Option<&str>) -> Option<String> {
    v.filter(|s| !s.is_empty()).map(String::from)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

impl Catalog {
    /// From the block's values: empty texts are unset, lists sorted.
    pub(crate) fn new(
        description: Option<&str>,
        about_text: Option<&str>,
        usage_text: Option<&str>,
        architectures: Vec<String>,
        operating_systems: Vec<String>,
    ) -> Catalog {
        Catalog {
            description: text(description),
            about_text: text(about_text),
            usage_text: text(usage_text),
            architectures: sorted(architectures),
            operating_systems: sorted(operating_systems),
        }
    }

    /// As read: empty texts and lists are unset.
    pub(crate) fn from_sdk(c: &aws_sdk_ecrpublic::types::RepositoryCatalogData) -> Catalog {
        Catalog {
            description: text(c.description()),
            about_text: text(c.about_text()),
            usage_text: text(c.usage_text()),
            architectures: sorted(c.architectures().to_vec()),
            operating_systems: sorted(c.operating_systems().to_vec()),
        }
    }

    /// What the gallery would refuse or not show, by attribute.
    pub(crate) fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (attr, value, max) in [("description", &self.description, 1024), ("about_text", &self.about_text, 25600), ("usage_text", &self.usage_text, 25600)] {
            if value.as_ref().is_some_and(|v| v.chars().count() > max) {
                out.push((attr, format!("at most {max} characters")));
            }
        }
        for (attr, values, known) in [("architectures", &self.architectures, ARCHITECTURES), ("operating_systems", &self.operating_systems, OPERATING_SYSTEMS)]
        {
            for v in values.iter().filter(|v| !known.contains(&v.as_str())) {
                out.push((attr, format!("\"{v}\" is not shown by the gallery (it knows {})", known.join(", "))));
            }
        }
        out
    }
}
