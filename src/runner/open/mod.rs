//! The open loop: requests sent at their intended starts, from a schedule of arrivals, by a
//! pool of workers that grows with the load up to the in-flight cap.
//!
//! - `dispatch`: one dispatcher per phase, on a thread of its own, walks the schedule, waits
//!   for each request's intended start, and hands it to an idle worker — a new one while the pool is below the cap; at the
//!   cap, the request waits until a worker is free (the schedule itself is the queue: nothing
//!   is buffered) and its queue time is measured.
//! - `board`: the lock-free hand-off between the dispatcher and the workers: one seat per
//!   worker (an atomic and a waker) and a bounded queue of idle workers.
//! - `timer`: waits to the microsecond (a timerfd in the dispatcher's runtime's reactor),
//!   where tokio's timer would round every start up to its next millisecond.
//!
//! The request itself — attempts, retries, recording — is the closed loop's (`worker`).

mod board;
mod dispatch;
mod timer;

pub(crate) use dispatch::{OpenPhase, OpenRun};
pub(crate) use timer::Pacing;

#[cfg(test)]
mod tests;
