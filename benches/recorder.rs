//! `cargo bench --bench recorder`: the naive synchronous usage tracker of the tool
//! nitro-scenario replaces (open, read, parse, update, rewrite a JSON file per call) against
//! the write-behind journal, in one run on one machine, in four scenarios: record latency,
//! streaming stutter, maximum throughput and concurrent access. Prints a summary with the
//! improvement factors and pass/fail against the targets, and saves JSON results to
//! `target/recorder-bench/results.json`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nitro_scenario::journal::{Journal, JournalStats, RequestRecord};
use nitro_scenario::metrics::Phase;
use serde_json::{Value, json};

/// The original design: every call rewrites the whole JSON file.
struct SyncTracker {
    path: PathBuf,
}

impl SyncTracker {
    fn new(path: PathBuf) -> Self {
        std::fs::write(
            &path,
            r#"{"totals":{"prompt":0,"completion":0,"requests":0},"records":[]}"#,
        )
        .expect("seed file");
        Self { path }
    }

    fn record(&self, r: &RequestRecord) {
        let text = std::fs::read_to_string(&self.path).expect("read");
        let mut doc: Value = serde_json::from_str(&text).expect("parse");
        let totals = &mut doc["totals"];
        totals["prompt"] =
            json!(totals["prompt"].as_u64().unwrap_or(0) + u64::from(r.prompt_tokens));
        totals["completion"] =
            json!(totals["completion"].as_u64().unwrap_or(0) + u64::from(r.completion_tokens));
        totals["requests"] = json!(totals["requests"].as_u64().unwrap_or(0) + 1);
        if let Some(records) = doc["records"].as_array_mut() {
            records.push(json!({"latency_us": r.latency_us, "prompt": r.prompt_tokens, "completion": r.completion_tokens}));
        }
        std::fs::write(&self.path, serde_json::to_vec(&doc).expect("serialize")).expect("write");
    }
}

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
        completion_tokens: 1,
        tokens_estimated: false,
    }
}

/// Latency statistics of per-call timings, µs.
fn stats(mut samples: Vec<f64>) -> Value {
    samples.sort_by(f64::total_cmp);
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let var = samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
    let at = |q: f64| samples[((n - 1.0) * q).round() as usize];
    json!({
        "calls": samples.len(), "mean_us": mean, "median_us": at(0.5), "min_us": samples[0],
        "max_us": samples[samples.len() - 1], "p95_us": at(0.95), "p99_us": at(0.99),
        "p999_us": at(0.999), "std_dev_us": var.sqrt(),
    })
}

fn time_calls(n: u64, mut f: impl FnMut(u64)) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect()
}

fn journal(dir: &Path, name: &str) -> Journal {
    Journal::start(&dir.join(name), vec!["bench-point".into()], 1 << 20).expect("journal")
}

fn finish(j: Journal) -> JournalStats {
    j.finish()
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = Path::new("target/recorder-bench");
    std::fs::create_dir_all(out_dir).expect("output folder");
    let mut results = serde_json::Map::new();

    // 1. Record latency.
    let sync = SyncTracker::new(dir.path().join("sync_latency.json"));
    let sync_latency = stats(time_calls(300, |i| sync.record(&record(i))));
    let j = journal(dir.path(), "async_latency.csv");
    let sender = j.sender();
    let async_latency = stats(time_calls(200_000, |i| {
        sender.record(record(i));
    }));
    let latency_stats = finish(j);
    results.insert(
        "record_latency".into(),
        json!({"sync": sync_latency, "async": async_latency, "async_journal": latency_stats}),
    );

    // 2. Streaming stutter: one usage record per chunk of a simulated stream.
    let stutter = |samples: &[f64]| {
        json!({
            "chunks": samples.len(), "total_ms": samples.iter().sum::<f64>() / 1000.0,
            "mean_per_chunk_us": samples.iter().sum::<f64>() / samples.len() as f64,
            "worst_stall_us": samples.iter().cloned().fold(0.0, f64::max),
            "stalls_over_10ms": samples.iter().filter(|s| **s > 10_000.0).count(),
            "stalls_over_1ms": samples.iter().filter(|s| **s > 1_000.0).count(),
        })
    };
    let sync = SyncTracker::new(dir.path().join("sync_stream.json"));
    let sync_stream = time_calls(300, |i| sync.record(&record(i)));
    let j = journal(dir.path(), "async_stream.csv");
    let sender = j.sender();
    let async_stream = time_calls(10_000, |i| {
        sender.record(record(i));
    });
    finish(j);
    results.insert(
        "streaming".into(),
        json!({"sync": stutter(&sync_stream), "async": stutter(&async_stream)}),
    );

    // 3. Maximum throughput: records per second of continuous recording.
    let window_sync = Duration::from_secs(2);
    let sync = SyncTracker::new(dir.path().join("sync_tp.json"));
    let (mut n, t) = (0u64, Instant::now());
    while t.elapsed() < window_sync {
        sync.record(&record(n));
        n += 1;
    }
    let sync_rps = n as f64 / t.elapsed().as_secs_f64();
    let window_async = Duration::from_secs(5);
    let j = journal(dir.path(), "async_tp.csv");
    let sender = j.sender();
    let (mut n, mut refused, t) = (0u64, 0u64, Instant::now());
    while t.elapsed() < window_async {
        for _ in 0..1024 {
            if !sender.record(record(n)) {
                refused += 1;
            }
            n += 1;
        }
    }
    let async_secs = t.elapsed().as_secs_f64();
    let tp_stats = finish(j);
    let async_rps = (n - refused) as f64 / async_secs;
    results.insert(
        "throughput".into(),
        json!({"sync_records_per_sec": sync_rps, "sync_window_s": 2, "async_records_per_sec": async_rps,
               "async_window_s": 5, "async_attempted": n, "async_refused_buffer_full": refused, "async_journal": tp_stats}),
    );

    // 4. Concurrent access: several threads recording at once.
    let threads = 8;
    let sync_calls = 40;
    let async_calls = 50_000;
    let sync_path = dir.path().join("sync_conc.json");
    SyncTracker::new(sync_path.clone());
    let lock = std::sync::Arc::new(std::sync::Mutex::new(()));
    let t = Instant::now();
    let per_call: Vec<f64> = (0..threads)
        .map(|_| {
            let (path, lock) = (sync_path.clone(), lock.clone());
            std::thread::spawn(move || {
                let tracker = SyncTracker { path };
                // The original serialised writers on a lock so the file stayed valid.
                time_calls(sync_calls, |i| {
                    let _guard = lock.lock().expect("lock");
                    tracker.record(&record(i));
                })
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    let sync_total = t.elapsed().as_secs_f64() * 1000.0;
    let j = journal(dir.path(), "async_conc.csv");
    let t = Instant::now();
    let async_per_call: Vec<f64> = (0..threads)
        .map(|_| {
            let sender = j.sender();
            std::thread::spawn(move || {
                time_calls(async_calls, |i| {
                    sender.record(record(i));
                })
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    let async_total = t.elapsed().as_secs_f64() * 1000.0;
    let conc_stats = finish(j);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    results.insert(
        "concurrent".into(),
        json!({
            "threads": threads,
            "sync": {"calls_per_thread": sync_calls, "total_ms": sync_total, "mean_us": mean(&per_call), "max_us": max(&per_call)},
            "async": {"calls_per_thread": async_calls, "total_ms": async_total, "mean_us": mean(&async_per_call), "max_us": max(&async_per_call)},
            "async_journal": conc_stats,
        }),
    );

    // Summary and targets.
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(0.0);
    let (sl, al) = (
        &results["record_latency"]["sync"],
        &results["record_latency"]["async"],
    );
    let (ss, as_) = (
        &results["streaming"]["sync"],
        &results["streaming"]["async"],
    );
    let c = &results["concurrent"];
    let total_written = [&latency_stats, &tp_stats, &conc_stats]
        .iter()
        .map(|s| s.written)
        .sum::<u64>();
    let total_writes = [&latency_stats, &tp_stats, &conc_stats]
        .iter()
        .map(|s| s.disk_writes)
        .sum::<u64>()
        .max(1);
    let all_written = [&latency_stats, &tp_stats, &conc_stats]
        .iter()
        .all(|s| s.written == s.accepted);
    println!("\nRECORDER BENCHMARK (sync JSON rewrite vs write-behind journal)\n");
    println!(
        "1. record latency   sync mean {:>10.1} us   async mean {:>7.3} us   {:>9.0}x faster",
        f(sl, "mean_us"),
        f(al, "mean_us"),
        f(sl, "mean_us") / f(al, "mean_us")
    );
    println!(
        "                    async median {:.3} us, p99 {:.3} us, p99.9 {:.3} us, max {:.1} us",
        f(al, "median_us"),
        f(al, "p99_us"),
        f(al, "p999_us"),
        f(al, "max_us")
    );
    println!(
        "2. streaming        sync {:>8.1} ms / {} chunks, worst stall {:.1} ms, stalls >10ms {}, >1ms {}",
        f(ss, "total_ms"),
        ss["chunks"],
        f(ss, "worst_stall_us") / 1000.0,
        ss["stalls_over_10ms"],
        ss["stalls_over_1ms"]
    );
    println!(
        "                    async {:>7.2} ms / {} chunks, worst stall {:.1} us, stalls >10ms {}, >1ms {}",
        f(as_, "total_ms"),
        as_["chunks"],
        f(as_, "worst_stall_us"),
        as_["stalls_over_10ms"],
        as_["stalls_over_1ms"]
    );
    println!(
        "3. throughput       sync {sync_rps:>10.0} records/s   async {async_rps:>12.0} records/s   {:.0}x",
        async_rps / sync_rps
    );
    println!(
        "4. concurrent       {threads} threads: sync mean {:.1} us max {:.1} us; async mean {:.3} us max {:.1} us",
        f(&c["sync"], "mean_us"),
        f(&c["sync"], "max_us"),
        f(&c["async"], "mean_us"),
        f(&c["async"], "max_us")
    );
    println!(
        "   disk writes      {total_writes} writes for {total_written} records ({:.0} records per write)\n",
        total_written as f64 / total_writes as f64
    );
    let checks = [
        ("record mean < 1 us", f(al, "mean_us") < 1.0),
        ("record p99.9 < 20 us", f(al, "p999_us") < 20.0),
        (
            "zero stalls > 1 ms while streaming",
            as_["stalls_over_1ms"] == 0,
        ),
        (">= 1,000,000 records/s", async_rps >= 1_000_000.0),
        (
            "disk writes >= 100x fewer than records",
            total_written >= 100 * total_writes,
        ),
        ("records in == records on disk", all_written),
    ];
    let mut verdicts = serde_json::Map::new();
    for (name, ok) in checks {
        println!("  [{}] {name}", if ok { "PASS" } else { "FAIL" });
        verdicts.insert(name.into(), json!(ok));
    }
    results.insert("targets".into(), Value::Object(verdicts));
    let path = out_dir.join("results.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&Value::Object(results)).expect("json"),
    )
    .expect("write results");
    println!("\nsaved {}", path.display());
}
