//! External clients' runs as measurements: a completed run's figures (the benchmark
//! framework's per-point object, read by `crate::external`) turned into a `RunStats` that
//! aggregates like the built-in engine's, and the record of every run of a client's point.
//!
//! What a client does not report stays absent: it sends three latency percentiles and no
//! histogram, so p90, p99.9, the mean and TTFB do not exist; no token usage; error kinds only
//! as non-2xx, timeouts and the rest. Its process is measured from outside over its whole
//! life — start-up, warmup and measure — so its CPU per 1,000 requests is an estimate (see
//! [`ExternalFigures::cpu_per_1k_requests`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::summary::{ClientStats, OutcomeCounts, RunStats};
use crate::external::{ExternalRun, Outcome, Percentiles};

/// How much of a client's stderr `results.json` keeps per run, bytes (its end).
pub const KEPT_STDERR_BYTES: usize = 4096;

/// What an external client reported beyond the counts of its `RunStats`, and what its run
/// cost. Figures it did not report are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalFigures {
    /// Latency of successful requests as the client computed it, ms.
    pub latency_ms: Percentiles,
    /// Time to first token, ms (streams, when reported).
    pub ttft_ms: Option<Percentiles>,
    /// Stream bytes per second (streams, when reported).
    pub sse_bytes_per_sec: Option<f64>,
    /// Stream body bytes of the measure phase (streams, when reported).
    pub total_bytes: Option<u64>,
    /// CPU seconds of the client's process tree per 1,000 requests: its whole life's CPU over
    /// the requests of warmup and measure, those of the warmup estimated at the measure
    /// phase's rate (`reqs × (warmup + T) / T`). `None` without requests.
    pub cpu_per_1k_requests: Option<f64>,
    /// CPU seconds this process spent while the client ran: the cost of watching it.
    pub parent_cpu_secs: f64,
    /// From spawn to exit, seconds.
    pub wall_secs: f64,
}

/// An external client's point: who ran it and every run as it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// The client's name (`[clients.NAME]`).
    pub name: String,
    /// Its label in reports: the client's `lang`, else the one it reported, else its name.
    pub lang: String,
    /// Every run, in order: completed ones (whose figures are also the point's `runs`),
    /// failed, timed out, stopped and skipped ones; stderr cut to its last
    /// [`KEPT_STDERR_BYTES`].
    pub runs: Vec<ExternalRun>,
}

/// The phases a client was told to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientPhases {
    /// `WARMUP_SECONDS`.
    pub warmup: Duration,
    /// `T`.
    pub measure: Duration,
}

impl ClientRecord {
    /// A record of no runs yet.
    pub fn new(name: impl Into<String>, lang: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            lang: lang.into(),
            runs: Vec::new(),
        }
    }

    /// Keep `run`, its stderr cut to its end; the label becomes the one the run settled.
    pub fn push(&mut self, mut run: ExternalRun) {
        run.stderr_tail = tail(&run.stderr_tail, KEPT_STDERR_BYTES).to_string();
        if run.figures().is_some() || self.runs.is_empty() {
            self.lang.clone_from(&run.lang);
        }
        self.runs.push(run);
    }

    /// Why the client was skipped (its program is not installed), if it was.
    pub fn skipped(&self) -> Option<&str> {
        self.runs.iter().find_map(|r| match &r.outcome {
            Outcome::Skipped { reason } => Some(reason.as_str()),
            _ => None,
        })
    }

    /// Runs that failed or were killed for running too long.
    pub fn failed_runs(&self) -> u64 {
        let failed = |r: &&ExternalRun| {
            matches!(r.outcome, Outcome::Failed { .. } | Outcome::TimedOut { .. })
        };
        self.runs.iter().filter(failed).count() as u64
    }
}

/// The last `max` bytes of `text`, from a character boundary.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

impl RunStats {
    /// Client CPU seconds per 1,000 requests: of the measure phase for the built-in engine,
    /// estimated over the whole process for an external client; `None` without requests.
    pub fn cpu_per_1k_requests(&self) -> Option<f64> {
        match &self.external {
            Some(e) => e.cpu_per_1k_requests,
            None => {
                (self.requests > 0).then(|| self.client.cpu_secs * 1000.0 / self.requests as f64)
            }
        }
    }
}

/// Run number `run` of a client as a `RunStats`, when it completed with figures.
pub fn run_stats(run: u32, record: &ExternalRun, phases: ClientPhases) -> Option<RunStats> {
    let f = record.figures()?;
    let e = &f.errors;
    let outcomes = OutcomeCounts {
        success: f.reqs - e.total,
        timeout: e.timeouts,
        status_unknown: e.non2xx,
        other: e.total - e.non2xx - e.timeouts,
        ..OutcomeCounts::default()
    };
    let resources = record.resources;
    let cpu_secs = resources.map_or(0.0, |r| r.cpu_secs);
    let measure = phases.measure.as_secs_f64();
    let life = (phases.warmup + phases.measure).as_secs_f64();
    let cpu_per_1k_requests = (f.reqs > 0 && measure > 0.0 && resources.is_some())
        .then(|| cpu_secs * 1000.0 / (f.reqs as f64 * life / measure));
    let success_share = if f.reqs == 0 {
        0.0
    } else {
        outcomes.success as f64 / f.reqs as f64
    };
    Some(RunStats {
        run,
        measure_secs: measure,
        requests: f.reqs,
        attempts: f.reqs,
        first_attempt: outcomes.clone(),
        outcomes,
        throughput_rps: f.throughput_rps,
        success_rps: f.throughput_rps * success_share,
        success_rate: f.success_rate,
        body_bytes: f.total_bytes.unwrap_or(0),
        client: ClientStats {
            peak_rss_bytes: resources.map_or(0, |r| r.peak_rss_bytes),
            cpu_secs,
            cpu_utilization: if record.wall_secs > 0.0 {
                cpu_secs / record.wall_secs
            } else {
                0.0
            },
            ..ClientStats::default()
        },
        external: Some(ExternalFigures {
            latency_ms: f.latency_ms,
            ttft_ms: f.time_to_first_ms,
            sse_bytes_per_sec: f.sse_bytes_per_sec,
            total_bytes: f.total_bytes,
            cpu_per_1k_requests,
            parent_cpu_secs: record.parent_cpu_secs,
            wall_secs: record.wall_secs,
        }),
        ..RunStats::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::external::{ClientFigures, ErrorCounts, ExitInfo, FiguresSource, ResourceUse};

    fn figures() -> ClientFigures {
        ClientFigures {
            lang: "node".into(),
            route: "/v1/chat/completions".into(),
            concurrency: 8,
            payload_size: Some("S".into()),
            reqs: 1_000,
            throughput_rps: 200.0,
            latency_ms: Percentiles {
                p50: Some(1.5),
                p95: Some(2.5),
                p99: None,
            },
            errors: ErrorCounts {
                non2xx: 30,
                timeouts: 10,
                total: 50,
            },
            success_rate: Some(95.0),
            timestamp: None,
            test_config: None,
            sse_bytes_per_sec: None,
            time_to_first_ms: None,
            total_bytes: None,
        }
    }

    fn record(outcome: Outcome) -> ExternalRun {
        ExternalRun {
            client: "node".into(),
            lang: "node".into(),
            outcome,
            wall_secs: 6.0,
            exit: Some(ExitInfo {
                code: Some(0),
                signal: None,
            }),
            resources: Some(ResourceUse {
                user_cpu_secs: 2.0,
                system_cpu_secs: 1.0,
                cpu_secs: 3.0,
                peak_rss_bytes: 64 << 20,
                sampled_tree_rss_bytes: 64 << 20,
                process_hwm_bytes: 60 << 20,
                kernel_max_rss_bytes: None,
                rss_samples: 300,
            }),
            parent_cpu_secs: 0.01,
            stdout_bytes: 10,
            stderr_bytes: 5_000,
            stderr_tail: "é".repeat(2_500),
            stopped_leftovers: false,
        }
    }

    fn completed() -> ExternalRun {
        record(Outcome::Completed {
            figures: Box::new(figures()),
            source: FiguresSource::ResultsFile,
        })
    }

    const PHASES: ClientPhases = ClientPhases {
        warmup: Duration::from_secs(1),
        measure: Duration::from_secs(5),
    };

    #[test]
    fn a_completed_run_counts_what_the_client_reported_and_nothing_more() {
        let r = run_stats(2, &completed(), PHASES).unwrap();
        assert_eq!((r.run, r.requests, r.retries), (2, 1_000, 0));
        assert_eq!(r.outcomes.success, 950);
        assert_eq!(r.outcomes.failures(), 50);
        assert_eq!(r.outcomes.non2xx(), 30);
        assert_eq!((r.outcomes.timeout, r.outcomes.other), (10, 10));
        assert_eq!(r.success_rps, 190.0);
        assert_eq!(r.latency, None, "no histogram");
        assert_eq!(r.usage.completion_tokens_per_sec, None);
        let e = r.external.as_ref().unwrap();
        assert_eq!(e.latency_ms.p99, None, "not reported, not zero");
        // 3 CPU seconds over 1,000 measured requests and 200 more estimated in the warmup.
        assert_eq!(e.cpu_per_1k_requests, Some(2.5));
        assert_eq!(r.cpu_per_1k_requests(), Some(2.5));
        assert_eq!(r.client.peak_rss_bytes, 64 << 20);
        assert_eq!(r.client.cpu_utilization, 0.5);
    }

    #[test]
    fn runs_without_figures_give_no_stats_and_records_keep_a_bounded_stderr() {
        let failed = record(Outcome::Failed {
            reason: "the client exited with code 3".into(),
        });
        assert!(run_stats(1, &failed, PHASES).is_none());
        let mut rec = ClientRecord::new("node", "node");
        rec.push(failed);
        rec.push(record(Outcome::TimedOut { limit_secs: 36.0 }));
        rec.push(completed());
        assert_eq!(rec.failed_runs(), 2);
        assert_eq!(rec.skipped(), None);
        assert!(
            rec.runs
                .iter()
                .all(|r| r.stderr_tail.len() <= KEPT_STDERR_BYTES)
        );
        assert!(
            rec.runs[0].stderr_tail.starts_with('é'),
            "cut on a character"
        );
        rec.push(record(Outcome::Skipped {
            reason: "`node` not found".into(),
        }));
        assert_eq!(rec.skipped(), Some("`node` not found"));
    }

    #[test]
    fn the_built_in_engine_divides_its_measure_phase_cpu() {
        let r = RunStats {
            requests: 4_000,
            client: ClientStats {
                cpu_secs: 2.0,
                ..ClientStats::default()
            },
            ..RunStats::default()
        };
        assert_eq!(r.cpu_per_1k_requests(), Some(0.5));
        assert_eq!(RunStats::default().cpu_per_1k_requests(), None);
    }
}
