//! The plan's cost ceilings: every resource with machines priced before
//! (its live state) and after (its desired state), a note on each change
//! whose ceiling moves, and the stack's `max_hourly_cost` enforced.

use crate::config::Stack;
use crate::core::{Diagnostic, Kind, LiveResource};
use crate::cost::prices::PriceBook;
use crate::cost::{dollars, CostReport};
use crate::engine::planner::DesiredInstance;
use crate::plan::Plan;
use std::collections::BTreeMap;

/// Why the ceilings refuse the plan.
#[derive(Debug)]
pub enum CeilingError {
    /// No price book to read (GANTRY_PRICE_FILE unreadable).
    PriceBook(String),
    /// Above `max_hourly_cost`, or unpriced under it.
    Refused(Vec<Diagnostic>),
}

/// Prices every machine-holding resource before and after the plan, notes
/// each change whose ceiling moves, and enforces `max_hourly_cost`.
pub fn add_ceilings(
    plan: &mut Plan,
    stack: &Stack,
    kinds: &[&'static dyn Kind],
    desired: &BTreeMap<String, Vec<DesiredInstance>>,
    live: &BTreeMap<String, Vec<LiveResource>>,
    destroy: bool,
) -> Result<(), CeilingError> {
    let owner = stack.env.owner();
    // address → (kind, before, after)
    let mut states: BTreeMap<String, (&str, Option<&crate::core::State>, Option<&crate::core::State>)> = BTreeMap::new();
    for (kind, ls) in live {
        for l in ls.iter().filter(|l| l.owner_stack.as_deref() == Some(owner.as_str())) {
            let address = l.owner_address.clone().unwrap_or_else(|| l.identity.clone());
            states.entry(address).or_insert((kind.as_str(), None, None)).1 = Some(&l.state);
        }
    }
    if !destroy {
        for (kind, ds) in desired {
            for d in ds {
                states.entry(d.address.clone()).or_insert((kind.as_str(), None, None)).2 = Some(&d.state);
            }
        }
    }
    let capacities: Vec<_> = states
        .iter()
        .filter_map(|(address, (kind, before, after))| {
            let k = kinds.iter().find(|k| k.name() == *kind)?;
            let (b, a) = (before.and_then(|s| k.capacity(s)), after.and_then(|s| k.capacity(s)));
            (b.is_some() || a.is_some()).then_some((address, b, a))
        })
        .collect();
    // A stack without machines needs no price book (nor a readable GANTRY_PRICE_FILE).
    if capacities.is_empty() {
        return Ok(());
    }
    let book = PriceBook::current().map_err(CeilingError::PriceBook)?;
    let mut report = CostReport::new(&book);
    for (address, b, a) in &capacities {
        report.add(address, b.as_ref(), a.as_ref(), &book);
    }
    for c in &mut plan.changes {
        let Some(line) = report.line(&c.address) else { continue };
        let show = |x: &Option<crate::cost::Ceiling>| x.as_ref().map_or("$0.00".to_string(), |c| dollars(c.hourly));
        if line.before != line.after {
            let basis = line.after.as_ref().or(line.before.as_ref()).map(|c| c.basis.clone()).unwrap_or_default();
            let gpus = line.after.as_ref().map_or(0, |c| c.accelerators);
            let gpus = if gpus > 0 { format!("; {gpus} GPUs/chips at most") } else { String::new() };
            let spot = match line.after.as_ref() {
                Some(a) if a.on_demand_percent < 100 => match a.spot_estimate_hourly {
                    Some(s) => format!("; spot estimate {}/h at {}% on demand", dollars(s), a.on_demand_percent),
                    None => "; spot priced as on demand (no spot price in the book)".to_string(),
                },
                _ => String::new(),
            };
            c.notes.push(format!("cost ceiling: {}/h → {}/h ({basis}{gpus}{spot})", show(&line.before), show(&line.after)));
        }
    }
    if let Some(max) = stack.max_hourly_cost.filter(|_| !destroy) {
        let mut problems = Vec::new();
        if report.total_after > max {
            problems.push(
                Diagnostic::at(
                    format!("stack \"{}\"", stack.name),
                    format!(
                        "after this plan the stack's machines could cost up to {}/h, above max_hourly_cost = {}/h",
                        dollars(report.total_after),
                        dollars(max)
                    ),
                )
                .with_note("lower max_size or the instance types, or raise max_hourly_cost in a reviewed change"),
            );
        }
        for u in &report.unpriced {
            problems.push(
                Diagnostic::at(format!("stack \"{}\"", stack.name), format!("max_hourly_cost cannot be checked: {u} (prices of {})", book.date))
                    .with_note("give a price book with it: GANTRY_PRICE_FILE=prices.json (the shape of gantry's prices/snapshot.json)"),
            );
        }
        if !problems.is_empty() {
            return Err(CeilingError::Refused(problems));
        }
    }
    plan.cost = Some(report);
    Ok(())
}
