//! `nitro-scenario plan`.

use std::process::ExitCode;

use crate::cli::PlanArgs;

/// Carry out `plan`.
pub(super) fn plan(_args: PlanArgs) -> anyhow::Result<ExitCode> {
    todo!("plan command")
}
