//! Scenario files end to end through the library: every shipped scenario validates, every
//! invalid fixture gives its pinned error text, overrides and secrets behave.
//!
//! Invalid fixtures live in `tests/fixtures/invalid/NAME.toml` with the expected error text in
//! `NAME.err`; `UPDATE_FIXTURES=1 cargo test --test scenario_files` rewrites the `.err` files
//! (review the diff before committing).

use std::path::{Path, PathBuf};

use nitro_scenario::scenario::{self, BaseUrl, Overrides};

fn no_env(_: &str) -> Option<String> {
    None
}

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_scenario_validates_and_expands() {
    let shipped = files("scenarios", "toml");
    assert!(
        shipped.len() >= 3,
        "scenarios/ holds full, quick and stream"
    );
    for file in shipped {
        let s = scenario::load_with_env(&file, &Overrides::default(), &no_env)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let points = scenario::expand(&s).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!points.is_empty(), "{} has points", file.display());
    }
}

#[test]
fn full_is_the_seed_matrix() {
    let s = scenario::load_with_env(
        Path::new("scenarios/full.toml"),
        &Overrides::default(),
        &no_env,
    )
    .unwrap();
    let points = scenario::expand(&s).unwrap();
    assert_eq!(points.len(), 60);
    assert_eq!(points[0].id, "chat-S-c1");
    assert_eq!(points[1].id, "chat-S-c8");
    assert_eq!(points[4].id, "chat-M-c1");
    assert_eq!(points[59].id, "malformed-L-c128");
    let paths: Vec<&str> = points
        .iter()
        .step_by(12)
        .map(|p| p.request.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "/v1/chat/completions",
            "/v1/chat/completions:stream",
            "/v1/chat/completions:rate",
            "/v1/chat/completions:error",
            "/v1/chat/completions:malformed"
        ]
    );
    assert_eq!(s.run.runs.get(), 5);
    assert_eq!(
        s.run.warmup.unwrap().duration,
        Some(std::time::Duration::from_secs(30))
    );
    assert_eq!(
        s.run.measure.duration,
        Some(std::time::Duration::from_secs(60))
    );
    assert!(matches!(s.target.base_url, BaseUrl::Mock));
    let content_len = |p: &scenario::Point| {
        let body: serde_json::Value = serde_json::from_slice(&p.request.body).unwrap();
        body["messages"][0]["content"].as_str().unwrap().len()
    };
    assert_eq!(content_len(&points[0]), 1024);
    assert_eq!(content_len(&points[4]), 32 * 1024);
    assert_eq!(content_len(&points[8]), 256 * 1024);
    assert!(points[12].request.stream);
}

#[test]
fn invalid_fixtures_give_their_pinned_errors() {
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    let fixtures = files("tests/fixtures/invalid", "toml");
    assert!(fixtures.len() >= 10);
    for file in fixtures {
        let err = scenario::load_with_env(&file, &Overrides::default(), &no_env)
            .and_then(|s| scenario::expand(&s))
            .expect_err(&format!("{} must be invalid", file.display()))
            .to_string();
        let expected_path = file.with_extension("err");
        if update {
            std::fs::write(&expected_path, format!("{err}\n")).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!(
                "{} missing; run with UPDATE_FIXTURES=1",
                expected_path.display()
            )
        });
        assert_eq!(err, expected.trim_end(), "{}", file.display());
    }
}

#[test]
fn overrides_replace_settings_and_narrow_axes() {
    let set = vec![
        "run.duration=5s".to_string(),
        "matrix.concurrency=[8]".to_string(),
        "mock.latency=1ms".into(),
    ];
    let env = vec![
        ("SIZE".to_string(), "M".to_string()),
        ("ROUTE".into(), "/v1/chat/completions:stream".into()),
    ];
    let overrides = Overrides::from_args(&set, env).unwrap();
    let s = scenario::load_with_env(Path::new("scenarios/full.toml"), &overrides, &no_env).unwrap();
    let points = scenario::expand(&s).unwrap();
    let ids: Vec<&str> = points.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["stream-M-c8"]);
    assert_eq!(
        s.run.measure.duration,
        Some(std::time::Duration::from_secs(5))
    );
    assert_eq!(s.mock.latency, std::time::Duration::from_millis(1));
}

#[test]
fn framework_variables_set_phases_target_and_results() {
    let env = vec![
        ("BASE".to_string(), "http://127.0.0.1:3000".to_string()),
        ("C".into(), "32".into()),
        ("T".into(), "7".into()),
        ("WARMUP_SECONDS".into(), "2".into()),
        ("RESULTS_FILE".into(), "out/bench.json".into()),
    ];
    let overrides = Overrides::from_args(&[], env).unwrap();
    let s = scenario::load_with_env(Path::new("scenarios/full.toml"), &overrides, &no_env).unwrap();
    match &s.target.base_url {
        BaseUrl::Url { url, .. } => assert_eq!(url.as_str(), "http://127.0.0.1:3000/"),
        BaseUrl::Mock => panic!("BASE must replace the mock"),
    }
    assert_eq!(
        s.matrix
            .concurrency
            .iter()
            .map(|c| c.get())
            .collect::<Vec<_>>(),
        [32]
    );
    assert_eq!(
        s.run.measure.duration,
        Some(std::time::Duration::from_secs(7))
    );
    assert_eq!(
        s.run.warmup.unwrap().duration,
        Some(std::time::Duration::from_secs(2))
    );
    assert_eq!(
        s.output.results_file.as_deref(),
        Some(Path::new("out/bench.json"))
    );
}

#[test]
fn a_bad_override_names_itself() {
    let overrides = Overrides::from_args(
        &["run.runs=0".to_string()],
        vec![("C".into(), "many".into())],
    )
    .unwrap();
    let err = scenario::load_with_env(Path::new("scenarios/quick.toml"), &overrides, &no_env)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "scenarios/quick.toml: run.runs: must be at least 1 (from `--set run.runs=0`)\n\
         scenarios/quick.toml: matrix.concurrency: `many` is not a concurrency level; write e.g. \
         `C=32` or `C=8,32` (from `C=many`)"
    );
}

#[test]
fn secrets_reach_the_wire_but_not_the_plan_or_the_echo() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.toml");
    std::fs::write(
        &file,
        "[target]\nbase_url = \"http://127.0.0.1:9/${env:TENANT}\"\nheaders = { authorization = \"Bearer ${env:KEY}\" }\n\
         [routes.chat]\npath = \"/v1/chat/completions\"\n[matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n",
    )
    .unwrap();
    let env = |name: &str| match name {
        "KEY" => Some("sk-very-secret".to_string()),
        "TENANT" => Some("tenant-secret".to_string()),
        _ => None,
    };
    let s = scenario::load_with_env(&file, &Overrides::default(), &env).unwrap();
    let points = scenario::expand(&s).unwrap();
    let auth = &points[0].request.headers[0];
    assert_eq!(auth.0, "authorization");
    assert_eq!(auth.1.resolved, "Bearer sk-very-secret");
    let echo = serde_json::to_string(&s).unwrap() + &serde_json::to_string(&points).unwrap();
    assert!(
        !echo.contains("sk-very-secret") && !echo.contains("tenant-secret"),
        "{echo}"
    );
    assert!(echo.contains("Bearer ***"));
    assert!(!format!("{s:?}").is_empty());
}
