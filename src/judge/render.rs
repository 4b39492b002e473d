//! A comparison as text: Markdown for a pull-request comment or `report.md` (the minijinja
//! template `compare.md.j2`, built in and replaceable from a templates folder), and `--json`.
//!
//! The template gets rows with every number already formatted (figures in their unit's
//! decimals, changes as signed percentages), plus the raw `comparison` for anything else.

use minijinja::Value;
use serde::Serialize;

use super::JudgeError;
use super::compare::{Comparison, FigureComparison, Side, Stat, Verdict};
use super::figures::Unit;
use super::noise::{ALPHA, FLOOR, MIN_RANK_RUNS};
use crate::report::{Templates, format_grouped, rate_decimals};

/// The comparison template's name, in a templates folder too.
pub const TEMPLATE: &str = "compare.md.j2";
const BUILT_IN: &str = include_str!("templates/compare.md.j2");

/// `templates` with the built-in comparison template where they have no `compare.md.j2`.
pub fn templates_for(templates: &Templates) -> Templates {
    templates.or_built_in(TEMPLATE, BUILT_IN)
}

/// The comparison as Markdown, by `templates`' `compare.md.j2` (see `templates_for`).
pub fn markdown(comparison: &Comparison, templates: &Templates) -> Result<String, JudgeError> {
    let view = view(comparison);
    Ok(templates.render(TEMPLATE, Value::from(minijinja::value::Serde(view)))?)
}

/// The comparison as JSON (`--json`).
pub fn json(comparison: &Comparison) -> Result<String, JudgeError> {
    let mut text = serde_json::to_string_pretty(comparison).map_err(JudgeError::Json)?;
    text.push('\n');
    Ok(text)
}

/// One figure of one point, formatted.
#[derive(Debug, Clone, Serialize)]
struct Row {
    /// Point id.
    point: String,
    /// Figure label with its unit: `latency p99 (ms)`.
    figure: String,
    /// Base median (± MAD with more than one run), or `-`.
    base: String,
    /// New median (± MAD), or `-`.
    new: String,
    /// New / base − 1 as a signed percentage (`+17.1%`); the difference when the base is 0;
    /// `-` when a side lacks the figure.
    change: String,
    /// The verdict in words: `worse`, `better`, `within noise`, `1 run: no noise estimate`,
    /// `appeared`, `disappeared`; the rank test's p-value follows a worse or better.
    verdict: String,
    /// The verdict's key (`worse`, `within_noise`, ...).
    verdict_key: Verdict,
    /// The tolerance the figure failed, as written.
    failed_tolerance: Option<String>,
}

/// One compared point's rows.
#[derive(Debug, Clone, Serialize)]
struct PointRows {
    /// Point id.
    id: String,
    /// Runs in the base and the new run: `2 → 5`, or `2` when equal.
    runs: String,
    /// Its figures.
    rows: Vec<Row>,
}

/// Figures by verdict, over every compared point.
#[derive(Debug, Clone, Default, Serialize)]
struct Tally {
    /// Worse beyond noise.
    worse: usize,
    /// Better beyond noise.
    better: usize,
    /// Within noise.
    within_noise: usize,
    /// With a single run on a side.
    no_estimate: usize,
    /// Absent in the base only.
    appeared: usize,
    /// Absent in the new run only.
    disappeared: usize,
}

/// What the template sees.
#[derive(Debug, Clone, Serialize)]
struct View<'a> {
    /// The whole comparison, as `--json` prints it.
    comparison: &'a Comparison,
    /// The baseline.
    base: &'a Side,
    /// The run judged.
    new: &'a Side,
    /// Differences between the runs beyond their figures.
    warnings: &'a [String],
    /// Figures by verdict.
    tally: Tally,
    /// Points compared.
    compared: usize,
    /// The tolerances as written.
    tolerances: Vec<&'a str>,
    /// Figures past their tolerance.
    failures: Vec<Row>,
    /// Figures worse beyond noise.
    worse: Vec<Row>,
    /// Figures better beyond noise.
    better: Vec<Row>,
    /// Figures that appeared or disappeared.
    changed: Vec<Row>,
    /// Ids of points only the base has.
    base_only: &'a [String],
    /// Ids of points only the new run has.
    new_only: &'a [String],
    /// Every compared point with all its figures.
    points: Vec<PointRows>,
    /// The noise rule in words.
    rule: String,
}

fn view(c: &Comparison) -> View<'_> {
    let points: Vec<PointRows> = c
        .points
        .iter()
        .map(|p| PointRows {
            id: p.id.clone(),
            runs: if p.base_runs == p.new_runs {
                p.new_runs.to_string()
            } else {
                format!("{} → {}", p.base_runs, p.new_runs)
            },
            rows: p.figures.iter().map(|f| row(&p.id, f)).collect(),
        })
        .collect();
    let all = || points.iter().flat_map(|p| p.rows.iter());
    let with = |pick: fn(&Row) -> bool| all().filter(|r| pick(r)).cloned().collect::<Vec<_>>();
    let mut tally = Tally::default();
    for r in all() {
        *match r.verdict_key {
            Verdict::Worse => &mut tally.worse,
            Verdict::Better => &mut tally.better,
            Verdict::WithinNoise => &mut tally.within_noise,
            Verdict::NoEstimate => &mut tally.no_estimate,
            Verdict::Appeared => &mut tally.appeared,
            Verdict::Disappeared => &mut tally.disappeared,
        } += 1;
    }
    View {
        comparison: c,
        base: &c.base,
        new: &c.new,
        warnings: &c.warnings,
        tally,
        compared: c.points.len(),
        tolerances: c.tolerances.iter().map(|t| t.spec.as_str()).collect(),
        failures: with(|r| r.failed_tolerance.is_some()),
        worse: with(|r| r.verdict_key == Verdict::Worse),
        better: with(|r| r.verdict_key == Verdict::Better),
        changed: with(|r| matches!(r.verdict_key, Verdict::Appeared | Verdict::Disappeared)),
        base_only: &c.base_only,
        new_only: &c.new_only,
        points,
        rule: rule_text(),
    }
}

/// The noise rule, as the Markdown's footnote states it.
fn rule_text() -> String {
    format!(
        "a figure is worse or better only when its per-run values moved beyond their \
         run-to-run noise, by a two-sided test at α = {ALPHA} (the Mann–Whitney U test with \
         {MIN_RANK_RUNS} runs or more on both sides, Welch's t-test with fewer), and for times \
         and rates by {floor}% of the base median or more; with 1 run on either side there is \
         no noise estimate, and only `--fail-on` tolerances judge",
        floor = FLOOR * 100.0
    )
}

fn row(point: &str, f: &FigureComparison) -> Row {
    let stat = |s: Option<Stat>| s.map_or_else(|| "-".to_string(), |s| stat_text(f.unit, s));
    let verdict = match (f.verdict, f.p_value) {
        (Verdict::Worse | Verdict::Better, Some(p)) => {
            format!("{} ({})", verdict_word(f.verdict), p_text(p))
        }
        (v, _) => verdict_word(v).to_string(),
    };
    Row {
        point: point.to_string(),
        figure: format!("{} ({})", f.label, f.unit.symbol()),
        base: stat(f.base),
        new: stat(f.new),
        change: change_text(f),
        verdict,
        verdict_key: f.verdict,
        failed_tolerance: f.failed_tolerance.clone(),
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Better => "better",
        Verdict::Worse => "worse",
        Verdict::WithinNoise => "within noise",
        Verdict::NoEstimate => "1 run: no noise estimate",
        Verdict::Appeared => "appeared",
        Verdict::Disappeared => "disappeared",
    }
}

/// `p = 0.040`, `p < 0.001`.
fn p_text(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {p:.3}")
    }
}

/// Decimals a figure's values are shown with: as in `report.md`; a count is whole unless a
/// median of two runs split it.
pub(super) fn decimals(unit: Unit, median: f64) -> usize {
    match unit {
        Unit::Ms => 2,
        Unit::Percent | Unit::PercentOfRequests => 1,
        Unit::RequestsPerSec | Unit::TokensPerSec => rate_decimals(median),
        Unit::Count | Unit::Bool => usize::from(median.fract() != 0.0),
    }
}

fn stat_text(unit: Unit, s: Stat) -> String {
    let d = decimals(unit, s.median);
    if s.runs > 1 {
        format!(
            "{} ± {}",
            format_grouped(s.median, d),
            format_grouped(s.mad, d)
        )
    } else {
        format_grouped(s.median, d)
    }
}

fn change_text(f: &FigureComparison) -> String {
    let (Some(b), Some(n)) = (f.base, f.new) else {
        return "-".into();
    };
    match f.ratio {
        Some(ratio) => {
            let pct = (ratio - 1.0) * 100.0;
            if format!("{:.1}", pct.abs()) == "0.0" {
                "0.0%".into()
            } else {
                format!("{pct:+.1}%")
            }
        }
        None if n.median == b.median => "0.0%".into(),
        None => {
            let d = decimals(f.unit, n.median - b.median);
            let sign = if n.median > b.median { "+" } else { "" };
            format!("{sign}{} (from 0)", format_grouped(n.median - b.median, d))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::figures::Better;
    use crate::judge::noise::Rule;

    fn figure(
        unit: Unit,
        base: Option<(f64, f64, usize)>,
        new: Option<(f64, f64, usize)>,
    ) -> FigureComparison {
        let stat =
            |s: Option<(f64, f64, usize)>| s.map(|(median, mad, runs)| Stat { median, mad, runs });
        let (base, new) = (stat(base), stat(new));
        FigureComparison {
            figure: "x",
            label: "x",
            unit,
            better: Better::Lower,
            ratio: match (base, new) {
                (Some(b), Some(n)) if b.median != 0.0 => Some(n.median / b.median),
                _ => None,
            },
            base,
            new,
            verdict: Verdict::Worse,
            rule: Some(Rule::RankTest),
            p_value: Some(0.0079),
            failed_tolerance: None,
        }
    }

    #[test]
    fn figures_read_in_their_units() {
        let ms = row(
            "p",
            &figure(Unit::Ms, Some((3.5, 0.02, 2)), Some((4.1, 0.03, 2))),
        );
        assert_eq!(
            (ms.base.as_str(), ms.new.as_str()),
            ("3.50 ± 0.02", "4.10 ± 0.03")
        );
        assert_eq!(ms.change, "+17.1%");
        assert_eq!(ms.verdict, "worse (p = 0.008)");
        assert_eq!(ms.figure, "x (ms)");
        let rps = row(
            "p",
            &figure(
                Unit::RequestsPerSec,
                Some((12_750.0, 84.0, 1)),
                Some((12_750.4, 1.0, 1)),
            ),
        );
        assert_eq!((rps.base.as_str(), rps.change.as_str()), ("12,750", "0.0%"));
        let retries = row(
            "p",
            &figure(
                Unit::PercentOfRequests,
                Some((0.0, 0.0, 2)),
                Some((12.5, 0.5, 2)),
            ),
        );
        assert_eq!(
            (retries.new.as_str(), retries.change.as_str()),
            ("12.5 ± 0.5", "+12.5 (from 0)")
        );
        assert_eq!(retries.figure, "x (% of requests)");
        let gone = row("p", &figure(Unit::Ms, Some((3.0, 0.0, 1)), None));
        assert_eq!((gone.new.as_str(), gone.change.as_str()), ("-", "-"));
        let drop = row(
            "p",
            &figure(Unit::Percent, Some((100.0, 0.0, 2)), Some((95.5, 0.1, 2))),
        );
        assert_eq!(drop.change, "-4.5%");
    }
}
