//! The journal's handles: [`Journal`] owns the writer thread and ends it, [`JournalSender`] is
//! what workers record through, [`JournalShutdown`] lets a signal handler end the journal in
//! bounded time, and [`JournalStats`] and [`JournalEnd`] are what the journal reports.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use super::RequestRecord;
use super::buffer::Shared;
use super::sink::Sink;
use super::writer;

/// What the journal did. After the journal ended, `accepted == written + lost_after_error`,
/// and every `record` call was either accepted or counted in exactly one of `dropped` and
/// `refused_after_finish`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct JournalStats {
    /// Records that entered the buffer, records.
    pub accepted: u64,
    /// Records written to `requests.csv`, records.
    pub written: u64,
    /// Records refused because the buffer was full, records.
    pub dropped: u64,
    /// Successful write calls to the file, each carrying a batch of rows.
    pub disk_writes: u64,
    /// Records refused because they came after the journal was finished, records.
    #[serde(default)]
    pub refused_after_finish: u64,
    /// Accepted records not written because a write had failed (the failed batch and all
    /// taken after it), records.
    #[serde(default)]
    pub lost_after_error: u64,
    /// The write or rename error that cut the log short, if any.
    #[serde(default)]
    pub error: Option<String>,
}

/// What an ended journal leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEnd {
    /// The final counts.
    pub stats: JournalStats,
    /// `requests.csv` under its final name; `None` when the rename failed, or for a sink that
    /// is not a file.
    pub file: Option<PathBuf>,
}

/// The write-behind log: owns the writer thread. [`Journal::finish`] (or drop) drains the
/// buffer, writes, renames the file into place and joins the writer.
#[derive(Debug)]
pub struct Journal {
    shared: Arc<Shared>,
    /// The writer, to unpark; kept apart from `thread`, which `stop` consumes.
    writer: Thread,
    thread: Option<JoinHandle<()>>,
}

/// A cheap cloneable handle workers record through.
#[derive(Debug, Clone)]
pub struct JournalSender {
    shared: Arc<Shared>,
}

/// A cheap cloneable handle that finishes the journal from elsewhere — a signal handler about
/// to exit the process — and waits for the writer a bounded time.
#[derive(Debug, Clone)]
pub struct JournalShutdown {
    shared: Arc<Shared>,
    writer: Thread,
}

impl Journal {
    /// Start a journal writing `path` (as `.NAME.tmp` beside it until it ends, then renamed).
    /// `point_ids[i]` names point `i`; `capacity` is the buffer size in records, allocated now
    /// (use [`super::CAPACITY`] unless measuring something else).
    pub fn start(path: &Path, point_ids: Vec<String>, capacity: usize) -> io::Result<Self> {
        let sink = Sink::create(path)?;
        Self::spawn(sink, point_ids, capacity).inspect_err(|_| {
            // The writer never ran: leave no empty temporary file behind.
            let _ = std::fs::remove_file(super::sink::temp_path(path));
        })
    }

    /// Start a journal writing to `sink` instead of a file (tests give one that fails).
    pub fn with_sink(
        sink: impl Write + Send + 'static,
        point_ids: Vec<String>,
        capacity: usize,
    ) -> io::Result<Self> {
        Self::spawn(Sink::Other(Box::new(sink)), point_ids, capacity)
    }

    fn spawn(sink: Sink, point_ids: Vec<String>, capacity: usize) -> io::Result<Self> {
        let shared = Arc::new(Shared::new(capacity));
        let for_writer = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || writer::run(&for_writer, sink, &point_ids))?;
        Ok(Self {
            shared,
            writer: thread.thread().clone(),
            thread: Some(thread),
        })
    }

    /// A handle for a worker.
    pub fn sender(&self) -> JournalSender {
        JournalSender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// A handle that can finish this journal from another thread or task.
    pub fn shutdown_handle(&self) -> JournalShutdown {
        JournalShutdown {
            shared: Arc::clone(&self.shared),
            writer: self.writer.clone(),
        }
    }

    /// Refuse new records, drain the buffer, write, rename the file into place, join the
    /// writer. Never fails: a write error is in [`JournalStats::error`], with what it cost.
    pub fn finish(self) -> JournalStats {
        self.end().stats
    }

    /// As [`Journal::finish`], also saying where the file ended up.
    pub fn end(mut self) -> JournalEnd {
        self.stop();
        JournalEnd {
            stats: self.shared.stats(),
            file: self.shared.placed(),
        }
    }

    fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.shared.close();
        // The writer polls on a timer; this saves the rest of its sleep.
        self.writer.unpark();
        // A panic was recorded as the journal's error by the writer itself.
        let _ = thread.join();
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Nothing accepted is lost, even without `finish`.
        self.stop();
    }
}

impl JournalSender {
    /// Hand a record to the writer without blocking, locking or waking anyone. `false` when
    /// refused: the buffer was full (counted in `dropped`) or the journal was finishing or
    /// finished (counted in `refused_after_finish`). `true` means it will be written, or
    /// counted in `lost_after_error` if the file fails first.
    pub fn record(&self, record: RequestRecord) -> bool {
        self.shared.offer(record)
    }
}

impl JournalShutdown {
    /// Refuse new records and make the writer drain, write and rename `requests.csv` now;
    /// wait for it at most `wait`. Returns the final counts when the writer ended in time,
    /// `None` otherwise (it goes on draining in the background). Blocks the calling thread:
    /// from async code, call it through `tokio::task::spawn_blocking`. Calling it again, or
    /// `Journal::finish` afterwards, is harmless.
    pub fn finish_within(&self, wait: Duration) -> Option<JournalStats> {
        self.shared.close();
        self.writer.unpark();
        self.shared.wait_done(wait).then(|| self.shared.stats())
    }
}
