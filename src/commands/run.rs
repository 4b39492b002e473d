//! `nitro-scenario run`: load and expand the scenario, start the mock when the target is
//! `"mock"`, drive the points, and write the reports — also when the run was cut short.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;

use crate::cli::RunArgs;
use crate::journal::Journal;
use crate::mock::MockChild;
use crate::report::{self, HostFacts, OutputPlan, RunReport};
use crate::runner::{self, RunOptions, RunOutcome};
use crate::scenario::{self, BaseUrl, Overrides, Scenario};

/// Records the per-request buffer holds before `record` refuses: 32,768 slots of ~90 bytes,
/// allocated up front, so about 3 MB of the client's memory; the writer drains it continuously.
const JOURNAL_CAPACITY: usize = 1 << 15;

/// Exit code of a run interrupted by Ctrl-C (after its partial reports are written).
const EXIT_INTERRUPTED: u8 = 130;

/// Carry out `run`.
pub(super) fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides::from_args_and_env(&args.set)?;
    let mut scenario = scenario::load(&args.file, &overrides)?;
    apply_cli_output(&mut scenario, &args);
    let points = scenario::expand(&scenario)?;
    let plan = output_plan(&scenario);

    let outcome = super::runtime()?.block_on(async {
        // The mock runs as a child process so that the client's CPU and memory are its own.
        let (mock, base, target, shown_base) = match &scenario.target.base_url {
            BaseUrl::Mock => {
                let child = MockChild::spawn(&scenario.mock).await?;
                let url = child.base_url();
                // The port changes every run; leaving it out keeps committed reports diffable.
                (
                    Some(child),
                    url,
                    "mock (built-in)".to_string(),
                    "mock".to_string(),
                )
            }
            BaseUrl::Url { url, display } => (
                None,
                url.clone(),
                display.display.clone(),
                display.display.clone(),
            ),
        };
        let journal = if scenario.output.requests_log {
            std::fs::create_dir_all(&plan.dir)
                .with_context(|| format!("cannot create `{}`", plan.dir.display()))?;
            let path = plan.dir.join("requests.csv");
            let ids = points.iter().map(|p| p.id.clone()).collect();
            Some(
                Journal::start(&path, ids, JOURNAL_CAPACITY)
                    .with_context(|| format!("cannot create `{}`", path.display()))?,
            )
        } else {
            None
        };
        let options = RunOptions {
            quiet: args.quiet,
            journal: journal.as_ref().map(Journal::sender),
            stop: None,
        };
        let started = SystemTime::now();
        let outcome = runner::run(&scenario, &points, &base, options).await;
        if let Some(child) = mock {
            // A mock that died or hung makes the results suspect: say so; the report follows.
            if let Err(e) = child.stop().await {
                eprintln!("warning: {e}");
            }
        }
        let journal_stats = match journal {
            Some(journal) => Some(journal.finish().context("cannot finish `requests.csv`")?),
            None => None,
        };
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
    let written = report::write_all(&report, &plan)?;
    eprint!("{}", report::summary_table(&report));
    for path in &written {
        eprintln!("wrote {}", path.display());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    if let Some(err) = run_error {
        return Err(err.into());
    }
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--out`, `--templates` and `--requests-log` win over the scenario's `[output]`.
fn apply_cli_output(scenario: &mut Scenario, args: &RunArgs) {
    if let Some(out) = &args.out {
        scenario.output.dir = Some(out.clone());
    }
    if let Some(templates) = &args.templates {
        scenario.output.templates = Some(templates.clone());
    }
    scenario.output.requests_log |= args.requests_log;
}

/// Where this scenario's reports go: `[output]` settings or `reports/<name>/`.
fn output_plan(scenario: &Scenario) -> OutputPlan {
    let dir = scenario
        .output
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&scenario.name));
    OutputPlan {
        dir,
        results_file: scenario.output.results_file.clone(),
        templates: scenario.output.templates.clone(),
    }
}
