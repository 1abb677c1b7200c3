//! The fake Cloud Billing Catalog (v1 `services/{id}/skus`) and the
//! Compute reads that give machine types their shape (`regions.get`,
//! `machineTypes.get`), for `gantry prices update`.
//!
//! SKUs are in the reference's shape (cloud.google.com/billing/v1/how-tos/
//! catalog-api: description, category with resourceFamily/usageType,
//! serviceRegions, pricingInfo[].pricingExpression with usageUnit and
//! tieredRates of Money whose int64 `units` is a string); pages of at most
//! 5,000 with `nextPageToken`. The seed holds the parts of G2 and N1
//! machines in Google's descriptions ("G2 Instance Core running in
//! Americas", "Spot Preemptible …", "Nvidia L4 GPU attached to Spot
//! Preemptible VMs running in …") at the public prices of 2026-12, and
//! lookalikes a reader must not take (commitments, custom, sole tenancy,
//! workstation licences). Machine types are the documented shapes
//! (cloud.google.com/compute/docs/gpus: G2 machine types; N1 standard),
//! offered only in the zones the GPU regions-and-zones table lists for G2.

use crate::gcp_store::{error, FakeGcp};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// Compute Engine's service ID.
const COMPUTE: &str = "6F81-5844-456A";

const AMERICAS: [&str; 6] = ["us-central1", "us-east1", "us-east4", "us-east5", "us-west1", "us-west4"];

/// A SKU at `price` USD per unit.
pub fn sku(description: &str, usage: &str, regions: &[&str], unit: &str, price: f64) -> Value {
    let units = price.trunc() as i64;
    let nanos = ((price - units as f64) * 1e9).round() as i64;
    let family = if description.contains("Storage") { "Storage" } else { "Compute" };
    json!({
        "name": format!("services/{COMPUTE}/skus/{:04X}", description.len() * 31 + usage.len()),
        "skuId": format!("{:04X}-{:04X}", description.len(), usage.len()),
        "description": description,
        "category": {"serviceDisplayName": "Compute Engine", "resourceFamily": family, "resourceGroup": "CPU", "usageType": usage},
        "serviceRegions": regions,
        "pricingInfo": [{
            "summary": "",
            "pricingExpression": {
                "usageUnit": unit, "displayQuantity": 1, "baseUnit": if unit == "h" { "s" } else { "By.s" },
                "baseUnitConversionFactor": 3600,
                "tieredRates": [{"startUsageAmount": 0, "unitPrice": {"currencyCode": "USD", "units": units.to_string(), "nanos": nanos}}]
            },
            "currencyConversionRate": 1,
            "effectiveTime": "2026-12-01T08:00:00.000Z"
        }],
        "serviceProviderName": "Google",
        "geoTaxonomy": {"type": if regions.len() > 1 { "MULTI_REGIONAL" } else { "REGIONAL" }, "regions": regions}
    })
}

/// The catalog a fresh fake answers.
pub(crate) fn seed() -> Vec<Value> {
    let a = &AMERICAS[..];
    vec![
        sku("G2 Instance Core running in Americas", "OnDemand", a, "h", 0.024988),
        sku("G2 Instance Ram running in Americas", "OnDemand", a, "GiBy.h", 0.002927),
        sku("Nvidia L4 GPU running in Americas", "OnDemand", a, "h", 0.56004),
        sku("Spot Preemptible G2 Instance Core running in Americas", "Preemptible", a, "h", 0.009995),
        sku("Spot Preemptible G2 Instance Ram running in Americas", "Preemptible", a, "GiBy.h", 0.001171),
        sku("Nvidia L4 GPU attached to Spot Preemptible VMs running in Americas", "Preemptible", a, "h", 0.224016),
        sku("N1 Predefined Instance Core running in Americas", "OnDemand", a, "h", 0.031611),
        sku("N1 Predefined Instance Ram running in Americas", "OnDemand", a, "GiBy.h", 0.004237),
        sku("Nvidia Tesla T4 GPU running in Americas", "OnDemand", a, "h", 0.35),
        sku("Nvidia Tesla T4 GPU attached to Spot Preemptible VMs running in Americas", "Preemptible", a, "h", 0.14),
        sku("G2 Instance Core running in Netherlands", "OnDemand", &["europe-west4"], "h", 0.027502),
        // Lookalikes: not the on-demand price of a part.
        sku("Commitment v1: G2 Cpu in Americas for 1 Year", "Commit1Yr", a, "h", 0.015743),
        sku("G2 Custom Instance Core running in Americas", "OnDemand", a, "h", 0.026237),
        sku("Sole Tenancy Instance Core running in Americas", "OnDemand", a, "h", 0.034772),
        sku("Nvidia L4 GPU Virtual Workstation running in Americas", "OnDemand", a, "h", 0.2),
        sku("Storage PD Capacity", "OnDemand", a, "GiBy.mo", 0.04),
    ]
}

#[derive(Deserialize)]
pub(crate) struct SkuQuery {
    #[serde(rename = "pageSize")]
    page_size: Option<usize>,
    #[serde(rename = "pageToken")]
    page_token: Option<String>,
    #[serde(rename = "currencyCode")]
    currency: Option<String>,
}

pub(crate) async fn skus_list(State(f): State<FakeGcp>, Path(service): Path<String>, Query(q): Query<SkuQuery>) -> Response {
    let i = match f.enter("billing.skus.list") {
        Ok(i) => i,
        Err(e) => return *e,
    };
    if service != COMPUTE {
        return error(404, "NOT_FOUND", format!("Service {service} not found"));
    }
    if q.currency.as_deref().is_some_and(|c| c != "USD") {
        return error(400, "INVALID_ARGUMENT", "fake: only USD is served");
    }
    let start: usize = match q.page_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match t.strip_prefix("sku~").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => return error(400, "INVALID_ARGUMENT", "Invalid page token"),
        },
    };
    let size = q.page_size.unwrap_or(5000).clamp(1, 5000);
    let all = &i.skus;
    let page: Vec<Value> = all.iter().skip(start).take(size).cloned().collect();
    let next = (start + size < all.len()).then(|| format!("sku~{}", start + size));
    Json(crate::gcp_paging::list_answer("skus", page, next)).into_response()
}

/// Zones per region (Compute's region list).
fn zones(region: &str) -> Option<&'static [&'static str]> {
    Some(match region {
        "us-central1" => &["a", "b", "c", "f"],
        "us-east1" => &["b", "c", "d"],
        "us-east4" | "us-west1" | "us-west4" | "us-east5" | "europe-west4" => &["a", "b", "c"],
        _ => return None,
    })
}

/// Zones that offer G2 (the GPU regions-and-zones table).
const G2_ZONES: [&str; 16] = [
    "us-central1-a",
    "us-central1-b",
    "us-central1-c",
    "us-east1-b",
    "us-east1-c",
    "us-east1-d",
    "us-east4-a",
    "us-east4-c",
    "us-west1-a",
    "us-west1-b",
    "us-west1-c",
    "us-west4-a",
    "us-west4-c",
    "europe-west4-a",
    "europe-west4-b",
    "europe-west4-c",
];

pub(crate) async fn region_get(State(f): State<FakeGcp>, Path((p, r)): Path<(String, String)>) -> Response {
    if let Err(e) = f.enter("compute.regions.get") {
        return *e;
    }
    match zones(&r) {
        Some(z) => Json(json!({
            "kind": "compute#region", "name": r, "status": "UP",
            "selfLink": format!("https://www.googleapis.com/compute/v1/projects/{p}/regions/{r}"),
            "zones": z.iter().map(|s| format!("https://www.googleapis.com/compute/v1/projects/{p}/zones/{r}-{s}")).collect::<Vec<_>>()
        }))
        .into_response(),
        None => error(404, "NOT_FOUND", format!("The resource 'projects/{p}/regions/{r}' was not found")),
    }
}

/// vCPUs, GB of memory and L4 GPUs of each G2 type; N1 standard types.
fn shape(name: &str) -> Option<(u32, u64, u32, &'static str)> {
    let g2 = [(4, 16, 1), (8, 32, 1), (12, 48, 1), (16, 64, 1), (24, 96, 2), (32, 128, 1), (48, 192, 4), (96, 384, 8)];
    if let Some(n) = name.strip_prefix("g2-standard-").and_then(|n| n.parse::<u32>().ok()) {
        return g2.iter().find(|s| s.0 == n).map(|s| (s.0, s.1 * 1024, s.2, "g2"));
    }
    let n: u32 = name.strip_prefix("n1-standard-")?.parse().ok()?;
    [1, 2, 4, 8, 16, 32, 64, 96].contains(&n).then_some((n, n as u64 * 3840, 0, "n1"))
}

pub(crate) async fn machine_type_get(State(f): State<FakeGcp>, Path((p, z, name)): Path<(String, String, String)>) -> Response {
    if let Err(e) = f.enter("compute.machineTypes.get") {
        return *e;
    }
    let offered = |family: &str| family != "g2" || G2_ZONES.contains(&z.as_str());
    match shape(&name).filter(|s| offered(s.3)) {
        Some((cpus, memory_mb, gpus, _)) => {
            let mut body = json!({
                "kind": "compute#machineType", "name": name, "zone": z, "guestCpus": cpus, "memoryMb": memory_mb,
                "isSharedCpu": false, "maximumPersistentDisks": 128, "maximumPersistentDisksSizeGb": "263168",
                "selfLink": format!("https://www.googleapis.com/compute/v1/projects/{p}/zones/{z}/machineTypes/{name}")
            });
            if gpus > 0 {
                body["accelerators"] = json!([{"guestAcceleratorType": "nvidia-l4", "guestAcceleratorCount": gpus}]);
            }
            Json(body).into_response()
        }
        None => error(404, "NOT_FOUND", format!("The resource 'projects/{p}/zones/{z}/machineTypes/{name}' was not found")),
    }
}

impl FakeGcp {
    /// Appends SKUs (e.g. enough to need a second page).
    pub fn add_skus(&self, skus: Vec<Value>) {
        self.inner.lock().unwrap().skus.extend(skus);
    }

    /// Replaces the SKU with the same description and usage type, or adds it.
    pub fn set_sku(&self, sku: Value) {
        let mut i = self.inner.lock().unwrap();
        let same = |s: &Value| s["description"] == sku["description"] && s["category"]["usageType"] == sku["category"]["usageType"];
        match i.skus.iter_mut().find(|s| same(s)) {
            Some(s) => *s = sku,
            None => i.skus.push(sku),
        }
    }
}
