//! The plain-text summary `run` prints on stderr at the end: one aligned row per point.

use std::fmt::Write;

use super::RunReport;
use super::view::row;

/// The summary table.
pub fn summary_table(report: &RunReport) -> String {
    let header = [
        "point",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "success %",
        "ttft p50 ms",
        "tokens/s",
    ];
    let rows: Vec<[String; 9]> = report
        .points
        .iter()
        .map(|p| {
            let r = row(p);
            let flag = match (r.partial, r.client_bound) {
                (true, _) => " (partial)",
                (false, true) => " (client-bound)",
                _ => "",
            };
            [
                format!("{}{flag}", r.id),
                format!("{:.0}", r.rps.median),
                latency(r.has_latency, r.p50.median),
                latency(r.has_latency, r.p95.median),
                latency(r.has_latency, r.p99.median),
                r.errors.to_string(),
                format!("{:.1}", r.success.median),
                r.ttft_p50
                    .map_or("-".into(), |s| format!("{:.2}", s.median)),
                r.tokens_per_sec
                    .map_or("-".into(), |s| format!("{:.0}", s.median)),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: [&str; 9]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 0 {
                let _ = write!(s, "{cell:<w$}");
            } else {
                let _ = write!(s, "  {cell:>w$}");
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut out, header);
    for r in &rows {
        line(&mut out, r.each_ref().map(String::as_str));
    }
    if report.partial {
        let _ = writeln!(
            out,
            "partial run: {}",
            report.interruption.as_deref().unwrap_or("stopped early")
        );
    }
    out
}

/// A latency in ms, or `-` when no request succeeded (latency counts successes only).
fn latency(has_latency: bool, ms: f64) -> String {
    if has_latency {
        format!("{ms:.2}")
    } else {
        "-".into()
    }
}
