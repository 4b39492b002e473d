//! What one run of an external client produced: [`ExternalRun`] — its outcome (with the
//! figures it reported when it completed), resource use, wall time, exit status and the tail
//! of its stderr. Serializable, for `results.json`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::figures::ClientFigures;

/// One run of one point by an external client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalRun {
    /// The client's name (`[clients.NAME]`).
    pub client: String,
    /// Report label: the spec's `lang`, else the `lang` the client reported, else `client`.
    pub lang: String,
    /// How the run ended, with the figures when it completed.
    pub outcome: Outcome,
    /// From the spawn to the client's exit (or to its reaping after a kill), seconds; 0 when
    /// it never started.
    pub wall_secs: f64,
    /// How the process ended; `None` when it never started or could not be reaped.
    pub exit: Option<ExitInfo>,
    /// CPU and memory of the client's process tree; `None` as `exit`.
    pub resources: Option<ResourceUse>,
    /// CPU seconds (user + system) of this whole process while the client ran: the cost of
    /// watching it, plus anything else this process did meanwhile (an in-process mock, say).
    pub parent_cpu_secs: f64,
    /// Bytes the client wrote to stdout.
    pub stdout_bytes: u64,
    /// Bytes the client wrote to stderr.
    pub stderr_bytes: u64,
    /// The last 64 KiB of its stderr (lossy UTF-8).
    pub stderr_tail: String,
    /// Processes of the client's group were still running after it exited and were stopped.
    pub stopped_leftovers: bool,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Exited with code 0 and reported valid figures.
    Completed {
        /// The figures (boxed: they dwarf the other variants).
        figures: Box<ClientFigures>,
        /// Where they were read.
        source: FiguresSource,
    },
    /// Did not produce figures: a failed start, a non-zero exit, a signal, or bad or missing
    /// figures. `reason` says which, with the file (or `stdout`) and field when it is about
    /// the figures.
    Failed {
        /// What went wrong, one line.
        reason: String,
    },
    /// Killed for running past its time limit.
    TimedOut {
        /// The limit: warmup + measure + the client's `timeout`, seconds.
        limit_secs: f64,
    },
    /// Killed because the run was stopped (Ctrl-C).
    Stopped,
    /// Not run: its program (or the interpreter its script names) does not exist. A note for
    /// the report, not a failure.
    Skipped {
        /// What is missing, such as ``"`node` not found"``.
        reason: String,
    },
}

/// Where a client's figures came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FiguresSource {
    /// The file named by `RESULTS_FILE`.
    ResultsFile,
    /// The last JSON object the client printed on stdout.
    Stdout,
}

/// How a process ended: exactly one of the two is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitInfo {
    /// Exit code, when it exited.
    pub code: Option<i32>,
    /// Signal number, when a signal ended it.
    pub signal: Option<i32>,
}

impl ExitInfo {
    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exited with code {code}"),
            (None, Some(signal)) => write!(f, "was ended by signal {signal}"),
            (None, None) => write!(f, "ended in an unknown way"),
        }
    }
}

/// CPU and memory of a client's process tree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResourceUse {
    /// User CPU seconds of the client and the descendants it waited for.
    pub user_cpu_secs: f64,
    /// System CPU seconds, as `user_cpu_secs`.
    pub system_cpu_secs: f64,
    /// `user_cpu_secs + system_cpu_secs`.
    pub cpu_secs: f64,
    /// Peak resident memory of the tree, bytes: the largest of the three figures below.
    pub peak_rss_bytes: u64,
    /// Highest sum of the resident sets of the client and its descendants at one sample,
    /// bytes (sampled every 20 ms).
    pub sampled_tree_rss_bytes: u64,
    /// Highest high-water mark any one process of the tree reported while sampled, bytes.
    pub process_hwm_bytes: u64,
    /// The kernel's `ru_maxrss` for the client and the descendants it waited for, bytes;
    /// `None` when it was no higher than this process's own high-water mark at the spawn
    /// (the kernel starts a child's maximum at its spawner's size, so such a figure may be
    /// ours).
    pub kernel_max_rss_bytes: Option<u64>,
    /// Memory samples taken while the client ran.
    pub rss_samples: u64,
}

impl ExternalRun {
    /// The figures, when the run completed.
    pub fn figures(&self) -> Option<&ClientFigures> {
        match &self.outcome {
            Outcome::Completed { figures, .. } => Some(figures.as_ref()),
            _ => None,
        }
    }

    /// The failure reason, when the run failed.
    pub fn failure(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Failed { reason } => Some(reason),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_read_as_sentences() {
        let exit = |code, signal| ExitInfo { code, signal }.to_string();
        assert_eq!(exit(Some(2), None), "exited with code 2");
        assert_eq!(exit(None, Some(9)), "was ended by signal 9");
        assert!(
            ExitInfo {
                code: Some(0),
                signal: None
            }
            .success()
        );
    }

    #[test]
    fn an_outcome_serializes_with_its_status() {
        let o = Outcome::TimedOut { limit_secs: 1.5 };
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"status":"timed_out","limit_secs":1.5}"#
        );
        let back: Outcome = serde_json::from_str(r#"{"status":"stopped"}"#).unwrap();
        assert_eq!(back, Outcome::Stopped);
    }
}
