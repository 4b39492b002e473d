//! `RunReport`, the one input of every renderer, and how it is assembled from a run (scenario
//! echo with secrets redacted and paths made relative, free text scrubbed) or read back from a
//! `results.json`.

use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::ReportError;
use super::secrets::Secrets;
use crate::journal::JournalStats;
use crate::judge::ThresholdReport;
use crate::metrics::PointResult;
use crate::scenario::{BaseUrl, Scenario, read_text};

/// Everything a run produced, as written to `results.json` and read back by `report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// `nitro-scenario` version that produced the report.
    pub tool_version: String,
    /// Scenario name.
    pub scenario_name: String,
    /// The scenario echo (see `echo`): the file's text and the overrides applied, secrets
    /// redacted, plus the resolved `run` and `output` settings; `source` and `[output]` paths
    /// relative to the working directory (see `RunReport::new`); CLI output flags left out.
    pub scenario: serde_json::Value,
    /// The target as shown to people: `mock (built-in)` or the redacted base URL.
    pub target: String,
    /// The base URL requests went to, redacted; `mock` for the built-in mock.
    pub base_url: String,
    /// The machine the client ran on.
    pub host: HostFacts,
    /// Run start, RFC 3339 UTC, to the second.
    pub started_at: String,
    /// Run end, RFC 3339 UTC, to the second.
    pub finished_at: String,
    /// Whether the run stopped before every point finished.
    pub partial: bool,
    /// Why it stopped early (secrets scrubbed).
    pub interruption: Option<String>,
    /// The matrix's user axes (beyond route, payload and concurrency), in file order; each
    /// point's value is in its `vars`. Charts draw a line per payload and axis values, and
    /// `results.csv` has a column per axis.
    pub axes: Vec<String>,
    /// Every point run, in plan order.
    pub points: Vec<PointResult>,
    /// The per-request log's counters, when it was on.
    pub journal: Option<JournalStats>,
    /// What the scenario's `[thresholds]` found (`judge::thresholds`); `None`, and absent
    /// from `results.json`, for a scenario without thresholds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<ThresholdReport>,
}

/// Facts about the client machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HostFacts {
    /// CPU model name.
    pub cpu_model: String,
    /// Logical cores.
    pub cores: u32,
    /// Operating system and kernel.
    pub os: String,
    /// Total memory, bytes.
    pub memory_bytes: u64,
}

/// How a target is shown: (`target`, `base_url`) of the report. The built-in mock's port
/// changes every run, so it is left out and committed reports stay diffable.
pub fn shown_target(base_url: &BaseUrl) -> (String, String) {
    match base_url {
        BaseUrl::Mock => ("mock (built-in)".into(), "mock".into()),
        BaseUrl::Url { display, .. } => (display.display.clone(), display.display.clone()),
    }
}

impl RunReport {
    /// Assemble the report of a run.
    ///
    /// The scenario is echoed as written, with its secrets redacted; `source` becomes relative
    /// to the working directory when it lies under it, else its file name; `[output]` paths
    /// become relative when under it. Every secret value of the scenario (`${env:...}` values,
    /// credential and override headers) is replaced by `***` in `target`, `base_url`,
    /// `interruption`, the error samples, external clients' records (their reasons and
    /// stderr) and the echo, whatever text carried it.
    #[expect(
        clippy::too_many_arguments,
        reason = "one plain constructor beats a builder for a struct of facts"
    )]
    pub fn new(
        scenario: &Scenario,
        target: String,
        base_url: String,
        host: HostFacts,
        started: SystemTime,
        finished: SystemTime,
        interruption: Option<String>,
        mut points: Vec<PointResult>,
        journal: Option<JournalStats>,
    ) -> Result<Self, ReportError> {
        let secrets = Secrets::of(scenario);
        for p in &mut points {
            let runs = p.runs.iter_mut().flat_map(|r| r.error_samples.iter_mut());
            for sample in runs.chain(p.aggregate.error_samples.iter_mut()) {
                sample.message = secrets.scrub(&sample.message);
            }
            // A client may print what it was given (its headers file, say) on stderr.
            if let Some(record) = &mut p.client {
                let mut json = serde_json::to_value(&*record).map_err(ReportError::Json)?;
                secrets.scrub_json(&mut json);
                *record = serde_json::from_value(json).map_err(ReportError::Json)?;
            }
        }
        let mut echo = super::echo::echo(scenario).map_err(ReportError::Json)?;
        normalise_paths(&mut echo, std::env::current_dir().ok().as_deref());
        secrets.scrub_json(&mut echo);
        Ok(Self {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_name: scenario.name.clone(),
            scenario: echo,
            target: secrets.scrub(&target),
            base_url: secrets.scrub(&base_url),
            host,
            started_at: rfc3339(started),
            finished_at: rfc3339(finished),
            partial: interruption.is_some(),
            interruption: interruption.map(|text| secrets.scrub(&text)),
            axes: scenario
                .matrix
                .extra
                .iter()
                .map(|axis| axis.name.clone())
                .collect(),
            points,
            journal,
            thresholds: None,
        })
    }
}

/// The largest `results.json` read back, in bytes (256 MiB): a run at the matrix's point
/// limit writes a few tens of MiB, and the text is held whole while it is parsed.
pub const MAX_RESULTS_BYTES: u64 = 256 << 20;

/// Read a `results.json` written by `write_all`: a regular file of at most
/// [`MAX_RESULTS_BYTES`] (a FIFO or `/dev/zero` is refused before it is read).
pub fn load_results(path: &Path) -> Result<RunReport, ReportError> {
    let subject = format!("`{}`", path.display());
    let text =
        read_text(path, MAX_RESULTS_BYTES, &subject, "a results file").map_err(|message| {
            ReportError::Unreadable {
                path: path.to_path_buf(),
                message,
            }
        })?;
    serde_json::from_str(&text).map_err(|e| ReportError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// `2026-11-22T14:21:50Z`, to the second: reports diff cleanly and carry no false precision.
fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Make the echo's paths the same on every machine and checkout: `source` relative to `cwd`
/// (else its file name), `[output]` paths relative to `cwd` when under it (else as given, since
/// `report` reads `output.templates` back).
fn normalise_paths(echo: &mut serde_json::Value, cwd: Option<&Path>) {
    if let Some(source) = echo.get_mut("source") {
        if let Some(text) = source.as_str() {
            let path = Path::new(text);
            let shown = relative_to(path, cwd).unwrap_or_else(|| {
                path.file_name()
                    .map_or_else(|| text.to_string(), |n| n.to_string_lossy().into_owned())
            });
            *source = shown.into();
        }
    }
    let Some(output) = echo.get_mut("output").and_then(|o| o.as_object_mut()) else {
        return;
    };
    for key in ["dir", "templates", "results_file"] {
        let Some(value) = output.get_mut(key) else {
            continue;
        };
        if let Some(shown) = value.as_str().and_then(|t| relative_to(Path::new(t), cwd)) {
            *value = shown.into();
        }
    }
}

/// `path` relative to `cwd`, `/`-separated, when it lies under it (judged lexically).
fn relative_to(path: &Path, cwd: Option<&Path>) -> Option<String> {
    let absolute = match (path.is_absolute(), cwd) {
        (true, _) => lexical(path),
        (false, Some(cwd)) => lexical(&cwd.join(path)),
        (false, None) => return Some(slashed(&lexical(path))).filter(|p| !p.starts_with("..")),
    };
    let rel = absolute.strip_prefix(lexical(cwd?)).ok()?;
    let text = slashed(rel);
    Some(if text.is_empty() { ".".into() } else { text })
}

/// `path` with `.` dropped and `..` applied to what precedes it.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn slashed(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_paths_are_relative_to_the_working_directory() {
        let cwd = Path::new("/work/repo");
        let mut echo = serde_json::json!({
            "source": "/work/repo/scenarios/./quick.toml",
            "output": { "dir": "/tmp/out", "templates": "/work/repo/t", "results_file": null },
        });
        normalise_paths(&mut echo, Some(cwd));
        assert_eq!(
            echo,
            serde_json::json!({
                "source": "scenarios/quick.toml",
                "output": { "dir": "/tmp/out", "templates": "t", "results_file": null },
            })
        );
        let mut outside = serde_json::json!({ "source": "../elsewhere/s.toml" });
        normalise_paths(&mut outside, Some(cwd));
        assert_eq!(outside["source"], "s.toml");
        assert_eq!(
            relative_to(Path::new("scenarios/q.toml"), None).as_deref(),
            Some("scenarios/q.toml")
        );
        assert_eq!(
            relative_to(Path::new("/work/repo"), Some(cwd)).as_deref(),
            Some(".")
        );
    }
}
