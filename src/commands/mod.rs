//! One function per CLI command, gluing `scenario`, `runner`, `report`, `judge` and `mock`.
//! Exit codes: 0 success, 2 usage, config or runtime error (also reports that could not all be
//! written, or a request log that could not be kept), 3 a tolerance or a threshold failed, 128 +
//! the signal for a run a signal stopped.

mod compare;
mod completions;
mod mock;
mod outputs;
mod plan;
mod report;
mod run;
mod schema;
mod validate;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::scenario::escape_controls;

/// Exit code for usage, config and runtime errors.
pub const EXIT_ERROR: u8 = 2;

/// Exit code when a figure is worse than a `--fail-on` tolerance allows, or past a threshold
/// of the scenario's `[thresholds]`.
pub const EXIT_TOLERANCE: u8 = 3;

/// Run the command `cli` names and map its result to an exit code; errors go to stderr.
pub fn dispatch(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Plan(args) => plan::plan(args),
        Command::Validate(args) => validate::validate(args),
        Command::Mock(args) => mock::mock(args),
        Command::Report(args) => report::report(args),
        Command::Compare(args) => compare::compare(args),
        Command::Completions(args) => completions::completions(args),
        Command::Schema(args) => schema::schema(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            print_error(&*err);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Print `err` and its causes on stderr, joined by `: `. A scenario error lists every
/// problem, one per line: each line gets the `error: ` prefix, as in `validate` and `plan`.
/// Control characters of what the user wrote (a path, a file's contents) are escaped.
fn print_error(err: &(dyn std::error::Error + 'static)) {
    for line in error_text(err).lines() {
        eprintln!("error: {}", escape_controls(line));
    }
}

/// `err` and its causes joined by `: `, leaving out a cause whose text the one above it
/// already shows — an I/O error inside `path: {error}` — so no OS error is printed twice.
fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut above = text.clone();
    let mut cause = err.source();
    while let Some(inner) = cause {
        let shown = inner.to_string();
        if !above.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        above = shown;
        cause = inner.source();
    }
    text
}

/// The multi-threaded tokio runtime `run` drives load on (one worker thread per core).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_cause_already_shown_is_not_repeated() {
        let io = std::io::Error::from_raw_os_error(libc::ENOSPC);
        let shown = crate::report::ReportError::Io {
            path: "out/results.json".into(),
            source: io,
        };
        let err = Err::<(), _>(shown).context("writing").unwrap_err();
        let text = error_text(&*err);
        assert_eq!(
            text,
            format!(
                "writing: out/results.json: {}",
                std::io::Error::from_raw_os_error(libc::ENOSPC)
            )
        );
        let fresh = anyhow::anyhow!("outer").context("top");
        assert_eq!(error_text(&*fresh), "top: outer");
    }
}
