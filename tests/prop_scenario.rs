//! Property tests of the scenario reader (`scenario::load_with_env`, `load_mock_config`,
//! `expand`, `estimate`): generated valid scenarios load and expand into exactly the points, in
//! exactly the order and with exactly the ids, that the matrix says; arbitrary text, TOML-ish
//! documents of the scenario's own keys with values of every type, valid scenarios with a
//! mutation or two, and arbitrary `--set` and framework overrides never panic, and every problem
//! they report points inside the file; the JSON Schema accepts every (mutated) scenario the
//! reader accepts. Case counts are set here so that the file runs in about
//! a second; `PROPTEST_CASES=N` searches longer.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use nitro_scenario::scenario::units::format_duration;
use nitro_scenario::scenario::{self, ENV_VARS, Overrides, Scenario, ScenarioError};
use proptest::prelude::*;

/// `default` cases, or `PROPTEST_CASES` when set.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// The scenario language's JSON Schema, compiled once.
fn schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        jsonschema::draft7::new(&scenario::schema::schema()).expect("the schema compiles")
    })
}

/// `${env:NAME}` sees one variable.
fn env(name: &str) -> Option<String> {
    (name == "TOKEN").then(|| "secret".to_string())
}

/// Write `text` as a scenario file and load it with `overrides`; then, when it loads, expand
/// it and estimate its time, so that every stage meets the input. Checks what holds of any
/// outcome: problems are located inside the file and say something.
fn load(text: &[u8], overrides: &Overrides) -> Result<Scenario, ScenarioError> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, text).unwrap();
    let loaded = scenario::load_with_env(&file, overrides, &env);
    let mock_only = scenario::load_mock_config(&file);
    match &loaded {
        Ok(s) => {
            if let Ok(points) = scenario::expand(s) {
                let _ = scenario::estimate(s, &points);
            }
        }
        Err(e) => check_problems(e, text, &file),
    }
    if let Err(e) = &mock_only {
        check_problems(e, text, &file);
    }
    loaded
}

fn check_problems(e: &ScenarioError, text: &[u8], file: &Path) {
    assert!(!e.problems.is_empty());
    let lines = text.split(|&b| b == b'\n').count();
    for p in &e.problems {
        assert!(!p.message.is_empty(), "{p:?}");
        if p.file == file {
            assert!(p.line.is_none_or(|l| (1..=lines).contains(&l)), "{p:?}");
        }
    }
    assert!(!e.to_string().is_empty());
}

/// `s` as a TOML basic string (JSON's escapes are TOML's).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A duration as text, up to `max_ms`, at least 1 ms when `positive`.
fn duration(positive: bool, max_ms: u64) -> impl Strategy<Value = String> {
    (u64::from(positive)..=max_ms)
        .prop_map(|ms| format!("{:?}", format_duration(Duration::from_millis(ms))))
}

/// A `[payloads]` entry's value.
fn payload_value() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[a-zA-Z ,!é]{1,8}", 0u32..4096)
            .prop_map(|(fill, bytes)| format!("{{ fill = {fill:?}, bytes = {bytes} }}")),
        (
            "[a-z ]{1,8}",
            prop::sample::select(&["1KiB", "0.5KiB", "2 kB", "100B"][..])
        )
            .prop_map(|(fill, bytes)| format!("{{ fill = {fill:?}, bytes = {bytes:?} }}")),
        "[a-zA-Z0-9 ]{0,12}".prop_map(|text| format!("{text:?}")),
        "[a-zA-Z0-9 ]{0,12}".prop_map(|text| format!("{{ text = {text:?} }}")),
        Just(r#"{ template = "{{ payload }} at {{ concurrency }}" }"#.to_string()),
    ]
}

/// One route: name, path, stream flag.
fn route_value() -> impl Strategy<Value = (String, bool)> {
    (
        prop::sample::select(
            &[
                "/v1/chat/completions",
                "/v1/chat/completions:stream",
                "/echo",
                "/a/b?x=1",
            ][..],
        ),
        any::<bool>(),
    )
        .prop_map(|(path, stream)| (path.to_string(), stream))
}

/// `[mock]` lines, each valid on its own.
fn mock_lines() -> impl Strategy<Value = Vec<String>> {
    let line = prop_oneof![
        duration(false, 20).prop_map(|d| format!("latency = {d}")),
        duration(false, 20).prop_map(|d| format!("jitter = {d}")),
        (1u32..100).prop_map(|n| format!("completion_tokens = {n}")),
        duration(false, 5000).prop_map(|d| format!("retry_after = {d}")),
        prop::sample::select(&["1024", "\"4MiB\"", "\"1.5 KiB\""][..])
            .prop_map(|s| format!("max_body_bytes = {s}")),
        duration(true, 60_000).prop_map(|d| format!("header_read_timeout = {d}")),
        (1u32..64, duration(false, 10))
            .prop_map(|(n, d)| format!("stream = {{ chunks = {n}, interval = {d} }}")),
        (1u32..10).prop_map(|n| format!("rate_limit = {{ mode = \"every_nth\", n = {n} }}")),
        Just(r#"rate_limit = { mode = "window", period = "1s", limited = "250ms" }"#.to_string()),
        Just(r#"rate_limit = "always""#.to_string()),
        (1u32..10, 0u32..5).prop_map(|(every, after)| format!(
            "faults = {{ reset = {{ every = {every}, after_chunks = {after} }} }}"
        )),
    ];
    // One line per key: a key written twice is a TOML error, not a valid scenario.
    proptest::collection::vec(line, 0..5).prop_map(|lines| {
        let mut seen = BTreeSet::new();
        lines
            .into_iter()
            .filter(|l| seen.insert(l.split(' ').next().unwrap_or("").to_string()))
            .collect()
    })
}

/// A valid scenario, as generated: `text` writes it, `ids` says the points it must expand to.
#[derive(Debug, Clone)]
struct Valid {
    base_url: &'static str,
    transport: Option<&'static str>,
    runs: u32,
    warmup: String,
    measure: String,
    requests: Option<u32>,
    /// Names and values; names are distinct and without `-`, so point ids cannot collide.
    payloads: Vec<(String, String)>,
    /// Whether the matrix has a payload axis.
    use_payloads: bool,
    /// Names, paths and stream flags.
    routes: Vec<(String, String, bool)>,
    concurrency: BTreeSet<u32>,
    /// Values of the user axis `ax_n`, if any.
    axis: Option<BTreeSet<i64>>,
    mock: Vec<String>,
}

fn valid() -> impl Strategy<Value = Valid> {
    let names = || proptest::collection::btree_set("[a-z][a-z0-9_]{0,5}", 1..4);
    let run = (
        prop::sample::select(&["mock", "http://127.0.0.1:9/"][..]),
        proptest::option::of(prop::sample::select(&["auto", "hyper", "reqwest"][..])),
        1u32..4,
        duration(false, 2000),
        duration(true, 5000),
        proptest::option::of(1u32..1000),
    );
    let payloads = (names(), proptest::collection::vec(payload_value(), 3))
        .prop_map(|(names, values)| names.into_iter().zip(values).collect());
    let routes =
        (names(), proptest::collection::vec(route_value(), 3)).prop_map(|(names, values)| {
            names
                .into_iter()
                .zip(values)
                .map(|(name, (path, stream))| (name, path, stream))
                .collect()
        });
    let matrix = (
        any::<bool>(),
        proptest::collection::btree_set(1u32..=100_000, 1..4),
        proptest::option::of(proptest::collection::btree_set(-5i64..100, 1..4)),
    );
    (run, payloads, routes, matrix, mock_lines()).prop_map(
        |(run, payloads, routes, (use_payloads, concurrency, axis), mock)| {
            let (base_url, transport, runs, warmup, measure, requests) = run;
            Valid {
                base_url,
                transport,
                runs,
                warmup,
                measure,
                requests,
                payloads,
                use_payloads,
                routes,
                concurrency,
                axis,
                mock,
            }
        },
    )
}

/// `items` as the inside of a TOML array.
fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>, quoted: bool) -> String {
    let items: Vec<String> = items
        .into_iter()
        .map(|i| {
            if quoted {
                quote(&i.to_string())
            } else {
                i.to_string()
            }
        })
        .collect();
    items.join(", ")
}

impl Valid {
    fn text(&self) -> String {
        let mut t = format!("name = \"gen\"\n[target]\nbase_url = {:?}\n", self.base_url);
        if let Some(transport) = self.transport {
            t += &format!("transport = {transport:?}\n");
        }
        t += "headers = { authorization = \"Bearer ${env:TOKEN}\" }\n";
        t += &format!(
            "[run]\nruns = {}\nwarmup = {}\nduration = {}\n",
            self.runs, self.warmup, self.measure
        );
        if let Some(n) = self.requests {
            t += &format!("requests = {n}\n");
        }
        t += "[payloads]\n";
        for (name, value) in &self.payloads {
            t += &format!("{name} = {value}\n");
        }
        for (name, path, stream) in &self.routes {
            t += &format!("[routes.{name}]\npath = {path:?}\nstream = {stream}\n");
        }
        let routes = self.routes.iter().map(|r| &r.0);
        t += &format!("[matrix]\nroute = [{}]\n", list(routes, true));
        if self.use_payloads {
            let names = self.payloads.iter().map(|p| &p.0);
            t += &format!("payload = [{}]\n", list(names, true));
        }
        t += &format!("concurrency = [{}]\n", list(&self.concurrency, false));
        if let Some(values) = &self.axis {
            t += &format!("[matrix.axes]\nax_n = [{}]\n", list(values, false));
        }
        t += "[mock]\n";
        for line in &self.mock {
            t += &format!("{line}\n");
        }
        t
    }

    /// The point ids, first axis slowest: route, payload, concurrency, then the user axis.
    fn ids(&self) -> Vec<String> {
        let payloads: Vec<String> = if self.use_payloads {
            self.payloads.iter().map(|(p, _)| format!("-{p}")).collect()
        } else {
            vec![String::new()]
        };
        let axis: Vec<String> = match &self.axis {
            Some(values) => values.iter().map(|v| format!("-{v}")).collect(),
            None => vec![String::new()],
        };
        let mut ids = Vec::new();
        for (route, _, _) in &self.routes {
            for payload in &payloads {
                for c in &self.concurrency {
                    for value in &axis {
                        ids.push(format!("{route}{payload}-c{c}{value}"));
                    }
                }
            }
        }
        ids
    }
}

/// A value of any TOML type, often one the scenario language knows, often of the wrong kind.
fn any_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        prop::sample::select(&[0i64, 1, -1, 2, 64, 1024, 100_000, 100_001][..])
            .prop_map(|i| i.to_string()),
        prop::sample::select(&["1.5", "-0.0", "inf", "nan", "1e999", "true", "false"][..])
            .prop_map(str::to_string),
        prop::sample::select(
            &[
                "10ms",
                "0s",
                "0",
                "-5s",
                "8761h",
                "1m30s",
                "30",
                "32KiB",
                "65MiB",
                "1 parsec",
                "mock",
                "http://127.0.0.1:1/",
                "https://u:p@h/x?q#f",
                "ftp://x",
                "${env:TOKEN}",
                "${env:MISSING}",
                "${env:",
                "always",
                "every_nth",
                "window",
                "openai-chat",
                "raw",
                "none",
                "json",
                "sse",
                "any",
                "hyper",
                "reqwest",
                "auto",
                "GET",
                "/v1/chat/completions",
                "no-slash",
                "{{ payload }}",
                "{{ modle }}",
                "{% if %}",
                "{{ ax_n * 10 }}",
                "S",
                "chat",
                "a-b",
                "",
            ][..],
        )
        .prop_map(quote),
        "\\PC{0,10}".prop_map(|s| quote(&s)),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            proptest::collection::vec((key(), inner), 0..4).prop_map(|pairs| {
                let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", pairs.join(", "))
            }),
        ]
    })
}

/// A key the scenario language knows, or not.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(
            &[
                "name", "description", "base_url", "model", "timeout", "connect_timeout",
                "transport", "headers", "runs", "warmup", "warmup_requests", "duration",
                "requests", "retry", "max", "honor_retry_after", "max_wait", "backoff", "S", "fill",
                "bytes", "text", "file", "template", "path", "method", "body", "max_tokens",
                "stream", "expect", "status", "route", "payload", "concurrency", "ax_n", "axes", "model",
                "latency", "jitter", "completion_tokens", "retry_after", "max_body_bytes",
                "header_read_timeout", "first_chunk", "chunks", "interval", "rate_limit", "mode",
                "n", "period", "limited", "faults", "stall", "reset", "truncate", "every",
                "after_chunks", "dir", "templates", "results_file", "requests_log", "chat", "max_response_bytes",
                "max_event_bytes",
            ][..],
        )
        .prop_map(str::to_string),
        1 => "[a-z_]{1,8}",
        1 => "\\PC{0,6}".prop_map(|s| quote(&s)),
    ]
}

/// A TOML-ish document of the scenario's tables and keys.
fn toml_ish() -> impl Strategy<Value = String> {
    let table = prop::sample::select(
        &[
            "",
            "target",
            "target.headers",
            "run",
            "run.retry",
            "payloads",
            "payloads.S",
            "routes.chat",
            "routes.chat.expect",
            "matrix",
            "mock",
            "mock.stream",
            "mock.rate_limit",
            "mock.faults",
            "mock.faults.stall",
            "mock.faults.reset",
            "output",
            "bogus",
            "routes",
        ][..],
    );
    let lines = proptest::collection::vec((key(), any_value()), 0..6);
    proptest::collection::vec((table, lines), 0..8).prop_map(|sections| {
        let mut text = String::new();
        for (table, lines) in sections {
            if !table.is_empty() {
                text.push_str(&format!("[{table}]\n"));
            }
            for (k, v) in lines {
                text.push_str(&format!("{k} = {v}\n"));
            }
        }
        text
    })
}

/// One change to a document's lines.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    ReplaceValue(usize, String),
    Insert(usize, String, String),
    Swap(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        at.prop_map(Mutation::Delete),
        at.prop_map(Mutation::Duplicate),
        (at, any_value()).prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
        (at, key(), any_value()).prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
        (at, at).prop_map(|(i, j)| Mutation::Swap(i, j)),
        at.prop_map(Mutation::Truncate),
    ]
}

impl Mutation {
    fn apply(&self, text: &str) -> String {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let n = lines.len();
        if n == 0 {
            return text.to_string();
        }
        match self {
            Self::Delete(i) => {
                lines.remove(i % n);
            }
            Self::Duplicate(i) => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Self::ReplaceValue(i, value) => {
                let line = &mut lines[i % n];
                if let Some((k, _)) = line.split_once(" = ") {
                    *line = format!("{k} = {value}");
                }
            }
            Self::Insert(i, k, v) => lines.insert(i % (n + 1), format!("{k} = {v}")),
            Self::Swap(i, j) => lines.swap(i % n, j % n),
            Self::Truncate(at) => {
                let mut cut = at % (text.len() + 1);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                return text[..cut].to_string();
            }
        }
        lines.join("\n") + "\n"
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn a_valid_scenario_loads_and_expands_to_its_points_in_order(v in valid()) {
        let text = v.text();
        let s = load(text.as_bytes(), &Overrides::default())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let points = scenario::expand(&s).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let ids: Vec<String> = points.into_iter().map(|p| p.id).collect();
        prop_assert_eq!(&ids, &v.ids());
        let again: Vec<String> = scenario::expand(&s).unwrap().into_iter().map(|p| p.id).collect();
        prop_assert_eq!(again, ids, "expansion is deterministic");
    }

    #[test]
    fn a_mutated_valid_scenario_never_panics(
        v in valid(),
        m in proptest::collection::vec(mutation(), 1..3),
    ) {
        let text = m.iter().fold(v.text(), |text, m| m.apply(&text));
        let _ = load(text.as_bytes(), &Overrides::default());
    }

    #[test]
    fn the_schema_accepts_every_mutated_scenario_the_reader_accepts(
        v in valid(),
        m in proptest::collection::vec(mutation(), 0..3),
    ) {
        let text = m.iter().fold(v.text(), |text, m| m.apply(&text));
        if load(text.as_bytes(), &Overrides::default()).is_ok() {
            let doc: serde_json::Value = toml::from_str(&text).expect("the reader parsed it");
            let problems: Vec<String> =
                schema().iter_errors(&doc).map(|e| format!("{}: {e}", e.instance_path())).collect();
            prop_assert!(problems.is_empty(), "{}\n{}", text, problems.join("\n"));
        }
    }

    #[test]
    fn toml_ish_documents_never_panic(text in toml_ish()) {
        let _ = load(text.as_bytes(), &Overrides::default());
    }

    #[test]
    fn arbitrary_text_never_panics(
        text in prop_oneof![
            "\\PC{0,200}".prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..200),
        ]
    ) {
        let _ = load(&text, &Overrides::default());
    }

    #[test]
    fn arbitrary_overrides_never_panic(
        v in valid(),
        set in proptest::collection::vec(
            (
                prop::sample::select(
                    &[
                        "run.duration", "run.warmup", "run.runs", "run.requests",
                        "matrix.concurrency", "matrix.route", "matrix.payload", "matrix.axes.ax_n",
                        "target.base_url", "target.timeout", "target.headers.x", "mock.latency",
                        "mock.header_read_timeout", "mock.rate_limit", "routes.new.path",
                        "payloads.S", "bogus", "run..x", "",
                    ][..],
                ),
                "\\PC{0,12}|[0-9]{1,22}|\\[[0-9, ]{0,8}\\]|[0-9]{1,4}(ms|s|KiB)",
            ),
            0..3,
        ),
        framework in proptest::collection::vec(
            (prop::sample::select(&ENV_VARS[..]), "\\PC{0,8}|-?[0-9]{1,22}(\\.[0-9]{1,3})?|S|M|L"),
            0..3,
        ),
    ) {
        let set: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let framework = framework.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        if let Ok(overrides) = Overrides::from_args(&set, framework) {
            let _ = load(v.text().as_bytes(), &overrides);
        }
    }
}
