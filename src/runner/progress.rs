//! The progress bars (indicatif): an overall bar (points done of total, ETA from the plan) and
//! the current point's bar (run, phase, elapsed, live req/s, live p99, errors), refreshed by a
//! ticker that reads the workers' live counters. Hidden when stderr is not a terminal or with
//! `--quiet`. Workers never print.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use super::live::Live;
use crate::metrics::Phase;

/// How often the live figures are redrawn.
const REFRESH: Duration = Duration::from_millis(250);

/// The bars of one run.
pub(crate) struct Progress {
    overall: ProgressBar,
    current: ProgressBar,
    _multi: MultiProgress,
}

impl Progress {
    /// Bars for `points` points expected to take `estimate` in all.
    pub(crate) fn new(points: usize, estimate: Duration, quiet: bool) -> Self {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
        // The overall bar counts milliseconds of planned time, so its ETA follows the plan.
        let overall = multi.add(ProgressBar::new(estimate.as_millis().max(1) as u64));
        overall.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:30.cyan/blue}] {msg} eta {eta}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        overall.set_prefix("points");
        overall.set_message(format!("0/{points}"));
        let current = multi.add(ProgressBar::new_spinner());
        current.set_style(
            ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
                .expect("a valid template"),
        );
        Self {
            overall,
            current,
            _multi: multi,
        }
    }

    /// A point starts.
    pub(crate) fn point_started(&self, id: &str) {
        self.current.set_prefix(id.to_string());
    }

    /// A point ended; `planned` is its share of the estimate.
    pub(crate) fn point_finished(&self, done: usize, total: usize, planned: Duration) {
        self.overall.inc(planned.as_millis() as u64);
        self.overall.set_message(format!("{done}/{total}"));
    }

    /// Redraw the current bar from `live` until the returned ticker is aborted.
    pub(crate) fn watch_phase(
        &self,
        live: Arc<Live>,
        run: u32,
        runs: u32,
        phase: Phase,
        limit: Option<Duration>,
    ) -> JoinHandle<()> {
        let bar = self.current.clone();
        let started = Instant::now();
        let name = match phase {
            Phase::Warmup => "warmup",
            Phase::Measure => "measure",
        };
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(REFRESH);
            loop {
                ticker.tick().await;
                let elapsed = started.elapsed();
                let (requests, errors) = live.counts();
                let rps = requests as f64 / elapsed.as_secs_f64().max(1e-3);
                let p99_ms = live.quantile_us(0.99) as f64 / 1000.0;
                let limit = limit.map_or(String::new(), |l| format!("/{:.0}s", l.as_secs_f64()));
                bar.set_message(format!(
                    "run {run}/{runs} {name} {:.1}s{limit}  {rps:.0} req/s  p99 ~{p99_ms:.2} ms  errors {errors}",
                    elapsed.as_secs_f64()
                ));
                bar.tick();
            }
        })
    }

    /// Remove the bars.
    pub(crate) fn finish(&self) {
        self.current.finish_and_clear();
        self.overall.finish_and_clear();
    }
}
