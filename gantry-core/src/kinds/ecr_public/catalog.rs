//! A public repository's catalog data (what the Amazon ECR Public Gallery
//! shows), typed, with the gallery's limits (ECR Public API reference,
//! RepositoryCatalogDataInput).

use serde::{Deserialize, Serialize};

/// Architectures the gallery shows as badges and filters on.
pub const ARCHITECTURES: &[&str] = &["ARM", "ARM 64", "x86", "x86-64"];
/// Operating systems the gallery shows.
pub const OPERATING_SYSTEMS: &[&str] = &["Linux", "Windows"];

/// A public repository's catalog data: what the ECR Public Gallery shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Short description shown in the gallery (at most 1,024 characters).
    pub description: Option<String>,
    /// Markdown about the images, shown on the repository's gallery page.
    pub about_text: Option<String>,
    /// Markdown on how to use the images (docker pull, run flags).
    pub usage_text: Option<String>,
    /// Sorted: the gallery keeps no order.
    pub architectures: Vec<String>,
    /// Gallery badges: Linux, Windows.
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
    pub fn new(
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

    /// What the gallery would refuse or not show, by attribute.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
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
