//! The open loop end to end against the in-process mock, for both transports: a small rate
//! and request count, every request sent and answered, the offered rate exactly the
//! schedule's. Nothing asserts wall-clock latencies.

mod run_support;

use nitro_scenario::metrics::PointResult;
use nitro_scenario::mock::{MockConfig, MockServer};

const REQUESTS: u64 = 40;

async fn run(server: &MockServer, transport: &str, extra: &str) -> PointResult {
    let text = format!(
        "[target]\nbase_url = \"{}\"\ntransport = \"{transport}\"\n\
         [run]\nwarmup_requests = 5\nrequests = {REQUESTS}\n{extra}\n\
         [routes.r]\npath = \"/v1/chat/completions:stream\"\nstream = true\n\
         [matrix]\nroute = [\"r\"]\nrate = [200]\n",
        server.base_url()
    );
    let out = run_support::run_text(&text, &server.base_url()).await;
    assert!(!out.partial);
    out.points.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_point_sends_its_schedule_and_measures_both_latencies() {
    let server = MockServer::start(MockConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    for transport in ["hyper", "reqwest"] {
        let point = run(&server, transport, "[run.arrival]\nprocess = \"constant\"").await;
        assert_eq!(point.id, "r-r200");
        let run = &point.runs[0];
        assert_eq!(
            (run.requests, run.outcomes.success),
            (REQUESTS, REQUESTS),
            "{transport}"
        );
        let open = run.open_loop.as_ref().expect("open-loop figures");
        assert_eq!(
            (open.scheduled, open.sent, open.dropped),
            (REQUESTS, REQUESTS, 0)
        );
        // 40 constant arrivals at 200 req/s span 39 gaps of 5 ms, whatever the clock did.
        assert!(
            (open.offered_rps.unwrap() - 200.0).abs() < 1e-9,
            "{transport}"
        );
        assert!(open.achieved_rps.is_some());
        let (response, service) = (run.latency.unwrap(), open.service_time.unwrap());
        assert_eq!((response.count, service.count), (REQUESTS, REQUESTS));
        let ttft = open.service_ttft.unwrap();
        assert_eq!(
            ttft.count, REQUESTS,
            "{transport}: service TTFT of every stream"
        );
        assert_eq!(open.send_lag.unwrap().count, REQUESTS);
        assert!(open.peak_in_flight >= 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisson_schedule_with_a_seed_is_the_same_run_after_run() {
    let server = MockServer::start(MockConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let offered = |p: &PointResult| p.runs[0].open_loop.as_ref().unwrap().offered_rps;
    let seeded = "[run.arrival]\nseed = 11";
    let a = run(&server, "hyper", seeded).await;
    let b = run(&server, "hyper", seeded).await;
    assert_eq!(offered(&a), offered(&b), "one seed, one schedule");
    assert_ne!(offered(&a), Some(200.0), "Poisson gaps are not all 5 ms");
}
