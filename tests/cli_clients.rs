//! External clients through the CLI: `run` on scenarios whose `[clients]` are the test
//! clients of tests/fixtures/clients/ against the built-in mock. A good client is measured
//! beside the built-in engine with what it was told checked; a bad one — bad JSON, no
//! results, a non-zero exit, a hang past its timeout, a flood of output, a missing program
//! or interpreter — costs its runs, with the reason in the report, never the run; a client
//! that allocates 64 MiB is reported at 64 MiB or more.

mod cli_support;

use std::path::{Path, PathBuf};

use cli_support::{alive, command, json};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/clients")
        .join(name)
        .display()
        .to_string()
}

/// A scenario against the mock: one chat route with a 64-byte payload `S`, the given
/// `[run]` lines, `[clients]` tables and client axis.
fn scenario(dir: &Path, run: &str, clients: &str, axis: &str) -> PathBuf {
    let text = format!(
        "name = \"c\"\n\
         [target]\nbase_url = \"mock\"\nmodel = \"m1\"\n\
         headers = {{ x-api-key = \"${{env:CLIENT_TEST_KEY}}\" }}\n\
         [run]\n{run}\n\
         [payloads]\nS = {{ fill = \"Hello, world! \", bytes = 64 }}\n\
         [routes.chat]\npath = \"/v1/chat/completions\"\n\
         {clients}\n\
         [matrix]\nroute = [\"chat\"]\npayload = [\"S\"]\nconcurrency = [2]\nclient = {axis}\n"
    );
    let file = dir.join("s.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// `run` the scenario into `dir/out`: its exit code and stderr.
fn run(dir: &Path, file: &Path) -> (Option<i32>, String) {
    let status = command(
        dir,
        &["run", file.to_str().unwrap(), "--out", "out", "--quiet"],
    )
    .env("CLIENT_TEST_KEY", "sk-test-0123456789")
    .status()
    .expect("run nitro-scenario");
    let stderr = std::fs::read_to_string(dir.join("stderr.txt")).unwrap();
    (status.code(), stderr)
}

/// The point `id` of a `results.json`.
fn point<'a>(results: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    results["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no point `{id}`"))
}

/// The `results.csv` row of point `id`, by column name.
fn csv_row(dir: &Path, id: &str) -> std::collections::HashMap<String, String> {
    let text = std::fs::read_to_string(dir.join("out/results.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row = lines
        .find(|l| l.starts_with(&format!("{id},")))
        .unwrap_or_else(|| panic!("no row `{id}`"));
    header
        .iter()
        .map(|h| h.to_string())
        .zip(row.split(',').map(str::to_string))
        .collect()
}

#[test]
fn a_good_client_runs_beside_the_built_in_engine_with_the_points_values() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("seen");
    let clients = format!(
        "[clients.fake]\ncommand = [\"{}\", \"{{ROUTE}}\"]\n\
         env = {{ FAKE_MODE = \"results\", SEEN_FILE = \"{}\" }}\n",
        fixture("fake_client.sh"),
        seen.display()
    );
    let file = scenario(
        dir.path(),
        "runs = 2\nwarmup = \"100ms\"\nduration = \"200ms\"",
        &clients,
        "[\"builtin\", \"fake\"]",
    );
    let (code, stderr) = run(dir.path(), &file);
    assert_eq!(code, Some(0), "{stderr}");

    // What the client was told: the mock's address, the point's values, the exact body.
    let told = std::fs::read_to_string(&seen).unwrap();
    let value = |key: &str| {
        told.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key} in {told}"))
            .to_string()
    };
    assert!(value("BASE").starts_with("http://127.0.0.1:"), "{told}");
    assert_eq!(value("ROUTE"), "/v1/chat/completions");
    assert_eq!(value("args"), "/v1/chat/completions");
    assert_eq!((value("C"), value("T")), ("2".into(), "0.2".into()));
    assert_eq!(value("WARMUP_SECONDS"), "0.1");
    assert_eq!((value("SIZE"), value("MODEL")), ("S".into(), "m1".into()));
    assert_eq!(value("STREAM"), "0");
    let body: serde_json::Value =
        serde_json::from_slice(&std::fs::read(seen.with_extension("payload")).unwrap()).unwrap();
    assert_eq!(body["model"], "m1");
    assert_eq!(body["messages"][0]["content"].as_str().unwrap().len(), 64);
    let headers: serde_json::Value =
        serde_json::from_slice(&std::fs::read(seen.with_extension("headers")).unwrap()).unwrap();
    assert_eq!(headers["x-api-key"], "sk-test-0123456789");
    assert_eq!(headers["content-type"], "application/json");

    let results = json(&dir.path().join("out/results.json"));
    let fake = point(&results, "chat-S-c2-fake");
    assert_eq!(fake["vars"]["client"], "fake");
    assert_eq!(fake["runs"].as_array().unwrap().len(), 2);
    let a = &fake["aggregate"];
    assert_eq!(a["throughput_rps"]["median"], 20.0);
    assert_eq!(a["latency_p95_ms"]["median"], 2.5);
    assert!(a["latency_p90_ms"].is_null(), "not reported, not zero");
    assert!(a["peak_rss_bytes"].as_u64().unwrap() > 0);
    let record = &fake["client"];
    assert_eq!(record["lang"], "fake");
    for r in record["runs"].as_array().unwrap() {
        assert_eq!(r["outcome"]["status"], "completed");
        assert_eq!(r["exit"]["code"], 0);
        assert!(r["resources"]["cpu_secs"].as_f64().unwrap() >= 0.0);
    }
    let builtin = point(&results, "chat-S-c2-builtin");
    assert!(builtin["client"].is_null());
    assert!(builtin["aggregate"]["totals"]["requests"].as_u64().unwrap() > 0);
    let framework = results["framework_results"].as_array().unwrap();
    assert_eq!(
        (&framework[0]["lang"], &framework[1]["lang"]),
        (&"nitro-scenario".into(), &"fake".into())
    );

    let row = csv_row(dir.path(), "chat-S-c2-fake");
    assert_eq!(
        (row["client"].as_str(), row["lang"].as_str()),
        ("fake", "fake")
    );
    assert_eq!(
        (row["requests"].as_str(), row["errors"].as_str()),
        ("20", "2")
    );
    assert_eq!(
        (row["non2xx"].as_str(), row["failed_runs"].as_str()),
        ("2", "0")
    );
    assert_eq!(
        csv_row(dir.path(), "chat-S-c2-builtin")["client"],
        "builtin"
    );

    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("## Clients side by side"), "{md}");
    assert!(md.contains("### `chat` — S, 2 workers"), "{md}");
    assert!(md.contains("| `builtin` | nitro-scenario | "), "{md}");
    assert!(
        md.contains("| `fake` | fake | 20.0 ± 0.0 | 1.50 ± 0.00 | 2.50 ± 0.00 | 3.50 ± 0.00 | 2 |"),
        "{md}"
    );
    let chart = std::fs::read_to_string(dir.path().join("out/chart-chat-throughput.svg")).unwrap();
    assert!(chart.contains(">S fake</text>") && chart.contains(">S builtin</text>"));
    for name in ["report.md", "results.json", "results.csv"] {
        let text = std::fs::read_to_string(dir.path().join("out").join(name)).unwrap();
        assert!(!text.contains("sk-test-0123456789"), "the key in {name}");
    }
}

#[test]
fn bad_clients_cost_their_runs_with_a_reason_never_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("hang.pids");
    let fake = fixture("fake_client.sh");
    let mode = |name: &str, mode: &str, extra: &str| {
        format!(
            "[clients.{name}]\ncommand = [\"{fake}\"]\n\
             env = {{ FAKE_MODE = \"{mode}\", PIDS_FILE = \"{}\" }}\n{extra}",
            pids.display()
        )
    };
    let clients = [
        mode("bad_json", "bad_json", ""),
        mode("silent", "silent", ""),
        mode("exits", "exit", ""),
        mode("hangs", "hang", "timeout = \"1s\"\n"),
        mode("floods", "flood", ""),
        format!(
            "[clients.old]\ncommand = [\"{}\"]\n",
            fixture("missing_interpreter.sh")
        ),
        "[clients.ghost]\ncommand = [\"nitro-no-such-client\"]\n".to_string(),
    ]
    .join("");
    let axis = "[\"bad_json\", \"silent\", \"exits\", \"hangs\", \"floods\", \"old\", \"ghost\"]";
    let file = scenario(dir.path(), "runs = 1\nduration = \"200ms\"", &clients, axis);
    let (code, stderr) = run(dir.path(), &file);
    assert_eq!(code, Some(0), "failed clients are data: {stderr}");
    assert!(
        stderr.contains("client `ghost` skipped: `nitro-no-such-client` not found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("client `exits` run 1/1 failed: the client exited with code 3"),
        "{stderr}"
    );

    // The hung client and the child it started were stopped.
    let pid_text = std::fs::read_to_string(&pids).unwrap();
    for pid in pid_text.split_whitespace() {
        assert!(!alive(pid.parse().unwrap()), "pid {pid} still runs");
    }

    let results = json(&dir.path().join("out/results.json"));
    let status = |client: &str| {
        let p = point(&results, &format!("chat-S-c2-{client}"));
        p["client"]["runs"][0]["outcome"].clone()
    };
    let reason = |client: &str| status(client)["reason"].as_str().unwrap_or("").to_string();
    assert!(
        reason("bad_json").contains("/results.json:1:16: not JSON"),
        "{}",
        reason("bad_json")
    );
    assert!(reason("silent").starts_with("no results: `RESULTS_FILE` was not written"));
    assert_eq!(reason("exits"), "the client exited with code 3");
    assert_eq!(status("hangs")["status"], "timed_out");
    assert_eq!(status("hangs")["limit_secs"], 1.2);
    assert_eq!(status("floods")["status"], "completed");
    assert!(reason("old").contains("interpreter"), "{}", reason("old"));
    assert_eq!(status("ghost")["status"], "skipped");
    let floods = &point(&results, "chat-S-c2-floods")["client"]["runs"][0];
    assert!(floods["stdout_bytes"].as_u64().unwrap() >= 64 << 20);
    assert!(
        floods["stderr_tail"].as_str().unwrap().len() <= 4096,
        "capped in results.json"
    );
    for client in ["bad_json", "silent", "exits", "hangs", "old", "ghost"] {
        let p = point(&results, &format!("chat-S-c2-{client}"));
        assert_eq!(
            p["runs"].as_array().unwrap().len(),
            0,
            "{client}: no figures"
        );
        assert!(
            p["aggregate"]["throughput_rps"].is_null(),
            "{client}: no zero"
        );
    }

    let row = |client: &str| csv_row(dir.path(), &format!("chat-S-c2-{client}"));
    assert_eq!(row("hangs")["failed_runs"], "1", "killed, counted");
    assert_eq!(row("exits")["failed_runs"], "1");
    assert_eq!(
        (
            row("ghost")["failed_runs"].as_str(),
            row("ghost")["skipped"].as_str()
        ),
        ("0", "true")
    );
    assert_eq!(row("floods")["failed_runs"], "0");

    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("### Client notes"), "{md}");
    assert!(
        md.contains(
            "**`exits`, point `chat-S-c2-exits`, run 1: failed.** the client exited with code 3"
        ),
        "{md}"
    );
    assert!(
        md.contains("The end of its stderr:\n\n```\nboom: no config\n```"),
        "{md}"
    );
    assert!(md.contains("**`hangs`, point `chat-S-c2-hangs`, run 1: timed out.** still running at its time limit of 1.2 s"), "{md}");
    assert!(
        md.contains("**`ghost`: skipped.** `nitro-no-such-client` not found (1 point)"),
        "{md}"
    );
    assert!(
        md.contains("| `hangs` | hangs | - | - | - | - | 0 | - | - | - | 0 (1 failed) |"),
        "{md}"
    );
    assert!(
        md.contains("| `ghost` | ghost | - | - | - | - | 0 | - | - | - | skipped |"),
        "{md}"
    );
}

#[test]
fn a_client_that_allocates_64_mib_is_reported_at_64_mib_or_more() {
    let dir = tempfile::tempdir().unwrap();
    let clients = format!(
        "[clients.alloc]\ncommand = [\"python3\", \"{}\"]\n",
        fixture("alloc_64mb.py")
    );
    let file = scenario(dir.path(), "duration = \"100ms\"", &clients, "[\"alloc\"]");
    let (code, stderr) = run(dir.path(), &file);
    assert_eq!(code, Some(0), "{stderr}");
    let results = json(&dir.path().join("out/results.json"));
    let p = point(&results, "chat-S-c2-alloc");
    if p["client"]["runs"][0]["outcome"]["status"] == "skipped" {
        eprintln!("note: python3 is not installed; the memory check was skipped");
        return;
    }
    let peak = p["aggregate"]["peak_rss_bytes"].as_u64().unwrap();
    assert!(
        peak >= 64 << 20,
        "peak RSS {peak} below the 64 MiB allocated"
    );
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("| `alloc` | alloc | "), "{md}");
}

#[test]
fn a_missing_interpreter_skips_its_client_with_a_note_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let clients = format!(
        "[clients.old]\ncommand = [\"{}\"]\n",
        fixture("missing_interpreter.sh")
    );
    let file = scenario(
        dir.path(),
        "runs = 3\nduration = \"100ms\"",
        &clients,
        "[\"builtin\", \"old\"]",
    );
    let (code, stderr) = run(dir.path(), &file);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("client `old` skipped: ").count(),
        1,
        "{stderr}"
    );
    let results = json(&dir.path().join("out/results.json"));
    let old = point(&results, "chat-S-c2-old");
    assert_eq!(
        old["client"]["runs"].as_array().unwrap().len(),
        1,
        "not tried again"
    );
    assert!(!old["partial"].as_bool().unwrap(), "a skip is not a stop");
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(
        md.contains("**`old`: skipped.** the interpreter named on the first line of `"),
        "{md}"
    );
    assert!(
        md.contains("| `old` | old | - | - | - | - | 0 | - | - | - | skipped |"),
        "{md}"
    );
}
