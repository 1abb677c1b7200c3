//! `gantry prices update`: a price book with today's EC2 prices from the
//! AWS Price List Query API, for every AWS machine type of the current book
//! and of the given stacks' queues in their regions. Google Cloud prices
//! are carried over from the current book (the Cloud Billing Catalog is not
//! read yet), and the new book says so.

use super::OpsError;
use crate::cloud::pricing::PriceListApi;
use crate::config::{load_dir, LoadOptions};
use crate::cost::prices::{PriceBook, PriceEntry, Unit};
use futures::{StreamExt, TryStreamExt};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// At most this many Price List calls at once.
const CALLS: usize = 4;

/// What the update found.
pub struct Updated {
    pub book: PriceBook,
    /// `type in region` the price list has no product for.
    pub missing: Vec<String>,
}

/// The (region, instance type) pairs to price: the current book's AWS
/// entries and the stacks' queues.
pub fn wanted(current: &PriceBook, dirs: &[PathBuf], load: &LoadOptions) -> Result<BTreeSet<(String, String)>, OpsError> {
    let mut out: BTreeSet<(String, String)> =
        current.prices.iter().filter(|p| p.cloud == "aws").flat_map(|p| p.regions.iter().map(|r| (r.clone(), p.sku.clone()))).collect();
    for dir in dirs {
        let loaded = load_dir(dir, load, &crate::kinds::all());
        let Some(stack) = loaded.stack.as_ref() else {
            let n = loaded.diags.error_count();
            return Err(OpsError::Usage(format!("{}: {n} error(s) in the stack files (gantry validate {} shows them)", dir.display(), dir.display())));
        };
        for r in &stack.resources {
            let Some(kind) = crate::kinds::by_name(r.kind) else { continue };
            let state = kind.desired_state(&r.attrs, &stack.env);
            if let Some(cap) = kind.capacity(&state).filter(|c| c.cloud == "aws") {
                out.extend(cap.types.iter().map(|t| (cap.location.clone(), t.clone())));
            }
        }
    }
    Ok(out)
}

/// Reads every wanted price; `today` dates the new book.
pub async fn update(
    current: &PriceBook,
    wanted: &BTreeSet<(String, String)>,
    api: &dyn PriceListApi,
    today: &str,
    progress: &dyn Fn(String),
) -> Result<Updated, OpsError> {
    let reads = wanted.iter().map(|(region, t)| async move { api.ec2_on_demand(region, t).await.map(|p| (region, t, p)) });
    let found: Vec<_> = futures::stream::iter(reads).buffer_unordered(CALLS).try_collect().await?;
    let mut prices = Vec::new();
    let mut missing = Vec::new();
    for (region, t, p) in found {
        match p {
            Some(p) => prices.push(PriceEntry {
                cloud: "aws".into(),
                regions: vec![region.clone()],
                sku: t.clone(),
                unit: Unit::Instance,
                hourly: p.hourly,
                accelerators: p.gpus,
            }),
            None => missing.push(format!("{t} in {region}")),
        }
    }
    progress(format!("read {} EC2 price(s) from the Price List API", prices.len()));
    prices.sort_by(|a, b| (&a.sku, &a.regions).cmp(&(&b.sku, &b.regions)));
    missing.sort();
    prices.extend(current.prices.iter().filter(|p| p.cloud != "aws").cloned());
    let source = format!(
        "AWS Price List Query API (GetProducts, Linux on-demand, shared tenancy) read {today}; Google Cloud prices carried over from {} of {}",
        crate::cost::prices::short_source(&current.source),
        current.date
    );
    Ok(Updated { book: PriceBook { source, date: today.to_string(), currency: "USD".into(), prices }, missing })
}
