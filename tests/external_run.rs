//! One run of an external client, end to end with real processes: a stand-in client
//! (tests/fixtures/clients/fake_client.sh) behaving well and badly in every way the runner
//! must survive — figures from the results file or stdout, bad and missing figures, a failed
//! exit, a hang past the limit, a stop, leftovers, a flood of output, a known allocation,
//! and a program that is not installed. No wall-clock assertions: only outcomes, counts,
//! bytes and process states.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nitro_scenario::external::{
    ClientPoint, ClientSpec, ExternalRun, FiguresSource, Outcome, TAIL_BYTES, run_client,
};
use nitro_scenario::stop::Stop;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients")
}

fn fake(mode: &str) -> ClientSpec {
    let mut spec = ClientSpec::new(
        "fake",
        vec!["sh".into(), "fake_client.sh".into()],
        fixtures(),
    );
    spec.env.insert("FAKE_MODE".into(), mode.into());
    spec
}

fn point() -> ClientPoint {
    ClientPoint {
        base: "http://127.0.0.1:9/".into(),
        route: "/v1/chat/completions".into(),
        concurrency: 4,
        warmup: Duration::ZERO,
        measure: Duration::ZERO,
        payload_name: "S".into(),
        payload: br#"{"model":"m1","messages":[]}"#.to_vec(),
        model: Some("m1".into()),
        stream: false,
        headers: BTreeMap::from([("authorization".into(), "Bearer s3cret".into())]),
    }
}

async fn run_once(spec: &ClientSpec) -> ExternalRun {
    run_client(spec, &point(), &Stop::new()).await
}

fn reason(run: &ExternalRun) -> &str {
    run.failure()
        .unwrap_or_else(|| panic!("not failed: {:?}", run.outcome))
}

/// The pids a fixture wrote to `file`.
fn pids(file: &Path) -> Vec<i32> {
    let text = std::fs::read_to_string(file).expect("the fixture wrote its pids");
    text.split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

/// Gone, or a zombie waiting for an init that may never reap it: nothing runs.
fn not_running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            let state = stat[stat.rfind(')').unwrap() + 1..]
                .trim_start()
                .chars()
                .next();
            state == Some('Z')
        }
    }
}

#[tokio::test]
async fn a_good_client_reports_through_the_results_file_and_gets_the_protocol() {
    let seen = tempfile::tempdir().unwrap();
    let seen_file = seen.path().join("seen");
    let mut spec = fake("results");
    spec.command.extend(["{ROUTE}".into(), "c={C}".into()]);
    spec.env
        .insert("SEEN_FILE".into(), seen_file.display().to_string());
    spec.env.insert("EXTRA".into(), "{BASE}{ROUTE}".into());
    let run = run_once(&spec).await;

    let Outcome::Completed { figures, source } = &run.outcome else {
        panic!("{run:?}");
    };
    assert_eq!(*source, FiguresSource::ResultsFile);
    assert_eq!(
        (figures.lang.as_str(), figures.concurrency, figures.reqs),
        ("fake", 4, 10)
    );
    assert_eq!(figures.latency_ms.p95, Some(2.5));
    assert_eq!(figures.errors.total, 1);
    assert_eq!(figures.sse_bytes_per_sec, None, "not reported, not zero");
    assert_eq!(run.lang, "fake");
    assert_eq!(run.exit.map(|e| e.code), Some(Some(0)));
    let resources = run.resources.expect("measured");
    assert!(resources.peak_rss_bytes > 0);
    assert!(!run.stopped_leftovers);

    let seen_text = std::fs::read_to_string(&seen_file).unwrap();
    let value = |key: &str| {
        seen_text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {seen_text}"))
            .to_string()
    };
    assert_eq!(value("args"), "/v1/chat/completions c=4");
    assert_eq!(value("BASE"), "http://127.0.0.1:9");
    assert_eq!(value("MOCKOON_BASE"), "http://127.0.0.1:9");
    assert_eq!(value("EXTRA"), "http://127.0.0.1:9/v1/chat/completions");
    assert_eq!(
        (value("C"), value("T"), value("WARMUP_SECONDS")),
        ("4".into(), "0".into(), "0".into())
    );
    assert_eq!(
        (value("SIZE"), value("STREAM"), value("MODEL")),
        ("S".into(), "0".into(), "m1".into())
    );
    assert_eq!(value("modes"), "600 600 700");
    assert_eq!(PathBuf::from(value("cwd")), fixtures());
    let payload = std::fs::read(seen_file.with_extension("payload")).unwrap();
    assert_eq!(payload, point().payload);
    let headers = std::fs::read_to_string(seen_file.with_extension("headers")).unwrap();
    assert_eq!(headers, r#"{"authorization":"Bearer s3cret"}"#);
    for file in ["payload_file", "headers_file", "results_file"] {
        assert!(
            !Path::new(&value(file)).exists(),
            "{file} removed after the run"
        );
    }
}

#[tokio::test]
async fn without_a_results_file_the_last_json_object_on_stdout_counts() {
    let run = run_once(&fake("stdout")).await;
    let Outcome::Completed { figures, source } = &run.outcome else {
        panic!("{run:?}");
    };
    assert_eq!(*source, FiguresSource::Stdout);
    assert_eq!(figures.reqs, 10);
}

#[tokio::test]
async fn bad_figures_fail_the_run_naming_the_file_or_stdout_and_the_field() {
    let run_bad_json = run_once(&fake("bad_json")).await;
    let text = reason(&run_bad_json);
    assert!(
        text.ends_with("/results.json:1:16: not JSON: EOF while parsing a value"),
        "{text}"
    );

    let bad_field = run_once(&fake("bad_field")).await;
    assert_eq!(
        reason(&bad_field),
        "stdout: `reqs`: expected a non-negative integer, found `-1`"
    );

    let silent = run_once(&fake("silent")).await;
    assert_eq!(
        reason(&silent),
        "no results: `RESULTS_FILE` was not written and stdout holds no JSON object (it ended: `nothing to report`)"
    );
}

#[tokio::test]
async fn a_non_zero_exit_fails_with_the_code_and_keeps_stderr() {
    let run = run_once(&fake("exit")).await;
    assert_eq!(reason(&run), "the client exited with code 3");
    assert_eq!(run.stderr_tail, "boom: no config\n");
    assert_eq!(run.exit.and_then(|e| e.code), Some(3));
}

#[tokio::test]
async fn a_client_past_its_limit_is_killed_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pids_file = dir.path().join("pids");
    let mut spec = fake("hang");
    spec.env
        .insert("PIDS_FILE".into(), pids_file.display().to_string());
    spec.timeout = Duration::from_secs(1);
    let run = run_once(&spec).await;
    assert_eq!(run.outcome, Outcome::TimedOut { limit_secs: 1.0 });
    assert_eq!(run.exit.and_then(|e| e.signal), Some(libc::SIGTERM));
    let pids = pids(&pids_file);
    assert_eq!(pids.len(), 2);
    for pid in pids {
        assert!(not_running(pid), "{pid} still runs");
    }
}

#[tokio::test]
async fn a_stop_kills_even_a_client_deaf_to_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let pids_file = dir.path().join("pids");
    let mut spec = fake("hang");
    spec.env
        .insert("PIDS_FILE".into(), pids_file.display().to_string());
    spec.env.insert("IGNORE_TERM".into(), "1".into());
    let stop = Stop::new();
    let raiser = {
        let (stop, pids_file) = (stop.clone(), pids_file.clone());
        tokio::spawn(async move {
            // Stop once the client is up, so that its pids are known.
            for _ in 0..1000 {
                if pids_file.exists() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            stop.request();
        })
    };
    let run = run_client(&spec, &point(), &stop).await;
    raiser.await.unwrap();
    assert_eq!(run.outcome, Outcome::Stopped);
    assert_eq!(run.exit.and_then(|e| e.signal), Some(libc::SIGKILL));
    for pid in pids(&pids_file) {
        assert!(not_running(pid), "{pid} still runs");
    }
}

#[tokio::test]
async fn a_stop_raised_before_the_run_starts_nothing() {
    let stop = Stop::new();
    stop.request();
    let run = run_client(&fake("results"), &point(), &stop).await;
    assert_eq!(run.outcome, Outcome::Stopped);
    assert_eq!((run.exit, run.resources), (None, None));
}

#[tokio::test]
async fn processes_left_behind_by_a_client_that_exited_are_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let pids_file = dir.path().join("pids");
    let mut spec = fake("leftover");
    spec.env
        .insert("PIDS_FILE".into(), pids_file.display().to_string());
    let run = run_once(&spec).await;
    assert!(run.figures().is_some(), "{run:?}");
    assert!(run.stopped_leftovers);
    for pid in pids(&pids_file) {
        assert!(not_running(pid), "{pid} still runs");
    }
}

/// Held by the tests whose parent spends or measures much CPU, so that they do not overlap:
/// `parent_cpu_secs` counts this whole test process.
static CPU_HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// User + system CPU of this test process so far, seconds.
fn own_cpu_secs() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

#[tokio::test]
async fn a_client_burning_cpu_is_charged_for_it_and_the_parent_is_not() {
    let _alone = CPU_HEAVY.lock().await;
    // 40 ticks: 0.4 s at the usual 100 Hz.
    let ticks: u32 = 40;
    // SAFETY: sysconf reads a constant of the system.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let burnt = f64::from(ticks) / per_sec;
    let mut spec = fake("burn");
    spec.env.insert("BURN_TICKS".into(), ticks.to_string());
    let before = own_cpu_secs();
    let run = run_once(&spec).await;
    let parent_at_most = own_cpu_secs() - before;
    assert!(run.figures().is_some(), "{run:?}");
    let r = run.resources.expect("measured");
    assert!(r.cpu_secs >= burnt, "{} < {burnt}", r.cpu_secs);
    assert!(
        (r.cpu_secs - (r.user_cpu_secs + r.system_cpu_secs)).abs() < 1e-9,
        "{r:?}"
    );
    // The parent waited and sampled: some CPU, within what this process spent meanwhile, and
    // far less than the client's.
    assert!(run.parent_cpu_secs > 0.0);
    assert!(
        run.parent_cpu_secs <= parent_at_most,
        "{} > {parent_at_most}",
        run.parent_cpu_secs
    );
    assert!(
        run.parent_cpu_secs < r.cpu_secs / 2.0,
        "parent {} s, client {} s",
        run.parent_cpu_secs,
        r.cpu_secs
    );
}

#[tokio::test]
async fn a_flood_of_output_is_drained_and_only_its_tail_kept() {
    let _alone = CPU_HEAVY.lock().await;
    let run = run_once(&fake("flood")).await;
    let figures = run.figures().unwrap_or_else(|| panic!("{run:?}"));
    assert_eq!(figures.reqs, 10);
    assert!(run.stdout_bytes > 64 << 20, "{}", run.stdout_bytes);
    assert_eq!(run.stderr_bytes, 16 << 20);
    assert_eq!(run.stderr_tail.len(), TAIL_BYTES);
}

#[tokio::test]
async fn a_64_mib_allocation_shows_in_the_peak_rss() {
    let spec = ClientSpec::new(
        "alloc",
        vec!["python3".into(), "alloc_64mb.py".into()],
        fixtures(),
    );
    let run = run_once(&spec).await;
    assert!(run.figures().is_some(), "{run:?}");
    let r = run.resources.unwrap();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    assert!(
        r.peak_rss_bytes >= 64 << 20,
        "peak {:.1} MiB",
        mib(r.peak_rss_bytes)
    );
    // Python itself takes some 10-20 MiB; far more would be counting something else.
    assert!(
        r.peak_rss_bytes < 128 << 20,
        "peak {:.1} MiB",
        mib(r.peak_rss_bytes)
    );
    assert!(r.rss_samples > 0);
}

#[tokio::test]
async fn a_missing_program_or_interpreter_is_skipped_not_failed() {
    let spec = ClientSpec::new("ghost", vec!["nitro-no-such-client".into()], fixtures());
    let run = run_once(&spec).await;
    assert_eq!(
        run.outcome,
        Outcome::Skipped {
            reason: "`nitro-no-such-client` not found".into()
        }
    );
    assert_eq!((run.exit, run.resources), (None, None));

    let spec = ClientSpec::new("old", vec!["./missing_interpreter.sh".into()], fixtures());
    let run = run_once(&spec).await;
    let Outcome::Skipped { reason } = &run.outcome else {
        panic!("{run:?}");
    };
    assert!(
        reason.starts_with("the interpreter named on the first line of `"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_missing_working_directory_fails_before_starting() {
    let mut spec = fake("results");
    spec.cwd = Some("no-such-dir".into());
    let run = run_once(&spec).await;
    assert!(
        reason(&run).starts_with("working directory `")
            && reason(&run).ends_with("no-such-dir` does not exist"),
        "{}",
        reason(&run)
    );
}
