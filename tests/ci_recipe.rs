//! The GitHub Actions recipe (`docs/ci/github-actions.yml`) parses as YAML, runs a scenario of
//! this repository and compares it with the committed baseline, posts the Markdown and fails
//! on tolerances; its compare step's shell script, run here on fixture results, records the
//! exit code the later steps read.

mod judge_support;
mod report_support;

use std::path::Path;
use std::process::{Command, Stdio};

use yaml_rust2::{Yaml, YamlLoader};

const RECIPE: &str = "docs/ci/github-actions.yml";

fn recipe() -> Yaml {
    let text = std::fs::read_to_string(RECIPE).expect("the recipe exists");
    let mut docs = YamlLoader::load_from_str(&text).expect("the recipe is YAML");
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

fn text<'a>(y: &'a Yaml, what: &str) -> &'a str {
    y.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {y:?}"))
}

/// The steps of the recipe's one job.
fn steps(doc: &Yaml) -> Vec<Yaml> {
    let jobs = doc["jobs"].as_hash().expect("jobs");
    assert_eq!(jobs.len(), 1);
    let job = jobs.values().next().expect("a job");
    job["steps"].as_vec().expect("steps").clone()
}

/// The index and step whose `run` contains `needle`.
fn step_running(steps: &[Yaml], needle: &str) -> (usize, Yaml) {
    steps
        .iter()
        .enumerate()
        .find(|(_, s)| s["run"].as_str().is_some_and(|r| r.contains(needle)))
        .map(|(i, s)| (i, s.clone()))
        .unwrap_or_else(|| panic!("no step runs `{needle}`"))
}

#[test]
fn the_recipe_runs_compares_comments_and_fails_on_tolerances() {
    let doc = recipe();
    // `on` may read as a boolean in YAML 1.1 parsers; yaml-rust2 reads YAML 1.2.
    assert!(
        !doc["on"]["pull_request"].is_badvalue(),
        "runs on pull requests"
    );
    assert_eq!(doc["permissions"]["pull-requests"].as_str(), Some("write"));
    let job = doc["jobs"]
        .as_hash()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    let env = |key: &str| text(&job["env"][key], key).to_string();
    // The scenario and its committed reports exist in this repository.
    assert!(Path::new(&env("SCENARIO")).is_file(), "{}", env("SCENARIO"));
    assert!(Path::new(&env("BASELINE")).join("results.json").is_file());
    // The tolerances parse.
    let fail_on: Vec<String> = env("FAIL_ON").split(',').map(String::from).collect();
    nitro_scenario::judge::parse_tolerances(&fail_on).expect("FAIL_ON parses");

    let steps = steps(&doc);
    let (run_at, _) = step_running(&steps, "nitro-scenario run \"$SCENARIO\" --out pr-reports");
    let (compare_at, compare) = step_running(
        &steps,
        "nitro-scenario compare baseline pr-reports --fail-on \"$FAIL_ON\"",
    );
    let (comment_at, comment) = step_running(&steps, "gh pr comment");
    let (fail_at, fail) = step_running(&steps, "exit 3");
    assert!(run_at < compare_at && compare_at < comment_at && comment_at < fail_at);
    assert_eq!(compare["id"].as_str(), Some("compare"));
    assert!(text(&comment["run"], "comment").contains("--body-file comparison.md"));
    assert!(text(&fail["if"], "if").contains("steps.compare.outputs.code == '3'"));
    let (_, baseline) = step_running(&steps, "git show");
    assert!(text(&baseline["run"], "run").contains("$BASELINE/results.json"));
}

/// Run `script` as GitHub Actions runs a step (`bash -e`) in `dir`, with nitro-scenario on the
/// PATH; returns what it wrote to `$GITHUB_OUTPUT` and its exit status.
fn run_step(script: &str, dir: &Path, fail_on: &str) -> (String, i32) {
    let bin = Path::new(env!("CARGO_BIN_EXE_nitro-scenario"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = dir.join("github_output");
    let status = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("FAIL_ON", fail_on)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
        .stderr(Stdio::null())
        .status()
        .expect("bash runs");
    let written = std::fs::read_to_string(&output).unwrap_or_default();
    (written, status.code().unwrap_or(-1))
}

#[test]
fn the_compare_step_records_the_exit_code_and_posts_in_both_cases() {
    let doc = recipe();
    let (_, compare) = step_running(&steps(&doc), "nitro-scenario compare");
    let script = text(&compare["run"], "run");
    let tmp = tempfile::tempdir().unwrap();
    let (base, new) = judge_support::regression();
    let base_dir = judge_support::store(tmp.path(), "baseline", &base);
    judge_support::store(tmp.path(), "pr-reports", &new);
    assert!(base_dir.join("results.json").is_file());

    let (out, status) = run_step(script, tmp.path(), "latency_p99=+50%");
    assert_eq!((out.as_str(), status), ("code=0\n", 0));
    let (out, status) = run_step(script, tmp.path(), "latency_p99=+10%");
    assert_eq!(
        (out.as_str(), status),
        ("code=0\ncode=3\n", 0),
        "3 still succeeds"
    );
    let md = std::fs::read_to_string(tmp.path().join("comparison.md")).unwrap();
    assert!(md.starts_with("## Comparison: `sample`"), "{md}");
    let summary = std::fs::read_to_string(tmp.path().join("summary")).unwrap();
    assert!(summary.contains("past tolerance"), "{summary}");
    // An error (a bad tolerance) fails the step itself.
    let (_, status) = run_step(script, tmp.path(), "p99=+10%");
    assert_ne!(status, 0);
}

#[test]
fn the_readme_links_the_recipe() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    assert!(
        readme.contains(&format!("]({RECIPE})")),
        "README links {RECIPE}"
    );
}
