//! The files `write_all` leaves behind: charts that are well-formed SVG with sane ticks, stale
//! charts removed on a re-run, no secret in any file, and the committed sample in
//! `reports/quick/` being exactly what the current code renders from its `results.json`.

mod report_support;

use std::path::Path;
use std::time::SystemTime;

use nitro_scenario::metrics::{ErrorSample, PointResult, RunStats};
use nitro_scenario::report::{self, HostFacts, RunReport};
use nitro_scenario::scenario::{self, Overrides};
use report_support::{assert_well_formed, names, plan, point, read, run, sample, write};

#[test]
fn charts_are_well_formed_svg_with_readable_ticks() {
    let (dir, _) = write(&sample(false), None);
    let charts: Vec<String> = names(dir.path())
        .into_iter()
        .filter(|n| n.ends_with(".svg"))
        .collect();
    assert_eq!(charts.len(), 6);
    for name in &charts {
        let svg = read(dir.path(), name);
        assert_well_formed(&svg);
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{name}");
        assert!(
            svg.contains(">concurrency (levels evenly spaced)</text>"),
            "{name}"
        );
    }
    // chat throughput tops out at 8,900 req/s: ticks of 2,000 up to 10,000.
    let chat = read(dir.path(), "chart-chat-throughput.svg");
    for label in ["0", "2,000", "4,000", "6,000", "8,000", "10,000"] {
        assert!(
            chat.contains(&format!("text-anchor=\"end\">{label}</text>")),
            "{label}"
        );
    }
    // stream latency: the L payload never succeeded, so only S has lines (p50 and p99).
    let stream = read(dir.path(), "chart-stream-latency.svg");
    assert_eq!(stream.matches("<polyline").count(), 2);
    assert!(stream.contains(">L p99</text>"), "the legend still lists L");
}

/// `chat` at two concurrency levels for each of two `lang` values, as the matrix orders them.
fn with_lang_axis() -> RunReport {
    let mut report = sample(false);
    let chat = "/v1/chat/completions";
    report.points = [
        ("rust", 1, 300.0),
        ("rust", 8, 2_000.0),
        ("python", 1, 200.0),
        ("python", 8, 900.0),
    ]
    .into_iter()
    .map(|(lang, c, rps)| {
        let mut p = point("chat", chat, "S", c, vec![run(1, rps, 3_000, false)]);
        p.id = format!("chat-S-c{c}-{lang}");
        p.vars.insert("lang".into(), lang.into());
        p
    })
    .collect();
    report.axes = vec!["lang".into()];
    report
}

#[test]
fn charts_draw_a_line_per_payload_and_axis_value() {
    let (dir, _) = write(&with_lang_axis(), None);
    let latency = read(dir.path(), "chart-chat-latency.svg");
    assert_well_formed(&latency);
    assert_eq!(
        latency.matches("<polyline").count(),
        4,
        "p50 and p99 per lang"
    );
    for label in [
        "S lang=rust p50",
        "S lang=rust p99",
        "S lang=python p50",
        "S lang=python p99",
    ] {
        assert!(latency.contains(&format!(">{label}</text>")), "{label}");
    }
    let throughput = read(dir.path(), "chart-chat-throughput.svg");
    assert_eq!(
        throughput.matches("<polyline").count(),
        2,
        "one line per lang"
    );
    assert!(throughput.contains(">S lang=python</text>"));
    let md = read(dir.path(), "report.md");
    assert!(md.contains("one line per payload and lang value"), "{md}");
}

#[test]
fn results_csv_has_a_column_per_user_axis() {
    let (dir, _) = write(&with_lang_axis(), None);
    let csv = read(dir.path(), "results.csv");
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",failed_runs,skipped,goodput_rps,slo_met,search_answer_rps,axis_lang")
    );
    let langs: Vec<&str> = lines.map(|l| l.rsplit(',').next().unwrap()).collect();
    assert_eq!(langs, ["rust", "rust", "python", "python"]);

    let mut clash = with_lang_axis();
    clash.axes = vec!["runs".into()];
    for p in &mut clash.points {
        p.vars.insert("runs".into(), "x".into());
    }
    let (dir, _) = write(&clash, None);
    let header = read(dir.path(), "results.csv")
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(header.ends_with(",search_answer_rps,axis_runs"), "{header}");
}

#[test]
fn long_legends_widen_the_chart() {
    let mut report = with_lang_axis();
    for p in &mut report.points {
        let long = format!("{}-with-a-rather-long-name", p.vars["lang"]);
        p.vars.insert("lang".into(), long);
    }
    let (dir, _) = write(&report, None);
    let svg = read(dir.path(), "chart-chat-latency.svg");
    // "S lang=python-with-a-rather-long-name p50": 41 characters of 7 px after 44 px, plus 8.
    assert!(svg.contains(r#"width="819" height="320""#), "{svg}");
}

#[test]
fn the_xml_check_catches_broken_markup() {
    for bad in [
        "<svg><text>a</svg>",
        "<svg a=1/>",
        "<svg a=\"1\" a=\"2\"/>",
        "<svg>&nope;</svg>",
        "<svg/><svg/>",
        "<svg><text>a & b</text></svg>",
    ] {
        let caught = std::panic::catch_unwind(|| assert_well_formed(bad)).is_err();
        assert!(caught, "{bad}");
    }
    assert_well_formed("<?xml version=\"1.0\"?><svg a=\"x&amp;y\"><t>1 &lt; 2</t></svg>\n");
}

#[test]
fn a_rerun_removes_only_its_own_stale_charts() {
    let dir = tempfile::tempdir().unwrap();
    let full = sample(false);
    report::write_all(&full, &plan(dir.path(), None)).unwrap();
    std::fs::write(dir.path().join("chart-notes.txt"), "mine").unwrap();
    std::fs::write(dir.path().join("diagram.svg"), "<svg/>").unwrap();
    let mut fewer = full.clone();
    fewer.points.retain(|p| p.route == "chat");
    report::write_all(&fewer, &plan(dir.path(), None)).unwrap();
    assert_eq!(
        names(dir.path()),
        [
            "chart-chat-latency.svg",
            "chart-chat-throughput.svg",
            "chart-notes.txt",
            "diagram.svg",
            "report.md",
            "results.csv",
            "results.json",
        ]
    );
}

/// Every file under `dir`, as text, with its name.
fn contents(dir: &Path) -> Vec<(String, String)> {
    names(dir)
        .into_iter()
        .map(|n| {
            let text = read(dir, &n);
            (n, text)
        })
        .collect()
}

#[test]
fn no_secret_reaches_a_file_even_through_an_error_message() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("secret.toml");
    std::fs::write(
        &path,
        r#"
name = "secret"
[target]
base_url = "http://${env:SECRET_HOST}:9/v1"
model = "m"
headers = { authorization = "Bearer ${env:API_KEY}" }
[run]
runs = 1
requests = 5
[routes.chat]
path = "/chat/completions"
headers = { x-team = "team-${env:TEAM}" }
[matrix]
route = ["chat"]
concurrency = [1]
"#,
    )
    .unwrap();
    let env = |name: &str| match name {
        "SECRET_HOST" => Some("SuperSecret-abc.invalid".to_string()),
        "API_KEY" => Some("sk-live-0123456789".to_string()),
        "TEAM" => Some("blue-falcon".to_string()),
        _ => None,
    };
    let scenario = scenario::load_with_env(&path, &Overrides::default(), &env).unwrap();
    let (target, base_url) = report::shown_target(&scenario.target.base_url);
    // A message built from the resolved (and normalised: lowercased) URL, as a transport
    // error would be.
    let interruption = "cannot set up the HTTP client: cannot resolve `supersecret-abc.invalid` \
                        (header `Bearer sk-live-0123456789`, team blue-falcon)";
    // An error sample naming the secret host, as a resolver's message might.
    let points = scenario::expand(&scenario).unwrap();
    let said = ErrorSample {
        kind: "connect".into(),
        message: "dns error: SuperSecret-abc.invalid: name not known".into(),
        count: 5,
    };
    let runs = vec![RunStats {
        requests: 5,
        error_samples: vec![said],
        ..Default::default()
    }];
    let measured = vec![PointResult::of(&points[0], runs, false, None)];
    let run = RunReport::new(
        &scenario,
        target,
        base_url,
        HostFacts::default(),
        SystemTime::UNIX_EPOCH,
        SystemTime::UNIX_EPOCH,
        Some(interruption.into()),
        measured,
        None,
    )
    .unwrap();
    assert_eq!(
        run.interruption.as_deref(),
        Some("cannot set up the HTTP client: cannot resolve `***` (header `Bearer ***`, team ***)")
    );
    let point = &run.points[0];
    assert_eq!(
        point.aggregate.error_samples[0].message,
        "dns error: ***: name not known"
    );
    assert_eq!(point.runs[0].error_samples, point.aggregate.error_samples);
    assert_eq!(run.base_url, "http://***:9/v1");
    let (dir, _) = write(&run, None);
    for (name, text) in contents(dir.path()) {
        let lower = text.to_lowercase();
        for secret in ["supersecret-abc", "sk-live-0123456789", "blue-falcon"] {
            assert!(!lower.contains(secret), "{secret} in {name}");
        }
    }
}

#[test]
fn the_committed_samples_are_what_this_code_renders() {
    for sample in ["quick", "clients"] {
        let sample_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("reports")
            .join(sample);
        let stored = report::load_results(&sample_dir.join("results.json"))
            .unwrap_or_else(|e| panic!("reports/{sample}/results.json loads: {e}"));
        let out = tempfile::tempdir().unwrap();
        report::write_all(&stored, &plan(out.path(), None)).unwrap();
        assert_eq!(
            names(out.path()),
            names(&sample_dir),
            "reports/{sample}/ holds other files than the code writes; \
             re-render it: cargo run -- report reports/{sample}/results.json"
        );
        for (name, expected) in contents(out.path()) {
            assert!(
                read(&sample_dir, &name) == expected,
                "reports/{sample}/{name} differs from what this code renders; \
                 re-render it: cargo run -- report reports/{sample}/results.json"
            );
        }
    }
}
