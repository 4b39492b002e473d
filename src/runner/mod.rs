//! Drives load: for each point, its workers run the warmup and measure phases `runs` times
//! through a `Transport` — a closed loop's `concurrency` workers, or an open loop's pool fed
//! by a dispatcher at each request's intended start (`open`, `schedule`) — retrying 429s per
//! the policy; the per-thread recorders are merged into `RunStats`. A search point's run is a
//! series of open-loop probes (`search`). A point of an external client is run by its program
//! instead (`client`); `point` is the seam between the two drivers. Progress goes to the bars
//! as events (`events`), with the workers' live counters.

mod cause;
mod client;
mod events;
mod exchange;
mod json_scan;
mod limits;
mod live;
mod open;
pub mod openai;
mod point;
mod progress;
mod schedule;
mod search;
pub mod sse;
mod transport;
mod worker;

use std::sync::Arc;
use std::time::SystemTime;

use url::Url;

use crate::stop::Signal;
pub use crate::stop::Stop;
pub(crate) use limits::raise_open_files;

use crate::journal::JournalSender;
use crate::metrics::PointResult;
use crate::scenario::{self, BaseUrl, ClientRef, Point, Scenario, TransportKind};
use events::{Event, Subscriber};
use open::Pacing;
use point::{RunCtx, run_point};
use progress::Progress;
use transport::{Connector, HyperConnector, LeanConnector, Prepared, ReqwestConnector};

/// How a run is shown, recorded and stopped.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Hide the progress bars.
    pub quiet: bool,
    /// Where per-request records go, when the request log is on.
    pub journal: Option<JournalSender>,
    /// The stop signal; `None` installs Ctrl-C handling (first stops, second exits).
    pub stop: Option<Stop>,
    /// Called with each point's result as it finishes (not the last point's, nor one a stop
    /// cut short); a reason it returns ends the run there.
    pub after_point: Option<AfterPoint>,
}

/// A look at each finished point that may end the run (thresholds with `abort_on_fail`): the
/// runner knows only that a reason came back, not what was judged.
#[derive(Clone)]
pub struct AfterPoint(Arc<PointCheck>);

/// What an `AfterPoint` runs: the reason to end the run after this point, if any.
type PointCheck = dyn Fn(&PointResult) -> Option<String> + Send + Sync;

impl AfterPoint {
    /// `check` returns why the run must end after a point, or `None` to go on.
    pub fn new(check: impl Fn(&PointResult) -> Option<String> + Send + Sync + 'static) -> Self {
        Self(Arc::new(check))
    }
}

impl std::fmt::Debug for AfterPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AfterPoint")
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// One result per point started, in plan order.
    pub points: Vec<PointResult>,
    /// Whether the run stopped before every point finished (Ctrl-C or error).
    pub partial: bool,
    /// Why it stopped early, when `partial`: "interrupted (SIGTERM)", naming the signal that
    /// stopped it, or "interrupted" for a stop no signal raised.
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
    /// A point needs more open files (one per connection) than the process may have.
    #[error(
        "point `{point}` needs about {} file descriptors; this process may open {} ({}); \
         raise it with `ulimit -n` or lower the concurrency",
        limits::grouped(*.needed),
        limits::grouped(*.limit),
        if *.hard { "hard limit" } else { "soft limit" }
    )]
    OpenFiles {
        /// The point with the most connections.
        point: String,
        /// Descriptors it needs, about.
        needed: u64,
        /// Descriptors the process may open.
        limit: u64,
        /// Whether `limit` is the hard limit.
        hard: bool,
    },
}

/// Run every point of `points` against `base` (the resolved base URL) in order.
/// A run cut short still returns `Ok` with what was measured, marked partial.
pub async fn run(
    scenario: &Scenario,
    points: &[Point],
    base: &Url,
    options: RunOptions,
) -> Result<RunOutcome, RunError> {
    if let Some(files) = limits::raise_open_files() {
        // The longest a request stays in flight: every attempt to its timeout, and the retry
        // waits between them.
        let retry = &scenario.run.retry;
        let longest = scenario.target.timeout * (retry.max + 1) + retry.max_wait * retry.max;
        // An external client's connections are its own process's.
        let engine: Vec<Point> = points
            .iter()
            .filter(|p| p.client == ClientRef::Builtin)
            .cloned()
            .collect();
        limits::check(&engine, longest, files, limits::open_now())?;
    }
    let max_concurrency = points
        .iter()
        .filter(|p| p.client == ClientRef::Builtin)
        .map(|p| p.load.max_in_flight() as usize)
        .max()
        .unwrap_or(1);
    // The built-in mock listens on loopback for this run alone: never through a proxy.
    let (shown, use_proxies) = match &scenario.target.base_url {
        BaseUrl::Mock => (base.as_str(), false),
        BaseUrl::Url { display, .. } => (display.display.as_str(), true),
    };
    let kind = match scenario.target.transport {
        // Plain http:// goes the lean way (the fewest instructions per request, and counted
        // as hyper counts). The connection-per-worker paths know no proxies: when one
        // applies, reqwest goes through it.
        TransportKind::Auto
            if base.scheme() == "http"
                && !(use_proxies && transport::proxy_applies(base, |v| std::env::var(v).ok())) =>
        {
            TransportKind::Lean
        }
        TransportKind::Auto => TransportKind::Reqwest,
        kind => kind,
    };
    match kind {
        TransportKind::Hyper => {
            let connector = HyperConnector::new(base, shown, &scenario.target).await?;
            run_with(&connector, scenario, points, base, options, Pacing::Precise).await
        }
        TransportKind::Lean => {
            let connector = LeanConnector::new(base, shown, &scenario.target).await?;
            run_with(&connector, scenario, points, base, options, Pacing::Precise).await
        }
        TransportKind::Reqwest | TransportKind::Auto => {
            let connector = ReqwestConnector::new(&scenario.target, max_concurrency, use_proxies)?;
            run_with(&connector, scenario, points, base, options, Pacing::Precise).await
        }
    }
}

/// `run` through `connector`, open loops waiting for intended starts as `pacing` says.
async fn run_with<C: Connector>(
    connector: &C,
    scenario: &Scenario,
    points: &[Point],
    base: &Url,
    options: RunOptions,
    pacing: Pacing,
) -> Result<RunOutcome, RunError> {
    let requests = points
        .iter()
        .map(|p| Prepared::new(p, base, &scenario.target))
        .collect::<Result<Vec<_>, _>>()?;
    let stop = options.stop.unwrap_or_else(Stop::on_ctrl_c);
    let estimate = scenario::estimate(scenario, points);
    let progress = Progress::new(points.len(), estimate.wall, options.quiet);
    let notice = tokio::spawn({
        let (stop, progress) = (stop.clone(), progress.clone());
        async move {
            stop.requested().await;
            progress.println(&stop_notice(stop.signal()));
        }
    });
    let ctx = RunCtx {
        scenario,
        base,
        stop: stop.clone(),
        journal: options.journal,
        run_start: tokio::time::Instant::now(),
        events: &progress,
        pacing,
    };
    let started = SystemTime::now();
    let mut results = Vec::with_capacity(points.len());
    let mut ended = None;
    for (done, (point, req)) in points.iter().zip(requests).enumerate() {
        if stop.is_requested() {
            break;
        }
        progress.on(Event::PointStarted {
            id: &point.id,
            done,
            planned: scenario::point_estimate(scenario, point).wall,
        });
        let result = run_point(connector, point, req, &ctx).await;
        // A point a stop cut short is not judged: the stop says why the run ended.
        ended = match &options.after_point {
            Some(check) if !stop.is_requested() && done + 1 < points.len() => (check.0)(&result),
            _ => None,
        };
        results.push(result);
        progress.on(Event::PointFinished { done: done + 1 });
        if let Some(reason) = &ended {
            progress.println(&format!("stopping after this point: {reason}"));
            break;
        }
    }
    progress.finish();
    notice.abort();
    let partial =
        stop.is_requested() || results.len() < points.len() || results.iter().any(|p| p.partial);
    Ok(RunOutcome {
        points: results,
        partial,
        interruption: partial.then(|| {
            ended.unwrap_or_else(|| match stop.signal() {
                Some(signal) => format!("interrupted ({})", signal.name()),
                None => "interrupted".to_string(),
            })
        }),
        started,
        finished: SystemTime::now(),
    })
}

/// What the runner says when a stop arrives, naming the signal that asked for it: the same
/// signal again quits at once (so does any other of SIGINT, SIGTERM and SIGHUP under `run`).
fn stop_notice(signal: Option<Signal>) -> String {
    let (on, quit) = match signal {
        Some(s) => (
            format!(" on {}", s.name()),
            format!(" ({} again to quit at once)", s.name()),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        "stopping{on}: the current point ends now, what was measured is kept and the report is \
         written, marked partial{quit}"
    )
}

#[cfg(test)]
mod tests;
