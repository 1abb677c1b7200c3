//! EC2 `DescribeSpotPriceHistory`, served by the realism proxy: moto
//! answers every type at "0.00001" with a 2006 timestamp and finds nothing
//! under a `ProductDescription` (EC2 API reference,
//! DescribeSpotPriceHistory):
//! - parameters `InstanceType.N`, `ProductDescription.N`, `StartTime`,
//!   `EndTime`, `AvailabilityZone`, `MaxResults` (default 1000), `NextToken`;
//! - "When you specify a start and end time, the operation returns the
//!   prices of the instance types within that time range. It also returns
//!   the last price change before the start time, which is the effective
//!   price as of the start time" (without an end time, up to now);
//! - the answer is `spotPriceHistorySet` items of instanceType,
//!   productDescription, spotPrice (a string), timestamp, availabilityZone.
//!
//! A price set here has one change an hour ago and an older one two days
//! ago at another price (a reader asking for now must get the newer), and
//! a Windows twin at a higher price (the description filter leaves it out).

use std::time::{Duration, SystemTime};

/// One type's spot price in one Availability Zone.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotPrice {
    /// The availability zone.
    pub zone: String,
    /// The instance type.
    pub instance_type: String,
    /// USD per hour.
    pub price: f64,
}

/// One history record.
struct Change {
    zone: String,
    instance_type: String,
    product: &'static str,
    price: f64,
    at: SystemTime,
}

/// Spot prices as they changed over time, newest last.
#[derive(Default)]
pub struct SpotHistory {
    changes: Vec<Change>,
}

impl SpotHistory {
    /// Records a price change now.
    pub fn add(&mut self, p: SpotPrice) {
        let now = SystemTime::now();
        let record = |product, price, ago: u64| Change {
            zone: p.zone.clone(),
            instance_type: p.instance_type.clone(),
            product,
            price,
            at: now - Duration::from_secs(ago),
        };
        self.changes.push(record("Linux/UNIX", p.price * 1.5, 2 * 86_400));
        self.changes.push(record("Linux/UNIX", p.price, 3_600));
        self.changes.push(record("Windows", p.price * 2.0, 3_600));
    }

    /// The XML answer to a query-protocol request in `region`.
    pub fn answer(&self, region: &str, param: &dyn Fn(&str) -> Option<String>) -> (u16, String) {
        let list = |prefix: &str| (1..).map_while(|i| param(&format!("{prefix}.{i}"))).collect::<Vec<_>>();
        let (types, products) = (list("InstanceType"), list("ProductDescription"));
        let time = |k: &str| param(k).map(|t| humantime::parse_rfc3339_weak(t.trim_end_matches('Z')).map_err(|_| t));
        let start = match time("StartTime").transpose() {
            Ok(t) => t,
            Err(t) => return (400, error("InvalidParameterValue", &format!("Invalid value '{t}' for startTime"))),
        };
        let end = match time("EndTime").transpose() {
            Ok(t) => t.unwrap_or_else(SystemTime::now),
            Err(t) => return (400, error("InvalidParameterValue", &format!("Invalid value '{t}' for endTime"))),
        };
        let zone = param("AvailabilityZone");
        let wanted = |c: &&Change| {
            c.zone.starts_with(region)
                && (types.is_empty() || types.contains(&c.instance_type))
                && (products.is_empty() || products.iter().any(|p| p == c.product))
                && zone.as_ref().is_none_or(|z| z == &c.zone)
                && c.at <= end
        };
        let mut items: Vec<&Change> = self.changes.iter().filter(wanted).collect();
        if let Some(start) = start {
            // Changes in the range, plus the one in effect at the start.
            let effective = |c: &Change| {
                !items.iter().any(|o| o.zone == c.zone && o.instance_type == c.instance_type && o.product == c.product && o.at <= start && o.at > c.at)
            };
            items = items.iter().copied().filter(|c| c.at >= start || effective(c)).collect();
        }
        items.sort_by_key(|c| std::cmp::Reverse(c.at));
        let body: String = items
            .iter()
            .map(|c| {
                format!(
                    "<item><instanceType>{}</instanceType><productDescription>{}</productDescription><spotPrice>{:.6}</spotPrice><timestamp>{}</timestamp><availabilityZone>{}</availabilityZone></item>",
                    c.instance_type,
                    c.product,
                    c.price,
                    humantime::format_rfc3339_seconds(c.at),
                    c.zone
                )
            })
            .collect();
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeSpotPriceHistoryResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>00000000-0000-0000-0000-000000000000</requestId><spotPriceHistorySet>{body}</spotPriceHistorySet><nextToken></nextToken></DescribeSpotPriceHistoryResponse>"
        );
        (200, xml)
    }
}

fn error(code: &str, message: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>0</RequestID></Response>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_answers_the_price_in_effect_per_zone_for_the_description_asked() {
        let mut h = SpotHistory::default();
        h.add(SpotPrice { zone: "us-east-1a".into(), instance_type: "g6.xlarge".into(), price: 0.4 });
        h.add(SpotPrice { zone: "us-east-1b".into(), instance_type: "g6.xlarge".into(), price: 0.5 });
        h.add(SpotPrice { zone: "us-west-2a".into(), instance_type: "g6.xlarge".into(), price: 9.0 });
        let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let params = [("InstanceType.1", "g6.xlarge"), ("ProductDescription.1", "Linux/UNIX"), ("StartTime", now.as_str())];
        let (status, xml) = h.answer("us-east-1", &|k| params.iter().find(|(p, _)| *p == k).map(|(_, v)| v.to_string()));
        assert_eq!(status, 200);
        assert_eq!(xml.matches("<item>").count(), 2, "{xml}");
        assert!(xml.contains("<spotPrice>0.400000</spotPrice>") && xml.contains("<spotPrice>0.500000</spotPrice>"), "{xml}");
        // No start time: the whole history, both descriptions.
        let (_, all) = h.answer("us-east-1", &|k| (k == "InstanceType.1").then(|| "g6.xlarge".to_string()));
        assert_eq!(all.matches("<item>").count(), 6);
    }
}
