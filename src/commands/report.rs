//! `nitro-scenario report`.

use std::process::ExitCode;

use crate::cli::ReportArgs;

/// Carry out `report`.
pub(super) fn report(_args: ReportArgs) -> anyhow::Result<ExitCode> {
    todo!("report command")
}
