//! The reference clients in clients/ against the in-process mock, each through `run_client`
//! with a short warmup and measure phase: a JSON route, a stream and a rate-limited route,
//! checking that their figures parse and count what the mock answered. A client whose
//! interpreter is not installed is skipped with a note.

mod mock_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nitro_scenario::external::{ClientPoint, ClientSpec, ExternalRun, Outcome, run_client};
use nitro_scenario::mock::MockConfig;
use nitro_scenario::stop::Stop;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn point(base: &str, route: &str, stream: bool) -> ClientPoint {
    ClientPoint {
        base: base.to_string(),
        route: route.to_string(),
        concurrency: 2,
        warmup: Duration::from_millis(200),
        measure: Duration::from_millis(500),
        payload_name: "S".into(),
        payload: mock_support::chat_body().into_bytes(),
        model: Some("m1".into()),
        stream,
        headers: BTreeMap::from([("authorization".into(), "Bearer test".into())]),
    }
}

/// Run `spec` on the three routes; `None` (after a note) when its program is missing.
async fn run_routes(spec: &ClientSpec) -> Option<[ExternalRun; 3]> {
    let (server, _, base) = mock_support::start(MockConfig::default()).await;
    let stop = Stop::new();
    let chat = run_client(spec, &point(&base, "/v1/chat/completions", false), &stop).await;
    if let Outcome::Skipped { reason } = &chat.outcome {
        eprintln!("note: reference client `{}` skipped: {reason}", spec.name);
        return None;
    }
    let stream = point(&base, "/v1/chat/completions:stream", true);
    let stream = run_client(spec, &stream, &stop).await;
    let rate = point(&base, "/v1/chat/completions:rate", false);
    let rate = run_client(spec, &rate, &stop).await;
    server.shutdown().await;
    Some([chat, stream, rate])
}

fn check(spec: &ClientSpec, runs: &[ExternalRun; 3]) {
    let [chat, stream, rate] = runs;
    for run in runs {
        assert!(run.figures().is_some(), "{run:#?}");
        assert_eq!(run.lang, spec.name);
        assert!(run.resources.is_some_and(|r| r.peak_rss_bytes > 0));
    }
    let f = chat.figures().unwrap();
    assert_eq!(
        (f.route.as_str(), f.concurrency, f.payload_size.as_deref()),
        ("/v1/chat/completions", 2, Some("S"))
    );
    assert!(f.reqs > 0, "{f:?}");
    assert_eq!(f.errors.total, 0, "{f:?}");
    assert!(f.latency_ms.p50.is_some() && f.latency_ms.p99.is_some());
    assert_eq!(f.success_rate, Some(100.0));
    assert_eq!(f.time_to_first_ms, None);

    let f = stream.figures().unwrap();
    assert!(f.reqs > 0 && f.errors.total == 0, "{f:?}");
    assert!(f.time_to_first_ms.is_some_and(|t| t.p50.is_some()), "{f:?}");
    assert!(f.total_bytes.is_some_and(|b| b > 0), "{f:?}");
    assert!(f.sse_bytes_per_sec.is_some_and(|r| r > 0.0), "{f:?}");

    let f = rate.figures().unwrap();
    assert!(f.reqs > 0, "{f:?}");
    assert_eq!((f.errors.non2xx, f.errors.total), (f.reqs, f.reqs));
    assert_eq!(f.latency_ms.p50, None, "no success, no latency");
    assert_eq!(f.success_rate, Some(0.0));
}

async fn reference(name: &str, command: &[&str]) {
    let spec = ClientSpec::new(
        name,
        command.iter().map(|s| s.to_string()).collect(),
        root(),
    );
    if let Some(runs) = run_routes(&spec).await {
        check(&spec, &runs);
    }
}

#[tokio::test]
async fn the_python_client_measures_the_mock() {
    reference("python", &["python3", "clients/python/client.py"]).await;
}

#[tokio::test]
async fn the_node_client_measures_the_mock() {
    reference("node", &["node", "clients/node/client.js"]).await;
}

#[tokio::test]
async fn the_rust_client_measures_the_mock() {
    let exe = rust_client();
    reference("rust", &[exe.to_str().unwrap()]).await;
}

/// The `rust_client` example next to this test's binary: `cargo test` builds examples;
/// built here when only this test was.
fn rust_client() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let client = profile_dir.join("examples/rust_client");
    if !client.exists() {
        let release = profile_dir.ends_with("release");
        let mut cargo = std::process::Command::new(option_env!("CARGO").unwrap_or("cargo"));
        cargo.args(["build", "--example", "rust_client"]);
        if release {
            cargo.arg("--release");
        }
        assert!(cargo.status().unwrap().success(), "building rust_client");
    }
    client
}
