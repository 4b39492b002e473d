//! `nitro-scenario run`: load and expand the scenario, check that its reports can be written,
//! start the mock when the target is `"mock"`, drive the points, judge them against the
//! scenario's thresholds, and write the reports — also when the run was cut short by an
//! error, a signal or a failed threshold with `abort_on_fail`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;

use super::outputs;
use crate::cli::RunArgs;
use crate::journal::{self, Journal, JournalEnd, JournalStats};
use crate::judge::{self, Baseline};
use crate::mock::MockChild;
use crate::report::{self, HostFacts, OutputPlan, RunReport, Templates};
use crate::runner::{self, AfterPoint, RunError, RunOptions, RunOutcome};
use crate::scenario::{self, BaseUrl, Overrides, Point, Scenario, escape_controls};
use crate::stop::{SignalWatch, Stop};

/// Longest a second signal waits for the request log to reach the disk (its buffer holds at
/// most `journal::CAPACITY` records: milliseconds of writing).
const JOURNAL_DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Exit code of a run stopped without a signal naming one (128 + SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

/// Carry out `run`.
pub(super) fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides::from_args_and_env(&args.set)?;
    let scenario = scenario::load(&args.file, &overrides)?;
    super::validate::print_warnings(&scenario);
    let points = scenario::expand(&scenario)?;
    let plan = output_plan(&scenario, &args)?;
    let requests_log = args.requests_log || scenario.output.requests_log;
    // A broken template, or a folder that cannot be written, must fail now, not after all
    // the traffic.
    report::check_templates(&plan.templates, &scenario, &points)?;
    // So must a baseline that cannot be read, a bad tolerance or a broken compare template.
    let baseline = args
        .baseline
        .as_deref()
        .map(|path| Baseline::prepare(path, &args.fail_on, &plan.templates))
        .transpose()?;
    let log_path = requests_log.then(|| plan.dir.join(journal::FILE_NAME));
    report::check_writable(&plan, log_path.as_slice())
        .context("the reports cannot be written there, so no traffic was sent")?;

    // From here on SIGINT, SIGTERM and SIGHUP stop the run cleanly; a second one exits.
    let signals = SignalWatch::start().context("cannot watch for signals")?;
    let stop = signals.stop();
    let driven =
        super::runtime()?.block_on(drive(&scenario, &points, &plan, log_path, &args, &signals))?;
    // A run that could not go on still gets its (empty, partial) report, then fails.
    let (outcome, run_error) = match driven.outcome {
        Ok(outcome) => (outcome, None),
        Err(err) => {
            let outcome = RunOutcome {
                points: Vec::new(),
                partial: true,
                interruption: Some(err.to_string()),
                started: driven.started,
                finished: SystemTime::now(),
            };
            (outcome, Some(err))
        }
    };
    // A run `abort_on_fail` ended is partial too, but no signal stopped it.
    let interrupted = outcome.partial && run_error.is_none() && stop.is_requested();
    let (journal_stats, log_file) = match driven.journal {
        Some(JournalEnd { stats, file }) => (Some(stats), file),
        None => (None, None),
    };
    let log_failure = journal_stats.as_ref().and_then(log_failure);
    let mut report = RunReport::new(
        &scenario,
        driven.target,
        driven.shown_base,
        HostFacts::detect(),
        outcome.started,
        outcome.finished,
        outcome.interruption,
        outcome.points,
        journal_stats,
    )?;
    report.thresholds = judge::thresholds::judge(&scenario.thresholds, &report.points);
    let judged = baseline.map(|b| b.judge(&report, &plan.results_path()));
    let comparison = judged
        .as_ref()
        .and_then(|j| j.as_ref().ok())
        .map(|j| j.markdown.as_str());
    let written = outputs::deliver(
        &report,
        &plan,
        comparison,
        log_file.as_deref().map(|f| (f, log_failure.is_none())),
        args.quiet,
        args.json,
    )?;
    // The request log was asked for and is incomplete: the run fails, after its reports.
    if let Some(failure) = &log_failure {
        eprintln!("error: {}", escape_controls(failure));
    }
    if let Some(err) = run_error {
        return Err(err.into());
    }
    let thresholds_failed = report.thresholds.as_ref().is_some_and(|t| {
        for line in judge::failure_lines(t) {
            eprintln!("{line}");
        }
        if !args.quiet {
            eprintln!(
                "thresholds: {} passed, {} failed, {} not applicable",
                t.passed, t.failed, t.not_applicable
            );
        }
        t.any_failed()
    });
    // A comparison that could not be made costs report.md its section, not the run its files.
    let verdict = match judged {
        Some(judged) => super::compare::tell(&judged?.comparison),
        None => ExitCode::SUCCESS,
    };
    Ok(if !written || log_failure.is_some() {
        ExitCode::from(super::EXIT_ERROR)
    } else if interrupted {
        ExitCode::from(stop.signal().map_or(EXIT_INTERRUPTED, |s| s.exit_code()))
    } else if thresholds_failed {
        ExitCode::from(super::EXIT_TOLERANCE)
    } else {
        verdict
    })
}

/// What the traffic left: the runner's outcome and what the report needs besides.
struct Driven {
    outcome: Result<RunOutcome, RunError>,
    /// When driving began, for the report of a run that failed.
    started: SystemTime,
    /// The target as the report shows it.
    target: String,
    /// Its base URL as the report shows it, secrets redacted.
    shown_base: String,
    /// The request log's counts and file, when it was kept.
    journal: Option<JournalEnd>,
}

/// Start the mock (when asked) and the request log (to `log_path`), drive the points, then
/// stop both — the mock at once when a signal cut the run short.
async fn drive(
    scenario: &Scenario,
    points: &[Point],
    plan: &OutputPlan,
    log_path: Option<PathBuf>,
    args: &RunArgs,
    signals: &SignalWatch,
) -> anyhow::Result<Driven> {
    let stop = signals.stop();
    // The mock runs as a child process so that the client's CPU and memory are its own.
    let (target, shown_base) = report::shown_target(&scenario.target.base_url);
    let (mock, base) = match &scenario.target.base_url {
        BaseUrl::Mock => {
            let child = MockChild::spawn(&scenario.mock).await?;
            let url = child.base_url();
            (Some(child), url)
        }
        BaseUrl::Url { url, .. } => (None, url.clone()),
    };
    let journal = match log_path {
        Some(path) => {
            let ids = points.iter().map(|p| p.id.clone()).collect();
            let journal = Journal::start(&path, ids, journal::CAPACITY)
                .with_context(|| format!("cannot create `{}`", path.display()))?;
            // A second signal exits promptly, but not before the log's buffer is on disk.
            let log = journal.shutdown_handle();
            signals.before_exit(move || {
                let _ = log.finish_within(JOURNAL_DRAIN_WAIT);
            });
            Some(journal)
        }
        None => {
            // An earlier run's log would pass for this run's.
            journal::remove_stale(&plan.dir).with_context(|| {
                format!(
                    "cannot remove the earlier `requests.csv` in `{}`",
                    plan.dir.display()
                )
            })?;
            None
        }
    };
    let thresholds = &scenario.thresholds;
    let after_point = (thresholds.abort_on_fail && !thresholds.is_empty()).then(|| {
        let thresholds = thresholds.clone();
        AfterPoint::new(move |point| judge::thresholds::abort_reason(&thresholds, point))
    });
    let options = RunOptions {
        quiet: args.quiet,
        journal: journal.as_ref().map(Journal::sender),
        stop: Some(stop.clone()),
        after_point,
    };
    let started = SystemTime::now();
    let outcome = runner::run(scenario, points, &base, options).await;
    if let Some(child) = mock {
        stop_mock(child, &stop).await;
    }
    // A failed log never costs the run its report: `run` says what it cost afterwards.
    let journal = journal.map(Journal::end);
    Ok(Driven {
        outcome,
        started,
        target,
        shown_base,
        journal,
    })
}

/// What a request log that failed cost, in words; `None` when it did not fail.
fn log_failure(stats: &JournalStats) -> Option<String> {
    let err = stats.error.as_ref()?;
    Some(format!(
        "the request log is incomplete: {err}; {} of {} records were not written \
         (`journal` in results.json counts them)",
        report::thousands(stats.lost_after_error),
        report::thousands(stats.accepted)
    ))
}

/// Stop the mock: at once after a stop (nobody waits for its answers in progress), else
/// gracefully. A mock that died or hung makes the results suspect: say so; the report follows.
async fn stop_mock(child: MockChild, stop: &Stop) {
    let stopped = if stop.is_requested() {
        child.kill().await
    } else {
        child.stop().await
    };
    if let Err(e) = stopped {
        eprintln!("warning: {}", escape_controls(&e.to_string()));
    }
}

/// Where this run's reports go: `--out` / `--templates` (which stay out of the scenario echo),
/// else the scenario's `[output]`, else `reports/<name>/` and the built-in template. The
/// templates are loaded here, before any traffic.
fn output_plan(scenario: &Scenario, args: &RunArgs) -> anyhow::Result<OutputPlan> {
    let dir = args
        .out
        .clone()
        .or_else(|| scenario.output.dir.clone())
        .unwrap_or_else(|| PathBuf::from("reports").join(&scenario.name));
    let templates = args
        .templates
        .as_deref()
        .or(scenario.output.templates.as_deref());
    Ok(OutputPlan {
        dir,
        results_file: scenario.output.results_file.clone(),
        templates: Templates::from_folder(templates)?,
    })
}
