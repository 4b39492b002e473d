//! The buffer between the request path and the writer thread, and the counters around it.
//!
//! Producers [`Shared::offer`] records into a bounded lock-free queue (crossbeam's
//! `ArrayQueue`): one compare-and-swap and a store, no lock, no syscall, and no wake-up — the
//! writer polls on a timer instead of sleeping in a `recv` that every send would have to wake.
//! Producers write no shared counter for an accepted record: the writer counts what it takes
//! out. Only the refusal paths (buffer full, journal finished) bump shared counters.
//!
//! Closing is exact. [`Shared::close`] raises a flag that every offer checks first, but an
//! offer that read the flag just before it rose may still push afterwards. So the writer, once
//! closed, [`Shared::seal`]s the queue: it fills it with markers and rotates them until a whole
//! lap held nothing else. A sealed queue is full for good, so every later push fails, and every
//! push that did succeed was taken out during the seal. Hence, after the writer ended:
//! `offer` returned `true` exactly for the records the writer counted as accepted.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

use super::{JournalStats, RequestRecord};

/// What a queue slot holds.
enum Slot {
    Record(RequestRecord),
    /// Put in by [`Shared::seal`] so that no push can succeed any more.
    Sealed,
}

/// Keeps a value on a cache line of its own, so that counters bumped by one side do not evict
/// what the other side reads on every call.
#[repr(align(128))]
#[derive(Debug, Default)]
struct Padded<T>(T);

/// What the writer has done so far, published after every disk write and at the end.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Progress {
    /// Records taken out of the buffer.
    pub(super) accepted: u64,
    /// Records written to the sink.
    pub(super) written: u64,
    /// Records taken out but not written because a write had failed.
    pub(super) lost_after_error: u64,
    /// Successful batch writes.
    pub(super) disk_writes: u64,
}

#[derive(Debug, Default)]
struct Refusals {
    /// Offers refused because the buffer was full.
    full: AtomicU64,
    /// Offers refused because the journal was finishing or finished.
    closed: AtomicU64,
}

#[derive(Debug, Default)]
struct PublishedProgress {
    accepted: AtomicU64,
    written: AtomicU64,
    lost_after_error: AtomicU64,
    disk_writes: AtomicU64,
}

/// Everything producers, the writer and the handles share.
pub(super) struct Shared {
    queue: ArrayQueue<Slot>,
    /// Read by every offer, written once.
    closed: Padded<AtomicBool>,
    refusals: Padded<Refusals>,
    progress: Padded<PublishedProgress>,
    /// The first write or rename error, as text.
    error: Mutex<Option<String>>,
    /// The log's file under its final name, once the writer put it there.
    placed: Mutex<Option<PathBuf>>,
    /// Whether the writer has ended (file renamed, counts final).
    done: Mutex<bool>,
    done_changed: Condvar,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("capacity", &self.queue.capacity())
            .field("queued", &self.queue.len())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// A buffer of `capacity` records (at least one), allocated now.
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            queue: ArrayQueue::new(capacity.max(1)),
            closed: Padded::default(),
            refusals: Padded::default(),
            progress: Padded::default(),
            error: Mutex::new(None),
            placed: Mutex::new(None),
            done: Mutex::new(false),
            done_changed: Condvar::new(),
        }
    }

    /// Buffer size, records.
    pub(super) fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// Hand `record` to the writer without blocking; `false` when refused (counted).
    pub(super) fn offer(&self, record: RequestRecord) -> bool {
        if self.is_closed() {
            self.refusals.0.closed.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        if self.queue.push(Slot::Record(record)).is_ok() {
            return true;
        }
        // A sealed queue is full too; the flag, raised before sealing began, tells them apart.
        let counter = if self.is_closed() {
            &self.refusals.0.closed
        } else {
            &self.refusals.0.full
        };
        counter.fetch_add(1, Ordering::Relaxed);
        false
    }

    /// Refuse new offers from now on; the writer seals the queue when it sees this.
    pub(super) fn close(&self) {
        self.closed.0.store(true, Ordering::Release);
    }

    /// Whether `close` was called.
    pub(super) fn is_closed(&self) -> bool {
        self.closed.0.load(Ordering::Acquire)
    }

    /// Take up to `max` records out, oldest first; returns how many were taken. Not for a
    /// sealed queue: it would take the markers out.
    pub(super) fn drain(&self, max: usize, mut take: impl FnMut(RequestRecord)) -> usize {
        let mut taken = 0;
        while taken < max {
            match self.queue.pop() {
                Some(Slot::Record(r)) => {
                    take(r);
                    taken += 1;
                }
                Some(Slot::Sealed) => {}
                None => break,
            }
        }
        taken
    }

    /// Take out every record, including those of offers racing `close`, and leave the queue
    /// full of markers so that no push succeeds again. Call after `close`, from the writer
    /// (the only thread that pops).
    pub(super) fn seal(&self, mut take: impl FnMut(RequestRecord)) {
        while self.queue.push(Slot::Sealed).is_ok() {}
        // The queue is full now, and only this thread pops, so a producer's push can succeed
        // only between one of our pops and our next push — which then fails. A round that pops
        // a marker and pushes one back therefore let nothing else in; after a whole lap of such
        // rounds the queue holds only the markers we pushed during that lap.
        let lap = self.queue.capacity();
        let mut clean = 0;
        while clean < lap {
            let popped_marker = match self.queue.pop() {
                Some(Slot::Record(r)) => {
                    take(r);
                    false
                }
                Some(Slot::Sealed) => true,
                None => false,
            };
            let pushed = self.queue.push(Slot::Sealed).is_ok();
            clean = if popped_marker && pushed {
                clean + 1
            } else {
                0
            };
        }
    }

    /// Make the writer's counts visible to `stats`.
    pub(super) fn publish(&self, p: Progress) {
        let out = &self.progress.0;
        out.accepted.store(p.accepted, Ordering::Relaxed);
        out.written.store(p.written, Ordering::Relaxed);
        out.lost_after_error
            .store(p.lost_after_error, Ordering::Relaxed);
        out.disk_writes.store(p.disk_writes, Ordering::Relaxed);
    }

    /// Keep `message` as the journal's error (the first one stays first).
    pub(super) fn add_error(&self, message: String) {
        let mut error = self.error.lock().unwrap_or_else(PoisonError::into_inner);
        *error = Some(match error.take() {
            None => message,
            Some(first) => format!("{first}; then {message}"),
        });
    }

    /// The log's file is under its final name, `path`.
    pub(super) fn set_placed(&self, path: PathBuf) {
        *self.placed.lock().unwrap_or_else(PoisonError::into_inner) = Some(path);
    }

    /// The log's file under its final name, once it is there.
    pub(super) fn placed(&self) -> Option<PathBuf> {
        self.placed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The writer has ended: wake whoever waits in `wait_done`.
    pub(super) fn mark_done(&self) {
        // No offer may be accepted once nobody drains the queue (also after a writer panic).
        self.close();
        *self.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.done_changed.notify_all();
    }

    /// Wait until the writer has ended, at most `wait`; whether it has.
    pub(super) fn wait_done(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        while !*done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            done = self
                .done_changed
                .wait_timeout(done, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// The counts as they stand (final once the writer has ended).
    pub(super) fn stats(&self) -> JournalStats {
        let p = &self.progress.0;
        let r = &self.refusals.0;
        JournalStats {
            accepted: p.accepted.load(Ordering::Relaxed),
            written: p.written.load(Ordering::Relaxed),
            dropped: r.full.load(Ordering::Relaxed),
            disk_writes: p.disk_writes.load(Ordering::Relaxed),
            refused_after_finish: r.closed.load(Ordering::Relaxed),
            lost_after_error: p.lost_after_error.load(Ordering::Relaxed),
            error: self
                .error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Phase;

    fn record(i: u64) -> RequestRecord {
        RequestRecord {
            point: 0,
            run: 1,
            phase: Phase::Measure,
            start_offset_us: i,
            latency_us: i,
            ttfb_us: None,
            ttft_us: None,
            status: Some(200),
            failure: None,
            retry: 0,
            bytes: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            tokens_estimated: false,
        }
    }

    #[test]
    fn a_full_buffer_refuses_and_counts_until_drained() {
        let shared = Shared::new(4);
        let accepted = (0..10).filter(|i| shared.offer(record(*i))).count();
        assert_eq!(accepted, 4);
        assert_eq!(shared.stats().dropped, 6);
        let mut seen = Vec::new();
        assert_eq!(
            shared.drain(usize::MAX, |r| seen.push(r.start_offset_us)),
            4
        );
        assert_eq!(seen, [0, 1, 2, 3]);
        assert!(shared.offer(record(10)));
    }

    #[test]
    fn sealing_takes_every_record_and_refuses_all_later_offers() {
        let shared = Shared::new(8);
        for i in 0..5 {
            assert!(shared.offer(record(i)));
        }
        shared.close();
        let mut seen = Vec::new();
        shared.seal(|r| seen.push(r.start_offset_us));
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        assert!(!shared.offer(record(5)));
        let stats = shared.stats();
        assert_eq!((stats.dropped, stats.refused_after_finish), (0, 1));
        // The queue stays sealed: full of markers only.
        assert!(shared.queue.is_full());
        while let Some(slot) = shared.queue.pop() {
            assert!(matches!(slot, Slot::Sealed));
        }
    }

    #[test]
    fn offers_racing_the_seal_are_either_taken_or_refused() {
        // Producers ignore the flag here (as if each had read it just before it rose) so that
        // their pushes really race the seal; every push that succeeded must be taken.
        let shared = std::sync::Arc::new(Shared::new(16));
        shared.close();
        let producers: Vec<_> = (0..3)
            .map(|t| {
                let shared = std::sync::Arc::clone(&shared);
                std::thread::spawn(move || {
                    let mut pushed = 0u64;
                    for i in 0..20_000 {
                        if shared
                            .queue
                            .push(Slot::Record(record(t * 100_000 + i)))
                            .is_ok()
                        {
                            pushed += 1;
                        }
                    }
                    pushed
                })
            })
            .collect();
        let mut taken = 0u64;
        shared.seal(|_| taken += 1);
        let pushed: u64 = producers.into_iter().map(|p| p.join().unwrap()).sum();
        // Pushes after the seal fail; the ones that landed before it ended were taken.
        assert_eq!(taken, pushed);
        assert!(shared.queue.push(Slot::Sealed).is_err());
    }

    #[test]
    fn waiting_for_the_writer_ends_when_it_is_done() {
        let shared = Shared::new(1);
        assert!(!shared.wait_done(Duration::ZERO));
        shared.mark_done();
        assert!(shared.wait_done(Duration::ZERO));
        assert!(!shared.offer(record(0)), "no one drains a finished journal");
    }
}
