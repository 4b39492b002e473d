//! The progress bars (indicatif), a subscriber to the runner's events: an overall bar (points
//! done of total, ETA from the plan, moving run by run) and the current point's line —
//! for the built-in engine its run, phase, elapsed time, live req/s, live p99 and errors (for
//! an open loop also its rate, the rate sent so far and the requests in flight), read from
//! the workers' live counters; for an external client, which client runs which run for how
//! long. A ticker redraws the line while a phase or client runs. Hidden when stderr is not a
//! terminal or with `--quiet`. Workers never print; notices (a client's failed run) go
//! through `println`, above the bars.
//!
//! The overall bar's text is drawn from the bar's own position and the shared count of points
//! done, so the bar and its count change in the same frame. The text itself is built by the
//! pure functions of `lines`.

mod lines;

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use tokio::task::JoinHandle;

use super::events::{Event, PhaseShown, Subscriber};
use super::live::Live;
use lines::{
    OpenFigures, PhaseFigures, client_end_line, client_line, client_notice, overall_line,
    phase_line,
};

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
    /// When the current run of the current point started; `None` between points.
    run_start: Mutex<Option<Instant>>,
}

impl Overall {
    /// The text for a bar at `planned_done` (its position: planned time of finished runs).
    fn text(&self, planned_done: Duration) -> String {
        let current = self
            .run_start
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

    fn set_run_start(&self, start: Option<Instant>) {
        if let Ok(mut s) = self.run_start.lock() {
            *s = start;
        }
    }
}

/// The current point, as the bars follow it.
#[derive(Default)]
struct Current {
    /// Its id.
    id: String,
    /// Its share of the plan's estimate.
    planned: Duration,
    /// How much of that share the overall bar has moved already (run by run).
    advanced: Duration,
    /// The redrawing of the phase or client run in progress.
    ticker: Option<Ticker>,
    /// Clients whose skipping was told already (once per client, not per point).
    skipped: BTreeSet<String>,
}

/// The bars of one run. Clones share the bars.
#[derive(Clone)]
pub(crate) struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    current: ProgressBar,
    hidden: bool,
    state: Arc<Overall>,
    point: Arc<Mutex<Current>>,
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
            run_start: Mutex::new(None),
        });
        // The overall bar counts milliseconds of planned time: finished runs advance it by
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
            point: Arc::new(Mutex::new(Current::default())),
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

    /// Remove the bars.
    pub(crate) fn finish(&self) {
        self.current.finish_and_clear();
        self.overall.finish_and_clear();
    }

    /// Start redrawing the current point's line as `line` says, ending any earlier ticker.
    fn start_ticker(&self, current: &mut Current, line: Line) {
        if let Some(old) = current.ticker.take() {
            old.stop();
        }
        let frame = Frame {
            current: self.current.clone(),
            overall: self.overall.clone(),
            started: Instant::now(),
            line,
            open: Mutex::new(true),
        };
        current.ticker = Some(Ticker::start(frame));
    }

    /// Move the overall bar by `by` of the current point's share.
    fn advance(&self, current: &mut Current, by: Duration) {
        let by = by.min(current.planned.saturating_sub(current.advanced));
        current.advanced += by;
        self.overall.inc(by.as_millis() as u64);
    }
}

impl Subscriber for Progress {
    fn on(&self, event: Event<'_>) {
        let Ok(mut current) = self.point.lock() else {
            return;
        };
        match event {
            Event::PointStarted { id, done, planned } => {
                self.state.done.store(done, Ordering::Relaxed);
                self.state.set_run_start(Some(Instant::now()));
                current.id = id.to_string();
                current.planned = planned;
                current.advanced = Duration::ZERO;
                self.current.set_prefix(id.to_string());
                self.current.set_message("starting");
            }
            Event::PhaseStarted { phase, live } => {
                self.start_ticker(&mut current, Line::Phase { live, shown: phase });
            }
            Event::ClientStarted {
                client,
                run,
                runs,
                expected,
            } => {
                let line = Line::Client {
                    client: client.to_string(),
                    run,
                    runs,
                    expected,
                };
                self.start_ticker(&mut current, line);
            }
            Event::PhaseFinished => {
                if let Some(ticker) = current.ticker.take() {
                    ticker.stop();
                }
            }
            Event::ClientFinished { run, runs, record } => {
                if let Some(ticker) = current.ticker.take() {
                    ticker.stop();
                }
                self.current.set_message(client_end_line(record, run, runs));
                let skipped = matches!(record.outcome, crate::external::Outcome::Skipped { .. });
                let told = skipped && !current.skipped.insert(record.client.clone());
                if let (false, Some(notice)) = (told, client_notice(&current.id, record, run, runs))
                {
                    self.println(&notice);
                }
            }
            Event::RunFinished { runs } => {
                let share = current.planned / runs.max(1);
                self.advance(&mut current, share);
                self.state.set_run_start(Some(Instant::now()));
            }
            Event::Note { line } => {
                if !self.hidden {
                    let _ = self.multi.println(line);
                }
            }
            Event::PointFinished { done } => {
                // `done` is set before the bar moves, so the frame that fills the bar also
                // shows the new count.
                self.state.done.store(done, Ordering::Relaxed);
                self.state.set_run_start(None);
                let rest = current.planned;
                self.advance(&mut current, rest);
            }
        }
    }
}

/// What the current point's line shows while a ticker redraws it.
enum Line {
    /// A phase of the built-in engine, from its live counters.
    Phase { live: Arc<Live>, shown: PhaseShown },
    /// An external client's run.
    Client {
        client: String,
        run: u32,
        runs: u32,
        expected: Duration,
    },
}

/// Draws the frames of one phase or client run.
struct Frame {
    current: ProgressBar,
    overall: ProgressBar,
    started: Instant,
    line: Line,
    /// Whether frames may still be drawn: the last frame closes it, so a tick racing the end
    /// of the phase cannot draw over the final figures.
    open: Mutex<bool>,
}

impl Frame {
    /// Draw the current figures; `last` closes the frame after drawing.
    fn draw(&self, last: bool) {
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        if !*open {
            return;
        }
        let elapsed = self.started.elapsed();
        let text = match &self.line {
            Line::Phase { live, shown: s } => {
                let (requests, errors) = live.counts();
                let open_loop = s.offered.as_ref().map(|offered| OpenFigures {
                    offered: offered.clone(),
                    sent: live.sent_count(),
                });
                phase_line(&PhaseFigures {
                    run: s.run,
                    runs: s.runs,
                    phase: s.phase,
                    elapsed,
                    limit: s.limit,
                    requests,
                    errors,
                    p99_us: live.quantile_us(0.99),
                    open: open_loop,
                })
            }
            Line::Client {
                client,
                run,
                runs,
                expected,
            } => client_line(client, *run, *runs, elapsed, *expected),
        };
        self.current.set_message(text);
        self.current.tick();
        // The ETA counts down while the point runs.
        self.overall.tick();
        *open = !last;
    }
}

/// The redrawing of one phase or client run.
struct Ticker {
    task: JoinHandle<()>,
    frame: Arc<Frame>,
}

impl Ticker {
    /// Draw `frame` now, then again every [`REFRESH`].
    fn start(frame: Frame) -> Self {
        frame.draw(false);
        let frame = Arc::new(frame);
        let task = tokio::spawn({
            let frame = Arc::clone(&frame);
            async move {
                let mut ticker = tokio::time::interval(REFRESH);
                loop {
                    ticker.tick().await;
                    frame.draw(false);
                }
            }
        });
        Self { task, frame }
    }

    /// Stop redrawing, after one last frame with the final figures (a phase shorter than a
    /// refresh still ends showing its whole elapsed time and every request).
    fn stop(self) {
        self.task.abort();
        self.frame.draw(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Phase;

    #[tokio::test]
    async fn the_bar_and_its_count_move_together() {
        let progress = Progress::new(2, Duration::from_secs(2), true);
        let planned = Duration::from_secs(1);
        progress.on(Event::PointStarted {
            id: "a",
            done: 0,
            planned,
        });
        assert_eq!(progress.current.message(), "starting");
        progress.on(Event::PointFinished { done: 1 });
        // What the overall bar draws is read from its position and the count at draw time.
        let text = progress
            .state
            .text(Duration::from_millis(progress.overall.position()));
        assert!(text.starts_with("1/2 points, about 1 second"), "{text}");
    }

    #[tokio::test]
    async fn the_overall_bar_moves_run_by_run() {
        let progress = Progress::new(1, Duration::from_secs(3), true);
        let planned = Duration::from_secs(3);
        progress.on(Event::PointStarted {
            id: "a",
            done: 0,
            planned,
        });
        progress.on(Event::RunFinished { runs: 3 });
        assert_eq!(progress.overall.position(), 1_000);
        progress.on(Event::RunFinished { runs: 3 });
        // A point cut short still fills its whole share when it ends.
        progress.on(Event::PointFinished { done: 1 });
        assert_eq!(progress.overall.position(), 3_000);
    }

    #[tokio::test]
    async fn the_last_frame_of_a_phase_has_its_final_figures() {
        let progress = Progress::new(1, Duration::from_secs(1), true);
        progress.on(Event::PointStarted {
            id: "chat-S-c1",
            done: 0,
            planned: Duration::from_secs(1),
        });
        let live = Arc::new(Live::new());
        let phase = PhaseShown {
            run: 1,
            runs: 1,
            phase: Phase::Warmup,
            limit: Some(Duration::from_millis(200)),
            offered: None,
        };
        progress.on(Event::PhaseStarted {
            phase,
            live: Arc::clone(&live),
        });
        // Requests that end after the last tick still reach the last frame.
        for _ in 0..5 {
            live.record(1_000, false);
        }
        live.record(0, true);
        progress.on(Event::PhaseFinished);
        let line = progress.current.message();
        assert!(line.starts_with("run 1/1 warmup "), "{line}");
        assert!(line.ends_with("p99 ~1.02 ms  errors 1"), "{line}");
        assert!(!line.contains(" - req/s"), "{line}");
    }

    #[tokio::test]
    async fn a_client_run_shows_its_client_then_how_it_ended() {
        let progress = Progress::new(1, Duration::from_secs(1), true);
        progress.on(Event::ClientStarted {
            client: "node",
            run: 1,
            runs: 2,
            expected: Duration::from_secs(20),
        });
        let running = progress.current.message();
        assert!(
            running.starts_with("running `node` (run 1/2) "),
            "{running}"
        );
        assert!(running.ends_with("/20.0s"), "{running}");
        let record = crate::external::ExternalRun {
            client: "node".into(),
            lang: "node".into(),
            outcome: crate::external::Outcome::Stopped,
            wall_secs: 1.0,
            exit: None,
            resources: None,
            parent_cpu_secs: 0.0,
            stdout_bytes: 0,
            stderr_bytes: 0,
            stderr_tail: String::new(),
            stopped_leftovers: false,
        };
        progress.on(Event::ClientFinished {
            run: 1,
            runs: 2,
            record: &record,
        });
        assert_eq!(progress.current.message(), "`node` run 1/2 stopped");
    }
}
