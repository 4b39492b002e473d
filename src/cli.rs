//! Command-line arguments (clap derive). No logic: `commands` acts on them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Declarative load tests for HTTP and OpenAI-compatible LLM APIs.
#[derive(Debug, Parser)]
#[command(name = "nitro-scenario", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate, expand and run a scenario, then write its reports.
    Run(RunArgs),
    /// Validate a scenario and print its expanded points and estimated wall time.
    Plan(PlanArgs),
    /// Check scenario files; every problem at once, exit 2 on any.
    Validate(ValidateArgs),
    /// Serve the built-in OpenAI-compatible mock server.
    Mock(MockArgs),
    /// Re-render reports from a stored results.json, sending no traffic.
    Report(ReportArgs),
}

/// `run` arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Override a setting or axis, e.g. `--set run.duration=5s`, `--set matrix.concurrency=[1,8]`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Report folder (default `reports/<scenario name>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Folder of templates replacing the built-in ones.
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// Write `requests.csv`, one line per attempt.
    #[arg(long)]
    pub requests_log: bool,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the run summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `plan` arguments.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Override a setting or axis, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// `validate` arguments.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// `mock` arguments.
#[derive(Debug, clap::Args)]
pub struct MockArgs {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// A TOML file with a `[mock]` table.
    #[arg(long, conflicts_with = "config_json")]
    pub config: Option<PathBuf>,
    /// The config as JSON (used by `run` to start the mock as a child process).
    #[arg(long, hide = true)]
    pub config_json: Option<String>,
}

/// `report` arguments.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A results.json written by `run`.
    pub results: PathBuf,
    /// Folder of templates replacing the built-in ones.
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// Report folder (default: the folder of RESULTS).
    #[arg(long)]
    pub out: Option<PathBuf>,
}
