//! `nitro-scenario report RESULTS.json`: re-render the reports of a stored run, no traffic.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::ReportArgs;
use crate::report::{self, OutputPlan, Templates};
use crate::scenario::escape_controls;

/// Carry out `report`: write report.md, results.csv and the charts beside RESULTS (or `--out`),
/// naming each file on stderr unless `--quiet`.
///
/// Templates: `--templates DIR`, else the stored scenario's `output.templates` (the path as
/// stored, relative to the working directory), else the built-in template.
pub(super) fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let stored = report::load_results(&args.results)?;
    let templates = match (&args.templates, stored.templates_dir()) {
        (Some(dir), _) => Templates::load(dir)?,
        (None, Some(dir)) => Templates::load(&dir).with_context(|| {
            format!(
                "the templates folder named by `output.templates` in `{}`",
                args.results.display()
            )
        })?,
        (None, None) => Templates::built_in(),
    };
    let dir = args.out.clone().unwrap_or_else(|| {
        args.results
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), PathBuf::from)
    });
    // Re-rendering must not move the stored results: write results.json back where it was
    // only when no other folder was asked for.
    let results_file = if args.out.is_some() {
        None
    } else {
        Some(args.results.clone())
    };
    let plan = OutputPlan {
        dir,
        results_file,
        templates,
    };
    // Each file is named as it lands, so a failure later still leaves a true list.
    report::write_reporting(&stored, &plan, None, |path| {
        if !args.quiet {
            eprintln!("wrote {}", escape_controls(&path.display().to_string()));
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
