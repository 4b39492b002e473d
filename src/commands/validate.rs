//! `nitro-scenario validate FILE...`: check files, report every problem of every file.

use std::process::ExitCode;

use crate::cli::ValidateArgs;
use crate::scenario::{self, Overrides};

/// Carry out `validate`: `FILE: ok` on stdout per good file, problems on stderr, exit 2 on any.
pub(super) fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for file in &args.files {
        match scenario::load(file, &Overrides::default())
            .and_then(|s| scenario::expand(&s).map(|p| (s, p)))
        {
            Ok((_, points)) => println!("{}: ok ({} points)", file.display(), points.len()),
            Err(err) => {
                eprintln!("{err}");
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
