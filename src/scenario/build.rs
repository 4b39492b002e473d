//! Turning a parsed document into the typed `Scenario`: the top level, `[run]` and
//! `[output]`. `[target]` is in `build_target`, `[payloads]` in `build_payloads`, `[routes]` in
//! `build_routes`, `[matrix]` in `build_matrix`, `[mock]` in `build_mock`, `[clients]` in
//! `build_clients`, `[thresholds]` in `build_thresholds`. Every problem is recorded and reading
//! goes on.

use std::num::{NonZeroU32, NonZeroU64};
use std::path::Path;
use std::time::Duration;

use super::build_axes::axis_names;
use super::build_matrix::{self, Declared};
use super::build_target::{self, EnvLookup};
use super::diagnostics::{Diagnostics, unsafe_char};
use super::read::Table;
use super::{
    ArrivalSettings, OutputSettings, PhaseLimit, RetryPolicy, RunSettings, Scenario, Written,
    build_clients, build_load, build_mock, build_payloads, build_routes, build_scopes, build_slo,
    build_thresholds, files, names,
};

/// The keys of a scenario file's top level.
pub(crate) const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "target",
    "run",
    "payloads",
    "routes",
    "matrix",
    "mock",
    "output",
    "clients",
    "thresholds",
    "slo",
    "search",
];

/// Build the scenario, which was `written` so; `None` when any problem was recorded.
pub(crate) fn scenario(
    d: &mut Diagnostics<'_>,
    root: &Table<'_, '_>,
    file: &Path,
    env: EnvLookup<'_>,
    written: Written,
) -> Option<Scenario> {
    root.check_keys(d, TOP_KEYS);
    let base_dir = file.parent().unwrap_or(Path::new("."));
    let name = match root.get("name") {
        None => file
            .file_stem()
            .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned()),
        Some(v) => {
            let name = root.string(d, "name");
            if let Some(Err(e)) = name.as_deref().map(names::check_scenario_name) {
                d.error(v.span(), "name", e);
            }
            name.unwrap_or_default()
        }
    };
    let description = root.string(d, "description");
    if let (Some(text), Some(v)) = (&description, root.get("description")) {
        if let Some(c) = unsafe_char(text, true) {
            d.error(
                v.span(),
                "description",
                format!(
                    "holds the control character `{}`; a description may hold tabs and line \
                     breaks, no other control characters (report.md shows it as written)",
                    c.escape_debug()
                ),
            );
        }
    }
    let target = match root.table(d, "target") {
        Some(t) => build_target::target(d, &t, env),
        None => {
            if root.get("target").is_none() {
                d.error_in_file(
                    "target",
                    "missing `[target]`; add `[target]` with `base_url = \"mock\"` or a URL",
                );
            }
            None
        }
    };
    let run_table = root.table(d, "run");
    let run = run(d, run_table.as_ref());
    // Templates are checked against the user axes as they are written, even when the matrix
    // or the template's own route or payload has other problems: every problem in one pass.
    let matrix_table = root.table(d, "matrix");
    let axes = axis_names(matrix_table.as_ref());
    let payload_table = root.table(d, "payloads");
    let payloads = build_payloads::payloads(d, payload_table.as_ref(), base_dir, &axes);
    let route_table = root.table(d, "routes");
    let routes = build_routes::routes(d, route_table.as_ref(), env, &axes);
    let clients_table = root.table(d, "clients");
    let clients = build_clients::clients(d, clients_table.as_ref(), base_dir);
    let matrix = match &matrix_table {
        Some(m) => {
            let declared = Declared::from(route_table.as_ref(), payload_table.as_ref())
                .with_clients(clients_table.as_ref());
            build_matrix::matrix(d, m, &routes, &payloads, &clients, &declared)
        }
        None => {
            if root.get("matrix").is_none() {
                d.error_in_file(
                    "matrix",
                    "missing `[matrix]`; add `route = [...]` and `concurrency = [...]` or \
                     `rate = [...]`",
                );
            }
            None
        }
    };
    let mock = match root.table(d, "mock") {
        Some(m) => build_mock::mock(d, &m),
        None => Some(Default::default()),
    };
    let output_table = root.table(d, "output");
    let output = output(d, output_table.as_ref(), base_dir);
    let slo = build_slo::slo(d, root);
    let measure = run.as_ref().map(|r| r.measure.duration);
    let search = build_slo::search(d, root, measure);
    if let Some(matrix) = &matrix {
        build_load::check_fit(d, run_table.as_ref(), matrix_table.as_ref(), matrix);
        build_slo::check_fit(d, root, matrix_table.as_ref(), matrix);
    }
    if let (Some(matrix), Some(run)) = (&matrix, &run) {
        let table = clients_table.as_ref();
        build_clients::check_fit(d, table, &clients, run_table.as_ref(), run, matrix);
    }
    let thresholds_table = root.table(d, "thresholds");
    let thresholds = build_thresholds::thresholds(
        d,
        thresholds_table.as_ref(),
        &build_scopes::Reach {
            declared: &Declared::from(route_table.as_ref(), payload_table.as_ref()),
            routes: &routes,
            payloads: &payloads,
            matrix: matrix.as_ref(),
            matrix_table: matrix_table.as_ref(),
        },
    );
    if !d.is_clean() {
        return None;
    }
    let warnings = d.warnings();
    Some(Scenario {
        name,
        description,
        source: file.to_path_buf(),
        target: target?,
        run: run?,
        payloads,
        routes,
        matrix: matrix?,
        clients,
        mock: mock?,
        output: output?,
        thresholds,
        slo: slo?,
        search: search?,
        written,
        warnings,
    })
}

/// The keys of `[run]`.
pub(crate) const RUN_KEYS: &[&str] = &[
    "runs",
    "warmup",
    "warmup_requests",
    "ramp_up",
    "duration",
    "requests",
    "retry",
    "arrival",
    "stages",
];
/// The keys of `[run.retry]`.
pub(crate) const RETRY_KEYS: &[&str] = &["max", "honor_retry_after", "max_wait", "backoff"];

fn run(d: &mut Diagnostics<'_>, t: Option<&Table<'_, '_>>) -> Option<RunSettings> {
    let Some(t) = t else {
        return Some(RunSettings {
            runs: NonZeroU32::MIN,
            warmup: None,
            measure: PhaseLimit {
                duration: Some(DEFAULT_DURATION),
                requests: None,
            },
            ramp_up: None,
            retry: default_retry(),
            arrival: ArrivalSettings::default(),
            stages: Vec::new(),
        });
    };
    t.check_keys(d, RUN_KEYS);
    let runs = t.count(d, "runs").unwrap_or(NonZeroU32::MIN);
    let warmup_duration = t.duration(d, "warmup", true).filter(|w| !w.is_zero());
    let warmup_requests = t.count::<NonZeroU64>(d, "warmup_requests");
    let warmup = (warmup_duration.is_some() || warmup_requests.is_some()).then_some(PhaseLimit {
        duration: warmup_duration,
        requests: warmup_requests,
    });
    let ramp_up = t.duration(d, "ramp_up", true).filter(|r| !r.is_zero());
    let requests = t.count::<NonZeroU64>(d, "requests");
    let arrival = build_load::arrival(d, Some(t));
    let stages = build_load::stages(d, Some(t));
    // The stages' ramp is the measure phase unless a duration is written.
    let stages_length: Duration = stages.iter().flatten().map(|s| s.duration).sum();
    let duration = match t.get("duration") {
        Some(_) => t.duration(d, "duration", false),
        None if requests.is_some() => None,
        None if !stages_length.is_zero() => Some(stages_length),
        None => Some(DEFAULT_DURATION),
    };
    let retry = match t.table(d, "retry") {
        None => default_retry(),
        Some(r) => {
            r.check_keys(d, RETRY_KEYS);
            let base = default_retry();
            RetryPolicy {
                max: r.integer(d, "max").unwrap_or(base.max),
                honor_retry_after: r
                    .boolean(d, "honor_retry_after")
                    .unwrap_or(base.honor_retry_after),
                max_wait: r.duration(d, "max_wait", true).unwrap_or(base.max_wait),
                backoff: r.duration(d, "backoff", true).unwrap_or(base.backoff),
            }
        }
    };
    Some(RunSettings {
        runs,
        warmup,
        measure: PhaseLimit { duration, requests },
        ramp_up,
        retry,
        arrival: arrival?,
        stages: stages?,
    })
}

/// The measure phase when neither `duration`, `requests` nor stages say otherwise.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

fn default_retry() -> RetryPolicy {
    RetryPolicy {
        max: 3,
        honor_retry_after: true,
        max_wait: Duration::from_secs(10),
        backoff: Duration::from_millis(100),
    }
}

/// The keys of `[output]`.
pub(crate) const OUTPUT_KEYS: &[&str] = &["dir", "templates", "results_file", "requests_log"];

fn output(
    d: &mut Diagnostics<'_>,
    t: Option<&Table<'_, '_>>,
    base_dir: &Path,
) -> Option<OutputSettings> {
    let Some(t) = t else {
        return Some(OutputSettings::default());
    };
    t.check_keys(d, OUTPUT_KEYS);
    let templates = t.string(d, "templates").map(|p| base_dir.join(p));
    if let (Some(dir), Some(v)) = (&templates, t.get("templates")) {
        // Found now, not after the whole run's traffic.
        if let Err(e) = files::check_templates_dir(dir) {
            d.error(v.span(), "output.templates", e);
        }
    }
    Some(OutputSettings {
        dir: t.string(d, "dir").map(Into::into),
        templates,
        results_file: t.string(d, "results_file").map(Into::into),
        requests_log: t.boolean(d, "requests_log").unwrap_or(false),
    })
}
