//! The progress bars (indicatif): an overall bar (points done of total, ETA from the plan) and
//! the current point's bar (run, phase, elapsed, live req/s, live p99, errors), refreshed by a
//! ticker that reads the workers' live counters. Hidden when stderr is not a terminal or with
//! `--quiet`. Workers never print; notices go through `println`, above the bars.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{HumanDuration, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use super::live::Live;
use crate::metrics::Phase;

/// How often the live figures are redrawn.
const REFRESH: Duration = Duration::from_millis(250);

/// The bars of one run. Clones share the bars.
#[derive(Clone)]
pub(crate) struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    current: ProgressBar,
    hidden: bool,
    points: usize,
    /// The plan's estimate of the whole run.
    estimate: Duration,
    /// When the current point started.
    point_start: Arc<Mutex<Instant>>,
}

impl Progress {
    /// Bars for `points` points expected to take `estimate` in all.
    pub(crate) fn new(points: usize, estimate: Duration, quiet: bool) -> Self {
        let hidden = quiet || !std::io::stderr().is_terminal();
        let target = if hidden {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
        // The overall bar counts milliseconds of planned time: finished points advance it by
        // their share of the plan, so it fills as the plan does.
        let overall = multi.add(ProgressBar::new(estimate.as_millis().max(1) as u64));
        overall.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:30.cyan/blue}] {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        overall.set_prefix("points");
        let current = multi.add(ProgressBar::new_spinner());
        current.set_style(
            ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
                .expect("a valid template"),
        );
        let progress = Self {
            multi,
            overall,
            current,
            hidden,
            points,
            estimate,
            point_start: Arc::new(Mutex::new(Instant::now())),
        };
        progress.show_overall(0, Duration::ZERO);
        progress
    }

    /// A point starts.
    pub(crate) fn point_started(&self, id: &str) {
        if let Ok(mut start) = self.point_start.lock() {
            *start = Instant::now();
        }
        self.current.set_prefix(id.to_string());
    }

    /// A point ended; `planned` is its share of the estimate.
    pub(crate) fn point_finished(&self, done: usize, planned: Duration) {
        self.overall.inc(planned.as_millis() as u64);
        self.show_overall(done, Duration::ZERO);
    }

    /// The overall bar's text: points done, and the time left by the plan — the planned time
    /// of the points not finished, less what the current point has already run.
    fn show_overall(&self, done: usize, current_elapsed: Duration) {
        let planned_done = Duration::from_millis(self.overall.position());
        let left = self
            .estimate
            .saturating_sub(planned_done)
            .saturating_sub(current_elapsed);
        self.overall.set_message(format!(
            "{done}/{} points, about {} left",
            self.points,
            HumanDuration(left)
        ));
    }

    /// Print `line` above the bars (or on stderr when they are hidden).
    pub(crate) fn println(&self, line: &str) {
        if self.hidden {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    /// Redraw the bars from `live` until the returned ticker is aborted. `done` is the number
    /// of points finished before this one.
    pub(crate) fn watch_phase(
        &self,
        live: Arc<Live>,
        run: u32,
        runs: u32,
        phase: Phase,
        limit: Option<Duration>,
        done: usize,
    ) -> JoinHandle<()> {
        let progress = self.clone();
        let started = Instant::now();
        let point_start = self.point_start.lock().map_or(started, |s| *s);
        let name = match phase {
            Phase::Warmup => "warmup",
            Phase::Measure => "measure",
        };
        let limit = limit.map_or(String::new(), |l| format!("/{}", seconds(l)));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(REFRESH);
            loop {
                ticker.tick().await;
                let elapsed = started.elapsed();
                let (requests, errors) = live.counts();
                let rps = requests as f64 / elapsed.as_secs_f64().max(1e-3);
                let p99_ms = live.quantile_us(0.99) as f64 / 1000.0;
                progress.current.set_message(format!(
                    "run {run}/{runs} {name} {}{limit}  {rps:.0} req/s  p99 ~{p99_ms:.2} ms  errors {errors}",
                    seconds(elapsed)
                ));
                progress.current.tick();
                progress.show_overall(done, point_start.elapsed());
            }
        })
    }

    /// Remove the bars.
    pub(crate) fn finish(&self) {
        self.current.finish_and_clear();
        self.overall.finish_and_clear();
    }
}

/// `d` in seconds with one decimal: `0.5s`, `12.0s`.
fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
