//! `[thresholds]` read from scenario text: scopes, bounds typed by their figure's unit,
//! `every_run` and `abort_on_fail`, and what the run's matrix does not reach (an error when
//! the file names it nowhere, a warning when an override narrowed it away). The problems
//! with their exact text are pinned by `tests/fixtures/invalid/thresholds_*`.

mod scenario_support;

use std::collections::BTreeMap;

use nitro_scenario::scenario::{Bound, Op, Overrides, Scenario, Scope};
use scenario_support::{load_text, set};

const BASE: &str = r#"
[target]
base_url = "mock"

[payloads]
S = "hello"

[routes.chat]
path = "/v1/chat/completions"

[routes.stream]
path = "/v1/chat/completions:stream"
stream = true

[routes.spare]
path = "/spare"

[matrix]
route = ["chat", "stream"]
payload = ["S"]
concurrency = [1, 32]
axes = { model = ["a", "b"] }
"#;

fn load(thresholds: &str, overrides: &Overrides) -> Result<Scenario, String> {
    load_text(&format!("{BASE}\n{thresholds}"), overrides)
}

/// Each rule as `(figure, bound, scope, every_run)`.
fn rules(s: &Scenario) -> Vec<(String, String, String, bool)> {
    s.thresholds
        .rules
        .iter()
        .map(|t| {
            (
                t.figure.key(),
                t.bound.text(),
                t.scope.describe(),
                t.every_run,
            )
        })
        .collect()
}

#[test]
fn scopes_bounds_and_options_are_read_in_order() {
    let s = load(
        r#"
[thresholds]
latency_p99 = "< 250ms"
success_rate = ">= 99.5%"
client_bound = false
every_run = true
abort_on_fail = true

[thresholds.route.stream]
ttft_p99 = "<= 0.05s"
every_run = false

[[thresholds.when]]
match = { route = "chat", concurrency = [1, 32], model = "a" }
throughput = "> 5_000 req/s"
errors_503 = "== 0"

[[thresholds.when]]
match = { payload = "S" }
errors_5xx = "< 1%"
"#,
        &Overrides::default(),
    )
    .unwrap();
    let row = |f: &str, b: &str, s: &str, e: bool| (f.into(), b.into(), s.into(), e);
    assert_eq!(
        rules(&s),
        [
            row("latency_p99", "< 250ms", "all points", true),
            row("success_rate", ">= 99.5%", "all points", true),
            row("client_bound", "false", "all points", true),
            row("ttft_p99", "<= 0.05s", "route `stream`", false),
            row(
                "throughput",
                "> 5_000 req/s",
                "route = chat, concurrency = 1 or 32, model = a",
                true
            ),
            row(
                "errors_503",
                "== 0",
                "route = chat, concurrency = 1 or 32, model = a",
                true
            ),
            row("errors_5xx", "< 1%", "payload = S", true),
        ]
    );
    assert!(s.thresholds.abort_on_fail);
    let bounds: Vec<&Bound> = s.thresholds.rules.iter().map(|t| &t.bound).collect();
    let compare = |op, limit, per_100_requests, written: &str| Bound::Compare {
        op,
        limit,
        per_100_requests,
        written: written.into(),
    };
    assert_eq!(bounds[0], &compare(Op::Below, 250.0, false, "< 250ms"));
    assert_eq!(bounds[2], &Bound::Is(false));
    assert_eq!(bounds[3], &compare(Op::AtMost, 50.0, false, "<= 0.05s"));
    assert_eq!(
        bounds[4],
        &compare(Op::Above, 5000.0, false, "> 5_000 req/s")
    );
    assert_eq!(bounds[6], &compare(Op::Below, 1.0, true, "< 1%"));
    let when = &s.thresholds.rules[4].scope;
    let mut vars = BTreeMap::from([
        ("route".to_string(), "chat".to_string()),
        ("concurrency".to_string(), "32".to_string()),
        ("model".to_string(), "a".to_string()),
    ]);
    assert!(when.selects("chat", &vars));
    vars.insert("model".into(), "b".into());
    assert!(!when.selects("chat", &vars));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn no_table_no_thresholds() {
    let s = load("", &Overrides::default()).unwrap();
    assert!(s.thresholds.is_empty());
    assert!(!s.thresholds.abort_on_fail);
}

#[test]
fn what_an_override_narrowed_away_is_a_warning_not_an_error() {
    let text = r#"
[thresholds.route.spare]
latency_p99 = "< 1s"

[[thresholds.when]]
match = { concurrency = 32, route = "stream" }
latency_p99 = "< 1s"
"#;
    let s = load(
        text,
        &set(&["matrix.concurrency=[1]", "matrix.route=[\"chat\"]"]),
    )
    .unwrap();
    let warnings: Vec<String> = s
        .warnings
        .iter()
        .map(|w| {
            let (line, column) = (w.line.unwrap(), w.column.unwrap());
            format!("{line}:{column}: {}: {}", w.key, w.message)
        })
        .collect();
    assert_eq!(
        warnings,
        [
            "25:19: thresholds.route.spare: route `spare` is not in this run's matrix \
             (`route = [chat]`); these thresholds judge no point",
            "29:25: thresholds.when[0].match.concurrency: `concurrency = 32` selects no \
             point of this run (`concurrency = [1]`); these thresholds judge no point there",
            "29:37: thresholds.when[0].match.route: `route = \"stream\"` selects no point \
             of this run (`route = [chat]`); these thresholds judge no point there",
        ]
    );
    assert_eq!(s.thresholds.rules.len(), 2);
    assert_eq!(s.thresholds.rules[0].scope, Scope::Route("spare".into()));
}

#[test]
fn an_override_sets_a_threshold() {
    let s = load(
        "[thresholds]\nlatency_p99 = \"< 1s\"\n",
        &set(&[
            "thresholds.latency_p99=< 20ms",
            "thresholds.abort_on_fail=true",
        ]),
    )
    .unwrap();
    assert_eq!(rules(&s)[0].1, "< 20ms");
    assert!(s.thresholds.abort_on_fail);
}
