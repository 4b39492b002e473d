//! The open loop on a scripted transport and tokio's paused clock: schedules as sent, and
//! latency corrected for coordinated omission against the service time, to the microsecond.

use crate::metrics::recorder::SIGFIG;
use hdrhistogram::Histogram;
use url::Url;

use super::Pacing;
use crate::journal::Journal;
use crate::metrics::{LatencySummary, OpenLoopStats, RunStats};
use crate::runner::transport::scripted::{ScriptedConnector, Step};
use crate::runner::{RunOptions, Stop, run_with};
use crate::scenario::{self, Overrides};

/// An open-loop chat scenario with `extra` TOML appended (its `[run]` and `[run.arrival]`).
fn scenario(extra: &str, rate: &str) -> (scenario::Scenario, Vec<scenario::Point>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    let text = format!(
        "[target]\nbase_url = \"http://127.0.0.1:9\"\n[routes.chat]\n\
         path = \"/v1/chat/completions\"\n[matrix]\nroute = [\"chat\"]\nrate = [{rate}]\n{extra}"
    );
    std::fs::write(&file, text).unwrap();
    let s = scenario::load_with_env(&file, &Overrides::default(), &|_| None).unwrap();
    let points = scenario::expand(&s).unwrap();
    (s, points)
}

/// Run the one point of `(s, points)` on `steps`; with `log`, every attempt's actual send
/// (µs from the run's start) comes back too.
async fn drive(
    steps: Vec<Step>,
    (s, points): (scenario::Scenario, Vec<scenario::Point>),
    log: bool,
) -> (RunStats, Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = log.then(|| Journal::start(&path, vec![points[0].id.clone()], 1 << 16).unwrap());
    let options = RunOptions {
        quiet: true,
        journal: journal.as_ref().map(Journal::sender),
        stop: Some(Stop::new()),
        after_point: None,
    };
    let base = Url::parse("http://127.0.0.1:9/").unwrap();
    let connector = ScriptedConnector::new(steps);
    let out = run_with(&connector, &s, &points, &base, options, Pacing::Tokio)
        .await
        .unwrap();
    let mut sends = Vec::new();
    if let Some(journal) = journal {
        journal.finish();
        let text = std::fs::read_to_string(&path).unwrap();
        sends = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
            .collect();
    }
    (out.points[0].runs[0].clone(), sends)
}

fn open(run: &RunStats) -> &OpenLoopStats {
    run.open_loop.as_ref().expect("an open-loop run")
}

/// The summary the recorder gives for exactly `values_us` (where a latency of 0 counts as
/// 1 µs, and a send lag of 0 as 0).
fn expected(values_us: &[u64]) -> LatencySummary {
    summary_of(values_us, 1)
}

fn summary_of(values_us: &[u64], least: u64) -> LatencySummary {
    let mut h = Histogram::<u32>::new_with_bounds(1, 3_600_000_000, SIGFIG).unwrap();
    for &v in values_us {
        h.record(v.max(least)).unwrap();
    }
    let at = |q: f64| h.median_equivalent(h.value_at_quantile(q));
    LatencySummary {
        count: h.len(),
        min_us: h.median_equivalent(h.min()),
        mean_us: h.mean(),
        p50_us: at(0.5),
        p90_us: at(0.9),
        p95_us: at(0.95),
        p99_us: at(0.99),
        p999_us: at(0.999),
        max_us: h.median_equivalent(h.max()),
    }
}

#[tokio::test(start_paused = true)]
async fn a_constant_rate_is_sent_on_schedule_with_no_lag() {
    let s = scenario(
        "[run]\nrequests = 5\n[run.arrival]\nprocess = \"constant\"\n",
        "100",
    );
    let (run, sends) = drive(vec![Step::ok(1_000)], s, true).await;
    assert_eq!(sends, [0, 10_000, 20_000, 30_000, 40_000]);
    let o = open(&run);
    assert_eq!((o.scheduled, o.sent, o.dropped, o.queued), (5, 5, 0, 0));
    assert_eq!(o.offered_rps, Some(100.0));
    assert_eq!(o.achieved_rps, Some(100.0));
    assert_eq!(o.send_lag.unwrap().max_us, 0, "on time to the microsecond");
    assert!(!o.behind_schedule);
    assert_eq!(o.peak_in_flight, 1, "one worker serves every 1 ms request");
}

#[tokio::test(start_paused = true)]
async fn stages_are_sent_on_their_schedule() {
    // Jump to 100 req/s for 1 s, then to 200 req/s for 0.5 s: ms-aligned starts, exact.
    let stages = "[[run.stages]]\nduration = \"0s\"\nrate = 100\n\
                  [[run.stages]]\nduration = \"1s\"\nrate = 100\n\
                  [[run.stages]]\nduration = \"0s\"\nrate = 200\n\
                  [[run.stages]]\nduration = \"500ms\"\nrate = 200\n";
    let s = scenario(
        &format!("[run.arrival]\nprocess = \"constant\"\n{stages}"),
        "\"stages\"",
    );
    let (run, sends) = drive(vec![Step::ok(100)], s, true).await;
    let expected: Vec<u64> = (0..100)
        .map(|i| i * 10_000)
        .chain((0..100).map(|i| 1_000_000 + i * 5_000))
        .collect();
    assert_eq!(sends, expected);
    assert_eq!(open(&run).send_lag.unwrap().max_us, 0);

    // A linear ramp, 0 to 100 req/s over 1 s: request i is due at √(i / 50) s. The paused
    // clock moves in whole milliseconds, so each is sent at the first millisecond at or
    // after its intended start.
    let ramp = "[run.arrival]\nprocess = \"constant\"\n\
                [[run.stages]]\nduration = \"1s\"\nrate = 100\n";
    let (run, sends) = drive(vec![Step::ok(100)], scenario(ramp, "\"stages\""), true).await;
    let due: Vec<u64> = (0..50)
        .map(|i| ((i as f64 / 50.0).sqrt() * 1e9).round() as u64)
        .collect();
    let on_the_tick: Vec<u64> = due
        .iter()
        .map(|ns| ns.div_ceil(1_000_000) * 1_000)
        .collect();
    assert_eq!(sends, on_the_tick);
    let o = open(&run);
    assert_eq!(o.sent, 50, "the schedule ends with the last stage");
    assert!(o.send_lag.unwrap().max_us < 1_000);
}

/// 100 requests at 100 req/s; request 10 takes 1 s, the others 1 ms.
fn stalled() -> Vec<Step> {
    (0..100)
        .map(|i| Step::ok(if i == 10 { 1_000_000 } else { 1_000 }))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_stall_behind_a_full_cap_delays_every_request_after_it() {
    let s = scenario(
        "[run]\nrequests = 100\n[run.arrival]\nprocess = \"constant\"\nmax_in_flight = 1\n",
        "100",
    );
    let (run, _) = drive(stalled(), s, false).await;
    let o = open(&run);
    // Request 10 is due at 100 ms and ends at 1,100 ms; 11 to 99 (due at 110 ... 990 ms)
    // wait for the one worker, then go one per millisecond: j is sent at 1,089 + j ms.
    let service: Vec<u64> = (0..100)
        .map(|i| if i == 10 { 1_000_000 } else { 1_000 })
        .collect();
    let response: Vec<u64> = (0..100u64)
        .map(|j| match j {
            0..=9 => 1_000,
            10 => 1_000_000,
            _ => (1_089 + j - 10 * j) * 1_000 + 1_000,
        })
        .collect();
    let queue: Vec<u64> = (11..100u64).map(|j| (1_089 + j - 10 * j) * 1_000).collect();
    assert_eq!(o.service_time.unwrap(), expected(&service));
    assert_eq!(run.latency.unwrap(), expected(&response), "response time");
    assert_eq!(o.queue_time.unwrap(), expected(&queue));
    assert_eq!((o.queued, o.peak_in_flight, o.dropped), (89, 1, 0));
    let lags = [&[0; 11][..], &queue].concat();
    assert_eq!(o.send_lag.unwrap(), summary_of(&lags, 0));
    assert!(
        !o.behind_schedule,
        "the cap, not the generator, made them late"
    );
    // The service time hides the stall's cost: half the requests took half a second or more.
    assert!(o.service_time.unwrap().p50_us < 1_100);
    assert!(run.latency.unwrap().p50_us > 500_000);
}

#[tokio::test(start_paused = true)]
async fn a_stall_with_room_to_spare_delays_only_itself() {
    let s = scenario(
        "[run]\nrequests = 100\n[run.arrival]\nprocess = \"constant\"\n",
        "100",
    );
    let (run, _) = drive(stalled(), s, false).await;
    let o = open(&run);
    let service: Vec<u64> = (0..100)
        .map(|i| if i == 10 { 1_000_000 } else { 1_000 })
        .collect();
    assert_eq!(o.service_time.unwrap(), expected(&service));
    assert_eq!(run.latency.unwrap(), expected(&service), "nothing waited");
    assert_eq!((o.queued, o.send_lag.unwrap().max_us), (0, 0));
    assert_eq!(o.queue_time, None);
    assert_eq!(
        o.peak_in_flight, 2,
        "the stalled request and the one after it"
    );
}

#[tokio::test(start_paused = true)]
async fn requests_still_queued_when_the_time_is_up_are_dropped_and_counted() {
    // 100 req/s for 1 s, one worker, every request 50 ms: 20 are sent, 80 due ones dropped.
    let s = scenario(
        "[run]\nduration = \"1s\"\n[run.arrival]\nprocess = \"constant\"\nmax_in_flight = 1\n",
        "100",
    );
    let (run, _) = drive(vec![Step::ok(50_000)], s, false).await;
    let o = open(&run);
    assert_eq!((o.scheduled, o.sent, o.dropped), (100, 20, 80));
    assert_eq!(run.requests, 20);
    assert_eq!(o.offered_rps, Some(100.0));
    assert_eq!(o.achieved_rps, Some(20.0));
}

#[tokio::test(start_paused = true)]
async fn the_measure_phase_starts_as_the_warmup_ends_with_its_requests_still_in_flight() {
    // 10 req/s, 250 ms answers: about three in flight. The warmup sends at 0 … 900 ms and its
    // time is up at 1 s; the measure phase's schedule starts then, while the warmup's last two
    // requests (sent at 800 and 900 ms) are still in flight, rather than at 1,150 ms, when the
    // last of them ends, on an empty server.
    let s = scenario(
        "[run]\nwarmup = \"1s\"\nduration = \"1s\"\n[run.arrival]\nprocess = \"constant\"\n",
        "10",
    );
    let (run, sends) = drive(vec![Step::ok(250_000)], s, true).await;
    let ms: Vec<u64> = sends.iter().map(|us| us / 1_000).collect();
    let warmup: Vec<u64> = (0..10).map(|i| i * 100).collect();
    let measure: Vec<u64> = (10..20).map(|i| i * 100).collect();
    assert_eq!(ms, [warmup, measure].concat());
    let o = open(&run);
    assert_eq!((o.scheduled, o.sent, o.dropped), (10, 10, 0));
    assert_eq!(
        o.peak_in_flight, 3,
        "the warmup's two and the measure phase's first"
    );
    assert_eq!(run.requests, 10, "the warmup's requests are not counted");
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_served_only_the_warmup_brings_nothing_of_it_into_the_measure_phase() {
    // The warmup's 2.5 s answers grow the pool to 20 workers; the measure phase's 1 ms answers
    // (sent at 2,000 … 2,900 ms) reach only those free by then. The others' warmup sends must
    // not stretch the measure phase's send span back to the run's start.
    let s = scenario(
        "[run]\nwarmup = \"2s\"\nduration = \"1s\"\n[run.arrival]\nprocess = \"constant\"\n",
        "10",
    );
    let steps = [vec![Step::ok(2_500_000); 20], vec![Step::ok(1_000); 20]].concat();
    let (run, _) = drive(steps, s, false).await;
    let o = open(&run);
    assert_eq!((o.scheduled, o.sent), (10, 10));
    assert_eq!(
        o.achieved_rps,
        Some(10.0),
        "sends 100 ms apart, 0.9 s from first to last"
    );
}
