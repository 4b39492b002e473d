//! One function per CLI command, gluing `scenario`, `runner`, `report`, `judge` and `mock`.
//! Exit codes: 0 success, 2 usage, config or runtime error, 3 a tolerance failed.

mod compare;
mod completions;
mod mock;
mod plan;
mod report;
mod run;
mod validate;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Exit code for usage, config and runtime errors.
pub const EXIT_ERROR: u8 = 2;

/// Exit code when a figure is worse than a `--fail-on` tolerance allows.
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
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // A scenario error lists every problem, one per line: each gets the prefix, as in
            // `validate` and `plan`.
            for line in format!("{err:#}").lines() {
                eprintln!("error: {line}");
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The multi-threaded tokio runtime `run` drives load on (one worker thread per core).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
