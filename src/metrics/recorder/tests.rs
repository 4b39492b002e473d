//! The recorder's tests: figures from known values, merging, outcomes, tokens, memory.

use super::*;
use crate::metrics::Usage;

fn ok(latency_us: u64) -> Observation {
    Observation {
        status: Some(200),
        latency_us,
        ttfb_us: Some(latency_us / 2),
        ..Default::default()
    }
}

/// A request of one attempt, `o`.
fn single(r: &mut Recorder, o: &Observation) {
    let mut attempts = Attempts::default();
    attempts.add(o);
    r.record_request(&attempts, o, 0);
}

fn stream(latency_us: u64, ttft_us: u64, gaps: &[u64], usage: Option<Usage>) -> Observation {
    let mut o = ok(latency_us);
    o.body_bytes = 1000;
    o.usage = usage;
    o.stream.active = true;
    o.stream.ttft_us = Some(ttft_us);
    o.stream.content_events = gaps.len() as u32 + 1;
    o.stream.gaps_us = gaps.to_vec();
    o.stream.done = true;
    o
}

#[test]
fn percentiles_of_known_latencies() {
    let mut r = Recorder::new();
    for ms in 1..=100u64 {
        single(&mut r, &ok(ms * 1000));
    }
    let s = r.summarize(1, Duration::from_secs(10), ClientStats::default());
    assert_eq!(s.requests, 100);
    assert_eq!(s.throughput_rps, 10.0);
    assert_eq!(s.success_rate, Some(100.0));
    let latency = s.latency.unwrap();
    // 3 significant digits: 50 ms lies in the bucket 49,984–50,015 µs, 99 ms in
    // 98,944–99,007 and 100 ms in 99,968–100,031; each reads as its bucket's midpoint.
    assert_eq!(
        [latency.p50_us, latency.p99_us, latency.max_us],
        [50_000, 98_976, 100_000]
    );
}

#[test]
fn figures_are_bucket_midpoints_not_top_edges() {
    // A 2,001.5 ms stall: the top edge of its bucket (2,000.896–2,001.919 ms at 3 digits)
    // reads 2,001.919 ms, its midpoint 2,001.408.
    let stall = 2_001_500;
    let mut r = Recorder::new();
    single(&mut r, &ok(stall));
    let s = r.summarize(1, Duration::from_secs(3), ClientStats::default());
    let latency = s.latency.unwrap();
    let h = histogram();
    let (low, high) = (h.lowest_equivalent(stall), h.highest_equivalent(stall));
    let half = (high + 1 - low) / 2;
    let mid = low + half;
    assert_eq!(
        [
            latency.min_us,
            latency.p50_us,
            latency.p999_us,
            latency.max_us
        ],
        [mid; 4]
    );
    assert!(latency.p50_us.abs_diff(stall) <= half);
    assert!(latency.p50_us < high, "not the bucket's top edge");
    assert_eq!(latency.mean_us, mid as f64, "the mean weighs midpoints too");
}

#[test]
fn a_run_without_successes_has_no_figures() {
    let mut r = Recorder::new();
    let failed = Observation {
        status: Some(500),
        failure: Some(FailureKind::Status(500)),
        latency_us: 1_000,
        ..Default::default()
    };
    single(&mut r, &failed);
    let s = r.summarize(1, Duration::from_secs(1), ClientStats::default());
    assert_eq!((s.latency, s.ttfb), (None, None));
    assert_eq!(s.success_rate, Some(0.0));
    assert_eq!(s.usage.completion_tokens_per_sec, None, "no usage reported");
    let empty = Recorder::new().summarize(1, Duration::ZERO, ClientStats::default());
    assert_eq!(empty.success_rate, None, "no request, no rate of success");
}

#[test]
fn merging_equals_recording_into_one() {
    let (mut a, mut b, mut one) = (Recorder::new(), Recorder::new(), Recorder::new());
    for i in 0..50u64 {
        let o = stream(10_000 + i * 100, 2_000 + i, &[100, 200, 300], None);
        let target = if i % 2 == 0 { &mut a } else { &mut b };
        single(target, &o);
        single(&mut one, &o);
    }
    a.merge(&b);
    let client = ClientStats::default();
    assert_eq!(
        a.summarize(1, Duration::from_secs(1), client),
        one.summarize(1, Duration::from_secs(1), client)
    );
}

#[test]
fn first_attempt_and_final_outcomes_with_retries() {
    let mut r = Recorder::new();
    let limited = Observation {
        status: Some(429),
        failure: Some(FailureKind::Status(429)),
        latency_us: 100,
        ..Default::default()
    };
    let good = ok(100);
    let mut attempts = Attempts::default();
    attempts.add(&limited);
    attempts.add(&good);
    // The answering attempt started 150 µs after the request: 100 µs of 429, 50 µs of wait.
    r.record_request(&attempts, &good, 150);
    let s = r.summarize(1, Duration::from_secs(1), ClientStats::default());
    assert_eq!((s.requests, s.attempts, s.retries), (1, 2, 1));
    assert_eq!(s.first_attempt.status.get(&429), Some(&1));
    assert_eq!(s.outcomes.success, 1);
    assert_eq!(
        s.latency.unwrap().p50_us,
        250,
        "latency includes the first attempt and the wait"
    );
    assert_eq!(
        s.ttfb.unwrap().p50_us,
        200,
        "ttfb counts from the request's start"
    );
}

#[test]
fn tokens_from_usage_or_counted_events() {
    let mut r = Recorder::new();
    let usage = Usage {
        prompt_tokens: 3,
        completion_tokens: 10,
        total_tokens: 13,
        estimated: false,
    };
    let from_server = stream(20_000, 2_000, &[1_000; 9], Some(usage));
    let counted = stream(20_000, 2_000, &[1_000; 4], None);
    for o in [&from_server, &counted] {
        single(&mut r, o);
    }
    let run = r.summarize(1, Duration::from_secs(1), ClientStats::default());
    assert_eq!(run.usage.requests, 1, "the counted stream has no usage");
    assert_eq!(run.usage.completion_tokens_per_sec, Some(10.0));
    let s = run.stream.unwrap();
    assert_eq!(s.output_tokens, 15);
    assert!(s.tokens_estimated);
    assert_eq!(s.itl.unwrap().count, 13);
    // tpot = (20 ms - 2 ms) / (10 - 1) = 2 ms for the first, / (5 - 1) = 4.5 ms for the second.
    let tpot_min = s.tpot.unwrap().min_us;
    assert!((1_980..=2_020).contains(&tpot_min), "{tpot_min}");
    assert_eq!(s.total_bytes, 2_000);
    // 1000 bytes over 20 ms - 10 ms of headers: 100 kB/s each.
    let rate = s.request_bytes_per_sec.unwrap();
    assert_eq!(rate.count, 2);
    assert!((99_000..=101_000).contains(&rate.p50), "{}", rate.p50);
    assert_eq!(s.not_streamed, 0, "gaps of 1 ms are streamed");
}

#[test]
fn streams_that_arrived_at_once_are_counted() {
    let mut r = Recorder::new();
    // 13 events in one read: gaps of 0 µs; then gaps of a few µs; then a real stream.
    single(&mut r, &stream(5_000, 4_000, &[0; 12], None));
    single(&mut r, &stream(5_000, 4_000, &[3, 5, 2], None));
    single(&mut r, &stream(20_000, 2_000, &[1_000, 40, 1_000], None));
    let mut other = Recorder::new();
    single(&mut other, &stream(5_000, 4_000, &[0], None));
    r.merge(&other);
    let s = r
        .summarize(1, Duration::from_secs(1), ClientStats::default())
        .stream
        .unwrap();
    assert_eq!(s.not_streamed, 3);
    r.clear();
    single(&mut r, &stream(5_000, 4_000, &[], None));
    let one_event = r.summarize(1, Duration::from_secs(1), ClientStats::default());
    assert_eq!(
        one_event.stream.unwrap().not_streamed,
        0,
        "a single event has no gap to judge"
    );
}

#[test]
fn error_samples_follow_final_outcomes_and_merge() {
    let mut a = Recorder::new();
    assert!(
        !a.wants_sample(FailureKind::Status(500)),
        "a status says it all"
    );
    assert!(a.wants_sample(FailureKind::Connect));
    a.sample_error(FailureKind::Connect, "connection refused");
    a.sample_error(FailureKind::Connect, "connection refused");
    let mut b = Recorder::new();
    for message in ["m1", "m2", "m3"] {
        b.sample_error(FailureKind::Reset, message);
    }
    assert!(!b.wants_sample(FailureKind::Reset));
    assert!(b.wants_sample(FailureKind::Timeout));
    b.sample_error(FailureKind::Connect, "connection refused");
    a.merge(&b);
    let s = a.summarize(1, Duration::from_secs(1), ClientStats::default());
    let shown: Vec<(&str, &str, u64)> = s
        .error_samples
        .iter()
        .map(|e| (e.kind.as_str(), e.message.as_str(), e.count))
        .collect();
    assert_eq!(
        shown,
        [
            ("connect", "connection refused", 3),
            ("reset", "m1", 1),
            ("reset", "m2", 1),
            ("reset", "m3", 1),
        ]
    );
    a.clear();
    assert!(
        a.summarize(1, Duration::ZERO, ClientStats::default())
            .error_samples
            .is_empty()
    );
}

#[test]
fn a_recorder_stays_under_a_megabyte() {
    // Ten histograms at most (latency, TTFB, four of streams, four of open loops), one
    // recorder per runtime thread.
    let h = histogram();
    let bytes = h.distinct_values() * std::mem::size_of::<u32>();
    assert!(bytes <= 96 * 1024, "{bytes} bytes per histogram");
    let rate = Histogram::<u32>::new_with_bounds(1, MAX_RATE, SIGFIG).unwrap();
    let rate_bytes = rate.distinct_values() * std::mem::size_of::<u32>();
    assert!(9 * bytes + rate_bytes < 1 << 20);
}
