use std::time::Duration;

use super::*;
use crate::metrics::FailureKind;

fn objective(p: f64, max_ms: u64) -> Option<Objective> {
    Some(Objective {
        p,
        max: Duration::from_millis(max_ms),
    })
}

fn slo() -> Slo {
    Slo {
        latency: objective(99.0, 100),
        ttft: objective(50.0, 20),
        tpot: objective(99.0, 5),
        itl: objective(90.0, 10),
        success_rate: Some(99.0),
    }
}

/// A stream of `latency_ms` whose first token came at `ttft_ms`, then gaps of `gaps_ms`.
fn stream(latency_ms: u64, ttft_ms: u64, gaps_ms: &[u64]) -> Observation {
    let mut o = Observation {
        status: Some(200),
        latency_us: latency_ms * 1000,
        ..Default::default()
    };
    o.stream.active = true;
    o.stream.ttft_us = Some(ttft_ms * 1000);
    o.stream.content_events = gaps_ms.len() as u32 + 1;
    o.stream.gaps_us = gaps_ms.iter().map(|g| g * 1000).collect();
    o
}

#[test]
fn a_request_is_good_within_every_bound() {
    let goals = RequestGoals::of(&slo());
    // 11 tokens: TPOT (50 - 10) / 10 = 4 ms; ten gaps, one over 10 ms: its 90th-percentile
    // gap (the 9th of 10) is within.
    let good = stream(50, 10, &[4, 4, 4, 4, 4, 4, 4, 4, 4, 12]);
    assert!(goals.met_by(&good, 0));
    // The same request 60 ms behind its intended start: latency 110 ms, TTFT 70 ms.
    assert!(!goals.met_by(&good, 60_000));
    // Two gaps of ten over 10 ms: its 9th is over.
    assert!(!goals.met_by(&stream(50, 10, &[4, 4, 4, 4, 4, 4, 4, 4, 12, 12]), 0));
    // TPOT (100 - 10) / 9 = 10 ms.
    assert!(!goals.met_by(&stream(100, 10, &[10; 9]), 0));
    let mut failed = good.clone();
    failed.failure = Some(FailureKind::Status(500));
    assert!(!goals.met_by(&failed, 0), "a failure is never good");
    let mut no_token = stream(50, 10, &[]);
    no_token.stream.ttft_us = None;
    no_token.stream.content_events = 0;
    assert!(
        !goals.met_by(&no_token, 0),
        "a stream without a first token"
    );
    let one_token = stream(50, 10, &[]);
    assert!(goals.met_by(&one_token, 0), "no TPOT or gap to judge");
}

#[test]
fn stream_bounds_leave_json_answers_alone() {
    let goals = RequestGoals::of(&slo());
    let json = Observation {
        status: Some(200),
        latency_us: 90_000,
        ..Default::default()
    };
    assert!(goals.met_by(&json, 0));
    assert!(!goals.met_by(&json, 20_000), "latency 110 ms");
    assert!(RequestGoals::default().met_by(&json, 1_000_000_000));
}

fn histogram(values_ms: &[u64]) -> Histogram<u32> {
    let mut h = Histogram::new_with_bounds(1, 3_600_000_000, 2).unwrap();
    for v in values_ms {
        h.record(v * 1000).unwrap();
    }
    h
}

#[test]
fn a_run_meets_the_slos_when_every_percentile_holds() {
    let latency = histogram(&[10; 99].iter().chain(&[500]).copied().collect::<Vec<_>>());
    let (ttft, tpot, itl) = (histogram(&[15, 30]), histogram(&[4]), histogram(&[]));
    let run = RunStats {
        measure_secs: 2.0,
        success_rate: Some(99.5),
        ..Default::default()
    };
    let d = Distributions {
        latency: &latency,
        ttft: Some(&ttft),
        tpot: Some(&tpot),
        itl: Some(&itl),
    };
    let v = verdict(&slo(), &d, 90, &run);
    assert_eq!(v.goodput_rps, 45.0);
    let shown: Vec<(&str, Option<f64>, bool)> = v
        .checks
        .iter()
        .map(|c| (c.objective.as_str(), c.value, c.meets))
        .collect();
    assert_eq!(
        shown,
        [
            // p99 of 99 x 10 ms and one 500 ms is 10 ms (the 99th value), read as the middle
            // of its bucket, as every reported percentile.
            ("latency", Some(10.016), true),
            // The median of 15 and 30 ms is the first.
            ("ttft", Some(15.008), true),
            ("tpot", Some(4.008), true),
            ("itl", None, false),
            ("success_rate", Some(99.5), true),
        ]
    );
    assert!(!v.meets, "no gap measured: ITL cannot be shown to hold");
    let json = Distributions {
        latency: &latency,
        ttft: None,
        tpot: None,
        itl: None,
    };
    let v = verdict(&slo(), &json, 90, &run);
    assert_eq!(v.checks.len(), 2, "stream objectives do not apply");
    assert!(v.meets);
}

#[test]
fn a_point_meets_the_slos_when_every_run_does() {
    let run = |meets: bool, goodput: f64, latency: f64| SloVerdict {
        good: 10,
        goodput_rps: goodput,
        meets,
        checks: vec![SloCheck {
            objective: "latency".into(),
            p: Some(99.0),
            limit: 100.0,
            value: Some(latency),
            meets,
        }],
    };
    let (a, b, c) = (
        run(true, 40.0, 50.0),
        run(false, 20.0, 150.0),
        run(true, 30.0, 60.0),
    );
    let agg = SloAggregate::of(&[&a, &b, &c], &[&a, &b, &c]).unwrap();
    assert_eq!(agg.goodput_rps.unwrap().median, 30.0);
    assert_eq!(
        (agg.runs, agg.runs_meeting, agg.meets, agg.good),
        (3, 2, false, 30)
    );
    assert_eq!(agg.checks[0].value.unwrap().median, 60.0);
    assert_eq!(agg.checks[0].runs_meeting, 2);
    let met = SloAggregate::of(&[&a, &c], &[&a, &b, &c]).unwrap();
    assert!(met.meets);
    assert_eq!(SloAggregate::of(&[], &[]), None);
}
