//! Human plan output, in the style of Terraform: one section per change with
//! per-attribute `old -> new`, then a summary line.

use crate::plan::{Action, AttrChange, Change, Plan};
use serde_json::Value;
use std::fmt::Write;

/// ANSI styling, on only when the output is a TTY and NO_COLOR is unset.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Paint with ANSI colours.
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    /// `s` in green (created).
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    /// `s` in yellow (changed).
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    /// `s` in red (destroyed).
    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    /// `s` in bold.
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn action(&self, a: Action, s: &str) -> String {
        match a {
            Action::Create => self.green(s),
            Action::Update => self.yellow(s),
            Action::Replace | Action::Delete => self.red(s),
            Action::NoOp => s.to_string(),
        }
    }
}

/// Renders a value on one line (JSON, strings quoted).
pub fn value_text(v: &Value, sensitive: bool) -> String {
    if sensitive {
        return "(sensitive)".into();
    }
    match v {
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn is_structured(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.len() > 2 || m.values().any(|x| x.is_object() || x.is_array()),
        Value::Array(a) => a.iter().any(|x| x.is_object() || x.is_array()),
        _ => false,
    }
}

fn attr_lines(out: &mut String, c: &Change, a: &AttrChange, width: usize, style: Style) {
    let pad = width.saturating_sub(a.name.len());
    let name = format!("{}{}", a.name, " ".repeat(pad));
    let forces = if a.forces_replacement && c.action() == Action::Replace { style.red(" # forces replacement") } else { String::new() };
    let flat = |v: &Value| super::hcl::is_flat(v) && !v.is_null();
    match c.action() {
        Action::Create if !a.sensitive && !a.known_after_apply && flat(&a.after) => {
            let _ = writeln!(out, "      {} {name} = {}", style.green("+"), super::hcl::value(&a.after, 8));
        }
        Action::Create if !a.sensitive && is_structured(&a.after) => {
            let _ = writeln!(out, "      {} {name} = {}", style.green("+"), indent_json(&a.after, 8 + width + 3));
        }
        Action::Create if a.known_after_apply => {
            let _ = writeln!(out, "      {} {name} = (known after apply)", style.green("+"));
        }
        Action::Create => {
            let _ = writeln!(out, "      {} {name} = {}", style.green("+"), value_text(&a.after, a.sensitive));
        }
        // A map or list of plain values: one marker per key or element.
        _ if !a.sensitive && (flat(&a.before) || flat(&a.after)) && (flat(&a.before) || a.before.is_null()) && (flat(&a.after) || a.after.is_null()) => {
            let open = if a.after.is_array() || a.before.is_array() { ('[', ']') } else { ('{', '}') };
            let _ = writeln!(out, "      {} {name} = {}{forces}", style.yellow("~"), open.0);
            for l in super::hcl::flat_change(&a.before, &a.after) {
                let marker = match l.marker {
                    '+' => style.green("+"),
                    '-' => style.red("-"),
                    '~' => style.yellow("~"),
                    _ => " ".to_string(),
                };
                let _ = writeln!(out, "          {marker} {}", l.text);
            }
            let _ = writeln!(out, "        {}", open.1);
        }
        _ if !a.sensitive && (is_structured(&a.before) || is_structured(&a.after)) => {
            let _ = writeln!(out, "      {} {name} = (changed){forces}", style.yellow("~"));
            let before = pretty(&a.before);
            let after = pretty(&a.after);
            let diff = similar::TextDiff::from_lines(&before, &after);
            for change in diff.iter_all_changes() {
                let line = change.value().trim_end_matches('\n');
                let text = match change.tag() {
                    similar::ChangeTag::Delete => style.red(&format!("- {line}")),
                    similar::ChangeTag::Insert => style.green(&format!("+ {line}")),
                    similar::ChangeTag::Equal => format!("  {line}"),
                };
                let _ = writeln!(out, "            {text}");
            }
        }
        _ => {
            let _ =
                writeln!(out, "      {} {name} = {} -> {}{forces}", style.yellow("~"), value_text(&a.before, a.sensitive), value_text(&a.after, a.sensitive));
        }
    }
}

/// Pretty JSON whose continuation lines are indented by `indent` spaces.
fn indent_json(v: &Value, indent: usize) -> String {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    let pad = " ".repeat(indent);
    text.lines().enumerate().map(|(i, l)| if i == 0 { l.to_string() } else { format!("\n{pad}{l}") }).collect()
}

fn pretty(v: &Value) -> String {
    if v.is_null() {
        return String::new();
    }
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// Renders one change block.
pub fn render_change(out: &mut String, c: &Change, style: Style) {
    let heading = format!("  # {} {}", c.address, c.action().describe());
    let _ = writeln!(out, "{}", style.bold(&heading));
    if let Some(r) = &c.reason {
        let _ = writeln!(out, "  # ({r})");
    }
    let sym = style.action(c.action(), &format!("{:>3}", c.action().symbol()));
    let _ = writeln!(out, "{sym} {} \"{}\" {{", c.kind, c.identity);
    let width = c.attrs.iter().map(|a| a.name.len()).max().unwrap_or(0);
    for a in &c.attrs {
        attr_lines(out, c, a, width, style);
    }
    if c.action() == Action::Delete {
        let _ = writeln!(out, "      {} name = {}", style.red("-"), value_text(&Value::String(c.identity.clone()), false));
    }
    for n in &c.notes {
        let _ = writeln!(out, "      # {n}");
    }
    let _ = writeln!(out, "    }}\n");
}

/// The summary line: `Plan: 2 to add, 1 to change, 0 to destroy.`
pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    let verb = if plan.destroy { "Destroy plan" } else { "Plan" };
    format!("{verb}: {} to add, {} to change, {} to destroy.", s.add, s.change, s.destroy)
}

/// Renders the whole plan.
pub fn render(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        let _ = writeln!(
            out,
            "{}\n\ngantry read {} resource(s) of stack \"{}\" and found nothing to change.",
            style.green(&style.bold("No changes. Your infrastructure matches the configuration.")),
            plan.unchanged.len(),
            plan.stack
        );
        for w in &plan.warnings {
            let _ = writeln!(out, "\n{} {w}", style.yellow("Warning:"));
        }
        return out;
    }
    let _ = writeln!(out, "gantry will perform the following actions in stack \"{}\" ({}):\n", plan.stack, plan.region);
    for c in &plan.changes {
        render_change(&mut out, c, style);
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "{} {w}\n", style.yellow("Warning:"));
    }
    render_review(&mut out, plan, style);
    let _ = writeln!(out, "{}", style.bold(&summary_line(plan)));
    if let Some(c) = &plan.cost {
        let _ = writeln!(out, "{}", cost_line(c));
        for u in &c.unpriced {
            let _ = writeln!(out, "  {} {u}", style.yellow("not priced:"));
        }
    }
    out
}

/// `Cost ceiling: $10.00/h → $60.00/h (+$50.00/h at most; prices of DATE, SOURCE)`.
pub fn cost_line(c: &crate::cost::CostReport) -> String {
    use crate::cost::dollars;
    let diff = c.total_after - c.total_before;
    let change = if diff.abs() < 0.005 {
        "unchanged".to_string()
    } else if diff > 0.0 {
        format!("+{}/h at most", dollars(diff))
    } else {
        format!("{}/h", dollars(diff))
    };
    let source = crate::cost::prices::short_source(&c.prices);
    format!("Cost ceiling: {}/h → {}/h ({change}; prices of {}, {source})", dollars(c.total_before), dollars(c.total_after), c.prices_date)
}

/// The broadening block and the list of waivers, for reviewers.
fn render_review(out: &mut String, plan: &Plan, style: Style) {
    if !plan.broadening.is_empty() {
        let _ = writeln!(out, "{}", style.yellow("╷"));
        let _ = writeln!(out, "{} {}", style.yellow("│"), style.bold(&style.yellow("Broadening: these changes widen who may assume a role or what it may do")));
        for b in &plan.broadening {
            let _ = writeln!(out, "{} {}", style.yellow("│"), b.address);
            for item in &b.items {
                let _ = writeln!(out, "{}   + {item}", style.yellow("│"));
            }
        }
        let _ = writeln!(out, "{} apply asks you to confirm these (in CI: --allow-broadening)", style.yellow("│"));
        let _ = writeln!(out, "{}\n", style.yellow("╵"));
    }
    if !plan.waivers.is_empty() {
        let _ = writeln!(out, "Waived security findings:");
        for w in &plan.waivers {
            let _ = writeln!(out, "  - {w}");
        }
        let _ = writeln!(out);
    }
}
