//! Per-run and per-point summaries: the numbers a point produces, ready for reports.
//!
//! `RunStats` is one measure phase of one run (built by `Recorder::summarize`);
//! `PointResult` holds a point's runs and their median/MAD aggregate (`aggregate`).
//! These types are the contract between `runner`/`metrics` and `report`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::external::{ClientRecord, ExternalFigures};
use super::open_loop::{OpenLoopAggregate, OpenLoopStats};
use super::samples::ErrorSample;
use super::search::{SearchAggregate, SearchRun};
use super::slo::{SloAggregate, SloVerdict};
use crate::scenario::LoadModel;

/// Percentiles of one distribution, in microseconds. Only built from a histogram holding at
/// least one value: a distribution with no value has no summary (`None`, `null` in JSON).
///
/// Every figure (min, percentiles, max) is the midpoint of its HDR bucket
/// (`median_equivalent`), the value hdrhistogram's mean also uses: within half a bucket of
/// what was recorded, with no upward bias (a bucket's top edge would read a 2,001.5 ms stall
/// as 2,007.04 ms at 2 significant digits).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Values recorded.
    pub count: u64,
    /// Smallest value, µs.
    pub min_us: u64,
    /// Mean, µs.
    pub mean_us: f64,
    /// Median, µs.
    pub p50_us: u64,
    /// 90th percentile, µs.
    pub p90_us: u64,
    /// 95th percentile, µs.
    pub p95_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// 99.9th percentile, µs.
    pub p999_us: u64,
    /// Largest value, µs.
    pub max_us: u64,
}

/// Percentiles of a rate, per request, in bytes per second; bucket midpoints, as for
/// `LatencySummary`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RateSummary {
    /// Requests measured.
    pub count: u64,
    /// Slowest request, bytes/s.
    pub min: u64,
    /// 10th percentile (the slow tail), bytes/s.
    pub p10: u64,
    /// Median, bytes/s.
    pub p50: u64,
    /// 90th percentile, bytes/s.
    pub p90: u64,
    /// Fastest request, bytes/s.
    pub max: u64,
}

impl RateSummary {
    /// Percentiles of `h`; `None` when it holds no value.
    pub(crate) fn of(h: &hdrhistogram::Histogram<u32>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        let at = |q: f64| h.median_equivalent(h.value_at_quantile(q));
        Some(Self {
            count: h.len(),
            min: h.median_equivalent(h.min()),
            p10: at(0.10),
            p50: at(0.50),
            p90: at(0.90),
            max: h.median_equivalent(h.max()),
        })
    }
}

/// Outcome counts of a set of attempts or requests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutcomeCounts {
    /// Successes.
    pub success: u64,
    /// Answers with a status the route does not accept, by status code.
    pub status: BTreeMap<u16, u64>,
    /// Timeouts.
    pub timeout: u64,
    /// Connect failures (no connection at all).
    pub connect: u64,
    /// Connections reset or closed after the request was sent, before the answer's headers.
    #[serde(default)]
    pub reset: u64,
    /// Bodies that did not decode as expected.
    pub decode: u64,
    /// Broken streams.
    pub stream: u64,
    /// Non-2xx answers whose status is not known: an external client reports their count only.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub status_unknown: u64,
    /// Failures of no known kind: what an external client counts beyond its non-2xx answers
    /// and timeouts (connection, body and stream errors, which it does not tell apart).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub other: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl OutcomeCounts {
    /// All counted outcomes.
    pub fn total(&self) -> u64 {
        self.success + self.failures()
    }

    /// Every outcome but success.
    pub fn failures(&self) -> u64 {
        self.status.values().sum::<u64>()
            + self.timeout
            + self.connect
            + self.reset
            + self.decode
            + self.stream
            + self.status_unknown
            + self.other
    }

    /// Add `other`'s counts to these.
    pub fn add(&mut self, other: &OutcomeCounts) {
        self.success += other.success;
        for (code, n) in &other.status {
            *self.status.entry(*code).or_default() += n;
        }
        self.timeout += other.timeout;
        self.connect += other.connect;
        self.reset += other.reset;
        self.decode += other.decode;
        self.stream += other.stream;
        self.status_unknown += other.status_unknown;
        self.other += other.other;
    }

    /// Answers with a non-2xx status.
    pub fn non2xx(&self) -> u64 {
        self.status
            .iter()
            .filter(|(code, _)| !(200..300).contains(*code))
            .map(|(_, n)| n)
            .sum::<u64>()
            + self.status_unknown
    }
}

/// Token totals of a set of requests.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct UsageTotals {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Total tokens.
    pub total_tokens: u64,
    /// Successful requests whose usage was counted: sent by the server, or counted by the
    /// client from a stream's content events.
    pub requests: u64,
    /// Requests whose usage was counted by the client rather than sent by the server.
    pub estimated_requests: u64,
    /// Completion tokens per measure-phase second: the one tokens/s figure of every report
    /// (summary, route tables, ledger, CSV, JSON). `None` when no request reported usage.
    pub completion_tokens_per_sec: Option<f64>,
}

/// Stream metrics of the successful streamed requests of a run (DESIGN.md section 6). A
/// figure no request produced is `None`: TTFT without a content event, ITL without two.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StreamSummary {
    /// Time to first token, from the request's start.
    pub ttft: Option<LatencySummary>,
    /// Inter-token latency: gaps between content events, all requests pooled.
    pub itl: Option<LatencySummary>,
    /// Time per output token: (latency - ttft) / (output tokens - 1), per request, over the
    /// answering attempt.
    pub tpot: Option<LatencySummary>,
    /// Stream body bytes received.
    pub total_bytes: u64,
    /// Stream bytes / summed stream durations (aggregate bytes per second of one stream);
    /// `None` when no time passed between headers and last bytes.
    pub bytes_per_sec: Option<f64>,
    /// Stream bytes per second of each request (body bytes / headers-to-last-byte time).
    pub request_bytes_per_sec: Option<RateSummary>,
    /// Output tokens (usage, or counted events when the server sent none).
    pub output_tokens: u64,
    /// Whether any request's token count was estimated from events.
    pub tokens_estimated: bool,
    /// Successful streams that were not streamed: all their content events arrived at once
    /// (see `StreamObservation::not_streamed`), so their ITL, TPOT and bytes per second
    /// describe the client reading a finished body, not the server's pacing.
    pub not_streamed: u64,
}

/// The client's own resource use during a measure phase.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ClientStats {
    /// Peak resident set size of the client process, bytes.
    pub peak_rss_bytes: u64,
    /// User + system CPU time spent by the client during the phase, seconds.
    pub cpu_secs: f64,
    /// CPU seconds per wall second (1.0 = one core busy).
    pub cpu_utilization: f64,
    /// Busy time of the busiest runtime thread / wall time (1.0 = it never idled).
    #[serde(default)]
    pub busiest_thread_share: f64,
    /// Runtime lag (how long a task handed to the runtime waits to run), 99th percentile, µs.
    pub lag_p99_us: u64,
    /// Runtime lag, maximum, µs.
    pub lag_max_us: u64,
    /// Whether the client, not the server, likely limited this run.
    pub client_bound: bool,
}

/// One measure phase of one run of one point.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunStats {
    /// Run number, 1-based.
    pub run: u32,
    /// Measure phase wall time, seconds (first request start to last request end).
    pub measure_secs: f64,
    /// Requests completed (final outcomes, after retries).
    pub requests: u64,
    /// Attempts sent (requests + retries).
    pub attempts: u64,
    /// Retries sent after a 429.
    pub retries: u64,
    /// Outcome of each request's first attempt.
    pub first_attempt: OutcomeCounts,
    /// Final outcome of each request.
    pub outcomes: OutcomeCounts,
    /// `requests / measure_secs`.
    pub throughput_rps: f64,
    /// Successful requests per second.
    pub success_rps: f64,
    /// Successful requests / requests, percent; `None` when no request completed.
    pub success_rate: Option<f64>,
    /// Latency of successful requests (first attempt start to last byte, retry waits
    /// included); `None` when no request succeeded.
    pub latency: Option<LatencySummary>,
    /// Time to response headers of successful requests (from the request's start); `None`
    /// when no request succeeded.
    pub ttfb: Option<LatencySummary>,
    /// Stream metrics, for stream routes.
    pub stream: Option<StreamSummary>,
    /// Token usage.
    pub usage: UsageTotals,
    /// Response body bytes received (all attempts).
    pub body_bytes: u64,
    /// The client's own resource use.
    pub client: ClientStats,
    /// Requests in flight when the measure phase's limit was reached; finished and counted.
    pub in_flight_at_end: u64,
    /// Per-request log records the journal could not take (buffer full).
    pub journal_dropped: u64,
    /// Whether a stop cut this run's measure phase short.
    #[serde(default)]
    pub partial: bool,
    /// A few messages per failure kind (final outcomes), with counts.
    #[serde(default)]
    pub error_samples: Vec<ErrorSample>,
    /// Open-loop figures: offered and achieved rates, service times, send lag, queue; `None`
    /// for a closed loop.
    #[serde(default)]
    pub open_loop: Option<OpenLoopStats>,
    /// What an external client reported that no histogram backs, and what its process cost;
    /// `None` for the built-in engine. Its run's `client` holds the process tree's peak RSS
    /// and CPU (no runtime lag or thread figures: those are `0` and left out of medians).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalFigures>,
    /// The verdict against `[slo]`: goodput and each objective; `None` without `[slo]`.
    #[serde(default)]
    pub slo: Option<SloVerdict>,
    /// A search point's search: every probe and the answer. The run's other figures are
    /// those of its answer probe (of its `min` probe when that failed).
    #[serde(default)]
    pub search: Option<SearchRun>,
}

/// Median and median absolute deviation of one figure across runs.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Spread {
    /// Median across runs.
    pub median: f64,
    /// Median absolute deviation across runs.
    pub mad: f64,
}

/// A point's headline figures across its runs. Latencies in milliseconds.
///
/// Each figure is the median (and MAD) over the runs that have it: a run where no request
/// succeeded adds no latency, a point with no run has no figure at all. A figure no run has
/// is `None` (`null` in JSON), never `0`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PointAggregate {
    /// Runs aggregated.
    pub runs: u32,
    /// Requests per second.
    pub throughput_rps: Option<Spread>,
    /// Successful requests per second.
    pub success_rps: Option<Spread>,
    /// Success rate, percent.
    pub success_rate: Option<Spread>,
    /// Latency p50, ms.
    pub latency_p50_ms: Option<Spread>,
    /// Latency p90, ms.
    pub latency_p90_ms: Option<Spread>,
    /// Latency p95, ms.
    pub latency_p95_ms: Option<Spread>,
    /// Latency p99, ms.
    pub latency_p99_ms: Option<Spread>,
    /// Latency p99.9, ms.
    pub latency_p999_ms: Option<Spread>,
    /// Latency mean, ms.
    pub latency_mean_ms: Option<Spread>,
    /// TTFB p50, ms.
    pub ttfb_p50_ms: Option<Spread>,
    /// Completion tokens per measure second (`UsageTotals::completion_tokens_per_sec`), over
    /// the runs where some request reported usage: JSON and stream routes alike.
    pub tokens_per_sec: Option<Spread>,
    /// Stream figures, for stream routes.
    pub stream: Option<StreamAggregate>,
    /// Sums over all runs: requests, attempts, retries and outcomes.
    pub totals: Totals,
    /// Peak RSS over all runs, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// Client CPU seconds per wall second.
    pub client_cpu_utilization: Option<Spread>,
    /// Busy share of the busiest runtime thread (1.0 = never idle).
    pub busiest_thread_share: Option<Spread>,
    /// Runtime lag p99, µs.
    pub lag_p99_us: Option<Spread>,
    /// Whether any run was client-bound.
    pub client_bound: bool,
    /// The runs' error samples together (a few messages per failure kind, with counts).
    #[serde(default)]
    pub error_samples: Vec<ErrorSample>,
    /// Open-loop figures across runs; `None` for a closed loop.
    #[serde(default)]
    pub open_loop: Option<OpenLoopAggregate>,
    /// Goodput and the verdict against `[slo]` across runs; `None` without `[slo]`.
    #[serde(default)]
    pub slo: Option<SloAggregate>,
    /// A search point's answer across runs.
    #[serde(default)]
    pub search: Option<SearchAggregate>,
}

/// Stream figures across runs. Times in milliseconds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StreamAggregate {
    /// TTFT p50, ms.
    pub ttft_p50_ms: Option<Spread>,
    /// TTFT p95, ms.
    pub ttft_p95_ms: Option<Spread>,
    /// TTFT p99, ms.
    pub ttft_p99_ms: Option<Spread>,
    /// ITL p50, ms.
    pub itl_p50_ms: Option<Spread>,
    /// ITL p99, ms.
    pub itl_p99_ms: Option<Spread>,
    /// TPOT p50, ms.
    pub tpot_p50_ms: Option<Spread>,
    /// Stream bytes per second.
    pub bytes_per_sec: Option<Spread>,
}

/// Sums across runs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Requests completed.
    pub requests: u64,
    /// Attempts sent.
    pub attempts: u64,
    /// Retries sent.
    pub retries: u64,
    /// First-attempt outcomes.
    pub first_attempt: OutcomeCounts,
    /// Final outcomes.
    pub outcomes: OutcomeCounts,
    /// Stream bytes (or body bytes) received.
    pub body_bytes: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Requests whose usage was estimated.
    pub estimated_requests: u64,
    /// Successful streams that were not streamed (`StreamSummary::not_streamed`).
    pub not_streamed: u64,
    /// Journal records dropped because the buffer was full.
    pub journal_dropped: u64,
}

/// Everything measured for one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    /// The point's id (`chat-S-c32`).
    pub id: String,
    /// Route name.
    pub route: String,
    /// Route path.
    pub path: String,
    /// Payload name, if any.
    pub payload: Option<String>,
    /// Request body size, bytes.
    pub payload_bytes: u64,
    /// How the point drove load; in JSON its fields sit in the point's object (`concurrency`
    /// for a closed loop).
    #[serde(flatten)]
    pub load: LoadModel,
    /// Whether the route is measured as a stream.
    pub stream: bool,
    /// Every axis value by axis name.
    pub vars: BTreeMap<String, String>,
    /// Completed runs, in order (fewer than planned when the run was interrupted).
    pub runs: Vec<RunStats>,
    /// Median and MAD across `runs`.
    pub aggregate: PointAggregate,
    /// Whether this point was cut short (Ctrl-C or error).
    pub partial: bool,
    /// Wall-clock time the point's last run ended, milliseconds since the Unix epoch (absent
    /// in results written before it was recorded).
    #[serde(default)]
    pub finished_unix_ms: Option<u64>,
    /// The external client that ran the point, with every run as it went (failed, timed out
    /// and skipped ones too); `None` for the built-in engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientRecord>,
}

impl PointResult {
    /// What `point` measured: its `runs` (aggregated here), whether it was cut short, and
    /// when it finished (Unix ms).
    pub fn of(
        point: &crate::scenario::Point,
        runs: Vec<RunStats>,
        partial: bool,
        finished_unix_ms: Option<u64>,
    ) -> Self {
        Self {
            id: point.id.clone(),
            route: point.route.clone(),
            path: point.request.path.clone(),
            payload: point.payload.clone(),
            payload_bytes: point.request.body.len() as u64,
            load: point.load.clone(),
            stream: point.request.stream,
            vars: point.vars.clone(),
            aggregate: super::aggregate(&runs),
            runs,
            partial,
            finished_unix_ms,
            client: None,
        }
    }
}
