//! Facts read back from the scenario echo (`RunReport::scenario`, JSON): phase limits and the
//! templates folder. Renderers and `report` have only the stored results, so they read the
//! echo, not a `Scenario`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::RunReport;
use crate::scenario::units::parse_duration;

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
