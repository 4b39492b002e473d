//! The SLO verdicts and rate searches as templates see them: per point, goodput and one cell
//! per objective; per search point, the answer as a headline and every probe of every run.
//! Cells are formatted here, so templates only lay them out.

use std::collections::BTreeMap;

use serde::Serialize;

use super::filters::{grouped, rate, rate_spread};
use crate::metrics::{PointResult, SearchEnd, SloCheck, Spread};
use crate::scenario::RateProfile;
use crate::scenario::load::format_rate;

/// One objective as a column of the SLO table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SloColumn {
    /// `latency`, `ttft`, `tpot`, `itl` or `success_rate`.
    pub(crate) objective: String,
    /// Its heading: `latency p99 ≤ 250 ms`, `success ≥ 99.5%`.
    pub(crate) title: String,
}

/// A point's verdict against `[slo]`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SloRow {
    /// Good requests per second: median (and MAD) per run.
    pub(crate) goodput: Option<Spread>,
    /// Good requests, summed over runs.
    pub(crate) good: u64,
    /// Whether every run judged met the SLOs.
    pub(crate) meets: bool,
    /// `met`, `missed`, or `met in 2 of 3 runs`.
    pub(crate) verdict: String,
    /// One cell per objective judged, by objective (the keys of `SloColumn`): the median
    /// measured and ✓ or ✗ (`231.46 ms ✓`); absent where the objective does not apply (TTFT
    /// of a JSON route).
    pub(crate) cells: BTreeMap<String, String>,
}

/// A search point's answer and probes.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SearchRow {
    /// The answer as a headline: `1,230 req/s`, `≥ 1,000 req/s` (max met the SLOs), `< 10
    /// req/s` (min did not), with `± MAD` over several runs.
    pub(crate) answer: String,
    /// The answer, req/s: median and MAD over the runs that found one.
    pub(crate) answer_rps: Option<Spread>,
    /// The search as configured: `10–1000 req/s, resolution 5%, probes of 2s`.
    pub(crate) bracket: String,
    /// How each run's search ended, in words, joined: `within the resolution`.
    pub(crate) ends: String,
    /// Every probe of every run, in order.
    pub(crate) probes: Vec<ProbeRow>,
}

/// One probe of a search.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProbeRow {
    /// Run number.
    pub(crate) run: u32,
    /// Probe number in its run, 1-based.
    pub(crate) n: usize,
    /// The rate probed, req/s.
    pub(crate) rate_rps: f64,
    /// `meets`, `misses` or `cut short`.
    pub(crate) verdict: &'static str,
    /// Whether this probe is its run's answer.
    pub(crate) answer: bool,
    /// Goodput, req/s.
    pub(crate) goodput_rps: f64,
    /// Achieved rate, req/s.
    pub(crate) achieved_rps: Option<f64>,
    /// Success rate, percent.
    pub(crate) success_rate: Option<f64>,
    /// Response time p50, ms.
    pub(crate) latency_p50_ms: Option<f64>,
    /// Response time p99, ms.
    pub(crate) latency_p99_ms: Option<f64>,
    /// The objectives it missed: `latency p99 231.46 ms`; `-` when none.
    pub(crate) missed: String,
}

/// The name of an objective: `latency p99`, `success rate`.
fn name(objective: &str, p: Option<f64>) -> String {
    match p {
        Some(p) => format!("{objective} p{}", format_rate(p)),
        None => objective.replace('_', " "),
    }
}

/// A measured value in an objective's unit: `231.46 ms`, `99.80%`.
fn value(v: f64, time: bool) -> String {
    if time {
        format!("{} ms", grouped(v, 2))
    } else {
        format!("{}%", grouped(v, 2))
    }
}

/// The columns of the SLO table: every objective some point was judged by, in the order
/// `[slo]` lists them (a stream point has them all).
pub(crate) fn columns(points: &[PointResult]) -> Vec<SloColumn> {
    let mut out: Vec<(usize, SloColumn)> = Vec::new();
    for p in points {
        let Some(slo) = &p.aggregate.slo else {
            continue;
        };
        for c in &slo.checks {
            if out.iter().any(|(_, col)| col.objective == c.objective) {
                continue;
            }
            let order = ["latency", "ttft", "tpot", "itl", "success_rate"]
                .iter()
                .position(|o| *o == c.objective)
                .unwrap_or(usize::MAX);
            let bound = match c.p {
                Some(_) => format!("≤ {} ms", format_rate(c.limit)),
                None => format!("≥ {}%", format_rate(c.limit)),
            };
            let title = format!("{} {bound}", name(&c.objective, c.p));
            out.push((
                order,
                SloColumn {
                    objective: c.objective.clone(),
                    title,
                },
            ));
        }
    }
    out.sort_by_key(|(order, _)| *order);
    out.into_iter().map(|(_, c)| c).collect()
}

/// The SLO row of `p`; `None` without `[slo]`.
pub(crate) fn slo_row(p: &PointResult) -> Option<SloRow> {
    let slo = p.aggregate.slo.as_ref()?;
    let cells = slo
        .checks
        .iter()
        .map(|c| {
            let mark = if slo.runs > 0 && c.runs_meeting == slo.runs {
                "✓"
            } else {
                "✗"
            };
            let shown = match c.value {
                Some(v) => format!("{} {mark}", value(v.median, c.p.is_some())),
                None => format!("- {mark}"),
            };
            (c.objective.clone(), shown)
        })
        .collect();
    let verdict = match (slo.runs_meeting, slo.runs) {
        (_, 0) => "-".to_string(),
        (met, runs) if met == runs => "met".to_string(),
        (0, _) => "missed".to_string(),
        (met, runs) => format!("met in {met} of {runs} runs"),
    };
    Some(SloRow {
        goodput: slo.goodput_rps,
        good: slo.good,
        meets: slo.meets,
        verdict,
        cells,
    })
}

/// What a check missed by: `latency p99 231.46 ms`, `success rate not measured`.
fn missed(checks: &[SloCheck]) -> String {
    let parts: Vec<String> = checks
        .iter()
        .filter(|c| !c.meets)
        .map(|c| match c.value {
            Some(v) => format!("{} {}", name(&c.objective, c.p), value(v, c.p.is_some())),
            None => format!("{} not measured", name(&c.objective, c.p)),
        })
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The search row of `p`; `None` for a point that is no search.
pub(crate) fn search_row(p: &PointResult, show_mad: bool) -> Option<SearchRow> {
    let search = p.aggregate.search.as_ref()?;
    let RateProfile::Search(settings) = &p.load.open_loop()?.rate else {
        return None;
    };
    let answer = match (search.answer_rps, search.ends.as_slice()) {
        (Some(a), ends) if ends.contains(&SearchEnd::AtMax) => {
            format!("≥ {} req/s", rate_spread(a, show_mad))
        }
        (Some(a), _) => format!("{} req/s", rate_spread(a, show_mad)),
        (None, _) => format!("< {} req/s", rate(settings.min)),
    };
    let mut ends: Vec<&str> = search.ends.iter().map(|e| e.describe()).collect();
    ends.dedup();
    let probes = p
        .runs
        .iter()
        .filter_map(|r| Some((r.run, r.search.as_ref()?)))
        .flat_map(|(run, s)| {
            s.probes.iter().enumerate().map(move |(i, probe)| ProbeRow {
                run,
                n: i + 1,
                rate_rps: probe.rate_rps,
                verdict: match (probe.partial, probe.meets) {
                    (true, _) => "cut short",
                    (false, true) => "meets",
                    (false, false) => "misses",
                },
                answer: probe.meets && s.answer_rps == Some(probe.rate_rps),
                goodput_rps: probe.slo.goodput_rps,
                achieved_rps: probe.achieved_rps,
                success_rate: probe.success_rate,
                latency_p50_ms: probe.latency_p50_ms,
                latency_p99_ms: probe.latency_p99_ms,
                missed: missed(&probe.slo.checks),
            })
        })
        .collect();
    Some(SearchRow {
        answer,
        answer_rps: search.answer_rps,
        bracket: settings.describe(),
        ends: ends.join("; "),
        probes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_names_and_values_read_as_written() {
        assert_eq!(name("latency", Some(99.9)), "latency p99.9");
        assert_eq!(name("success_rate", None), "success rate");
        assert_eq!(value(1234.567, true), "1,234.57 ms");
        assert_eq!(value(99.5, false), "99.50%");
        let check = |objective: &str, meets| SloCheck {
            objective: objective.into(),
            p: Some(99.0),
            limit: 100.0,
            value: Some(231.456),
            meets,
        };
        assert_eq!(missed(&[check("latency", false)]), "latency p99 231.46 ms");
        assert_eq!(missed(&[check("latency", true)]), "-");
    }
}
