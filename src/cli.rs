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
    /// Compare two stored runs point by point, judging each figure against the noise.
    Compare(CompareArgs),
    /// Print a shell completion script on stdout.
    Completions(CompletionsArgs),
    /// Print a JSON Schema of the scenario language, for editors (taplo, Even Better TOML).
    Schema(SchemaArgs),
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
    /// Compare with this earlier run (a results.json or report folder) and add the
    /// comparison to report.md.
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<PathBuf>,
    /// With `--baseline`: tolerances as for `compare --fail-on`; one failed exits 3.
    #[arg(
        long = "fail-on",
        value_name = "FIGURE=CHANGE",
        value_delimiter = ',',
        requires = "baseline"
    )]
    pub fail_on: Vec<String>,
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
    /// No `wrote` lines: only errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `compare` arguments.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The baseline: a results.json, or a report folder holding one.
    pub base: PathBuf,
    /// The run to judge: a results.json, or a report folder holding one.
    pub new: PathBuf,
    /// How much worse a figure may get, e.g. `latency_p99=+5%`, `throughput=-3%`, `retries=+10`
    /// (repeat, or separate with commas); a figure worse beyond noise and past it exits 3.
    #[arg(long = "fail-on", value_name = "FIGURE=CHANGE", value_delimiter = ',')]
    pub fail_on: Vec<String>,
    /// Print the comparison as JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
    /// Folder holding a `compare.md.j2` to replace the built-in template.
    #[arg(long)]
    pub templates: Option<PathBuf>,
}

/// `completions` arguments.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish (also elvish, powershell).
    pub shell: clap_complete::Shell,
}

/// `schema` arguments.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Write the schema to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
