//! `[clients.NAME]`: external client programs that run points in place of the built-in engine,
//! speaking the benchmark framework's protocol (see `crate::external`). Also the `client` axis
//! of `[matrix]` (read here for `build_matrix`) and what ties a client to the rest of the
//! scenario: it runs closed-loop points only, and needs a measure phase bounded by time.
//!
//! A program that is not installed is no error — its runs are skipped with a note in the
//! report — but `validate` warns about it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::de::DeValue;

use super::diagnostics::{Diagnostics, closest, suggestion};
use super::read::{self, Table, Value};
use super::{BUILTIN_CLIENT, ClientRef, Matrix, RunSettings, names};
use crate::external::{ClientSpec, DEFAULT_CLIENT_TIMEOUT, PROTOCOL_VARS, SpecError};

/// The keys of `[clients.NAME]`.
pub(crate) const CLIENT_KEYS: &[&str] = &["command", "env", "cwd", "lang", "timeout"];

/// The placeholder that is not a protocol variable (see `ClientSpec::command`).
const SCENARIO_DIR: &str = "SCENARIO_DIR";

/// Every `[clients.NAME]` in file order; bad ones are reported and left out. Relative paths
/// resolve against `base_dir`, the scenario file's folder.
pub(crate) fn clients(
    d: &mut Diagnostics<'_>,
    t: Option<&Table<'_, '_>>,
    base_dir: &Path,
) -> Vec<ClientSpec> {
    let Some(t) = t else { return Vec::new() };
    // Absolute, because the client runs in its own working directory: a relative program
    // path would be read from there.
    let base_dir = absolute(base_dir);
    let mut out = Vec::new();
    for (name, _) in t.in_file_order() {
        let named = match check_name(name.get_ref()) {
            Ok(()) => true,
            Err(e) => {
                d.error(name.span(), &t.path, e);
                false
            }
        };
        let Some(c) = t.table(d, name.get_ref()) else {
            continue;
        };
        c.check_keys(d, CLIENT_KEYS);
        if let (true, Some(spec)) = (named, client(d, &c, name.get_ref(), &base_dir)) {
            out.push(spec);
        }
    }
    out
}

/// A client name: a route-like name that is not the built-in engine's.
fn check_name(name: &str) -> Result<(), String> {
    names::check_name("client", name)?;
    if name == BUILTIN_CLIENT {
        return Err(format!(
            "`{BUILTIN_CLIENT}` names the built-in engine in `matrix.client`; give the client \
             another name"
        ));
    }
    Ok(())
}

/// One client; `None` when a problem was recorded. Every key is read (and every argument
/// and `env` entry checked) before giving up, so one bad value never hides another.
fn client(
    d: &mut Diagnostics<'_>,
    c: &Table<'_, '_>,
    name: &str,
    base_dir: &Path,
) -> Option<ClientSpec> {
    let command = command(d, c);
    let (env, env_ok) = env(d, c);
    let cwd = c.string(d, "cwd").map(PathBuf::from);
    let lang = c.string(d, "lang");
    let lang_ok = lang.as_deref() != Some("");
    if let (false, Some(v)) = (lang_ok, c.get("lang")) {
        d.error(v.span(), &c.key_path("lang"), "must not be empty");
    }
    let timeout = c.duration(d, "timeout", false);
    let timeout_ok = timeout.is_some() || c.get("timeout").is_none();
    let spec = ClientSpec {
        command: command.clone().unwrap_or_default(),
        env,
        cwd,
        lang,
        timeout: timeout.unwrap_or(DEFAULT_CLIENT_TIMEOUT),
        ..ClientSpec::new(name, Vec::new(), base_dir)
    };
    let checked = check_spec(d, c, &spec);
    let cwd_ok = match (c.get("cwd"), spec.working_dir().is_dir()) {
        (Some(v), false) => {
            let shown = read::shown(v);
            let message =
                format!("`{shown}` is not a folder (relative to the scenario file's folder)");
            d.error(v.span(), &c.key_path("cwd"), message);
            false
        }
        _ => true,
    };
    if command.is_some() {
        warn_if_missing(d, c, &spec);
    }
    let ok = command.is_some() && env_ok && lang_ok && timeout_ok && checked && cwd_ok;
    ok.then_some(spec)
}

/// `command`: the program, then its arguments; at least the program.
fn command(d: &mut Diagnostics<'_>, c: &Table<'_, '_>) -> Option<Vec<String>> {
    let path = c.key_path("command");
    let Some(v) = c.get("command") else {
        c.missing(
            d,
            "command",
            "missing; write the program and its arguments, e.g. \
             `command = [\"python3\", \"client.py\"]`",
        );
        return None;
    };
    let DeValue::Array(items) = v.get_ref() else {
        d.error(
            v.span(),
            &path,
            format!(
                "expected a list of strings (the program, then its arguments), found {}; write \
                 `command = [{}]`",
                v.get_ref().type_str(),
                read::as_toml(v)
            ),
        );
        return None;
    };
    if items.is_empty() {
        d.error(
            v.span(),
            &path,
            "`command` is empty; write the program and its arguments, e.g. \
             `[\"python3\", \"client.py\"]`",
        );
        return None;
    }
    let words: Vec<Option<String>> = items.iter().map(|i| read::string(d, i, &path)).collect();
    words.into_iter().collect()
}

/// `env`: a table of strings; the good entries, and whether every entry was good.
fn env(d: &mut Diagnostics<'_>, c: &Table<'_, '_>) -> (BTreeMap<String, String>, bool) {
    let mut out = BTreeMap::new();
    let Some(t) = c.table(d, "env") else {
        return (out, c.get("env").is_none());
    };
    let mut ok = true;
    for (key, value) in t.in_file_order() {
        let path = t.key_path(key.get_ref());
        match read::string(d, value, &path) {
            Some(text) => {
                out.insert(key.get_ref().to_string(), text);
            }
            None => ok = false,
        }
    }
    (out, ok)
}

/// Check each argument and `env` entry of `spec` on its own (`ClientSpec::check` stops at the
/// first problem), reporting each at its own value. True when all are good.
fn check_spec(d: &mut Diagnostics<'_>, c: &Table<'_, '_>, spec: &ClientSpec) -> bool {
    let mut ok = true;
    let items = match c.get("command").map(Value::get_ref) {
        Some(DeValue::Array(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    for (word, item) in spec.command.iter().zip(items) {
        let alone = ClientSpec {
            command: vec![word.clone()],
            env: BTreeMap::new(),
            ..spec.clone()
        };
        if let Err(e) = alone.check() {
            d.error(item.span(), &c.key_path("command"), spec_problem(&e));
            ok = false;
        }
    }
    let Some(t) = c.get("env").and_then(|v| Table::of(v, c.key_path("env"))) else {
        return ok;
    };
    for (key, value) in t.in_file_order() {
        let Some(text) = spec.env.get(key.get_ref().as_ref()) else {
            continue;
        };
        let alone = ClientSpec {
            command: vec!["program".into()],
            env: BTreeMap::from([(key.get_ref().to_string(), text.clone())]),
            ..spec.clone()
        };
        if let Err(e) = alone.check() {
            let span = match e {
                SpecError::ReservedEnv { .. } => key.span(),
                _ => value.span(),
            };
            d.error(span, &t.key_path(key.get_ref()), spec_problem(&e));
            ok = false;
        }
    }
    ok
}

/// What is wrong with a spec, said at the key it is about (which names the client already).
fn spec_problem(e: &SpecError) -> String {
    match e {
        SpecError::EmptyCommand { .. } => "`command` is empty".into(),
        SpecError::UnknownPlaceholder { name, .. } => {
            let mut known: Vec<&str> = PROTOCOL_VARS.to_vec();
            known.push(SCENARIO_DIR);
            let hint = match closest(name, &known) {
                Some(k) => format!("; did you mean `{{{k}}}`?"),
                None => format!(
                    "; placeholders are {}",
                    known
                        .iter()
                        .map(|k| format!("`{{{k}}}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            format!("unknown placeholder `{{{name}}}`{hint}")
        }
        SpecError::ReservedEnv { key, .. } => format!(
            "`{key}` is a protocol variable, which every run sets itself; read it in the client"
        ),
    }
}

/// Warn when the program cannot be found: its runs will be skipped.
fn warn_if_missing(d: &mut Diagnostics<'_>, c: &Table<'_, '_>, spec: &ClientSpec) {
    let (Some(program), Some(v)) = (spec.command.first(), c.get("command")) else {
        return;
    };
    // A placeholder is known only at run time.
    if program.contains('{') {
        return;
    }
    let missing = if program.contains('/') {
        let path = spec.base_dir.join(program);
        (!path.is_file()).then(|| format!("`{program}` does not exist"))
    } else {
        let on_path = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|dir| dir.join(program).is_file()));
        (!on_path).then(|| format!("`{program}` is not on `PATH`"))
    };
    if let Some(missing) = missing {
        d.warn(
            v.span(),
            &c.key_path("command"),
            format!(
                "{missing}: the runs of client `{}` will be skipped",
                spec.name
            ),
        );
    }
}

/// `path` made absolute against the working directory (`.` when empty).
fn absolute(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The names written under `[clients]`, valid or not: an axis naming an invalid one is not
/// reported again.
pub(crate) fn declared(t: Option<&Table<'_, '_>>) -> Vec<String> {
    t.map(|t| t.entries.keys().map(|k| k.get_ref().to_string()).collect())
        .unwrap_or_default()
}

/// `matrix.client`: `"builtin"` and the names of `[clients]`, each once. An external client
/// beside `matrix.rate` is a problem: the protocol has no rate.
pub(crate) fn client_axis(
    d: &mut Diagnostics<'_>,
    m: &Table<'_, '_>,
    clients: &[ClientSpec],
    declared: &[String],
) -> Option<Vec<ClientRef>> {
    let path = m.key_path("client");
    let Some(items) = super::build_axes::items(d, m, "client") else {
        return Some(Vec::new());
    };
    let mut known: Vec<&str> = vec![BUILTIN_CLIENT];
    known.extend(clients.iter().map(|c| c.name.as_str()));
    let mut out = super::build_axes::Values::new(items.len());
    for item in items {
        let Some(name) = read::string(d, item, &path) else {
            out.fail();
            continue;
        };
        let index = clients.iter().position(|c| c.name == name);
        let value = match index {
            _ if name == BUILTIN_CLIENT => ClientRef::Builtin,
            Some(i) => ClientRef::External(i),
            None => {
                // A client declared but invalid is reported already.
                if !declared.contains(&name) {
                    let hint = suggestion(&name, &known);
                    d.error(
                        item.span(),
                        &path,
                        format!("no client `{name}` in [clients]{hint}"),
                    );
                }
                out.fail();
                continue;
            }
        };
        if let (ClientRef::External(_), Some(_)) = (value, m.get("rate")) {
            d.error(
                item.span(),
                &path,
                format!(
                    "`{name}` is an external client, which runs closed-loop points only (the \
                     framework's protocol has no rate), and `matrix.rate` is set; compare \
                     clients on `concurrency` points, and run rates with `client = \
                     [\"{BUILTIN_CLIENT}\"]`"
                ),
            );
            out.fail();
            continue;
        }
        out.push(d, (item, &path), value, PartialEq::eq, |_| {
            format!("`{name}` is listed twice")
        });
    }
    out.finish()
}

/// What external clients need of the rest of the scenario: a measure phase (and warmup)
/// bounded by time, since the protocol tells a client seconds, not request counts; a request
/// count beside a duration applies to the built-in engine only (a warning). A client that no
/// axis runs gets a warning too.
pub(crate) fn check_fit(
    d: &mut Diagnostics<'_>,
    clients_table: Option<&Table<'_, '_>>,
    clients: &[ClientSpec],
    run_table: Option<&Table<'_, '_>>,
    run: &RunSettings,
    matrix: &Matrix,
) {
    for (i, spec) in clients.iter().enumerate() {
        let Some(v) = clients_table.and_then(|t| t.get(&spec.name)) else {
            continue;
        };
        if !matrix.client.contains(&ClientRef::External(i)) {
            d.warn(
                v.span(),
                &format!("clients.{}", spec.name),
                format!(
                    "client `{}` is not listed in `matrix.client`, so it does not run",
                    spec.name
                ),
            );
        }
    }
    if !matrix
        .client
        .iter()
        .any(|c| matches!(c, ClientRef::External(_)))
    {
        return;
    }
    let Some(run_table) = run_table else { return };
    let phases = [
        (
            "requests",
            "duration",
            Some(run.measure),
            "the measure phase",
        ),
        ("warmup_requests", "warmup", run.warmup, "the warmup"),
    ];
    for (count_key, time_key, limit, phase) in phases {
        let (Some(limit), Some(v)) = (limit, run_table.get(count_key)) else {
            continue;
        };
        let path = run_table.key_path(count_key);
        if limit.duration.is_none() {
            d.error(
                v.span(),
                &path,
                format!(
                    "external clients need {phase} bounded by time: the protocol tells them \
                     seconds, not a request count; set `run.{time_key}`"
                ),
            );
        } else {
            d.warn(
                v.span(),
                &path,
                format!(
                    "external clients end {phase} at `run.{time_key}` only; the request count \
                     applies to `{BUILTIN_CLIENT}`"
                ),
            );
        }
    }
}
