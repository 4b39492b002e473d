//! Drives load: for each point, `concurrency` closed-loop workers run the warmup and measure
//! phases `runs` times through a `Transport`, retrying 429s per the policy; per-worker
//! recorders are merged into `RunStats`. Progress goes to the UI through events.

pub mod openai;
pub mod sse;

use std::time::SystemTime;

use url::Url;

use crate::journal::JournalSender;
use crate::metrics::PointResult;
use crate::scenario::{Point, Scenario};

/// How a run is shown and recorded.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Hide the progress bars.
    pub quiet: bool,
    /// Where per-request records go, when the request log is on.
    pub journal: Option<JournalSender>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// One result per point started, in plan order.
    pub points: Vec<PointResult>,
    /// Whether the run stopped before every point finished (Ctrl-C or error).
    pub partial: bool,
    /// Why it stopped early, when `partial` (e.g. "interrupted (Ctrl-C)").
    pub interruption: Option<String>,
    /// When the first point started.
    pub started: SystemTime,
    /// When the last point ended.
    pub finished: SystemTime,
}

/// A run that could not go on (a failed request is data, not this).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The transport could not be built (bad TLS setup, unsupported URL).
    #[error("cannot set up the HTTP client: {0}")]
    Transport(String),
}

/// Run every point of `points` against `base` (the resolved base URL) in order.
/// A run cut short still returns `Ok` with what was measured, marked partial.
pub async fn run(
    _scenario: &Scenario,
    _points: &[Point],
    _base: &Url,
    _options: RunOptions,
) -> Result<RunOutcome, RunError> {
    todo!("runner helper")
}
