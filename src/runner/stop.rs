//! Stopping a run: a flag workers check between requests plus a notification that interrupts
//! in-flight attempts and retry waits. Ctrl-C sets it once; a second Ctrl-C exits at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// Exit code when a second Ctrl-C ends the process at once.
const EXIT_SECOND_INTERRUPT: i32 = 130;

/// A cloneable stop signal.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    requested: AtomicBool,
    notify: Notify,
}

impl Stop {
    /// A signal nobody has raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ask the run to stop: the current point ends cleanly and no other starts.
    pub fn request(&self) {
        self.inner.requested.store(true, Ordering::Relaxed);
        self.inner.notify.notify_waiters();
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::Relaxed)
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

    /// A signal raised by the first Ctrl-C; the second Ctrl-C exits the process at once.
    pub fn on_ctrl_c() -> Self {
        let stop = Self::new();
        let raised = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            // The runner says what happens next, above its progress bars.
            raised.request();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(EXIT_SECOND_INTERRUPT);
            }
        });
        stop
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
