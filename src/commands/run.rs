//! `nitro-scenario run`.

use std::process::ExitCode;

use crate::cli::RunArgs;

/// Carry out `run`.
pub(super) fn run(_args: RunArgs) -> anyhow::Result<ExitCode> {
    todo!("run command")
}
