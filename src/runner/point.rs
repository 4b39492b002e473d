//! One point: `concurrency` workers run warmup (discarded) then measure, `runs` times; after
//! each measure phase the worker recorders are merged and summarized, and the runs aggregated.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::live::Live;
use super::progress::Progress;
use super::transport::{Connector, Prepared};
use super::worker::{PhaseCommon, PhaseCtx, Worker};
use crate::journal::JournalSender;
use crate::metrics::{self, Phase, PointResult, Recorder, RunStats, SelfWatch};
use crate::scenario::{Point, Scenario};
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
    let workers = point.load.max_in_flight() as usize;
    let live = Arc::new(Live::new(workers));
    let mut workers: Vec<Worker<C::Transport>> = (0..workers)
        .map(|i| Worker::new(i, connector.transport()))
        .collect();
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
            workers = run_phase(workers, &req, phase, ctx, (run, done), limit.duration).await;
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
        workers = run_phase(
            workers,
            &req,
            phase,
            ctx,
            (run, done),
            settings.measure.duration,
        )
        .await;
        let client = watch.finish().await;
        let mut stats = summarize(&workers, run, client);
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

/// Run one phase on every worker; `(run, done)`: the run number and the points before this.
async fn run_phase<T: super::transport::Transport>(
    workers: Vec<Worker<T>>,
    req: &Arc<Prepared>,
    phase: PhaseCtx,
    ctx: &RunCtx<'_>,
    (run, done): (u32, usize),
    limit: Option<Duration>,
) -> Vec<Worker<T>> {
    phase.common.live.reset();
    let ticker = ctx.progress.watch_phase(
        Arc::clone(&phase.common.live),
        run,
        ctx.scenario.run.runs.get(),
        phase.phase,
        limit,
        done,
    );
    let phase = Arc::new(phase);
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
    ticker.abort();
    back
}

/// Merge the workers' recorders into one run's summary.
fn summarize<T>(workers: &[Worker<T>], run: u32, client: metrics::ClientStats) -> RunStats {
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
    let mut stats = merged.summarize(run, measured, client);
    stats.in_flight_at_end = in_flight;
    stats.journal_dropped = dropped;
    stats
}
