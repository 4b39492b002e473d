//! The Thresholds section of `report.md`, from the hand-built sample report judged against
//! hand-built thresholds: a snapshot of the section, and `results.json` carrying the
//! thresholds so that re-rendering gives the same bytes.

mod report_support;

use nitro_scenario::judge::{self, Measure};
use nitro_scenario::report::{self, RunReport};
use nitro_scenario::scenario::{Bound, Op, Scope, Threshold, Thresholds};
use report_support::{read, sample, write};

fn compare(key: &str, op: Op, limit: f64, written: &str, scope: Scope) -> Threshold {
    Threshold {
        figure: Measure::parse(key).expect("a figure"),
        bound: Bound::Compare {
            op,
            limit,
            per_100_requests: written.ends_with('%') && key.starts_with("errors"),
            written: written.into(),
        },
        scope,
        every_run: false,
    }
}

/// The sample judged: chat's p99 is 9.75 ms at c1 and 11.4 ms at c32; the stream route has a
/// bound of its own, which its failing payload cannot meet without a latency; the error route
/// has no latency at all.
fn judged() -> RunReport {
    let chat = Scope::When(vec![("route".into(), vec!["chat".into()])]);
    let mut timeouts = compare("errors_timeout", Op::Below, 1.0, "< 1%", chat);
    timeouts.every_run = true;
    let thresholds = Thresholds {
        rules: vec![
            compare("latency_p99", Op::Below, 10.0, "< 10ms", Scope::All),
            Threshold {
                figure: Measure::parse("client_bound").expect("a figure"),
                bound: Bound::Is(false),
                scope: Scope::All,
                every_run: false,
            },
            compare(
                "latency_p99",
                Op::Below,
                100.0,
                "< 100ms",
                Scope::Route("stream".into()),
            ),
            timeouts,
        ],
        abort_on_fail: false,
    };
    let mut r = sample(false);
    r.thresholds = judge::thresholds::judge(&thresholds, &r.points);
    r
}

/// The text from `## Thresholds` to the next section.
fn section(markdown: &str) -> String {
    let start = markdown
        .find("## Thresholds")
        .expect("a Thresholds section");
    let rest = &markdown[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 4);
    rest[..end].to_string()
}

#[test]
fn the_thresholds_section() {
    let (dir, _) = write(&judged(), None);
    insta::assert_snapshot!(
        "thresholds_section",
        section(&read(dir.path(), "report.md"))
    );
}

#[test]
fn results_json_carries_the_thresholds_and_renders_them_again() {
    let report = judged();
    let stored = report.thresholds.as_ref().expect("judged");
    assert_eq!(
        (stored.passed, stored.failed, stored.not_applicable),
        (9, 2, 1)
    );
    let (dir, _) = write(&report, None);
    let back = report::load_results(&dir.path().join("results.json")).unwrap();
    let checks = |r: &RunReport| -> Vec<(String, String)> {
        let t = r.thresholds.as_ref().expect("thresholds");
        t.thresholds
            .iter()
            .flat_map(|t| t.checks.iter().map(|c| (t.figure.clone(), c.point.clone())))
            .collect()
    };
    assert_eq!(checks(&back), checks(&report));
    let (again, _) = write(&back, None);
    assert_eq!(
        read(again.path(), "results.json"),
        read(dir.path(), "results.json")
    );
    assert_eq!(
        read(again.path(), "report.md"),
        read(dir.path(), "report.md")
    );
    // A report without thresholds has no key for them, and no section.
    let (plain, _) = write(&sample(false), None);
    assert!(!read(plain.path(), "results.json").contains("\"thresholds\""));
    assert!(!read(plain.path(), "report.md").contains("## Thresholds"));
}
