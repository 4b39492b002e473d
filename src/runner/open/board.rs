//! The hand-off between the open loop's dispatcher and its workers, with no lock and no
//! allocation per request: each worker has a seat holding the request assigned to it (its
//! intended start and queue time, in atomics) and a waker; a worker done with a request puts
//! its number in the bounded queue of idle workers (room for the whole pool, made once), and
//! the dispatcher takes the first idle worker from it for the next request. A run's phases share
//! one board: each request carries its phase.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use atomic_waker::AtomicWaker;
use crossbeam_queue::ArrayQueue;

use crate::metrics::Phase;

/// No request assigned.
const EMPTY: u64 = u64::MAX;

/// A request handed to a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Job {
    /// Intended start, from the phase's start.
    pub(super) due: Duration,
    /// How long it waited for a free worker past its intended start.
    pub(super) queue: Duration,
    /// The phase it belongs to: a worker may end a warmup request after the measure phase's
    /// first requests went out.
    pub(super) phase: Phase,
}

/// One worker's seat. Aligned to its own cache lines: the dispatcher and that worker are the
/// only ones to touch it.
#[derive(Debug)]
#[repr(align(128))]
pub(super) struct Seat {
    /// Intended start of the assigned request, ns from the phase's start; `EMPTY` for none.
    due_ns: AtomicU64,
    /// Its queue time, ns.
    queue_ns: AtomicU64,
    /// Its phase: 0 warmup, 1 measure.
    phase: AtomicU8,
    /// The worker waiting for a request.
    waker: AtomicWaker,
}

impl Seat {
    pub(super) fn new() -> Self {
        Self {
            due_ns: AtomicU64::new(EMPTY),
            queue_ns: AtomicU64::new(0),
            phase: AtomicU8::new(0),
            waker: AtomicWaker::new(),
        }
    }
}

/// What the dispatcher and the workers of one run share.
#[derive(Debug)]
pub(super) struct Board {
    /// Numbers of the workers waiting for a request, first come first served.
    idle: ArrayQueue<u32>,
    /// The dispatcher, when it waits for an idle worker.
    dispatcher: AtomicWaker,
    /// The phase sends no more requests: idle workers leave.
    closed: AtomicBool,
}

impl Board {
    /// A board for a pool of at most `workers`.
    pub(super) fn new(workers: usize) -> Self {
        Self {
            idle: ArrayQueue::new(workers.max(1)),
            dispatcher: AtomicWaker::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// Worker `worker` is free for a request.
    pub(super) fn idle(&self, worker: u32) {
        // The queue has room for every worker of the pool, and a worker is in it at most once
        // (it leaves it only to be handed a request), so this cannot fail.
        let _ = self.idle.push(worker);
        self.dispatcher.wake();
    }

    /// Workers waiting for a request right now.
    pub(super) fn idle_count(&self) -> usize {
        self.idle.len()
    }

    /// An idle worker, if one waits.
    pub(super) fn try_idle(&self) -> Option<u32> {
        self.idle.pop()
    }

    /// The next idle worker, waiting for one.
    pub(super) async fn next_idle(&self) -> u32 {
        poll_fn(|cx| {
            if let Some(w) = self.idle.pop() {
                return Poll::Ready(w);
            }
            self.dispatcher.register(cx.waker());
            // Checked again after registering: a worker that went idle in between woke no one.
            match self.idle.pop() {
                Some(w) => Poll::Ready(w),
                None => Poll::Pending,
            }
        })
        .await
    }

    /// Hand `job` to the worker of `seat` (idle, or not started yet).
    pub(super) fn assign(&self, seat: &Seat, job: Job) {
        seat.queue_ns.store(nanos(job.queue), Ordering::Relaxed);
        let phase = match job.phase {
            Phase::Warmup => 0,
            Phase::Measure => 1,
        };
        seat.phase.store(phase, Ordering::Relaxed);
        seat.due_ns.store(nanos(job.due), Ordering::Release);
        seat.waker.wake();
    }

    /// No more requests in this run: every worker leaves once done with the one it has.
    pub(super) fn close<'s>(&self, seats: impl Iterator<Item = &'s Seat>) {
        self.closed.store(true, Ordering::SeqCst);
        for seat in seats {
            seat.waker.wake();
        }
    }

    /// The request assigned to `seat`, waiting for one; `None` once the board is closed (the run is over).
    pub(super) async fn wait(&self, seat: &Seat) -> Option<Job> {
        poll_fn(|cx| {
            if let Some(job) = self.take(seat) {
                return Poll::Ready(Some(job));
            }
            if self.closed.load(Ordering::SeqCst) {
                return Poll::Ready(None);
            }
            seat.waker.register(cx.waker());
            if let Some(job) = self.take(seat) {
                return Poll::Ready(Some(job));
            }
            if self.closed.load(Ordering::SeqCst) {
                Poll::Ready(None)
            } else {
                Poll::Pending
            }
        })
        .await
    }

    fn take(&self, seat: &Seat) -> Option<Job> {
        let due = seat.due_ns.swap(EMPTY, Ordering::Acquire);
        (due != EMPTY).then(|| Job {
            due: Duration::from_nanos(due),
            queue: Duration::from_nanos(seat.queue_ns.load(Ordering::Relaxed)),
            phase: match seat.phase.load(Ordering::Relaxed) {
                0 => Phase::Warmup,
                _ => Phase::Measure,
            },
        })
    }
}

/// `d` in whole nanoseconds (584 years fit).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(EMPTY - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_reaches_its_worker_and_a_closed_board_sends_it_away() {
        let board = std::sync::Arc::new(Board::new(2));
        let seat = std::sync::Arc::new(Seat::new());
        let worker = tokio::spawn({
            let (board, seat) = (board.clone(), seat.clone());
            async move {
                let mut jobs = Vec::new();
                board.idle(0);
                while let Some(job) = board.wait(&seat).await {
                    jobs.push(job);
                    board.idle(0);
                }
                jobs
            }
        });
        for ms in [1, 2, 3] {
            assert_eq!(board.next_idle().await, 0);
            let job = Job {
                due: Duration::from_millis(ms),
                queue: Duration::from_micros(ms),
                phase: if ms == 1 {
                    Phase::Warmup
                } else {
                    Phase::Measure
                },
            };
            board.assign(&seat, job);
        }
        assert_eq!(board.next_idle().await, 0);
        board.close(std::iter::once(&*seat));
        let jobs = worker.await.unwrap();
        assert_eq!(
            jobs.iter().map(|j| j.due.as_millis()).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(jobs[2].queue, Duration::from_micros(3));
        let phases: Vec<_> = jobs.iter().map(|j| j.phase).collect();
        assert_eq!(phases, [Phase::Warmup, Phase::Measure, Phase::Measure]);
        assert_eq!(board.try_idle(), None);
    }
}
