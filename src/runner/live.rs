//! Live figures for the progress bar: request and error counters and a coarse latency
//! histogram (8 buckets per power of two, ~9% wide). Each runtime thread owns a
//! cache-line-aligned slot only it writes (`PerThread`), so the request path touches no line
//! another core writes; the ticker sums the slots. A slot is about 2.7 KB: two or so per
//! point, whatever its concurrency. The exact figures come from the HDR recorders after the
//! phase. The open loop's dispatcher also counts here the requests it handed out.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::metrics::PerThread;

/// Buckets: 8 per octave over 2^0..2^40 µs.
const BUCKETS: usize = 8 * 41;

/// One thread's counters.
#[derive(Debug)]
#[repr(align(128))]
struct Slot {
    requests: AtomicU64,
    errors: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// Single-writer increment: a plain load and store, no locked read-modify-write.
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// Counters written by the workers of one point and read by the progress ticker.
#[derive(Debug, Default)]
pub(crate) struct Live {
    /// One slot per runtime thread that recorded a request.
    slots: PerThread<Slot>,
    /// Requests an open loop's dispatcher handed to workers (written by it alone).
    sent: AtomicU64,
}

fn bucket(us: u64) -> usize {
    let us = us.max(1);
    let octave = 63 - us.leading_zeros() as usize;
    let sub = if octave >= 3 {
        (us >> (octave - 3)) & 7
    } else {
        (us << (3 - octave)) & 7
    };
    (octave * 8 + sub as usize).min(BUCKETS - 1)
}

fn bucket_upper_us(index: usize) -> u64 {
    let (octave, sub) = (index / 8, index % 8);
    ((8 + sub as u64 + 1) << octave) >> 3
}

impl Live {
    /// No counts yet.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn made(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter()
    }

    /// Count a request the open loop's dispatcher handed out (it alone writes this).
    pub(crate) fn sent(&self) {
        bump(&self.sent);
    }

    /// Requests handed out by an open loop's dispatcher so far.
    pub(crate) fn sent_count(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Count a finished request (in the calling thread's slot, which only it writes).
    pub(crate) fn record(&self, latency_us: u64, failed: bool) {
        let slot = self.slots.get_or(Slot::default);
        bump(&slot.requests);
        if failed {
            bump(&slot.errors);
        } else {
            bump(&slot.buckets[bucket(latency_us)]);
        }
    }

    /// Requests and errors so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        self.made().fold((0, 0), |(r, e), s| {
            (
                r + s.requests.load(Ordering::Relaxed),
                e + s.errors.load(Ordering::Relaxed),
            )
        })
    }

    /// Approximate latency at `quantile` of successful requests, µs (the top of its bucket);
    /// `None` before any request succeeded.
    pub(crate) fn quantile_us(&self, quantile: f64) -> Option<u64> {
        let mut counts = [0u64; BUCKETS];
        for slot in self.made() {
            for (n, b) in counts.iter_mut().zip(&slot.buckets) {
                *n += b.load(Ordering::Relaxed);
            }
        }
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * quantile).ceil().max(1.0) as u64;
        let mut seen = 0;
        counts.iter().enumerate().find_map(|(i, n)| {
            seen += n;
            (seen >= rank).then(|| bucket_upper_us(i))
        })
    }

    /// Start over for the next phase (called while no worker runs).
    pub(crate) fn reset(&self) {
        self.sent.store(0, Ordering::Relaxed);
        for slot in self.made() {
            slot.requests.store(0, Ordering::Relaxed);
            slot.errors.store(0, Ordering::Relaxed);
            for b in &slot.buckets {
                b.store(0, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_quantiles_are_within_a_bucket() {
        let live = Live::new();
        live.record(5, true);
        assert_eq!(live.quantile_us(0.99), None, "failures have no latency");
        live.reset();
        for us in 1..=1000 {
            live.record(us, false);
        }
        live.record(5, true);
        assert_eq!(live.counts(), (1001, 1));
        let p99 = live.quantile_us(0.99).unwrap();
        assert!((990..=1100).contains(&p99), "{p99}");
        let p50 = live.quantile_us(0.5).unwrap();
        assert!((500..=550).contains(&p50), "{p50}");
    }

    #[test]
    fn threads_count_apart_and_the_ticker_sums_them() {
        let live = std::sync::Arc::new(Live::new());
        let threads: Vec<_> = [10u64, 1_000]
            .into_iter()
            .map(|us| {
                let live = std::sync::Arc::clone(&live);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        live.record(us, false);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        live.sent();
        assert_eq!(live.slots.iter().count(), 2, "one slot per thread");
        assert_eq!((live.counts(), live.sent_count()), ((200, 0), 1));
        assert!(live.quantile_us(0.25).unwrap() < 20);
        assert!(live.quantile_us(0.75).unwrap() >= 1_000);
        live.reset();
        assert_eq!((live.counts(), live.sent_count()), ((0, 0), 0));
    }
}
