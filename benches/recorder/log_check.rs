//! What one scenario's journal did, checked against the file it wrote.

use std::path::{Path, PathBuf};
use std::time::Instant;

use nitro_scenario::journal::{self, Journal, JournalStats};
use serde_json::{Value, json};

/// What one scenario's journal did, checked against its file.
pub struct LogCheck {
    pub scenario: &'static str,
    /// `record` calls.
    pub offered: u64,
    /// `record` calls that returned `true`.
    pub accepted: u64,
    pub stats: JournalStats,
    /// Rows in the CSV file after `finish`.
    pub lines: u64,
    /// When `finish` returned (before the file was read back to count its rows).
    pub finished_at: Instant,
}

impl LogCheck {
    pub fn refused(&self) -> u64 {
        self.offered - self.accepted
    }

    pub fn in_equals_disk(&self) -> bool {
        self.accepted == self.lines
            && self.stats.accepted == self.accepted
            && self.stats.written == self.lines
            && self.stats.error.is_none()
    }

    pub fn records_per_write(&self) -> f64 {
        self.lines as f64 / self.stats.disk_writes.max(1) as f64
    }

    pub fn batched_100x(&self) -> bool {
        self.lines >= 100 * self.stats.disk_writes
    }

    pub fn json(&self) -> Value {
        json!({
            "offered": self.offered, "accepted": self.accepted, "refused": self.refused(),
            "lines_on_disk": self.lines, "records_in_equal_lines_on_disk": self.in_equals_disk(),
            "records_per_disk_write": self.records_per_write(), "journal": self.stats,
        })
    }
}

/// A journal at the production capacity writing `dir/name`.
pub fn open_journal(dir: &Path, name: &str) -> (Journal, PathBuf) {
    let path = dir.join(name);
    let j = Journal::start(&path, vec!["bench-point".into()], journal::CAPACITY)
        .expect("start the journal");
    (j, path)
}

/// Finish `j` and count the rows of its file.
pub fn close_journal(
    scenario: &'static str,
    j: Journal,
    path: &Path,
    offered: u64,
    accepted: u64,
) -> LogCheck {
    let stats = j.finish();
    let finished_at = Instant::now();
    let text = std::fs::read_to_string(path).expect("read the journal's file");
    let lines = text.lines().count().saturating_sub(1) as u64;
    LogCheck {
        scenario,
        offered,
        accepted,
        stats,
        lines,
        finished_at,
    }
}
