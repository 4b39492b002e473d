//! Write-behind per-request log (`requests.csv`): workers hand a fixed-size `RequestRecord`
//! to a bounded buffer and return; a background writer thread batches records to disk.
//! Shutdown drains everything that entered; a full buffer is counted, never silent.

use std::path::Path;

use crate::metrics::{FailureKind, Phase};

/// One attempt, as logged. Fixed size and `Copy`: no allocation on the request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRecord {
    /// Index of the point in the plan (its id is looked up by the writer).
    pub point: u32,
    /// Run number, 1-based.
    pub run: u32,
    /// Warmup or measure.
    pub phase: Phase,
    /// Attempt start, µs from the start of the whole run.
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

/// The writer side: owns the background thread. `finish` drains and joins it.
#[derive(Debug)]
pub struct Journal {}

/// A cheap cloneable handle workers record through.
#[derive(Debug, Clone)]
pub struct JournalSender {}

/// What the journal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct JournalStats {
    /// Records accepted into the buffer.
    pub accepted: u64,
    /// Records written to disk (equals `accepted` after `finish`).
    pub written: u64,
    /// Records refused because the buffer was full.
    pub dropped: u64,
    /// Write calls made to the file.
    pub disk_writes: u64,
}

impl Journal {
    /// Create `path` (with its CSV header) and start the writer. `point_ids[i]` names point `i`;
    /// `capacity` is the buffer size in records.
    pub fn start(_path: &Path, _point_ids: Vec<String>, _capacity: usize) -> std::io::Result<Self> {
        todo!("journal helper")
    }

    /// A handle for a worker.
    pub fn sender(&self) -> JournalSender {
        todo!("journal helper")
    }

    /// Drain the buffer, flush, join the writer.
    pub fn finish(self) -> std::io::Result<JournalStats> {
        todo!("journal helper")
    }
}

impl JournalSender {
    /// Hand a record to the writer without blocking; `false` when the buffer was full
    /// (the record is counted as dropped).
    pub fn record(&self, _record: RequestRecord) -> bool {
        todo!("journal helper")
    }
}
