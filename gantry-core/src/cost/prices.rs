//! Hourly prices of machines: a price book (the snapshot bundled with
//! gantry, or a file of the same shape named by `GANTRY_PRICE_FILE`, e.g.
//! a company's negotiated prices), looked up by cloud, region and SKU.

use serde::{Deserialize, Serialize};

const BUNDLED: &str = include_str!("../../../prices/snapshot.json");

/// What a price is for: one machine, or one accelerator chip (Cloud TPU
/// bills per chip-hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Per machine (or attached GPU) and hour.
    #[default]
    Instance,
    /// Per TPU chip and hour.
    Chip,
}

/// One price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceEntry {
    /// `aws` or `gcp`.
    pub cloud: String,
    /// Regions the price holds in.
    pub regions: Vec<String>,
    /// An instance or machine type (`g6.12xlarge`, `g2-standard-8`), a
    /// GPU model attached to a machine (`nvidia-tesla-t4`), or a TPU
    /// generation (`tpu-v6e`).
    pub sku: String,
    /// What one price is for.
    #[serde(default)]
    pub unit: Unit,
    /// On-demand price per unit-hour.
    pub hourly: f64,
    /// A spot price per unit-hour when the source gave one (an estimate:
    /// spot prices move).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_hourly: Option<f64>,
    /// GPUs (or TPU chips) per unit.
    #[serde(default)]
    pub accelerators: u32,
}

impl PriceEntry {
    /// One machine's (or attached GPU's) price in one region, as a price update reads it.
    pub fn per_instance(cloud: &str, region: &str, sku: &str, hourly: f64, spot_hourly: Option<f64>, accelerators: u32) -> PriceEntry {
        PriceEntry { cloud: cloud.into(), regions: vec![region.into()], sku: sku.into(), unit: Unit::Instance, hourly, spot_hourly, accelerators }
    }
}

/// A dated set of prices and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceBook {
    /// Where the prices came from (a snapshot's pages, or an API).
    pub source: String,
    /// When they were read (`YYYY-MM-DD`).
    pub date: String,
    /// ISO 4217 currency (`USD`).
    pub currency: String,
    /// Every price.
    pub prices: Vec<PriceEntry>,
}

impl PriceBook {
    /// The snapshot shipped with this gantry.
    pub fn bundled() -> PriceBook {
        PriceBook::parse(BUNDLED).expect("the bundled price snapshot parses (tested)")
    }

    /// The book plans use: `GANTRY_PRICE_FILE` when set, else the bundled snapshot.
    pub fn current() -> Result<PriceBook, String> {
        match std::env::var_os("GANTRY_PRICE_FILE") {
            None => Ok(PriceBook::bundled()),
            Some(path) => {
                let path = std::path::PathBuf::from(path);
                let bytes = crate::core::bounded::read_limited(&path, crate::core::bounded::TEXT_LIMIT)
                    .map_err(|e| format!("GANTRY_PRICE_FILE {}: {e}", path.display()))?;
                PriceBook::parse(&String::from_utf8_lossy(&bytes)).map_err(|e| format!("GANTRY_PRICE_FILE {}: {e}", path.display()))
            }
        }
    }

    /// Parses and checks a price book: every price a finite amount ≥ 0.
    pub fn parse(text: &str) -> Result<PriceBook, String> {
        let book: PriceBook = serde_json::from_str(text).map_err(|e| format!("not a price book: {e}"))?;
        if book.date.trim().is_empty() || book.source.trim().is_empty() {
            return Err("a price book says where its prices come from (source) and when (date)".into());
        }
        let amount = |x: f64| x.is_finite() && x >= 0.0;
        if let Some(p) = book.prices.iter().find(|p| !amount(p.hourly) || p.spot_hourly.is_some_and(|s| !amount(s))) {
            return Err(format!("{} {}: the hourly price {} is not an amount", p.cloud, p.sku, p.hourly));
        }
        Ok(book)
    }

    /// The price of `sku` in `region`, if the book has one.
    pub fn find(&self, cloud: &str, region: &str, sku: &str) -> Option<&PriceEntry> {
        self.prices.iter().find(|p| p.cloud == cloud && p.sku == sku && p.regions.iter().any(|r| r == region))
    }
}

/// A source's names without their details (`gantry's bundled snapshot`;
/// `AWS Price List Query API, Cloud Billing Catalog API, Cloud TPU prices
/// carried over from …` for a book read from several), for one-line mentions.
pub fn short_source(source: &str) -> String {
    let name = |part: &str| {
        let part = part.split(':').next().unwrap_or(part);
        let end = [" (", " read "].iter().filter_map(|m| part.find(m)).min().unwrap_or(part.len());
        part[..end].trim().to_string()
    };
    source.split(';').map(name).filter(|n| !n.is_empty()).collect::<Vec<_>>().join(", ")
}

/// A price as written in a plan: at most six decimals (`$0.853608/h`,
/// not the float's `0.8536079999999999`).
pub fn rate(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// A Google Cloud zone's region (`us-central1-a` → `us-central1`).
pub fn zone_region(zone: &str) -> &str {
    match zone.rsplit_once('-') {
        Some((region, z)) if z.len() == 1 => region,
        _ => zone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_snapshot_parses_and_finds_the_shipped_stacks_types() {
        let b = PriceBook::bundled();
        assert_eq!(b.currency, "USD");
        for (cloud, region, sku) in [
            ("aws", "us-east-1", "g6.12xlarge"),
            ("aws", "us-west-2", "r6in.16xlarge"),
            ("aws", "us-east-1", "g5.12xlarge"),
            ("gcp", "us-central1", "g2-standard-8"),
            ("gcp", "us-west4", "tpu-v5e"),
            ("gcp", "us-east5", "tpu-v6e"),
        ] {
            assert!(b.find(cloud, region, sku).is_some(), "{cloud} {region} {sku}");
        }
        assert!(b.find("aws", "eu-west-1", "g6.12xlarge").is_none(), "no price is guessed for another region");
        assert_eq!(zone_region("us-central1-a"), "us-central1");
        assert_eq!(short_source(&b.source), "gantry's bundled snapshot");
        let read = "AWS Price List Query API (GetProducts, Linux) read 2026-12-05; Cloud Billing Catalog API (Compute Engine SKUs) read 2026-12-05; Cloud TPU prices carried over from gantry's bundled snapshot of 2026-12-04";
        assert_eq!(
            short_source(read),
            "AWS Price List Query API, Cloud Billing Catalog API, Cloud TPU prices carried over from gantry's bundled snapshot of 2026-12-04"
        );
        assert_eq!(rate(8.0 * 0.024988 + 32.0 * 0.002927 + 0.56004), 0.853608);
    }

    #[test]
    fn a_price_book_must_say_its_source_and_hold_amounts() {
        assert!(PriceBook::parse(r#"{"source": "", "date": "d", "currency": "USD", "prices": []}"#).is_err());
        let bad = r#"{"source": "s", "date": "d", "currency": "USD", "prices": [{"cloud": "aws", "regions": ["r"], "sku": "x", "hourly": -1}]}"#;
        assert!(PriceBook::parse(bad).unwrap_err().contains("not an amount"));
    }
}
