//! The mock's `capacity`: N service slots, each serving one request at a time with the fixed
//! latency, the rest waiting in arrival order — a known knee for open-loop tests. The check is
//! a lower bound, which no slowness of the machine can break: one slot serves three requests of
//! 40 ms one after another, so the last answer cannot come before 120 ms.

mod mock_support;

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use mock_support::{chat_body, start};
use nitro_scenario::mock::MockConfig;

async fn three_at_once(capacity: Option<u32>) -> Duration {
    let config = MockConfig {
        latency: Duration::from_millis(40),
        capacity: capacity.and_then(NonZeroU32::new),
        ..Default::default()
    };
    let (_server, client, base) = start(config).await;
    let url = format!("{base}v1/chat/completions");
    let started = Instant::now();
    let answers = (0..3).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        async move { client.post(url).body(chat_body()).send().await.unwrap() }
    });
    for answer in futures_join(answers).await {
        assert_eq!(answer.status(), 200);
    }
    started.elapsed()
}

/// Await every future, concurrently.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slot_serves_requests_one_after_another() {
    assert!(three_at_once(Some(1)).await >= Duration::from_millis(120));
}

#[test]
fn capacity_is_a_mock_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.toml");
    std::fs::write(&file, "[mock]\nlatency = \"5ms\"\ncapacity = 4\n").unwrap();
    let config = nitro_scenario::scenario::load_mock_config(&file).unwrap();
    assert_eq!(config.capacity, NonZeroU32::new(4));
    std::fs::write(&file, "[mock]\ncapacity = 0\n").unwrap();
    let err = nitro_scenario::scenario::load_mock_config(&file).unwrap_err();
    assert!(
        err.to_string()
            .contains("mock.capacity: must be at least 1"),
        "{err}"
    );
}
