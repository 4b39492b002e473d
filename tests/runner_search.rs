//! A search against the in-process mock finds its capacity knee: with four service slots of
//! 40 ms, the mock serves at most 100 req/s, and no probe duration or machine speed changes
//! that (a slow machine only holds each slot a little longer: 1 ms is 2.5%).
//! Nothing asserts wall-clock latencies: the bounds follow from capacity arithmetic, with
//! wide margins.

mod run_support;

use std::num::NonZeroU32;
use std::time::Duration;

use nitro_scenario::metrics::SearchEnd;
use nitro_scenario::mock::{MockConfig, MockServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_finds_the_mocks_capacity_knee_within_its_resolution() {
    let config = MockConfig {
        latency: Duration::from_millis(40),
        capacity: NonZeroU32::new(4),
        ..Default::default()
    };
    let server = MockServer::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    // Past 100 req/s the mock's queue grows by (rate - 100) requests a second, each 10 ms of
    // wait (40 ms over 4 slots): over a probe of 0.5 s the median request waits
    // (rate - 100) x 2.5 ms, so a median of at most 60 ms (40 of service, 20 of wait) holds up
    // to 108 req/s and no further. Below 100 req/s nothing queues, and a median response of
    // 40 ms has 20 ms to spare.
    let text = format!(
        "[target]\nbase_url = \"{}\"\n\
         [run.arrival]\nprocess = \"constant\"\n\
         [routes.chat]\npath = \"/v1/chat/completions\"\n\
         [matrix]\nroute = [\"chat\"]\nrate = [\"search\"]\n\
         [slo]\nlatency = {{ p = 50, max = \"60ms\" }}\n\
         [search]\nmin = 50\nmax = 200\nresolution = 15\nprobe = \"500ms\"\n",
        server.base_url()
    );
    let (s, points) = run_support::load(&text);
    let out = run_support::run(&s, &points, &server.base_url(), None).await;
    let point = &out.points[0];
    let search = point.runs[0].search.as_ref().expect("a search");
    let rates: Vec<f64> = search.probes.iter().map(|p| p.rate_rps).collect();
    assert_eq!(search.end, SearchEnd::Converged, "{rates:?}");
    let (answer, failed) = (search.answer_rps.unwrap(), search.failed_rps.unwrap());
    // The answer passed, so it is at most the edge (108); it is within the resolution below
    // the lowest failing rate, which is past the knee (100).
    assert!(answer <= 108.0, "{rates:?}: {answer}");
    assert!(
        failed > 100.0 && failed - answer <= 15.0,
        "{rates:?}: {answer} to {failed}"
    );
    assert!(
        (100.0 - 15.0..=108.0).contains(&answer),
        "the knee at 100 req/s within the resolution: {rates:?}: {answer}"
    );
    assert!(rates.len() as u32 <= s.search.unwrap().worst_case_probes());
}
