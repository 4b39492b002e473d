//! The schema of how load is applied: `[run]` (with `[run.retry]`, `[run.arrival]` and
//! `[[run.stages]]`), `[matrix]` (with `[matrix.axes]`), and the open loop's `[slo]` and
//! `[search]`.

use serde_json::{Value, json};

use super::shapes::{
    axis, axis_name_pattern, boolean, count, count_up_to, described, duration, named,
    positive_up_to, scalar, table, unsigned, words,
};
use crate::scenario::build::{RETRY_KEYS, RUN_KEYS};
use crate::scenario::build_load::{ARRIVAL_KEYS, PROCESSES, STAGE_KEYS};
use crate::scenario::build_matrix::{MATRIX_KEYS, NAMED_RATES};
use crate::scenario::build_slo::{OBJECTIVE_KEYS, SEARCH_KEYS, SLO_KEYS};
use crate::scenario::slo::TIME_OBJECTIVES;
use crate::scenario::{MAX_CONCURRENCY, MAX_RATE};

/// `[run]`.
pub(super) fn run() -> Value {
    table(
        "Phases and repetitions of every point.",
        RUN_KEYS,
        vec![
            (
                "runs",
                count(
                    "Independent repetitions of every point (default 1); reports show median and \
                     MAD.",
                ),
            ),
            (
                "warmup",
                duration("Warmup phase, sent and measured then discarded (default none)."),
            ),
            (
                "ramp_up",
                duration(
                    "Closed-loop workers start spread evenly over this at the start of each run (default 0s: all at once).",
                ),
            ),
            (
                "warmup_requests",
                count("End the warmup after this many requests (first limit wins)."),
            ),
            (
                "duration",
                duration("Measure phase (default \"10s\", or the stages' total)."),
            ),
            (
                "requests",
                count(
                    "End the measure phase after this many completed requests (first limit wins).",
                ),
            ),
            ("retry", retry()),
            ("arrival", arrival()),
            ("stages", stages()),
        ],
    )
}

/// `[run.retry]`.
fn retry() -> Value {
    table(
        "Retries of 429 answers.",
        RETRY_KEYS,
        vec![
            (
                "max",
                unsigned("Retries of a 429 after the first attempt (default 3)."),
            ),
            (
                "honor_retry_after",
                boolean("Wait what Retry-After asks (default true)."),
            ),
            (
                "max_wait",
                duration("Longest wait before a retry (default \"10s\")."),
            ),
            (
                "backoff",
                duration("Wait when there is no usable Retry-After (default \"100ms\")."),
            ),
        ],
    )
}

/// `[run.arrival]`: `burstiness` shapes gamma arrivals only.
fn arrival() -> Value {
    let mut schema = table(
        "How open-loop (rate) points space their requests.",
        ARRIVAL_KEYS,
        vec![
            (
                "process",
                words(
                    PROCESSES,
                    "Gaps between arrivals: 1/rate, exponential, or gamma of mean 1/rate \
                     (default \"poisson\").",
                ),
            ),
            (
                "burstiness",
                described(
                    json!({ "type": "number", "exclusiveMinimum": 0 }),
                    "Gamma's shape: 1 is Poisson, below 1 burstier, above 1 smoother; needs \
                     `process = \"gamma\"`.",
                ),
            ),
            ("seed", unsigned("Seed of the schedules (default 42).")),
            (
                "max_in_flight",
                count_up_to(
                    MAX_CONCURRENCY,
                    "Most open-loop requests in flight (default 10,000).",
                ),
            ),
        ],
    );
    schema["dependencies"] = json!({
        "burstiness": { "required": ["process"], "properties": { "process": { "const": "gamma" } } }
    });
    schema
}

/// `[[run.stages]]`.
fn stages() -> Value {
    let mut stage = table(
        "One stage: a linear ramp to `rate` over `duration`.",
        STAGE_KEYS,
        vec![
            (
                "duration",
                duration("How long the ramp lasts (may be \"0s\", a jump)."),
            ),
            (
                "rate",
                described(
                    json!({ "type": "number", "minimum": 0, "maximum": MAX_RATE }),
                    "The rate the stage ramps to, requests per second.",
                ),
            ),
        ],
    );
    stage["required"] = json!(STAGE_KEYS);
    described(
        json!({ "type": "array", "minItems": 1, "items": stage }),
        "The ramp of `rate = [\"stages\"]`, as [[run.stages]] tables.",
    )
}

/// `[matrix]`: the built-in axes and `[matrix.axes]`.
pub(super) fn matrix() -> Value {
    let mut rate = positive_up_to(
        MAX_RATE,
        "Requests per second, `\"search\"`, or `\"stages\"` alone.",
    );
    rate["type"] = json!(["number", "string"]);
    rate["if"] = json!({ "type": "string" });
    rate["then"] = json!({ "enum": NAMED_RATES });
    let mut schema = table(
        "The axes whose cartesian product gives the points.",
        MATRIX_KEYS,
        vec![
            (
                "route",
                axis(
                    json!({ "type": "string" }),
                    "Route names (or paths) of [routes]: the first axis.",
                ),
            ),
            (
                "payload",
                axis(
                    json!({ "type": "string" }),
                    "Payload names of [payloads]: the second axis.",
                ),
            ),
            (
                "concurrency",
                axis(
                    count_up_to(MAX_CONCURRENCY, "Workers."),
                    "Closed-loop worker counts.",
                ),
            ),
            (
                "rate",
                axis(
                    rate,
                    "Open-loop request rates per second, `\"search\"` for the highest rate that \
                     meets [slo], or `[\"stages\"]` for the ramp of [[run.stages]].",
                ),
            ),
            (
                "client",
                axis(
                    json!({ "type": "string" }),
                    "Who sends each point's requests: `\"builtin\"` or a name of [clients].",
                ),
            ),
            (
                "axes",
                named(
                    "User axes: template variables whose values join the point id.",
                    axis_name_pattern(),
                    axis(scalar(), "The axis values: strings, numbers or booleans."),
                ),
            ),
        ],
    );
    schema["required"] = json!(["route"]);
    // `concurrency`, `rate` or both.
    schema["if"] = json!({ "not": { "required": ["rate"] } });
    schema["then"] = json!({ "required": ["concurrency"] });
    schema
}

/// `[slo]`: time objectives and `success_rate`.
pub(super) fn slo() -> Value {
    let percent = || json!({ "type": "number", "exclusiveMinimum": 0, "maximum": 100 });
    let mut objective = table(
        "The `p`-th percentile is at most `max`.",
        OBJECTIVE_KEYS,
        vec![
            (
                "p",
                described(percent(), "The percentile, above 0 and at most 100."),
            ),
            ("max", duration("The bound, longer than zero.")),
        ],
    );
    objective["required"] = json!(OBJECTIVE_KEYS);
    let typed = SLO_KEYS
        .iter()
        .filter_map(|key| {
            let schema = if TIME_OBJECTIVES.contains(key) {
                described(
                    objective.clone(),
                    &format!("Objective on {key}: `{{ p = 99, max = \"500ms\" }}`."),
                )
            } else if *key == "success_rate" {
                described(
                    percent(),
                    "The lowest share of successful requests, percent.",
                )
            } else {
                return None;
            };
            Some((*key, schema))
        })
        .collect();
    let mut schema = table(
        "Service-level objectives: judged on every point, they define goodput.",
        SLO_KEYS,
        typed,
    );
    schema["minProperties"] = json!(1);
    schema
}

/// `[search]`.
pub(super) fn search() -> Value {
    let mut schema = table(
        "The bracket and resolution of the search for the highest rate that meets [slo].",
        SEARCH_KEYS,
        vec![
            (
                "min",
                positive_up_to(MAX_RATE, "The first probe's rate, requests per second."),
            ),
            (
                "max",
                positive_up_to(MAX_RATE, "The second probe's rate, above `min`."),
            ),
            ("resolution", resolution()),
            (
                "probe",
                duration("The measure phase of each probe (default `run.duration`)."),
            ),
        ],
    );
    schema["required"] = json!(["min", "max"]);
    schema
}

/// `search.resolution`: requests per second, or a percent of the answer.
fn resolution() -> Value {
    let mut schema = positive_up_to(
        MAX_RATE,
        "Stop when the rates that met and missed the SLOs are this close: requests per second, \
         or \"N%\" of the former (default \"5%\").",
    );
    schema["type"] = json!(["number", "string"]);
    schema["pattern"] =
        json!(r"^\s*\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*%\s*$");
    schema
}
