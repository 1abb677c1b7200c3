//! `gantry prices update`: a price book with today's prices for every
//! machine type of the current book and of the given stacks: EC2 from the
//! AWS Price List Query API, Compute Engine machines and GPUs from the
//! Cloud Billing Catalog (`prices_gcp`). What could not be read is left out
//! or carried over, and the new book's source says which.

use super::prices_gcp::GcpWanted;
use super::OpsError;
use crate::cloud::gcp_catalog::GcpPriceApi;
use crate::cloud::pricing::PriceListApi;
use crate::config::{load_dir, LoadOptions};
use crate::cost::prices::{PriceBook, PriceEntry, Unit};
use futures::{StreamExt, TryStreamExt};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// At most this many Price List calls at once.
const CALLS: usize = 4;

/// What the update found.
pub(crate) struct Updated {
    pub book: PriceBook,
    /// What could not be priced, a sentence each.
    pub missing: Vec<String>,
    /// Why Google Cloud prices were carried over, when they were.
    pub carried_over: Option<String>,
}

/// What to price.
#[derive(Debug, Default)]
pub(crate) struct Wanted {
    /// (region, instance type) on AWS.
    pub aws: BTreeSet<(String, String)>,
    pub gcp: GcpWanted,
}

/// The current book's entries and the stacks' machines. `gcp_project`
/// reads machine shapes; else the first stack's Google Cloud project.
pub(crate) fn wanted(current: &PriceBook, dirs: &[PathBuf], load: &LoadOptions, gcp_project: Option<String>) -> Result<Wanted, OpsError> {
    let mut out = Wanted { gcp: GcpWanted { project: gcp_project, ..GcpWanted::default() }, ..Wanted::default() };
    for p in &current.prices {
        for r in &p.regions {
            match p.cloud.as_str() {
                "aws" => _ = out.aws.insert((r.clone(), p.sku.clone())),
                _ => out.gcp.add(r, &p.sku, None),
            }
        }
    }
    for dir in dirs {
        let loaded = load_dir(dir, load, &super::language());
        let Some(stack) = loaded.stack.as_ref() else {
            let n = loaded.diags.error_count();
            return Err(OpsError::Usage(format!("{}: {n} error(s) in the stack files (gantry validate {} shows them)", dir.display(), dir.display())));
        };
        for r in &stack.resources {
            let Some(kind) = crate::kinds::by_name(r.kind) else { continue };
            let state = r.block.desired_state(&stack.env);
            let Some(cap) = kind.capacity(&state) else { continue };
            if cap.cloud == "aws" {
                out.aws.extend(cap.types.iter().map(|t| (cap.location.clone(), t.clone())));
                continue;
            }
            let region = crate::cost::prices::zone_region(&cap.location);
            for sku in cap.types.iter().chain(cap.parts.iter().map(|(s, _)| s)) {
                out.gcp.add(region, sku, Some(&cap.location));
            }
            if out.gcp.project.is_none() && !stack.env.gcp_project.is_empty() {
                out.gcp.project = Some(stack.env.gcp_project.clone());
            }
        }
    }
    Ok(out)
}

/// Reads every wanted price; `today` dates the new book. Without `gcp`
/// (no Google credentials) Google Cloud prices are carried over.
pub(crate) async fn update(
    current: &PriceBook,
    wanted: &Wanted,
    api: &dyn PriceListApi,
    gcp: Option<&dyn GcpPriceApi>,
    today: &str,
    progress: &dyn Fn(String),
) -> Result<Updated, OpsError> {
    // A spot price is an extra: an identity without ec2:DescribeSpotPriceHistory still gets on-demand prices.
    let reads = wanted.aws.iter().map(|(region, t)| async move {
        let on_demand = api.ec2_on_demand(region, t).await?;
        let spot = if on_demand.is_some() { api.ec2_spot(region, t).await } else { Ok(None) };
        Ok::<_, crate::core::error::ProviderError>((region, t, on_demand, spot))
    });
    let found: Vec<_> = futures::stream::iter(reads).buffer_unordered(CALLS).try_collect().await?;
    let mut prices = Vec::new();
    let mut missing = Vec::new();
    let mut spot_failed = None;
    for (region, t, p, spot) in found {
        let spot = spot.unwrap_or_else(|e| {
            spot_failed.get_or_insert(e.to_string());
            None
        });
        match p {
            Some(p) => prices.push(PriceEntry::per_instance("aws", region, t, p.hourly, spot, p.gpus)),
            None => missing.push(format!("the price list has no Linux on-demand product for {t} in {region}")),
        }
    }
    progress(format!(
        "read {} EC2 price(s) from the Price List API, {} spot price(s) from the spot price history",
        prices.len(),
        prices.iter().filter(|p| p.spot_hourly.is_some()).count()
    ));
    if let Some(e) = spot_failed {
        missing.push(format!("spot prices left out where EC2 refused them: {e}"));
    }
    prices.sort_by(|a, b| (&a.sku, &a.regions).cmp(&(&b.sku, &b.regions)));
    missing.sort();
    let from = format!("{} of {}", crate::cost::prices::short_source(&current.source), current.date);
    let aws = format!("AWS Price List Query API (GetProducts, Linux on-demand, shared tenancy) and EC2 spot price history (the dearest zone's) read {today}");
    // Nothing to read on Google Cloud (TPU chips only, or no Google entries): carried over, no warning.
    let gcp_read = match gcp {
        _ if wanted.gcp.is_empty() => None,
        None => Some(Err("no Google credentials".to_string())),
        Some(api) => Some(super::prices_gcp::update(&wanted.gcp, api, progress).await.map_err(|e| e.to_string())),
    };
    let (source, carried_over) = match gcp_read {
        Some(Ok(g)) => {
            prices.extend(g.prices);
            missing.extend(g.missing);
            prices.extend(current.prices.iter().filter(|p| p.cloud == "gcp" && p.unit == Unit::Chip).cloned());
            (
                format!("{aws}; Cloud Billing Catalog API (Compute Engine SKUs, on-demand and spot) read {today}; Cloud TPU prices carried over from {from}"),
                None,
            )
        }
        other => {
            prices.extend(current.prices.iter().filter(|p| p.cloud != "aws").cloned());
            (format!("{aws}; Google Cloud prices carried over from {from}"), other.and_then(Result::err))
        }
    };
    Ok(Updated { book: PriceBook { source, date: today.to_string(), currency: "USD".into(), prices }, missing, carried_over })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::pricing::Ec2Price;
    use crate::core::error::ProviderError;

    /// A price list that has g6.xlarge in us-east-1 only, without spot history.
    struct OneType;

    #[async_trait::async_trait]
    impl PriceListApi for OneType {
        async fn ec2_on_demand(&self, region: &str, t: &str) -> Result<Option<Ec2Price>, ProviderError> {
            Ok((region == "us-east-1" && t == "g6.xlarge").then_some(Ec2Price { hourly: 0.8, gpus: 1 }))
        }
        async fn ec2_spot(&self, _: &str, _: &str) -> Result<Option<f64>, ProviderError> {
            Ok(None)
        }
    }

    fn book(entries: serde_json::Value) -> PriceBook {
        PriceBook::parse(&serde_json::json!({"source": "s: test", "date": "2026-12-01", "currency": "USD", "prices": entries}).to_string()).unwrap()
    }

    #[tokio::test]
    async fn google_prices_are_carried_over_and_a_warning_only_when_something_was_not_read() {
        let aws = serde_json::json!({"cloud": "aws", "regions": ["us-east-1"], "sku": "g6.xlarge", "hourly": 1.0});
        let tpu = serde_json::json!({"cloud": "gcp", "regions": ["us-east5"], "sku": "tpu-v6e", "unit": "chip", "hourly": 2.7, "accelerators": 1});
        let g2 = serde_json::json!({"cloud": "gcp", "regions": ["us-central1"], "sku": "g2-standard-8", "hourly": 0.85, "accelerators": 1});

        // TPU chips only: nothing to read on Google Cloud, nothing to warn about.
        let current = book(serde_json::json!([aws, tpu]));
        let want = wanted(&current, &[], &LoadOptions::default(), None).unwrap();
        let u = update(&current, &want, &OneType, None, "2026-12-05", &|_| {}).await.unwrap();
        assert_eq!(u.carried_over, None);
        assert!(u.book.prices.iter().any(|p| p.sku == "tpu-v6e") && u.book.prices.iter().any(|p| p.sku == "g6.xlarge" && p.hourly == 0.8));
        assert!(u.book.source.contains("Google Cloud prices carried over from s of 2026-12-01"), "{}", u.book.source);

        // A machine type to price and no Google client: carried over, and said why.
        let current = book(serde_json::json!([aws, tpu, g2]));
        let want = wanted(&current, &[], &LoadOptions::default(), None).unwrap();
        let u = update(&current, &want, &OneType, None, "2026-12-05", &|_| {}).await.unwrap();
        assert_eq!(u.carried_over.as_deref(), Some("no Google credentials"));
        assert!(u.book.prices.iter().any(|p| p.sku == "g2-standard-8" && p.hourly == 0.85));
    }
}
