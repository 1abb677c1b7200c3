//! The picture of runs: queued jobs and instances over time, one panel
//! each, every run a line (the stack as written solid, others dashed).
//! Plain SVG text: a few polylines need no plotting library.

use super::Sample;
use std::fmt::Write;

const W: f64 = 900.0;
const PANEL: f64 = 190.0;
const LEFT: f64 = 60.0;
const TOP: f64 = 30.0;
const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

/// Which figure of a sample a panel draws.
type Pick = fn(&Sample) -> u32;

/// At most `n` samples: the largest of each bucket, so peaks survive.
fn thin(samples: &[Sample], n: usize, pick: Pick) -> Vec<(f64, u32)> {
    let per = samples.len().div_ceil(n.max(1)).max(1);
    samples.chunks(per).map(|c| c.iter().map(|s| (s.t, pick(s))).max_by_key(|p| p.1).unwrap_or((0.0, 0))).collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// One SVG for runs of (label, samples).
pub(crate) fn render(title: &str, runs: &[(String, Vec<Sample>)]) -> String {
    let end = runs.iter().flat_map(|(_, s)| s.last()).map(|s| s.t).fold(1.0, f64::max);
    let panels: [(&str, Pick); 2] = [("queued jobs", |s| s.queued), ("instances", |s| s.instances)];
    let h = TOP + panels.len() as f64 * (PANEL + 40.0) + 30.0;
    let mut out = String::new();
    let _ = writeln!(out, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" font-family="sans-serif" font-size="12">"#);
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="18" font-size="14">{}</text>"#, esc(title));
    for (p, (name, pick)) in panels.iter().enumerate() {
        let y0 = TOP + p as f64 * (PANEL + 40.0) + 20.0;
        let top = runs.iter().flat_map(|(_, s)| s.iter().map(pick)).max().unwrap_or(0).max(1) as f64;
        let x = |t: f64| LEFT + t / end * (W - LEFT - 20.0);
        let y = |v: f64| y0 + PANEL - v / top * PANEL;
        let _ = writeln!(out, r##"<text x="{LEFT}" y="{}">{name} (max {top})</text>"##, y0 - 5.0);
        let _ = writeln!(out, r##"<rect x="{LEFT}" y="{y0}" width="{}" height="{PANEL}" fill="none" stroke="#ccc"/>"##, W - LEFT - 20.0);
        // Time ticks at each quarter, and the value scale at the left.
        for q in 0..=4 {
            let t = end * q as f64 / 4.0;
            let _ =
                writeln!(out, r##"<text x="{:.1}" y="{}" fill="#666" text-anchor="middle">{}</text>"##, x(t), y0 + PANEL + 14.0, super::report::duration(t));
        }
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" fill="#666" text-anchor="end">{top}</text><text x="{}" y="{}" fill="#666" text-anchor="end">0</text>"##,
            LEFT - 4.0,
            y0 + 10.0,
            LEFT - 4.0,
            y0 + PANEL
        );
        for (i, (label, samples)) in runs.iter().enumerate() {
            let pts: String = thin(samples, 800, *pick).iter().map(|(t, v)| format!("{:.1},{:.1} ", x(*t), y(*v as f64))).collect();
            let dash = if i == 0 { "" } else { r#" stroke-dasharray="6 3""# };
            let _ = writeln!(out, r#"<polyline fill="none" stroke="{}" stroke-width="1.5"{dash} points="{}"/>"#, COLORS[i % COLORS.len()], pts.trim_end());
            if p == 0 {
                let _ =
                    writeln!(out, r#"<text x="{}" y="{}" fill="{}">{}</text>"#, W - 260.0, y0 + 15.0 + 15.0 * i as f64, COLORS[i % COLORS.len()], esc(label));
            }
        }
    }
    out.push_str("</svg>\n");
    out
}
