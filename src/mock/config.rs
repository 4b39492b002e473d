//! The mock server's knobs: latency, streaming shape, rate limiting, body limit and faults.
//!
//! Built by `scenario` from a scenario's `[mock]` table (or a `mock --config FILE`); read by the
//! server. `Default` is what a scenario without `[mock]` gets.

use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `mock.header_read_timeout` when unset. Well past the runner's default `run.retry.max_wait`
/// (10 s): a worker waiting out a `Retry-After` leaves its connection idle that long, and a
/// server closing it just as the retry goes out would turn the retry into a failure.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// `[mock]`: how the built-in OpenAI-compatible mock answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockConfig {
    /// Fixed delay from a request's arrival to its answer's headers, on the five chat routes
    /// (`/v1/chat/completions` and its `:stream`, `:rate`, `:error`, `:malformed` forms),
    /// including their 400 answers. `/health`, `/v1/models`, 404, 405 and 413 answer at once.
    #[serde(with = "crate::scenario::units::duration_text")]
    pub latency: Duration,
    /// Uniform random extra delay in `[0, jitter]` added to `latency`.
    #[serde(with = "crate::scenario::units::duration_text")]
    pub jitter: Duration,
    /// Stream shape of `:stream` (and `"stream": true`) answers.
    pub stream: StreamShape,
    /// Completion tokens in a non-streaming `chat.completion` answer (one word per token).
    pub completion_tokens: u32,
    /// When `:rate` answers 429.
    pub rate_limit: RateLimit,
    /// `Retry-After` sent with a 429, whole seconds (sub-second values round up).
    #[serde(with = "crate::scenario::units::duration_text")]
    pub retry_after: Duration,
    /// Largest accepted request body, bytes; larger bodies get 413.
    pub max_body_bytes: u64,
    /// Longest wait for a whole request head, counted from the connection's opening or from
    /// the end of its last answer (so an idle keep-alive connection counts too); past it the
    /// connection is closed without an answer. Bounds how long half-sent heads (slowloris)
    /// hold connections.
    #[serde(with = "crate::scenario::units::duration_text")]
    pub header_read_timeout: Duration,
    /// Injected faults for reliability tests.
    pub faults: Faults,
    /// Service slots: at most this many requests to the five chat routes are in their latency
    /// at once; the others wait for a slot in arrival order, and their latency counts from
    /// when they get one. `None`: no limit. A known knee for open-loop tests.
    #[serde(default)]
    pub capacity: Option<NonZeroU32>,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            stream: StreamShape::default(),
            completion_tokens: 16,
            rate_limit: RateLimit::Always,
            retry_after: Duration::from_secs(1),
            max_body_bytes: 4 * 1024 * 1024,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            faults: Faults::default(),
            capacity: None,
        }
    }
}

/// `[mock.stream]`: the shape of an SSE answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamShape {
    /// Delay from the headers to the first content chunk (time to first token).
    #[serde(with = "crate::scenario::units::duration_text")]
    pub first_chunk: Duration,
    /// Content chunks sent, one token each (after the role chunk, before the usage chunk).
    pub chunks: u32,
    /// Delay between consecutive content chunks.
    #[serde(with = "crate::scenario::units::duration_text")]
    pub interval: Duration,
}

impl Default for StreamShape {
    fn default() -> Self {
        Self {
            first_chunk: Duration::ZERO,
            chunks: 16,
            interval: Duration::ZERO,
        }
    }
}

/// `[mock.rate_limit]`: which requests to `:rate` get 429 (the others get a normal completion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateLimit {
    /// Every request is limited.
    Always,
    /// Requests number N, 2N, 3N, ... (counted from 1 over the server's life) are limited:
    /// with N = 2 the first request passes and the second is limited.
    EveryNth(NonZeroU32),
    /// Requests arriving in the first `limited` of every `period` (from server start) are limited.
    Window {
        /// Length of one cycle.
        #[serde(with = "crate::scenario::units::duration_text")]
        period: Duration,
        /// Limited span at the start of each cycle.
        #[serde(with = "crate::scenario::units::duration_text")]
        limited: Duration,
    },
}

/// `[mock.faults]`: each fault, when set, hits requests N, 2N, 3N, ... (its `every`, counted
/// from 1 over the server's life, all faults on one count) to `/v1/chat/completions` and its
/// `:stream` form; when several hit one request, reset wins over truncate over stall. A request
/// may also ask for one with the header `x-mock-fault: stall|reset|truncate` (tests use this
/// for determinism): it takes the configured `duration` or `after_chunks`, or without one a
/// 1 s stall, or a fault after half the stream's chunks (at least one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Faults {
    /// Hold the answer before its headers.
    pub stall: Option<StallFault>,
    /// Reset the TCP connection part-way through the answer (see [`ChunkFault`]).
    pub reset: Option<ChunkFault>,
    /// End the answer early but cleanly (see [`ChunkFault`]).
    pub truncate: Option<ChunkFault>,
}

/// A stall: the answer waits `duration` (after the latency) before its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StallFault {
    /// Requests N, 2N, ... to the chat routes stall.
    pub every: NonZeroU32,
    /// How long it stalls.
    #[serde(with = "crate::scenario::units::duration_text")]
    pub duration: Duration,
}

/// A fault that strikes part-way through an answer.
///
/// `reset` (a TCP reset, sent once the client has acknowledged everything before it):
/// - `after_chunks = 0`: before the headers, stream or JSON — no answer at all;
/// - a stream: after the role chunk and `after_chunks` content chunks (all of them if the
///   stream has fewer), which the client receives in full;
/// - a JSON answer: after the headers and the first half of the body.
///
/// `truncate` (a clean end, too early):
/// - a stream: after the role chunk and `after_chunks` content chunks, the chunked body ends
///   properly but without the `finish_reason` chunk, usage or `[DONE]`;
/// - a JSON answer: the headers promise the whole body (`content-length`), then the first half
///   of it (nothing when `after_chunks = 0`) is sent and the connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkFault {
    /// Requests N, 2N, ... to the chat routes are hit.
    pub every: NonZeroU32,
    /// Content chunks sent before the fault; for JSON answers only 0 or not 0 matters.
    pub after_chunks: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_survives_the_json_that_carries_it_to_the_child() {
        let config = MockConfig {
            latency: Duration::from_millis(3),
            header_read_timeout: Duration::from_millis(250),
            rate_limit: RateLimit::EveryNth(NonZeroU32::MIN),
            ..Default::default()
        };
        let json = serde_json::to_string(&config).unwrap();
        assert!(json.contains(r#""header_read_timeout":"250ms""#), "{json}");
        assert_eq!(serde_json::from_str::<MockConfig>(&json).unwrap(), config);
    }
}
