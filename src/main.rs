//! The `nitro-scenario` binary: parse the command line, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = nitro_scenario::cli::Cli::parse();
    nitro_scenario::commands::dispatch(cli)
}
