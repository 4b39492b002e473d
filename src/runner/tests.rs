//! The runner's pipeline on a scripted transport and tokio's paused clock: exact numbers, no
//! sockets, no waiting.

use super::transport::scripted::{ScriptedConnector, Step};
use super::*;
use crate::journal::Journal;
use crate::scenario::Overrides;

mod phases;

/// A one-route scenario (chat, or the SSE route with `stream`) with `extra` TOML appended.
fn scenario(stream: bool, extra: &str) -> (Scenario, Vec<Point>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    let route = if stream {
        "path = \"/v1/chat/completions:stream\"\nstream = true"
    } else {
        "path = \"/v1/chat/completions\""
    };
    let text = format!(
        "[target]\nbase_url = \"http://127.0.0.1:9\"\n[routes.chat]\n{route}\n\
         [matrix]\nroute = [\"chat\"]\nconcurrency = [4]\n{extra}"
    );
    std::fs::write(&file, text).unwrap();
    let s = crate::scenario::load_with_env(&file, &Overrides::default(), &|_| None).unwrap();
    let points = crate::scenario::expand(&s).unwrap();
    (s, points)
}

/// Run the scenario's points through `connector` with `concurrency` workers.
async fn run_on(
    connector: &ScriptedConnector,
    scenario: (Scenario, Vec<Point>),
    concurrency: u32,
    stop: Stop,
) -> RunOutcome {
    run_logged(connector, scenario, concurrency, stop, None).await
}

/// `run_on`, recording every attempt into `journal`.
async fn run_logged(
    connector: &ScriptedConnector,
    (s, mut points): (Scenario, Vec<Point>),
    concurrency: u32,
    stop: Stop,
    journal: Option<JournalSender>,
) -> RunOutcome {
    for p in &mut points {
        p.load = crate::scenario::LoadModel::Closed {
            concurrency: std::num::NonZeroU32::new(concurrency).unwrap(),
        };
    }
    let options = RunOptions {
        quiet: true,
        journal,
        stop: Some(stop),
        after_point: None,
    };
    let base = Url::parse("http://127.0.0.1:9/").unwrap();
    run_with(connector, &s, &points, &base, options, Pacing::Tokio)
        .await
        .unwrap()
}

async fn run_scripted(steps: Vec<Step>, concurrency: u32, extra: &str) -> RunOutcome {
    let connector = ScriptedConnector::new(steps);
    run_on(&connector, scenario(false, extra), concurrency, Stop::new()).await
}

#[tokio::test(start_paused = true)]
async fn scripted_latencies_give_exact_percentiles_and_counts() {
    // 100 requests with latencies 1..=100 µs (exact in the histogram below 256 µs).
    let steps = (1..=100).map(Step::ok).collect();
    let out = run_scripted(steps, 4, "[run]\nrequests = 100\n").await;
    let run = &out.points[0].runs[0];
    assert_eq!(run.requests, 100);
    assert_eq!(run.outcomes.success, 100);
    assert_eq!(run.latency.unwrap().min_us, 1);
    assert_eq!(run.latency.unwrap().p50_us, 50);
    assert_eq!(run.latency.unwrap().p90_us, 90);
    assert_eq!(run.latency.unwrap().p99_us, 99);
    assert_eq!(run.latency.unwrap().max_us, 100);
    assert_eq!(run.latency.unwrap().mean_us, 50.5);
    assert_eq!(run.ttfb.unwrap().p50_us, 25);
    assert!(!out.partial);
}

#[tokio::test(start_paused = true)]
async fn an_after_point_reason_ends_the_run_after_that_point() {
    let (s, points) = scenario(false, "[run]\nrequests = 5\n[matrix.axes]\nx = [1, 2, 3]\n");
    let run = |ending: &'static str| {
        let connector = ScriptedConnector::new(vec![Step::ok(10)]);
        let (s, points) = (s.clone(), points.clone());
        async move {
            let options = RunOptions {
                quiet: true,
                stop: Some(Stop::new()),
                after_point: Some(AfterPoint::new(move |p| {
                    p.id.ends_with(ending).then(|| format!("`{}` failed", p.id))
                })),
                ..RunOptions::default()
            };
            let base = Url::parse("http://127.0.0.1:9/").unwrap();
            run_with(&connector, &s, &points, &base, options, Pacing::Tokio)
                .await
                .unwrap()
        }
    };
    let out = run("-2").await;
    let ids: Vec<&str> = out.points.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["chat-c4-1", "chat-c4-2"]);
    assert!(out.partial);
    assert_eq!(out.interruption.as_deref(), Some("`chat-c4-2` failed"));
    // After the last point there is nothing left to end: the run is whole.
    let out = run("-3").await;
    assert_eq!(out.points.len(), 3);
    assert!(!out.partial && out.interruption.is_none());
}

#[tokio::test(start_paused = true)]
async fn stream_timing_is_exact() {
    // Headers at 10 µs, tokens at 30, 50, 60 and 100 µs, end at 120 µs; usage from the
    // server. (Below 256 µs the histograms are exact.)
    let step = Step::stream(10, &[30, 50, 60, 100], 120, true);
    let connector = ScriptedConnector::new(vec![step]);
    let out = run_on(
        &connector,
        scenario(true, "[run]\nrequests = 10\n"),
        2,
        Stop::new(),
    )
    .await;
    let run = &out.points[0].runs[0];
    let stream = run.stream.as_ref().unwrap();
    assert_eq!(run.outcomes.success, 10);
    assert_eq!(
        (stream.ttft.unwrap().min_us, stream.ttft.unwrap().max_us),
        (30, 30)
    );
    assert_eq!(stream.itl.unwrap().count, 30, "3 gaps per stream");
    assert_eq!(stream.itl.unwrap().min_us, 10);
    assert_eq!(stream.itl.unwrap().max_us, 40);
    assert_eq!(stream.itl.unwrap().p50_us, 20);
    // tpot = (120 µs - 30 µs) / (4 tokens - 1) = 30 µs.
    assert_eq!(stream.tpot.unwrap().p50_us, 30);
    assert_eq!(stream.output_tokens, 40);
    assert!(!stream.tokens_estimated);
    assert_eq!(run.usage.prompt_tokens, 70);
    assert_eq!(run.latency.unwrap().p50_us, 120);
    assert_eq!(run.ttfb.unwrap().p50_us, 10);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_counted_apart() {
    // Every request: 429 (2 ms, Retry-After 1 s), 429 (2 ms, 1 s), then 200 in 4 ms.
    let limited = Step::limited(2_000, "1");
    let steps = vec![limited.clone(), limited, Step::ok(4_000)];
    let out = run_scripted(
        steps,
        1,
        "[run]\nrequests = 5\n[run.retry]\nmax = 3\nmax_wait = \"10s\"\n",
    )
    .await;
    let run = &out.points[0].runs[0];
    assert_eq!((run.requests, run.attempts, run.retries), (5, 15, 10));
    assert_eq!(run.first_attempt.status.get(&429), Some(&5));
    assert_eq!(run.outcomes.success, 5);
    // 2 ms + 1 s + 2 ms + 1 s + 4 ms, from the request's start.
    assert_eq!(run.latency.unwrap().count, 5);
    let expected = 2_008_000;
    assert!(
        run.latency.unwrap().p50_us.abs_diff(expected) <= expected / 100,
        "{} within the histogram's 1% of {expected}",
        run.latency.unwrap().p50_us
    );
    // TTFB counts from the request's start too: 2,006 ms of the answering attempt's 2 ms.
    assert!(run.ttfb.unwrap().p50_us.abs_diff(2_006_000) <= 20_060);
}

#[tokio::test(start_paused = true)]
async fn max_wait_caps_retry_after_and_the_last_429_is_final() {
    // Always 429 asking for an hour; max_wait 3 ms; two retries allowed.
    let steps = vec![Step::limited(1_000, "3600")];
    let out = run_scripted(
        steps,
        1,
        "[run]\nrequests = 4\n[run.retry]\nmax = 2\nmax_wait = \"3ms\"\n",
    )
    .await;
    let run = &out.points[0].runs[0];
    assert_eq!((run.requests, run.attempts, run.retries), (4, 12, 8));
    assert_eq!(run.outcomes.status.get(&429), Some(&4));
    assert_eq!(run.outcomes.success, 0);
    // Each request took 1 + 3 + 1 + 3 + 1 = 9 ms.
    assert_eq!(run.measure_secs, 0.036);
    assert_eq!(run.latency, None, "failed requests have no latency");
}

#[tokio::test(start_paused = true)]
async fn requests_in_flight_at_the_deadline_finish_and_count() {
    // One worker, 300 ms per request, a 1 s phase: requests start at 0, 0.3, 0.6, 0.9 s;
    // the last ends at 1.2 s, after the deadline, and still counts.
    let out = run_scripted(vec![Step::ok(300_000)], 1, "[run]\nduration = \"1s\"\n").await;
    let run = &out.points[0].runs[0];
    assert_eq!(run.requests, 4);
    assert_eq!(run.in_flight_at_end, 1);
    assert_eq!(run.measure_secs, 1.2);
    assert!((run.throughput_rps - 4.0 / 1.2).abs() < 1e-9);
}

#[tokio::test(start_paused = true)]
async fn a_stop_mid_phase_keeps_what_was_measured() {
    let stop = Stop::new();
    // Attempt 10 raises the stop: it and the request it belongs to are abandoned.
    let connector = ScriptedConnector::new(vec![Step::ok(1_000)]).stopping(10, stop.clone());
    let out = run_on(
        &connector,
        scenario(false, "[run]\nruns = 3\nrequests = 1000\n"),
        1,
        stop,
    )
    .await;
    assert!(out.partial);
    assert_eq!(
        out.interruption.as_deref(),
        Some("interrupted"),
        "no signal to name"
    );
    let point = &out.points[0];
    assert!(point.partial);
    assert_eq!(point.runs.len(), 1, "later runs never start");
    let run = &point.runs[0];
    assert!(run.partial);
    assert_eq!((run.requests, run.attempts), (10, 10));
    assert_eq!(run.outcomes.success, 10);
}

#[tokio::test(start_paused = true)]
async fn a_stop_by_a_signal_is_named_after_it() {
    let stop = Stop::new();
    // Raised before the run: no point starts, and the run is partial for the signal.
    stop.raise(Signal::Terminate);
    let connector = ScriptedConnector::new(vec![Step::ok(1_000)]);
    let out = run_on(
        &connector,
        scenario(false, "[run]\nrequests = 10\n"),
        1,
        stop,
    )
    .await;
    assert_eq!(out.interruption.as_deref(), Some("interrupted (SIGTERM)"));
    assert_eq!(
        super::stop_notice(Some(Signal::Terminate)),
        "stopping on SIGTERM: the current point ends now, what was measured is kept and the \
         report is written, marked partial (SIGTERM again to quit at once)"
    );
    assert!(
        super::stop_notice(Some(Signal::Interrupt)).ends_with("(Ctrl-C again to quit at once)")
    );
    assert!(super::stop_notice(None).ends_with("marked partial"));
}

/// Rows of a `requests.csv`, header excluded.
fn log_rows(path: &std::path::Path) -> u64 {
    std::fs::read_to_string(path).unwrap().lines().count() as u64 - 1
}

#[tokio::test(start_paused = true)]
async fn a_stop_mid_run_leaves_every_ended_attempt_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = Journal::start(&path, vec!["chat-c1".into()], crate::journal::CAPACITY).unwrap();
    let stop = Stop::new();
    // One worker; 429, then 200: every request has two attempts. Attempt 41 (the retry of
    // the 21st request) raises the stop and is cut.
    let steps = vec![Step::limited(1_000, "0"), Step::ok(1_000)];
    let connector = ScriptedConnector::new(steps).stopping(41, stop.clone());
    let extra = "[run]\nwarmup_requests = 5\nrequests = 1000\n";
    let out = run_logged(
        &connector,
        scenario(false, extra),
        1,
        stop,
        Some(journal.sender()),
    )
    .await;
    let stats = journal.finish();
    assert!(out.partial);
    let run = &out.points[0].runs[0];
    assert!(run.partial);
    // The report: the 15 measured requests that ended (warmup took 5).
    assert_eq!((run.requests, run.attempts), (15, 30));
    // The log: every attempt that ended — the warmup's 10, the report's 30, and the first
    // attempt of the request the stop abandoned; never the cut one.
    let rows = log_rows(&path);
    assert_eq!(
        (stats.accepted, stats.written, stats.dropped),
        (rows, rows, 0)
    );
    assert_eq!(rows, 41);
}

/// A request-log sink whose writes wait until `open`: the writer stalls on its first
/// write, so a buffer of a few records fills for sure.
#[derive(Clone, Default)]
struct Gate {
    open: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Gate {
    fn open(&self) {
        *self.open.0.lock().unwrap() = true;
        self.open.1.notify_all();
    }

    fn rows(&self) -> u64 {
        let out = self.out.lock().unwrap();
        out.iter().filter(|&&b| b == b'\n').count() as u64 - 1
    }
}

/// Opens the gate when dropped.
struct OpenOnDrop(Gate);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

impl std::io::Write for Gate {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (lock, opened) = &*self.open;
        drop(
            opened
                .wait_while(lock.lock().unwrap(), |open| !*open)
                .unwrap(),
        );
        self.out.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_full_log_buffer_is_counted_in_the_run_and_the_log() {
    // Room for 4 records, and a writer stuck on its first write (after about 5,000 rows):
    // most of the 20,000 records find the buffer full.
    let gate = Gate::default();
    let journal = Journal::with_sink(gate.clone(), vec!["chat-c4".into()], 4).unwrap();
    // Declared after the journal, so dropped before it: a failing test still ends.
    let _opens_on_panic = OpenOnDrop(gate.clone());
    let out = run_logged(
        &ScriptedConnector::new(vec![Step::ok(10)]),
        scenario(false, "[run]\nrequests = 20000\n"),
        4,
        Stop::new(),
        Some(journal.sender()),
    )
    .await;
    gate.open();
    let stats = journal.finish();
    let run = &out.points[0].runs[0];
    assert_eq!(run.attempts, 20_000);
    assert!(stats.dropped > 10_000, "{} dropped", stats.dropped);
    let rows = gate.rows();
    assert_eq!((stats.accepted, stats.written), (rows, rows));
    assert_eq!(
        stats.dropped, run.journal_dropped,
        "the report counts what the log refused"
    );
    assert_eq!(
        rows + stats.dropped,
        20_000,
        "every attempt is a row or a counted drop"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dead_target_is_backed_off_and_every_failure_counted_with_its_message() {
    // Refused in 1 ms, every time, for 10 s. Waits: 10, 20, 40, ... 640 ms, then 1 s:
    // requests start at 0, 11, 32, 73, 154, 315, 636, 1,277 ms, then every 1,001 ms up
    // to 9,285 ms; the 16th ends at 9,286 ms and its wait meets the deadline.
    let out = run_scripted(vec![Step::refused(1_000)], 1, "[run]\nduration = \"10s\"\n").await;
    let run = &out.points[0].runs[0];
    assert_eq!((run.requests, run.outcomes.connect), (16, 16));
    assert!(
        (run.measure_secs - 9.286).abs() < 1e-9,
        "{}",
        run.measure_secs
    );
    let samples: Vec<(&str, &str, u64)> = run
        .error_samples
        .iter()
        .map(|e| (e.kind.as_str(), e.message.as_str(), e.count))
        .collect();
    assert_eq!(samples, [("connect", "connection refused", 16)]);
    assert_eq!(out.points[0].aggregate.error_samples, run.error_samples);
}

#[tokio::test(start_paused = true)]
async fn an_attempt_that_connects_ends_the_backoff() {
    // Refused, refused, answered, refused, ...: 1 ms each. Waits 10 and 20 ms, none after
    // the answer, then 10, 20, 40 ms: the 8th request ends at 108 ms.
    let steps = vec![
        Step::refused(1_000),
        Step::refused(1_000),
        Step::ok(1_000),
        Step::refused(1_000),
    ];
    let out = run_scripted(steps, 1, "[run]\nrequests = 8\n").await;
    let run = &out.points[0].runs[0];
    assert_eq!((run.outcomes.connect, run.outcomes.success), (6, 2));
    assert!(
        (run.measure_secs - 0.108).abs() < 1e-9,
        "{}",
        run.measure_secs
    );
}

#[tokio::test(start_paused = true)]
async fn answers_over_the_size_limits_are_counted_failures() {
    // 17 bytes of JSON against a 10-byte limit; a 30-byte SSE line against a 20-byte one.
    let mut s = scenario(false, "[run]\nrequests = 3\n");
    s.0.target.max_response_bytes = 10;
    let big = Step {
        body: vec![(5, "{\"a\": \"12345678\"}")],
        ..Step::ok(10)
    };
    let out = run_on(&ScriptedConnector::new(vec![big]), s, 1, Stop::new()).await;
    let run = &out.points[0].runs[0];
    assert_eq!((run.outcomes.decode, run.body_bytes), (3, 3 * 17));
    assert_eq!(
        run.error_samples[0].message,
        "larger than `target.max_response_bytes` (10B)"
    );
    let mut s = scenario(true, "[run]\nrequests = 3\n");
    s.0.target.max_event_bytes = 20;
    let long_line = Step {
        body: vec![(5, "data: 0123456789012345678901234")],
        ..Step::stream(5, &[], 10, false)
    };
    let out = run_on(&ScriptedConnector::new(vec![long_line]), s, 1, Stop::new()).await;
    let run = &out.points[0].runs[0];
    assert_eq!(run.outcomes.stream, 3);
    assert_eq!(
        run.error_samples[0].message,
        "larger than `target.max_event_bytes` (20B)"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_before_the_start_gives_a_partial_empty_run() {
    let stop = Stop::new();
    stop.request();
    let connector = ScriptedConnector::new(vec![Step::ok(1)]);
    let out = run_on(
        &connector,
        scenario(false, "[run]\nrequests = 10\n"),
        4,
        stop,
    )
    .await;
    assert!(out.partial);
    assert!(out.points.is_empty());
}

#[test]
fn proxies_apply_unless_no_proxy_excludes_the_host() {
    let url = |s: &str| Url::parse(s).unwrap();
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    };
    assert!(!transport::proxy_applies(
        &url("http://example.com/"),
        env(&[])
    ));
    let proxy = env(&[("http_proxy", "http://proxy:3128")]);
    assert!(transport::proxy_applies(&url("http://example.com/"), proxy));
    let upper = env(&[("HTTP_PROXY", "http://proxy:3128")]);
    assert!(transport::proxy_applies(&url("http://example.com/"), upper));
    let https_only = env(&[("https_proxy", "http://proxy:3128")]);
    assert!(!transport::proxy_applies(
        &url("http://example.com/"),
        https_only
    ));
    assert!(transport::proxy_applies(
        &url("https://example.com/"),
        https_only
    ));
    let all = env(&[("ALL_PROXY", "socks5://proxy:1080"), ("http_proxy", " ")]);
    assert!(transport::proxy_applies(&url("http://example.com/"), all));
    let excluded = env(&[
        ("http_proxy", "http://proxy:3128"),
        ("no_proxy", "localhost, .internal"),
    ]);
    assert!(!transport::proxy_applies(
        &url("http://api.internal:8000/"),
        excluded
    ));
    assert!(!transport::proxy_applies(
        &url("http://localhost:8000/"),
        excluded
    ));
    assert!(transport::proxy_applies(
        &url("http://example.com/"),
        excluded
    ));
    let everything = env(&[("http_proxy", "http://proxy:3128"), ("NO_PROXY", "*")]);
    assert!(!transport::proxy_applies(
        &url("http://example.com/"),
        everything
    ));
}

#[tokio::test(start_paused = true)]
async fn goodput_counts_the_requests_within_every_bound() {
    // Half the answers take 5 ms, half 50 ms; the bound is 20 ms. Closed points are judged
    // too, on latency from the send.
    let steps = vec![Step::ok(5_000), Step::ok(50_000)];
    let slo = "[run]\nrequests = 100\n[slo]\nlatency = { p = 50, max = \"20ms\" }\n\
               success_rate = 100\n";
    let out = run_scripted(steps, 1, slo).await;
    let run = &out.points[0].runs[0];
    let v = run.slo.as_ref().unwrap();
    assert_eq!(v.good, 50);
    assert_eq!(v.goodput_rps, 50.0 / run.measure_secs);
    // The median is the 50th of 100: a 5 ms answer, in the middle of its bucket.
    let latency = &v.checks[0];
    assert_eq!((latency.value, latency.meets), (Some(5.002), true));
    assert!(v.meets);
    let strict = "[run]\nrequests = 100\n[slo]\nlatency = { p = 99, max = \"20ms\" }\n";
    let out = run_scripted(vec![Step::ok(5_000), Step::ok(50_000)], 1, strict).await;
    let v = out.points[0].runs[0].slo.as_ref().unwrap();
    assert_eq!(v.good, 50, "the same requests are good");
    assert!(!v.meets, "but the p99 is 50 ms");
    assert!(!out.points[0].aggregate.slo.as_ref().unwrap().meets);
}
