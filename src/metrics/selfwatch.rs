//! The client watching itself: peak RSS, CPU seconds and runtime lag during a phase,
//! and the "client-bound" judgement.

use super::summary::ClientStats;

/// A running watch over the client process; start it at the measure phase's start.
#[derive(Debug)]
pub struct SelfWatch {}

impl SelfWatch {
    /// Start watching: takes a CPU snapshot and spawns the 1 ms lag ticker on the current
    /// tokio runtime. `runtime_threads` is the runtime's worker thread count (for the
    /// client-bound judgement).
    pub fn start(_runtime_threads: usize) -> Self {
        todo!("metrics helper")
    }

    /// Stop watching and report.
    pub async fn finish(self) -> ClientStats {
        todo!("metrics helper")
    }
}
