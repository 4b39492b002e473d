//! Scenario files end to end through the library: every shipped scenario validates, every
//! invalid fixture gives its pinned error text, overrides behave, input is bounded. Secrets
//! are in `scenario_secrets.rs`.
//!
//! Invalid fixtures live in `tests/fixtures/invalid/NAME.toml` with the expected error text in
//! `NAME.err`; `UPDATE_FIXTURES=1 cargo test --test scenario_files` rewrites the `.err` files
//! (review the diff before committing).

mod scenario_support;

use std::path::{Path, PathBuf};

use nitro_scenario::scenario::{self, BaseUrl, Overrides};
use scenario_support::{MOCK_CHAT, load_text, no_env};

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
fn user_axes_and_headers_keep_file_order() {
    let s = load_text(
        &format!(
            "{MOCK_CHAT}headers = {{ x-zeta = \"1\", x-alpha = \"2\", content-type = \"text/plain\" }}\n\
             [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n[matrix.axes]\nzeta = [\"z\"]\nalpha = [\"a\"]\n"
        ),
        &Overrides::default(),
    )
    .unwrap();
    let axes: Vec<&str> = s.matrix.extra.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(axes, ["zeta", "alpha"]);
    let points = scenario::expand(&s).unwrap();
    assert_eq!(points[0].id, "chat-c1-z-a");
    let headers: Vec<&str> = points[0]
        .request
        .headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        headers,
        ["x-zeta", "x-alpha", "content-type"],
        "no second content-type"
    );
}

#[test]
fn free_text_may_hold_tabs_and_the_description_line_breaks() {
    let s = load_text(
        &format!(
            "description = \"one\\n\\ttwo\\r\\nthree\"\n{MOCK_CHAT}headers = {{ x-tab = \"a\\tb\" }}\n\
             [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n"
        ),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(s.description.as_deref(), Some("one\n\ttwo\r\nthree"));
    assert_eq!(s.routes[0].headers[0].1.resolved, "a\tb");
}

#[test]
fn an_axis_named_near_a_built_in_is_warned_about() {
    let s = load_text(
        &format!(
            "{MOCK_CHAT}[matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n\
             [matrix.axes]\nmodle = [\"x\"]\nconcurency = [2]\nmode = [\"fast\"]\n"
        ),
        &Overrides::default(),
    )
    .unwrap();
    let warnings: Vec<(Option<usize>, &str, &str)> = s
        .warnings
        .iter()
        .map(|w| (w.line, w.key.as_str(), w.message.as_str()))
        .collect();
    assert_eq!(
        warnings,
        [
            (
                Some(9),
                "matrix.axes.modle",
                "axis `modle` is not the built-in `model`; did you mean `model`? (an axis \
                 named `model` replaces `target.model` per point)"
            ),
            (
                Some(10),
                "matrix.axes.concurency",
                "axis `concurency` is not the built-in `concurrency`; did you mean \
                 `concurrency`? (the built-in axes are keys of `[matrix]`, not of \
                 `[matrix.axes]`)"
            ),
        ]
    );
}

#[test]
fn templates_see_axis_values_with_their_types() {
    let s = load_text(
        "[target]\nbase_url = \"mock\"\n\
         [routes.t]\npath = \"/v1/t\"\nbody = { template = '{{ n * 10 }} {{ flag | tojson }} {{ model | tojson }}' }\n\
         [matrix]\nroute = [\"t\"]\nconcurrency = [1]\n[matrix.axes]\nn = [1, 2]\nflag = [true]\nmodel = [\"m-1\"]\n",
        &Overrides::default(),
    )
    .unwrap();
    let points = scenario::expand(&s).unwrap();
    let bodies: Vec<&[u8]> = points.iter().map(|p| &p.request.body[..]).collect();
    assert_eq!(bodies, [&b"10 true \"m-1\""[..], &b"20 true \"m-1\""[..]]);
    assert_eq!(points[0].vars["n"], "1");
    assert_eq!(points[0].vars["flag"], "true");
    assert!(
        points[0].request.headers.is_empty(),
        "a body that is not JSON gets no content-type"
    );
}

#[test]
fn a_json_template_body_is_sent_as_json_and_payload_templates_see_their_name() {
    let s = load_text(
        "[target]\nbase_url = \"mock\"\n\
         [payloads]\nq = { template = '{{ payload }}/{{ payload_name }}/{{ concurrency }}' }\n\
         [routes.t]\npath = \"/v1/t\"\nbody = { template = '{\"p\": {{ payload | tojson }}, \"n\": {{ payload_name | tojson }}}' }\n\
         [matrix]\nroute = [\"t\"]\npayload = [\"q\"]\nconcurrency = [4]\n",
        &Overrides::default(),
    )
    .unwrap();
    let points = scenario::expand(&s).unwrap();
    assert_eq!(&points[0].request.body[..], br#"{"p": "q/q/4", "n": "q"}"#);
    assert_eq!(points[0].request.headers[0].0, "content-type");
    assert_eq!(points[0].request.headers[0].1.resolved, "application/json");
}

#[test]
fn set_values_are_coerced_or_refused_with_a_hint() {
    let set = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Overrides::from_args(&args, vec![]).unwrap()
    };
    let base = format!("{MOCK_CHAT}[matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n");
    let s = load_text(&base, &set(&["target.model=2024", "name=2024-01-01"])).unwrap();
    assert_eq!(s.target.model, "2024");
    assert_eq!(s.name, "2024-01-01");
    let err = load_text(&base, &set(&["matrix.axes.model=[a,b]"])).unwrap_err();
    assert_eq!(
        err,
        "s.toml: matrix.axes.model: `[a,b]` is not a valid TOML list or table; quote strings, \
         e.g. `[\"a\", \"b\"]` (from `--set matrix.axes.model=[a,b]`)"
    );
    let err = load_text(&base, &set(&["matrix.route=chat", "matrix.model=[\"a\"]"])).unwrap_err();
    assert_eq!(
        err,
        "s.toml: matrix.route: an axis is a list of values, found string; write \
         `--set 'matrix.route=[\"chat\"]'` (from `--set matrix.route=chat`)\n\
         s.toml: matrix.model: `model` is not a key of [matrix]; user axes go under \
         [matrix.axes]: set `matrix.axes.model` (from `--set matrix.model=[\"a\"]`)"
    );
    let s = load_text(&base, &set(&["matrix.axes.model=[\"a\",\"b\"]"])).unwrap();
    assert_eq!(s.matrix.extra[0].name, "model");
    assert_eq!(s.matrix.extra[0].values.len(), 2);
    let env = vec![("WARMUP_SECONDS".to_string(), "x".to_string())];
    let err = load_text(&base, &Overrides::from_args(&[], env).unwrap()).unwrap_err();
    assert_eq!(
        err,
        "s.toml: run.warmup: `x` is not a number of seconds; write e.g. `60` or `0.5` \
         (from `WARMUP_SECONDS=x`)"
    );
}

#[test]
fn a_mock_config_may_be_a_whole_scenario() {
    let config = scenario::load_mock_config(Path::new("scenarios/quick.toml")).unwrap();
    assert_eq!(
        config.rate_limit,
        nitro_scenario::mock::RateLimit::EveryNth(std::num::NonZeroU32::new(2).unwrap())
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mock.toml");
    std::fs::write(&file, "[mokc]\nlatency = \"1ms\"\n").unwrap();
    let err = scenario::load_mock_config(&file).unwrap_err().to_string();
    assert!(
        err.ends_with("1:2: mokc: `mokc` is not a key of the top level; did you mean `mock`?"),
        "{err}"
    );
}

#[test]
fn huge_runs_and_phases_estimate_without_overflow() {
    let s = load_text(
        &format!(
            "{MOCK_CHAT}[run]\nruns = 4000000000\nduration = \"8760h\"\nwarmup = \"8760h\"\n\
             [matrix]\nroute = [\"chat\"]\nconcurrency = [1, 2, 3]\n"
        ),
        &Overrides::default(),
    )
    .unwrap();
    let points = scenario::expand(&s).unwrap();
    let estimate = scenario::estimate(&s, &points);
    assert!(estimate.wall > std::time::Duration::from_secs(1000 * 86_400));
}

#[cfg(unix)]
#[test]
fn only_regular_files_are_read_and_never_past_their_cap() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c_path` is a valid NUL-terminated path for the duration of the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    // Each would read forever or block forever if it were opened and read.
    for (payload, kind) in [
        ("/dev/zero".to_string(), "a character device"),
        (fifo.display().to_string(), "a FIFO (named pipe)"),
    ] {
        let err = load_text(
            &format!(
                "{MOCK_CHAT}[payloads.p]\nfile = \"{payload}\"\n\
                 [matrix]\nroute = [\"chat\"]\npayload = [\"p\"]\nconcurrency = [1]\n"
            ),
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            format!(
                "s.toml:6:8: payloads.p.file: cannot read `{payload}`: it is {kind}, not a \
                 regular file"
            )
        );
    }
    let err = scenario::load_with_env(&fifo, &Overrides::default(), &no_env).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("fifo: cannot read the file: it is a FIFO (named pipe), not a regular file"),
        "{err}"
    );
}

#[test]
fn a_scenario_larger_than_its_cap_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.toml");
    let cap = usize::try_from(scenario::MAX_SCENARIO_BYTES).unwrap();
    let mut text = format!("{MOCK_CHAT}[matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n");
    text.push_str(&"#".repeat(cap - text.len()));
    std::fs::write(&file, &text).unwrap();
    assert!(scenario::load_with_env(&file, &Overrides::default(), &no_env).is_ok());
    text.push('#');
    std::fs::write(&file, &text).unwrap();
    let err = scenario::load_with_env(&file, &Overrides::default(), &no_env).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "big.toml: cannot read the file: it is larger than the limit of 4MiB for a scenario \
             file"
        ),
        "{err}"
    );
}

#[test]
fn a_template_rendering_past_the_payload_cap_is_stopped() {
    // 64 KiB a time, 1,025 times: one step past the 64 MiB cap.
    let err = load_text(
        "[target]\nbase_url = \"mock\"\n\
         [payloads]\nbig = { fill = \"x\", bytes = \"64KiB\" }\n\
         [routes.t]\npath = \"/v1/t\"\n\
         body = { template = '{% for i in range(1025) %}{{ payload }}{% endfor %}' }\n\
         [matrix]\nroute = [\"t\"]\npayload = [\"big\"]\nconcurrency = [1]\n",
        &Overrides::default(),
    )
    .and_then(|s| scenario::expand(&s).map_err(|e| e.to_string()))
    .unwrap_err();
    assert!(
        err.ends_with(
            "routes.t.body.template: renders more than the limit of 64MiB for point `t-big-c1`"
        ),
        "{err}"
    );
}
