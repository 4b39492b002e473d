//! Precise waits for the mock: stream chunks and the fixed latency. tokio's timer rounds every
//! deadline up to its 1 ms wheel, which alone puts a 5 ms chunk interval at 5–6 ms and a 20 ms
//! latency at 21; this pacer is one thread that sleeps on a condition variable until the
//! earliest deadline (tens of microseconds late, not a whole millisecond) and then wakes the
//! tasks waiting for it.
//!
//! The thread asks for a short time slice (`short_slice`), so that its wake-ups preempt the
//! runtime thread rather than wait for its slice to end. A thread of its own rather than a task
//! on the runtime woken by a timerfd: a busy runtime looks at its timers only between batches
//! of tasks, and that pacer came out worse at 1,000 streams (TTFT error p99 1.2–6.6 ms against
//! 1.2–3.3, five alternating rounds of `benches/streams.sh`).
//!
//! It wakes at most once every `BATCH`: at thousands of streams a chunk is due every few
//! microseconds, and a wake-up of this thread per chunk, each preempting the runtime on the
//! same core, cost more than the chunks. Each wake-up serves every deadline that has come.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::lateness::Lateness;

/// Shortest sleep of the pacing thread under load: a deadline is served at most this late
/// when others are due close before it. At 1,000 streams a wake-up per 50 µs still took a
/// quarter of the mock's core and preempted its runtime thread 7,000 times a second (TTFT
/// error p99 +8.8 ms at the client); per 200 µs, +3.7 ms and p50 +0.45 ms (`benches/streams.sh`).
/// Sparse deadlines are served on time: the thread sleeps until the next one.
const BATCH: Duration = Duration::from_micros(200);

/// One waiting task: its deadline, an order for equal deadlines, and its wake-up.
struct Entry {
    due: Instant,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

#[derive(Default)]
struct State {
    queue: BinaryHeap<Reverse<Entry>>,
    next_seq: u64,
    stopped: bool,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    changed: Condvar,
}

/// The pacing thread's handle; the thread ends when the pacer is dropped.
pub(crate) struct Pacer {
    inner: Arc<Inner>,
    /// How late what it paced came, for `GET /mock/stats`.
    lateness: Lateness,
}

impl Pacer {
    /// Start the pacing thread.
    pub(crate) fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Inner::default());
        let thread_inner = Arc::clone(&inner);
        std::thread::Builder::new()
            .name("mock-pacer".into())
            .spawn(move || {
                // Linux lets a timed sleep end up to the thread's timer slack (50 µs by
                // default) late, to batch wake-ups; this thread's whole point is precision.
                // SAFETY: prctl with integer arguments only; it affects this thread alone.
                unsafe {
                    libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
                }
                short_slice();
                run(&thread_inner)
            })?;
        Ok(Self {
            inner,
            lateness: Lateness::default(),
        })
    }

    /// How late what it paced came.
    pub(crate) fn lateness(&self) -> &Lateness {
        &self.lateness
    }

    /// Resolve at `due` (or at once if it has passed).
    pub(crate) async fn sleep_until(&self, due: Instant) {
        if let Some(woken) = self.wake_at(due) {
            let _ = woken.await;
        }
    }

    /// A wake-up at `due`, or `None` when `due` has passed. The receiver also resolves (with
    /// an error) when the pacer stops.
    pub(crate) fn wake_at(&self, due: Instant) -> Option<oneshot::Receiver<()>> {
        if due <= Instant::now() {
            return None;
        }
        let (wake, woken) = oneshot::channel();
        let earliest = {
            let Ok(mut state) = self.inner.state.lock() else {
                return None;
            };
            let seq = state.next_seq;
            state.next_seq += 1;
            state.queue.push(Reverse(Entry { due, seq, wake }));
            state.queue.peek().is_some_and(|Reverse(e)| e.seq == seq)
        };
        // The thread sleeps until the earliest deadline; only a new earliest one changes that,
        // so other pushes need no wake-up (a futex call each, at every chunk of every stream).
        if earliest {
            self.inner.changed.notify_one();
        }
        Some(woken)
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        if let Ok(mut state) = self.inner.state.lock() {
            state.stopped = true;
        }
        self.inner.changed.notify_one();
    }
}

/// `struct sched_attr` of `sched_setattr(2)`, its first version (56 bytes).
#[repr(C)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    /// For `SCHED_OTHER`: the time slice asked for, ns.
    runtime: u64,
    deadline: u64,
    period: u64,
}

/// Ask the scheduler for a 100 µs time slice for this thread (Linux 6.12 and later; earlier
/// kernels keep the default). The mock's runtime thread on the same core runs for whole slices
/// (1.4 ms here): a woken pacer with the same slice can wait for the end of the runtime's, and
/// every chunk due then with it; a task with a shorter slice preempts at once. Needs no
/// privilege: it is a request within `SCHED_OTHER`, not a priority. At 1,000 streams the TTFT
/// error p99 fell from 1.7–4.4 ms to 1.3–2.8 ms over three alternating rounds
/// (`benches/streams.sh`, 20 s each).
fn short_slice() {
    // The call sets the nice value too: keep the thread's own (a mock started with `nice`).
    // SAFETY: getpriority takes plain integers; on Linux `PRIO_PROCESS, 0` is this thread.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: libc::SCHED_OTHER as u32,
        flags: 0,
        nice,
        priority: 0,
        runtime: 100_000,
        deadline: 0,
        period: 0,
    };
    // SAFETY: sched_setattr reads `attr.size` bytes from a live, initialized struct of that
    // size; pid 0 is this thread. A failure (an older kernel) changes nothing.
    unsafe {
        libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0);
    }
}

fn run(inner: &Inner) {
    let Ok(mut state) = inner.state.lock() else {
        return;
    };
    loop {
        if state.stopped {
            return;
        }
        let now = Instant::now();
        while state.queue.peek().is_some_and(|Reverse(e)| e.due <= now) {
            if let Some(Reverse(entry)) = state.queue.pop() {
                let _ = entry.wake.send(());
            }
        }
        let next = state.queue.peek().map(|Reverse(e)| e.due);
        state = match next {
            None => match inner.changed.wait(state) {
                Ok(s) => s,
                Err(_) => return,
            },
            Some(due) => match inner
                .changed
                .wait_timeout(state, due.saturating_duration_since(now).max(BATCH))
            {
                Ok((s, _)) => s,
                Err(_) => return,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_in_deadline_order_and_not_before() {
        let pacer = Arc::new(Pacer::start().unwrap());
        let start = Instant::now();
        let order = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = [3u64, 1, 2]
            .into_iter()
            .map(|ms| {
                let (pacer, order) = (Arc::clone(&pacer), Arc::clone(&order));
                tokio::spawn(async move {
                    let due = start + std::time::Duration::from_millis(ms);
                    pacer.sleep_until(due).await;
                    assert!(Instant::now() >= due);
                    order.lock().unwrap().push(ms);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [1, 2, 3]);
    }
}
