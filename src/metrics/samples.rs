//! Sample error messages: a few distinct messages per failure kind, each with how many
//! failures carried it, so that a report says *why* requests failed ("connection refused",
//! "too many open files"), not only how many did.
//!
//! Bounded whatever the number of failures: at most [`PER_KIND`] messages per kind, each cut
//! short by the runner. Once a kind holds that many, its later failures are counted in the
//! outcome totals only — the runner does not even put them into words.

use serde::{Deserialize, Serialize};

/// Distinct messages kept per failure kind.
pub const PER_KIND: usize = 3;

/// One message and how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorSample {
    /// Failure kind label: `connect`, `reset`, `timeout`, `decode` or `stream`.
    pub kind: String,
    /// What the failure said: the error and its sources, without URLs.
    pub message: String,
    /// Failures of this kind that carried this message, among those sampled.
    pub count: u64,
}

/// Up to [`PER_KIND`] distinct messages per failure kind, with counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorSamples {
    entries: Vec<ErrorSample>,
}

impl ErrorSamples {
    /// Whether a failure of `kind` would still be sampled: the kind has room for a new
    /// message.
    pub fn wants(&self, kind: &str) -> bool {
        self.entries.iter().filter(|e| e.kind == kind).count() < PER_KIND
    }

    /// Count `count` failures of `kind` that said `message`; a new message is kept while its
    /// kind has room.
    pub fn add(&mut self, kind: &str, message: &str, count: u64) {
        let same = |e: &&mut ErrorSample| e.kind == kind && e.message == message;
        if let Some(seen) = self.entries.iter_mut().find(same) {
            seen.count += count;
        } else if self.wants(kind) {
            self.entries.push(ErrorSample {
                kind: kind.to_string(),
                message: message.to_string(),
                count,
            });
        }
    }

    /// Add samples kept elsewhere (another worker, another run), by the same rule.
    pub fn merge(&mut self, other: &[ErrorSample]) {
        for e in other {
            self.add(&e.kind, &e.message, e.count);
        }
    }

    /// The samples, in the order first seen.
    pub fn as_slice(&self) -> &[ErrorSample] {
        &self.entries
    }

    /// Forget every sample.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The samples in a stable order: by kind, most frequent first, then by message.
    pub fn to_sorted_vec(&self) -> Vec<ErrorSample> {
        let mut out = self.entries.clone();
        out.sort_by(|a, b| {
            (&a.kind, std::cmp::Reverse(a.count), &a.message).cmp(&(
                &b.kind,
                std::cmp::Reverse(b.count),
                &b.message,
            ))
        });
        out
    }
}

/// The samples of several runs as one set, by the rule of one run.
pub fn merge_samples<'a>(runs: impl IntoIterator<Item = &'a [ErrorSample]>) -> Vec<ErrorSample> {
    let mut all = ErrorSamples::default();
    for run in runs {
        all.merge(run);
    }
    all.to_sorted_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_keeps_three_messages_and_counts_repeats() {
        let mut s = ErrorSamples::default();
        for _ in 0..5 {
            s.add("connect", "connection refused", 1);
        }
        s.add("connect", "too many open files", 2);
        s.add("connect", "dns error", 1);
        assert!(!s.wants("connect"), "three messages fill the kind");
        assert!(s.wants("reset"), "kinds fill apart");
        s.add("connect", "a fourth message", 1);
        s.add("connect", "connection refused", 1);
        s.add("reset", "connection reset by peer", 1);
        let v = s.to_sorted_vec();
        let shown: Vec<(&str, &str, u64)> = v
            .iter()
            .map(|e| (e.kind.as_str(), e.message.as_str(), e.count))
            .collect();
        assert_eq!(
            shown,
            [
                ("connect", "connection refused", 6),
                ("connect", "too many open files", 2),
                ("connect", "dns error", 1),
                ("reset", "connection reset by peer", 1),
            ]
        );
    }

    #[test]
    fn runs_merge_by_the_same_rule() {
        let sample = |kind: &str, message: &str, count| ErrorSample {
            kind: kind.into(),
            message: message.into(),
            count,
        };
        let a = vec![sample("timeout", "before the headers", 4)];
        let b = vec![
            sample("timeout", "before the headers", 1),
            sample("timeout", "while the body was read", 2),
            sample("stream", "no [DONE]", 7),
        ];
        let merged = merge_samples([a.as_slice(), b.as_slice()]);
        assert_eq!(
            merged,
            [
                sample("stream", "no [DONE]", 7),
                sample("timeout", "before the headers", 5),
                sample("timeout", "while the body was read", 2),
            ]
        );
    }
}
