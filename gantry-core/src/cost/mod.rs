//! Cost ceilings: what a stack's machines can cost at most per hour, before
//! and after a plan, from a dated price book. A ceiling, not an estimate:
//! every queue at `max_size` of its dearest instance type, every node
//! running, spot priced as on-demand (spot can cost that much). Where a
//! resource buys spot and the book has a spot price, a spot estimate is
//! given beside the ceiling.

pub mod prices;

pub use crate::core::cost::{Ceiling, CostLine, CostReport};
use crate::core::Capacity;
use prices::{zone_region, PriceBook, Unit};

/// Prices a capacity; the error names the first SKU the book has no price for.
pub fn ceiling(cap: &Capacity, book: &PriceBook) -> Result<Ceiling, String> {
    let region = if cap.cloud == "gcp" { zone_region(&cap.location) } else { &cap.location };
    let find = |sku: &str| book.find(&cap.cloud, region, sku).ok_or_else(|| format!("no price for {sku} in {region}"));
    // Per machine: the dearest type it may launch, plus its parts.
    let mut dearest: Option<(&str, &prices::PriceEntry)> = None;
    let mut cheapest = f64::INFINITY;
    for t in &cap.types {
        let p = find(t)?;
        cheapest = cheapest.min(p.hourly);
        if dearest.is_none_or(|(_, d)| p.hourly > d.hourly) {
            dearest = Some((t, p));
        }
    }
    let (mut machine, mut accel) = dearest.map_or((0.0, 0), |(_, d)| (d.hourly, d.accelerators));
    // The same machine at spot prices, while every price has one.
    let mut spot_machine = dearest.map_or(Some(0.0), |(_, d)| d.spot_hourly);
    let mut parts_text = Vec::new();
    for (sku, n) in &cap.parts {
        let p = find(sku)?;
        spot_machine = spot_machine.zip(p.spot_hourly).map(|(m, s)| m + s * *n as f64);
        machine += p.hourly * *n as f64;
        accel += p.accelerators * n;
        let unit = if p.unit == Unit::Chip { "chip" } else { "unit" };
        parts_text.push(format!("{n} × {sku} at ${}/{unit}-h", prices::rate(p.hourly)));
    }
    // The idle floor prices the cheapest type, with the same parts.
    let parts_hourly = machine - dearest.map_or(0.0, |(_, d)| d.hourly);
    let cheapest = (if cheapest.is_finite() { cheapest } else { 0.0 }) + parts_hourly;
    let mut basis = match dearest {
        Some((t, d)) => format!("{} × {t} at ${}/h", cap.max, prices::rate(d.hourly)),
        None => format!("{} × node", cap.max),
    };
    if !parts_text.is_empty() {
        basis.push_str(&format!(" + {}", parts_text.join(" + ")));
    }
    let share = cap.on_demand_percent.min(100) as f64 / 100.0;
    let spot_estimate_hourly = spot_machine.filter(|_| cap.on_demand_percent < 100).map(|spot| (share * machine + (1.0 - share) * spot) * cap.max as f64);
    Ok(Ceiling {
        hourly: machine * cap.max as f64,
        accelerators: accel * cap.max,
        floor_hourly: cheapest * cap.min as f64,
        basis,
        spot_estimate_hourly,
        on_demand_percent: cap.on_demand_percent,
    })
}

/// Pricing a report needs the price book; its data is the plan's (`core::cost`).
impl CostReport {
    /// An empty report priced from `book`.
    pub fn new(book: &PriceBook) -> CostReport {
        CostReport { prices: book.source.clone(), prices_date: book.date.clone(), currency: book.currency.clone(), ..CostReport::default() }
    }

    /// Adds a resource from its capacities before and after.
    pub fn add(&mut self, address: &str, before: Option<&Capacity>, after: Option<&Capacity>, book: &PriceBook) {
        let mut price = |c: Option<&Capacity>| -> Option<Ceiling> {
            match ceiling(c?, book) {
                Ok(x) => Some(x),
                Err(why) => {
                    let line = format!("{address}: {why}");
                    if !self.unpriced.contains(&line) {
                        self.unpriced.push(line);
                    }
                    None
                }
            }
        };
        let (b, a) = (price(before), price(after));
        if before.is_none() && after.is_none() {
            return;
        }
        self.total_before += b.as_ref().map_or(0.0, |c| c.hourly);
        self.total_after += a.as_ref().map_or(0.0, |c| c.hourly);
        self.lines.push(CostLine { address: address.to_string(), before: b, after: a });
    }
}

/// `$1,234.56`.
pub fn dollars(x: f64) -> String {
    let cents = (x * 100.0).round() as i64;
    let (whole, frac) = (cents.abs() / 100, cents.abs() % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}${grouped}.{frac:02}", if cents < 0 { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(cloud: &str, loc: &str, types: &[&str], parts: &[(&str, u32)], min: u32, max: u32) -> Capacity {
        Capacity {
            cloud: cloud.into(),
            location: loc.into(),
            types: types.iter().map(|s| s.to_string()).collect(),
            parts: parts.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
            min,
            max,
            on_demand_percent: 100,
        }
    }

    #[test]
    fn a_queue_is_priced_at_max_size_of_its_dearest_type() {
        let book = PriceBook::bundled();
        let c = ceiling(&cap("aws", "us-east-1", &["g6.12xlarge", "g5.12xlarge"], &[], 1, 32), &book).unwrap();
        assert!((c.hourly - 32.0 * 5.672).abs() < 1e-9, "{c:?}");
        assert_eq!(c.accelerators, 128);
        assert!((c.floor_hourly - 4.6016).abs() < 1e-9, "the idle floor at the cheapest type");
        assert_eq!(c.basis, "32 × g5.12xlarge at $5.672/h");
    }

    #[test]
    fn tpu_chips_and_unknown_prices() {
        let book = PriceBook::bundled();
        let c = ceiling(&cap("gcp", "us-east5-b", &[], &[("tpu-v6e", 8)], 1, 1), &book).unwrap();
        assert!((c.hourly - 21.6).abs() < 1e-9 && c.accelerators == 8, "{c:?}");
        assert_eq!(ceiling(&cap("aws", "eu-west-1", &["g6.12xlarge"], &[], 0, 2), &book).unwrap_err(), "no price for g6.12xlarge in eu-west-1");
        let mut r = CostReport::new(&book);
        r.add("agent_queue.eu", None, Some(&cap("aws", "eu-west-1", &["g6.12xlarge"], &[], 0, 2)), &book);
        r.add(
            "agent_queue.us",
            Some(&cap("aws", "us-east-1", &["g6.4xlarge"], &[], 0, 10)),
            Some(&cap("aws", "us-east-1", &["g6.4xlarge"], &[], 0, 20)),
            &book,
        );
        assert_eq!(r.unpriced, vec!["agent_queue.eu: no price for g6.12xlarge in eu-west-1"]);
        assert!((r.total_after - r.total_before - 10.0 * 1.3232).abs() < 1e-9);
        assert_eq!(dollars(1234.567), "$1,234.57");
        assert!(r.lines.iter().all(|l| l.after.as_ref().is_none_or(|c| c.spot_estimate_hourly.is_none())), "all on demand: no spot estimate");
        assert_eq!(dollars(-5.0), "-$5.00");
    }

    #[test]
    fn a_spot_share_gets_an_estimate_beside_the_ceiling() {
        let mut book = PriceBook::bundled();
        let mut c = cap("aws", "us-east-1", &["g6.12xlarge"], &[], 0, 10);
        c.on_demand_percent = 25;
        let no_spot = ceiling(&c, &book).unwrap();
        assert_eq!((no_spot.spot_estimate_hourly, no_spot.on_demand_percent), (None, 25), "no spot price in the book: no estimate");
        book.prices.iter_mut().filter(|p| p.sku == "g6.12xlarge").for_each(|p| p.spot_hourly = Some(2.0));
        let est = ceiling(&c, &book).unwrap();
        assert!((est.hourly - 46.016).abs() < 1e-9, "the ceiling stays on demand");
        assert!((est.spot_estimate_hourly.unwrap() - 10.0 * (0.25 * 4.6016 + 0.75 * 2.0)).abs() < 1e-9, "{est:?}");
        c.on_demand_percent = 100;
        assert_eq!(ceiling(&c, &book).unwrap().spot_estimate_hourly, None);
        // A spot TPU node: every chip at the spot price.
        book.prices.iter_mut().filter(|p| p.sku == "tpu-v6e").for_each(|p| p.spot_hourly = Some(1.0));
        let mut t = cap("gcp", "us-east5-b", &[], &[("tpu-v6e", 8)], 1, 1);
        t.on_demand_percent = 0;
        assert_eq!(ceiling(&t, &book).unwrap().spot_estimate_hourly, Some(8.0));
    }
}
