//! User templates cannot hang or swamp a run's end: rendering stops with a clear error when a
//! template does more work than a report needs (minijinja fuel) or its output grows past the
//! limit — and the data files are written all the same.

use std::path::Path;

use nitro_scenario::report::{self, OutputPlan, ReportError, RunReport, Templates};

/// The committed sample's results.
fn sample() -> RunReport {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/quick/results.json");
    report::load_results(&path).expect("reports/quick/results.json loads")
}

/// Render the sample with a user `report.md.j2` of `source`; the error, and the files left.
fn render_with(source: &str) -> (ReportError, Vec<String>) {
    let templates = tempfile::tempdir().expect("tempdir");
    std::fs::write(templates.path().join("report.md.j2"), source).expect("write template");
    let out = tempfile::tempdir().expect("tempdir");
    let plan = OutputPlan {
        dir: out.path().to_path_buf(),
        results_file: None,
        templates: Templates::load(templates.path()).expect("templates load"),
    };
    let err = report::write_all(&sample(), &plan).expect_err("the render is stopped");
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .expect("read out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    (err, names)
}

#[test]
fn a_template_that_loops_too_long_runs_out_of_fuel() {
    // Each turn makes a 100 KB string: the fuel (which charges for data made) runs out after
    // some 30,000 of the 10 billion turns, in well under a second.
    let (err, names) = render_with(
        "{% for i in range(100000) %}{% for j in range(100000) %}\
         {% if (\"x\" * 100000) == \"\" %}{% endif %}{% endfor %}{% endfor %}",
    );
    let text = err.to_string();
    assert!(
        text.contains("report.md.j2:1: engine ran out of fuel"),
        "{text}"
    );
    assert!(text.contains("50,000,000 steps"), "{text}");
    assert!(text.contains("`report.md` was not written"), "{text}");
    assert!(names.contains(&"results.json".to_string()), "{names:?}");
    assert!(!names.contains(&"report.md".to_string()), "{names:?}");
}

#[test]
fn a_template_whose_output_grows_too_large_is_stopped() {
    // A megabyte per turn: past 64 MiB long before the fuel runs out.
    let (err, names) = render_with("{% for i in range(1000) %}{{ \"x\" * 1000000 }}{% endfor %}");
    let text = err.to_string();
    assert!(
        text.contains("the report grew past 64 MiB (the limit on template output)"),
        "{text}"
    );
    assert!(!names.contains(&"report.md".to_string()), "{names:?}");
}

#[test]
fn the_built_in_template_renders_a_thousand_points_within_the_limits() {
    // The sample renders, and so does a report with fifty times its points.
    let mut big = sample();
    let points = big.points.clone();
    for _ in 0..49 {
        big.points.extend(points.iter().cloned());
    }
    let out = tempfile::tempdir().expect("tempdir");
    let plan = OutputPlan {
        dir: out.path().to_path_buf(),
        results_file: None,
        templates: Templates::built_in(),
    };
    report::write_all(&big, &plan).expect("the built-in template renders 1,000 points");
}
