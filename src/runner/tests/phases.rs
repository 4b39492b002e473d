//! Phases on the scripted transport and paused clock: warmup and runs, the closed loop's ramp,
//! and the hand-over from warmup to measure.

use super::*;

#[tokio::test(start_paused = true)]
async fn warmup_is_discarded_and_runs_repeat() {
    let out = run_scripted(
        vec![Step::ok(10)],
        4,
        "[run]\nruns = 3\nwarmup = \"1h\"\nwarmup_requests = 7\nrequests = 20\n",
    )
    .await;
    let point = &out.points[0];
    assert_eq!(point.runs.len(), 3);
    assert!(point.runs.iter().all(|r| r.requests == 20));
    assert_eq!(point.aggregate.totals.requests, 60);
}

#[tokio::test(start_paused = true)]
async fn ramp_up_spreads_the_closed_loop_workers_over_the_run_start() {
    // 4 workers, 10 ms answers, a 1 s ramp: workers start at 0, 250, 500 and 750 ms.
    let run = |extra: &'static str| async move {
        let out = run_scripted(vec![Step::ok(10_000)], 4, extra).await;
        out.points[0].runs[0].requests
    };
    assert_eq!(
        run("[run]\nduration = \"500ms\"\n").await,
        200,
        "all at once"
    );
    // Within 500 ms only the first two start: 50 requests from 0 ms, 25 from 250 ms.
    let ramped = "[run]\nduration = \"500ms\"\nramp_up = \"1s\"\n";
    assert_eq!(run(ramped).await, 75);
    // The ramp counts from the run's start, across the warmup: the measure phase (300 ms to
    // 800 ms) has the first two throughout (2 × 50), the third from 500 ms (30), the fourth
    // from 750 ms (5).
    let warm = "[run]\nwarmup = \"300ms\"\nduration = \"500ms\"\nramp_up = \"1s\"\n";
    assert_eq!(run(warm).await, 135);
}

#[tokio::test(start_paused = true)]
async fn a_count_bounded_phase_ends_without_waiting_for_the_ramp() {
    // Two warmup requests on the first worker, taken at 0 and 10 ms; the others, due at 250,
    // 500 and 750 ms, are not waited for. The measure phase starts when the last warmup
    // request is taken (10 to 510 ms): the first worker from 20 ms, as its warmup request
    // ends (49), the second from 250 ms (26) and the third from 500 ms (1).
    let text = "[run]\nwarmup_requests = 2\nduration = \"500ms\"\nramp_up = \"1s\"\n";
    let out = run_scripted(vec![Step::ok(10_000)], 4, text).await;
    assert_eq!(out.points[0].runs[0].requests, 76);
}

#[tokio::test(start_paused = true)]
async fn closed_loop_workers_go_into_the_measure_phase_without_a_pause() {
    // Two workers, 300 ms answers, the second starting at 150 ms; the warmup closes at
    // 400 ms. Each worker starts measuring as its last warmup request ends — the second at
    // 450 ms, the first at 600 ms — and they stay 150 ms apart, rather than both waiting for
    // the last warmup request and starting together at 600 ms.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.csv");
    let journal = Journal::start(&path, vec!["chat-c2".into()], crate::journal::CAPACITY).unwrap();
    let connector = ScriptedConnector::new(vec![Step::ok(300_000)]);
    let extra = "[run]\nwarmup = \"400ms\"\nduration = \"600ms\"\nramp_up = \"300ms\"\n";
    let out = run_logged(
        &connector,
        scenario(false, extra),
        2,
        Stop::new(),
        Some(journal.sender()),
    )
    .await;
    journal.finish();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut starts: Vec<(String, u64)> = text
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (
                fields[2].to_string(),
                fields[3].parse::<u64>().unwrap() / 1_000,
            )
        })
        .collect();
    starts.sort_by_key(|(_, ms)| *ms);
    let at = |phase: &str| -> Vec<u64> {
        let of_phase = starts.iter().filter(|(p, _)| p == phase);
        of_phase.map(|(_, ms)| *ms).collect()
    };
    assert_eq!(at("warmup"), [0, 150, 300]);
    assert_eq!(at("measure"), [450, 600, 750, 900]);
    let run = &out.points[0].runs[0];
    assert_eq!(run.requests, 4);
    // From the first measured start (450 ms) to the last end (1,200 ms).
    assert_eq!(run.measure_secs, 0.75);
}
