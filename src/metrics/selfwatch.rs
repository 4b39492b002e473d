//! The client watching itself during a measure phase: CPU seconds (getrusage), peak RSS
//! (the kernel's high-water mark, reset at the phase start), how busy each runtime thread was,
//! and runtime lag — how long a task handed to the runtime waits before it first runs — from
//! which the "client-bound" judgement follows.
//!
//! Lag is probed from a plain thread: every 10 ms it spawns a tiny task and times how long
//! the runtime takes to poll it. A tokio timer would not do: the timer wheel rounds every
//! deadline up to the next millisecond, so an idle runtime would already look 0–1 ms late.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::summary::ClientStats;

/// Lag p99 above this means the runtime could not keep up: the client is the bottleneck.
const LAG_BOUND: Duration = Duration::from_millis(5);
/// A runtime thread busy for more than this share of the phase is saturated.
const BUSY_BOUND: f64 = 0.9;
/// Time between lag probes: 100 a second is plenty for a p99, and each probe wakes the probe
/// thread and the runtime, on the core that may be pacing an open loop (at 1 ms, about one
/// context switch in five of an open loop at 5,000 req/s was the probe's).
const PROBE_EVERY: Duration = Duration::from_millis(10);
/// Largest lag recorded, µs (longer stalls are clamped).
const MAX_LAG_US: u64 = 60_000_000;

/// A running watch over the client process; start it at the measure phase's start, from
/// inside the runtime that drives the load.
#[derive(Debug)]
pub struct SelfWatch {
    runtime: Handle,
    busy_at_start: Vec<Duration>,
    started: Instant,
    cpu_at_start: f64,
    stop: Arc<AtomicBool>,
    lag: oneshot::Receiver<Histogram<u32>>,
}

impl SelfWatch {
    /// Start watching: takes CPU and busy-time snapshots, resets the peak-RSS mark, and
    /// starts the lag probe thread against the current tokio runtime.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start() -> Self {
        reset_peak_rss();
        let runtime = Handle::current();
        let stop = Arc::new(AtomicBool::new(false));
        let (done, lag) = oneshot::channel();
        let probe_runtime = runtime.clone();
        let probe_stop = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("lag-probe".into())
            .spawn(move || {
                let _ = done.send(probe(&probe_runtime, &probe_stop));
            });
        if spawned.is_err() {
            // No thread, no lag figure: `finish` reports zeros rather than failing the run.
            stop.store(true, Ordering::Relaxed);
        }
        Self {
            busy_at_start: busy_times(&runtime),
            runtime,
            started: Instant::now(),
            cpu_at_start: cpu_seconds(),
            stop,
            lag,
        }
    }

    /// Stop watching and report.
    pub async fn finish(self) -> ClientStats {
        let wall = self.started.elapsed();
        let cpu_secs = (cpu_seconds() - self.cpu_at_start).max(0.0);
        let busiest = busy_times(&self.runtime)
            .iter()
            .zip(&self.busy_at_start)
            .map(|(now, then)| now.saturating_sub(*then).as_secs_f64())
            .fold(0.0, f64::max);
        self.stop.store(true, Ordering::Relaxed);
        let lag = self.lag.await.ok();
        let (lag_p99_us, lag_max_us) = lag
            .filter(|h| !h.is_empty())
            .map_or((0, 0), |h| (h.value_at_quantile(0.99), h.max()));
        let wall = wall.as_secs_f64();
        let share = |x: f64| if wall > 0.0 { x / wall } else { 0.0 };
        let busiest_thread_share = share(busiest).min(1.0);
        ClientStats {
            peak_rss_bytes: peak_rss_bytes(),
            cpu_secs,
            cpu_utilization: share(cpu_secs),
            busiest_thread_share,
            lag_p99_us,
            lag_max_us,
            client_bound: judge(busiest_thread_share, lag_p99_us),
        }
    }
}

/// Probe `runtime` every `PROBE_EVERY` until `stop`: the time from spawning a task to its first
/// poll, µs.
fn probe(runtime: &Handle, stop: &AtomicBool) -> Histogram<u32> {
    let mut lag = Histogram::<u32>::new_with_bounds(1, MAX_LAG_US, 2).expect("valid bounds");
    let (tx, rx) = sync_channel::<Duration>(1);
    'probing: while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(PROBE_EVERY);
        let sent = Instant::now();
        let tx = tx.clone();
        runtime.spawn(async move {
            let _ = tx.try_send(sent.elapsed());
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(late) => {
                    lag.saturating_record((late.as_micros() as u64).clamp(1, MAX_LAG_US));
                    break;
                }
                // Still waiting: the runtime is that late. Keep waiting unless told to stop.
                Err(RecvTimeoutError::Timeout) if !stop.load(Ordering::Relaxed) => {}
                Err(_) => break 'probing,
            }
        }
    }
    lag
}

/// Each runtime worker thread's busy time so far.
fn busy_times(runtime: &Handle) -> Vec<Duration> {
    let metrics = runtime.metrics();
    (0..metrics.num_workers())
        .map(|w| metrics.worker_total_busy_duration(w))
        .collect()
}

/// Whether the client limited the run: a runtime thread near fully busy, or the runtime late.
fn judge(busiest_thread_share: f64, lag_p99_us: u64) -> bool {
    busiest_thread_share >= BUSY_BOUND || lag_p99_us > LAG_BOUND.as_micros() as u64
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
        assert!(!judge(0.5, 100));
        assert!(judge(0.95, 100));
        assert!(judge(0.1, 6_000));
    }

    #[tokio::test]
    async fn a_watch_reports_memory_and_cpu() {
        const HELD: usize = 32 << 20;
        const BURNT: f64 = 0.05;
        let watch = SelfWatch::start();
        // Hold 32 MiB, touched, while the watch runs: its peak covers them at least.
        let held = std::hint::black_box(vec![1u8; HELD]);
        // Burn 50 ms of CPU as getrusage counts it (the count bounds the loop if it never does).
        let start = cpu_seconds();
        let mut x = 0u64;
        for i in 0..u64::MAX {
            x = x.wrapping_add(i.wrapping_mul(i));
            if i % 100_000 == 0 && (cpu_seconds() - start >= BURNT || i > 1_000_000_000) {
                break;
            }
        }
        std::hint::black_box(x);
        let stats = watch.finish().await;
        drop(held);
        assert!(
            stats.peak_rss_bytes >= HELD as u64,
            "peak RSS {} while holding {HELD} bytes",
            stats.peak_rss_bytes
        );
        assert!(stats.cpu_secs >= BURNT, "{} CPU seconds", stats.cpu_secs);
        assert!(stats.cpu_utilization > 0.0);
        assert!((0.0..=1.0).contains(&stats.busiest_thread_share));
    }
}
