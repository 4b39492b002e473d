//! The shapes the schema gives values, taken from what the reader (`read`, `units`) accepts:
//! durations, sizes, counts, names, word lists, and tables built from the reader's own lists
//! of keys. Where the reader checks more than a JSON Schema can say (a duration past 365 days,
//! the same header written in two cases), the shape is looser: an editor must never flag a file
//! `validate` accepts.
//!
//! A value of several shapes (a string or a table) is one schema with several `type`s, the
//! keywords of each type side by side (a validator applies each to its own type only) and
//! `if`/`then` for what is not type-specific: that way an editor still completes the table's
//! keys, and a mistake gets a precise message rather than "not valid under any of the schemas".

use serde_json::{Map, Value, json};

use crate::scenario::BUILTIN_CLIENT;
use crate::scenario::names::{BUILTIN_VARIABLES, MAX_NAME, TEMPLATE_WORDS};
use crate::scenario::units::{DURATION_UNITS, SIZE_UNITS};

/// A decimal as `units` reads it: digits with an optional fraction, or a fraction alone.
const DECIMAL: &str = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)";

/// A table whose keys are exactly `keys` (the reader's list for it), each typed by the entry
/// of `typed` with its name, and no other key. `typed` must type every key of the list and
/// nothing else: the two are checked against each other when the schema is built in tests.
pub(super) fn table(description: &str, keys: &[&str], typed: Vec<(&str, Value)>) -> Value {
    let mut schema = open_table(description, keys, typed);
    schema.insert("additionalProperties".into(), Value::Bool(false));
    Value::Object(schema)
}

/// `table` without closing it, for a table that takes more keys than its list (figures,
/// `patternProperties`): the caller adds `additionalProperties`.
pub(super) fn open_table(
    description: &str,
    keys: &[&str],
    mut typed: Vec<(&str, Value)>,
) -> Map<String, Value> {
    debug_assert!(
        typed.iter().all(|(k, _)| keys.contains(k)) && keys.iter().all(|k| typed_has(&typed, k)),
        "the schema of {description:?} types {:?}, the reader reads {keys:?}",
        typed.iter().map(|(k, _)| *k).collect::<Vec<_>>()
    );
    let mut properties = Map::new();
    for key in keys {
        let at = typed.iter().position(|(k, _)| k == key);
        // A key the schema does not type yet is let through untyped, never refused.
        let schema = at.map_or_else(|| json!({}), |i| typed.swap_remove(i).1);
        properties.insert((*key).to_string(), schema);
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("description".into(), json!(description));
    schema.insert("properties".into(), Value::Object(properties));
    schema
}

fn typed_has(typed: &[(&str, Value)], key: &str) -> bool {
    typed.iter().any(|(k, _)| *k == key)
}

/// `schema` with `description` set.
pub(super) fn described(mut schema: Value, description: &str) -> Value {
    if let Value::Object(map) = &mut schema {
        map.insert("description".into(), json!(description));
    }
    schema
}

/// A table of `NAME = value` entries: names matching `names`, values of `value`.
pub(super) fn named(description: &str, names: Value, value: Value) -> Value {
    json!({
        "type": "object",
        "description": description,
        "propertyNames": names,
        "additionalProperties": value,
    })
}

/// A string.
pub(super) fn string(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

/// A non-empty string.
pub(super) fn non_empty(description: &str) -> Value {
    json!({ "type": "string", "minLength": 1, "description": description })
}

/// `true` or `false`.
pub(super) fn boolean(description: &str) -> Value {
    json!({ "type": "boolean", "description": description })
}

/// An integer ≥ 0.
pub(super) fn unsigned(description: &str) -> Value {
    json!({ "type": "integer", "minimum": 0, "description": description })
}

/// An integer ≥ 1 (`read::count`).
pub(super) fn count(description: &str) -> Value {
    json!({ "type": "integer", "minimum": 1, "description": description })
}

/// An integer from 1 to `max`.
pub(super) fn count_up_to(max: u32, description: &str) -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": max, "description": description })
}

/// A number above 0 and at most `max`.
pub(super) fn positive_up_to(max: f64, description: &str) -> Value {
    json!({
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": max,
        "description": description,
    })
}

/// One of `words`.
pub(super) fn words(words: &[&str], description: &str) -> Value {
    json!({ "type": "string", "enum": words, "description": description })
}

/// A duration (`read::duration`): text such as `"30s"` or `"1m30s"` in the units of
/// `units::DURATION_UNITS`, or the integer 0.
pub(super) fn duration(description: &str) -> Value {
    json!({
        "type": ["string", "integer"],
        "pattern": format!(r"^\s*{}\s*$", duration_body()),
        "if": { "type": "integer" },
        "then": { "const": 0 },
        "description": description,
    })
}

/// A duration without the anchors and blanks around it: `0`, or `<number><unit>` parts.
pub(super) fn duration_body() -> String {
    format!(
        r"(?:0|(?:{DECIMAL}\s*(?:{})\s*)+)",
        alternatives(DURATION_UNITS)
    )
}

/// A size in bytes (`Table::size`): an integer, or text with a unit of `units::SIZE_UNITS`;
/// at least `min` bytes.
pub(super) fn size(min: u64, description: &str) -> Value {
    json!({
        "type": ["integer", "string"],
        "minimum": min,
        "pattern": format!(r"^\s*{DECIMAL}\s*(?:{})?\s*$", alternatives(SIZE_UNITS)),
        "description": description,
    })
}

/// `units` as regex alternatives, longest first (`min` before `m`), blanks left out.
fn alternatives(units: &[(&str, u128)]) -> String {
    let mut names: Vec<&str> = units
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !name.is_empty())
        .collect();
    names.sort_by_key(|name| std::cmp::Reverse(name.chars().count()));
    names.join("|")
}

/// Route, payload and client names (`names::check_name`).
pub(super) fn name_pattern() -> Value {
    json!({ "pattern": format!("^[A-Za-z0-9][A-Za-z0-9_-]{{0,{}}}$", MAX_NAME - 1) })
}

/// The scenario's name (`names::check_scenario_name`).
pub(super) fn scenario_name(description: &str) -> Value {
    json!({
        "type": "string",
        "pattern": format!("^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{}}}$", MAX_NAME - 1),
        "description": description,
    })
}

/// Client names: route-like, but not the built-in engine's.
pub(super) fn client_name_pattern() -> Value {
    let mut pattern = name_pattern();
    pattern["not"] = json!({ "const": BUILTIN_CLIENT });
    pattern
}

/// User axis names (`names::check_axis_name`): template variables that are neither a
/// built-in variable (`model` aside) nor a template keyword.
pub(super) fn axis_name_pattern() -> Value {
    let taken: Vec<&str> = BUILTIN_VARIABLES
        .iter()
        .copied()
        .filter(|v| *v != "model")
        .chain(TEMPLATE_WORDS.iter().copied())
        .collect();
    json!({
        "pattern": format!("^[A-Za-z_][A-Za-z0-9_]{{0,{}}}$", MAX_NAME - 1),
        "not": { "enum": taken },
    })
}

/// A table of header names and string values (`build_target::headers`); names are tokens.
pub(super) fn headers(description: &str) -> Value {
    named(
        description,
        json!({ "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }),
        json!({ "type": "string" }),
    )
}

/// A scalar an axis or a `match` may hold.
pub(super) fn scalar() -> Value {
    json!({ "type": ["string", "integer", "number", "boolean"] })
}

/// A scalar, or a list of at least one (`read::list`).
pub(super) fn scalar_or_list() -> Value {
    json!({
        "type": ["string", "integer", "number", "boolean", "array"],
        "minItems": 1,
        "items": scalar(),
    })
}

/// A matrix axis: a list of at least one `item`, none twice.
pub(super) fn axis(item: Value, description: &str) -> Value {
    json!({
        "type": "array",
        "minItems": 1,
        "uniqueItems": true,
        "items": item,
        "description": description,
    })
}
