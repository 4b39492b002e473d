//! `nitro-scenario mock`.

use std::process::ExitCode;

use crate::cli::MockArgs;

/// Carry out `mock`.
pub(super) fn mock(_args: MockArgs) -> anyhow::Result<ExitCode> {
    todo!("mock command")
}
