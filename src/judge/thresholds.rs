//! Checking `[thresholds]` against a run's results: for every point, the thresholds that
//! select it — of each figure, only those of the most specific scope (a `[[thresholds.when]]`
//! over a route's, a route's over the scenario's) — judged on the median across the runs the
//! report's medians use, or on each of those runs with `every_run`. Reads only `PointResult`s,
//! so a stored, merged or external result is judged alike.
//!
//! A figure a point does not have (TTFT of a JSON route, the send lag of a closed loop, the
//! latency of a point where nothing succeeded) is not applicable there — unless the threshold
//! was scoped to the point by route or axis values: then the absence fails it.

use serde::{Deserialize, Serialize};

use super::figures::{self, Unit};
use crate::metrics::{PointResult, RunStats, median_mad};
use crate::scenario::{Bound, Scope, Threshold, Thresholds};

/// What the thresholds found, as `results.json` stores it: enough to render the table again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdReport {
    /// Every threshold, in the scenario's order, with the points it judged.
    pub thresholds: Vec<ThresholdResult>,
    /// Checks passed (a threshold on a point is one check).
    pub passed: usize,
    /// Checks failed.
    pub failed: usize,
    /// Checks whose figure the point does not have.
    pub not_applicable: usize,
}

impl ThresholdReport {
    /// Whether any check failed.
    pub fn any_failed(&self) -> bool {
        self.failed > 0
    }

    /// Every failed check with its threshold, in order.
    pub fn failures(&self) -> impl Iterator<Item = (&ThresholdResult, &Check)> {
        self.thresholds.iter().flat_map(|t| {
            t.checks
                .iter()
                .filter(|c| c.outcome == Outcome::Fail)
                .map(move |c| (t, c))
        })
    }
}

/// One threshold and the points it judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// The figure's key (`latency_p99`).
    pub figure: String,
    /// Its label (`latency p99`).
    pub label: String,
    /// Its unit; a count bounded as a share of requests is judged in `percent_of_requests`.
    pub unit: Unit,
    /// The bound as written: `< 250ms`, `false`.
    pub bound: String,
    /// The points it selects, in words: `all points`, ``route `stream` ``, `concurrency = 32`.
    pub scope: String,
    /// Whether it judges each run rather than the median across runs.
    pub every_run: bool,
    /// One check per point it judged, in plan order.
    pub checks: Vec<Check>,
}

/// A threshold on one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The point's id.
    pub point: String,
    /// What became of it.
    pub outcome: Outcome,
    /// The value judged, in the threshold's unit: the median across runs, or with
    /// `every_run` the worst run's; `None` when the point has no such figure. A yes-or-no
    /// figure is 1 (yes) or 0.
    pub value: Option<f64>,
    /// How far the value is inside the bound, in its unit: positive with room to spare,
    /// negative past it; `None` for a yes-or-no figure or an absent one.
    pub margin: Option<f64>,
    /// `margin` as a percentage of the bound; `None` when the bound is 0.
    pub margin_pct: Option<f64>,
    /// Runs judged (those the medians use).
    pub runs: usize,
    /// With `every_run` (or a yes-or-no figure), the runs past the bound, and, where the
    /// threshold was scoped to the point, those without the figure; 0 otherwise.
    pub failed_runs: usize,
}

/// What became of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Within the bound.
    Pass,
    /// Past the bound, or the figure is absent where the threshold was scoped to the point.
    Fail,
    /// The point does not have the figure.
    NotApplicable,
}

/// Judge `points` against `thresholds`; `None` when there are none.
pub fn judge(thresholds: &Thresholds, points: &[PointResult]) -> Option<ThresholdReport> {
    if thresholds.is_empty() {
        return None;
    }
    let mut results: Vec<ThresholdResult> = thresholds.rules.iter().map(result).collect();
    for point in points {
        for (i, check) in judge_point(thresholds, point) {
            results[i].checks.push(check);
        }
    }
    let count = |o: Outcome| {
        results
            .iter()
            .flat_map(|t| &t.checks)
            .filter(|c| c.outcome == o)
            .count()
    };
    Some(ThresholdReport {
        passed: count(Outcome::Pass),
        failed: count(Outcome::Fail),
        not_applicable: count(Outcome::NotApplicable),
        thresholds: results,
    })
}

/// The checks of `point`: each with the index of its threshold in `thresholds.rules`.
pub fn judge_point(thresholds: &Thresholds, point: &PointResult) -> Vec<(usize, Check)> {
    let rules = &thresholds.rules;
    let selects = |t: &Threshold| t.scope.selects(&point.route, &point.vars);
    rules
        .iter()
        .enumerate()
        .filter(|(_, t)| selects(t))
        .filter(|(_, t)| {
            // Only the most specific scopes bounding this figure judge it here.
            let key = t.figure.key();
            !rules
                .iter()
                .any(|o| selects(o) && o.figure.key() == key && o.scope.rank() > t.scope.rank())
        })
        .map(|(i, t)| (i, check(t, point)))
        .collect()
}

/// Why a run with `abort_on_fail` ends after `point`: the first threshold it failed; `None`
/// when it failed none.
pub fn abort_reason(thresholds: &Thresholds, point: &PointResult) -> Option<String> {
    let (i, _) = judge_point(thresholds, point)
        .into_iter()
        .find(|(_, c)| c.outcome == Outcome::Fail)?;
    let t = &thresholds.rules[i];
    Some(format!(
        "point `{}` failed the threshold `{} {}` (`abort_on_fail`)",
        point.id,
        t.figure.key(),
        t.bound.text()
    ))
}

/// A threshold's result, before any point.
fn result(t: &Threshold) -> ThresholdResult {
    let unit = match t.bound {
        Bound::Compare {
            per_100_requests: true,
            ..
        } => Unit::PercentOfRequests,
        _ => t.figure.unit(),
    };
    ThresholdResult {
        figure: t.figure.key(),
        label: t.figure.label(),
        unit,
        bound: t.bound.text(),
        scope: t.scope.describe(),
        every_run: t.every_run,
        checks: Vec::new(),
    }
}

/// The value `t` judges in `run`.
fn value(t: &Threshold, run: &RunStats) -> Option<f64> {
    let v = t.figure.of_run(run)?;
    match t.bound {
        Bound::Compare {
            per_100_requests: true,
            ..
        } => (run.requests > 0).then(|| 100.0 * v / run.requests as f64),
        _ => Some(v),
    }
}

/// Whether `value` is within `bound`.
fn holds(bound: &Bound, value: f64) -> bool {
    match bound {
        Bound::Compare { op, limit, .. } => op.holds(value, *limit),
        Bound::Is(flag) => (value != 0.0) == *flag,
    }
}

/// `t` on `point`.
fn check(t: &Threshold, point: &PointResult) -> Check {
    let values: Vec<Option<f64>> = figures::runs(point).map(|r| value(t, r)).collect();
    let runs = values.len();
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    // A yes-or-no figure is yes for the point when it is yes in any run, as the report
    // flags it: a median would hide the run the client limited.
    let every_run = t.every_run || matches!(t.bound, Bound::Is(_));
    let judged = if every_run {
        worst(&t.bound, &present)
    } else {
        median_mad(&present).map(|s| s.median)
    };
    let scoped = t.scope != Scope::All;
    let absent = Check {
        point: point.id.clone(),
        outcome: Outcome::NotApplicable,
        value: None,
        margin: None,
        margin_pct: None,
        runs,
        failed_runs: 0,
    };
    let Some(v) = judged else {
        return if scoped {
            Check {
                outcome: Outcome::Fail,
                failed_runs: runs,
                ..absent
            }
        } else {
            absent
        };
    };
    let failed_runs = if every_run {
        let past = present.iter().filter(|&&x| !holds(&t.bound, x)).count();
        let missing = if scoped { runs - present.len() } else { 0 };
        past + missing
    } else {
        0
    };
    let pass = if every_run {
        failed_runs == 0
    } else {
        holds(&t.bound, v)
    };
    let (margin, margin_pct) = match t.bound {
        Bound::Compare { op, limit, .. } => {
            let m = op.margin(v, limit);
            (Some(m), (limit != 0.0).then(|| 100.0 * m / limit))
        }
        Bound::Is(_) => (None, None),
    };
    Check {
        outcome: if pass { Outcome::Pass } else { Outcome::Fail },
        value: Some(v),
        margin,
        margin_pct,
        failed_runs,
        ..absent
    }
}

/// The value of `values` furthest from `bound`'s good side; `None` when there is none.
fn worst(bound: &Bound, values: &[f64]) -> Option<f64> {
    let mut it = values.iter().copied();
    let first = it.next()?;
    Some(it.fold(first, |w, v| {
        let further = match bound {
            Bound::Compare { op, limit, .. } => op.margin(v, *limit) < op.margin(w, *limit),
            // A yes where the bound wants no (or a no where it wants yes) is the worst.
            Bound::Is(flag) => (v != 0.0) != *flag,
        };
        if further { v } else { w }
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::judge::Measure;
    use crate::metrics::{ClientStats, LatencySummary, StreamSummary, aggregate};
    use crate::scenario::{LoadModel, Op};

    fn rule(key: &str, op: Op, limit: f64, scope: Scope) -> Threshold {
        Threshold {
            figure: Measure::parse(key).unwrap(),
            bound: Bound::Compare {
                op,
                limit,
                per_100_requests: false,
                written: format!("{} {limit}", op.sign()),
            },
            scope,
            every_run: false,
        }
    }

    fn run(p99_ms: u64, partial: bool) -> RunStats {
        RunStats {
            requests: 200,
            latency: Some(LatencySummary {
                p99_us: p99_ms * 1000,
                ..Default::default()
            }),
            partial,
            ..Default::default()
        }
    }

    fn point(id: &str, route: &str, runs: Vec<RunStats>) -> PointResult {
        PointResult {
            id: id.into(),
            route: route.into(),
            path: "/".into(),
            payload: None,
            payload_bytes: 0,
            load: LoadModel::Closed {
                concurrency: std::num::NonZeroU32::MIN,
            },
            stream: false,
            vars: BTreeMap::from([("route".to_string(), route.to_string())]),
            aggregate: aggregate(&runs),
            runs,
            partial: false,
            finished_unix_ms: None,
            client: None,
        }
    }

    fn one(t: Threshold, p: &PointResult) -> Check {
        let thresholds = Thresholds {
            rules: vec![t],
            abort_on_fail: false,
        };
        let mut checks = judge_point(&thresholds, p);
        assert_eq!(checks.len(), 1);
        checks.remove(0).1
    }

    #[test]
    fn the_median_of_the_runs_the_report_uses_is_judged() {
        // The cut run is left out, as the report's medians leave it out: median of 2 and 4.
        let p = point(
            "chat-c1",
            "chat",
            vec![run(2, false), run(4, false), run(9, true)],
        );
        let c = one(rule("latency_p99", Op::Below, 3.5, Scope::All), &p);
        assert_eq!(c.outcome, Outcome::Pass);
        assert_eq!((c.value, c.margin, c.runs), (Some(3.0), Some(0.5), 2));
        assert!((c.margin_pct.unwrap() - 100.0 * 0.5 / 3.5).abs() < 1e-9);
        let c = one(rule("latency_p99", Op::Below, 2.5, Scope::All), &p);
        assert_eq!((c.outcome, c.margin), (Outcome::Fail, Some(-0.5)));
    }

    #[test]
    fn every_run_judges_the_worst_run() {
        let p = point("chat-c1", "chat", vec![run(2, false), run(4, false)]);
        let mut t = rule("latency_p99", Op::Below, 3.5, Scope::All);
        t.every_run = true;
        let c = one(t, &p);
        assert_eq!(c.outcome, Outcome::Fail);
        assert_eq!((c.value, c.failed_runs, c.runs), (Some(4.0), 1, 2));
        let mut t = rule("throughput", Op::Above, 10.0, Scope::All);
        t.every_run = true;
        let mut slow = run(2, false);
        slow.throughput_rps = 8.0;
        let mut fast = run(2, false);
        fast.throughput_rps = 30.0;
        let c = one(t, &point("p", "chat", vec![fast, slow]));
        assert_eq!((c.outcome, c.value), (Outcome::Fail, Some(8.0)));
    }

    #[test]
    fn an_absent_figure_fails_only_where_the_threshold_was_scoped() {
        let p = point("chat-c1", "chat", vec![run(2, false)]);
        let everywhere = one(rule("ttft_p99", Op::Below, 50.0, Scope::All), &p);
        assert_eq!(
            (everywhere.outcome, everywhere.value),
            (Outcome::NotApplicable, None)
        );
        let scoped = one(
            rule("ttft_p99", Op::Below, 50.0, Scope::Route("chat".into())),
            &p,
        );
        assert_eq!((scoped.outcome, scoped.value), (Outcome::Fail, None));
        let mut streamed = run(2, false);
        streamed.stream = Some(StreamSummary {
            ttft: Some(LatencySummary {
                p99_us: 20_000,
                ..Default::default()
            }),
            ..Default::default()
        });
        let p = point("stream-c1", "stream", vec![streamed]);
        let c = one(rule("ttft_p99", Op::Below, 50.0, Scope::All), &p);
        assert_eq!((c.outcome, c.value), (Outcome::Pass, Some(20.0)));
    }

    #[test]
    fn the_most_specific_scope_judges_a_figure() {
        let thresholds = Thresholds {
            rules: vec![
                rule("latency_p99", Op::Below, 1.0, Scope::All),
                rule("latency_p99", Op::Below, 10.0, Scope::Route("chat".into())),
                rule("success_rate", Op::AtLeast, 0.0, Scope::All),
            ],
            abort_on_fail: true,
        };
        let chat = point("chat-c1", "chat", vec![run(5, false)]);
        let stream = point("stream-c1", "stream", vec![run(5, false)]);
        let on = |p: &PointResult| -> Vec<usize> {
            judge_point(&thresholds, p)
                .iter()
                .map(|(i, _)| *i)
                .collect()
        };
        assert_eq!(
            on(&chat),
            [1, 2],
            "the route's p99 bound replaces the scenario's"
        );
        assert_eq!(on(&stream), [0, 2]);
        let report = judge(&thresholds, &[chat.clone(), stream.clone()]).unwrap();
        assert_eq!(
            (report.passed, report.failed, report.not_applicable),
            (1, 1, 2),
            "success rate is absent on runs that counted no outcome"
        );
        assert!(report.any_failed());
        assert_eq!(report.failures().next().unwrap().1.point, "stream-c1");
        assert_eq!(abort_reason(&thresholds, &chat), None);
        assert_eq!(
            abort_reason(&thresholds, &stream).as_deref(),
            Some("point `stream-c1` failed the threshold `latency_p99 < 1` (`abort_on_fail`)")
        );
        assert!(judge(&Thresholds::default(), &[chat]).is_none());
    }

    #[test]
    fn yes_or_no_figures_are_yes_when_any_run_was() {
        let bound = |runs: &[bool]| {
            let runs = runs
                .iter()
                .map(|&client_bound| RunStats {
                    client: ClientStats {
                        client_bound,
                        ..Default::default()
                    },
                    ..run(2, false)
                })
                .collect();
            let t = Threshold {
                figure: Measure::parse("client_bound").unwrap(),
                bound: Bound::Is(false),
                scope: Scope::All,
                every_run: false,
            };
            one(t, &point("p", "chat", runs))
        };
        let c = bound(&[false, true, false]);
        assert_eq!(
            (c.outcome, c.value, c.failed_runs),
            (Outcome::Fail, Some(1.0), 1)
        );
        assert_eq!(c.margin, None);
        assert_eq!(bound(&[false, false]).outcome, Outcome::Pass);
    }

    #[test]
    fn a_count_bounded_by_a_share_is_judged_per_100_requests() {
        let mut r = run(2, false);
        r.outcomes.status.insert(500, 3);
        let t = Threshold {
            figure: Measure::parse("errors_5xx").unwrap(),
            bound: Bound::Compare {
                op: Op::Below,
                limit: 1.0,
                per_100_requests: true,
                written: "< 1%".into(),
            },
            scope: Scope::All,
            every_run: false,
        };
        assert_eq!(result(&t).unit, Unit::PercentOfRequests);
        let c = one(t, &point("p", "chat", vec![r]));
        assert_eq!((c.outcome, c.value), (Outcome::Fail, Some(1.5)));
    }
}
