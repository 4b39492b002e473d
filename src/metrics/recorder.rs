//! A recorder: HDR histograms (integer µs) and counters of one phase, written by the workers
//! of one runtime thread (`ThreadRecorders`) and merged with the other threads' at phase end.
//! No lock, no allocation per record, bounded memory.
//!
//! Precision and size: histograms keep 3 significant digits (every value within 0.1%, the HDR
//! norm) over 1 µs to 1 hour (longer values are clamped) with 32-bit counts — about 92 KB each,
//! of which only the pages of recorded values are ever touched. Stream histograms (TTFT, ITL,
//! TPOT, per-request bytes per second) are allocated on the first stream recorded, open-loop
//! ones on the first open-loop request: at most ten histograms, under 1 MB per runtime thread
//! whatever the concurrency.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::attempt::{FailureKind, Observation};
use super::open_loop::{Dispatched, OpenRecorder, Sending};
use super::samples::ErrorSamples;
use super::slo::{self, Distributions, RequestGoals, SloVerdict};
use super::summary::{
    ClientStats, LatencySummary, OutcomeCounts, RateSummary, RunStats, StreamSummary, UsageTotals,
};

/// Largest value a histogram holds, µs (1 hour).
const MAX_US: u64 = 3_600_000_000;
/// Significant decimal digits kept.
pub(crate) const SIGFIG: u8 = 3;
/// Largest per-request stream rate a histogram holds, bytes per second (10 GB/s).
const MAX_RATE: u64 = 10_000_000_000;

fn histogram() -> Histogram<u32> {
    Histogram::new_with_bounds(1, MAX_US, SIGFIG)
        .expect("1 µs to 1 h at 3 digits is a valid histogram")
}

/// Record `value_us`, clamped into the histogram's range (0 counts as 1 µs).
fn record(h: &mut Histogram<u32>, value_us: u64) {
    // Saturating: a 32-bit count overflows only after 4 billion equal values in one phase.
    h.saturating_record(value_us.clamp(1, MAX_US));
}

/// Stream-only measurements, allocated on the first stream.
#[derive(Debug, Clone)]
struct StreamRecorder {
    ttft: Histogram<u32>,
    itl: Histogram<u32>,
    tpot: Histogram<u32>,
    /// Per-request stream bytes per second (body bytes / body-transfer time).
    rate: Histogram<u32>,
    /// Stream body bytes of successful streams.
    bytes: u64,
    /// Summed body-transfer time (headers to last byte) of successful streams, µs.
    transfer_us: u64,
    /// Output tokens of successful streams.
    output_tokens: u64,
    /// Streams whose tokens were counted from events.
    estimated: u64,
    /// Streams whose content events all arrived at once.
    not_streamed: u64,
}

impl StreamRecorder {
    fn new() -> Self {
        Self {
            ttft: histogram(),
            itl: histogram(),
            tpot: histogram(),
            rate: Histogram::new_with_bounds(1, MAX_RATE, SIGFIG)
                .expect("1 B/s to 10 GB/s at 3 digits is a valid histogram"),
            bytes: 0,
            transfer_us: 0,
            output_tokens: 0,
            estimated: 0,
            not_streamed: 0,
        }
    }
}

/// The measurements of one phase: one runtime thread's, or all of them merged.
#[derive(Debug, Clone)]
pub struct Recorder {
    latency: Histogram<u32>,
    ttfb: Histogram<u32>,
    stream: Option<Box<StreamRecorder>>,
    requests: u64,
    attempts: u64,
    retries: u64,
    first_attempt: OutcomeCounts,
    outcomes: OutcomeCounts,
    body_bytes: u64,
    usage: UsageTotals,
    samples: ErrorSamples,
    /// Open-loop measurements, made on the first open-loop request.
    open: Option<Box<OpenRecorder>>,
    /// Requests that met every per-request bound of `[slo]` (`record_goals`).
    good: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

fn count(counts: &mut OutcomeCounts, failure: Option<FailureKind>) {
    match failure {
        None => counts.success += 1,
        Some(FailureKind::Status(code)) => *counts.status.entry(code).or_default() += 1,
        Some(FailureKind::Timeout) => counts.timeout += 1,
        Some(FailureKind::Connect) => counts.connect += 1,
        Some(FailureKind::Reset) => counts.reset += 1,
        Some(FailureKind::Decode) => counts.decode += 1,
        Some(FailureKind::Stream) => counts.stream += 1,
    }
}

/// What a request's attempts add up to, kept by the worker until the request ends, so that a
/// request abandoned by a stop leaves no trace in the recorder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts sent: 1 plus the retries.
    pub count: u32,
    /// Outcome of the first attempt (`None` = success).
    pub first_failure: Option<FailureKind>,
    /// Response body bytes over all attempts.
    pub body_bytes: u64,
}

impl Attempts {
    /// Add an attempt that observed `obs`.
    pub fn add(&mut self, obs: &Observation) {
        if self.count == 0 {
            self.first_failure = obs.failure;
        }
        self.count += 1;
        self.body_bytes += obs.body_bytes;
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self {
            latency: histogram(),
            ttfb: histogram(),
            stream: None,
            requests: 0,
            attempts: 0,
            retries: 0,
            first_attempt: OutcomeCounts::default(),
            outcomes: OutcomeCounts::default(),
            body_bytes: 0,
            usage: UsageTotals::default(),
            samples: ErrorSamples::default(),
            open: None,
            good: 0,
        }
    }

    /// Count a request that ended toward goodput when it met every bound of `goals`: its
    /// last attempt observed `last` and started `offset_us` after the request did.
    pub fn record_goals(&mut self, goals: &RequestGoals, last: &Observation, offset_us: u64) {
        self.good += u64::from(goals.met_by(last, offset_us));
    }

    /// The verdict of the phase summarized as `run` against `slo`, on a route that streams
    /// or not (stream objectives apply to streams only).
    pub fn judge(&self, slo: &crate::scenario::Slo, stream: bool, run: &RunStats) -> SloVerdict {
        let empty = histogram();
        let streams = self.stream.as_deref();
        let of = |pick: fn(&StreamRecorder) -> &Histogram<u32>| {
            stream.then(|| streams.map_or(&empty, pick))
        };
        let d = Distributions {
            latency: &self.latency,
            ttft: of(|s| &s.ttft),
            tpot: of(|s| &s.tpot),
            itl: of(|s| &s.itl),
        };
        slo::verdict(slo, &d, self.good, run)
    }

    /// Record an open-loop request: as `record_request` (its latency, TTFB and TTFT count
    /// from its intended start, `offset_us` before its last attempt), plus how it was sent.
    pub fn record_open_request(
        &mut self,
        attempts: &Attempts,
        last: &Observation,
        offset_us: u64,
        how: Sending,
    ) {
        self.record_request(attempts, last, offset_us);
        self.open
            .get_or_insert_with(|| Box::new(OpenRecorder::new(histogram)))
            .record(how, last, offset_us, record);
    }

    /// Whether a request that ended as `kind` should be put into words for the error samples
    /// (`sample_error`): not for status failures, nor once the kind holds its messages.
    pub fn wants_sample(&self, kind: FailureKind) -> bool {
        kind.sample_label().is_some_and(|k| self.samples.wants(k))
    }

    /// Keep `message` as a sample of a request that ended as `kind`.
    pub fn sample_error(&mut self, kind: FailureKind, message: &str) {
        if let Some(k) = kind.sample_label() {
            self.samples.add(k, message, 1);
        }
    }

    /// Record a request that ended: its attempts, and its last attempt's observation, which
    /// started `offset_us` after the request did (0 without retries; retry waits otherwise).
    /// Latency, TTFB and TTFT count from the request's start, so retry waits are included;
    /// TPOT and stream bytes per second are the last attempt's own.
    pub fn record_request(&mut self, attempts: &Attempts, last: &Observation, offset_us: u64) {
        self.requests += 1;
        self.attempts += u64::from(attempts.count);
        self.retries += u64::from(attempts.count.saturating_sub(1));
        self.body_bytes += attempts.body_bytes;
        count(&mut self.first_attempt, attempts.first_failure);
        count(&mut self.outcomes, last.failure);
        if !last.is_success() {
            return;
        }
        record(&mut self.latency, offset_us + last.latency_us);
        if let Some(ttfb) = last.ttfb_us {
            record(&mut self.ttfb, offset_us + ttfb);
        }
        if let Some(usage) = last.usage {
            self.usage.prompt_tokens += usage.prompt_tokens;
            self.usage.completion_tokens += usage.completion_tokens;
            self.usage.total_tokens += usage.total_tokens;
            self.usage.requests += 1;
            self.usage.estimated_requests += u64::from(usage.estimated);
        }
        let s = &last.stream;
        if !s.active {
            return;
        }
        let stream = self
            .stream
            .get_or_insert_with(|| Box::new(StreamRecorder::new()));
        let transfer_us = last.latency_us.saturating_sub(last.ttfb_us.unwrap_or(0));
        stream.bytes += last.body_bytes;
        stream.transfer_us += transfer_us;
        if let Some(per_sec) = last
            .body_bytes
            .saturating_mul(1_000_000)
            .checked_div(transfer_us)
        {
            stream.rate.saturating_record(per_sec.clamp(1, MAX_RATE));
        }
        for &gap in &s.gaps_us {
            record(&mut stream.itl, gap);
        }
        stream.output_tokens += last.output_tokens();
        stream.estimated += u64::from(last.usage.is_none_or(|u| u.estimated));
        stream.not_streamed += u64::from(s.not_streamed());
        if let Some(ttft) = s.ttft_us {
            record(&mut stream.ttft, offset_us + ttft);
        }
        if let Some(tpot) = last.tpot_us() {
            record(&mut stream.tpot, tpot);
        }
    }

    /// Add another recorder's measurements into this one.
    pub fn merge(&mut self, other: &Recorder) {
        // Same bounds on both sides, so `add` cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.ttfb.add(&other.ttfb);
        if let Some(o) = &other.stream {
            let s = self
                .stream
                .get_or_insert_with(|| Box::new(StreamRecorder::new()));
            let _ = s.ttft.add(&o.ttft);
            let _ = s.itl.add(&o.itl);
            let _ = s.tpot.add(&o.tpot);
            let _ = s.rate.add(&o.rate);
            s.bytes += o.bytes;
            s.transfer_us += o.transfer_us;
            s.output_tokens += o.output_tokens;
            s.estimated += o.estimated;
            s.not_streamed += o.not_streamed;
        }
        self.requests += other.requests;
        self.attempts += other.attempts;
        self.retries += other.retries;
        self.first_attempt.add(&other.first_attempt);
        self.outcomes.add(&other.outcomes);
        self.body_bytes += other.body_bytes;
        self.usage.prompt_tokens += other.usage.prompt_tokens;
        self.usage.completion_tokens += other.usage.completion_tokens;
        self.usage.total_tokens += other.usage.total_tokens;
        self.usage.requests += other.usage.requests;
        self.usage.estimated_requests += other.usage.estimated_requests;
        self.samples.merge(other.samples.as_slice());
        if let Some(o) = &other.open {
            self.open
                .get_or_insert_with(|| Box::new(OpenRecorder::new(histogram)))
                .merge(o);
        }
        self.good += other.good;
    }

    /// Forget everything, keeping the histograms' memory (reuse for the next phase).
    pub fn clear(&mut self) {
        self.latency.reset();
        self.ttfb.reset();
        if let Some(s) = self.stream.as_mut() {
            s.ttft.reset();
            s.itl.reset();
            s.tpot.reset();
            s.rate.reset();
            s.bytes = 0;
            s.transfer_us = 0;
            s.output_tokens = 0;
            s.estimated = 0;
            s.not_streamed = 0;
        }
        self.requests = 0;
        self.attempts = 0;
        self.retries = 0;
        self.first_attempt = OutcomeCounts::default();
        self.outcomes = OutcomeCounts::default();
        self.body_bytes = 0;
        self.usage = UsageTotals::default();
        self.samples.clear();
        if let Some(o) = self.open.as_mut() {
            o.clear();
        }
        self.good = 0;
    }

    /// Summarize an open-loop measure phase that lasted `measure`, whose dispatcher counted
    /// `dispatched`.
    pub fn summarize_open(
        &self,
        run: u32,
        measure: Duration,
        client: ClientStats,
        dispatched: &Dispatched,
    ) -> RunStats {
        let mut stats = self.summarize(run, measure, client);
        let empty = OpenRecorder::new(histogram);
        let open = self.open.as_deref().unwrap_or(&empty);
        stats.open_loop = Some(open.summarize(dispatched, summary));
        stats
    }

    /// Summarize a measure phase that lasted `measure`.
    pub fn summarize(&self, run: u32, measure: Duration, client: ClientStats) -> RunStats {
        let secs = measure.as_secs_f64();
        let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let success = self.outcomes.success;
        let stream = self.stream.as_ref().map(|s| StreamSummary {
            ttft: summary(&s.ttft),
            itl: summary(&s.itl),
            tpot: summary(&s.tpot),
            total_bytes: s.bytes,
            bytes_per_sec: (s.transfer_us > 0)
                .then(|| s.bytes as f64 / (s.transfer_us as f64 / 1e6)),
            request_bytes_per_sec: RateSummary::of(&s.rate),
            output_tokens: s.output_tokens,
            tokens_estimated: s.estimated > 0,
            not_streamed: s.not_streamed,
        });
        let mut usage = self.usage;
        usage.completion_tokens_per_sec =
            (usage.requests > 0).then(|| per_sec(usage.completion_tokens));
        RunStats {
            run,
            measure_secs: secs,
            requests: self.requests,
            attempts: self.attempts,
            retries: self.retries,
            first_attempt: self.first_attempt.clone(),
            outcomes: self.outcomes.clone(),
            throughput_rps: per_sec(self.requests),
            success_rps: per_sec(success),
            success_rate: (self.requests > 0)
                .then(|| success as f64 * 100.0 / self.requests as f64),
            latency: summary(&self.latency),
            ttfb: summary(&self.ttfb),
            stream,
            usage,
            body_bytes: self.body_bytes,
            client,
            in_flight_at_end: 0,
            journal_dropped: 0,
            partial: false,
            error_samples: self.samples.to_sorted_vec(),
            open_loop: None,
            external: None,
            slo: None,
            search: None,
        }
    }
}

/// Percentiles of a histogram; `None` when it holds no value. Every figure is its bucket's
/// midpoint (`median_equivalent`), whatever the histogram's precision: `value_at_quantile`
/// and `max` give a bucket's top edge, `min` its bottom edge.
fn summary(h: &Histogram<u32>) -> Option<LatencySummary> {
    if h.is_empty() {
        return None;
    }
    let at = |q: f64| h.median_equivalent(h.value_at_quantile(q));
    Some(LatencySummary {
        count: h.len(),
        min_us: h.median_equivalent(h.min()),
        mean_us: h.mean(),
        p50_us: at(0.50),
        p90_us: at(0.90),
        p95_us: at(0.95),
        p99_us: at(0.99),
        p999_us: at(0.999),
        max_us: h.median_equivalent(h.max()),
    })
}

#[cfg(test)]
mod tests;
