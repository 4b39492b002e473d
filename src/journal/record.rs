//! The record a worker hands to the journal: one attempt, fixed size and `Copy`, so that handing
//! it over allocates nothing on the request path. Formatting it is the writer's job.

use crate::metrics::{FailureKind, Phase};

/// One attempt, as logged in `requests.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRecord {
    /// Index of the point in the plan (its id is looked up by the writer).
    pub point: u32,
    /// Run number, 1-based.
    pub run: u32,
    /// Warmup or measure.
    pub phase: Phase,
    /// Attempt start, µs since the runner began driving this invocation's first point (its
    /// `run_start`): one clock for every point, run and phase, never reset between them.
    pub start_offset_us: u64,
    /// Attempt start to last byte (or failure), µs.
    pub latency_us: u64,
    /// Attempt start to response headers, µs.
    pub ttfb_us: Option<u64>,
    /// Attempt start to first content event, µs (streams).
    pub ttft_us: Option<u64>,
    /// Status code, if headers arrived.
    pub status: Option<u16>,
    /// `None` for success.
    pub failure: Option<FailureKind>,
    /// 0 for a request's first attempt.
    pub retry: u32,
    /// Response body bytes.
    pub bytes: u64,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Whether the token counts were counted by the client.
    pub tokens_estimated: bool,
}
