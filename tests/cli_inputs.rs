//! The files `report` and `compare` read are bounded like the files a scenario names: a
//! `results.json` or a template must be a regular file — a FIFO or `/dev/zero` is refused
//! before it is read, never waited on or read without end — and is read up to a cap
//! (`MAX_RESULTS_BYTES`, `MAX_TEMPLATE_BYTES`).

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use nitro_scenario::report::{self, MAX_RESULTS_BYTES, Templates};
use predicates::prelude::*;

/// The committed sample's results.
const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/reports/quick/results.json");

/// The binary in `dir`; a hang fails the test instead of stalling it.
fn nitro(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("nitro-scenario").expect("binary");
    cmd.current_dir(dir).timeout(Duration::from_secs(30));
    cmd
}

/// A FIFO at `path`, with no writer: opening it for reading would block.
fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.to_str().expect("utf-8 path")).expect("no NUL");
    // SAFETY: `c_path` is a valid NUL-terminated path for the duration of the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
}

#[test]
fn report_and_compare_refuse_devices_and_fifos() {
    let tmp = tempfile::tempdir().expect("tempdir");
    mkfifo(&tmp.path().join("fifo.json"));
    let device = "error: cannot read `/dev/zero`: it is a character device, not a regular file";
    nitro(tmp.path())
        .args(["report", "/dev/zero", "--out", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(device));
    nitro(tmp.path())
        .args(["report", "fifo.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: cannot read `fifo.json`: it is a FIFO (named pipe), not a regular file",
        ));
    nitro(tmp.path())
        .args(["compare", "/dev/zero", SAMPLE])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(device));
    nitro(tmp.path())
        .args(["compare", SAMPLE, "fifo.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`fifo.json`: it is a FIFO"));
    assert!(!tmp.path().join("x").exists(), "nothing was written");
}

#[test]
fn a_results_file_past_the_cap_is_refused_unread() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let big = tmp.path().join("results.json");
    // Sparse: no disk is used, and reading stops one byte past the cap.
    let file = std::fs::File::create(&big).expect("create");
    file.set_len(MAX_RESULTS_BYTES + 1).expect("set_len");
    let err = report::load_results(&big)
        .expect_err("too large")
        .to_string();
    assert!(
        err.ends_with("it is larger than the limit of 256MiB for a results file"),
        "{err}"
    );
}

#[test]
fn a_fifo_template_is_named_as_such_not_as_missing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tpl = tmp.path().join("tpl");
    std::fs::create_dir(&tpl).expect("mkdir");
    mkfifo(&tpl.join("report.md.j2"));
    nitro(tmp.path())
        .args(["report", SAMPLE, "--out", "x", "--templates", "tpl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: cannot read `tpl/report.md.j2`: it is a FIFO (named pipe), not a regular file",
        ))
        .stderr(predicate::str::contains("has no").not());
    std::fs::remove_file(tpl.join("report.md.j2")).expect("rm");
    std::fs::write(tpl.join("report.md.j2"), "x").expect("write");
    mkfifo(&tpl.join("compare.md.j2"));
    nitro(tmp.path())
        .args(["compare", SAMPLE, SAMPLE, "--templates", "tpl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: cannot read `tpl/compare.md.j2`: it is a FIFO (named pipe)",
        ));
}

#[test]
fn templates_past_their_caps_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // One byte past 4 MiB; read up to the cap and no further.
    let big = "x".repeat((4 << 20) + 1);
    std::fs::write(tmp.path().join("report.md.j2"), &big).expect("write");
    let err = Templates::load(tmp.path())
        .expect_err("too large")
        .to_string();
    assert!(
        err.ends_with("report.md.j2`: it is larger than the limit of 4MiB for a template"),
        "{err}"
    );
    // Five files of 4 MiB are each within the cap, but not together (16 MiB).
    std::fs::write(tmp.path().join("report.md.j2"), "x").expect("write");
    let part = "x".repeat(4 << 20);
    for i in 0..5 {
        std::fs::write(tmp.path().join(format!("part{i}.j2")), &part).expect("write");
    }
    let err = Templates::load(tmp.path())
        .expect_err("too large")
        .to_string();
    assert!(
        err.ends_with("its templates hold more than the limit of 16MiB together"),
        "{err}"
    );
}

#[test]
fn user_text_reaches_the_terminal_escaped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(SAMPLE).expect("sample")).expect("json");
    results["host"]["cpu_model"] = "evil\u{1b}[2J\u{7}".into();
    std::fs::write(tmp.path().join("new.json"), results.to_string()).expect("write");
    let compared = nitro(tmp.path())
        .args(["compare", SAMPLE, "new.json"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&compared.get_output().stderr).into_owned();
    assert!(stderr.contains("`evil\\u{1b}[2J\\u{7}`"), "{stderr}");
    let missing = nitro(tmp.path())
        .args(["report", "gone\u{1b}[31m.json"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&missing.get_output().stderr).into_owned();
    assert!(stderr.contains("`gone\\u{1b}[31m.json`"), "{stderr}");
    for raw in [&compared, &missing] {
        let bytes = &raw.get_output().stderr;
        assert!(
            !bytes.contains(&0x1b) && !bytes.contains(&0x07),
            "raw control bytes"
        );
    }
}
