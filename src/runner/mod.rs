//! Drives load: for each point, `concurrency` closed-loop workers run the warmup and measure
//! phases `runs` times through a `Transport`, retrying 429s per the policy; per-worker
//! recorders are merged into `RunStats`. Progress goes to the bars through live counters.

mod exchange;
mod live;
pub mod openai;
mod point;
mod progress;
pub mod sse;
mod transport;
mod worker;

use std::time::SystemTime;

use url::Url;

pub use crate::stop::Stop;

use crate::journal::JournalSender;
use crate::metrics::PointResult;
use crate::scenario::{self, BaseUrl, Point, Scenario, TransportKind};
use point::{RunCtx, run_point};
use progress::Progress;
use transport::{Connector, HyperConnector, Prepared, ReqwestConnector};

/// How a run is shown, recorded and stopped.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Hide the progress bars.
    pub quiet: bool,
    /// Where per-request records go, when the request log is on.
    pub journal: Option<JournalSender>,
    /// The stop signal; `None` installs Ctrl-C handling (first stops, second exits).
    pub stop: Option<Stop>,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// One result per point started, in plan order.
    pub points: Vec<PointResult>,
    /// Whether the run stopped before every point finished (Ctrl-C or error).
    pub partial: bool,
    /// Why it stopped early, when `partial` (e.g. "interrupted (Ctrl-C)").
    pub interruption: Option<String>,
    /// When the first point started.
    pub started: SystemTime,
    /// When the last point ended.
    pub finished: SystemTime,
}

/// A run that could not go on (a failed request is data, not this).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The transport could not be built (bad TLS setup, unsupported URL).
    #[error("cannot set up the HTTP client: {0}")]
    Transport(String),
}

/// Run every point of `points` against `base` (the resolved base URL) in order.
/// A run cut short still returns `Ok` with what was measured, marked partial.
pub async fn run(
    scenario: &Scenario,
    points: &[Point],
    base: &Url,
    options: RunOptions,
) -> Result<RunOutcome, RunError> {
    let max_concurrency = points
        .iter()
        .map(|p| p.concurrency.get() as usize)
        .max()
        .unwrap_or(1);
    // The built-in mock listens on loopback for this run alone: never through a proxy.
    let (shown, use_proxies) = match &scenario.target.base_url {
        BaseUrl::Mock => (base.as_str(), false),
        BaseUrl::Url { display, .. } => (display.display.as_str(), true),
    };
    let use_hyper = match scenario.target.transport {
        TransportKind::Hyper => true,
        TransportKind::Reqwest => false,
        // The hyper path knows no proxies: when one applies, reqwest goes through it.
        TransportKind::Auto => {
            base.scheme() == "http" && !(use_proxies && transport::proxy_applies(base))
        }
    };
    if use_hyper {
        let connector = HyperConnector::new(base, shown, &scenario.target).await?;
        run_with(&connector, scenario, points, base, options).await
    } else {
        let connector = ReqwestConnector::new(&scenario.target, max_concurrency, use_proxies)?;
        run_with(&connector, scenario, points, base, options).await
    }
}

async fn run_with<C: Connector>(
    connector: &C,
    scenario: &Scenario,
    points: &[Point],
    base: &Url,
    options: RunOptions,
) -> Result<RunOutcome, RunError> {
    let requests = points
        .iter()
        .map(|p| Prepared::new(p, base, &scenario.target))
        .collect::<Result<Vec<_>, _>>()?;
    let stop = options.stop.unwrap_or_else(Stop::on_ctrl_c);
    let estimate = scenario::estimate(scenario, points);
    let per_point = estimate.wall / points.len().max(1) as u32;
    let progress = Progress::new(points.len(), estimate.wall, options.quiet);
    let notice = tokio::spawn({
        let (stop, progress) = (stop.clone(), progress.clone());
        async move {
            stop.requested().await;
            progress.println(
                "stopping: the current point ends now, what was measured is kept and the \
                 report is written, marked partial (Ctrl-C again to quit at once)",
            );
        }
    });
    let ctx = RunCtx {
        scenario,
        stop: stop.clone(),
        journal: options.journal,
        run_start: tokio::time::Instant::now(),
        progress: &progress,
    };
    let started = SystemTime::now();
    let mut results = Vec::with_capacity(points.len());
    for (done, (point, req)) in points.iter().zip(requests).enumerate() {
        if stop.is_requested() {
            break;
        }
        progress.point_started(&point.id);
        results.push(run_point(connector, point, req, &ctx, done).await);
        progress.point_finished(done + 1, per_point);
    }
    progress.finish();
    notice.abort();
    let partial =
        stop.is_requested() || results.len() < points.len() || results.iter().any(|p| p.partial);
    Ok(RunOutcome {
        points: results,
        partial,
        interruption: partial.then(|| "interrupted (Ctrl-C)".to_string()),
        started,
        finished: SystemTime::now(),
    })
}

#[cfg(test)]
mod tests {
    //! The pipeline on a scripted transport and tokio's paused clock: exact numbers, no
    //! sockets, no waiting.

    use super::transport::scripted::{ScriptedConnector, Step};
    use super::*;
    use crate::journal::Journal;
    use crate::scenario::Overrides;

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
            p.concurrency = std::num::NonZeroU32::new(concurrency).unwrap();
        }
        let options = RunOptions {
            quiet: true,
            journal,
            stop: Some(stop),
        };
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        run_with(connector, &s, &points, &base, options)
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
    async fn warmup_is_discarded_and_runs_repeat() {
        let out = run_scripted(
            vec![Step::ok(10)],
            4,
            "[run]\nruns = 3\nwarmup = \"1h\"\nwarmup_requests = 7\nrequests = 20\n",
        )
        .await;
        let point = &out.points[0];
        assert_eq!(point.runs.len(), 3);
        assert!(point.runs.iter().all(|r| r.requests == 20));
        assert_eq!(point.aggregate.totals.requests, 60);
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
        let point = &out.points[0];
        assert!(point.partial);
        assert_eq!(point.runs.len(), 1, "later runs never start");
        let run = &point.runs[0];
        assert!(run.partial);
        assert_eq!((run.requests, run.attempts), (10, 10));
        assert_eq!(run.outcomes.success, 10);
    }

    /// Rows of a `requests.csv`, header excluded.
    fn log_rows(path: &std::path::Path) -> u64 {
        std::fs::read_to_string(path).unwrap().lines().count() as u64 - 1
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_mid_run_leaves_every_ended_attempt_in_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requests.csv");
        let journal =
            Journal::start(&path, vec!["chat-c1".into()], crate::journal::CAPACITY).unwrap();
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

    #[tokio::test(start_paused = true)]
    async fn a_full_log_buffer_is_counted_in_the_run_and_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requests.csv");
        // Room for 4 records: a paused-clock run outpaces the writer by far.
        let journal = Journal::start(&path, vec!["chat-c4".into()], 4).unwrap();
        let out = run_logged(
            &ScriptedConnector::new(vec![Step::ok(10)]),
            scenario(false, "[run]\nrequests = 2000\n"),
            4,
            Stop::new(),
            Some(journal.sender()),
        )
        .await;
        let stats = journal.finish();
        let run = &out.points[0].runs[0];
        assert_eq!(run.attempts, 2000);
        let rows = log_rows(&path);
        assert_eq!((stats.accepted, stats.written), (rows, rows));
        assert_eq!(
            stats.dropped, run.journal_dropped,
            "the report counts what the log refused"
        );
        assert_eq!(
            rows + stats.dropped,
            2000,
            "every attempt is a row or a counted drop"
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
        // Environment variables are process-wide: this is the only test that sets them.
        let url = |s: &str| Url::parse(s).unwrap();
        // SAFETY: no other test reads or writes these variables.
        unsafe {
            for v in [
                "http_proxy",
                "HTTP_PROXY",
                "all_proxy",
                "ALL_PROXY",
                "no_proxy",
                "NO_PROXY",
            ] {
                std::env::remove_var(v);
            }
        }
        assert!(!transport::proxy_applies(&url("http://example.com/")));
        unsafe { std::env::set_var("http_proxy", "http://proxy:3128") };
        assert!(transport::proxy_applies(&url("http://example.com/")));
        unsafe { std::env::set_var("no_proxy", "localhost, .internal") };
        assert!(!transport::proxy_applies(&url("http://api.internal:8000/")));
        assert!(!transport::proxy_applies(&url("http://localhost:8000/")));
        assert!(transport::proxy_applies(&url("http://example.com/")));
        unsafe {
            std::env::remove_var("http_proxy");
            std::env::remove_var("no_proxy");
        }
    }
}
