//! The journal's writer thread. Producers never wake it: it polls the buffer every
//! [`DRAIN_INTERVAL`] (at once when `finish` unparks it), formats what it takes into one reused
//! text buffer, and writes that buffer when it holds [`WRITE_BYTES`], when its oldest row is
//! [`MAX_AGE`] old, or at the end — so one disk write carries thousands of rows whatever the
//! request rate. After a failed write it keeps draining and counts what it takes as lost, so
//! producers never block and `accepted == written + lost_after_error` holds at the end.

use std::time::{Duration, Instant};

use super::RequestRecord;
use super::buffer::{Progress, Shared};
use super::row::{HEADER, csv_field, format_row};
use super::sink::Sink;

/// How long the writer sleeps between polls of the buffer when producers are slow. At the
/// default capacity this leaves room for bursts of up to ~3 million records per second.
const DRAIN_INTERVAL: Duration = Duration::from_millis(10);

/// Formatted text written in one call, at least (~3,000 rows): large enough that disk writes
/// are rare, small enough to stay in cache.
const WRITE_BYTES: usize = 256 * 1024;

/// How long formatted rows wait for more before they are written anyway, so that a slow run's
/// file stays close to current.
const MAX_AGE: Duration = Duration::from_secs(1);

/// Run the writer until the journal is closed, then seal the buffer, write the rest, close the
/// sink and publish the final counts.
pub(super) fn run(shared: &Shared, sink: Sink, point_ids: &[String]) {
    // Also on a panic: `finish` and `JournalShutdown` must not wait for a writer that is gone.
    let _done = DoneOnDrop(shared);
    let mut w = Writer::new(shared, sink, point_ids);
    // A pass takes at most one buffer's worth so that a producer faster than the writer cannot
    // keep it from looking at the clock and the close flag.
    let max_pass = shared.capacity();
    loop {
        let closing = shared.is_closed();
        let taken = shared.drain(max_pass, |r| w.take(r));
        if closing {
            break;
        }
        if w.pending_since.is_some_and(|t| t.elapsed() >= MAX_AGE) {
            w.write();
        }
        // A pass that took half a buffer or more means producers outpace the timer: go again.
        if taken < (max_pass / 2).max(1) {
            std::thread::park_timeout(DRAIN_INTERVAL);
        }
    }
    shared.seal(|r| w.take(r));
    w.write();
    w.close();
}

/// Signals the end of the writer when dropped.
struct DoneOnDrop<'a>(&'a Shared);

impl Drop for DoneOnDrop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.add_error("the request log writer panicked".into());
        }
        self.0.mark_done();
    }
}

struct Writer<'a> {
    shared: &'a Shared,
    /// `None` once closed.
    sink: Option<Sink>,
    /// Point ids, CSV-quoted once.
    ids: Vec<String>,
    /// Rows formatted and not yet written (the header too, until the first write).
    buf: String,
    /// Records in `buf`.
    pending: u64,
    /// When the oldest record in `buf` was formatted.
    pending_since: Option<Instant>,
    /// A write failed: from then on records are counted, not written.
    failed: bool,
    progress: Progress,
}

impl<'a> Writer<'a> {
    fn new(shared: &'a Shared, sink: Sink, point_ids: &[String]) -> Self {
        let mut buf = String::with_capacity(WRITE_BYTES + 1024);
        buf.push_str(HEADER);
        Self {
            shared,
            sink: Some(sink),
            ids: point_ids.iter().map(|id| csv_field(id)).collect(),
            buf,
            pending: 0,
            pending_since: None,
            failed: false,
            progress: Progress::default(),
        }
    }

    /// One record out of the buffer.
    fn take(&mut self, r: RequestRecord) {
        self.progress.accepted += 1;
        if self.failed {
            self.progress.lost_after_error += 1;
            return;
        }
        format_row(&mut self.buf, &self.ids, &r);
        self.pending += 1;
        if self.pending_since.is_none() {
            self.pending_since = Some(Instant::now());
        }
        if self.buf.len() >= WRITE_BYTES {
            self.write();
        }
    }

    /// Write what is formatted, in one call.
    fn write(&mut self) {
        if self.buf.is_empty() || self.failed {
            return;
        }
        if let Some(sink) = &mut self.sink {
            match sink.write_all(self.buf.as_bytes()) {
                Ok(()) => {
                    self.progress.disk_writes += 1;
                    self.progress.written += self.pending;
                }
                Err(err) => {
                    self.failed = true;
                    self.progress.lost_after_error += self.pending;
                    let what = sink.describe();
                    self.shared.add_error(format!("cannot write {what}: {err}"));
                }
            }
        }
        self.buf.clear();
        self.pending = 0;
        self.pending_since = None;
        self.shared.publish(self.progress);
    }

    /// Flush and rename the file, then publish the final counts.
    fn close(&mut self) {
        if let Some(sink) = self.sink.take() {
            let what = sink.describe();
            let (placed, closed) = sink.close();
            if let Err(err) = closed {
                self.shared
                    .add_error(format!("cannot finish {what}: {err}"));
            }
            if let Some(path) = placed {
                self.shared.set_placed(path);
            }
        }
        self.shared.publish(self.progress);
    }
}
