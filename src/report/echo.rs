//! The scenario echo of a report (`RunReport::scenario`, JSON): what goes into it, and the
//! facts read back from it (phase limits, the templates folder). Renderers and `report` have
//! only the stored results, so they read the echo, not a `Scenario`.
//!
//! The echo records the scenario as written — the file's text and the overrides applied,
//! secrets as `***` — so that the run can be repeated; beside it, the resolved settings the
//! report reads (`run`, `output`, `description`). Echoes written by earlier versions (the
//! whole validated model) hold those at the same keys, so their reports still render.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::RunReport;
use crate::scenario::units::parse_duration;
use crate::scenario::{OutputSettings, RunSettings, Scenario};

/// The echo as written into `results.json`.
#[derive(Serialize)]
struct ScenarioEcho<'a> {
    /// Scenario name.
    name: &'a str,
    /// Free text for the report header.
    description: Option<&'a str>,
    /// The scenario file (made relative to the working directory by `RunReport::new`).
    source: &'a Path,
    /// The file's text as written, literal credentials as `***`.
    text: &'a str,
    /// The overrides applied on top of the file, as written, secrets as `***`.
    overrides: &'a [String],
    /// Runs, phases and retries as run: defaults filled in, overrides applied.
    run: &'a RunSettings,
    /// Where the reports went; `report` reads `templates` back.
    output: &'a OutputSettings,
}

/// The echo of `scenario`, before its paths are made relative and its secrets scrubbed.
pub(crate) fn echo(scenario: &Scenario) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::to_value(ScenarioEcho {
        name: &scenario.name,
        description: scenario.description.as_deref(),
        source: &scenario.source,
        text: &scenario.written.text,
        overrides: &scenario.written.overrides,
        run: &scenario.run,
        output: &scenario.output,
    })
}

/// A phase limit as echoed: `{"duration": "30s" | null, "requests": 500 | null}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct PhaseEcho {
    /// The phase's wall time as written (`"30s"`), if bounded by time.
    pub(crate) duration: Option<String>,
    /// Completed requests that end the phase, if bounded by count.
    pub(crate) requests: Option<u64>,
}

impl PhaseEcho {
    /// `30s`, `500 requests`, or `30s or 500 requests` (whichever comes first ends it).
    pub(crate) fn describe(&self) -> String {
        let requests = self.requests.map(|n| {
            let unit = if n == 1 { "request" } else { "requests" };
            format!("{} {unit}", super::filters::thousands(n))
        });
        match (&self.duration, requests) {
            (Some(d), Some(r)) => format!("{d} or {r}"),
            (Some(d), None) => d.clone(),
            (None, Some(r)) => r,
            (None, None) => "none".into(),
        }
    }

    /// The duration, parsed.
    pub(crate) fn duration(&self) -> Option<Duration> {
        self.duration
            .as_deref()
            .and_then(|d| parse_duration(d).ok())
    }
}

impl RunReport {
    /// The warmup phase's limit, `None` when there is no warmup (or the echo lacks it).
    pub(crate) fn warmup_echo(&self) -> Option<PhaseEcho> {
        self.phase_echo("warmup")
    }

    /// The measure phase's limit, `None` when the echo lacks it.
    pub(crate) fn measure_echo(&self) -> Option<PhaseEcho> {
        self.phase_echo("measure")
    }

    fn phase_echo(&self, phase: &str) -> Option<PhaseEcho> {
        let value = self.scenario.get("run")?.get(phase)?;
        PhaseEcho::deserialize(value).ok()
    }

    /// The templates folder the scenario named (`output.templates`), as stored.
    pub fn templates_dir(&self) -> Option<PathBuf> {
        self.scenario
            .get("output")?
            .get("templates")?
            .as_str()
            .map(PathBuf::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::HostFacts;
    use crate::scenario::{self, Overrides};

    #[test]
    fn the_echo_is_the_scenario_as_written_with_secrets_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        let text = "name = \"echo\"\n\
                    [target]\nbase_url = \"http://u:pw-secret@127.0.0.1:9\"\n\
                    headers = { authorization = \"Bearer ${env:KEY}\", x-api-key = \"sk-literal\" }\n\
                    [run]\nruns = 2\nrequests = 5\n\
                    [routes.chat]\npath = \"/v1/chat/completions\"\n\
                    [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n\
                    [matrix.axes]\nmodel = [\"a\"]\n";
        std::fs::write(&file, text).unwrap();
        let overrides = Overrides::from_args(
            &[
                "target.headers.x-extra=sk-override".into(),
                "run.warmup=1s".into(),
            ],
            vec![],
        )
        .unwrap();
        let env = |name: &str| (name == "KEY").then(|| "sk-env".to_string());
        let s = scenario::load_with_env(&file, &overrides, &env).unwrap();
        let (target, base_url) = crate::report::shown_target(&s.target.base_url);
        let report = RunReport::new(
            &s,
            target,
            base_url,
            HostFacts::default(),
            std::time::SystemTime::UNIX_EPOCH,
            std::time::SystemTime::UNIX_EPOCH,
            None,
            Vec::new(),
            None,
        )
        .unwrap();
        let as_written = text
            .replace("u:pw-secret@", "***@")
            .replace("\"sk-literal\"", "\"***\"");
        assert_eq!(
            report.scenario,
            serde_json::json!({
                "name": "echo",
                "description": null,
                "source": "s.toml",
                "text": as_written,
                "overrides": ["--set target.headers.x-extra=***", "--set run.warmup=1s"],
                "run": {
                    "runs": 2,
                    "warmup": { "duration": "1s", "requests": null },
                    "measure": { "duration": null, "requests": 5 },
                    "retry": {
                        "max": 3,
                        "honor_retry_after": true,
                        "max_wait": "10s",
                        "backoff": "100ms"
                    },
                    "arrival": { "process": "poisson", "seed": 42, "max_in_flight": 10000 },
                    "stages": [],
                },
                "output": {
                    "dir": null,
                    "templates": null,
                    "results_file": null,
                    "requests_log": false
                },
            })
        );
        let json = serde_json::to_string(&report).unwrap();
        for secret in ["pw-secret", "sk-env", "sk-literal", "sk-override"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        assert_eq!(report.warmup_echo().unwrap().describe(), "1s");
        assert_eq!(report.measure_echo().unwrap().describe(), "5 requests");
    }

    #[test]
    fn phases_say_what_bounds_them() {
        let limit = |d: Option<&str>, r: Option<u64>| PhaseEcho {
            duration: d.map(Into::into),
            requests: r,
        };
        assert_eq!(limit(Some("30s"), None).describe(), "30s");
        assert_eq!(limit(None, Some(500)).describe(), "500 requests");
        assert_eq!(limit(None, Some(1)).describe(), "1 request");
        assert_eq!(
            limit(Some("30s"), Some(1500)).describe(),
            "30s or 1,500 requests"
        );
        assert_eq!(
            limit(Some("1m30s"), None).duration(),
            Some(Duration::from_secs(90))
        );
    }
}
