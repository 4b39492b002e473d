//! One point, `runs` times, by its driver — the seam between what a point is and who sends
//! its requests. The built-in engine's driver (`Pool`) runs its workers through warmup
//! (discarded) then measure, without a pause between them (a closed loop's workers each go on
//! as their last warmup request ends, an open loop's measure schedule starts as the warmup's
//! time is up), merging and summarizing the per-thread recorders after each measure phase; a
//! closed loop has `concurrency` workers, each sending its next request when the last ended,
//! an open loop's pool grows as its dispatcher needs (`open`). An external
//! client's driver (`client`) starts its program once per run; a search point's run is a
//! series of open-loop probes (`search`). Either driver returns a run's figures (`RunEnd`)
//! and tells the subscriber what happens (`events`); the runs are aggregated here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use url::Url;

use super::client::ClientDriver;
use super::events::{Event, PhaseShown, Subscriber};
use super::live::Live;
use super::open::{OpenPhase, OpenRun, Pacing};
use super::search::run_search;
use super::transport::{Connector, Prepared};
use super::worker::{PhaseCommon, PhaseCtx, Ramp, Worker};
use crate::journal::JournalSender;
use crate::metrics::{
    self, Dispatched, Phase, PointResult, Recorder, RequestGoals, RunStats, SelfWatch,
    ThreadRecorders,
};
use crate::scenario::{ClientRef, LoadModel, PhaseLimit, Point, RateProfile, Scenario, Slo};
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
    Client(Box<ClientDriver<'a, 'c>>),
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
            Driver::Client(Box::new(ClientDriver::new(spec, point, ctx)))
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
    point: &'a Point,
    ctx: &'a RunCtx<'c>,
    /// The open loop, for an open-loop point.
    open: Option<OpenPhase<'a, C>>,
    /// Boxed: a worker moves into its phase's task and back as a pointer, so neither the
    /// list nor the task holds a copy of it.
    workers: Vec<Box<Worker<C::Transport>>>,
    live: Arc<Live>,
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
            point,
            ctx,
            open,
            workers,
            live: Arc::new(Live::new()),
            req: Arc::new(req),
        }
    }

    /// Run number `run`: warmup (discarded), then measure, summarized — or, for a search
    /// point, the search's probes.
    async fn run(&mut self, run: u32) -> RunEnd {
        let ctx = self.ctx;
        let settings = &ctx.scenario.run;
        let common = PhaseCommon {
            stop: ctx.stop.clone(),
            retry: settings.retry,
            live: Arc::clone(&self.live),
            journal: ctx.journal.clone(),
            point: self.point.index as u32,
            run,
            run_start: ctx.run_start,
            goals: ctx.scenario.slo.as_ref().map(RequestGoals::of),
        };
        let drive = Drive {
            point: self.point,
            req: &self.req,
            ctx,
            open: self.open.as_ref(),
            offered: self.point.load.open_loop().map(|o| o.rate.label()),
        };
        let search = match self.point.load.open_loop().map(|o| &o.rate) {
            Some(RateProfile::Search(search)) => Some(search),
            _ => None,
        };
        let workers = std::mem::take(&mut self.workers);
        let (workers, measured) = match search {
            Some(search) => run_search(&drive, search, workers, common).await,
            None => drive.run(workers, common, settings.measure).await,
        };
        self.workers = workers;
        let stopped = ctx.stop.is_requested();
        RunEnd {
            stats: measured.filter(|s| s.requests > 0 || !stopped),
            stopped,
            last: false,
        }
    }
}

/// How one point's runs and phases are run.
pub(super) struct Drive<'a, 'c, C> {
    /// The point.
    pub(super) point: &'a Point,
    /// Its request, built once.
    pub(super) req: &'a Arc<Prepared>,
    /// What every point shares.
    pub(super) ctx: &'a RunCtx<'c>,
    /// The open loop, for an open-loop point.
    pub(super) open: Option<&'a OpenPhase<'a, C>>,
    /// The open loop's rate as the progress bar shows it.
    pub(super) offered: Option<String>,
}

impl<'a, 'c, C: Connector> Drive<'a, 'c, C> {
    /// The same point driven by the open loop `open`, whose rate the bar shows as `offered`
    /// (a search's probe).
    pub(super) fn with_open<'b>(
        &'b self,
        open: &'b OpenPhase<'b, C>,
        offered: String,
    ) -> Drive<'b, 'c, C> {
        Drive {
            point: self.point,
            req: self.req,
            ctx: self.ctx,
            open: Some(open),
            offered: Some(offered),
        }
    }

    /// One run (its number in `common`): the warmup, discarded, then a measure phase limited
    /// to `measure`, summarized (and judged against `[slo]`). `None` when a stop came during
    /// the warmup; a run the stop cut short is marked partial.
    pub(super) async fn run(
        &self,
        workers: Vec<Box<Worker<C::Transport>>>,
        common: PhaseCommon,
        measure: PhaseLimit,
    ) -> (Vec<Box<Worker<C::Transport>>>, Option<RunStats>) {
        let run = common.run;
        let Some(open) = self.open else {
            return self.run_closed(workers, common, measure).await;
        };
        let mut pool = OpenRun::start(open, workers, self.req);
        let warmup = match self.ctx.scenario.run.warmup {
            Some(limit) => {
                let recorders = Arc::new(ThreadRecorders::new());
                let phase = PhaseCtx::starting_now(Phase::Warmup, limit, common.clone(), recorders);
                self.announce(&phase, limit.duration);
                let phase = Arc::new(phase);
                pool.dispatch(Arc::clone(&phase)).await;
                self.ctx.events.on(Event::PhaseFinished);
                if self.ctx.stop.is_requested() {
                    let (workers, _) = pool.finish().await;
                    return (workers, None);
                }
                Some(phase)
            }
            None => None,
        };
        // The warmup's requests still in flight end while the measure phase's go out.
        let watch = SelfWatch::start();
        let mut recorders = Arc::new(ThreadRecorders::new());
        let phase = PhaseCtx::starting_now(Phase::Measure, measure, common, Arc::clone(&recorders));
        self.announce(&phase, measure.duration);
        if let Some(warmup) = warmup {
            warmup.hand_over();
        }
        let counts = pool.dispatch(Arc::new(phase)).await;
        let (mut workers, send_span_secs) = pool.finish().await;
        self.ctx.events.on(Event::PhaseFinished);
        let client = watch.finish().await;
        let dispatched = Dispatched {
            send_span_secs,
            ..counts
        };
        let stats = self.summarize(&mut workers, &mut recorders, run, client, Some(&dispatched));
        (workers, Some(stats))
    }

    /// One closed-loop run: the workers go from the warmup into the measure phase one by one,
    /// each as its last warmup request ends, with no pause between the phases — a pause would
    /// have every worker start its first measured request at once, however `run.ramp_up` or
    /// the warmup had spread them, and the server would see a burst the steady load never
    /// makes. The measure phase starts when the warmup closes (its deadline, or its last
    /// request taken); warmup requests still in flight then end in it, discarded.
    async fn run_closed(
        &self,
        workers: Vec<Box<Worker<C::Transport>>>,
        common: PhaseCommon,
        measure: PhaseLimit,
    ) -> (Vec<Box<Worker<C::Transport>>>, Option<RunStats>) {
        let run = common.run;
        // A closed loop's first requests are spread over the run's start.
        let ramp = match (&self.point.load, self.ctx.scenario.run.ramp_up) {
            (LoadModel::Closed { concurrency }, Some(over)) => Some(Ramp {
                from: Instant::now(),
                over,
                workers: concurrency.get(),
            }),
            _ => None,
        };
        let warmup = self.ctx.scenario.run.warmup.map(|limit| {
            let recorders = Arc::new(ThreadRecorders::new());
            let phase = PhaseCtx::starting_now(Phase::Warmup, limit, common.clone(), recorders)
                .ramped(ramp);
            self.announce(&phase, limit.duration);
            Arc::new(phase)
        });
        let (hand, handed) = tokio::sync::watch::channel(None);
        let tasks: Vec<_> = workers
            .into_iter()
            .map(|w| {
                let task = closed_worker(w, Arc::clone(self.req), warmup.clone(), handed.clone());
                tokio::spawn(boxed(task))
            })
            .collect();
        // The channel keeps the measure phase (and its recorders) while a receiver lives.
        drop(handed);
        let measure_start = match &warmup {
            Some(phase) => {
                let closed = phase.closed().await;
                self.ctx.events.on(Event::PhaseFinished);
                closed
            }
            None => Some(Instant::now()),
        };
        let Some(start) = measure_start else {
            // A stop during the warmup: the workers stop waiting for the measure phase.
            drop(hand);
            return (join_workers(tasks).await, None);
        };
        let watch = SelfWatch::start();
        let mut recorders = Arc::new(ThreadRecorders::new());
        let phase = PhaseCtx::starting_at(
            start,
            Phase::Measure,
            measure,
            common,
            Arc::clone(&recorders),
        )
        .ramped(ramp);
        self.announce(&phase, measure.duration);
        if let Some(warmup) = &warmup {
            warmup.hand_over();
        }
        // No worker holds a receiver past its task: a send to none is no error to handle.
        let _ = hand.send(Some(Arc::new(phase)));
        drop((hand, warmup));
        let mut workers = join_workers(tasks).await;
        self.ctx.events.on(Event::PhaseFinished);
        let client = watch.finish().await;
        let stats = self.summarize(&mut workers, &mut recorders, run, client, None);
        (workers, Some(stats))
    }

    /// The measure phase's summary, the workers cleared for the next run. `recorders` are
    /// the phase's: every task of it has ended and dropped its share.
    fn summarize(
        &self,
        workers: &mut [Box<Worker<C::Transport>>],
        recorders: &mut Arc<ThreadRecorders>,
        run: u32,
        client: metrics::ClientStats,
        dispatched: Option<&Dispatched>,
    ) -> RunStats {
        let merged = Arc::get_mut(recorders)
            .expect("no task of an ended phase holds its recorders")
            .take_merged();
        let judge = self.ctx.scenario.slo.as_ref().map(|slo| Judge {
            slo,
            stream: self.point.request.stream,
        });
        let mut stats = summarize(workers, &merged, run, client, dispatched, judge);
        for w in workers {
            w.clear();
        }
        stats.partial = self.ctx.stop.is_requested();
        stats
    }

    /// Tell the subscriber that `phase`, limited to `limit`, starts; the live counters start
    /// from zero.
    fn announce(&self, phase: &PhaseCtx, limit: Option<Duration>) {
        phase.common.live.reset();
        self.ctx.events.on(Event::PhaseStarted {
            phase: PhaseShown {
                run: phase.common.run,
                runs: self.ctx.scenario.run.runs.get(),
                phase: phase.phase,
                limit,
                offered: self.offered.clone(),
            },
            live: Arc::clone(&phase.common.live),
        });
    }
}

/// One closed-loop worker's run: its warmup requests, then, once the measure phase has
/// started (`handed` says which it is), its measured ones. A worker that the warmup's
/// deadline stopped before then waits for it; a stop before it makes none.
async fn closed_worker<T: super::transport::Transport>(
    mut worker: Box<Worker<T>>,
    req: Arc<Prepared>,
    warmup: Option<Arc<PhaseCtx>>,
    mut handed: tokio::sync::watch::Receiver<Option<Arc<PhaseCtx>>>,
) -> Box<Worker<T>> {
    if let Some(warmup) = warmup {
        worker = worker.run_phase(Arc::clone(&req), warmup).await;
        worker.clear();
    }
    // An error: the run ended (a stop) before the measure phase started.
    let measure = handed
        .wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|p| p.clone());
    drop(handed);
    match measure {
        Some(phase) => worker.run_phase(req, phase).await,
        None => worker,
    }
}

/// The workers of `tasks`, once each has ended.
pub(crate) async fn join_workers<T>(tasks: Vec<JoinHandle<Box<Worker<T>>>>) -> Vec<Box<Worker<T>>> {
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

/// What a run is judged by: `[slo]`, and whether the route streams (stream objectives judge
/// streams only).
struct Judge<'a> {
    slo: &'a Slo,
    stream: bool,
}

/// `task` in a box of its own, for `tokio::spawn`: when it ends, its state (most of a
/// worker's task) is freed at once. The task's own allocation lives on as long as a waker of
/// it does — its connection's and its timer's keep one until the next phase's task replaces
/// it — and is then a few hundred bytes rather than the whole state, for every worker.
pub(crate) fn boxed<F: Future>(task: F) -> Pin<Box<F>> {
    Box::pin(task)
}

/// One run's summary: the phase's merged measurements, with the span and counts its workers
/// kept (an open loop's with its dispatcher's counts), judged against `[slo]` when there is one.
fn summarize<T>(
    workers: &[Box<Worker<T>>],
    merged: &Recorder,
    run: u32,
    client: metrics::ClientStats,
    dispatched: Option<&Dispatched>,
    judge: Option<Judge<'_>>,
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
    stats.slo = judge.map(|j| merged.judge(j.slo, j.stream, &stats));
    stats
}
