//! What the runner tells whoever watches a run: points and runs starting and ending, the
//! phases of the built-in engine (with their live counters), and external clients starting
//! and ending. The drivers emit events; the progress bars (`progress`) subscribe, and so can
//! any other view. Events are delivered in order, synchronously: a subscriber that draws does
//! so before the runner goes on, so the last frame of a phase shows its final figures.

use std::sync::Arc;
use std::time::Duration;

use super::live::Live;
use crate::external::ExternalRun;
use crate::metrics::Phase;

/// One thing that happened in a run.
#[derive(Debug)]
pub(crate) enum Event<'a> {
    /// Point `id` starts; `done` points came before it.
    PointStarted {
        /// The point's id.
        id: &'a str,
        /// Points finished before it.
        done: usize,
        /// Its share of the plan's estimate.
        planned: Duration,
    },
    /// A phase of the built-in engine starts; its workers count into `live` until
    /// `PhaseFinished`.
    PhaseStarted {
        /// What the phase is.
        phase: PhaseShown,
        /// The workers' live counters.
        live: Arc<Live>,
    },
    /// The phase that started last ended: its counters are final.
    PhaseFinished,
    /// An external client starts a run of the current point.
    ClientStarted {
        /// The client's name.
        client: &'a str,
        /// Run number, 1-based.
        run: u32,
        /// Runs of the point.
        runs: u32,
        /// How long the run should take: warmup + measure.
        expected: Duration,
    },
    /// The external client's run ended, however it did.
    ClientFinished {
        /// Run number, 1-based.
        run: u32,
        /// Runs of the point.
        runs: u32,
        /// How it went.
        record: &'a ExternalRun,
    },
    /// A run of the current point ended (either driver), whatever it measured.
    RunFinished {
        /// Runs of the point.
        runs: u32,
    },
    /// A step of the run worth keeping on screen, such as a search's probe: shown above the
    /// bars while they are shown, left out when they are hidden.
    Note {
        /// The line to show.
        line: &'a str,
    },
    /// The current point ended; `done` points are finished.
    PointFinished {
        /// Points finished.
        done: usize,
    },
}

/// What a phase of the built-in engine is, for whoever shows it.
#[derive(Debug, Clone)]
pub(crate) struct PhaseShown {
    /// Run number, 1-based.
    pub(crate) run: u32,
    /// Runs of the point.
    pub(crate) runs: u32,
    /// Warmup or measure.
    pub(crate) phase: Phase,
    /// The phase's duration limit, if any.
    pub(crate) limit: Option<Duration>,
    /// An open loop's rate as written (`50`, `stages`); `None` for a closed loop.
    pub(crate) offered: Option<String>,
}

/// Receives a run's events, in order.
pub(crate) trait Subscriber: Sync {
    /// Take in `event`; called on the runner's task, so it must not block for long.
    fn on(&self, event: Event<'_>);
}
