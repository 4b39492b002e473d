//! The plain-text summary `run` prints on stderr at the end: one aligned row per point, with
//! the same figures and number formats as the Markdown summary table.

use std::fmt::Write;

use super::RunReport;
use super::filters::{grouped, rate, thousands};
use super::view::{PointRow, row};
use crate::metrics::Spread;

/// The summary table. As in `report.md`, the TTFT column is shown only when a point streams,
/// and the tokens/s column only when a point has the figure.
pub fn summary_table(report: &RunReport) -> String {
    let points: Vec<PointRow> = report.points.iter().map(|p| row(p, &report.axes)).collect();
    let any_stream = points.iter().any(|r| r.stream);
    let any_tokens = points.iter().any(|r| r.tokens_per_sec.is_some());
    let mut header = vec![
        "point",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors (sum)",
        "success %",
    ];
    header.extend(any_stream.then_some("ttft p50 ms"));
    header.extend(any_tokens.then_some("tokens/s"));
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|r| {
            let flag = match (r.partial, r.client_bound, r.behind_schedule) {
                (true, _, _) => " (partial)",
                (false, true, _) => " (client-bound)",
                (false, false, true) => " (behind schedule)",
                _ => "",
            };
            let mut cells = vec![
                format!("{}{flag}", r.id),
                rate_median(r.rps),
                median(r.p50, 2),
                median(r.p95, 2),
                median(r.p99, 2),
                thousands(r.errors),
                median(r.success, 1),
            ];
            cells.extend(any_stream.then(|| median(r.ttft_p50, 2)));
            cells.extend(any_tokens.then(|| rate_median(r.tokens_per_sec)));
            cells
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i == 0 {
                let _ = write!(s, "{cell:<w$}");
            } else {
                let _ = write!(s, "  {cell:>w$}");
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut out, &header);
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&mut out, &cells);
    }
    out.push_str("medians per run, except errors: summed over all runs\n");
    let judged: Vec<&str> = report
        .points
        .iter()
        .filter(|p| p.aggregate.slo.is_some())
        .map(|p| p.id.as_str())
        .collect();
    if !judged.is_empty() {
        let met: Vec<&str> = report
            .points
            .iter()
            .filter(|p| p.aggregate.slo.as_ref().is_some_and(|s| s.meets))
            .map(|p| p.id.as_str())
            .collect();
        let _ = write!(out, "SLOs met by {} of {} points", met.len(), judged.len());
        if !met.is_empty() && met.len() < judged.len() {
            let _ = write!(out, ": {}", met.join(", "));
        }
        out.push('\n');
    }
    for p in &report.points {
        if let Some(search) = row(p, &report.axes).search {
            let _ = writeln!(
                out,
                "highest rate that meets the SLOs, {}: {}",
                p.id, search.answer
            );
        }
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

/// The median of a figure, or `-` when it does not exist (latency of a point where no
/// request succeeded, stream figures of a non-stream route).
fn median(figure: Option<Spread>, decimals: usize) -> String {
    figure.map_or_else(|| "-".into(), |s| grouped(s.median, decimals))
}

/// The median of a rate to 3 significant digits, or `-`.
fn rate_median(figure: Option<Spread>) -> String {
    figure.map_or_else(|| "-".into(), |s| rate(s.median))
}
