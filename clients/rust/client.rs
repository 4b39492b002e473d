//! Reference external client for nitro-scenario in Rust: reqwest on a tokio runtime.
//! `cargo build --release --example rust_client`, then run
//! `target/release/examples/rust_client`.
//!
//! C tasks share one pooled `reqwest::Client` and POST the payload to BASE + ROUTE in a
//! closed loop for WARMUP_SECONDS (discarded), then T seconds (measured). Prints the
//! per-point JSON object on stdout and writes it to RESULTS_FILE when that is set. The
//! protocol (variables, fields, definitions) is in clients/README.md.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{Value, json};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the environment asks for.
struct Config {
    base: String,
    route: String,
    url: String,
    concurrency: usize,
    measure: Duration,
    warmup: Duration,
    size: String,
    stream: bool,
    body: bytes::Bytes,
    headers: BTreeMap<String, String>,
    results_file: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn seconds(name: &str, value: Option<String>, default: f64) -> Result<Duration> {
    let secs = match value {
        Some(v) => v
            .parse()
            .with_context(|| format!("`{name}`: `{v}` is not seconds"))?,
        None => default,
    };
    Duration::try_from_secs_f64(secs).with_context(|| format!("`{name}`: `{secs}` is not seconds"))
}

/// The benchmark framework's body, for runs without PAYLOAD_FILE.
fn seed_payload(size: &str, model: &str) -> Vec<u8> {
    let repeat = match size {
        "M" => 1600,
        "L" => 12800,
        _ => 50,
    };
    let content = "Hello, world!".repeat(repeat);
    json!({"model": model, "messages": [{"role": "user", "content": content}]})
        .to_string()
        .into_bytes()
}

impl Config {
    fn from_env() -> Result<Self> {
        let base = var("BASE").unwrap_or_else(|| "http://127.0.0.1:3000".into());
        let base = base.trim_end_matches('/').to_string();
        let route = var("ROUTE")
            .or_else(|| std::env::args().nth(1))
            .unwrap_or_else(|| "/v1/chat/completions".into());
        let size = var("SIZE").unwrap_or_else(|| "S".into());
        let body = match var("PAYLOAD_FILE") {
            Some(path) => std::fs::read(&path).with_context(|| format!("reading `{path}`"))?,
            None => seed_payload(&size, &var("MODEL").unwrap_or_else(|| "test-model".into())),
        }
        .into();
        let headers = match var("HEADERS_FILE") {
            Some(path) => {
                let text = std::fs::read(&path).with_context(|| format!("reading `{path}`"))?;
                serde_json::from_slice(&text).with_context(|| format!("`{path}`"))?
            }
            None => BTreeMap::new(),
        };
        let stream = match var("STREAM") {
            Some(s) => s == "1" || s == "true",
            None => route.ends_with(":stream"),
        };
        let concurrency = var("C").unwrap_or_else(|| "32".into());
        let measure = var("T").or_else(|| var("BENCHMARK_SECONDS"));
        Ok(Self {
            url: format!("{base}{route}"),
            base,
            route,
            concurrency: concurrency
                .parse()
                .with_context(|| format!("`C`: `{concurrency}` is not a count"))?,
            measure: seconds("T", measure, 60.0)?,
            warmup: seconds("WARMUP_SECONDS", var("WARMUP_SECONDS"), 0.0)?,
            size,
            stream,
            body,
            headers,
            results_file: var("RESULTS_FILE"),
        })
    }
}

/// One task's measure-phase figures; merged after the run.
#[derive(Default)]
struct Stats {
    reqs: u64,
    latency_ms: Vec<f64>,
    ttft_ms: Vec<f64>,
    non2xx: u64,
    timeouts: u64,
    other: u64,
    stream_bytes: u64,
    transfer: Duration,
}

impl Stats {
    fn merge(&mut self, o: Stats) {
        self.reqs += o.reqs;
        self.latency_ms.extend(o.latency_ms);
        self.ttft_ms.extend(o.ttft_ms);
        self.non2xx += o.non2xx;
        self.timeouts += o.timeouts;
        self.other += o.other;
        self.stream_bytes += o.stream_bytes;
        self.transfer += o.transfer;
    }
}

/// How one request ended.
enum Answer {
    Ok {
        bytes: u64,
        first: Option<Duration>,
        transfer: Duration,
    },
    Non2xx,
    Timeout,
    Other,
}

/// Whether an SSE event carries content; `Err` for a bad or error event.
fn has_content(data: &[u8]) -> Result<bool, ()> {
    let event: Value = serde_json::from_slice(data).map_err(|_| ())?;
    if event.get("error").is_some() {
        return Err(());
    }
    let choices = event.get("choices").and_then(Value::as_array);
    Ok(choices.into_iter().flatten().any(|c| {
        ["content", "reasoning_content"].iter().any(|k| {
            c.pointer(&format!("/delta/{k}"))
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        })
    }))
}

async fn send(cfg: &Config, client: &reqwest::Client, started: Instant) -> Answer {
    let mut request = client.post(&cfg.url).body(cfg.body.clone());
    for (k, v) in &cfg.headers {
        request = request.header(k, v);
    }
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return Answer::Timeout,
        Err(_) => return Answer::Other,
    };
    let headers_at = Instant::now();
    if !response.status().is_success() {
        return match response.bytes().await {
            Ok(_) => Answer::Non2xx,
            Err(e) if e.is_timeout() => Answer::Timeout,
            Err(_) => Answer::Other,
        };
    }
    if !cfg.stream {
        return match response.bytes().await {
            Ok(body) if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() => {
                Answer::Ok {
                    bytes: body.len() as u64,
                    first: None,
                    transfer: headers_at.elapsed(),
                }
            }
            Ok(_) => Answer::Other,
            Err(e) if e.is_timeout() => Answer::Timeout,
            Err(_) => Answer::Other,
        };
    }
    let (mut pending, mut bytes, mut first, mut done) = (Vec::new(), 0u64, None, false);
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Answer::Timeout,
            Err(_) => return Answer::Other,
        };
        bytes += chunk.len() as u64;
        pending.extend_from_slice(&chunk);
        while let Some(newline) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=newline).collect();
            let Some(data) = line.trim_ascii().strip_prefix(b"data:") else {
                continue;
            };
            let data = data.trim_ascii();
            if done {
                continue;
            }
            if data == b"[DONE]" {
                done = true;
                continue;
            }
            match has_content(data) {
                Err(()) => return Answer::Other,
                Ok(true) if first.is_none() => first = Some(started.elapsed()),
                Ok(_) => {}
            }
        }
    }
    if !done {
        return Answer::Other;
    }
    Answer::Ok {
        bytes,
        first,
        transfer: headers_at.elapsed(),
    }
}

async fn worker(
    cfg: std::sync::Arc<Config>,
    client: reqwest::Client,
    measure_start: Instant,
    measure_end: Instant,
) -> Stats {
    let mut s = Stats::default();
    loop {
        let started = Instant::now();
        if started >= measure_end {
            return s;
        }
        let answer = send(&cfg, &client, started).await;
        if started < measure_start {
            continue;
        }
        s.reqs += 1;
        match answer {
            Answer::Non2xx => s.non2xx += 1,
            Answer::Timeout => s.timeouts += 1,
            Answer::Other => s.other += 1,
            Answer::Ok {
                bytes,
                first,
                transfer,
            } => {
                s.latency_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                if cfg.stream {
                    s.stream_bytes += bytes;
                    s.transfer += transfer;
                    s.ttft_ms.extend(first.map(|f| f.as_secs_f64() * 1000.0));
                }
            }
        }
    }
}

/// p50/p95/p99 by nearest rank, ms; null when nothing was recorded.
fn percentiles(mut values: Vec<f64>) -> Value {
    values.sort_by(f64::total_cmp);
    let rank = |q: f64| {
        let i = ((q / 100.0 * values.len() as f64).ceil() as usize).max(1) - 1;
        values.get(i).map(|v| (v * 1000.0).round() / 1000.0)
    };
    json!({"p50": rank(50.0), "p95": rank(95.0), "p99": rank(99.0)})
}

fn summarize(cfg: &Config, s: Stats) -> Result<Value> {
    let failed = s.non2xx + s.timeouts + s.other;
    let measure_secs = cfg.measure.as_secs_f64();
    let timestamp = time::OffsetDateTime::now_utc().format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))?;
    let mut out = json!({
        "lang": "rust",
        "route": cfg.route,
        "concurrency": cfg.concurrency,
        "payload_size": cfg.size,
        "reqs": s.reqs,
        "throughput_rps": if measure_secs > 0.0 { s.reqs as f64 / measure_secs } else { 0.0 },
        "latency_ms": percentiles(s.latency_ms),
        "errors": {"non2xx": s.non2xx, "timeouts": s.timeouts, "total": failed},
        "success_rate": (s.reqs > 0).then(|| (s.reqs - failed) as f64 * 100.0 / s.reqs as f64),
        "timestamp": timestamp,
        "test_config": {
            "route": cfg.route,
            "concurrency": cfg.concurrency,
            "payload_size": cfg.size,
            "duration_seconds": measure_secs,
            "warmup_seconds": cfg.warmup.as_secs_f64(),
            "mockoon_base": cfg.base,
        },
    });
    if cfg.stream {
        let transfer = s.transfer.as_secs_f64();
        out["sse_bytes_per_sec"] =
            json!((transfer > 0.0).then(|| s.stream_bytes as f64 / transfer));
        out["time_to_first_ms"] = percentiles(s.ttft_ms);
        out["total_bytes"] = json!(s.stream_bytes);
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cfg = std::sync::Arc::new(Config::from_env()?);
    let client = reqwest::Client::builder()
        // A benchmark measures the route to the target, not a proxy's.
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(cfg.concurrency)
        .default_headers(
            [(
                reqwest::header::CONTENT_TYPE,
                reqwest::header::HeaderValue::from_static("application/json"),
            )]
            .into_iter()
            .collect(),
        )
        .build()?;
    let measure_start = Instant::now() + cfg.warmup;
    let measure_end = measure_start + cfg.measure;
    let tasks: Vec<_> = (0..cfg.concurrency)
        .map(|_| {
            let (cfg, client) = (cfg.clone(), client.clone());
            tokio::spawn(worker(cfg, client, measure_start, measure_end))
        })
        .collect();
    let mut total = Stats::default();
    for task in tasks {
        total.merge(task.await?);
    }
    let text = summarize(&cfg, total)?.to_string();
    if let Some(path) = &cfg.results_file {
        std::fs::write(path, format!("{text}\n")).with_context(|| format!("writing `{path}`"))?;
    }
    println!("{text}");
    Ok(())
}
