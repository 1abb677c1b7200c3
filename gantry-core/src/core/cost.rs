//! A plan's cost ceilings as data (plan JSON: `cost`): what each resource's
//! machines can cost at most per hour before and after. `crate::cost`
//! prices them from a price book.

use serde::{Deserialize, Serialize};

/// One resource's ceiling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceiling {
    /// At most, per hour.
    pub hourly: f64,
    /// GPUs or TPU chips at most.
    pub accelerators: u32,
    /// What runs with no work (`min_size`), per hour.
    pub floor_hourly: f64,
    /// How it was reached, e.g. `32 × g6.12xlarge at $4.6016/h`.
    pub basis: String,
    /// At max size with the spot share at the book's spot prices: only
    /// when the resource buys spot and every price has a spot estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_estimate_hourly: Option<f64>,
    /// The share bought on demand, percent.
    #[serde(default = "all_on_demand")]
    pub on_demand_percent: u32,
}

fn all_on_demand() -> u32 {
    100
}

/// A resource's ceiling before and after the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    /// The resource's address.
    pub address: String,
    /// Its ceiling as it runs now (None: it does not exist yet).
    pub before: Option<Ceiling>,
    /// Its ceiling after the plan (None: it is deleted).
    pub after: Option<Ceiling>,
}

/// The plan's cost ceilings (plan JSON: `cost`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CostReport {
    /// The price book's source and date.
    pub prices: String,
    /// The day the prices were read (`YYYY-MM-DD`).
    pub prices_date: String,
    /// ISO 4217 currency of every figure (`USD`).
    pub currency: String,
    /// Every resource with machines, changed or not.
    pub lines: Vec<CostLine>,
    /// Sum of every line's ceiling before the plan, per hour.
    pub total_before: f64,
    /// Sum of every line's ceiling after the plan, per hour.
    pub total_after: f64,
    /// Resources whose ceiling is unknown, with why (no price).
    pub unpriced: Vec<String>,
}

impl CostReport {
    /// The line of one resource, if it runs machines.
    pub fn line(&self, address: &str) -> Option<&CostLine> {
        self.lines.iter().find(|l| l.address == address)
    }
}
