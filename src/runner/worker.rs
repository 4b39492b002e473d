//! A closed-loop worker: sends its first request when `run.ramp_up` says, each next one when
//! the last one finished, retries 429s per the policy, backs off after a connect failure, and
//! records every request into the recorder of the runtime thread it runs on
//! (`ThreadRecorders`) — nothing shared but that thread's counters for the progress bar and
//! the phase's request tickets. A worker itself keeps only
//! its connection, its reading buffers and a few words of the phase (its span, requests in
//! flight at the end, log records refused), so a point of 10,000 workers costs a few KiB each.
//!
//! The backoff: a target that refuses connections answers in microseconds, so a closed loop
//! would hammer it (and the client's own CPU) tens of thousands of times a second, measuring
//! nothing but that. After a connect failure the worker waits before its next request —
//! 10 ms, doubling per further connect failure up to 1 s — and goes back to full speed at the
//! first attempt that connects. Every failure is still counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

// tokio's clock, so that tests on paused time see exact durations; without tokio's
// `test-util` feature it is `std::time::Instant`.
use tokio::sync::Notify;
use tokio::time::Instant;

use super::exchange::Exchange;
use super::live::Live;
use super::transport::{Prepared, Transport};
use crate::journal::{JournalSender, RequestRecord};
use crate::metrics::recorder::Attempts;
use crate::metrics::{FailureKind, Observation, Phase, RequestGoals, Sending, ThreadRecorders};
use crate::scenario::{PhaseLimit, RetryPolicy};
use crate::stop::{Stop, StopListener};

/// The wait after a first connect failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// The longest wait after connect failures.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Wait until `until`, never past the phase's deadline (no request may start after it):
/// whether the worker goes on — `false` when a stop came or the deadline was reached first,
/// or, for a worker that holds no ticket yet (`ticketless`), when the phase's requests are all
/// taken.
async fn pause_until(
    until: Instant,
    ctx: &PhaseCtx,
    stop: &StopListener,
    ticketless: bool,
) -> bool {
    let past_deadline = ctx.deadline.is_some_and(|d| until >= d);
    // Registered before the count is read, so that the last ticket taken in between wakes it.
    let mut spent = std::pin::pin!(ctx.spent.notified());
    spent.as_mut().enable();
    if ticketless && ctx.tickets_spent() {
        return false;
    }
    tokio::select! {
        biased;
        _ = stop.stopped() => return false,
        // A phase bounded by count whose requests are all taken: none is left to wait for.
        _ = spent, if ticketless => return false,
        _ = tokio::time::sleep_until(ctx.deadline.map_or(until, |d| until.min(d))) => {}
    }
    !past_deadline
}

/// Resolves at `deadline`; never without one.
pub(crate) async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The wait before the next request after one more connect failure, `last` the wait before.
fn next_backoff(last: Duration) -> Duration {
    if last.is_zero() {
        FIRST_BACKOFF
    } else {
        (last * 2).min(MAX_BACKOFF)
    }
}

/// `run.ramp_up` for one closed-loop run: worker `i` of `workers` sends its first request
/// `i/workers` of `over` after `from`, the run's start; its phases keep to that (a worker whose
/// start the warmup's end came before starts it in the measure phase).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ramp {
    /// The run's start.
    pub(crate) from: Instant,
    /// The spread, first worker to last.
    pub(crate) over: Duration,
    /// The workers it is spread over.
    pub(crate) workers: u32,
}

impl Ramp {
    /// When worker `index` begins.
    fn start_of(&self, index: usize) -> Instant {
        // Worker numbers are below the concurrency, itself at most `MAX_CONCURRENCY`.
        self.from + self.over * index as u32 / self.workers.max(1)
    }
}

/// What every worker of one phase shares.
pub(crate) struct PhaseCtx {
    /// Warmup or measure.
    pub(crate) phase: Phase,
    /// When the phase started: an open loop's schedule counts from here.
    pub(crate) start: Instant,
    /// Requests may start until then.
    pub(crate) deadline: Option<Instant>,
    /// Requests that may still start, when the phase is bounded by count.
    pub(crate) tickets: Option<AtomicU64>,
    /// Told when the last ticket is taken: workers waiting for their ramp start stop waiting,
    /// and the next phase starts.
    spent: Notify,
    /// The next phase has started: this one's requests still in flight no longer count on
    /// the progress bar, which shows that phase.
    handed_over: AtomicBool,
    /// The spread of the closed-loop workers' first requests over the run's start.
    pub(crate) ramp: Option<Ramp>,
    /// The phase's measurements, per runtime thread: the point merges them once every task
    /// of the phase has ended (a warmup's are dropped with it).
    pub(crate) recorders: Arc<ThreadRecorders>,
    /// What does not depend on the phase.
    pub(crate) common: PhaseCommon,
}

impl PhaseCtx {
    /// A phase that starts now and ends at `limit`, measured into `recorders`.
    pub(crate) fn starting_now(
        phase: Phase,
        limit: PhaseLimit,
        common: PhaseCommon,
        recorders: Arc<ThreadRecorders>,
    ) -> Self {
        Self::starting_at(Instant::now(), phase, limit, common, recorders)
    }

    /// A phase that starts at `start` and ends at `limit`, measured into `recorders`.
    pub(crate) fn starting_at(
        start: Instant,
        phase: Phase,
        limit: PhaseLimit,
        common: PhaseCommon,
        recorders: Arc<ThreadRecorders>,
    ) -> Self {
        Self {
            phase,
            start,
            deadline: limit.duration.map(|d| start + d),
            tickets: limit.requests.map(|n| AtomicU64::new(n.get())),
            spent: Notify::new(),
            handed_over: AtomicBool::new(false),
            ramp: None,
            recorders,
            common,
        }
    }

    /// The same phase with the workers' first requests spread by `ramp`.
    pub(crate) fn ramped(self, ramp: Option<Ramp>) -> Self {
        Self { ramp, ..self }
    }

    /// Whether another request may start (taking a ticket when counted).
    fn take_ticket(&self) -> bool {
        if self.common.stop.is_requested() || self.deadline.is_some_and(|d| Instant::now() >= d) {
            return false;
        }
        self.take_count()
    }

    /// Take a ticket when the phase is bounded by count; whether one was left.
    pub(crate) fn take_count(&self) -> bool {
        let Some(t) = &self.tickets else {
            return true;
        };
        match t.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)) {
            Ok(1) => {
                self.spent.notify_waiters();
                true
            }
            taken => taken.is_ok(),
        }
    }

    /// Whether the phase is bounded by count and every request of it has been taken.
    fn tickets_spent(&self) -> bool {
        self.tickets
            .as_ref()
            .is_some_and(|t| t.load(Ordering::Relaxed) == 0)
    }

    /// Resolves when no request of the phase may start any more — at its deadline, or when
    /// its last request is taken — with that instant; `None` when a stop came first.
    pub(crate) async fn closed(&self) -> Option<Instant> {
        let stop = self.common.stop.listener();
        // Registered before the count is read, so that the last ticket taken in between wakes it.
        let mut spent = std::pin::pin!(self.spent.notified());
        spent.as_mut().enable();
        let now = Instant::now();
        if self.tickets_spent() || self.deadline.is_some_and(|d| d <= now) {
            return Some(self.deadline.map_or(now, |d| d.min(now)));
        }
        tokio::select! {
            biased;
            _ = stop.stopped() => None,
            _ = spent, if self.tickets.is_some() => Some(Instant::now()),
            _ = until(self.deadline) => self.deadline,
        }
    }

    /// The next phase has started: this one's requests no longer count on the progress bar.
    pub(crate) fn hand_over(&self) {
        self.handed_over.store(true, Ordering::Relaxed);
    }
}

/// When a request starts, as its load model has it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    /// Its start, from which its latency counts: when it was sent (closed loop), or its
    /// intended start (open loop).
    pub(crate) at: Instant,
    /// Open loop: when it was actually sent.
    pub(crate) sent: Option<Sent>,
}

/// How an open-loop request was actually sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sent {
    /// When.
    pub(crate) at: Instant,
    /// How long it waited for a free in-flight slot after its intended start.
    pub(crate) queue: Duration,
}

impl PhaseCtx {
    /// Tickets left, when the phase is bounded by count.
    pub(crate) fn tickets_left(&self) -> Option<u64> {
        self.tickets.as_ref().map(|t| t.load(Ordering::Relaxed))
    }
}

/// The parts of a `PhaseCtx` that do not depend on the phase.
#[derive(Clone)]
pub(crate) struct PhaseCommon {
    /// The run's stop signal.
    pub(crate) stop: Stop,
    /// 429 handling.
    pub(crate) retry: RetryPolicy,
    /// Live counters.
    pub(crate) live: Arc<Live>,
    /// The request log.
    pub(crate) journal: Option<JournalSender>,
    /// Point index.
    pub(crate) point: u32,
    /// Run number.
    pub(crate) run: u32,
    /// Start of the whole run.
    pub(crate) run_start: Instant,
    /// The per-request bounds of `[slo]`, when set: each request is checked as it ends.
    pub(crate) goals: Option<RequestGoals>,
}

/// A worker between phases: its transport (and connection) and what it keeps of a phase.
pub(crate) struct Worker<T> {
    /// Index among the point's workers (an open loop's seat).
    pub(crate) index: usize,
    transport: T,
    exchange: Exchange,
    obs: Observation,
    /// Requests of this phase that ended after the deadline.
    pub(crate) in_flight_at_end: u64,
    /// Log records refused because the buffer was full.
    pub(crate) journal_dropped: u64,
    /// First request start and last request end of this phase.
    pub(crate) span: Option<(Instant, Instant)>,
    /// Open loop: first and last actual send of this phase.
    pub(crate) sends: Option<(Instant, Instant)>,
    /// Wait before the next request after connect failures (zero after one that connected).
    backoff: Duration,
    /// Reused text buffer for error samples.
    message: String,
}

impl<T: Transport> Worker<T> {
    /// Worker number `index` of a point, sending through `transport`.
    pub(crate) fn new(index: usize, transport: T) -> Self {
        Self {
            index,
            transport,
            exchange: Exchange::default(),
            obs: Observation::default(),
            in_flight_at_end: 0,
            journal_dropped: 0,
            span: None,
            sends: None,
            backoff: Duration::ZERO,
            message: String::new(),
        }
    }

    /// Forget what the last phase left.
    pub(crate) fn clear(&mut self) {
        self.in_flight_at_end = 0;
        self.journal_dropped = 0;
        self.span = None;
        self.sends = None;
        self.backoff = Duration::ZERO;
    }

    /// Closed loop: send requests, each when the last one ended, until the phase ends. A stop
    /// abandons the request in flight: none of its attempts reach the recorder (the request
    /// log already has those that ended).
    pub(crate) async fn run_phase(
        mut self: Box<Self>,
        req: Arc<Prepared>,
        ctx: Arc<PhaseCtx>,
    ) -> Box<Self> {
        let stop = ctx.common.stop.listener();
        let ramped = ctx.ramp.map(|r| r.start_of(self.index));
        if let Some(at) = ramped.filter(|&at| at > Instant::now())
            && !pause_until(at, &ctx, &stop, true).await
        {
            return self;
        }
        while ctx.take_ticket() {
            if !self.backoff.is_zero()
                && !pause_until(Instant::now() + self.backoff, &ctx, &stop, false).await
            {
                return self;
            }
            let start = Start {
                at: Instant::now(),
                sent: None,
            };
            if !self.request(&req, &ctx, &stop, start).await {
                return self;
            }
            self.backoff = match self.obs.failure {
                Some(FailureKind::Connect) => next_backoff(self.backoff),
                _ => Duration::ZERO,
            };
        }
        self
    }

    /// Send one request — its attempts, retrying 429s per the policy — and record it;
    /// `false` when a stop abandoned it (nothing recorded). The request's timings count from
    /// `start.at`.
    pub(crate) async fn request(
        &mut self,
        req: &Prepared,
        ctx: &PhaseCtx,
        stop: &StopListener,
        start: Start,
    ) -> bool {
        let mut attempts = Attempts::default();
        let mut attempt_start;
        loop {
            attempt_start = Instant::now();
            tokio::select! {
                biased;
                _ = stop.stopped() => return false,
                _ = self.transport.send(req, &mut self.exchange, &mut self.obs) => {}
            }
            attempts.add(&self.obs);
            self.log(ctx, attempt_start, attempts.count - 1);
            if self.obs.failure != Some(FailureKind::Status(429))
                || attempts.count > ctx.common.retry.max
            {
                break;
            }
            let wait = retry_wait(&ctx.common.retry, self.obs.retry_after);
            if !wait.is_zero() {
                tokio::select! {
                    biased;
                    _ = stop.stopped() => return false,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
        // The answering attempt's timings are its own; the request's count from its start.
        let offset_us = micros(attempt_start - start.at);
        let how = start.sent.map(|sent| Sending {
            lag_us: micros(sent.at.saturating_duration_since(start.at)),
            queue_us: micros(sent.queue),
        });
        let (obs, exchange, message) = (&self.obs, &self.exchange, &mut self.message);
        let goals = ctx.common.goals.as_ref();
        ctx.recorders.with(|recorder| {
            match how {
                None => recorder.record_request(&attempts, obs, offset_us),
                Some(how) => recorder.record_open_request(&attempts, obs, offset_us, how),
            }
            if let Some(goals) = goals {
                recorder.record_goals(goals, obs, offset_us);
            }
            sample_error(recorder, obs, exchange, message);
        });
        if let Some(sent) = start.sent {
            self.sends = Some(match self.sends {
                None => (sent.at, sent.at),
                Some((first, _)) => (first, sent.at),
            });
        }
        let end = attempt_start + Duration::from_micros(self.obs.latency_us);
        if ctx.deadline.is_some_and(|d| end > d) {
            self.in_flight_at_end += 1;
        }
        self.span = Some(match self.span {
            None => (start.at, end),
            Some((first, last)) => (first, last.max(end)),
        });
        if !ctx.handed_over.load(Ordering::Relaxed) {
            ctx.common
                .live
                .record(offset_us + self.obs.latency_us, !self.obs.is_success());
        }
        true
    }

    fn log(&mut self, ctx: &PhaseCtx, attempt_start: Instant, retry: u32) {
        let Some(journal) = &ctx.common.journal else {
            return;
        };
        let obs = &self.obs;
        let usage = obs.usage.unwrap_or_default();
        let record = RequestRecord {
            point: ctx.common.point,
            run: ctx.common.run,
            phase: ctx.phase,
            start_offset_us: micros(attempt_start.saturating_duration_since(ctx.common.run_start)),
            latency_us: obs.latency_us,
            ttfb_us: obs.ttfb_us,
            ttft_us: obs.stream.ttft_us,
            status: obs.status,
            failure: obs.failure,
            retry,
            bytes: obs.body_bytes,
            prompt_tokens: usage.prompt_tokens.min(u32::MAX as u64) as u32,
            completion_tokens: usage.completion_tokens.min(u32::MAX as u64) as u32,
            tokens_estimated: usage.estimated,
        };
        if !journal.record(record) {
            self.journal_dropped += 1;
        }
    }
}

/// Put the failure of the request that observed `obs` last into words (in `message`, a
/// reused buffer) when `recorder` still wants a sample of its kind: a success, or a failure
/// whose kind is full, costs nothing here.
fn sample_error(
    recorder: &mut crate::metrics::Recorder,
    obs: &Observation,
    exchange: &Exchange,
    message: &mut String,
) {
    let Some(kind) = obs.failure else {
        return;
    };
    if !recorder.wants_sample(kind) {
        return;
    }
    message.clear();
    exchange.describe_failure(message);
    if message.is_empty() {
        message.push_str("no detail");
    }
    recorder.sample_error(kind, message);
}

/// Whole microseconds of `d` (saturating: 584,000 years fit).
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// How long to wait before retrying a 429.
fn retry_wait(policy: &RetryPolicy, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(asked) if policy.honor_retry_after => asked.min(policy.max_wait),
        _ => policy.backoff.min(policy.max_wait),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connect_backoff_doubles_from_10_ms_to_1_s() {
        let mut waits = Vec::new();
        let mut wait = Duration::ZERO;
        for _ in 0..9 {
            wait = next_backoff(wait);
            waits.push(wait.as_millis());
        }
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    }

    #[test]
    fn retry_after_is_honoured_up_to_max_wait() {
        let policy = RetryPolicy {
            max: 3,
            honor_retry_after: true,
            max_wait: Duration::from_secs(5),
            backoff: Duration::from_millis(100),
        };
        assert_eq!(
            retry_wait(&policy, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            retry_wait(&policy, Some(Duration::from_secs(60))),
            Duration::from_secs(5)
        );
        assert_eq!(retry_wait(&policy, None), Duration::from_millis(100));
        let ignore = RetryPolicy {
            honor_retry_after: false,
            ..policy
        };
        assert_eq!(
            retry_wait(&ignore, Some(Duration::from_secs(2))),
            Duration::from_millis(100)
        );
    }
}
