//! The AWS Price List Query API's `GetProducts` for EC2 instances, served
//! by the realism proxy (moto has no pricing service), in the shapes of the
//! API reference and the price list documents ("Price List Query API",
//! "Reading the price list file for a service"):
//! - `PriceList` is a list of JSON documents *as strings*, each
//!   `{"product": {"sku", "productFamily", "attributes": {...}},
//!   "serviceCode", "terms": {"OnDemand": {"SKU.TERM": {"priceDimensions":
//!   {"SKU.TERM.DIM": {"unit": "Hrs", "pricePerUnit": {"USD": "4.6016000000"}}}}}}}`;
//!   attribute values are strings (`"gpu": "4"`).
//! - Filters are `{"Type": "TERM_MATCH", "Field", "Value"}`, all of which
//!   must match; `ServiceCode` other than AmazonEC2 finds nothing here.
//! - At most `MaxResults` (default and limit 100) per page, `NextToken` on.
//! - The API has endpoints in us-east-1, eu-central-1 and ap-south-1 only
//!   (the proxy refuses other regions as having no host).

use serde_json::{json, Value};

/// One EC2 instance type's Linux on-demand price in a region.
#[derive(Debug, Clone, PartialEq)]
pub struct Ec2Price {
    /// The region it holds in.
    pub region: String,
    /// The instance type.
    pub instance_type: String,
    /// On-demand USD per hour.
    pub hourly: f64,
    /// GPUs per instance.
    pub gpus: u32,
}

/// The catalogue the fake answers from.
#[derive(Default)]
pub struct Catalogue {
    prices: Vec<Ec2Price>,
}

/// Regions with a Price List API endpoint.
pub const API_REGIONS: [&str; 3] = ["us-east-1", "eu-central-1", "ap-south-1"];

impl Catalogue {
    /// Adds a price to the list the API answers from.
    pub fn add(&mut self, p: Ec2Price) {
        self.prices.retain(|q| !(q.region == p.region && q.instance_type == p.instance_type));
        self.prices.push(p);
    }

    /// Products of one price: the Linux shared-tenancy one, and a Windows
    /// one a filter must leave out.
    fn documents(p: &Ec2Price, n: usize) -> Vec<Value> {
        [("Linux", "NA", p.hourly), ("Windows", "NA", p.hourly * 1.4)]
            .iter()
            .enumerate()
            .map(|(i, (os, sw, price))| {
                let sku = format!("SKU{n:05}{i}");
                json!({
                    "product": {"sku": sku, "productFamily": "Compute Instance", "attributes": {
                        "instanceType": p.instance_type, "regionCode": p.region, "operatingSystem": os, "tenancy": "Shared",
                        "preInstalledSw": sw, "capacitystatus": "Used", "gpu": p.gpus.to_string(), "servicecode": "AmazonEC2"}},
                    "serviceCode": "AmazonEC2",
                    "terms": {"OnDemand": {format!("{sku}.JRTCKXETXF"): {"offerTermCode": "JRTCKXETXF", "sku": sku, "priceDimensions": {
                        format!("{sku}.JRTCKXETXF.6YS6EN2CT7"): {"unit": "Hrs", "description": format!("${price} per On Demand {os} {} Instance Hour", p.instance_type),
                            "pricePerUnit": {"USD": format!("{price:.10}")}}}}}},
                    "version": "20261201000000", "publicationDate": "2026-12-01T00:00:00Z"
                })
            })
            .collect()
    }

    /// `GetProducts`: (HTTP status, body).
    pub fn handle(&self, operation: &str, req: &Value) -> (u16, Value) {
        if operation != "GetProducts" {
            return (400, json!({"__type": "InvalidParameterException", "Message": format!("the fake serves GetProducts, not {operation}")}));
        }
        let filters: Vec<(String, String)> = req["Filters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| (f["Field"].as_str().unwrap_or_default().to_string(), f["Value"].as_str().unwrap_or_default().to_string()))
            .collect();
        let max = req["MaxResults"].as_u64().unwrap_or(100);
        if max == 0 || max > 100 {
            return (400, json!({"__type": "InvalidParameterException", "Message": "MaxResults must be between 1 and 100"}));
        }
        let docs: Vec<Value> =
            if req["ServiceCode"] == "AmazonEC2" { self.prices.iter().enumerate().flat_map(|(n, p)| Self::documents(p, n)).collect() } else { Vec::new() };
        let matching: Vec<&Value> = docs
            .iter()
            .filter(|d| filters.iter().all(|(k, v)| d["product"]["attributes"][k.as_str()].as_str().is_some_and(|a| a.eq_ignore_ascii_case(v))))
            .collect();
        let start: usize = req["NextToken"].as_str().and_then(|t| t.parse().ok()).unwrap_or(0);
        let page: Vec<String> = matching.iter().skip(start).take(max as usize).map(|d| d.to_string()).collect();
        let mut out = json!({"FormatVersion": "aws_v1", "PriceList": page});
        if start + (max as usize) < matching.len() {
            out["NextToken"] = json!((start + max as usize).to_string());
        }
        (200, out)
    }
}
