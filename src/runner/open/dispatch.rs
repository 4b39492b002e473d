//! One open-loop phase: the dispatcher walks the schedule, waits for each request's intended
//! start, and hands the request to an idle worker; while none is idle it starts a new one, up
//! to the in-flight cap; at the cap the request waits for the first worker to be free, and
//! that wait is its queue time. When the phase's time is up, requests still waiting are
//! dropped and counted; when its request count is reached, no more are due.
//!
//! The dispatcher runs on a thread of its own (`on_pacer_thread`), the workers on the caller's
//! runtime. The pool outlives the phase: its workers (connections, recorders) come back to the
//! point, and the next phase starts with them idle.

use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::board::{Board, Job, Seat};
use super::timer::{Pacing, Timer};
use crate::metrics::Dispatched;
use crate::runner::point::boxed;
use crate::runner::schedule::Schedule;
use crate::runner::transport::{Connector, Prepared, Transport};
use crate::runner::worker::{PhaseCtx, Sent, Start, Worker};
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

/// Run one phase with the pool `workers` (grown as the load needs); the pool comes back
/// with what the dispatcher counted.
pub(crate) async fn run_open_phase<C: Connector>(
    phase: &OpenPhase<'_, C>,
    workers: Vec<Box<Worker<C::Transport>>>,
    req: &Arc<Prepared>,
    ctx: Arc<PhaseCtx>,
) -> (Vec<Box<Worker<C::Transport>>>, Dispatched) {
    let cap = phase.open.max_in_flight.get() as usize;
    let mut pool = Pool {
        board: Arc::new(Board::new(cap)),
        seats: Vec::new(),
        tasks: Vec::new(),
        req: Arc::clone(req),
        ctx: Arc::clone(&ctx),
        runtime: Handle::current(),
    };
    for worker in workers {
        pool.start(worker, None);
    }
    let (connector, open) = (phase.connector.clone(), phase.open.clone());
    let (pool, counts) = match phase.pacing {
        Pacing::Precise => on_pacer_thread(connector, open, pool, cap).await,
        // A paused clock (tests) is the caller's runtime's: the dispatcher must run on it.
        Pacing::Tokio => {
            let counts = dispatch(&connector, &open, Pacing::Tokio, &mut pool, cap).await;
            Some((pool, counts))
        }
    }
    .unwrap_or_else(|| panic!("the open loop's dispatcher thread died"));
    pool.board.close(pool.seats.iter().map(|s| &**s));
    let mut back = Vec::with_capacity(pool.tasks.len());
    for task in pool.tasks {
        match task.await {
            Ok(worker) => back.push(worker),
            // A worker's panic is a bug: surface it as it was rather than as a join error.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Tasks are only cancelled by the runtime shutting down, which ends the run anyway.
            Err(_) => {}
        }
    }
    let sends = back.iter().filter_map(|w| w.sends);
    let first = sends.clone().map(|s| s.0).min();
    let last = sends.map(|s| s.1).max();
    let send_span_secs = match (first, last) {
        (Some(f), Some(l)) => l.saturating_duration_since(f).as_secs_f64(),
        _ => 0.0,
    };
    (
        back,
        Dispatched {
            send_span_secs,
            ..counts
        },
    )
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
                Ok(rt) => rt.block_on(dispatch(&connector, &open, Pacing::Precise, &mut pool, cap)),
                Err(_) => pool.runtime.clone().block_on(dispatch(
                    &connector,
                    &open,
                    Pacing::Tokio,
                    &mut pool,
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

/// The workers of one phase.
struct Pool<T> {
    board: Arc<Board>,
    /// One per worker, by worker number.
    seats: Vec<Arc<Seat>>,
    tasks: Vec<JoinHandle<Box<Worker<T>>>>,
    req: Arc<Prepared>,
    ctx: Arc<PhaseCtx>,
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
        let (board, req, ctx) = (
            Arc::clone(&self.board),
            Arc::clone(&self.req),
            Arc::clone(&self.ctx),
        );
        let task = serve(worker, req, ctx, board, seat, first);
        self.tasks.push(self.runtime.spawn(boxed(task)));
    }
}

/// Walk the schedule of `open`, handing each request to a worker at its intended start
/// (waiting as `pacing` says); new workers' transports come from `connector`.
async fn dispatch<C: Connector>(
    connector: &C,
    open: &OpenLoop,
    pacing: Pacing,
    pool: &mut Pool<C::Transport>,
    cap: usize,
) -> Dispatched {
    let ctx = Arc::clone(&pool.ctx);
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
        let job = Job { due, queue };
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
    counts
}

/// Resolves at `deadline`; never without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// A worker of the pool: takes the requests handed to it until the phase closes.
async fn serve<T: Transport>(
    mut worker: Box<Worker<T>>,
    req: Arc<Prepared>,
    ctx: Arc<PhaseCtx>,
    board: Arc<Board>,
    seat: Arc<Seat>,
    first: Option<Job>,
) -> Box<Worker<T>> {
    let stop = ctx.common.stop.listener();
    // Worker numbers are below the cap, itself at most `MAX_CONCURRENCY`.
    let number = worker.index as u32;
    let mut next = first;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match board.wait(&seat).await {
                Some(job) => job,
                None => break,
            },
        };
        let start = Start {
            at: ctx.start + job.due,
            sent: Some(Sent {
                at: Instant::now(),
                queue: job.queue,
            }),
        };
        if !worker.request(&req, &ctx, &stop, start).await {
            break;
        }
        board.idle(number);
    }
    worker
}
