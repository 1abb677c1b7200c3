//! The Google Cloud half of `gantry prices update`: Compute Engine machine
//! types and GPUs priced from the Cloud Billing Catalog (on-demand and
//! spot), machine shapes read from Compute in a zone that offers the type.
//! Cloud TPU chips are carried over from the current book: the catalog
//! lacks TPU prices for many regions and may list commitment prices in
//! their place (dstackai/gpuhunt keeps a hand-filled TPU table for that
//! reason, src/gpuhunt/providers/gcp.py).

use crate::cloud::gcp_catalog::{CatalogPrices, GcpPriceApi, MachineShape, Part};
use crate::core::error::ProviderError;
use crate::cost::prices::{rate, PriceEntry};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many Compute reads at once.
const CALLS: usize = 4;

/// What to price on Google Cloud.
#[derive(Debug, Default)]
pub(crate) struct GcpWanted {
    /// The project whose Compute API answers machine shapes.
    pub project: Option<String>,
    /// (region, machine type) → a zone known to run it (a stack's node).
    pub machines: BTreeMap<(String, String), Option<String>>,
    /// (region, accelerator type) attached to machines by count.
    pub gpus: BTreeSet<(String, String)>,
}

impl GcpWanted {
    pub(crate) fn is_empty(&self) -> bool {
        self.machines.is_empty() && self.gpus.is_empty()
    }

    /// A SKU of a book or a capacity: a GPU model, a TPU generation (not
    /// read: carried over), or a machine type.
    pub(crate) fn add(&mut self, region: &str, sku: &str, zone: Option<&str>) {
        if sku.starts_with("tpu-") {
            return;
        }
        if sku.starts_with("nvidia-") {
            self.gpus.insert((region.to_string(), sku.to_string()));
            return;
        }
        let hint = self.machines.entry((region.to_string(), sku.to_string())).or_default();
        if hint.is_none() {
            *hint = zone.map(String::from);
        }
    }
}

/// Prices read, and `sku in region: why` for what could not be priced.
pub(crate) struct GcpUpdated {
    pub prices: Vec<PriceEntry>,
    pub missing: Vec<String>,
}

/// Reads the catalog once and every machine's shape.
pub(crate) async fn update(wanted: &GcpWanted, api: &dyn GcpPriceApi, progress: &dyn Fn(String)) -> Result<GcpUpdated, ProviderError> {
    let skus = api.compute_skus().await?;
    progress(format!("read {} Compute Engine SKU(s) from the Cloud Billing Catalog", skus.len()));
    let catalog = CatalogPrices::read(&skus);
    let mut prices = Vec::new();
    let mut missing = Vec::new();
    for (region, gpu) in &wanted.gpus {
        let part = Part::Gpu(gpu.clone());
        match catalog.part(&part, region, false) {
            Some(hourly) => prices.push(entry(region, gpu, hourly, catalog.part(&part, region, true), 1)),
            None => missing.push(format!("{gpu} in {region}: the catalog has no on-demand price")),
        }
    }
    if !wanted.machines.is_empty() {
        let Some(project) = wanted.project.as_deref() else {
            missing.extend(wanted.machines.keys().map(|(r, t)| format!("{t} in {r}: no Google Cloud project to read its shape from (--gcp-project)")));
            return Ok(GcpUpdated { prices, missing });
        };
        let zones = region_zones(wanted, api, project).await?;
        let reads = wanted.machines.iter().map(|((region, t), hint)| {
            let candidates: Vec<String> = hint.iter().cloned().chain(zones.get(region).into_iter().flatten().cloned()).collect();
            async move { shape(api, project, t, &candidates).await.map(|s| (region, t, s)) }
        });
        let shapes: Vec<_> = futures::stream::iter(reads).buffer_unordered(CALLS).try_collect().await?;
        for (region, t, shape) in shapes {
            let Some(shape) = shape else {
                missing.push(format!("{t} in {region}: no zone of the region offers it"));
                continue;
            };
            match catalog.machine(region, t, &shape, false) {
                Ok(hourly) => {
                    let gpus = shape.accelerators.iter().map(|a| a.guest_accelerator_count).sum();
                    prices.push(entry(region, t, hourly, catalog.machine(region, t, &shape, true).ok(), gpus));
                }
                Err(why) => missing.push(format!("{t} in {region}: {why}")),
            }
        }
    }
    prices.sort_by(|a, b| (&a.sku, &a.regions).cmp(&(&b.sku, &b.regions)));
    missing.sort();
    Ok(GcpUpdated { prices, missing })
}

/// The zones of each region a machine has no known zone in.
async fn region_zones(wanted: &GcpWanted, api: &dyn GcpPriceApi, project: &str) -> Result<BTreeMap<String, Vec<String>>, ProviderError> {
    let regions: BTreeSet<&String> = wanted.machines.iter().filter(|(_, hint)| hint.is_none()).map(|((r, _), _)| r).collect();
    let reads = regions.into_iter().map(|r| async move { api.region_zones(project, r).await.map(|z| (r.clone(), z)) });
    futures::stream::iter(reads).buffer_unordered(CALLS).try_collect().await
}

/// The shape from the first zone that offers the type (not every zone of
/// a region offers every GPU family).
async fn shape(api: &dyn GcpPriceApi, project: &str, machine_type: &str, zones: &[String]) -> Result<Option<MachineShape>, ProviderError> {
    for zone in zones {
        if let Some(s) = api.machine_type(project, zone, machine_type).await? {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// A price summed from catalog parts, at six decimals (no float noise in the book).
fn entry(region: &str, sku: &str, hourly: f64, spot_hourly: Option<f64>, accelerators: u32) -> PriceEntry {
    PriceEntry::per_instance("gcp", region, sku, rate(hourly), spot_hourly.map(rate), accelerators)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::gcp_catalog::{MachineAccelerator, Sku};
    use async_trait::async_trait;
    use std::sync::Mutex;

    /// us-central1's zone a does not offer g2; b does.
    struct Fake {
        reads: Mutex<Vec<String>>,
    }

    fn sku(description: &str, usage: &str, unit: &str, nanos: i64) -> Sku {
        serde_json::from_value(serde_json::json!({"description": description,
            "category": {"resourceFamily": "Compute", "usageType": usage}, "serviceRegions": ["us-central1"],
            "pricingInfo": [{"pricingExpression": {"usageUnit": unit, "tieredRates": [{"startUsageAmount": 0, "unitPrice": {"currencyCode": "USD", "units": "0", "nanos": nanos}}]}}]}))
        .unwrap()
    }

    #[async_trait]
    impl GcpPriceApi for Fake {
        async fn compute_skus(&self) -> Result<Vec<Sku>, ProviderError> {
            Ok(vec![
                sku("G2 Instance Core running in Americas", "OnDemand", "h", 25_000_000),
                sku("G2 Instance Ram running in Americas", "OnDemand", "GiBy.h", 3_000_000),
                sku("Nvidia L4 GPU running in Americas", "OnDemand", "h", 560_000_000),
                sku("Nvidia Tesla T4 GPU running in Americas", "OnDemand", "h", 350_000_000),
            ])
        }
        async fn region_zones(&self, _: &str, region: &str) -> Result<Vec<String>, ProviderError> {
            self.reads.lock().unwrap().push(format!("zones {region}"));
            Ok(vec![format!("{region}-a"), format!("{region}-b")])
        }
        async fn machine_type(&self, _: &str, zone: &str, name: &str) -> Result<Option<MachineShape>, ProviderError> {
            self.reads.lock().unwrap().push(format!("{name} in {zone}"));
            let acc = vec![MachineAccelerator { guest_accelerator_type: "nvidia-l4".into(), guest_accelerator_count: 2 }];
            Ok((zone.ends_with("-b") && name == "g2-standard-24").then_some(MachineShape { guest_cpus: 24, memory_mb: 98_304, accelerators: acc }))
        }
    }

    #[tokio::test]
    async fn machines_take_their_shape_from_a_zone_that_offers_them() {
        let api = Fake { reads: Mutex::new(Vec::new()) };
        let mut w = GcpWanted { project: Some("p".into()), ..GcpWanted::default() };
        w.add("us-central1", "g2-standard-24", None);
        w.add("us-central1", "nvidia-tesla-t4", Some("us-central1-a"));
        w.add("us-central1", "tpu-v6e", None);
        w.add("us-central1", "g2-standard-999", None);
        let u = update(&w, &api, &|_| {}).await.unwrap();
        let g2 = u.prices.iter().find(|p| p.sku == "g2-standard-24").unwrap();
        assert!((g2.hourly - (24.0 * 0.025 + 96.0 * 0.003 + 2.0 * 0.56)).abs() < 1e-9, "{g2:?}");
        assert_eq!((g2.accelerators, g2.spot_hourly), (2, None), "no spot SKUs: no spot price");
        assert_eq!(u.prices.iter().find(|p| p.sku == "nvidia-tesla-t4").unwrap().hourly, 0.35);
        assert!(u.prices.iter().all(|p| p.sku != "tpu-v6e"), "TPU chips are not read from the catalog");
        assert_eq!(u.missing, vec!["g2-standard-999 in us-central1: no zone of the region offers it"]);
        let reads = api.reads.lock().unwrap().clone();
        assert!(reads.contains(&"g2-standard-24 in us-central1-a".to_string()) && reads.contains(&"g2-standard-24 in us-central1-b".to_string()));
        assert_eq!(reads.iter().filter(|r| r.starts_with("zones")).count(), 1, "a region's zones are read once");

        // Without a project machine shapes cannot be read: said, not guessed.
        let w = GcpWanted { machines: [(("us-central1".into(), "g2-standard-8".into()), None)].into(), ..GcpWanted::default() };
        let u = update(&w, &api, &|_| {}).await.unwrap();
        assert!(u.prices.is_empty() && u.missing[0].contains("no Google Cloud project"), "{:?}", u.missing);
    }
}
