//! Waiting until a request's intended start. tokio's timer rounds every deadline up to its
//! next millisecond, which would make a request 0.5 ms late on average at any rate. A timerfd
//! armed for the exact instant and watched by the runtime's reactor wakes the dispatcher
//! within microseconds, without a thread of its own. On a paused tokio clock (tests) the wait
//! is tokio's, whose virtual time moves exactly to the deadline.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

/// How a run waits for intended starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pacing {
    /// A timerfd: microsecond precision on the real clock.
    Precise,
    /// tokio's timer: what a paused clock (tests) moves exactly, and the fallback when the
    /// dispatcher cannot have a thread and timer of its own.
    Tokio,
}

/// A timer for one phase's intended starts.
pub(super) enum Timer {
    /// Armed per wait; read when it fires.
    Fd(AsyncFd<OwnedFd>),
    /// tokio's sleep.
    Tokio,
}

impl Timer {
    /// A timer for `pacing`; tokio's when a timerfd cannot be had.
    pub(super) fn new(pacing: Pacing) -> Self {
        match pacing {
            Pacing::Precise => timerfd().map_or(Self::Tokio, Self::Fd),
            Pacing::Tokio => Self::Tokio,
        }
    }

    /// Return at `at` (at once when it has passed).
    pub(super) async fn sleep_until(&mut self, at: Instant) {
        let now = Instant::now();
        if at <= now {
            return;
        }
        let fd = match self {
            Self::Tokio => return tokio::time::sleep_until(at).await,
            Self::Fd(fd) => fd,
        };
        if arm(fd.get_ref(), at - now).is_err() {
            return tokio::time::sleep_until(at).await;
        }
        loop {
            let Ok(mut ready) = fd.readable().await else {
                return tokio::time::sleep_until(at).await;
            };
            match ready.try_io(|fd| expire(fd.get_ref())) {
                Ok(Ok(())) => return,
                // Not this fd's expiry after all: readiness was cleared, wait again.
                Err(_would_block) => {}
                Ok(Err(_)) => return tokio::time::sleep_until(at).await,
            }
        }
    }
}

/// A non-blocking monotonic timerfd, registered with the current runtime's reactor; `None`
/// when the system gives none.
fn timerfd() -> Option<AsyncFd<OwnedFd>> {
    // SAFETY: timerfd_create takes plain flags and returns a new descriptor or -1.
    let fd = unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just created and is owned by nothing else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: an `OwnedFd` keeps its descriptor open, the same one, until it is dropped with
    // the `AsyncFd`.
    unsafe { AsyncFd::register_with_interest(owned, Interest::READABLE) }.ok()
}

/// Arm `fd` to fire once, `after` from now.
fn arm(fd: &OwnedFd, after: std::time::Duration) -> io::Result<()> {
    let spec = libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: libc::timespec {
            tv_sec: after.as_secs().try_into().unwrap_or(libc::time_t::MAX),
            // Below 10^9: fits every `c_long`.
            tv_nsec: after.subsec_nanos() as libc::c_long,
        },
    };
    // SAFETY: `fd` is a timerfd we own; `spec` is a valid itimerspec; no old value is asked.
    let done = unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
    if done < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Read the expiry count of `fd`; `WouldBlock` when it has not fired.
fn expire(fd: &OwnedFd) -> io::Result<()> {
    let mut count = [0u8; 8];
    // SAFETY: reads at most 8 bytes into an 8-byte buffer from a descriptor we own.
    let n = unsafe { libc::read(fd.as_raw_fd(), count.as_mut_ptr().cast(), count.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_timerfd_wait_ends_at_its_deadline_not_before() {
        let mut timer = Timer::new(Pacing::Precise);
        assert!(
            matches!(timer, Timer::Fd(_)),
            "timerfd is available on Linux"
        );
        for us in [300, 1_500, 50] {
            let at = Instant::now() + Duration::from_micros(us);
            timer.sleep_until(at).await;
            assert!(Instant::now() >= at);
        }
        // A deadline already past returns at once, and the next wait still works.
        timer.sleep_until(Instant::now()).await;
        let at = Instant::now() + Duration::from_micros(200);
        timer.sleep_until(at).await;
        assert!(Instant::now() >= at);
    }
}
