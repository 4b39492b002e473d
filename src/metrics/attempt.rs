//! What one HTTP attempt observed: the unit a transport produces and a recorder ingests.
//!
//! A worker owns one `Observation` and reuses it for every attempt (`reset` keeps the
//! capacity of `gaps_us`, up to `KEPT_GAPS`), so the request path does not allocate.

use std::time::Duration;

use serde::Serialize;

/// Why an attempt did not succeed. Failed requests are data, never errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// An answer whose status the route does not accept (429 and 5xx included).
    Status(u16),
    /// The request timeout elapsed.
    Timeout,
    /// No connection at all: refused, DNS, TLS, the connect timeout.
    Connect,
    /// Connected and sent, then the connection was reset or closed before the answer's
    /// headers.
    Reset,
    /// The body does not decode as the route expects (not JSON, not SSE), or outgrew
    /// `target.max_response_bytes`.
    Decode,
    /// A stream that broke: reset mid-body, ended without `[DONE]`, reported an error
    /// in-band, or outgrew `target.max_response_bytes` or `target.max_event_bytes`.
    Stream,
}

impl FailureKind {
    /// Short stable name for CSV columns and logs: `status_500`, `timeout`, ...
    pub fn label(&self) -> String {
        match self {
            Self::Status(code) => format!("status_{code}"),
            Self::Timeout => "timeout".into(),
            Self::Connect => "connect".into(),
            Self::Reset => "reset".into(),
            Self::Decode => "decode".into(),
            Self::Stream => "stream".into(),
        }
    }

    /// The label of a kind whose failures carry a message worth sampling: every kind but
    /// `Status`, whose code says it all.
    pub fn sample_label(&self) -> Option<&'static str> {
        match self {
            Self::Status(_) => None,
            Self::Timeout => Some("timeout"),
            Self::Connect => Some("connect"),
            Self::Reset => Some("reset"),
            Self::Decode => Some("decode"),
            Self::Stream => Some("stream"),
        }
    }
}

/// Token usage of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion (output) tokens.
    pub completion_tokens: u64,
    /// Total tokens.
    pub total_tokens: u64,
    /// True when counted by the client (content events) rather than sent by the server.
    pub estimated: bool,
}

/// Stream timing of one SSE answer. Offsets are from the attempt's start.
#[derive(Debug, Clone, Default)]
pub struct StreamObservation {
    /// Whether this attempt's answer was measured as a stream (the other fields are then set).
    pub active: bool,
    /// First event whose delta carries non-empty content or reasoning, µs from start.
    pub ttft_us: Option<u64>,
    /// Events with non-empty content or reasoning.
    pub content_events: u32,
    /// Gaps between consecutive content events, µs (len = content_events - 1).
    pub gaps_us: Vec<u64>,
    /// Whether `data: [DONE]` arrived.
    pub done: bool,
}

/// Content events less than this far apart, µs, arrived together: from one read of the body,
/// or from reads of one burst that the client took in turn. A hundred times below the gap of
/// a fast LLM stream (1 ms a token) and far above the time the client takes between two reads
/// of data already waiting for it.
pub const NOT_STREAMED_GAP_US: u64 = 100;

impl StreamObservation {
    /// Whether the answer was not streamed: it has two content events or more and every one
    /// arrived less than `NOT_STREAMED_GAP_US` after the one before (events of one read are
    /// 0 µs apart). Its gaps, TPOT and bytes per second then measure the client reading a
    /// finished body, not the server's pacing.
    pub fn not_streamed(&self) -> bool {
        self.content_events >= 2 && self.gaps_us.iter().all(|&g| g < NOT_STREAMED_GAP_US)
    }
}

/// Gaps whose room `reset` keeps (8 KiB): a stream of thousands of tokens gives back its
/// longer list once it has been recorded, so that thousands of workers do not each keep one.
const KEPT_GAPS: usize = 1024;

/// Everything one attempt observed.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// Status code, if an answer's headers arrived.
    pub status: Option<u16>,
    /// `None` for success.
    pub failure: Option<FailureKind>,
    /// Attempt start to last body byte (or to the failure), µs.
    pub latency_us: u64,
    /// Attempt start to response headers, µs.
    pub ttfb_us: Option<u64>,
    /// Response body bytes received.
    pub body_bytes: u64,
    /// `Retry-After` of a 429, already parsed (seconds or HTTP date).
    pub retry_after: Option<Duration>,
    /// Token usage (from the server's `usage`, else estimated for streams).
    pub usage: Option<Usage>,
    /// Stream timing; meaningful when `stream.active`.
    pub stream: StreamObservation,
}

impl Observation {
    /// Clear for the next attempt, keeping allocated capacity.
    pub fn reset(&mut self) {
        self.status = None;
        self.failure = None;
        self.latency_us = 0;
        self.ttfb_us = None;
        self.body_bytes = 0;
        self.retry_after = None;
        self.usage = None;
        let s = &mut self.stream;
        s.active = false;
        s.ttft_us = None;
        s.content_events = 0;
        s.gaps_us.clear();
        s.gaps_us.shrink_to(KEPT_GAPS);
        s.done = false;
    }

    /// Whether the attempt succeeded.
    pub fn is_success(&self) -> bool {
        self.failure.is_none()
    }

    /// Output tokens of a stream: the server's `usage`, else its content events.
    pub fn output_tokens(&self) -> u64 {
        self.usage
            .map_or(u64::from(self.stream.content_events), |u| {
                u.completion_tokens
            })
    }

    /// Time per output token of a stream, µs: (latency - ttft) / (tokens - 1); `None` below
    /// two tokens or without a first token.
    pub fn tpot_us(&self) -> Option<u64> {
        let ttft = self.stream.ttft_us?;
        let tokens = self.output_tokens();
        (tokens >= 2).then(|| self.latency_us.saturating_sub(ttft) / (tokens - 1))
    }
}

/// The phase an attempt belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Sent and measured, then discarded.
    Warmup,
    /// Counted in the results.
    Measure,
}
