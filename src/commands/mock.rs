//! `nitro-scenario mock`: the built-in mock server on its own.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::MockArgs;
use crate::mock::{self, MockConfig};
use crate::scenario;

/// Carry out `mock`: serve until Ctrl-C or SIGTERM.
pub(super) fn mock(args: MockArgs) -> anyhow::Result<ExitCode> {
    let config = match (&args.config, &args.config_json) {
        (Some(file), _) => scenario::load_mock_config(file)?,
        (None, Some(json)) => {
            serde_json::from_str(json).context("--config-json is not a mock config")?
        }
        (None, None) => MockConfig::default(),
    };
    // One descriptor per client connection: as many as the hard limit allows.
    crate::runner::raise_open_files();
    // One thread, like one nginx worker: no cross-thread wake-ups or work stealing, which
    // measured at about a third more requests per CPU-second than two threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(mock::serve_until_signal(config, args.port))?;
    Ok(ExitCode::SUCCESS)
}
