//! Judging runs, from their stored results only (`RunReport`, as `results.json` holds it) and
//! never from the runner, so that stored, merged and external results are judged alike.
//!
//! `compare` matches two runs' points by id and judges each headline figure (`figures`, one
//! table) against the noise of its per-run values (`noise`, by `rank_test` or `welch`), then
//! checks the `--fail-on`
//! tolerances (`tolerance`); `provenance` says what else differs between the runs (host, tool
//! version, scenario contents); `render` turns a comparison into Markdown (the template
//! `compare.md.j2`) or JSON; `baseline` is what `run --baseline` does with all of it.
//!
//! `thresholds` checks a scenario's `[thresholds]` against a run's points — any figure of
//! `figures` and `more_figures`, or a status code's count (`measure`) — and
//! `threshold_view` turns the result into the rows of `report.md`'s Thresholds section and
//! the failure lines `run` prints.

mod baseline;
mod compare;
mod error;
pub mod figures;
mod measure;
pub mod more_figures;
pub mod noise;
mod provenance;
mod rank_test;
mod render;
mod threshold_view;
pub mod thresholds;
mod tolerance;
mod welch;

pub use baseline::{Baseline, Judged};
pub use compare::{
    Comparison, Failure, FigureComparison, Loaded, PointComparison, Side, Stat, Verdict, compare,
    load,
};
pub use error::JudgeError;
pub use measure::Measure;
pub use render::{TEMPLATE, json, markdown, templates_for};
pub use threshold_view::{
    CheckRow, MAX_LISTED, ThresholdRow, ThresholdsView, failure_lines, view as threshold_view,
};
pub use thresholds::{Check, Outcome, ThresholdReport, ThresholdResult};
pub use tolerance::{Limit, Tolerance, parse as parse_tolerances};
