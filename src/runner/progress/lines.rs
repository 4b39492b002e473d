//! The text of the progress bars, built by small pure functions from one consistent state:
//! the current point's line for a phase of the built-in engine (`phase_line`) or for an
//! external client's run (`client_line`, `client_end_line`), the notice a client's failed or
//! skipped run prints (`client_notice`), and the overall bar's text (`overall_line`).

use std::time::Duration;

use indicatif::HumanDuration;

use crate::external::{ExternalRun, Outcome};
use crate::metrics::Phase;
use crate::report::format_rate;

/// An open loop's part of the current point's line.
#[derive(Debug, Clone)]
pub(super) struct OpenFigures {
    /// The rate as written: `50`, `stages`.
    pub(super) offered: String,
    /// Requests sent so far.
    pub(super) sent: u64,
}

/// The figures of the current point's line.
#[derive(Debug, Clone)]
pub(super) struct PhaseFigures {
    pub(super) run: u32,
    pub(super) runs: u32,
    pub(super) phase: Phase,
    /// Since the phase started.
    pub(super) elapsed: Duration,
    /// The phase's duration limit, if any.
    pub(super) limit: Option<Duration>,
    /// Requests ended so far.
    pub(super) requests: u64,
    /// Of which failed.
    pub(super) errors: u64,
    /// Live p99 latency of successful requests; `None` before the first success.
    pub(super) p99_us: Option<u64>,
    /// An open loop's rate and sends.
    pub(super) open: Option<OpenFigures>,
}

/// `run 1/2 measure 0.4s/1.0s  1,234 req/s  p99 ~2.10 ms  errors 0`; `-` for a rate or p99
/// that does not exist yet.
pub(super) fn phase_line(f: &PhaseFigures) -> String {
    let name = match f.phase {
        Phase::Warmup => "warmup",
        Phase::Measure => "measure",
    };
    let limit = f
        .limit
        .map_or(String::new(), |l| format!("/{}", seconds(l)));
    let per_sec = |n: u64| {
        if n == 0 {
            "-".to_string()
        } else {
            format_rate(n as f64 / f.elapsed.as_secs_f64().max(1e-3))
        }
    };
    let rps = per_sec(f.requests);
    // An open loop: its rate, what was sent of it, and what is still in flight.
    let open = f.open.as_ref().map_or(String::new(), |o| {
        format!(
            "  rate {} sent {}/s  in flight {}",
            o.offered,
            per_sec(o.sent),
            o.sent.saturating_sub(f.requests)
        )
    });
    let p99 = f.p99_us.map_or_else(
        || "-".to_string(),
        |us| format!("~{:.2} ms", us as f64 / 1000.0),
    );
    format!(
        "run {}/{} {name} {}{limit}{open}  {rps} req/s  p99 {p99}  errors {}",
        f.run,
        f.runs,
        seconds(f.elapsed),
        f.errors
    )
}

/// The overall bar's text: points done, and the time left by the plan — the planned time of
/// the points not finished (`estimate - planned_done`), less what the current point has
/// already run.
pub(super) fn overall_line(
    done: usize,
    points: usize,
    estimate: Duration,
    planned_done: Duration,
    current_elapsed: Duration,
) -> String {
    let left = estimate
        .saturating_sub(planned_done)
        .saturating_sub(current_elapsed);
    format!("{done}/{points} points, about {} left", HumanDuration(left))
}

/// `d` in seconds with one decimal: `0.5s`, `12.0s`.
fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// `running `node` (run 2/3) 12.3s/20.0s`: an external client's run, against its warmup and
/// measure time.
pub(super) fn client_line(
    client: &str,
    run: u32,
    runs: u32,
    elapsed: Duration,
    expected: Duration,
) -> String {
    format!(
        "running `{}` (run {run}/{runs}) {}/{}",
        shown(client),
        seconds(elapsed),
        seconds(expected)
    )
}

/// How an external client's run ended, for the current point's line.
pub(super) fn client_end_line(record: &ExternalRun, run: u32, runs: u32) -> String {
    let client = shown(&record.client);
    let took = seconds(std::time::Duration::from_secs_f64(
        record.wall_secs.max(0.0),
    ));
    match &record.outcome {
        Outcome::Completed { figures, .. } => format!(
            "`{client}` run {run}/{runs} done in {took}: {} req/s, errors {}",
            format_rate(figures.throughput_rps),
            figures.errors.total
        ),
        Outcome::Failed { .. } => format!("`{client}` run {run}/{runs} failed after {took}"),
        Outcome::TimedOut { .. } => format!("`{client}` run {run}/{runs} killed after {took}"),
        Outcome::Stopped => format!("`{client}` run {run}/{runs} stopped"),
        Outcome::Skipped { .. } => format!("`{client}` skipped"),
    }
}

/// What a failed, killed or skipped run of an external client prints above the bars; `None`
/// for a run that completed or was stopped.
pub(super) fn client_notice(
    point: &str,
    record: &ExternalRun,
    run: u32,
    runs: u32,
) -> Option<String> {
    let client = shown(&record.client);
    let point = shown(point);
    match &record.outcome {
        Outcome::Failed { reason } => Some(format!(
            "point `{point}`: client `{client}` run {run}/{runs} failed: {}",
            shown(reason)
        )),
        Outcome::TimedOut { limit_secs } => Some(format!(
            "point `{point}`: client `{client}` run {run}/{runs} ran past its time limit of \
             {limit_secs:.1}s (warmup + measure + its `timeout`) and was stopped"
        )),
        Outcome::Skipped { reason } => {
            Some(format!("client `{client}` skipped: {}", shown(reason)))
        }
        Outcome::Completed { .. } | Outcome::Stopped => None,
    }
}

/// `text` with control characters escaped: what a client wrote is shown, never obeyed.
fn shown(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_debug().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> PhaseFigures {
        PhaseFigures {
            run: 1,
            runs: 2,
            phase: Phase::Warmup,
            elapsed: Duration::ZERO,
            limit: Some(Duration::from_millis(200)),
            requests: 0,
            errors: 0,
            p99_us: None,
            open: None,
        }
    }

    #[test]
    fn a_phase_that_just_started_shows_no_figures() {
        assert_eq!(
            phase_line(&figures()),
            "run 1/2 warmup 0.0s/0.2s  - req/s  p99 -  errors 0"
        );
    }

    #[test]
    fn a_phase_line_shows_rate_p99_and_errors() {
        let line = phase_line(&PhaseFigures {
            phase: Phase::Measure,
            elapsed: Duration::from_millis(2_000),
            limit: None,
            requests: 2_469,
            errors: 3,
            p99_us: Some(2_100),
            ..figures()
        });
        assert_eq!(
            line,
            "run 1/2 measure 2.0s  1,234 req/s  p99 ~2.10 ms  errors 3"
        );
        // A 429 route waiting out Retry-After: one request in two seconds.
        let slow = phase_line(&PhaseFigures {
            elapsed: Duration::from_millis(2_016),
            requests: 1,
            ..figures()
        });
        assert!(slow.contains("  0.496 req/s  "), "{slow}");
    }

    #[test]
    fn an_open_loop_line_shows_its_rate_sends_and_requests_in_flight() {
        let line = phase_line(&PhaseFigures {
            phase: Phase::Measure,
            elapsed: Duration::from_secs(2),
            limit: Some(Duration::from_secs(10)),
            requests: 97,
            open: Some(OpenFigures {
                offered: "50".into(),
                sent: 100,
            }),
            ..figures()
        });
        assert_eq!(
            line,
            "run 1/2 measure 2.0s/10.0s  rate 50 sent 50.0/s  in flight 3  48.5 req/s  p99 -  \
             errors 0"
        );
    }

    #[test]
    fn the_overall_line_counts_down_the_plan() {
        let minute = Duration::from_secs(60);
        assert_eq!(
            overall_line(0, 4, 4 * minute, Duration::ZERO, Duration::ZERO),
            "0/4 points, about 4 minutes left"
        );
        assert_eq!(
            overall_line(1, 4, 4 * minute, minute, minute),
            "1/4 points, about 2 minutes left"
        );
        assert_eq!(
            overall_line(4, 4, 4 * minute, 4 * minute, minute),
            "4/4 points, about 0 seconds left"
        );
    }

    #[test]
    fn a_client_line_counts_up_to_its_phases() {
        assert_eq!(
            client_line(
                "node",
                2,
                3,
                Duration::from_millis(12_340),
                Duration::from_secs(20)
            ),
            "running `node` (run 2/3) 12.3s/20.0s"
        );
    }

    #[test]
    fn a_client_run_ends_in_a_line_and_only_trouble_prints_a_notice() {
        use crate::external::{ClientFigures, ErrorCounts, FiguresSource, Percentiles};
        let record = |outcome| ExternalRun {
            client: "no\u{1b}de".into(),
            lang: "node".into(),
            outcome,
            wall_secs: 6.04,
            exit: None,
            resources: None,
            parent_cpu_secs: 0.0,
            stdout_bytes: 0,
            stderr_bytes: 0,
            stderr_tail: String::new(),
            stopped_leftovers: false,
        };
        let done = record(Outcome::Completed {
            figures: Box::new(ClientFigures {
                lang: "node".into(),
                route: "/".into(),
                concurrency: 1,
                payload_size: None,
                reqs: 2_469,
                throughput_rps: 1_234.5,
                latency_ms: Percentiles {
                    p50: None,
                    p95: None,
                    p99: None,
                },
                errors: ErrorCounts {
                    non2xx: 0,
                    timeouts: 0,
                    total: 3,
                },
                success_rate: None,
                timestamp: None,
                test_config: None,
                sse_bytes_per_sec: None,
                time_to_first_ms: None,
                total_bytes: None,
            }),
            source: FiguresSource::Stdout,
        });
        assert_eq!(
            client_end_line(&done, 1, 2),
            "`no\\u{1b}de` run 1/2 done in 6.0s: 1,234 req/s, errors 3"
        );
        assert_eq!(client_notice("p", &done, 1, 2), None);
        let failed = record(Outcome::Failed {
            reason: "the client exited with code 3".into(),
        });
        assert_eq!(
            client_notice("chat-c1", &failed, 2, 2).unwrap(),
            "point `chat-c1`: client `no\\u{1b}de` run 2/2 failed: the client exited with code 3"
        );
        let killed = record(Outcome::TimedOut { limit_secs: 36.0 });
        assert!(
            client_notice("p", &killed, 1, 1)
                .unwrap()
                .contains("time limit of 36.0s")
        );
        assert_eq!(client_notice("p", &record(Outcome::Stopped), 1, 1), None);
    }
}
