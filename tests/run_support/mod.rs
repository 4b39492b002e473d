//! Running a scenario written as text, in the runner tests: load it from a temporary file,
//! expand its points, and run them quietly against a server, optionally into a request log.

#![allow(dead_code, reason = "each test binary uses part of the support module")]

use nitro_scenario::journal::JournalSender;
use nitro_scenario::runner::{self, RunOptions, RunOutcome, Stop};
use nitro_scenario::scenario::{self, Overrides, Point, Scenario};

/// `text` read as a scenario file, and its points.
pub fn load(text: &str) -> (Scenario, Vec<Point>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, text).unwrap();
    let s = scenario::load_with_env(&file, &Overrides::default(), &|_| None).unwrap();
    let points = scenario::expand(&s).unwrap();
    (s, points)
}

/// Run `points` of `s` against `base`, quietly, their records to `journal` when given.
pub async fn run(
    s: &Scenario,
    points: &[Point],
    base: &url::Url,
    journal: Option<JournalSender>,
) -> RunOutcome {
    let options = RunOptions {
        quiet: true,
        journal,
        stop: Some(Stop::new()),
        after_point: None,
    };
    runner::run(s, points, base, options).await.unwrap()
}

/// The scenario `text` run against `base`, with no request log.
pub async fn run_text(text: &str, base: &url::Url) -> RunOutcome {
    let (s, points) = load(text);
    run(&s, &points, base, None).await
}
