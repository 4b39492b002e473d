//! Matching two stored runs point by point (by id) and judging every headline figure of every
//! point both have: base and new medians, their ratio, and a verdict from the noise rule; then
//! the `--fail-on` tolerances. Reads only `RunReport`s, never the runner.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::JudgeError;
use super::figures::{Better, FIGURES, Figure, Unit, values};
use super::noise::{self, Rule, Shift};
use super::provenance::warnings;
use super::thresholds::ThresholdReport;
use super::tolerance::Tolerance;
use crate::metrics::{PointResult, median_mad};
use crate::report::{self, RunReport};

/// A run read from disk, with the path it was named by.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The path as given (a `results.json` or a report folder).
    pub path: PathBuf,
    /// The run.
    pub report: RunReport,
}

/// Read `path`: a `results.json`, or a report folder holding one.
pub fn load(path: &Path) -> Result<Loaded, JudgeError> {
    let file = if path.is_dir() {
        let file = path.join("results.json");
        if !file.is_file() {
            return Err(JudgeError::NoResults {
                path: path.to_path_buf(),
            });
        }
        file
    } else {
        path.to_path_buf()
    };
    Ok(Loaded {
        path: path.to_path_buf(),
        report: report::load_results(&file)?,
    })
}

/// One side of a comparison, as the header shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// The path it was read from, as given.
    pub path: String,
    /// Scenario name.
    pub scenario_name: String,
    /// `nitro-scenario` version that produced it.
    pub tool_version: String,
    /// Run start, RFC 3339 UTC.
    pub started_at: String,
    /// Whether the run stopped early.
    pub partial: bool,
}

/// A figure's median and MAD over one side's runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stat {
    /// Median across runs, in the figure's unit.
    pub median: f64,
    /// Median absolute deviation across runs.
    pub mad: f64,
    /// Runs that have the figure.
    pub runs: usize,
}

/// What became of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Moved its better way, beyond the noise.
    Better,
    /// Moved its worse way, beyond the noise.
    Worse,
    /// Did not move beyond the noise.
    WithinNoise,
    /// A side has a single run: no noise estimate, only tolerances judge it.
    NoEstimate,
    /// Absent in the base, present in the new run.
    Appeared,
    /// Present in the base, absent in the new run.
    Disappeared,
}

/// One figure of one point, on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct FigureComparison {
    /// The figure's key (`latency_p99`).
    pub figure: &'static str,
    /// Its label (`latency p99`).
    pub label: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Which way is better.
    pub better: Better,
    /// The base run's figure; `None` when it has none.
    pub base: Option<Stat>,
    /// The new run's figure; `None` when it has none.
    pub new: Option<Stat>,
    /// New median / base median; `None` when either is absent or the base is 0.
    pub ratio: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// The noise rule that gave it (absent for appeared and disappeared figures).
    pub rule: Option<Rule>,
    /// The rank test's two-sided p-value, when it ran.
    pub p_value: Option<f64>,
    /// The `--fail-on` tolerance this figure failed, as written.
    pub failed_tolerance: Option<String>,
}

/// One point both runs have.
#[derive(Debug, Clone, Serialize)]
pub struct PointComparison {
    /// The point's id.
    pub id: String,
    /// Runs the base's medians are taken over.
    pub base_runs: usize,
    /// Runs the new run's medians are taken over.
    pub new_runs: usize,
    /// Every figure either side has, in `FIGURES` order.
    pub figures: Vec<FigureComparison>,
}

/// A tolerance a figure failed.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// The point's id.
    pub point: String,
    /// The figure's key.
    pub figure: &'static str,
    /// The tolerance, as written.
    pub tolerance: String,
    /// The figure's verdict (`worse`, `no_estimate`, `disappeared`).
    pub verdict: Verdict,
}

/// Two runs compared.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The baseline.
    pub base: Side,
    /// The run judged.
    pub new: Side,
    /// What differs between the two runs beyond their figures: hosts, tool versions,
    /// scenario contents, a partial run.
    pub warnings: Vec<String>,
    /// Points both runs have, in the new run's order.
    pub points: Vec<PointComparison>,
    /// Ids of points only the base has.
    pub base_only: Vec<String>,
    /// Ids of points only the new run has.
    pub new_only: Vec<String>,
    /// The `--fail-on` tolerances.
    pub tolerances: Vec<Tolerance>,
    /// Every tolerance failed; the comparison fails when there is one.
    pub failures: Vec<Failure>,
}

impl Comparison {
    /// Whether a tolerance failed.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }
}

fn side(loaded: &Loaded) -> Side {
    let r = &loaded.report;
    Side {
        path: loaded.path.display().to_string(),
        scenario_name: r.scenario_name.clone(),
        tool_version: r.tool_version.clone(),
        started_at: r.started_at.clone(),
        partial: r.partial,
    }
}

/// Compare `new` with `base` and check `tolerances`.
pub fn compare(base: &Loaded, new: &Loaded, tolerances: &[Tolerance]) -> Comparison {
    let by_id: BTreeMap<&str, &PointResult> = base
        .report
        .points
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let new_ids: Vec<&str> = new.report.points.iter().map(|p| p.id.as_str()).collect();
    let mut points = Vec::new();
    let mut failures = Vec::new();
    let mut new_only = Vec::new();
    for p in &new.report.points {
        match by_id.get(p.id.as_str()) {
            Some(b) => {
                let point = compare_point(b, p, tolerances);
                for f in &point.figures {
                    if let Some(spec) = &f.failed_tolerance {
                        failures.push(Failure {
                            point: point.id.clone(),
                            figure: f.figure,
                            tolerance: spec.clone(),
                            verdict: f.verdict,
                        });
                    }
                }
                points.push(point);
            }
            None => new_only.push(p.id.clone()),
        }
    }
    let base_only = base
        .report
        .points
        .iter()
        .filter(|p| !new_ids.contains(&p.id.as_str()))
        .map(|p| p.id.clone())
        .collect();
    Comparison {
        base: side(base),
        new: side(new),
        warnings: warnings(&base.report, &new.report)
            .into_iter()
            .chain(thresholds_failed(new.report.thresholds.as_ref()))
            .collect(),
        points,
        base_only,
        new_only,
        tolerances: tolerances.to_vec(),
        failures,
    }
}

/// A warning when the new run failed thresholds of its scenario: `compare` does not judge
/// them again, but whoever reads the comparison should know.
fn thresholds_failed(new: Option<&ThresholdReport>) -> Option<String> {
    let t = new.filter(|t| t.any_failed())?;
    Some(format!(
        "the new run failed {} of its {} threshold checks (its report.md lists them)",
        t.failed,
        t.passed + t.failed + t.not_applicable
    ))
}

fn compare_point(
    base: &PointResult,
    new: &PointResult,
    tolerances: &[Tolerance],
) -> PointComparison {
    PointComparison {
        id: new.id.clone(),
        base_runs: base.aggregate.runs as usize,
        new_runs: new.aggregate.runs as usize,
        figures: FIGURES
            .iter()
            .filter_map(|f| {
                let tolerance = tolerances.iter().find(|t| t.figure == f.key);
                compare_figure(f, &values(base, f), &values(new, f), tolerance)
            })
            .collect(),
    }
}

fn stat(values: &[f64]) -> Option<Stat> {
    median_mad(values).map(|s| Stat {
        median: s.median,
        mad: s.mad,
        runs: values.len(),
    })
}

/// One figure judged; `None` when neither side has it.
fn compare_figure(
    f: &Figure,
    base: &[f64],
    new: &[f64],
    tolerance: Option<&Tolerance>,
) -> Option<FigureComparison> {
    let (b, n) = (stat(base), stat(new));
    let (verdict, rule, p_value) = match (b, n) {
        (None, None) => return None,
        (None, Some(_)) => (Verdict::Appeared, None, None),
        (Some(_), None) => (Verdict::Disappeared, None, None),
        (Some(_), Some(_)) => {
            let j = noise::judge(base, new, f.unit.has_floor());
            let verdict = match (j.rule, j.shift, f.better) {
                (Rule::NoEstimate, ..) => Verdict::NoEstimate,
                (_, None, _) => Verdict::WithinNoise,
                (_, Some(Shift::Up), Better::Higher) | (_, Some(Shift::Down), Better::Lower) => {
                    Verdict::Better
                }
                (_, Some(_), _) => Verdict::Worse,
            };
            (verdict, Some(j.rule), j.p_value)
        }
    };
    let failed = tolerance.filter(|t| match (verdict, b, n) {
        (Verdict::Disappeared, ..) => true,
        (Verdict::Worse | Verdict::NoEstimate, Some(b), Some(n)) => t.exceeded(b.median, n.median),
        _ => false,
    });
    Some(FigureComparison {
        figure: f.key,
        label: f.label,
        unit: f.unit,
        better: f.better,
        ratio: match (b, n) {
            (Some(b), Some(n)) if b.median != 0.0 => Some(n.median / b.median),
            _ => None,
        },
        base: b,
        new: n,
        verdict,
        rule,
        p_value,
        failed_tolerance: failed.map(|t| t.spec.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::figures::figure;
    use crate::judge::tolerance::parse;

    fn judged(key: &str, base: &[f64], new: &[f64], fail_on: Option<&str>) -> FigureComparison {
        let tolerances = parse(&fail_on.map(String::from).into_iter().collect::<Vec<_>>()).unwrap();
        compare_figure(figure(key).unwrap(), base, new, tolerances.first()).unwrap()
    }

    #[test]
    fn a_new_run_that_failed_thresholds_is_flagged() {
        assert_eq!(thresholds_failed(None), None);
        let mut t = ThresholdReport {
            thresholds: Vec::new(),
            passed: 5,
            failed: 0,
            not_applicable: 1,
        };
        assert_eq!(thresholds_failed(Some(&t)), None, "all held");
        t.failed = 2;
        assert_eq!(
            thresholds_failed(Some(&t)).as_deref(),
            Some("the new run failed 2 of its 8 threshold checks (its report.md lists them)")
        );
    }

    #[test]
    fn verdicts_follow_the_figures_direction() {
        let slower = judged("latency_p99", &[10.0, 10.2], &[12.0, 12.2], None);
        assert_eq!(slower.verdict, Verdict::Worse);
        assert!((slower.ratio.unwrap() - 12.1 / 10.1).abs() < 1e-12);
        let faster = judged("throughput", &[10.0, 10.2], &[12.0, 12.2], None);
        assert_eq!(faster.verdict, Verdict::Better);
        let noisy = judged("throughput", &[10.0, 14.0], &[12.0, 13.0], None);
        assert_eq!(noisy.verdict, Verdict::WithinNoise);
        assert_eq!(noisy.rule, Some(Rule::TTest));
    }

    #[test]
    fn absent_figures_appear_and_disappear_never_zero() {
        let appeared = judged("latency_p50", &[], &[3.0], None);
        assert_eq!(appeared.verdict, Verdict::Appeared);
        assert_eq!((appeared.base, appeared.ratio), (None, None));
        let gone = judged("latency_p50", &[3.0, 3.1], &[], Some("latency_p50=+5%"));
        assert_eq!(gone.verdict, Verdict::Disappeared);
        assert_eq!(gone.failed_tolerance.as_deref(), Some("latency_p50=+5%"));
        assert!(compare_figure(figure("ttft_p50").unwrap(), &[], &[], None).is_none());
    }

    #[test]
    fn tolerances_fail_only_worse_or_unjudged_figures_past_them() {
        let past = judged(
            "latency_p99",
            &[10.0, 10.2],
            &[12.0, 12.2],
            Some("latency_p99=+5%"),
        );
        assert!(past.failed_tolerance.is_some());
        let within = judged(
            "latency_p99",
            &[10.0, 10.2],
            &[12.0, 12.2],
            Some("latency_p99=+25%"),
        );
        assert!(within.failed_tolerance.is_none());
        // Past the tolerance but within the noise: not a failure.
        let noisy = judged(
            "latency_p99",
            &[8.0, 12.0],
            &[10.5, 12.5],
            Some("latency_p99=+1%"),
        );
        assert_eq!(noisy.verdict, Verdict::WithinNoise);
        assert!(noisy.failed_tolerance.is_none());
        // One run: the tolerance alone judges.
        let single = judged("throughput", &[100.0], &[90.0], Some("throughput=-3%"));
        assert_eq!(single.verdict, Verdict::NoEstimate);
        assert!(single.failed_tolerance.is_some());
        let better = judged("throughput", &[100.0], &[120.0], Some("throughput=-3%"));
        assert!(better.failed_tolerance.is_none());
    }
}
