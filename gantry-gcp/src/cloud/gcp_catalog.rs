//! Compute Engine prices from the Cloud Billing Catalog API (v1
//! `services.skus.list`) and machine shapes from Compute (`regions.get`,
//! `machineTypes.get`), for `gantry prices update`.
//!
//! The catalog prices parts, not machines: a machine type costs its vCPUs
//! × its family's core SKU + its memory in GiB × the family's RAM SKU + its
//! GPUs × the GPU's SKU (a `g2-standard-8` is 8 "G2 Instance Core", 32 GiB
//! of "G2 Instance Ram" and one "Nvidia L4 GPU", each "running in" a place
//! whose regions the SKU's `serviceRegions` list). Spot prices are the
//! `Preemptible` SKUs ("Spot Preemptible G2 Instance Core …").

use crate::cloud::gcp_rest::{query_value, GoogleRest};
use crate::core::error::ProviderError;
use async_trait::async_trait;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// Compute Engine's service ID in the catalog.
pub(crate) const COMPUTE_SERVICE: &str = "6F81-5844-456A";

/// One SKU as `services.skus.list` answers it (the fields gantry reads).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sku {
    /// e.g. "Nvidia L4 GPU running in Americas".
    pub description: String,
    /// What the SKU is for (family, usage type).
    pub category: Category,
    /// Regions the price applies in.
    #[serde(default)]
    pub service_regions: Vec<String>,
    /// Its pricing, in chronological order (the API gives one, the current).
    #[serde(default)]
    pub pricing_info: Vec<PricingInfo>,
}

/// A SKU's category.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    /// e.g. Compute.
    #[serde(default)]
    pub resource_family: String,
    /// OnDemand, Preemptible (spot) or Commit1Yr...
    #[serde(default)]
    pub usage_type: String,
}

/// One price of a SKU.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingInfo {
    /// How the price is computed.
    pub pricing_expression: PricingExpression,
}

/// Price per unit, by usage tier.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingExpression {
    /// e.g. h (hour), GiBy.h (GiB-hour).
    pub usage_unit: String,
    /// The tiers, from the first unit used.
    #[serde(default)]
    pub tiered_rates: Vec<TierRate>,
}

/// One usage tier's price.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TierRate {
    /// Where the tier starts, in usage units.
    #[serde(default)]
    pub start_usage_amount: f64,
    /// The price per unit in the tier.
    pub unit_price: Money,
}

/// `google.type.Money`: `units` is an int64, which JSON carries as a string.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    /// ISO 4217, e.g. USD.
    #[serde(default)]
    pub currency_code: String,
    /// Whole units of the currency.
    #[serde(default, deserialize_with = "int64")]
    pub units: i64,
    /// Billionths of a unit.
    #[serde(default)]
    pub nanos: i64,
}

fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int64 {
        Text(String),
        Number(i64),
    }
    match Int64::deserialize(d)? {
        Int64::Number(n) => Ok(n),
        Int64::Text(t) => t.parse().map_err(serde::de::Error::custom),
    }
}

/// A machine type's shape (`machineTypes.get`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineShape {
    /// vCPUs.
    pub guest_cpus: u32,
    /// Memory, MiB.
    pub memory_mb: u64,
    /// Attached GPUs (A2, A3, G2 types).
    #[serde(default)]
    pub accelerators: Vec<MachineAccelerator>,
}

/// A machine type's GPUs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineAccelerator {
    /// e.g. nvidia-l4.
    pub guest_accelerator_type: String,
    /// How many.
    pub guest_accelerator_count: u32,
}

/// The Google reads `prices update` makes.
#[async_trait]
pub trait GcpPriceApi: Send + Sync {
    /// Every public Compute Engine SKU, in USD (all pages).
    async fn compute_skus(&self) -> Result<Vec<Sku>, ProviderError>;
    /// The zones of a region.
    async fn region_zones(&self, project: &str, region: &str) -> Result<Vec<String>, ProviderError>;
    /// A machine type in a zone; None when the zone does not offer it.
    async fn machine_type(&self, project: &str, zone: &str, name: &str) -> Result<Option<MachineShape>, ProviderError>;
}

/// What a price is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// A family's vCPU-hour (`g2`).
    Core(String),
    /// A family's GiB-hour of memory.
    Ram(String),
    /// A GPU-hour, by Compute's accelerator type (`nvidia-l4`).
    Gpu(String),
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Core(family) => write!(f, "{family} vCPU"),
            Part::Ram(family) => write!(f, "{family} memory"),
            Part::Gpu(t) => write!(f, "{t} GPU"),
        }
    }
}

/// Descriptions of SKUs that are not the plain on-demand or spot price of
/// a part (gpuhunt's list, plus commitments and workstation licences).
const NOT_PLAIN: [&str; 8] = ["Sole Tenancy", "Reserved", "Premium", "Custom", "suspended", "Commitment", "Virtual Workstation", "Extended"];

/// Part prices per region, on-demand and spot.
#[derive(Debug, Default)]
pub struct CatalogPrices {
    prices: BTreeMap<(Part, String, bool), f64>,
}

impl CatalogPrices {
    /// The on-demand and spot price of each part and region the SKUs give.
    pub fn read(skus: &[Sku]) -> CatalogPrices {
        let mut prices = BTreeMap::new();
        for sku in skus {
            let Some((part, spot, unit)) = classify(sku) else { continue };
            let Some(price) = hourly(sku, unit) else { continue };
            for region in &sku.service_regions {
                prices.insert((part.clone(), region.clone(), spot), price);
            }
        }
        CatalogPrices { prices }
    }

    /// The hourly price of one part in a region, if the catalog has it.
    pub fn part(&self, part: &Part, region: &str, spot: bool) -> Option<f64> {
        self.prices.get(&(part.clone(), region.to_string(), spot)).copied()
    }

    /// A machine type's hourly price in a region: its parts summed. The
    /// error names the first part the catalog has no price for.
    pub fn machine(&self, region: &str, machine_type: &str, shape: &MachineShape, spot: bool) -> Result<f64, String> {
        let family = machine_type.split('-').next().unwrap_or(machine_type).to_string();
        let find = |p: Part| self.part(&p, region, spot).ok_or_else(|| format!("the catalog has no {}{p} price in {region}", if spot { "spot " } else { "" }));
        let mut total = shape.guest_cpus as f64 * find(Part::Core(family.clone()))?;
        total += shape.memory_mb as f64 / 1024.0 * find(Part::Ram(family))?;
        for a in &shape.accelerators {
            total += a.guest_accelerator_count as f64 * find(Part::Gpu(a.guest_accelerator_type.clone()))?;
        }
        Ok(total)
    }
}

/// Which part a SKU prices, whether it is spot, and the unit it must be in.
fn classify(sku: &Sku) -> Option<(Part, bool, &'static str)> {
    let spot = match sku.category.usage_type.as_str() {
        "OnDemand" => false,
        "Preemptible" => true,
        _ => return None,
    };
    if sku.category.resource_family != "Compute" || NOT_PLAIN.iter().any(|w| sku.description.contains(w)) {
        return None;
    }
    let d = sku.description.strip_prefix("Spot Preemptible ").unwrap_or(&sku.description);
    let (head, _place) = d.split_once(" running in ")?;
    if let Some(i) = head.find(" GPU") {
        return Some((Part::Gpu(accelerator_type(&head[..i])), spot, "h"));
    }
    if let Some(f) = head.strip_suffix(" Core") {
        return Some((Part::Core(family(f)?), spot, "h"));
    }
    let f = head.strip_suffix(" Ram")?;
    Some((Part::Ram(family(f)?), spot, "GiBy.h"))
}

/// `N1 Predefined Instance` → `n1`, `T2D AMD Instance` → `t2d`.
fn family(words: &str) -> Option<String> {
    let first = words.split(' ').next()?.to_ascii_lowercase();
    let b = first.as_bytes();
    let shaped = (2..=3).contains(&b.len()) && b[0].is_ascii_lowercase() && b[1].is_ascii_digit() && b[2..].iter().all(u8::is_ascii_lowercase);
    if shaped {
        return Some(first);
    }
    match words {
        "Compute optimized" | "Compute optimized Instance" => Some("c2".into()),
        "Memory-optimized Instance" => Some("m1".into()),
        _ => None,
    }
}

/// `Nvidia Tesla T4` → `nvidia-tesla-t4`, Compute's accelerator type
/// (`Nvidia Tesla A100 80GB` is `nvidia-a100-80gb` there).
fn accelerator_type(name: &str) -> String {
    let t = name.to_ascii_lowercase().replace(' ', "-");
    match t.as_str() {
        "nvidia-tesla-a100-80gb" => "nvidia-a100-80gb".into(),
        _ => t,
    }
}

/// The SKU's USD price per unit-hour: the first tier's (parts are not
/// tiered), when the unit is the one its part is billed in.
fn hourly(sku: &Sku, unit: &str) -> Option<f64> {
    let expr = &sku.pricing_info.first()?.pricing_expression;
    if expr.usage_unit != unit {
        return None;
    }
    let rate = expr.tiered_rates.iter().find(|r| r.start_usage_amount == 0.0)?;
    let m = &rate.unit_price;
    (m.currency_code == "USD" || m.currency_code.is_empty()).then(|| m.units as f64 + m.nanos as f64 / 1e9)
}

/// The catalog and Compute over REST.
pub struct GcpPriceRest {
    rest: GoogleRest,
    billing: String,
    compute: String,
}

impl GcpPriceRest {
    /// Against the endpoint the other Google clients use (`gcp::endpoint`).
    pub fn connect(stats: std::sync::Arc<crate::core::calls::ApiStats>) -> Result<GcpPriceRest, ProviderError> {
        GcpPriceRest::new(crate::cloud::gcp::endpoint()?.as_deref(), stats)
    }

    fn new(endpoint: Option<&str>, stats: std::sync::Arc<crate::core::calls::ApiStats>) -> Result<GcpPriceRest, ProviderError> {
        let (billing, compute) = match endpoint.map(|e| e.trim_end_matches('/')) {
            Some(ep) => (format!("{ep}/v1/"), format!("{ep}/compute/v1/")),
            None => ("https://cloudbilling.googleapis.com/v1/".into(), "https://compute.googleapis.com/compute/v1/".into()),
        };
        Ok(GcpPriceRest { rest: GoogleRest::new("gcp-billing", endpoint, stats)?, billing, compute })
    }
}

#[async_trait]
impl GcpPriceApi for GcpPriceRest {
    async fn compute_skus(&self) -> Result<Vec<Sku>, ProviderError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            #[serde(default)]
            skus: Vec<Sku>,
            #[serde(default)]
            next_page_token: String,
        }
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let url = format!("{}services/{COMPUTE_SERVICE}/skus?currencyCode=USD&pageSize=5000&pageToken={}", self.billing, query_value(&token));
            let page: Page = self.rest.send("ListSkus", reqwest::Method::GET, url, None).await?;
            out.extend(page.skus);
            if page.next_page_token.is_empty() {
                return Ok(out);
            }
            token = page.next_page_token;
        }
    }

    async fn region_zones(&self, project: &str, region: &str) -> Result<Vec<String>, ProviderError> {
        #[derive(Deserialize)]
        struct Region {
            #[serde(default)]
            zones: Vec<String>,
        }
        let url = format!("{}projects/{project}/regions/{region}", self.compute);
        let r: Region = self.rest.send("GetRegion", reqwest::Method::GET, url, None).await?;
        Ok(r.zones.iter().map(|z| z.rsplit('/').next().unwrap_or(z).to_string()).collect())
    }

    async fn machine_type(&self, project: &str, zone: &str, name: &str) -> Result<Option<MachineShape>, ProviderError> {
        let url = format!("{}projects/{project}/zones/{zone}/machineTypes/{name}", self.compute);
        match self.rest.send("GetMachineType", reqwest::Method::GET, url, None).await {
            Ok(shape) => Ok(Some(shape)),
            Err(e) if e.class == crate::core::error::ErrorClass::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SKUs in the shape of the catalog's reference answer.
    fn sku(description: &str, usage: &str, regions: &[&str], unit: &str, units: &str, nanos: i64) -> Sku {
        serde_json::from_value(serde_json::json!({
            "name": "services/6F81-5844-456A/skus/X", "skuId": "X", "description": description,
            "category": {"serviceDisplayName": "Compute Engine", "resourceFamily": "Compute", "resourceGroup": "G", "usageType": usage},
            "serviceRegions": regions,
            "pricingInfo": [{"summary": "", "effectiveTime": "2026-12-01T00:00:00Z",
                "pricingExpression": {"usageUnit": unit, "displayQuantity": 1, "baseUnit": "s", "baseUnitConversionFactor": 3600,
                    "tieredRates": [{"startUsageAmount": 0, "unitPrice": {"currencyCode": "USD", "units": units, "nanos": nanos}}]},
                "currencyConversionRate": 1}],
            "serviceProviderName": "Google", "geoTaxonomy": {"type": "MULTI_REGIONAL", "regions": regions}
        }))
        .unwrap()
    }

    #[test]
    fn a_machine_is_priced_from_its_parts_and_lookalikes_are_not_taken() {
        let r = ["us-central1", "us-east4"];
        let skus = vec![
            sku("G2 Instance Core running in Americas", "OnDemand", &r, "h", "0", 24_988_000),
            sku("G2 Instance Ram running in Americas", "OnDemand", &r, "GiBy.h", "0", 2_927_000),
            sku("Nvidia L4 GPU running in Americas", "OnDemand", &r, "h", "0", 560_040_000),
            sku("Spot Preemptible G2 Instance Core running in Americas", "Preemptible", &r, "h", "0", 9_000_000),
            sku("Spot Preemptible G2 Instance Ram running in Americas", "Preemptible", &r, "GiBy.h", "0", 1_000_000),
            sku("Nvidia L4 GPU attached to Spot Preemptible VMs running in Americas", "Preemptible", &r, "h", "0", 200_000_000),
            // Lookalikes that must not replace the plain prices.
            sku("Commitment v1: G2 Cpu in Americas for 1 Year", "Commit1Yr", &r, "h", "0", 1),
            sku("G2 Custom Instance Core running in Americas", "OnDemand", &r, "h", "5", 0),
            sku("Sole Tenancy Instance Core running in Americas", "OnDemand", &r, "h", "5", 0),
            sku("Nvidia L4 GPU Virtual Workstation running in Americas", "OnDemand", &r, "h", "5", 0),
            sku("N1 Predefined Instance Core running in Americas", "OnDemand", &r, "h", "0", 31_611_000),
            sku("Nvidia Tesla T4 GPU running in Americas", "OnDemand", &["us-central1"], "h", "0", 350_000_000),
        ];
        let p = CatalogPrices::read(&skus);
        let g2_8 = MachineShape {
            guest_cpus: 8,
            memory_mb: 32_768,
            accelerators: vec![MachineAccelerator { guest_accelerator_type: "nvidia-l4".into(), guest_accelerator_count: 1 }],
        };
        let on_demand = p.machine("us-east4", "g2-standard-8", &g2_8, false).unwrap();
        assert!((on_demand - (8.0 * 0.024988 + 32.0 * 0.002927 + 0.56004)).abs() < 1e-9, "{on_demand}");
        let spot = p.machine("us-east4", "g2-standard-8", &g2_8, true).unwrap();
        assert!((spot - (8.0 * 0.009 + 32.0 * 0.001 + 0.2)).abs() < 1e-9, "{spot}");
        assert_eq!(p.part(&Part::Core("n1".into()), "us-central1", false), Some(0.031611));
        assert_eq!(p.part(&Part::Gpu("nvidia-tesla-t4".into()), "us-central1", false), Some(0.35));
        assert!(p.machine("europe-west4", "g2-standard-8", &g2_8, false).unwrap_err().contains("no g2 vCPU price in europe-west4"));
    }

    #[test]
    fn names_and_units_read_as_compute_spells_them() {
        assert_eq!(family("T2D AMD Instance").as_deref(), Some("t2d"));
        assert_eq!(family("N1 Predefined Instance").as_deref(), Some("n1"));
        assert_eq!(family("Compute optimized").as_deref(), Some("c2"));
        assert_eq!(family("Licensing Fee for"), None);
        assert_eq!(accelerator_type("Nvidia Tesla A100 80GB"), "nvidia-a100-80gb");
        assert_eq!(accelerator_type("Nvidia H100 80GB"), "nvidia-h100-80gb");
        // RAM billed per GiB-hour; a SKU in another unit is not a RAM price.
        let odd = sku("G2 Instance Ram running in Americas", "OnDemand", &["us-central1"], "GiBy.mo", "2", 0);
        assert!(CatalogPrices::read(&[odd]).part(&Part::Ram("g2".into()), "us-central1", false).is_none());
        let m: Money = serde_json::from_str(r#"{"currencyCode": "USD", "units": "1", "nanos": 500000000}"#).unwrap();
        assert_eq!((m.units, m.nanos), (1, 500_000_000));
    }
}
