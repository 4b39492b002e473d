//! What an open loop measures beyond a closed one, per worker: the service time (from the
//! actual send, where a request's latency counts from its intended start), the send lag, the
//! queue time of requests that waited for a free in-flight slot, and the sends that fell
//! behind the schedule. Merged like the recorder that owns it; summarized into
//! `OpenLoopStats`, with the dispatcher's counts (`Dispatched`).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::aggregate::median_mad;
use super::attempt::Observation;
use super::summary::{LatencySummary, Spread};

/// A send later than this, past any queue time, is behind the schedule.
pub const LATE_SEND_US: u64 = 1_000;

/// Behind schedule when more than this share of sends is late (their p99 is over the bound).
const LATE_SHARE: f64 = 0.01;

/// Achieved below this share of the offered rate, with no request queued, is behind too.
const ACHIEVED_SHARE: f64 = 0.99;

/// How one open-loop request was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sending {
    /// Actual send less intended start, µs (0 when on time).
    pub lag_us: u64,
    /// Of the lag, how long the request waited for a free in-flight slot, µs.
    pub queue_us: u64,
}

/// One worker's open-loop measurements of one phase.
#[derive(Debug, Clone)]
pub(crate) struct OpenRecorder {
    service: Histogram<u32>,
    service_ttft: Histogram<u32>,
    send_lag: Histogram<u32>,
    queue: Histogram<u32>,
    sent: u64,
    queued: u64,
    late: u64,
}

impl OpenRecorder {
    pub(crate) fn new(histogram: fn() -> Histogram<u32>) -> Self {
        Self {
            service: histogram(),
            service_ttft: histogram(),
            send_lag: histogram(),
            queue: histogram(),
            sent: 0,
            queued: 0,
            late: 0,
        }
    }

    /// Record a request sent `how`, whose last attempt observed `last` and started
    /// `offset_us` after the request's intended start.
    pub(crate) fn record(
        &mut self,
        how: Sending,
        last: &Observation,
        offset_us: u64,
        record: fn(&mut Histogram<u32>, u64),
    ) {
        self.sent += 1;
        // Lags of 0 are recorded as they are: a schedule kept exactly reads 0, not 1 µs.
        self.send_lag.saturating_record(how.lag_us);
        if how.queue_us > 0 {
            self.queued += 1;
            record(&mut self.queue, how.queue_us);
        }
        if how.lag_us.saturating_sub(how.queue_us) > LATE_SEND_US {
            self.late += 1;
        }
        if !last.is_success() {
            return;
        }
        let from_send = offset_us.saturating_sub(how.lag_us);
        record(&mut self.service, from_send + last.latency_us);
        if let Some(ttft) = last.stream.ttft_us.filter(|_| last.stream.active) {
            record(&mut self.service_ttft, from_send + ttft);
        }
    }

    pub(crate) fn merge(&mut self, other: &Self) {
        // Same bounds on both sides, so `add` cannot fail.
        let _ = self.service.add(&other.service);
        let _ = self.service_ttft.add(&other.service_ttft);
        let _ = self.send_lag.add(&other.send_lag);
        let _ = self.queue.add(&other.queue);
        self.sent += other.sent;
        self.queued += other.queued;
        self.late += other.late;
    }

    pub(crate) fn clear(&mut self) {
        self.service.reset();
        self.service_ttft.reset();
        self.send_lag.reset();
        self.queue.reset();
        self.sent = 0;
        self.queued = 0;
        self.late = 0;
    }

    /// The phase's open-loop figures, with the dispatcher's `counts`.
    pub(crate) fn summarize(
        &self,
        counts: &Dispatched,
        summary: fn(&Histogram<u32>) -> Option<LatencySummary>,
    ) -> OpenLoopStats {
        let offered_rps = rate(counts.scheduled, counts.due_span_secs);
        let achieved_rps = rate(self.sent, counts.send_span_secs);
        let late = self.late as f64 > LATE_SHARE * self.sent as f64;
        let short = self.queued == 0
            && matches!((offered_rps, achieved_rps), (Some(o), Some(a)) if a < ACHIEVED_SHARE * o);
        OpenLoopStats {
            scheduled: counts.scheduled,
            sent: self.sent,
            dropped: counts.dropped,
            queued: self.queued,
            peak_in_flight: counts.peak_in_flight,
            offered_rps,
            achieved_rps,
            service_time: summary(&self.service),
            service_ttft: summary(&self.service_ttft),
            send_lag: summary(&self.send_lag),
            queue_time: summary(&self.queue),
            late: self.late,
            behind_schedule: late || short,
        }
    }
}

/// `(n - 1) / span`: the rate of `n` events spread over `span` seconds, first to last;
/// `None` for fewer than two or no time between them.
fn rate(n: u64, span_secs: f64) -> Option<f64> {
    (n >= 2 && span_secs > 0.0).then(|| (n - 1) as f64 / span_secs)
}

/// What the open loop's dispatcher counted in one phase.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Dispatched {
    /// Requests due during the phase: handed to a worker, or dropped at its end.
    pub scheduled: u64,
    /// Requests due but never sent: the phase ended while they waited for a free slot.
    pub dropped: u64,
    /// The most requests in flight at once.
    pub peak_in_flight: u64,
    /// Seconds from the first intended start to the last.
    pub due_span_secs: f64,
    /// Seconds from the first actual send to the last.
    pub send_span_secs: f64,
}

/// The open-loop figures of one measure phase. Latency, TTFB and TTFT of an open-loop run
/// count from each request's intended start (the response time, corrected for coordinated
/// omission); the service times here count from its actual send.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OpenLoopStats {
    /// Requests due during the phase (intended start before its end): sent or dropped.
    pub scheduled: u64,
    /// Requests sent.
    pub sent: u64,
    /// Requests due but never sent: the phase ended while they waited for a free slot.
    pub dropped: u64,
    /// Requests that found every in-flight slot busy at their intended start and waited.
    pub queued: u64,
    /// The most requests in flight at once.
    pub peak_in_flight: u64,
    /// Offered rate: (scheduled - 1) / (last intended start - first), requests per second;
    /// `None` below two requests.
    pub offered_rps: Option<f64>,
    /// Achieved rate: (sent - 1) / (last actual send - first), requests per second.
    pub achieved_rps: Option<f64>,
    /// Service time of successful requests: actual send to last byte (retry waits included).
    pub service_time: Option<LatencySummary>,
    /// Time to first token from the actual send, of successful streams.
    pub service_ttft: Option<LatencySummary>,
    /// Send lag: actual send less intended start, of every request sent (queue time
    /// included).
    pub send_lag: Option<LatencySummary>,
    /// Queue time of the requests that queued: intended start to a free slot.
    pub queue_time: Option<LatencySummary>,
    /// Sends whose lag, less queue time, was over 1 ms.
    pub late: u64,
    /// Whether the load generator fell behind its schedule for reasons of its own: more than
    /// 1% of sends late (their p99 over 1 ms), or, with no request queued, an achieved rate
    /// below 99% of the offered one.
    pub behind_schedule: bool,
}

/// An open-loop point's figures across its runs: medians (and MADs) of the per-run figures,
/// times in milliseconds; counts summed over every run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OpenLoopAggregate {
    /// Offered rate, requests per second.
    pub offered_rps: Option<Spread>,
    /// Achieved rate, requests per second.
    pub achieved_rps: Option<Spread>,
    /// Service time p50, ms.
    pub service_p50_ms: Option<Spread>,
    /// Service time p99, ms.
    pub service_p99_ms: Option<Spread>,
    /// Service TTFT p50, ms.
    pub service_ttft_p50_ms: Option<Spread>,
    /// Service TTFT p99, ms.
    pub service_ttft_p99_ms: Option<Spread>,
    /// Send lag p50, ms.
    pub send_lag_p50_ms: Option<Spread>,
    /// Send lag p99, ms.
    pub send_lag_p99_ms: Option<Spread>,
    /// Send lag max, ms.
    pub send_lag_max_ms: Option<Spread>,
    /// Queue time p99 of the queued requests, ms.
    pub queue_p99_ms: Option<Spread>,
    /// Requests scheduled, summed.
    pub scheduled: u64,
    /// Requests sent, summed.
    pub sent: u64,
    /// Requests dropped at a phase's end, summed.
    pub dropped: u64,
    /// Requests that queued for a free slot, summed.
    pub queued: u64,
    /// The most requests in flight in any run.
    pub peak_in_flight: u64,
    /// Whether any run fell behind its schedule.
    pub behind_schedule: bool,
}

impl OpenLoopAggregate {
    /// The aggregate of `runs` (the runs medians are taken over) and `all` (every run, for
    /// sums); `None` when no run has open-loop figures.
    pub(crate) fn of(runs: &[&OpenLoopStats], all: &[&OpenLoopStats]) -> Option<Self> {
        if all.is_empty() {
            return None;
        }
        let spread = |f: &dyn Fn(&OpenLoopStats) -> Option<f64>| {
            median_mad(&runs.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
        };
        let ms = |s: Option<LatencySummary>, pick: fn(&LatencySummary) -> u64| {
            s.map(|s| pick(&s) as f64 / 1000.0)
        };
        Some(Self {
            offered_rps: spread(&|r| r.offered_rps),
            achieved_rps: spread(&|r| r.achieved_rps),
            service_p50_ms: spread(&|r| ms(r.service_time, |l| l.p50_us)),
            service_p99_ms: spread(&|r| ms(r.service_time, |l| l.p99_us)),
            service_ttft_p50_ms: spread(&|r| ms(r.service_ttft, |l| l.p50_us)),
            service_ttft_p99_ms: spread(&|r| ms(r.service_ttft, |l| l.p99_us)),
            send_lag_p50_ms: spread(&|r| ms(r.send_lag, |l| l.p50_us)),
            send_lag_p99_ms: spread(&|r| ms(r.send_lag, |l| l.p99_us)),
            send_lag_max_ms: spread(&|r| ms(r.send_lag, |l| l.max_us)),
            queue_p99_ms: spread(&|r| ms(r.queue_time, |l| l.p99_us)),
            scheduled: all.iter().map(|r| r.scheduled).sum(),
            sent: all.iter().map(|r| r.sent).sum(),
            dropped: all.iter().map(|r| r.dropped).sum(),
            queued: all.iter().map(|r| r.queued).sum(),
            peak_in_flight: all.iter().map(|r| r.peak_in_flight).max().unwrap_or(0),
            behind_schedule: all.iter().any(|r| r.behind_schedule),
        })
    }
}
