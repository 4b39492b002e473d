//! `validate` and `plan` through the binary: output, exit codes and located messages.

use assert_cmd::Command;
use predicates::prelude::*;

/// The binary, with none of the framework's variables inherited from the test's environment.
fn bin() -> Command {
    let mut cmd = Command::cargo_bin("nitro-scenario").expect("binary builds");
    for var in nitro_scenario::scenario::ENV_VARS {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn plan_of_full_lists_sixty_points_and_the_estimate() {
    let out = bin()
        .args(["plan", "scenarios/full.toml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("60 points x 5 run(s); estimated wall time 7h30m"),
        "{text}"
    );
    let point_rows = text
        .lines()
        .filter(|l| l.contains(" POST /v1/chat/completions"))
        .count();
    assert_eq!(point_rows, 60);
    assert!(text.contains("chat-S-c32"));
}

#[test]
fn plan_shows_overrides() {
    bin()
        .args([
            "plan",
            "scenarios/full.toml",
            "--set",
            "matrix.concurrency=[32]",
        ])
        .env("SIZE", "M")
        .assert()
        .success()
        .stdout(predicate::str::contains("5 points x 5 run(s)"))
        .stdout(predicate::str::contains("stream-M-c32"));
}

#[test]
fn a_misspelt_key_in_a_copy_of_full_exits_2_with_location_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("full.toml");
    let text = std::fs::read_to_string("scenarios/full.toml")
        .unwrap()
        .replace("duration = \"60s\"", "duraton = \"60s\"");
    std::fs::write(&copy, &text).unwrap();
    let line = text.lines().position(|l| l.starts_with("duraton")).unwrap() + 1;
    bin()
        .arg("plan")
        .arg(&copy)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "full.toml:{line}:1: run.duraton: `duraton` is not a key of [run]; did you mean `duration`?"
        )));
}

#[test]
fn validate_reports_every_file_and_exits_2_on_any_problem() {
    bin()
        .args(["validate", "scenarios/quick.toml", "scenarios/stream.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "scenarios/quick.toml: ok (20 points)",
        ));
    bin()
        .args([
            "validate",
            "scenarios/quick.toml",
            "tests/fixtures/invalid/wrong_types.toml",
            "nope.toml",
        ])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("quick.toml: ok"))
        .stderr(predicate::str::contains(
            "wrong_types.toml:3:11: target.timeout",
        ))
        .stderr(predicate::str::contains("nope.toml: cannot read the file"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn plan_of_a_small_scenario_matches_its_snapshot() {
    // `UPDATE_FIXTURES=1 cargo test --test cli_validate_plan` rewrites small.plan.
    let out = bin()
        .args([
            "plan",
            "tests/fixtures/plan/small.toml",
            "--set",
            "matrix.concurrency=[4]",
            "--set",
            "target.headers.authorization=Bearer sk-secret",
        ])
        .env("SIZE", "M")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("sk-secret") && !text.contains("user:secret"));
    let expected_path = "tests/fixtures/plan/small.plan";
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(expected_path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(expected_path).expect("small.plan");
    assert_eq!(text, expected);
}

#[test]
fn plans_show_each_points_load_model_and_time() {
    // `UPDATE_FIXTURES=1 cargo test --test cli_validate_plan` rewrites the `.plan` files.
    for name in ["open", "stages", "search", "clients"] {
        let file = format!("tests/fixtures/plan/{name}.toml");
        let out = bin().args(["plan", &file]).assert().success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        let expected_path = format!("tests/fixtures/plan/{name}.plan");
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::write(&expected_path, &text).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path).expect("a .plan file");
        assert_eq!(text, expected, "{name}");
    }
}

#[test]
fn plan_and_validate_print_problems_alike() {
    let file = "tests/fixtures/invalid/mock_every_problem.toml";
    let stderr = |command: &str| {
        let out = bin()
            .args([command, file])
            .assert()
            .code(2)
            .get_output()
            .clone();
        String::from_utf8(out.stderr).unwrap()
    };
    let plan = stderr("plan");
    assert_eq!(plan, stderr("validate"));
    let expected =
        std::fs::read_to_string("tests/fixtures/invalid/mock_every_problem.err").unwrap();
    let prefixed: String = expected.lines().map(|l| format!("error: {l}\n")).collect();
    assert_eq!(plan, prefixed);
}

#[test]
fn conflicting_framework_variables_stop_the_plan() {
    bin()
        .args(["plan", "scenarios/quick.toml"])
        .env("T", "5")
        .env("BENCHMARK_SECONDS", "7")
        .assert()
        .code(2)
        .stderr(
            "error: scenarios/quick.toml: run.duration: disagrees with `T=5`; unset one or give \
             both the same value (from `BENCHMARK_SECONDS=7`)\n",
        );
}

#[cfg(unix)]
#[test]
fn validate_refuses_devices_and_fifos_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("scenario.toml");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c_path` is a valid NUL-terminated path for the duration of the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    bin()
        .arg("validate")
        .arg("/dev/zero")
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: /dev/zero: cannot read the file: it is a character device, not a regular file",
        ))
        .stderr(predicate::str::contains(
            "scenario.toml: cannot read the file: it is a FIFO (named pipe), not a regular file",
        ));
}

#[test]
fn validate_warns_of_a_literal_credential_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        "[target]\nbase_url = \"mock\"\nheaders = { x-api-key = \"sk-literal\" }\n\
         [routes.chat]\npath = \"/v1/chat/completions\"\n\
         [matrix]\nroute = [\"chat\"]\nconcurrency = [1]\n",
    )
    .unwrap();
    let out = bin()
        .arg("validate")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("s.toml: ok (1 points)"))
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "warning: {}:3:25: target.headers.x-api-key: `x-api-key` holds a literal credential \
             (shown as `***`); keep it out of the file: write `${{env:NAME}}` in the value and \
             export `NAME`\n",
            file.display()
        )
    );
    assert!(!stderr.contains("sk-literal"));
}
