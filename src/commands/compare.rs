//! `nitro-scenario compare BASE NEW`: judge a stored run against a baseline, Markdown (or
//! `--json`) on stdout, warnings and failed tolerances on stderr.

use std::process::ExitCode;

use crate::cli::CompareArgs;
use crate::judge::{self, Comparison};
use crate::report::Templates;
use crate::scenario::escape_controls;

/// Carry out `compare`.
pub(super) fn compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let tolerances = judge::parse_tolerances(&args.fail_on)?;
    let templates = match &args.templates {
        Some(dir) => Templates::load_for(dir, judge::TEMPLATE)?,
        None => judge::templates_for(&Templates::built_in()),
    };
    let base = judge::load(&args.base)?;
    let new = judge::load(&args.new)?;
    let comparison = judge::compare(&base, &new, &tolerances);
    let text = if args.json {
        judge::json(&comparison)?
    } else {
        judge::markdown(&comparison, &templates)?
    };
    print!("{text}");
    Ok(tell(&comparison))
}

/// Say on stderr what differs between the runs and which tolerances failed; the exit code:
/// `EXIT_TOLERANCE` when one did.
pub(super) fn tell(comparison: &Comparison) -> ExitCode {
    // Both read what results files hold, which anyone may have written.
    for warning in &comparison.warnings {
        eprintln!("warning: {}", escape_controls(warning));
    }
    for f in &comparison.failures {
        eprintln!(
            "failed: `{}` {} is past `--fail-on {}`",
            escape_controls(&f.point),
            f.figure,
            f.tolerance
        );
    }
    if comparison.failed() {
        ExitCode::from(super::EXIT_TOLERANCE)
    } else {
        ExitCode::SUCCESS
    }
}
