//! Turning a parsed document into the typed `Scenario`: the top level, `[target]`, `[run]`
//! and `[output]`. Routes, payloads and the matrix are in `build_routes`, `[mock]` in
//! `build_mock`. Every problem is recorded and reading goes on.

use std::path::Path;
use std::time::Duration;

use toml::de::DeValue;

use super::diagnostics::Diagnostics;
use super::interpolate::interpolate;
use super::read::Table;
use super::{
    BaseUrl, OutputSettings, PhaseLimit, RetryPolicy, RunSettings, Scenario, SecretText, Target,
    TransportKind, build_mock, build_routes,
};

/// Environment lookup used for `${env:NAME}`.
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "target",
    "run",
    "payloads",
    "routes",
    "matrix",
    "mock",
    "output",
];

/// Build the scenario; `None` when any problem was recorded.
pub(crate) fn scenario(
    d: &mut Diagnostics<'_>,
    root: &Table<'_, '_>,
    file: &Path,
    env: EnvLookup<'_>,
) -> Option<Scenario> {
    root.check_keys(d, TOP_KEYS);
    let base_dir = file.parent().unwrap_or(Path::new("."));
    let name = root.string(d, "name").unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into())
    });
    if name.is_empty() || name.contains(['/', '\\']) {
        if let Some(v) = root.get("name") {
            d.error(
                v.span(),
                "name",
                "must be a non-empty name without `/`; it names the report folder",
            );
        }
    }
    let description = root.string(d, "description");
    let target = match root.table(d, "target") {
        Some(t) => target(d, &t, env),
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
    let payload_table = root.table(d, "payloads");
    let payloads = build_routes::payloads(d, payload_table.as_ref(), base_dir);
    let route_table = root.table(d, "routes");
    let routes = build_routes::routes(d, route_table.as_ref(), env);
    let matrix = match root.table(d, "matrix") {
        Some(m) => {
            let declared =
                build_routes::Declared::from(route_table.as_ref(), payload_table.as_ref());
            build_routes::matrix(d, &m, &routes, &payloads, &declared)
        }
        None => {
            if root.get("matrix").is_none() {
                d.error_in_file(
                    "matrix",
                    "missing `[matrix]`; add `route = [...]` and `concurrency = [...]`",
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
    if !d.is_clean() {
        return None;
    }
    Some(Scenario {
        name,
        description,
        source: file.to_path_buf(),
        target: target?,
        run: run?,
        payloads,
        routes,
        matrix: matrix?,
        mock: mock?,
        output: output?,
    })
}

const TARGET_KEYS: &[&str] = &[
    "base_url",
    "model",
    "headers",
    "timeout",
    "connect_timeout",
    "transport",
];

fn target(d: &mut Diagnostics<'_>, t: &Table<'_, '_>, env: EnvLookup<'_>) -> Option<Target> {
    t.check_keys(d, TARGET_KEYS);
    let base_url = match t.get("base_url") {
        None => {
            d.error_in_file(
                "target.base_url",
                "missing; write `base_url = \"mock\"` or e.g. `\"http://127.0.0.1:8000\"`",
            );
            None
        }
        Some(v) => match v.get_ref() {
            DeValue::String(s) if s == "mock" => Some(BaseUrl::Mock),
            DeValue::String(s) => match interpolate(s, env) {
                Err(e) => {
                    d.error(v.span(), "target.base_url", e);
                    None
                }
                Ok(text) => match url::Url::parse(&text.resolved) {
                    Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                        Some(BaseUrl::Url { url, display: text })
                    }
                    Ok(_) => {
                        d.error(
                            v.span(),
                            "target.base_url",
                            format!("`{text}` is not an http:// or https:// URL"),
                        );
                        None
                    }
                    Err(e) => {
                        d.error(
                            v.span(),
                            "target.base_url",
                            format!("`{text}` is not a URL: {e}"),
                        );
                        None
                    }
                },
            },
            other => {
                d.error(
                    v.span(),
                    "target.base_url",
                    format!("expected a string, found {}", other.type_str()),
                );
                None
            }
        },
    };
    let model = t.string(d, "model").unwrap_or_else(|| "mock-gpt".into());
    let headers = headers(d, t, "headers", env);
    let timeout = t
        .duration(d, "timeout", false)
        .unwrap_or(Duration::from_secs(30));
    let connect_timeout = t
        .duration(d, "connect_timeout", false)
        .unwrap_or(Duration::from_secs(5));
    let transport = match t.get("transport") {
        None => Some(TransportKind::Auto),
        Some(v) => match v.get_ref().as_str() {
            Some("auto") => Some(TransportKind::Auto),
            Some("reqwest") => Some(TransportKind::Reqwest),
            Some("hyper") => Some(TransportKind::Hyper),
            _ => {
                d.error(
                    v.span(),
                    "target.transport",
                    "expected `\"auto\"`, `\"reqwest\"` or `\"hyper\"`",
                );
                None
            }
        },
    };
    Some(Target {
        base_url: base_url?,
        model,
        headers: headers?,
        timeout,
        connect_timeout,
        transport: transport?,
    })
}

/// A `headers = { name = "value" }` table, values interpolated.
pub(crate) fn headers(
    d: &mut Diagnostics<'_>,
    t: &Table<'_, '_>,
    key: &str,
    env: EnvLookup<'_>,
) -> Option<Vec<(String, SecretText)>> {
    let Some(table) = t.table(d, key) else {
        return Some(Vec::new());
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (name, value) in table.entries.iter() {
        let path = table.key_path(name.get_ref());
        if http::HeaderName::from_bytes(name.get_ref().as_bytes()).is_err() {
            d.error(
                name.span(),
                &path,
                format!("`{}` is not a valid header name", name.get_ref()),
            );
            ok = false;
            continue;
        }
        let Some(text) = super::read::string(d, value, &path) else {
            ok = false;
            continue;
        };
        match interpolate(&text, env) {
            Ok(v) if http::HeaderValue::from_str(&v.resolved).is_ok() => {
                out.push((name.get_ref().to_lowercase(), v))
            }
            Ok(v) => {
                d.error(
                    value.span(),
                    &path,
                    format!("`{v}` is not a valid header value"),
                );
                ok = false;
            }
            Err(e) => {
                d.error(value.span(), &path, e);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

const RUN_KEYS: &[&str] = &[
    "runs",
    "warmup",
    "warmup_requests",
    "duration",
    "requests",
    "retry",
];
const RETRY_KEYS: &[&str] = &["max", "honor_retry_after", "max_wait", "backoff"];

fn run(d: &mut Diagnostics<'_>, t: Option<&Table<'_, '_>>) -> Option<RunSettings> {
    let Some(t) = t else {
        return Some(RunSettings {
            runs: std::num::NonZeroU32::MIN,
            warmup: None,
            measure: PhaseLimit {
                duration: Some(Duration::from_secs(10)),
                requests: None,
            },
            retry: default_retry(),
        });
    };
    t.check_keys(d, RUN_KEYS);
    let runs = t.count32(d, "runs").unwrap_or(std::num::NonZeroU32::MIN);
    let warmup_duration = t.duration(d, "warmup", true).filter(|w| !w.is_zero());
    let warmup_requests = t.count64(d, "warmup_requests");
    let warmup = (warmup_duration.is_some() || warmup_requests.is_some()).then_some(PhaseLimit {
        duration: warmup_duration,
        requests: warmup_requests,
    });
    let requests = t.count64(d, "requests");
    let duration = match t.get("duration") {
        Some(_) => t.duration(d, "duration", false),
        None if requests.is_some() => None,
        None => Some(Duration::from_secs(10)),
    };
    let retry = match t.table(d, "retry") {
        None => default_retry(),
        Some(r) => {
            r.check_keys(d, RETRY_KEYS);
            let base = default_retry();
            RetryPolicy {
                max: r
                    .unsigned(d, "max")
                    .map_or(base.max, |m| m.min(u32::MAX as u64) as u32),
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
        retry,
    })
}

fn default_retry() -> RetryPolicy {
    RetryPolicy {
        max: 3,
        honor_retry_after: true,
        max_wait: Duration::from_secs(10),
        backoff: Duration::from_millis(100),
    }
}

const OUTPUT_KEYS: &[&str] = &["dir", "templates", "results_file", "requests_log"];

fn output(
    d: &mut Diagnostics<'_>,
    t: Option<&Table<'_, '_>>,
    base_dir: &Path,
) -> Option<OutputSettings> {
    let Some(t) = t else {
        return Some(OutputSettings::default());
    };
    t.check_keys(d, OUTPUT_KEYS);
    Some(OutputSettings {
        dir: t.string(d, "dir").map(Into::into),
        templates: t.string(d, "templates").map(|p| base_dir.join(p)),
        results_file: t.string(d, "results_file").map(Into::into),
        requests_log: t.boolean(d, "requests_log").unwrap_or(false),
    })
}
