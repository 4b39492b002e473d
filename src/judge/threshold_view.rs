//! The thresholds' results as text: the rows `report.md`'s Thresholds section lays out (one
//! per threshold, then one per check — every check when there are few, the failed ones when
//! there are many), and the lines `run` prints on stderr for each failure. Every number is
//! formatted here, in its unit.

use std::collections::HashMap;

use serde::Serialize;

use super::figures::Unit;
use super::render::decimals;
use super::thresholds::{Check, Outcome, ThresholdReport, ThresholdResult};
use crate::report::format_grouped;

/// Up to this many checks, the section lists every one; past it, only the failed ones.
pub const MAX_LISTED: usize = 60;

/// What the template's `thresholds` holds.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdsView {
    /// Checks in all (a threshold on a point is one).
    pub checks: usize,
    /// Checks passed.
    pub passed: usize,
    /// Checks failed.
    pub failed: usize,
    /// Checks whose figure the point does not have.
    pub not_applicable: usize,
    /// One row per threshold, in the scenario's order.
    pub thresholds: Vec<ThresholdRow>,
    /// The checks listed, by point in plan order: all of them up to `MAX_LISTED`, else the
    /// failed ones.
    pub listed: Vec<CheckRow>,
    /// Checks left out of `listed`.
    pub omitted: usize,
}

/// One threshold, over the points it judged.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdRow {
    /// The threshold as written: `latency_p99 < 250ms`.
    pub threshold: String,
    /// The points it selects: `all points`, ``route `stream` ``, `concurrency = 32`.
    pub scope: String,
    /// `median` or `every run`.
    pub judged_on: String,
    /// Checks passed.
    pub passed: usize,
    /// Checks failed.
    pub failed: usize,
    /// Checks not applicable.
    pub not_applicable: usize,
    /// The point closest to (or furthest past) the bound; `-` without a judged point.
    pub worst_point: String,
    /// Its value, with unit.
    pub worst_value: String,
    /// Its margin: `237.70 ms (95.1%)`, negative past the bound.
    pub worst_margin: String,
}

/// One threshold on one point.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    /// The point's id.
    pub point: String,
    /// The threshold as written.
    pub threshold: String,
    /// Its scope in words.
    pub scope: String,
    /// The value judged, with unit (`-` when absent); with `every_run`, the worst run's.
    pub value: String,
    /// Room to the bound (negative past it) and its share of the bound: `37.70 ms (15.1%)`.
    pub margin: String,
    /// `pass`, `FAIL` or `n/a`, with why when it is not plain: `FAIL (figure absent)`,
    /// `FAIL (2 of 5 runs)`.
    pub result: String,
    /// `pass`, `fail` or `not_applicable`.
    pub outcome: Outcome,
}

/// The view of `report`; `order` is the report's point ids in plan order.
pub fn view(report: &ThresholdReport, order: &[String]) -> ThresholdsView {
    // Each check once, by its point's first place in `order` (a point `order` lacks last),
    // then by threshold.
    let mut place: HashMap<&str, usize> = HashMap::new();
    for (i, id) in order.iter().enumerate() {
        place.entry(id.as_str()).or_insert(i);
    }
    let mut checks: Vec<(&ThresholdResult, &Check)> = report
        .thresholds
        .iter()
        .flat_map(|t| t.checks.iter().map(move |c| (t, c)))
        .collect();
    checks.sort_by_key(|(_, c)| place.get(c.point.as_str()).copied().unwrap_or(usize::MAX));
    let total = checks.len();
    let listed: Vec<CheckRow> = checks
        .into_iter()
        .filter(|(_, c)| total <= MAX_LISTED || c.outcome == Outcome::Fail)
        .map(|(t, c)| check_row(t, c))
        .collect();
    ThresholdsView {
        checks: total,
        passed: report.passed,
        failed: report.failed,
        not_applicable: report.not_applicable,
        thresholds: report.thresholds.iter().map(threshold_row).collect(),
        omitted: total - listed.len(),
        listed,
    }
}

/// One line per failed check, for stderr:
/// ``threshold failed: `chat-S-c32`: latency_p99 < 250ms (all points): 312.40 ms, 62.40 ms past (25.0%)``.
pub fn failure_lines(report: &ThresholdReport) -> Vec<String> {
    report
        .failures()
        .map(|(t, c)| {
            let what = match c.value {
                None => "figure absent".to_string(),
                Some(v) => {
                    let mut text = value_text(t.unit, v);
                    if let Some(m) = c.margin {
                        text.push_str(&format!(
                            ", {} past{}",
                            value_text(t.unit, -m),
                            pct_text(share(t.unit, c).map(|p| -p))
                        ));
                    }
                    if t.every_run {
                        text.push_str(&format!(
                            " (worst run; {} of {} runs)",
                            c.failed_runs, c.runs
                        ));
                    }
                    text
                }
            };
            format!(
                "threshold failed: `{}`: {} ({}): {what}",
                c.point,
                written(t),
                t.scope
            )
        })
        .collect()
}

/// The threshold as a scenario writes it, quotes aside: `latency_p99 < 250ms`,
/// `client_bound = false`.
fn written(t: &ThresholdResult) -> String {
    if t.unit == Unit::Bool {
        format!("{} = {}", t.figure, t.bound)
    } else {
        format!("{} {}", t.figure, t.bound)
    }
}

fn threshold_row(t: &ThresholdResult) -> ThresholdRow {
    let count = |o: Outcome| t.checks.iter().filter(|c| c.outcome == o).count();
    let worst = t
        .checks
        .iter()
        .filter(|c| c.outcome != Outcome::NotApplicable)
        .min_by(|a, b| closeness(a).total_cmp(&closeness(b)));
    ThresholdRow {
        threshold: written(t),
        scope: t.scope.clone(),
        judged_on: judged_on(t).into(),
        passed: count(Outcome::Pass),
        failed: count(Outcome::Fail),
        not_applicable: count(Outcome::NotApplicable),
        worst_point: worst.map_or_else(|| "-".into(), |c| c.point.clone()),
        worst_value: worst.map_or_else(|| "-".into(), |c| shown_value(t.unit, c.value)),
        worst_margin: worst.map_or_else(|| "-".into(), |c| margin_text(t.unit, c)),
    }
}

/// How a threshold judges: each run for `every_run` and yes-or-no figures.
fn judged_on(t: &ThresholdResult) -> &'static str {
    if t.every_run || t.unit == Unit::Bool {
        "every run"
    } else {
        "median"
    }
}

/// Lower is closer to failing: failures first, then the smallest share of the bound left.
fn closeness(c: &Check) -> f64 {
    if c.outcome == Outcome::Fail && c.margin.is_none() {
        return f64::NEG_INFINITY;
    }
    c.margin_pct.or(c.margin).unwrap_or(f64::INFINITY)
}

fn check_row(t: &ThresholdResult, c: &Check) -> CheckRow {
    let result = match c.outcome {
        Outcome::Pass => "pass".to_string(),
        Outcome::NotApplicable => "n/a".to_string(),
        Outcome::Fail if c.value.is_none() => "FAIL (figure absent)".to_string(),
        Outcome::Fail if judged_on(t) == "every run" && c.runs > 1 => {
            format!("FAIL ({} of {} runs)", c.failed_runs, c.runs)
        }
        Outcome::Fail => "FAIL".to_string(),
    };
    CheckRow {
        point: c.point.clone(),
        threshold: written(t),
        scope: t.scope.clone(),
        value: shown_value(t.unit, c.value),
        margin: margin_text(t.unit, c),
        result,
        outcome: c.outcome,
    }
}

fn shown_value(unit: Unit, value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |v| value_text(unit, v))
}

/// `12.30 ms`, `1,234 req/s`, `99.50%`, `3`, `0.52% of requests`, `yes`.
fn value_text(unit: Unit, v: f64) -> String {
    let number = |d: usize| format_grouped(v, d);
    match unit {
        Unit::Ms => format!("{} ms", number(decimals(unit, v))),
        Unit::RequestsPerSec => format!("{} req/s", number(decimals(unit, v))),
        Unit::TokensPerSec => format!("{} tokens/s", number(decimals(unit, v))),
        // Two decimals: a bound of 99.95% must not read as a value of 100.0%.
        Unit::Percent => format!("{}%", number(2)),
        Unit::PercentOfRequests => format!("{}% of requests", number(2)),
        Unit::Count => number(decimals(unit, v)),
        Unit::Bool => if v != 0.0 { "yes" } else { "no" }.into(),
    }
}

/// ` (25.0%)`, or nothing without a percentage.
fn pct_text(pct: Option<f64>) -> String {
    pct.map(|p| format!(" ({})", format_pct(p)))
        .unwrap_or_default()
}

fn format_pct(p: f64) -> String {
    format!("{}%", format_grouped(p, 1))
}

/// `237.70 ms (95.1%)`; `-` without a margin. A percentage's margin is in points, with no
/// share of the bound beside it: `1.00% (1.0%)` would read as the same thing twice.
fn margin_text(unit: Unit, c: &Check) -> String {
    match c.margin {
        None => "-".into(),
        Some(m) => format!("{}{}", value_text(unit, m), pct_text(share(unit, c))),
    }
}

/// The margin as a share of the bound, where it is worth showing.
fn share(unit: Unit, c: &Check) -> Option<f64> {
    c.margin_pct
        .filter(|_| !matches!(unit, Unit::Percent | Unit::PercentOfRequests))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(point: &str, outcome: Outcome, value: Option<f64>, margin: Option<f64>) -> Check {
        Check {
            point: point.into(),
            outcome,
            value,
            margin,
            margin_pct: margin.map(|m| 100.0 * m / 250.0),
            runs: 2,
            failed_runs: 0,
        }
    }

    fn p99(checks: Vec<Check>) -> ThresholdReport {
        let count = |o: Outcome| checks.iter().filter(|c| c.outcome == o).count();
        ThresholdReport {
            passed: count(Outcome::Pass),
            failed: count(Outcome::Fail),
            not_applicable: count(Outcome::NotApplicable),
            thresholds: vec![ThresholdResult {
                figure: "latency_p99".into(),
                label: "latency p99".into(),
                unit: Unit::Ms,
                bound: "< 250ms".into(),
                scope: "all points".into(),
                every_run: false,
                checks,
            }],
        }
    }

    #[test]
    fn the_worst_point_is_the_one_past_or_closest_to_the_bound() {
        let report = p99(vec![
            check("a", Outcome::Pass, Some(12.3), Some(237.7)),
            check("b", Outcome::Fail, Some(312.4), Some(-62.4)),
            check("c", Outcome::NotApplicable, None, None),
        ]);
        let ids: Vec<String> = ["c", "b", "a"].map(String::from).to_vec();
        let v = view(&report, &ids);
        let row = &v.thresholds[0];
        assert_eq!((row.passed, row.failed, row.not_applicable), (1, 1, 1));
        assert_eq!(row.worst_point, "b");
        assert_eq!(row.worst_value, "312.40 ms");
        assert_eq!(row.worst_margin, "-62.40 ms (-25.0%)");
        assert_eq!(row.judged_on, "median");
        let listed: Vec<(&str, &str)> = v
            .listed
            .iter()
            .map(|c| (c.point.as_str(), c.result.as_str()))
            .collect();
        assert_eq!(
            listed,
            [("c", "n/a"), ("b", "FAIL"), ("a", "pass")],
            "plan order"
        );
        assert_eq!(v.omitted, 0);
        assert_eq!(
            failure_lines(&report),
            [
                "threshold failed: `b`: latency_p99 < 250ms (all points): 312.40 ms, 62.40 ms past (25.0%)"
            ]
        );
    }

    #[test]
    fn many_checks_list_only_the_failed_ones() {
        let ids: Vec<String> = (0..=MAX_LISTED).map(|i| format!("p{i}")).collect();
        let mut checks: Vec<Check> = ids
            .iter()
            .map(|id| check(id, Outcome::Pass, Some(10.0), Some(240.0)))
            .collect();
        checks[7] = check("p7", Outcome::Fail, None, None);
        let v = view(&p99(checks), &ids);
        assert_eq!(v.listed.len(), 1);
        assert_eq!(v.listed[0].result, "FAIL (figure absent)");
        assert_eq!(v.omitted, MAX_LISTED);
        assert_eq!(
            v.thresholds[0].worst_point, "p7",
            "an absent figure is the worst"
        );
    }

    #[test]
    fn each_check_is_listed_once_whatever_the_order_holds() {
        let report = p99(vec![
            check("a", Outcome::Pass, Some(12.3), Some(237.7)),
            check("gone", Outcome::Pass, Some(12.3), Some(237.7)),
        ]);
        let order: Vec<String> = ["a", "a"].map(String::from).to_vec();
        let v = view(&report, &order);
        let points: Vec<&str> = v.listed.iter().map(|c| c.point.as_str()).collect();
        assert_eq!(points, ["a", "gone"]);
        assert_eq!((v.checks, v.omitted), (2, 0));
    }

    #[test]
    fn values_read_in_their_units() {
        assert_eq!(value_text(Unit::Percent, 99.95), "99.95%");
        assert_eq!(
            value_text(Unit::PercentOfRequests, 0.5),
            "0.50% of requests"
        );
        assert_eq!(value_text(Unit::Count, 3.0), "3");
        assert_eq!(value_text(Unit::Count, 1.5), "1.5");
        assert_eq!(value_text(Unit::RequestsPerSec, 12_750.4), "12,750 req/s");
        assert_eq!(value_text(Unit::Bool, 1.0), "yes");
    }
}
