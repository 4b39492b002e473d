//! What `run` says and leaves once the traffic is over: the summary table, the reports (each
//! file named as it is written, the request log first), and — when the disk fails — the
//! results saved somewhere else, so a run never loses what it measured to an output error.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::report::{self, OutputPlan, ReportError, RunReport};
use crate::scenario::escape_controls;

/// Print the summary and write the reports of `report` (with `comparison`, the Markdown of a
/// comparison with a baseline, in `report.md`), listing each file as it lands (`log` is the
/// request log, already in place, and whether it is whole); `quiet` prints neither. `json` prints
/// `results.json` on stdout too. When writing fails the error is printed, and if
/// `results.json` is among what was lost, it is saved elsewhere (see [`rescue`]). Returns
/// whether every file was written.
pub(super) fn deliver(
    report: &RunReport,
    plan: &OutputPlan,
    comparison: Option<&str>,
    log: Option<(&Path, bool)>,
    quiet: bool,
    json: bool,
) -> anyhow::Result<bool> {
    if !quiet {
        eprint!("{}", report::summary_table(report));
    }
    let say = |path: &Path| {
        if !quiet {
            eprintln!("wrote {}", escape_controls(&path.display().to_string()));
        }
    };
    match log {
        Some((log, true)) => say(log),
        // The error that says what is missing follows the reports.
        Some((log, false)) if !quiet => eprintln!(
            "wrote {} (incomplete)",
            escape_controls(&log.display().to_string())
        ),
        _ => {}
    }
    let results = plan.results_path();
    let mut results_written = false;
    let written = report::write_reporting(report, plan, comparison, |path| {
        results_written |= path == results;
        say(path);
    });
    let mut on_stdout = false;
    if let Err(err) = &written {
        super::print_error(err);
        if !results_written {
            on_stdout = rescue(report, err)?;
        }
    }
    if json && !on_stdout {
        // The same text as results.json.
        print_stdout(&report::results_json(report)?)?;
    }
    Ok(written.is_ok())
}

/// `results.json` could not be written where planned: write it to
/// `TMPDIR/nitro-scenario-NAME-PID/results.json`, or failing that print it on stdout, and say
/// where on stderr. Returns whether it went to stdout.
fn rescue(report: &RunReport, lost: &ReportError) -> anyhow::Result<bool> {
    let path = rescue_path(&report.scenario_name);
    match report::write_results_json(report, &path) {
        Ok(()) => {
            eprintln!(
                "the results were saved to `{}` instead; `nitro-scenario report {} --out DIR` \
                 renders the other reports from them",
                path.display(),
                path.display()
            );
            Ok(false)
        }
        Err(err) => {
            // The same cause twice (a full disk, a file size limit) is not worth repeating.
            let why = match (io_cause(&err), io_cause(lost)) {
                (Some(a), Some(b)) if a == b => String::new(),
                _ => format!(" ({err})"),
            };
            eprintln!(
                "the results cannot be saved to `{}` either{why}; they follow on stdout",
                path.display()
            );
            print_stdout(&report::results_json(report)?)?;
            Ok(true)
        }
    }
}

/// Print `text` on stdout; an error (a closed pipe, a full disk behind a redirect) is
/// returned, not a panic.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot print the results on stdout")
}

/// Where [`rescue`] writes: a folder of its own in the system's temporary folder, named by the
/// scenario (whose name is made of file-name-safe characters) and this process.
fn rescue_path(scenario_name: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!(
            "nitro-scenario-{scenario_name}-{}",
            std::process::id()
        ))
        .join("results.json")
}

/// The OS error under `err`, as text.
fn io_cause(err: &ReportError) -> Option<String> {
    match err {
        ReportError::Io { source, .. } => Some(source.to_string()),
        _ => None,
    }
}
