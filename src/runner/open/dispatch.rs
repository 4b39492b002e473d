//! An open-loop run: one pool of workers through its phases, and per phase a dispatcher that
//! walks the schedule, waits for each request's intended start, and hands the request to an
//! idle worker; while none is idle it starts a new one, up to the in-flight cap; at the cap the
//! request waits for the first worker to be free, and that wait is its queue time. When the
//! phase's time is up, requests still waiting are dropped and counted; when its request count
//! is reached, no more are due.
//!
//! The phases follow each other without a pause: the measure phase's schedule starts when the
//! warmup's time is up (or its last request went out), while the warmup's requests still in
//! flight end — discarded — on the same pool. Waiting for them would start the measure phase
//! with nothing in flight, and it would measure a server that is filling up again, for as long
//! as an answer takes, rather than the steady load the warmup reached.
//!
//! The dispatcher runs on a thread of its own (`on_pacer_thread`), the workers on the caller's
//! runtime. The pool outlives the run: its workers (connections, recorders) come back to the
//! point, and the next run starts with them idle.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::board::{Board, Job, Seat};
use super::timer::{Pacing, Timer};
use crate::metrics::Dispatched;
use crate::metrics::Phase;
use crate::runner::point::{boxed, join_workers};
use crate::runner::schedule::Schedule;
use crate::runner::transport::{Connector, Prepared, Transport};
use crate::runner::worker::{PhaseCtx, Sent, Start, Worker, until};
use crate::scenario::OpenLoop;

/// What an open-loop point's phases share.
pub(crate) struct OpenPhase<'a, C> {
    /// Makes the transports of new workers.
    pub(crate) connector: &'a C,
    /// The rate, arrivals and cap.
    pub(crate) open: &'a OpenLoop,
    /// How intended starts are waited for.
    pub(crate) pacing: Pacing,
}

/// One run of an open-loop point: the pool, kept from phase to phase.
pub(crate) struct OpenRun<'p, 'a, C: Connector> {
    phase: &'p OpenPhase<'a, C>,
    /// `None` only while a dispatcher has it.
    pool: Option<Pool<C::Transport>>,
}

impl<'p, 'a, C: Connector> OpenRun<'p, 'a, C> {
    /// A run on the pool `workers` (grown as the load needs), every worker idle.
    pub(crate) fn start(
        phase: &'p OpenPhase<'a, C>,
        workers: Vec<Box<Worker<C::Transport>>>,
        req: &Arc<Prepared>,
    ) -> Self {
        let cap = phase.open.max_in_flight.get() as usize;
        let mut pool = Pool {
            board: Arc::new(Board::new(cap)),
            seats: Vec::new(),
            tasks: Vec::new(),
            req: Arc::clone(req),
            phases: Arc::new(Phases::default()),
            runtime: Handle::current(),
        };
        for worker in workers {
            pool.start(worker, None);
        }
        Self {
            phase,
            pool: Some(pool),
        }
    }

    /// Send the phase `ctx` on its schedule; the dispatcher's counts come back when the
    /// phase's time is up or its last request went out, requests still in flight then ending
    /// on their own.
    pub(crate) async fn dispatch(&mut self, ctx: Arc<PhaseCtx>) -> Dispatched {
        let cap = self.phase.open.max_in_flight.get() as usize;
        let mut pool = self
            .pool
            .take()
            .expect("one dispatcher at a time: the last one gave the pool back");
        pool.phases.publish(Arc::clone(&ctx));
        let (connector, open) = (self.phase.connector.clone(), self.phase.open.clone());
        let (pool, counts) = match self.phase.pacing {
            Pacing::Precise => on_pacer_thread(connector, open, pool, ctx, cap).await,
            // A paused clock (tests) is the caller's runtime's: the dispatcher must run on it.
            Pacing::Tokio => {
                let counts = dispatch(&connector, &open, Pacing::Tokio, &mut pool, &ctx, cap).await;
                Some((pool, counts))
            }
        }
        .unwrap_or_else(|| panic!("the open loop's dispatcher thread died"));
        self.pool = Some(pool);
        counts
    }

    /// End the run: every worker ends the request it has, and the pool comes back with the
    /// span of the last phase's actual sends, seconds.
    pub(crate) async fn finish(mut self) -> (Vec<Box<Worker<C::Transport>>>, f64) {
        let pool = self
            .pool
            .take()
            .expect("no dispatcher left running: each gave the pool back");
        pool.board.close(pool.seats.iter().map(|s| &**s));
        let back = join_workers(pool.tasks).await;
        // The phases' recorders are the point's again once no task holds them.
        drop(pool.phases);
        let sends = back.iter().filter_map(|w| w.sends);
        let first = sends.clone().map(|s| s.0).min();
        let last = sends.map(|s| s.1).max();
        let send_span_secs = match (first, last) {
            (Some(f), Some(l)) => l.saturating_duration_since(f).as_secs_f64(),
            _ => 0.0,
        };
        (back, send_span_secs)
    }
}

/// The phases of a run as their dispatchers start: a worker finds its request's phase here.
#[derive(Default)]
struct Phases {
    warmup: OnceLock<Arc<PhaseCtx>>,
    measure: OnceLock<Arc<PhaseCtx>>,
}

impl Phases {
    fn slot(&self, phase: Phase) -> &OnceLock<Arc<PhaseCtx>> {
        match phase {
            Phase::Warmup => &self.warmup,
            Phase::Measure => &self.measure,
        }
    }

    /// `ctx` starts: published before any of its requests is handed out.
    fn publish(&self, ctx: Arc<PhaseCtx>) {
        // A run has one phase of each kind, so the slot is empty.
        let _ = self.slot(ctx.phase).set(ctx);
    }

    fn of(&self, phase: Phase) -> Option<&Arc<PhaseCtx>> {
        self.slot(phase).get()
    }
}

/// Run the dispatcher on a thread of its own, with a runtime of its own for its timer: the
/// kernel wakes that thread at each intended start, whatever the runtime threads are doing
/// (busy with answers, or preempted by other processes on a shared core), and a thread that
/// mostly sleeps is the one a busy CPU runs first when it wakes. The workers stay on the
/// caller's runtime. `None` when the dispatcher panicked.
async fn on_pacer_thread<C: Connector>(
    connector: C,
    open: OpenLoop,
    mut pool: Pool<C::Transport>,
    ctx: Arc<PhaseCtx>,
    cap: usize,
) -> Option<(Pool<C::Transport>, Dispatched)> {
    let (done, back) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("open-loop-pacer".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            // Without a runtime of its own, the dispatcher shares the workers' (tokio's
            // timer, rounded to the millisecond, rather than none).
            let counts = match runtime {
                Ok(rt) => rt.block_on(dispatch(
                    &connector,
                    &open,
                    Pacing::Precise,
                    &mut pool,
                    &ctx,
                    cap,
                )),
                Err(_) => pool.runtime.clone().block_on(dispatch(
                    &connector,
                    &open,
                    Pacing::Tokio,
                    &mut pool,
                    &ctx,
                    cap,
                )),
            };
            let _ = done.send((pool, counts));
        });
    match spawned {
        Ok(_) => back.await.ok(),
        Err(_) => None,
    }
}

/// The workers of one run.
struct Pool<T> {
    board: Arc<Board>,
    /// One per worker, by worker number.
    seats: Vec<Arc<Seat>>,
    tasks: Vec<JoinHandle<Box<Worker<T>>>>,
    req: Arc<Prepared>,
    /// The phases started so far.
    phases: Arc<Phases>,
    /// The runtime the workers run on (the dispatcher may be on another).
    runtime: Handle,
}

impl<T: Transport> Pool<T> {
    /// Start `worker` (number `seats.len()`), on `first` or idle.
    fn start(&mut self, mut worker: Box<Worker<T>>, first: Option<Job>) {
        worker.index = self.seats.len();
        let seat = Arc::new(Seat::new());
        if first.is_none() {
            // Idle from now on, before its task first runs: the dispatcher may hand it a
            // request at once (the seat keeps it), rather than start another worker.
            self.board.idle(worker.index as u32);
        }
        self.seats.push(Arc::clone(&seat));
        let (board, req, phases) = (
            Arc::clone(&self.board),
            Arc::clone(&self.req),
            Arc::clone(&self.phases),
        );
        let task = serve(worker, req, phases, board, seat, first);
        self.tasks.push(self.runtime.spawn(boxed(task)));
    }
}

/// Walk the schedule of `open` for the phase `ctx`, handing each request to a worker at its
/// intended start (waiting as `pacing` says); new workers' transports come from `connector`.
/// Returns at the phase's deadline — not before, though the last request may be due well
/// before it, so that the next phase starts on time — or when its last request went out.
async fn dispatch<C: Connector>(
    connector: &C,
    open: &OpenLoop,
    pacing: Pacing,
    pool: &mut Pool<C::Transport>,
    ctx: &PhaseCtx,
    cap: usize,
) -> Dispatched {
    let stop = ctx.common.stop.listener();
    let mut timer = Timer::new(pacing);
    // The schedule starts when the dispatcher does, the pool seated: the time taken to set
    // the phase up is no request's send lag.
    let origin = Instant::now().saturating_duration_since(ctx.start);
    let mut schedule = Schedule::new(open).map(|t| origin + t).take_while(|t| {
        // Nothing is due at or after the phase's end.
        ctx.deadline.is_none_or(|d| ctx.start + *t < d)
    });
    let mut counts = Dispatched::default();
    let mut first_due = None;
    let mut last_due = Duration::ZERO;
    while let Some(due) = schedule.next() {
        if !ctx.take_count() {
            break;
        }
        tokio::select! {
            biased;
            _ = stop.stopped() => break,
            _ = timer.sleep_until(ctx.start + due) => {}
        }
        counts.scheduled += 1;
        first_due.get_or_insert(due);
        last_due = due;
        let (worker, queue) = match pool.board.try_idle() {
            Some(w) => (Some(w), Duration::ZERO),
            None if pool.seats.len() < cap => (None, Duration::ZERO),
            None => {
                // Every worker is busy and the pool is full: the request queues.
                let free = tokio::select! {
                    biased;
                    _ = stop.stopped() => break,
                    w = pool.board.next_idle() => Some(w),
                    _ = until(ctx.deadline) => None,
                };
                let Some(w) = free else {
                    // The phase ended first: this request and every one due after it.
                    let left = ctx.tickets_left().unwrap_or(u64::MAX);
                    let rest = schedule
                        .by_ref()
                        .take(usize::try_from(left).unwrap_or(usize::MAX));
                    let (more, last) = rest.fold((0, due), |(n, _), t| (n + 1, t));
                    counts.dropped = 1 + more;
                    counts.scheduled += more;
                    last_due = last;
                    break;
                };
                (
                    Some(w),
                    Instant::now().saturating_duration_since(ctx.start + due),
                )
            }
        };
        let job = Job {
            due,
            queue,
            phase: ctx.phase,
        };
        match worker {
            Some(w) => pool.board.assign(&pool.seats[w as usize], job),
            None => {
                let index = pool.seats.len();
                pool.start(
                    Box::new(Worker::new(index, connector.transport())),
                    Some(job),
                );
            }
        }
        ctx.common.live.sent();
        let busy = pool.seats.len().saturating_sub(pool.board.idle_count()) as u64;
        counts.peak_in_flight = counts.peak_in_flight.max(busy);
    }
    counts.due_span_secs = first_due.map_or(0.0, |f| (last_due - f).as_secs_f64());
    if let Some(deadline) = ctx.deadline
        && ctx.tickets_left() != Some(0)
    {
        tokio::select! {
            biased;
            _ = stop.stopped() => {}
            _ = timer.sleep_until(deadline) => {}
        }
    }
    counts
}

/// A worker of the pool: takes the requests handed to it, each in its phase, until the run
/// ends.
async fn serve<T: Transport>(
    mut worker: Box<Worker<T>>,
    req: Arc<Prepared>,
    phases: Arc<Phases>,
    board: Arc<Board>,
    seat: Arc<Seat>,
    first: Option<Job>,
) -> Box<Worker<T>> {
    // Worker numbers are below the cap, itself at most `MAX_CONCURRENCY`.
    let number = worker.index as u32;
    let mut stop = None;
    let mut current = None;
    let mut next = first;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match board.wait(&seat).await {
                Some(job) => job,
                None => break,
            },
        };
        // A phase is published before its first request is handed out.
        let Some(ctx) = phases.of(job.phase) else {
            break;
        };
        if current.is_some_and(|p| p != job.phase) {
            // What the worker kept of the last phase (its span, its sends) was that phase's.
            worker.clear();
        }
        current = Some(job.phase);
        let stop = stop.get_or_insert_with(|| ctx.common.stop.listener());
        let start = Start {
            at: ctx.start + job.due,
            sent: Some(Sent {
                at: Instant::now(),
                queue: job.queue,
            }),
        };
        if !worker.request(&req, ctx, stop, start).await {
            break;
        }
        board.idle(number);
    }
    if current != Some(Phase::Measure) {
        // It served no measured request: what it kept is the warmup's, not the run's.
        worker.clear();
    }
    worker
}
