//! A JSON Schema (draft-07) of the scenario language, for editors: taplo and Even Better TOML
//! complete keys, show their descriptions and flag a mistyped key or a wrong type as you write.
//! `nitro-scenario schema` prints it; `docs/scenario.schema.json` is a copy a test keeps equal.
//!
//! It is built from the reader's own model, so it cannot drift from it: every table lists
//! exactly the keys the reader checks against (`build*::*_KEYS`), word lists are the reader's,
//! duration and size patterns come from the units `units` accepts, threshold figures from
//! `judge::more_figures`. What the reader checks beyond the shape of a value — names defined
//! elsewhere, a limit past a pattern, values that must agree — stays the reader's: the schema
//! is looser there, never stricter.
//!
//! - `shapes`: value shapes (durations, sizes, counts, names) and the table builder.
//! - `requests`: `[target]`, `[payloads]`, `[routes]`, `[clients]`.
//! - `load`: `[run]`, `[matrix]`, `[slo]`, `[search]`.
//! - `mock`: `[mock]`; `thresholds`: `[thresholds]`.

mod load;
mod mock;
mod requests;
mod shapes;
mod thresholds;

use serde_json::{Value, json};

use super::build::{OUTPUT_KEYS, TOP_KEYS};
use shapes::{boolean, scenario_name, string, table};

/// The JSON Schema draft the schema is written in: the one taplo supports best.
pub const DRAFT: &str = "http://json-schema.org/draft-07/schema#";

/// The schema of a scenario file.
pub fn schema() -> Value {
    let mut schema = table(
        "A nitro-scenario load-test scenario: target, routes, payloads, the matrix of points, \
         phases, the built-in mock, reports and thresholds.",
        TOP_KEYS,
        vec![
            (
                "name",
                scenario_name(
                    "Scenario name (default: the file stem); names the report folder \
                     reports/<name>/.",
                ),
            ),
            ("description", string("Shown in the report header.")),
            ("target", requests::target()),
            ("run", load::run()),
            ("payloads", requests::payloads()),
            ("routes", requests::routes()),
            ("matrix", load::matrix()),
            ("mock", mock::mock()),
            ("output", output()),
            ("clients", requests::clients()),
            ("thresholds", thresholds::thresholds()),
            ("slo", load::slo()),
            ("search", load::search()),
        ],
    );
    schema["$schema"] = json!(DRAFT);
    schema["title"] = json!("nitro-scenario scenario");
    schema["required"] = json!(["target", "matrix"]);
    schema
}

/// The schema as `nitro-scenario schema` prints it: pretty JSON and a final newline.
pub fn text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// `[output]`.
fn output() -> Value {
    table(
        "Where reports go.",
        OUTPUT_KEYS,
        vec![
            (
                "dir",
                string("Report folder (default reports/<name>; --out wins)."),
            ),
            (
                "templates",
                string(
                    "Folder whose report.md.j2 replaces the built-in template (relative to the \
                     scenario's folder).",
                ),
            ),
            (
                "results_file",
                string("JSON results path (default <dir>/results.json; RESULTS_FILE sets it)."),
            ),
            (
                "requests_log",
                boolean("Write requests.csv, one line per attempt (default false)."),
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every schema object under `value` with its JSON pointer, conditions (`if`,
    /// `dependencies`) aside: they name keys to test them, not to define them.
    fn objects<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
        match value {
            Value::Object(map) => {
                out.push((at.clone(), value));
                for (key, inner) in map
                    .iter()
                    .filter(|(key, _)| !matches!(key.as_str(), "if" | "dependencies"))
                {
                    objects(inner, format!("{at}/{key}"), out);
                }
            }
            Value::Array(items) => {
                for (i, inner) in items.iter().enumerate() {
                    objects(inner, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_key_is_typed_and_described() {
        // Building it checks that each table types exactly the reader's keys.
        let schema = schema();
        let mut all = Vec::new();
        objects(&schema, String::new(), &mut all);
        let mut keys = 0;
        for (at, object) in all {
            let Some(Value::Object(properties)) = object.get("properties") else {
                continue;
            };
            for (key, property) in properties {
                keys += 1;
                assert!(
                    property.get("description").is_some(),
                    "{at}/properties/{key} has no description"
                );
            }
        }
        assert!(keys > 100, "{keys} keys");
    }
}
