//! One point, `runs` times, by its driver — the seam between what a point is and who sends
//! its requests. The built-in engine's driver (`Pool`) runs its workers through warmup
//! (discarded) then measure, merging and summarizing the per-thread recorders after each
//! measure phase; a closed loop has `concurrency` workers, each sending its next request when the
//! last ended, an open loop's pool grows as its dispatcher needs (`open`). An external
//! client's driver (`client`) starts its program once per run. Either returns a run's figures
//! (`RunEnd`) and tells the subscriber what happens (`events`); the runs are aggregated here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

use super::client::ClientDriver;
use super::events::{Event, PhaseShown, Subscriber};
use super::live::Live;
use super::open::{OpenPhase, Pacing, run_open_phase};
use super::transport::{Connector, Prepared};
use super::worker::{PhaseCommon, PhaseCtx, Worker};
use crate::journal::JournalSender;
use crate::metrics::{
    self, Dispatched, Phase, PointResult, Recorder, RunStats, SelfWatch, ThreadRecorders,
};
use crate::scenario::{ClientRef, LoadModel, Point, Scenario};
use crate::stop::Stop;

/// What every point of a run shares.
pub(crate) struct RunCtx<'a> {
    /// The scenario.
    pub(crate) scenario: &'a Scenario,
    /// The resolved base URL requests go to (the mock's address for `"mock"`).
    pub(crate) base: &'a Url,
    /// The stop signal.
    pub(crate) stop: Stop,
    /// The request log.
    pub(crate) journal: Option<JournalSender>,
    /// Start of the whole run.
    pub(crate) run_start: Instant,
    /// Who watches the run: the progress bars.
    pub(crate) events: &'a dyn Subscriber,
    /// How open loops wait for intended starts.
    pub(crate) pacing: Pacing,
}

/// What one run of a point left.
pub(crate) struct RunEnd {
    /// Its figures, when it measured any.
    pub(crate) stats: Option<RunStats>,
    /// Whether a stop cut it short.
    pub(crate) stopped: bool,
    /// Whether the point's other runs are pointless (its client is not installed).
    pub(crate) last: bool,
}

/// Runs one run of a point at a time: the built-in engine's worker pool, or an external
/// client program.
enum Driver<'a, 'c, C: Connector> {
    /// The in-process workers.
    Pool(Pool<'a, 'c, C>),
    /// A program speaking the benchmark framework's protocol.
    Client(ClientDriver<'a, 'c>),
}

impl<C: Connector> Driver<'_, '_, C> {
    async fn run(&mut self, run: u32) -> RunEnd {
        match self {
            Self::Pool(pool) => pool.run(run).await,
            Self::Client(client) => client.run(run).await,
        }
    }
}

/// Run `point` and return what was measured (partial when stopped): its runs, one after
/// another, by its driver.
pub(crate) async fn run_point<C: Connector>(
    connector: &C,
    point: &Point,
    req: Prepared,
    ctx: &RunCtx<'_>,
) -> PointResult {
    let runs_planned = ctx.scenario.run.runs.get();
    let mut driver = match point.client {
        ClientRef::Builtin => Driver::Pool(Pool::new(connector, point, req, ctx)),
        ClientRef::External(i) => {
            let spec = &ctx.scenario.clients[i];
            Driver::Client(ClientDriver::new(spec, point, ctx))
        }
    };
    let mut runs: Vec<RunStats> = Vec::new();
    let mut partial = false;
    for run in 1..=runs_planned {
        if ctx.stop.is_requested() {
            partial = true;
            break;
        }
        let end = driver.run(run).await;
        ctx.events.on(Event::RunFinished { runs: runs_planned });
        runs.extend(end.stats);
        partial |= end.stopped;
        if end.stopped || end.last {
            break;
        }
    }
    let finished = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis() as u64);
    let mut result = PointResult::of(point, runs, partial, finished);
    if let Driver::Client(client) = driver {
        result.client = Some(client.finish());
    }
    result
}

/// The built-in engine's driver: a pool of workers kept from run to run. A closed loop has
/// `concurrency` workers; an open loop's pool starts empty and grows with the load.
struct Pool<'a, 'c, C: Connector> {
    drive: Drive<'a, 'c, C>,
    point: &'a Point,
    /// Boxed: a worker moves into its phase's task and back as a pointer, so neither the
    /// list nor the task holds a copy of it.
    workers: Vec<Box<Worker<C::Transport>>>,
    live: Arc<Live>,
    /// The measurements, per runtime thread: shared with the tasks of a phase, and this
    /// pool's alone between phases.
    recorders: Arc<ThreadRecorders>,
    req: Arc<Prepared>,
}

impl<'a, 'c, C: Connector> Pool<'a, 'c, C> {
    fn new(connector: &'a C, point: &'a Point, req: Prepared, ctx: &'a RunCtx<'c>) -> Self {
        let open = point.load.open_loop().map(|open| OpenPhase {
            connector,
            open,
            pacing: ctx.pacing,
        });
        let workers = match point.load {
            LoadModel::Closed { concurrency } => (0..concurrency.get() as usize)
                .map(|i| Box::new(Worker::new(i, connector.transport())))
                .collect(),
            // The pool starts empty and grows with the load.
            LoadModel::Open { .. } => Vec::new(),
        };
        Self {
            drive: Drive {
                ctx,
                open,
                offered: point.load.open_loop().map(|o| o.rate.label()),
            },
            point,
            workers,
            live: Arc::new(Live::new()),
            recorders: Arc::new(ThreadRecorders::new()),
            req: Arc::new(req),
        }
    }

    /// What the workers of a phase of run number `run` share.
    fn common(&self, run: u32) -> PhaseCommon {
        let ctx = self.drive.ctx;
        PhaseCommon {
            stop: ctx.stop.clone(),
            retry: ctx.scenario.run.retry,
            live: Arc::clone(&self.live),
            recorders: Arc::clone(&self.recorders),
            journal: ctx.journal.clone(),
            point: self.point.index as u32,
            run,
            run_start: ctx.run_start,
        }
    }

    /// The recorders, once the phase that shared them has ended.
    fn recorders(&mut self) -> &mut ThreadRecorders {
        // A phase returns only after every one of its tasks has ended, dropping its share.
        Arc::get_mut(&mut self.recorders).expect("no task of an ended phase holds the recorders")
    }

    /// Run number `run`: warmup (discarded), then measure, summarized.
    async fn run(&mut self, run: u32) -> RunEnd {
        let ctx = self.drive.ctx;
        let settings = &ctx.scenario.run;
        let mut workers = std::mem::take(&mut self.workers);
        if let Some(limit) = settings.warmup {
            let phase = PhaseCtx::starting_now(Phase::Warmup, limit, self.common(run));
            (workers, _) = self
                .drive
                .phase(workers, &self.req, phase, run, limit.duration)
                .await;
            for w in &mut workers {
                w.clear();
            }
            self.recorders().clear();
            if ctx.stop.is_requested() {
                self.workers = workers;
                return RunEnd {
                    stats: None,
                    stopped: true,
                    last: false,
                };
            }
        }
        let watch = SelfWatch::start();
        let phase = PhaseCtx::starting_now(Phase::Measure, settings.measure, self.common(run));
        let dispatched;
        (workers, dispatched) = self
            .drive
            .phase(workers, &self.req, phase, run, settings.measure.duration)
            .await;
        let client = watch.finish().await;
        let merged = self.recorders().take_merged();
        let mut stats = summarize(&workers, &merged, run, client, dispatched.as_ref());
        for w in &mut workers {
            w.clear();
        }
        self.workers = workers;
        let stopped = ctx.stop.is_requested();
        stats.partial = stopped;
        RunEnd {
            stats: (stats.requests > 0 || !stopped).then_some(stats),
            stopped,
            last: false,
        }
    }
}

/// How one point's phases are run.
struct Drive<'a, 'c, C> {
    ctx: &'a RunCtx<'c>,
    /// The open loop, for an open-loop point.
    open: Option<OpenPhase<'a, C>>,
    /// The open loop's rate as the progress bar shows it.
    offered: Option<String>,
}

impl<C: Connector> Drive<'_, '_, C> {
    /// Run one phase of `req`, limited to `limit`, of run number `run`: the workers come
    /// back, with an open loop's dispatcher counts.
    async fn phase(
        &self,
        workers: Vec<Box<Worker<C::Transport>>>,
        req: &Arc<Prepared>,
        phase: PhaseCtx,
        run: u32,
        limit: Option<Duration>,
    ) -> (Vec<Box<Worker<C::Transport>>>, Option<Dispatched>) {
        phase.common.live.reset();
        self.ctx.events.on(Event::PhaseStarted {
            phase: PhaseShown {
                run,
                runs: self.ctx.scenario.run.runs.get(),
                phase: phase.phase,
                limit,
                offered: self.offered.clone(),
            },
            live: Arc::clone(&phase.common.live),
        });
        let phase = Arc::new(phase);
        let back = match &self.open {
            Some(open) => {
                let (workers, counts) = run_open_phase(open, workers, req, phase).await;
                (workers, Some(counts))
            }
            None => (run_closed_phase(workers, req, phase).await, None),
        };
        self.ctx.events.on(Event::PhaseFinished);
        back
    }
}

/// Run one closed-loop phase on every worker.
async fn run_closed_phase<T: super::transport::Transport>(
    workers: Vec<Box<Worker<T>>>,
    req: &Arc<Prepared>,
    phase: Arc<PhaseCtx>,
) -> Vec<Box<Worker<T>>> {
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|w| tokio::spawn(boxed(w.run_phase(Arc::clone(req), Arc::clone(&phase)))))
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

/// `task` in a box of its own, for `tokio::spawn`: when it ends, its state (most of a
/// worker's task) is freed at once. The task's own allocation lives on as long as a waker of
/// it does — its connection's and its timer's keep one until the next phase's task replaces
/// it — and is then a few hundred bytes rather than the whole state, for every worker.
pub(crate) fn boxed<F: Future>(task: F) -> Pin<Box<F>> {
    Box::pin(task)
}

/// One run's summary: the phase's merged measurements, with the span and counts its workers
/// kept (an open loop's with its dispatcher's counts).
fn summarize<T>(
    workers: &[Box<Worker<T>>],
    merged: &Recorder,
    run: u32,
    client: metrics::ClientStats,
    dispatched: Option<&Dispatched>,
) -> RunStats {
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    let (mut in_flight, mut dropped) = (0, 0);
    for w in workers {
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
