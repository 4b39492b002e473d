//! `nitro-scenario validate`.

use std::process::ExitCode;

use crate::cli::ValidateArgs;

/// Carry out `validate`.
pub(super) fn validate(_args: ValidateArgs) -> anyhow::Result<ExitCode> {
    todo!("validate command")
}
