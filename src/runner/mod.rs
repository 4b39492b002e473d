//! Drives load: for each point, `concurrency` closed-loop workers run the warmup and measure
//! phases `runs` times through a `Transport`, retrying 429s per the policy; per-worker
//! recorders are merged into `RunStats`. Progress goes to the bars through live counters.

mod exchange;
mod live;
pub mod openai;
mod point;
mod progress;
pub mod sse;
mod stop;
mod transport;
mod worker;

use std::time::{Instant, SystemTime};

use url::Url;

pub use stop::Stop;

use crate::journal::JournalSender;
use crate::metrics::PointResult;
use crate::scenario::{self, Point, Scenario, TransportKind};
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
    let use_hyper = match scenario.target.transport {
        TransportKind::Hyper => true,
        TransportKind::Reqwest => false,
        TransportKind::Auto => base.scheme() == "http",
    };
    if use_hyper {
        let connector = HyperConnector::new(base, &scenario.target).await?;
        run_with(&connector, scenario, points, base, options).await
    } else {
        let connector = ReqwestConnector::new(&scenario.target, max_concurrency)?;
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
    let ctx = RunCtx {
        scenario,
        stop: stop.clone(),
        journal: options.journal,
        run_start: Instant::now(),
        progress: &progress,
        runtime_threads: tokio::runtime::Handle::current().metrics().num_workers(),
    };
    let started = SystemTime::now();
    let mut results = Vec::with_capacity(points.len());
    for (done, (point, req)) in points.iter().zip(requests).enumerate() {
        if stop.is_requested() {
            break;
        }
        progress.point_started(&point.id);
        results.push(run_point(connector, point, req, &ctx).await);
        progress.point_finished(done + 1, points.len(), per_point);
    }
    progress.finish();
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
    use super::transport::scripted::{ScriptedConnector, Step};
    use super::*;
    use crate::metrics::FailureKind;
    use crate::scenario::Overrides;

    fn scenario(extra: &str) -> (Scenario, Vec<Point>) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        let text = format!(
            "[target]\nbase_url = \"http://127.0.0.1:9\"\n[routes.chat]\npath = \"/v1/chat/completions\"\n\
             [matrix]\nroute = [\"chat\"]\nconcurrency = [4]\n{extra}"
        );
        std::fs::write(&file, text).unwrap();
        let s = crate::scenario::load_with_env(&file, &Overrides::default(), &|_| None).unwrap();
        let points = crate::scenario::expand(&s).unwrap();
        (s, points)
    }

    async fn run_scripted(steps: Vec<Step>, extra: &str) -> RunOutcome {
        let (s, points) = scenario(extra);
        let connector = ScriptedConnector::new(steps);
        let options = RunOptions {
            quiet: true,
            journal: None,
            stop: Some(Stop::new()),
        };
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        run_with(&connector, &s, &points, &base, options)
            .await
            .unwrap()
    }

    fn ok(latency_us: u64) -> Step {
        Step {
            latency_us,
            status: 200,
            failure: None,
        }
    }

    #[tokio::test]
    async fn scripted_latencies_give_exact_percentiles_and_counts() {
        // 100 requests with latencies 1..=100 µs (exact in the histogram below 256 µs).
        let steps = (1..=100).map(ok).collect();
        let out = run_scripted(steps, "[run]\nrequests = 100\n").await;
        let run = &out.points[0].runs[0];
        assert_eq!(run.requests, 100);
        assert_eq!(run.outcomes.success, 100);
        assert_eq!(run.latency.min_us, 1);
        assert_eq!(run.latency.p50_us, 50);
        assert_eq!(run.latency.p90_us, 90);
        assert_eq!(run.latency.p99_us, 99);
        assert_eq!(run.latency.max_us, 100);
        assert_eq!(run.latency.mean_us, 50.5);
        assert!(!out.partial);
    }

    #[tokio::test]
    async fn warmup_is_discarded_and_runs_repeat() {
        let steps = vec![ok(10)];
        let out = run_scripted(
            steps,
            "[run]\nruns = 3\nwarmup = \"1h\"\nwarmup_requests = 7\nrequests = 20\n",
        )
        .await;
        let point = &out.points[0];
        assert_eq!(point.runs.len(), 3);
        assert!(point.runs.iter().all(|r| r.requests == 20));
        assert_eq!(point.aggregate.totals.requests, 60);
    }

    #[tokio::test]
    async fn retries_follow_the_policy_and_count_apart() {
        // Every request: 429, 429, then 200 — two retries each, all within `max = 3`.
        let limited = Step {
            latency_us: 5,
            status: 429,
            failure: Some(FailureKind::Status(429)),
        };
        let steps = vec![limited, limited, ok(20)];
        let (s, points) =
            scenario("[run]\nrequests = 30\n[run.retry]\nmax = 3\nbackoff = \"0s\"\n");
        // One worker so the script's order is each request's order.
        let mut points = points;
        points[0].concurrency = std::num::NonZeroU32::MIN;
        let connector = ScriptedConnector::new(steps);
        let options = RunOptions {
            quiet: true,
            journal: None,
            stop: Some(Stop::new()),
        };
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        let out = run_with(&connector, &s, &points, &base, options)
            .await
            .unwrap();
        let run = &out.points[0].runs[0];
        assert_eq!((run.requests, run.attempts, run.retries), (30, 90, 60));
        assert_eq!(run.first_attempt.status.get(&429), Some(&30));
        assert_eq!(run.outcomes.success, 30);
        assert_eq!(run.latency.p50_us, 30, "5 + 5 + 20 µs, waits of zero");
    }

    #[tokio::test]
    async fn a_stop_before_the_start_gives_a_partial_empty_run() {
        let (s, points) = scenario("[run]\nrequests = 10\n");
        let stop = Stop::new();
        stop.request();
        let connector = ScriptedConnector::new(vec![ok(1)]);
        let options = RunOptions {
            quiet: true,
            journal: None,
            stop: Some(stop),
        };
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        let out = run_with(&connector, &s, &points, &base, options)
            .await
            .unwrap();
        assert!(out.partial);
        assert!(out.points.is_empty());
    }
}
