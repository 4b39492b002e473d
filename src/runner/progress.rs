//! The progress bars (indicatif): an overall bar (points done of total, ETA from the plan) and
//! the current point's bar (run, phase, elapsed, live req/s, live p99, errors; for an open
//! loop also its rate, the rate sent so far and the requests in flight), refreshed by a
//! ticker that reads the workers' live counters. Hidden when stderr is not a terminal or with
//! `--quiet`. Workers never print; notices go through `println`, above the bars.
//!
//! What a frame shows is built by small pure functions (`phase_line`, `overall_line`) from one
//! consistent state: the overall bar's text is drawn from the bar's own position and the
//! shared count of points done, so the bar and its count change in the same frame.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{
    HumanDuration, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle,
};
use tokio::task::JoinHandle;

use super::live::Live;
use crate::metrics::Phase;
use crate::report::format_rate;

/// How often the live figures are redrawn: often enough that a 200 ms phase shows more than
/// its first frame.
const REFRESH: Duration = Duration::from_millis(100);

/// What the overall bar's text is made of, shared with the bar's style.
#[derive(Debug)]
struct Overall {
    /// Points in the plan.
    points: usize,
    /// The plan's estimate of the whole run.
    estimate: Duration,
    /// Points finished.
    done: AtomicUsize,
    /// When the current point started; `None` between points.
    point_start: Mutex<Option<Instant>>,
}

impl Overall {
    /// The text for a bar at `planned_done` (its position: planned time of finished points).
    fn text(&self, planned_done: Duration) -> String {
        let current = self
            .point_start
            .lock()
            .ok()
            .and_then(|start| start.map(|s| s.elapsed()))
            .unwrap_or_default();
        overall_line(
            self.done.load(Ordering::Relaxed),
            self.points,
            self.estimate,
            planned_done,
            current,
        )
    }
}

/// The bars of one run. Clones share the bars.
#[derive(Clone)]
pub(crate) struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    current: ProgressBar,
    hidden: bool,
    state: Arc<Overall>,
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
        let state = Arc::new(Overall {
            points,
            estimate,
            done: AtomicUsize::new(0),
            point_start: Mutex::new(None),
        });
        // The overall bar counts milliseconds of planned time: finished points advance it by
        // their share of the plan, so it fills as the plan does. Its text is a key computed at
        // each draw, so it can never lag the bar by a frame.
        let overall = multi.add(ProgressBar::new(estimate.as_millis().max(1) as u64));
        let text = {
            let state = Arc::clone(&state);
            move |bar: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&state.text(Duration::from_millis(bar.pos())));
            }
        };
        overall.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:30.cyan/blue}] {overall}")
                .expect("a valid template")
                .with_key("overall", text)
                .progress_chars("=> "),
        );
        overall.set_prefix("points");
        let current = multi.add(ProgressBar::new_spinner());
        current.set_style(
            ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
                .expect("a valid template"),
        );
        Self {
            multi,
            overall,
            current,
            hidden,
            state,
        }
    }

    /// A point starts: its id replaces the last one's, and so does its (empty) line.
    pub(crate) fn point_started(&self, id: &str) {
        if let Ok(mut start) = self.state.point_start.lock() {
            *start = Some(Instant::now());
        }
        self.current.set_prefix(id.to_string());
        self.current.set_message("starting");
    }

    /// A point ended; `planned` is its share of the estimate. `done` is set before the bar
    /// moves, so the frame that fills the bar also shows the new count.
    pub(crate) fn point_finished(&self, done: usize, planned: Duration) {
        self.state.done.store(done, Ordering::Relaxed);
        if let Ok(mut start) = self.state.point_start.lock() {
            *start = None;
        }
        self.overall.inc(planned.as_millis() as u64);
    }

    /// Print `line` above the bars while they are shown; nothing when they are hidden (a
    /// step of the run worth keeping on screen, such as a search's probe).
    pub(crate) fn log(&self, line: &str) {
        if !self.hidden {
            let _ = self.multi.println(line);
        }
    }

    /// Print `line` above the bars (or on stderr when they are hidden).
    pub(crate) fn println(&self, line: &str) {
        if self.hidden {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    /// Redraw the current point's line from `live` until the returned ticker is aborted,
    /// which draws a last frame with the phase's final figures. `done` is the number of
    /// points finished before this one.
    pub(crate) fn watch_phase(
        &self,
        live: Arc<Live>,
        shown: PhaseShown,
        done: usize,
    ) -> PhaseTicker {
        self.state.done.store(done, Ordering::Relaxed);
        let frame = Arc::new(Frame {
            current: self.current.clone(),
            overall: self.overall.clone(),
            live,
            started: Instant::now(),
            shown,
            open: Mutex::new(true),
        });
        // Hidden bars need no frames but the last: a frame reads every worker's live
        // counters, on a runtime thread that may be pacing an open loop.
        let task = (!self.hidden).then(|| {
            tokio::spawn({
                let frame = Arc::clone(&frame);
                async move {
                    let mut ticker = tokio::time::interval(REFRESH);
                    loop {
                        ticker.tick().await;
                        frame.draw(false);
                    }
                }
            })
        });
        PhaseTicker { task, frame }
    }

    /// Remove the bars.
    pub(crate) fn finish(&self) {
        self.current.finish_and_clear();
        self.overall.finish_and_clear();
    }
}

/// What a phase's line says besides its live figures.
#[derive(Debug, Clone)]
pub(crate) struct PhaseShown {
    /// Run number, 1-based.
    pub(crate) run: u32,
    /// Runs of the point.
    pub(crate) runs: u32,
    /// Warmup or measure.
    pub(crate) phase: Phase,
    /// The phase's duration limit, if any.
    pub(crate) limit: Option<Duration>,
    /// An open loop's rate as written (`50`, `stages`); `None` for a closed loop.
    pub(crate) offered: Option<String>,
}

/// Draws the frames of one phase.
struct Frame {
    current: ProgressBar,
    overall: ProgressBar,
    live: Arc<Live>,
    started: Instant,
    shown: PhaseShown,
    /// Whether frames may still be drawn: the last frame closes it, so a tick racing the end
    /// of the phase cannot draw over the final figures.
    open: Mutex<bool>,
}

impl Frame {
    /// Draw the current figures; `last` closes the phase after drawing.
    fn draw(&self, last: bool) {
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        if !*open {
            return;
        }
        let (requests, errors) = self.live.counts();
        let s = &self.shown;
        let open_loop = s.offered.as_ref().map(|offered| OpenFigures {
            offered: offered.clone(),
            sent: self.live.sent_count(),
        });
        self.current.set_message(phase_line(&PhaseFigures {
            run: s.run,
            runs: s.runs,
            phase: s.phase,
            elapsed: self.started.elapsed(),
            limit: s.limit,
            requests,
            errors,
            p99_us: self.live.quantile_us(0.99),
            open: open_loop,
        }));
        self.current.tick();
        // The ETA counts down while the point runs.
        self.overall.tick();
        *open = !last;
    }
}

/// The redrawing of one phase, from `Progress::watch_phase`.
pub(crate) struct PhaseTicker {
    /// The redrawing task; none while the bars are hidden.
    task: Option<JoinHandle<()>>,
    frame: Arc<Frame>,
}

impl PhaseTicker {
    /// Stop redrawing, after one last frame with the phase's final figures (a phase shorter
    /// than a refresh still ends showing its whole elapsed time and every request).
    pub(crate) fn abort(self) {
        if let Some(task) = self.task {
            task.abort();
        }
        self.frame.draw(true);
    }
}

/// An open loop's part of the current point's line.
#[derive(Debug, Clone)]
struct OpenFigures {
    /// The rate as written: `50`, `stages`.
    offered: String,
    /// Requests sent so far.
    sent: u64,
}

/// The figures of the current point's line.
#[derive(Debug, Clone)]
struct PhaseFigures {
    run: u32,
    runs: u32,
    phase: Phase,
    /// Since the phase started.
    elapsed: Duration,
    /// The phase's duration limit, if any.
    limit: Option<Duration>,
    /// Requests ended so far.
    requests: u64,
    /// Of which failed.
    errors: u64,
    /// Live p99 latency of successful requests; `None` before the first success.
    p99_us: Option<u64>,
    /// An open loop's rate and sends.
    open: Option<OpenFigures>,
}

/// `run 1/2 measure 0.4s/1.0s  1,234 req/s  p99 ~2.10 ms  errors 0`; `-` for a rate or p99
/// that does not exist yet.
fn phase_line(f: &PhaseFigures) -> String {
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
fn overall_line(
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

    #[tokio::test]
    async fn the_bar_and_its_count_move_together() {
        let progress = Progress::new(2, Duration::from_secs(2), true);
        progress.point_started("a");
        assert_eq!(progress.current.message(), "starting");
        progress.point_finished(1, Duration::from_secs(1));
        // What the overall bar draws is read from its position and the count at draw time.
        let text = progress
            .state
            .text(Duration::from_millis(progress.overall.position()));
        assert!(text.starts_with("1/2 points, about 1 second"), "{text}");
    }

    #[tokio::test]
    async fn the_last_frame_of_a_phase_has_its_final_figures() {
        let progress = Progress::new(1, Duration::from_secs(1), true);
        progress.point_started("chat-S-c1");
        let live = Arc::new(Live::new(1));
        let shown = PhaseShown {
            run: 1,
            runs: 1,
            phase: Phase::Warmup,
            limit: Some(Duration::from_millis(200)),
            offered: None,
        };
        let ticker = progress.watch_phase(Arc::clone(&live), shown, 0);
        // Requests that end after the last tick still reach the last frame.
        for _ in 0..5 {
            live.record(0, 1_000, false);
        }
        live.record(0, 0, true);
        ticker.abort();
        let line = progress.current.message();
        assert!(line.starts_with("run 1/1 warmup "), "{line}");
        assert!(line.ends_with("p99 ~1.02 ms  errors 1"), "{line}");
        assert!(!line.contains(" - req/s"), "{line}");
    }
}
