//! `nitro-scenario report RESULTS.json`: re-render the reports of a stored run, no traffic.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::ReportArgs;
use crate::report::{self, OutputPlan};

/// Carry out `report`: write report.md, results.csv and the charts beside RESULTS (or `--out`).
pub(super) fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let stored = report::load_results(&args.results)?;
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
        templates: args.templates,
    };
    for path in report::write_all(&stored, &plan)? {
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
