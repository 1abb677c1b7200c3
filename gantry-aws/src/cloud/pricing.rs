//! EC2 prices for `gantry prices update`: on-demand from the AWS Price List
//! Query API (`pricing:GetProducts`), spot from EC2's spot price history
//! (`ec2:DescribeSpotPriceHistory`; the price list has no spot prices). A
//! product is one JSON document per string in `PriceList`; gantry reads the
//! Linux, shared-tenancy, no-preinstalled-software, used-capacity product
//! of an instance type in a region and its hourly on-demand USD price.

use crate::core::error::{ErrorClass, ProviderError};
use async_trait::async_trait;
use aws_sdk_pricing::types::{Filter, FilterType};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One instance type's on-demand price and GPU count.
#[derive(Debug, Clone, PartialEq)]
pub struct Ec2Price {
    /// On-demand USD per hour (Linux, shared tenancy).
    pub hourly: f64,
    /// How many GPUs the type has.
    pub gpus: u32,
}

/// The Price List calls `prices update` makes.
#[async_trait]
pub trait PriceListApi: Send + Sync {
    /// The Linux on-demand price of `instance_type` in `region`, None when
    /// the list has no such product.
    async fn ec2_on_demand(&self, region: &str, instance_type: &str) -> Result<Option<Ec2Price>, ProviderError>;
    /// The Linux/UNIX spot price in effect now in the region's dearest
    /// Availability Zone (a group may launch in any), None when EC2 has none.
    async fn ec2_spot(&self, region: &str, instance_type: &str) -> Result<Option<f64>, ProviderError>;
}

/// The Price List client and EC2 clients per region.
pub struct AwsPrices {
    ctx: crate::cloud::aws::AwsContext,
    /// One EC2 client per region asked (its credentials resolved once).
    ec2: std::sync::Mutex<BTreeMap<String, std::sync::Arc<crate::cloud::ec2::Ec2>>>,
}

impl AwsPrices {
    /// Prices read through `ctx`'s clients.
    pub fn new(ctx: crate::cloud::aws::AwsContext) -> AwsPrices {
        AwsPrices { ctx, ec2: Default::default() }
    }

    fn ec2_in(&self, region: &str) -> std::sync::Arc<crate::cloud::ec2::Ec2> {
        let mut all = self.ec2.lock().unwrap_or_else(|e| e.into_inner());
        all.entry(region.to_string()).or_insert_with(|| std::sync::Arc::new(crate::cloud::ec2::Ec2::new(&self.ctx, region))).clone()
    }
}

#[derive(Deserialize)]
struct Product {
    product: ProductInfo,
    terms: Terms,
}

#[derive(Deserialize)]
struct ProductInfo {
    attributes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Terms {
    #[serde(rename = "OnDemand", default)]
    on_demand: BTreeMap<String, Term>,
}

#[derive(Deserialize)]
struct Term {
    #[serde(rename = "priceDimensions")]
    dimensions: BTreeMap<String, Dimension>,
}

#[derive(Deserialize)]
struct Dimension {
    unit: String,
    #[serde(rename = "pricePerUnit")]
    price: BTreeMap<String, String>,
}

/// Reads one `PriceList` document: its hourly USD on-demand price and GPUs.
pub(crate) fn parse_product(doc: &str) -> Result<Option<Ec2Price>, String> {
    let p: Product = serde_json::from_str(doc).map_err(|e| format!("unexpected price list document: {e}"))?;
    let gpus = p.product.attributes.get("gpu").and_then(|g| g.parse().ok()).unwrap_or(0);
    let hourly = p
        .terms
        .on_demand
        .values()
        .flat_map(|t| t.dimensions.values())
        .filter(|d| d.unit == "Hrs")
        .filter_map(|d| d.price.get("USD")?.parse::<f64>().ok())
        .find(|h| *h > 0.0);
    Ok(hourly.map(|hourly| Ec2Price { hourly, gpus }))
}

fn term(field: &str, value: &str) -> Filter {
    Filter::builder().r#type(FilterType::TermMatch).field(field).value(value).build().expect("field, value and type are set")
}

#[async_trait]
impl PriceListApi for AwsPrices {
    async fn ec2_spot(&self, region: &str, instance_type: &str) -> Result<Option<f64>, ProviderError> {
        // A start time of now answers the price in effect now, per zone.
        let items = self.ec2_in(region).spot_prices(instance_type, "Linux/UNIX", std::time::SystemTime::now()).await?;
        let prices = items.iter().filter(|i| i.product_description == "Linux/UNIX").filter_map(|i| i.spot_price.parse::<f64>().ok());
        Ok(prices.fold(None, |max: Option<f64>, p| Some(max.map_or(p, |m| m.max(p)))))
    }

    async fn ec2_on_demand(&self, region: &str, instance_type: &str) -> Result<Option<Ec2Price>, ProviderError> {
        let pricing = self.ctx.pricing();
        let filters = [
            term("instanceType", instance_type),
            term("regionCode", region),
            term("operatingSystem", "Linux"),
            term("tenancy", "Shared"),
            term("preInstalledSw", "NA"),
            term("capacitystatus", "Used"),
        ];
        let mut token: Option<String> = None;
        loop {
            let out = pricing
                .get_products()
                .service_code("AmazonEC2")
                .format_version("aws_v1")
                .set_filters(Some(filters.to_vec()))
                .max_results(100)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| crate::cloud::aws::classify("pricing", "GetProducts", e))?;
            for doc in out.price_list() {
                if let Some(p) = parse_product(doc).map_err(|m| ProviderError::aws(ErrorClass::Other, "pricing", "GetProducts", m))? {
                    return Ok(Some(p));
                }
            }
            token = out.next_token().map(String::from);
            if token.is_none() {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_list_document_reads_as_the_reference_shows_it() {
        let doc = r#"{"product": {"sku": "X", "productFamily": "Compute Instance", "attributes": {"instanceType": "g6.12xlarge", "gpu": "4"}},
            "serviceCode": "AmazonEC2",
            "terms": {"OnDemand": {"X.JRTCKXETXF": {"priceDimensions": {"X.JRTCKXETXF.6YS6EN2CT7": {"unit": "Hrs", "pricePerUnit": {"USD": "4.6016000000"}}}}}}}"#;
        assert_eq!(parse_product(doc).unwrap(), Some(Ec2Price { hourly: 4.6016, gpus: 4 }));
        assert_eq!(parse_product(r#"{"product": {"attributes": {}}, "terms": {}}"#).unwrap(), None, "no on-demand term (a reserved-only product)");
        assert!(parse_product("{}").is_err());
    }
}
