//! `cargo bench --bench recorder`: the naive synchronous usage tracker nitro-scenario replaces
//! (read, parse, update and rewrite a JSON file on every call, as the original `UsageTracker`
//! did) against the write-behind journal at its production buffer size
//! (`journal::CAPACITY`), in one run on one machine, in four scenarios: record latency, a
//! paced stream (stutter), maximum throughput over 5 s, and concurrent recording threads.
//!
//! For the journal, every scenario also checks that the records `record` accepted are the
//! lines in its CSV file and that disk writes are at least 100 times fewer than records. It
//! prints a summary with improvement factors from comparable quantities (per-call means,
//! per-chunk stalls, records per second) and pass/fail against the targets, saves everything
//! to `target/recorder-bench/results.json`, and exits non-zero when a record went missing.

mod log_check;
mod sync_tracker;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use log_check::{LogCheck, close_journal, open_journal};
use nitro_scenario::journal::{self, RequestRecord};
use nitro_scenario::metrics::Phase;
use serde_json::{Value, json};
use sync_tracker::{SYNC_SESSIONS_KEPT, SyncTracker};

const LATENCY_SYNC_CALLS: usize = 300;
const LATENCY_ASYNC_CALLS: usize = 200_000;
/// Journal calls are timed in bursts this long with a pause between, as workers record in
/// bursts at request completions; the pause lets the writer drain so nothing is refused.
const LATENCY_BURST: usize = 4_096;
const LATENCY_PAUSE: Duration = Duration::from_millis(20);
/// A stream of this many chunks, one usage record per chunk, paced like the mock's stream.
const STREAM_CHUNKS: u64 = 2_000;
const STREAM_INTERVAL: Duration = Duration::from_millis(1);
const THROUGHPUT_WINDOW: Duration = Duration::from_secs(5);
const CONC_THREADS: usize = 5;
const CONC_SYNC_CALLS: usize = 100;
/// Fits the buffer even if the writer never ran, so refusals cannot blur the contention figures.
const CONC_ASYNC_CALLS: usize = 5_000;

fn record(i: u64) -> RequestRecord {
    RequestRecord {
        point: 0,
        run: 1,
        phase: Phase::Measure,
        start_offset_us: i,
        latency_us: 1000 + i % 97,
        ttfb_us: Some(200),
        ttft_us: Some(300),
        status: Some(200),
        failure: None,
        retry: 0,
        bytes: 512,
        prompt_tokens: 12,
        completion_tokens: 1 + (i % 50) as u32,
        tokens_estimated: false,
    }
}

/// One scenario: its results and what its journal did.
type Scenario = fn(&Path) -> (Value, LogCheck);

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// Statistics of per-call timings, µs.
fn latency_stats(samples: &[f64]) -> Value {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    let m = mean(&s);
    let var = s.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    let at = |q: f64| s[((n - 1.0) * q).round() as usize];
    json!({
        "calls": s.len(), "mean_us": m, "median_us": at(0.5), "min_us": s[0], "max_us": max(&s),
        "p95_us": at(0.95), "p99_us": at(0.99), "p999_us": at(0.999), "std_dev_us": var.sqrt(),
    })
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

/// Scenario 1, record latency: per-call time of `record`.
fn latency(dir: &Path) -> (Value, LogCheck) {
    let sync = SyncTracker::new(dir.join("sync_latency.json"));
    let sync_us: Vec<f64> = (0..LATENCY_SYNC_CALLS as u64)
        .map(|i| {
            let t = Instant::now();
            sync.record(&record(i));
            micros(t.elapsed())
        })
        .collect();
    let (j, path) = open_journal(dir, "async_latency.csv");
    let sender = j.sender();
    let mut async_us = Vec::with_capacity(LATENCY_ASYNC_CALLS);
    let mut accepted = 0;
    for i in 0..LATENCY_ASYNC_CALLS as u64 {
        if i > 0 && i % LATENCY_BURST as u64 == 0 {
            std::thread::sleep(LATENCY_PAUSE);
        }
        let t = Instant::now();
        let ok = sender.record(record(i));
        async_us.push(micros(t.elapsed()));
        accepted += u64::from(ok);
    }
    let log = close_journal("latency", j, &path, LATENCY_ASYNC_CALLS as u64, accepted);
    let (s, a) = (latency_stats(&sync_us), latency_stats(&async_us));
    let factors = json!({
        "mean": f(&s, "mean_us") / f(&a, "mean_us"),
        "median": f(&s, "median_us") / f(&a, "median_us"),
        "p99": f(&s, "p99_us") / f(&a, "p99_us"),
    });
    let out = json!({"sync": s, "async": a, "async_log": log.json(), "improvement": factors});
    (out, log)
}

/// A stream of `chunks` chunks `interval` apart, calling `on_chunk` for each as it arrives:
/// the time each call takes is a stall of the stream. Returns the stalls (µs) and the total.
fn paced_stream(mut on_chunk: impl FnMut(u64)) -> (Vec<f64>, Duration) {
    let start = Instant::now();
    let mut stalls = Vec::with_capacity(STREAM_CHUNKS as usize);
    for i in 0..STREAM_CHUNKS {
        // Waiting for the next chunk, as a client waits on the network.
        let due = start + STREAM_INTERVAL * i as u32;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let t = Instant::now();
        on_chunk(i);
        stalls.push(micros(t.elapsed()));
    }
    (stalls, start.elapsed())
}

fn stream_json(stalls: &[f64], total: Duration) -> Value {
    let ideal = STREAM_INTERVAL * (STREAM_CHUNKS - 1) as u32;
    json!({
        "chunks": stalls.len(), "interval_ms": STREAM_INTERVAL.as_secs_f64() * 1e3,
        "total_ms": total.as_secs_f64() * 1e3, "paced_ms": ideal.as_secs_f64() * 1e3,
        "mean_per_chunk_ms": total.as_secs_f64() * 1e3 / stalls.len() as f64,
        "mean_stall_us": mean(stalls), "worst_stall_us": max(stalls),
        "stalls_over_10ms": stalls.iter().filter(|s| **s > 10_000.0).count(),
        "stalls_over_1ms": stalls.iter().filter(|s| **s > 1_000.0).count(),
    })
}

/// Scenario 2, streaming stutter: one usage record per chunk of a paced stream.
fn streaming(dir: &Path) -> (Value, LogCheck) {
    let sync = SyncTracker::new(dir.join("sync_stream.json"));
    let (sync_stalls, sync_total) = paced_stream(|i| sync.record(&record(i)));
    let (j, path) = open_journal(dir, "async_stream.csv");
    let sender = j.sender();
    let mut accepted = 0;
    let (async_stalls, async_total) = paced_stream(|i| {
        accepted += u64::from(sender.record(record(i)));
    });
    let log = close_journal("streaming", j, &path, STREAM_CHUNKS, accepted);
    let (s, a) = (
        stream_json(&sync_stalls, sync_total),
        stream_json(&async_stalls, async_total),
    );
    let factors = json!({
        "mean_stall": f(&s, "mean_stall_us") / f(&a, "mean_stall_us"),
        "worst_stall": f(&s, "worst_stall_us") / f(&a, "worst_stall_us"),
        "total_time": f(&s, "total_ms") / f(&a, "total_ms"),
    });
    let out = json!({"sync": s, "async": a, "async_log": log.json(), "improvement": factors});
    (out, log)
}

/// Scenario 3, maximum throughput: record as fast as possible for the window; the journal's clock runs
/// until `finish` returned, so records still queued at the end count with their writing.
fn throughput(dir: &Path) -> (Value, LogCheck) {
    let sync = SyncTracker::new(dir.join("sync_throughput.json"));
    let (mut sync_calls, t) = (0u64, Instant::now());
    while t.elapsed() < THROUGHPUT_WINDOW {
        sync.record(&record(sync_calls));
        sync_calls += 1;
    }
    let sync_secs = t.elapsed().as_secs_f64();
    let (j, path) = open_journal(dir, "async_throughput.csv");
    let sender = j.sender();
    let (mut offered, mut accepted, t) = (0u64, 0u64, Instant::now());
    while t.elapsed() < THROUGHPUT_WINDOW {
        for _ in 0..1024 {
            accepted += u64::from(sender.record(record(offered)));
            offered += 1;
        }
    }
    let window_secs = t.elapsed().as_secs_f64();
    drop(sender);
    let log = close_journal("throughput", j, &path, offered, accepted);
    let async_secs = log.finished_at.duration_since(t).as_secs_f64();
    let sync_rps = sync_calls as f64 / sync_secs;
    let written_rps = log.lines as f64 / async_secs;
    let out = json!({
        "sync": {"calls": sync_calls, "seconds": sync_secs, "records_per_sec": sync_rps},
        "async": {
            "attempted": offered, "producer_window_s": window_secs,
            "seconds_until_finish_returned": async_secs,
            "attempted_per_sec": offered as f64 / async_secs, "written_per_sec": written_rps,
            "refused_fraction": log.refused() as f64 / offered.max(1) as f64,
        },
        "async_log": log.json(),
        "improvement": {"records_per_sec": written_rps / sync_rps},
    });
    (out, log)
}

/// Run `threads` threads of `calls` timed calls each; per-call µs and the wall time.
fn threads_of(threads: usize, calls: usize, call: impl Fn(u64) + Send + Sync) -> (Vec<f64>, f64) {
    let t = Instant::now();
    let per_call = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let call = &call;
                s.spawn(move || {
                    (0..calls as u64)
                        .map(|i| {
                            let t = Instant::now();
                            call(k as u64 * 1_000_000 + i);
                            micros(t.elapsed())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a recording thread panicked"))
            .collect::<Vec<_>>()
    });
    (per_call, t.elapsed().as_secs_f64() * 1e3)
}

fn conc_json(calls: usize, per_call: &[f64], total_ms: f64) -> Value {
    json!({
        "threads": CONC_THREADS, "calls_per_thread": calls, "total_ms": total_ms,
        "wall_us_per_call": total_ms * 1e3 / per_call.len() as f64,
        "mean_us": mean(per_call), "max_us": max(per_call),
    })
}

/// Scenario 4, concurrent access: several threads recording at once.
fn concurrent(dir: &Path) -> (Value, LogCheck) {
    let sync = SyncTracker::new(dir.join("sync_concurrent.json"));
    // Without a lock concurrent rewrites corrupt the file; the lock wait is part of each call.
    let lock = Mutex::new(());
    let (sync_calls, sync_ms) = threads_of(CONC_THREADS, CONC_SYNC_CALLS, |i| {
        let _guard = lock.lock().expect("no thread panics holding the lock");
        sync.record(&record(i));
    });
    let (j, path) = open_journal(dir, "async_concurrent.csv");
    let sender = j.sender();
    let accepted = AtomicU64::new(0);
    let (async_calls, async_ms) = threads_of(CONC_THREADS, CONC_ASYNC_CALLS, |i| {
        if sender.record(record(i)) {
            accepted.fetch_add(1, Ordering::Relaxed);
        }
    });
    let offered = (CONC_THREADS * CONC_ASYNC_CALLS) as u64;
    let accepted = accepted.load(Ordering::Relaxed);
    drop(sender);
    let log = close_journal("concurrent", j, &path, offered, accepted);
    let (s, a) = (
        conc_json(CONC_SYNC_CALLS, &sync_calls, sync_ms),
        conc_json(CONC_ASYNC_CALLS, &async_calls, async_ms),
    );
    let factors = json!({
        "mean_per_call": f(&s, "mean_us") / f(&a, "mean_us"),
        "wall_per_call": f(&s, "wall_us_per_call") / f(&a, "wall_us_per_call"),
    });
    let out = json!({"sync": s, "async": a, "async_log": log.json(), "improvement": factors});
    (out, log)
}

/// `target/recorder-bench/results.json` under the target folder cargo uses.
fn results_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    target.join("recorder-bench").join("results.json")
}

fn print_summary(r: &Value, logs: &[LogCheck]) {
    let (l, s, t, c) = (
        &r["record_latency"],
        &r["streaming"],
        &r["throughput"],
        &r["concurrent"],
    );
    let (la, ls) = (&l["async"], &l["sync"]);
    println!("\nRECORDER BENCHMARK: sync JSON rewrite vs write-behind journal");
    println!(
        "journal buffer: {} records (journal::CAPACITY)\n",
        journal::CAPACITY
    );
    println!(
        "1. record latency  sync mean {:.1} us ({} calls), async mean {:.3} us ({} calls): {:.0}x",
        f(ls, "mean_us"),
        ls["calls"],
        f(la, "mean_us"),
        la["calls"],
        f(&l["improvement"], "mean")
    );
    println!(
        "                   async median {:.3}, p95 {:.3}, p99 {:.3}, p99.9 {:.3}, max {:.1}, sd {:.3} us",
        f(la, "median_us"),
        f(la, "p95_us"),
        f(la, "p99_us"),
        f(la, "p999_us"),
        f(la, "max_us"),
        f(la, "std_dev_us")
    );
    for (who, v) in [("sync ", &s["sync"]), ("async", &s["async"])] {
        println!(
            "2. stream, {who}   {} chunks 1 ms apart: {:.0} ms (paced {:.0} ms), {:.3} ms/chunk, \
             mean stall {:.2} us, worst {:.1} us, >10 ms {}, >1 ms {}",
            v["chunks"],
            f(v, "total_ms"),
            f(v, "paced_ms"),
            f(v, "mean_per_chunk_ms"),
            f(v, "mean_stall_us"),
            f(v, "worst_stall_us"),
            v["stalls_over_10ms"],
            v["stalls_over_1ms"]
        );
    }
    println!(
        "                   improvement: mean stall {:.0}x, worst stall {:.0}x, total time {:.2}x",
        f(&s["improvement"], "mean_stall"),
        f(&s["improvement"], "worst_stall"),
        f(&s["improvement"], "total_time")
    );
    let ta = &t["async"];
    println!(
        "3. throughput      sync {:.0} records/s; async {:.0} attempted/s, {:.0} written/s \
         ({:.1}% refused, {:.2} s until finish returned): {:.0}x",
        f(&t["sync"], "records_per_sec"),
        f(ta, "attempted_per_sec"),
        f(ta, "written_per_sec"),
        100.0 * f(ta, "refused_fraction"),
        f(ta, "seconds_until_finish_returned"),
        f(&t["improvement"], "records_per_sec")
    );
    for (who, v) in [("sync ", &c["sync"]), ("async", &c["async"])] {
        println!(
            "4. concurrent, {who} {} threads x {}: {:.1} ms, {:.3} us wall per call, mean {:.3} us, max {:.1} us",
            v["threads"],
            v["calls_per_thread"],
            f(v, "total_ms"),
            f(v, "wall_us_per_call"),
            f(v, "mean_us"),
            f(v, "max_us")
        );
    }
    println!(
        "                   improvement: mean per call {:.0}x, wall per call {:.0}x",
        f(&c["improvement"], "mean_per_call"),
        f(&c["improvement"], "wall_per_call")
    );
    println!("\njournal per scenario: offered / accepted / refused / lines on disk / disk writes");
    for log in logs {
        println!(
            "   {:<11} {:>10} {:>10} {:>10} {:>10} {:>6} ({:.0} records per write)",
            log.scenario,
            log.offered,
            log.accepted,
            log.refused(),
            log.lines,
            log.stats.disk_writes,
            log.records_per_write()
        );
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut results = serde_json::Map::new();
    let mut logs = Vec::new();
    let scenarios: [(&str, Scenario); 4] = [
        ("record_latency", latency),
        ("streaming", streaming),
        ("throughput", throughput),
        ("concurrent", concurrent),
    ];
    for (name, scenario) in scenarios {
        eprintln!("running {name} ...");
        let (value, log) = scenario(dir.path());
        results.insert(name.into(), value);
        logs.push(log);
    }
    let r = Value::Object(results.clone());
    print_summary(&r, &logs);

    let la = &r["record_latency"]["async"];
    let sa = &r["streaming"]["async"];
    let written_rps = f(&r["throughput"]["async"], "written_per_sec");
    let mut checks = vec![
        (
            "record mean < 1 us".to_string(),
            f(la, "mean_us") < 1.0,
            false,
        ),
        (
            "record p99.9 < 20 us".into(),
            f(la, "p999_us") < 20.0,
            false,
        ),
        (
            "zero stalls > 1 ms in the paced stream".into(),
            sa["stalls_over_1ms"] == 0,
            false,
        ),
        (
            ">= 1,000,000 records/s written".into(),
            written_rps >= 1e6,
            false,
        ),
    ];
    for log in &logs {
        let s = log.scenario;
        checks.push((
            format!("{s}: records in == lines on disk"),
            log.in_equals_disk(),
            true,
        ));
        checks.push((
            format!("{s}: disk writes >= 100x fewer than records"),
            log.batched_100x(),
            false,
        ));
        if s != "throughput" {
            checks.push((format!("{s}: no record refused"), log.refused() == 0, true));
        }
    }
    println!();
    let mut verdicts = serde_json::Map::new();
    let mut lost = false;
    for (name, ok, correctness) in &checks {
        println!("  [{}] {name}", if *ok { "PASS" } else { "FAIL" });
        verdicts.insert(name.clone(), json!(ok));
        lost |= *correctness && !*ok;
    }
    results.insert("targets".into(), Value::Object(verdicts));
    results.insert(
        "setup".into(),
        json!({"journal_capacity": journal::CAPACITY, "sync_sessions_kept": SYNC_SESSIONS_KEPT,
               "stream_interval_ms": 1, "throughput_window_s": THROUGHPUT_WINDOW.as_secs()}),
    );
    let path = results_path();
    std::fs::create_dir_all(path.parent().expect("the results file has a folder"))
        .expect("create the results folder");
    let text = serde_json::to_string_pretty(&Value::Object(results)).expect("JSON serializes");
    std::fs::write(&path, text).expect("write the results");
    println!("\nresults saved to {}", path.display());
    if lost {
        eprintln!("a journal lost or refused records: see the FAIL lines above");
        std::process::exit(1);
    }
}
