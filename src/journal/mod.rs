//! Write-behind per-request log (`requests.csv`): workers hand a fixed-size `RequestRecord`
//! to a bounded buffer and return; a background writer thread batches records to disk.
//! Shutdown drains everything that entered; a full buffer is counted, never silent.

mod writer;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

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

/// What travels to the writer.
enum Message {
    Record(RequestRecord),
    /// Write what is left and stop.
    Finish,
}

/// Counters shared by senders and the writer.
#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    dropped: AtomicU64,
    written: AtomicU64,
    disk_writes: AtomicU64,
}

/// The writer side: owns the background thread. `finish` (or drop) drains and joins it.
#[derive(Debug)]
pub struct Journal {
    tx: SyncSender<Message>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

/// A cheap cloneable handle workers record through.
#[derive(Debug, Clone)]
pub struct JournalSender {
    tx: SyncSender<Message>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Record(_) => "Record",
            Self::Finish => "Finish",
        })
    }
}

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
    pub fn start(path: &Path, point_ids: Vec<String>, capacity: usize) -> std::io::Result<Self> {
        let file = std::fs::File::create(path)?;
        let (tx, rx) = sync_channel(capacity.max(1));
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || writer::run(file, &point_ids, rx, &thread_counters))?;
        Ok(Self {
            tx,
            counters,
            thread: Some(thread),
        })
    }

    /// A handle for a worker.
    pub fn sender(&self) -> JournalSender {
        JournalSender {
            tx: self.tx.clone(),
            counters: Arc::clone(&self.counters),
        }
    }

    /// Drain the buffer, flush, join the writer.
    pub fn finish(mut self) -> std::io::Result<JournalStats> {
        self.stop()?;
        Ok(self.stats())
    }

    fn stop(&mut self) -> std::io::Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        // Blocks only while the buffer is full, i.e. until the writer made room.
        let _ = self.tx.send(Message::Finish);
        thread
            .join()
            .map_err(|_| std::io::Error::other("the journal writer panicked"))?
    }

    fn stats(&self) -> JournalStats {
        let c = &self.counters;
        JournalStats {
            accepted: c.accepted.load(Ordering::Relaxed),
            written: c.written.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            disk_writes: c.disk_writes.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Nothing measured is lost, even without `finish`.
        let _ = self.stop();
    }
}

impl JournalSender {
    /// Hand a record to the writer without blocking; `false` when the buffer was full (or the
    /// journal finished) — the record is then counted as dropped.
    pub fn record(&self, record: RequestRecord) -> bool {
        match self.tx.try_send(Message::Record(record)) {
            Ok(()) => {
                self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }
}
