//! `nitro-scenario run`: load and expand the scenario, start the mock when the target is
//! `"mock"`, drive the points, and write the reports — also when the run was cut short.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::cli::RunArgs;
use crate::journal::{self, Journal};
use crate::judge::Baseline;
use crate::mock::MockChild;
use crate::report::{self, HostFacts, OutputPlan, RunReport, Templates};
use crate::runner::{self, RunOptions, RunOutcome, Stop};
use crate::scenario::{self, BaseUrl, Overrides, Scenario};

/// Longest a second Ctrl-C waits for the request log to reach the disk (its buffer holds at
/// most `journal::CAPACITY` records: milliseconds of writing).
const JOURNAL_DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Exit code of a run interrupted by Ctrl-C (after its partial reports are written).
const EXIT_INTERRUPTED: u8 = 130;

/// Carry out `run`.
pub(super) fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides::from_args_and_env(&args.set)?;
    let scenario = scenario::load(&args.file, &overrides)?;
    super::validate::print_warnings(&scenario);
    let points = scenario::expand(&scenario)?;
    let plan = output_plan(&scenario, &args)?;
    let requests_log = args.requests_log || scenario.output.requests_log;
    // A broken template must fail now, not after all the traffic.
    report::check_templates(&plan.templates, &scenario, &points)?;
    // So must a baseline that cannot be read, a bad tolerance or a broken compare template.
    let baseline = args
        .baseline
        .as_deref()
        .map(|path| Baseline::prepare(path, &args.fail_on, &plan.templates))
        .transpose()?;

    let outcome = super::runtime()?.block_on(async {
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
        let journal = if requests_log {
            std::fs::create_dir_all(&plan.dir)
                .with_context(|| format!("cannot create `{}`", plan.dir.display()))?;
            let path = plan.dir.join(journal::FILE_NAME);
            let ids = points.iter().map(|p| p.id.clone()).collect();
            Some(
                Journal::start(&path, ids, journal::CAPACITY)
                    .with_context(|| format!("cannot create `{}`", path.display()))?,
            )
        } else {
            // An earlier run's log would pass for this run's.
            journal::remove_stale(&plan.dir).with_context(|| {
                format!(
                    "cannot remove the earlier `requests.csv` in `{}`",
                    plan.dir.display()
                )
            })?;
            None
        };
        // A second Ctrl-C exits at once, but not before the log's buffer is on disk.
        let stop = match &journal {
            Some(journal) => {
                let log = journal.shutdown_handle();
                Stop::on_ctrl_c_then(move || {
                    let _ = log.finish_within(JOURNAL_DRAIN_WAIT);
                })
            }
            None => Stop::on_ctrl_c(),
        };
        let options = RunOptions {
            quiet: args.quiet,
            journal: journal.as_ref().map(Journal::sender),
            stop: Some(stop),
        };
        let started = SystemTime::now();
        let outcome = runner::run(&scenario, &points, &base, options).await;
        if let Some(child) = mock {
            // A mock that died or hung makes the results suspect: say so; the report follows.
            if let Err(e) = child.stop().await {
                eprintln!("warning: {e}");
            }
        }
        // A failed log is reported with what it cost; it never costs the run its report.
        let journal_stats = journal.map(Journal::finish);
        if let Some(err) = journal_stats.as_ref().and_then(|s| s.error.as_ref()) {
            eprintln!("warning: the request log is incomplete: {err}");
        }
        anyhow::Ok((outcome, started, target, shown_base, journal_stats))
    });
    let (outcome, started, target, shown_base, journal_stats) = outcome?;
    // A run that could not go on still gets its (empty, partial) report, then fails.
    let (outcome, run_error) = match outcome {
        Ok(outcome) => (outcome, None),
        Err(err) => {
            let outcome = RunOutcome {
                points: Vec::new(),
                partial: true,
                interruption: Some(err.to_string()),
                started,
                finished: SystemTime::now(),
            };
            (outcome, Some(err))
        }
    };
    let interrupted = outcome.partial && run_error.is_none();
    let report = RunReport::new(
        &scenario,
        target,
        shown_base,
        HostFacts::detect(),
        outcome.started,
        outcome.finished,
        outcome.interruption,
        outcome.points,
        journal_stats,
    )?;
    let judged = baseline.map(|b| b.judge(&report, &plan.results_path()));
    let comparison = judged.as_ref().and_then(|j| j.as_ref().ok());
    let written =
        report::write_all_compared(&report, &plan, comparison.map(|j| j.markdown.as_str()))?;
    eprint!("{}", report::summary_table(&report));
    for path in &written {
        eprintln!("wrote {}", path.display());
    }
    if args.json {
        // The same text as results.json.
        print!("{}", report::results_json(&report)?);
    }
    if let Some(err) = run_error {
        return Err(err.into());
    }
    // A comparison that could not be made costs report.md its section, not the run its files.
    let verdict = match judged {
        Some(judged) => super::compare::tell(&judged?.comparison),
        None => ExitCode::SUCCESS,
    };
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else {
        verdict
    })
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
