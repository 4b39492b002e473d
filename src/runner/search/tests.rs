//! The search's bracket probe by probe, its log line, and a whole search on the scripted
//! transport and tokio's paused clock: exact, no sockets.

use std::time::Duration;

use url::Url;

use super::*;
use crate::metrics::{SloCheck, SloVerdict};
use crate::runner::open::Pacing;
use crate::runner::transport::scripted::{ScriptedConnector, Step};
use crate::runner::{RunOptions, Stop, run_with};
use crate::scenario::{self, Overrides, Resolution};

fn bracket(min: f64, max: f64, resolution: f64) -> Bracket {
    Bracket::new(RateSearch {
        min,
        max,
        resolution: Resolution::Absolute(resolution),
        probe: Duration::from_secs(1),
    })
}

/// The rates a search probes against a server that meets the SLOs up to `knee`, and how
/// it ends.
fn walk(mut b: Bracket, knee: f64) -> (Vec<f64>, SearchEnd, Option<f64>) {
    let mut rates = Vec::new();
    let end = loop {
        match b.next() {
            Ok(rate) => {
                rates.push(rate);
                b.record(rate, rate <= knee);
            }
            Err(end) => break end,
        }
    };
    (rates, end, b.pass)
}

#[test]
fn min_then_max_then_bisection_to_the_resolution() {
    let (rates, end, answer) = walk(bracket(20.0, 180.0, 10.0), 100.0);
    assert_eq!(rates, [20.0, 180.0, 100.0, 140.0, 120.0, 110.0]);
    assert_eq!((end, answer), (SearchEnd::Converged, Some(100.0)));
    assert!(rates.len() as u32 <= bracket(20.0, 180.0, 10.0).search.worst_case_probes());
}

#[test]
fn a_failing_min_or_a_passing_max_ends_the_search() {
    assert_eq!(
        walk(bracket(20.0, 180.0, 10.0), 5.0),
        (vec![20.0], SearchEnd::BelowMin, None)
    );
    assert_eq!(
        walk(bracket(20.0, 180.0, 10.0), 500.0),
        (vec![20.0, 180.0], SearchEnd::AtMax, Some(180.0))
    );
}

#[test]
fn the_worst_case_is_the_most_probes_any_knee_takes() {
    let b = bracket(1.0, 1000.0, 7.0);
    let most = (0..=1100)
        .map(|knee| walk(b, f64::from(knee)).0.len() as u32)
        .max()
        .unwrap();
    assert_eq!(most, b.search.worst_case_probes());
}

#[test]
fn a_probe_line_names_what_it_missed() {
    let probe = Probe {
        rate_rps: 150.0,
        slo: SloVerdict {
            goodput_rps: 120.4,
            checks: vec![
                SloCheck {
                    objective: "latency".into(),
                    p: Some(99.0),
                    limit: 100.0,
                    value: Some(231.456),
                    meets: false,
                },
                SloCheck {
                    objective: "success_rate".into(),
                    p: None,
                    limit: 99.0,
                    value: Some(99.5),
                    meets: true,
                },
            ],
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        probe_line("chat-search", 1, 3, &probe),
        "chat-search run 1: probe 3 at 150 req/s misses the SLOs (latency p99 231.46 ms), \
         goodput 120 req/s"
    );
    let met = Probe {
        meets: true,
        ..probe
    };
    assert!(probe_line("p", 2, 1, &met).contains("run 2: probe 1 at 150 req/s meets the SLOs"));
}

/// One search point whose every answer takes 100 ms, with `extra` TOML appended.
async fn search_run(extra: &str) -> crate::metrics::PointResult {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    let text = format!(
        "[target]\nbase_url = \"http://127.0.0.1:9\"\n[routes.chat]\n\
         path = \"/v1/chat/completions\"\n[matrix]\nroute = [\"chat\"]\nrate = [\"search\"]\n{extra}"
    );
    std::fs::write(&file, text).unwrap();
    let s = scenario::load_with_env(&file, &Overrides::default(), &|_| None).unwrap();
    let points = scenario::expand(&s).unwrap();
    let options = RunOptions {
        quiet: true,
        journal: None,
        stop: Some(Stop::new()),
        after_point: None,
    };
    let base = Url::parse("http://127.0.0.1:9/").unwrap();
    let connector = ScriptedConnector::new(vec![Step::ok(100_000)]);
    let out = run_with(&connector, &s, &points, &base, options, Pacing::Tokio)
        .await
        .unwrap();
    out.points.into_iter().next().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_search_finds_where_one_slot_of_100_ms_saturates() {
    // One request in flight at a time, each 100 ms: 10 req/s is the knee. Past it requests
    // queue behind the cap, and a request's wait grows by (1/10 - 1/rate) s per request
    // before it: over 10 s, the median sent request (the 50th) waits 50 (0.1 - 1/rate) s,
    // within 300 - 100 ms up to 10.4 req/s.
    let point = search_run(
        "[run.arrival]\nprocess = \"constant\"\nmax_in_flight = 1\n\
         [slo]\nlatency = { p = 50, max = \"300ms\" }\n\
         [search]\nmin = 1\nmax = 20\nresolution = 0.5\nprobe = \"10s\"\n",
    )
    .await;
    assert_eq!(point.id, "chat-search");
    let run = &point.runs[0];
    let search = run.search.as_ref().unwrap();
    let rates: Vec<f64> = search.probes.iter().map(|p| p.rate_rps).collect();
    assert_eq!(&rates[..3], [1.0, 20.0, 10.5], "min, max, then the middle");
    assert_eq!(search.end, SearchEnd::Converged);
    let (answer, failed) = (search.answer_rps.unwrap(), search.failed_rps.unwrap());
    assert!((9.9..=10.4).contains(&answer), "{rates:?}: {answer}");
    assert!(
        failed - answer <= 0.5,
        "within the resolution: {answer} to {failed}"
    );
    assert!(rates.len() as u32 <= 2 + 6, "{rates:?}");
    for p in &search.probes {
        assert_eq!(p.meets, p.rate_rps <= answer, "{p:?}");
    }
    // The run's figures are the answer's probe.
    let offered = run.open_loop.as_ref().unwrap().offered_rps.unwrap();
    assert!((offered - answer).abs() < 1e-9, "{offered} for {answer}");
    let slo = run.slo.as_ref().unwrap();
    assert!(slo.meets);
    assert_eq!(
        point
            .aggregate
            .search
            .as_ref()
            .unwrap()
            .answer_rps
            .unwrap()
            .median,
        answer
    );
}

#[tokio::test(start_paused = true)]
async fn a_search_whose_min_fails_answers_nothing() {
    let point = search_run(
        "[run.arrival]\nprocess = \"constant\"\nmax_in_flight = 1\n\
         [slo]\nlatency = { p = 50, max = \"50ms\" }\n\
         [search]\nmin = 1\nmax = 20\nprobe = \"2s\"\n",
    )
    .await;
    let run = &point.runs[0];
    let search = run.search.as_ref().unwrap();
    assert_eq!(search.probes.len(), 1);
    assert_eq!(
        (search.end, search.answer_rps, search.failed_rps),
        (SearchEnd::BelowMin, None, Some(1.0))
    );
    assert_eq!(
        run.slo.as_ref().unwrap().good,
        0,
        "every answer takes 100 ms"
    );
    assert!(!point.aggregate.slo.as_ref().unwrap().meets);
}
