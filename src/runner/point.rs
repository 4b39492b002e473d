//! One point: its workers run warmup (discarded) then measure, `runs` times; after each
//! measure phase the worker recorders are merged and summarized, and the runs aggregated. A
//! closed loop has `concurrency` workers, each sending its next request when the last ended;
//! an open loop's pool grows as its dispatcher needs (`open`).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::live::Live;
use super::open::{OpenPhase, Pacing, run_open_phase};
use super::progress::{PhaseShown, Progress};
use super::transport::{Connector, Prepared};
use super::worker::{PhaseCommon, PhaseCtx, Worker};
use crate::journal::JournalSender;
use crate::metrics::{self, Dispatched, Phase, PointResult, Recorder, RunStats, SelfWatch};
use crate::scenario::{LoadModel, Point, Scenario};
use crate::stop::Stop;

/// What every point of a run shares.
pub(crate) struct RunCtx<'a> {
    /// The scenario.
    pub(crate) scenario: &'a Scenario,
    /// The stop signal.
    pub(crate) stop: Stop,
    /// The request log.
    pub(crate) journal: Option<JournalSender>,
    /// Start of the whole run.
    pub(crate) run_start: Instant,
    /// The bars.
    pub(crate) progress: &'a Progress,
    /// How open loops wait for intended starts.
    pub(crate) pacing: Pacing,
}

/// Run `point` (`done` points came before it) and return what was measured (partial when
/// stopped).
pub(crate) async fn run_point<C: Connector>(
    connector: &C,
    point: &Point,
    req: Prepared,
    ctx: &RunCtx<'_>,
    done: usize,
) -> PointResult {
    let settings = &ctx.scenario.run;
    let req = Arc::new(req);
    let open = point.load.open_loop().map(|open| OpenPhase {
        connector,
        open,
        pacing: ctx.pacing,
    });
    let (live, mut workers) = match point.load {
        LoadModel::Closed { concurrency } => {
            let n = concurrency.get() as usize;
            let workers: Vec<Worker<C::Transport>> = (0..n)
                .map(|i| Worker::new(i, connector.transport()))
                .collect();
            (Live::new(n), workers)
        }
        // The pool starts empty and grows with the load, and so do its live counters.
        LoadModel::Open { .. } => (Live::lazy(point.load.max_in_flight() as usize), Vec::new()),
    };
    let live = Arc::new(live);
    let drive = Drive {
        req: &req,
        ctx,
        done,
        open: open.as_ref(),
        offered: point.load.open_loop().map(|o| o.rate.label()),
    };
    let mut runs: Vec<RunStats> = Vec::new();
    let mut partial = false;
    for run in 1..=settings.runs.get() {
        if ctx.stop.is_requested() {
            partial = true;
            break;
        }
        let common = PhaseCommon {
            stop: ctx.stop.clone(),
            retry: settings.retry,
            live: Arc::clone(&live),
            journal: ctx.journal.clone(),
            point: point.index as u32,
            run,
            run_start: ctx.run_start,
        };
        if let Some(limit) = settings.warmup {
            let phase = PhaseCtx::starting_now(Phase::Warmup, limit, common.clone());
            (workers, _) = drive.phase(workers, phase, run, limit.duration).await;
            for w in &mut workers {
                w.clear();
            }
            if ctx.stop.is_requested() {
                partial = true;
                break;
            }
        }
        let watch = SelfWatch::start();
        let phase = PhaseCtx::starting_now(Phase::Measure, settings.measure, common);
        let dispatched;
        (workers, dispatched) = drive
            .phase(workers, phase, run, settings.measure.duration)
            .await;
        let client = watch.finish().await;
        let mut stats = summarize(&workers, run, client, dispatched.as_ref());
        for w in &mut workers {
            w.clear();
        }
        let stopped = ctx.stop.is_requested();
        partial |= stopped;
        stats.partial = stopped;
        if stats.requests > 0 || !stopped {
            runs.push(stats);
        }
        if stopped {
            break;
        }
    }
    let finished = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis() as u64);
    PointResult::of(point, runs, partial, finished)
}

/// How one point's phases are run.
struct Drive<'a, 'c, C> {
    req: &'a Arc<Prepared>,
    ctx: &'a RunCtx<'c>,
    /// Points finished before this one.
    done: usize,
    /// The open loop, for an open-loop point.
    open: Option<&'a OpenPhase<'a, C>>,
    /// The open loop's rate as the progress bar shows it.
    offered: Option<String>,
}

impl<C: Connector> Drive<'_, '_, C> {
    /// Run one phase, limited to `limit`, of run number `run`: the workers come back, with
    /// an open loop's dispatcher counts.
    async fn phase(
        &self,
        workers: Vec<Worker<C::Transport>>,
        phase: PhaseCtx,
        run: u32,
        limit: Option<Duration>,
    ) -> (Vec<Worker<C::Transport>>, Option<Dispatched>) {
        phase.common.live.reset();
        let ticker = self.ctx.progress.watch_phase(
            Arc::clone(&phase.common.live),
            PhaseShown {
                run,
                runs: self.ctx.scenario.run.runs.get(),
                phase: phase.phase,
                limit,
                offered: self.offered.clone(),
            },
            self.done,
        );
        let phase = Arc::new(phase);
        let back = match self.open {
            Some(open) => {
                let (workers, counts) = run_open_phase(open, workers, self.req, phase).await;
                (workers, Some(counts))
            }
            None => (run_closed_phase(workers, self.req, phase).await, None),
        };
        ticker.abort();
        back
    }
}

/// Run one closed-loop phase on every worker.
async fn run_closed_phase<T: super::transport::Transport>(
    workers: Vec<Worker<T>>,
    req: &Arc<Prepared>,
    phase: Arc<PhaseCtx>,
) -> Vec<Worker<T>> {
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|w| tokio::spawn(w.run_phase(Arc::clone(req), Arc::clone(&phase))))
        .collect();
    let mut back = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(worker) => back.push(worker),
            // A worker's panic is a bug: surface it as it was rather than as a join error.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Tasks are only cancelled by the runtime shutting down, which ends the run anyway.
            Err(_) => {}
        }
    }
    back
}

/// Merge the workers' recorders into one run's summary (an open loop's with its dispatcher's
/// counts).
fn summarize<T>(
    workers: &[Worker<T>],
    run: u32,
    client: metrics::ClientStats,
    dispatched: Option<&Dispatched>,
) -> RunStats {
    let mut merged = Recorder::new();
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    let (mut in_flight, mut dropped) = (0, 0);
    for w in workers {
        merged.merge(&w.recorder);
        if let Some((start, end)) = w.span {
            first = Some(first.map_or(start, |f| f.min(start)));
            last = Some(last.map_or(end, |l| l.max(end)));
        }
        in_flight += w.in_flight_at_end;
        dropped += w.journal_dropped;
    }
    let measured = match (first, last) {
        (Some(f), Some(l)) => l.saturating_duration_since(f),
        _ => Duration::ZERO,
    };
    let mut stats = match dispatched {
        Some(counts) => merged.summarize_open(run, measured, client, counts),
        None => merged.summarize(run, measured, client),
    };
    stats.in_flight_at_end = in_flight;
    stats.journal_dropped = dropped;
    stats
}
