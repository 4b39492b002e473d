//! A stop signal: a flag to check, plus wake-ups for tasks waiting on it. The runner stops a
//! run with it and the mock server winds its connections down with it. The process signals
//! that raise it (SIGINT, SIGTERM, SIGHUP: first stops, second exits) are watched in
//! `signals`.
//!
//! Busy tasks — load workers, server connections — wait through a `StopListener` each:
//! registered once (the only lock), then polled on every wake-up of the task with two atomic
//! operations. A shared `Notify` would take its mutex on each of those polls, from every task.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::Poll;

use atomic_waker::AtomicWaker;
use tokio::sync::Notify;

mod signals;

pub use signals::{Signal, SignalWatch};

/// A cloneable stop signal.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    requested: AtomicBool,
    /// For `requested()`, off the request path.
    notify: Notify,
    /// The workers' listeners, woken by `request`.
    listeners: Mutex<Listeners>,
    /// The signal that raised the stop, if one did.
    signal: OnceLock<Signal>,
}

/// The listeners registered so far, some of them gone.
#[derive(Debug, Default)]
struct Listeners {
    list: Vec<Weak<AtomicWaker>>,
    /// The list's length at which the gone ones are dropped next.
    prune_at: usize,
}

/// The least `prune_at`: below it the list is not worth a pass.
const PRUNE_FLOOR: usize = 64;

impl Listeners {
    /// Add `waker`, dropping the listeners of finished phases when the list has doubled since
    /// the last pass: a pass on every addition made a point of 10,000 workers take 50 ms or
    /// more (holding the lock) each time its workers registered.
    fn add(&mut self, waker: Weak<AtomicWaker>) {
        if self.list.len() >= self.prune_at {
            self.list.retain(|w| w.strong_count() > 0);
            self.prune_at = (2 * self.list.len()).max(PRUNE_FLOOR);
        }
        self.list.push(waker);
    }
}

/// One worker's wait for a stop.
#[derive(Debug)]
pub(crate) struct StopListener {
    stop: Stop,
    waker: Arc<AtomicWaker>,
}

impl StopListener {
    /// Resolves once a stop is asked for; cheap to poll again and again.
    pub(crate) async fn stopped(&self) {
        poll_fn(|cx| {
            if self.stop.is_requested() {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            // Checked again after registering: a stop raised in between woke no one.
            if self.stop.is_requested() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
}

impl Stop {
    /// A signal nobody has raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the run to stop: the current point ends cleanly and no other starts.
    pub fn request(&self) {
        self.inner.requested.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
        let listeners = match self.inner.listeners.lock() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        for waker in listeners.list.iter().filter_map(Weak::upgrade) {
            waker.wake();
        }
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    /// A listener for one worker.
    pub(crate) fn listener(&self) -> StopListener {
        let waker = Arc::new(AtomicWaker::new());
        let mut listeners = match self.inner.listeners.lock() {
            Ok(l) => l,
            Err(poisoned) => poisoned.into_inner(),
        };
        listeners.add(Arc::downgrade(&waker));
        StopListener {
            stop: self.clone(),
            waker,
        }
    }

    /// Resolves once a stop is asked for.
    pub async fn requested(&self) {
        loop {
            // Created before the check: `notify_waiters` wakes futures that exist, polled or not.
            let notified = self.inner.notify.notified();
            if self.is_requested() {
                return;
            }
            notified.await;
        }
    }

    /// A signal raised by the first Ctrl-C; the second Ctrl-C exits the process at once. For
    /// library use on a runtime; `run` uses [`SignalWatch`], which outlives the runtime.
    pub fn on_ctrl_c() -> Self {
        let stop = Self::new();
        let raised = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            // The runner says what happens next, above its progress bars.
            raised.raise(Signal::Interrupt);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(Signal::Interrupt.exit_code().into());
            }
        });
        stop
    }

    /// Ask the run to stop because `signal` arrived; the first signal is the one kept.
    pub(crate) fn raise(&self, signal: Signal) {
        let _ = self.inner.signal.set(signal);
        self.request();
    }

    /// The signal that asked for the stop, if a signal did.
    pub fn signal(&self) -> Option<Signal> {
        self.inner.signal.get().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_of_listeners_stays_within_twice_the_live_ones() {
        let stop = Stop::new();
        let live: Vec<_> = (0..1_000).map(|_| stop.listener()).collect();
        for _ in 0..20_000 {
            drop(stop.listener());
            let len = stop.inner.listeners.lock().unwrap().list.len();
            assert!(
                len <= 2 * live.len() + 1,
                "{len} entries for 1,000 live listeners"
            );
        }
        drop(live);
        for _ in 0..5_000 {
            drop(stop.listener());
        }
        let len = stop.inner.listeners.lock().unwrap().list.len();
        assert!(len <= PRUNE_FLOOR, "{len} entries with none live");
    }

    #[tokio::test]
    async fn listeners_wake_on_a_stop_and_return_at_once_after_it() {
        let stop = Stop::new();
        let listener = stop.listener();
        let waiter = tokio::spawn(async move { listener.stopped().await });
        tokio::task::yield_now().await;
        stop.request();
        waiter.await.unwrap();
        stop.listener().stopped().await;
    }

    #[tokio::test]
    async fn waiters_wake_and_late_waiters_return_at_once() {
        let stop = Stop::new();
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.requested().await }
        });
        tokio::task::yield_now().await;
        stop.request();
        waiter.await.unwrap();
        stop.requested().await;
        assert!(stop.is_requested());
    }
}
