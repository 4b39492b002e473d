//! What differs between two runs besides their figures — the host, the tool version, the
//! scenario as written and its overrides, a run cut short — so that a comparison says when it
//! compares unlike with unlike, naming what differs.
//!
//! Scenario contents are compared key by key: the echoed text of each scenario file is parsed
//! again and its leaves (`run.duration`, `matrix.concurrency`) compared, so comments and layout
//! do not count. An echo without the text (written by an early version) is compared as stored.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::report::{HostFacts, RunReport, format_bytes};

/// Differing keys named in a warning before the rest are counted.
const MAX_KEYS: usize = 8;
/// Longest value shown in a warning, characters.
const MAX_VALUE: usize = 40;

/// Every difference between `base` and `new` worth a warning, one sentence each.
pub(crate) fn warnings(base: &RunReport, new: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    if base.tool_version != new.tool_version {
        out.push(format!(
            "different tool versions: nitro-scenario `{}` (base), `{}` (new)",
            base.tool_version, new.tool_version
        ));
    }
    let hosts = host_differences(&base.host, &new.host);
    if !hosts.is_empty() {
        out.push(format!("different hosts: {}", hosts.join(", ")));
    }
    let scenario = scenario_differences(&base.scenario, &new.scenario);
    if !scenario.is_empty() {
        let more = scenario.len().saturating_sub(MAX_KEYS);
        let mut shown: Vec<String> = scenario.into_iter().take(MAX_KEYS).collect();
        if more > 0 {
            shown.push(format!("and {more} more"));
        }
        out.push(format!("different scenario contents: {}", shown.join("; ")));
    }
    for (name, run) in [("base", base), ("new", new)] {
        if run.partial {
            out.push(format!(
                "the {name} run is partial: {}",
                run.interruption.as_deref().unwrap_or("stopped early")
            ));
        }
    }
    out
}

fn host_differences(base: &HostFacts, new: &HostFacts) -> Vec<String> {
    let mut out = Vec::new();
    if base.cpu_model != new.cpu_model {
        out.push(format!("CPU `{}` → `{}`", base.cpu_model, new.cpu_model));
    }
    if base.cores != new.cores {
        out.push(format!("{} → {} cores", base.cores, new.cores));
    }
    if base.memory_bytes != new.memory_bytes {
        let shown = |b: u64| format_bytes(b as f64);
        out.push(format!(
            "memory {} → {}",
            shown(base.memory_bytes),
            shown(new.memory_bytes)
        ));
    }
    if base.os != new.os {
        out.push(format!("OS `{}` → `{}`", base.os, new.os));
    }
    out
}

/// The scenario's settings as compared: the echoed file text parsed, else the echo without
/// the facts that may differ for the same scenario (where the file and reports lay).
fn settings(echo: &Value) -> BTreeMap<String, String> {
    let parsed = echo
        .get("text")
        .and_then(Value::as_str)
        .and_then(|text| toml::from_str::<toml::Table>(text).ok())
        .and_then(|table| serde_json::to_value(table).ok());
    let mut leaves = BTreeMap::new();
    match parsed {
        Some(file) => flatten(&file, "", &mut leaves),
        None => {
            let mut rest = echo.clone();
            if let Some(map) = rest.as_object_mut() {
                for key in ["source", "output", "overrides"] {
                    map.remove(key);
                }
            }
            flatten(&rest, "", &mut leaves);
        }
    }
    leaves
}

/// Every leaf of `value` by its dotted key path; arrays are leaves.
fn flatten(value: &Value, prefix: &str, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(v, &path, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), shown(leaf));
        }
    }
}

fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_VALUE {
        return text;
    }
    let cut: String = text.chars().take(MAX_VALUE - 1).collect();
    format!("{cut}…")
}

/// The keys whose values differ, each as `` `key` `old` → `new` ``, in key order; then the
/// overrides when they differ.
fn scenario_differences(base: &Value, new: &Value) -> Vec<String> {
    let (b, n) = (settings(base), settings(new));
    let mut out = Vec::new();
    for key in b.keys().chain(n.keys().filter(|k| !b.contains_key(*k))) {
        match (b.get(key), n.get(key)) {
            (Some(x), Some(y)) if x != y => out.push(format!("`{key}` `{x}` → `{y}`")),
            (Some(x), None) => out.push(format!("`{key}` removed (was `{x}`)")),
            (None, Some(y)) => out.push(format!("`{key}` added (`{y}`)")),
            _ => {}
        }
    }
    let overrides = |echo: &Value| -> Vec<String> {
        echo.get("overrides")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.as_str().map(|s| format!("`{s}`")))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (bo, no) = (overrides(base), overrides(new));
    if bo != no {
        let list = |l: &[String]| {
            if l.is_empty() {
                "none".to_string()
            } else {
                l.join(" ")
            }
        };
        out.push(format!("overrides {} → {}", list(&bo), list(&no)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(text: &str, overrides: &[&str]) -> Value {
        serde_json::json!({ "name": "q", "source": "a.toml", "text": text, "overrides": overrides })
    }

    #[test]
    fn scenario_differences_name_the_keys() {
        let base = echo(
            "name = \"q\"\n[run]\nduration = \"1s\" # short\n[matrix]\nconcurrency = [1, 32]\n",
            &[],
        );
        let same = echo(
            "# another comment\nname = \"q\"\n[run]\nduration = \"1s\"\n[matrix]\nconcurrency = [1, 32]\n",
            &[],
        );
        assert!(scenario_differences(&base, &same).is_empty());
        let new = echo(
            "name = \"q\"\n[run]\nruns = 5\n[matrix]\nconcurrency = [1, 8]\n",
            &["--set run.warmup=1s"],
        );
        assert_eq!(
            scenario_differences(&base, &new),
            [
                "`matrix.concurrency` `[1,32]` → `[1,8]`",
                "`run.duration` removed (was `\"1s\"`)",
                "`run.runs` added (`5`)",
                "overrides none → `--set run.warmup=1s`",
            ]
        );
    }

    #[test]
    fn an_echo_without_text_is_compared_as_stored() {
        let old =
            |runs: u32| serde_json::json!({ "name": "q", "source": "x", "run": { "runs": runs } });
        assert!(scenario_differences(&old(2), &old(2)).is_empty());
        assert_eq!(
            scenario_differences(&old(2), &old(3)),
            ["`run.runs` `2` → `3`"]
        );
    }

    #[test]
    fn hosts_and_long_values() {
        let a = HostFacts {
            cpu_model: "A".into(),
            cores: 2,
            os: "Linux".into(),
            memory_bytes: 1 << 30,
        };
        let b = HostFacts {
            cores: 8,
            memory_bytes: 2 << 30,
            ..a.clone()
        };
        assert_eq!(
            host_differences(&a, &b),
            ["2 → 8 cores", "memory 1.0 GiB → 2.0 GiB"]
        );
        assert!(host_differences(&a, &a).is_empty());
        let long = Value::String("x".repeat(100));
        assert_eq!(shown(&long).chars().count(), MAX_VALUE);
        assert!(shown(&long).ends_with('…'));
    }
}
