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
    listeners: Mutex<Vec<Weak<AtomicWaker>>>,
    /// The signal that raised the stop, if one did.
    signal: OnceLock<Signal>,
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
        for waker in listeners.iter().filter_map(Weak::upgrade) {
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
        // Listeners of finished phases are gone: do not let the list grow with the run.
        listeners.retain(|w| w.strong_count() > 0);
        listeners.push(Arc::downgrade(&waker));
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
