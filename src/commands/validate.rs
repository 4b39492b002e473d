//! `nitro-scenario validate FILE...`: check files, report every problem of every file.

use std::process::ExitCode;

use crate::cli::ValidateArgs;
use crate::scenario::{self, Overrides, Scenario, ScenarioError, escape_controls};

/// Carry out `validate`: `FILE: ok` on stdout per good file, problems and warnings on stderr,
/// exit 2 on any problem (warnings alone pass).
pub(super) fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for file in &args.files {
        match scenario::load(file, &Overrides::default())
            .and_then(|s| scenario::expand(&s).map(|p| (s, p)))
        {
            Ok((scenario, points)) => {
                print_warnings(&scenario);
                let file = file.display().to_string();
                println!("{}: ok ({} points)", escape_controls(&file), points.len());
            }
            Err(err) => {
                print_problems(&err);
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(super::EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// Print every problem on stderr, one per line, each with the `error: ` prefix that other
/// failures get, so that `plan` and `validate` read alike and every line can be grepped.
pub(super) fn print_problems(err: &ScenarioError) {
    for line in err.to_string().lines() {
        eprintln!("error: {line}");
    }
}

/// Print the scenario's warnings on stderr, one per line after `warning: `.
pub(super) fn print_warnings(scenario: &Scenario) {
    for warning in &scenario.warnings {
        eprintln!("warning: {warning}");
    }
}
