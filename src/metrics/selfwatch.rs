//! The client watching itself during a measure phase: CPU seconds (getrusage), peak RSS
//! (the kernel's high-water mark, reset at the phase start), and runtime lag — how late a
//! 1 ms ticker wakes — from which the "client-bound" judgement follows.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::summary::ClientStats;

/// Lag p99 above this means the runtime could not keep up: the client is the bottleneck.
const LAG_BOUND: Duration = Duration::from_millis(5);
/// CPU use per runtime thread above this share of a core means the client is saturated.
const CPU_BOUND: f64 = 0.9;
/// Ticker period.
const TICK: Duration = Duration::from_millis(1);

/// A running watch over the client process; start it at the measure phase's start.
#[derive(Debug)]
pub struct SelfWatch {
    runtime_threads: usize,
    started: Instant,
    cpu_at_start: f64,
    stop: oneshot::Sender<()>,
    ticker: JoinHandle<Histogram<u32>>,
}

impl SelfWatch {
    /// Start watching: takes a CPU snapshot, resets the peak-RSS mark, and spawns the 1 ms lag
    /// ticker on the current tokio runtime. `runtime_threads` is the runtime's worker thread
    /// count (for the client-bound judgement).
    pub fn start(runtime_threads: usize) -> Self {
        reset_peak_rss();
        let (stop, mut stopped) = oneshot::channel();
        let ticker = tokio::spawn(async move {
            let mut lag =
                Histogram::<u32>::new_with_bounds(1, 60_000_000, 2).expect("valid bounds");
            loop {
                let due = tokio::time::Instant::now() + TICK;
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => {
                        let late = tokio::time::Instant::now().saturating_duration_since(due);
                        lag.saturating_record((late.as_micros() as u64).clamp(1, 60_000_000));
                    }
                    _ = &mut stopped => return lag,
                }
            }
        });
        Self {
            runtime_threads: runtime_threads.max(1),
            started: Instant::now(),
            cpu_at_start: cpu_seconds(),
            stop,
            ticker,
        }
    }

    /// Stop watching and report.
    pub async fn finish(self) -> ClientStats {
        let wall = self.started.elapsed().as_secs_f64();
        let cpu_secs = (cpu_seconds() - self.cpu_at_start).max(0.0);
        let _ = self.stop.send(());
        let lag = self.ticker.await.ok();
        let (lag_p99_us, lag_max_us) = lag.map_or((0, 0), |h| (h.value_at_quantile(0.99), h.max()));
        let cpu_utilization = if wall > 0.0 { cpu_secs / wall } else { 0.0 };
        ClientStats {
            peak_rss_bytes: peak_rss_bytes(),
            cpu_secs,
            cpu_utilization,
            lag_p99_us,
            lag_max_us,
            client_bound: judge(cpu_utilization, self.runtime_threads, lag_p99_us),
        }
    }
}

/// Whether the client limited the run: its threads near fully busy, or its runtime late.
fn judge(cpu_utilization: f64, runtime_threads: usize, lag_p99_us: u64) -> bool {
    cpu_utilization >= CPU_BOUND * runtime_threads as f64
        || lag_p99_us > LAG_BOUND.as_micros() as u64
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Reset the kernel's peak-RSS mark so the next reading covers this phase only (Linux;
/// elsewhere the reading covers the process's life).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set size, bytes: `VmHWM`, else `ru_maxrss`.
fn peak_rss_bytes() -> u64 {
    let from_status = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        });
    if let Some(kb) = from_status {
        return kb * 1024;
    }
    // SAFETY: as in `cpu_seconds`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    usage.ru_maxrss as u64 * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_bound_when_busy_or_late() {
        assert!(!judge(0.5, 2, 100));
        assert!(judge(1.9, 2, 100));
        assert!(judge(0.1, 2, 6_000));
    }

    #[tokio::test]
    async fn a_watch_reports_memory_and_cpu() {
        let watch = SelfWatch::start(1);
        let mut x = 0u64;
        for i in 0..100_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        let stats = watch.finish().await;
        assert!(stats.peak_rss_bytes > 0);
        assert!(stats.cpu_secs >= 0.0);
    }
}
