//! Checking a user's templates before any traffic: `report.md` is rendered against a report
//! shaped like the coming run's — its scenario and planned points, placeholder figures — so a
//! broken template fails in a second instead of after the whole run.

use std::time::SystemTime;

use super::run_report::shown_target;
use super::templates::Templates;
use super::{HostFacts, ReportError, RunReport, markdown};
use crate::journal::JournalStats;
use crate::metrics::{LatencySummary, PointResult, RunStats, StreamSummary, UsageTotals};
use crate::scenario::{Point, Scenario};

/// Render `report.md` with `templates` for a placeholder run of `points`; the text is dropped.
pub fn check_templates(
    templates: &Templates,
    scenario: &Scenario,
    points: &[Point],
) -> Result<(), ReportError> {
    let (target, base_url) = shown_target(&scenario.target.base_url);
    let mut report = RunReport::new(
        scenario,
        target,
        base_url,
        HostFacts::default(),
        SystemTime::UNIX_EPOCH,
        SystemTime::UNIX_EPOCH,
        None,
        points.iter().map(placeholder).collect(),
        Some(JournalStats::default()),
    )?;
    // The scenario's thresholds judged on the placeholders: their section renders too.
    report.thresholds = crate::judge::thresholds::judge(&scenario.thresholds, &report.points);
    markdown::render(&report, templates, None).map(drop)
}

/// A point with one run in which every figure exists (one not-streamed stream included), so
/// templates take their fullest branches. Its counts stay 0: a placeholder sent nothing.
fn placeholder(point: &Point) -> PointResult {
    let one = Some(LatencySummary {
        count: 1,
        ..LatencySummary::default()
    });
    let runs = vec![RunStats {
        run: 1,
        success_rate: Some(100.0),
        latency: one,
        ttfb: one,
        stream: point.request.stream.then(|| StreamSummary {
            ttft: one,
            itl: one,
            tpot: one,
            bytes_per_sec: Some(1.0),
            not_streamed: 1,
            ..StreamSummary::default()
        }),
        usage: UsageTotals {
            requests: 1,
            completion_tokens_per_sec: Some(1.0),
            ..UsageTotals::default()
        },
        ..RunStats::default()
    }];
    PointResult::of(point, runs, false, None)
}
