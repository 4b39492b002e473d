//! What a threshold reads off a run: a figure of the tables (`more_figures::all`), or the
//! count of answers with one status code (`errors_503`), which no fixed table can list.

use super::figures::{Figure, Unit};
use super::more_figures::{all, lookup};
use crate::metrics::RunStats;

/// The prefix of a status code's own count: `errors_503`.
const STATUS_PREFIX: &str = "errors_";

/// A figure a threshold may bound.
#[derive(Debug, Clone, Copy)]
pub enum Measure {
    /// A figure of the tables.
    Figure(&'static Figure),
    /// Final answers with this status code (100–599), per run.
    Status(u16),
}

impl Measure {
    /// The measure named `key`: a figure's key, or `errors_` and a status code.
    pub fn parse(key: &str) -> Option<Self> {
        if let Some(f) = lookup(key) {
            return Some(Self::Figure(f));
        }
        let code = key.strip_prefix(STATUS_PREFIX)?;
        let valid = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
        valid
            .then(|| code.parse().ok())
            .flatten()
            .filter(|c| (100..600).contains(c))
            .map(Self::Status)
    }

    /// Whether `key` names a status code's count the way `parse` reads one, with a code out
    /// of range (`errors_999`).
    pub fn is_bad_status(key: &str) -> bool {
        key.strip_prefix(STATUS_PREFIX)
            .is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()))
            && Self::parse(key).is_none()
    }

    /// Every key of the tables, for hints (status codes aside).
    pub fn keys() -> Vec<&'static str> {
        all().map(|f| f.key).collect()
    }

    /// Its key, as a scenario writes it.
    pub fn key(&self) -> String {
        match self {
            Self::Figure(f) => f.key.to_string(),
            Self::Status(code) => format!("{STATUS_PREFIX}{code}"),
        }
    }

    /// Its label in reports: `latency p99`, `503 answers`.
    pub fn label(&self) -> String {
        match self {
            Self::Figure(f) => f.label.to_string(),
            Self::Status(code) => format!("{code} answers"),
        }
    }

    /// Its unit.
    pub fn unit(&self) -> Unit {
        match self {
            Self::Figure(f) => f.unit,
            Self::Status(_) => Unit::Count,
        }
    }

    /// Its value in one run; `None` when the run has no such figure.
    pub fn of_run(&self, run: &RunStats) -> Option<f64> {
        match self {
            Self::Figure(f) => (f.of_run)(run),
            Self::Status(code) => Some(run.outcomes.status.get(code).copied().unwrap_or(0) as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_and_status_codes_parse() {
        assert_eq!(
            Measure::parse("ttft_p99").map(|m| m.key()).as_deref(),
            Some("ttft_p99")
        );
        assert_eq!(
            Measure::parse("errors_5xx").map(|m| m.unit()),
            Some(Unit::Count)
        );
        let m = Measure::parse("errors_503").unwrap();
        assert_eq!(
            (m.key().as_str(), m.label().as_str()),
            ("errors_503", "503 answers")
        );
        let mut run = RunStats::default();
        assert_eq!(m.of_run(&run), Some(0.0));
        run.outcomes.status.insert(503, 7);
        assert_eq!(m.of_run(&run), Some(7.0));
        for bad in [
            "errors_999",
            "errors_50",
            "errors_+503",
            "latency_p98",
            "errors_0503",
        ] {
            assert!(Measure::parse(bad).is_none(), "{bad}");
        }
        assert!(Measure::is_bad_status("errors_999"));
        assert!(Measure::is_bad_status("errors_099"));
        assert!(!Measure::is_bad_status("errors_503"));
        assert!(!Measure::is_bad_status("errors_xyz"));
    }
}
