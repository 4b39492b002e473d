//! The schema of `[thresholds]`: every figure a threshold may bound (`judge::more_figures`),
//! each with the bound its unit takes, and the status-code counts (`errors_503`), in the
//! scenario-wide table, `[thresholds.route.NAME]` and `[[thresholds.when]]`.

use serde_json::{Map, Value, json};

use super::shapes::{
    boolean, described, duration_body, name_pattern, named, open_table, scalar_or_list,
};
use crate::judge::figures::Unit;
use crate::judge::more_figures;
use crate::scenario::build_bounds::{REQUEST_RATE_UNITS, TOKEN_RATE_UNITS, example};
use crate::scenario::build_thresholds::{ROUTE_KEYS, TOP_KEYS, WHEN_KEYS};
use crate::scenario::thresholds::Op;

/// A status code's own count (`Measure::parse`): `errors_` and a code from 100 to 599.
const STATUS_KEY: &str = "^errors_[1-5][0-9]{2}$";

/// A number as a bound's `number` reads it: what `f64` parses once every `_` is taken out.
/// A `-` is let through, since `-0` (and `-1e-999`) are numbers ≥ 0 too.
const NUMBER: &str = concat!(
    r"_*[+-]?(?:[0-9_]*[0-9][0-9_]*(?:\.[0-9_]*)?|[0-9_]*\.[0-9_]*[0-9][0-9_]*)",
    r"(?:[eE]_*[+-]?[0-9_]*[0-9][0-9_]*)?"
);

/// `[thresholds]`.
pub(super) fn thresholds() -> Value {
    let every_run =
        || boolean("Judge each run rather than the median across runs (default false).");
    let route = block(
        "Bounds on the points of this route; they replace the scenario-wide bound on the same \
         figure.",
        ROUTE_KEYS,
        vec![("every_run", every_run())],
    );
    let mut when = block(
        "Bounds on the points `match` selects; they replace the route's and the scenario's bounds \
         on the same figure.",
        WHEN_KEYS,
        vec![("match", selection()), ("every_run", every_run())],
    );
    when["required"] = json!(["match"]);
    block(
        "Bounds on reported figures: a run whose point fails one exits 3.",
        TOP_KEYS,
        vec![
            (
                "abort_on_fail",
                boolean(
                    "End the run after the first point that fails a threshold (default false).",
                ),
            ),
            ("every_run", every_run()),
            (
                "route",
                named("Bounds per route of [routes].", name_pattern(), route),
            ),
            (
                "when",
                described(
                    json!({ "type": "array", "items": when }),
                    "[[thresholds.when]] tables: `match` and bounds.",
                ),
            ),
        ],
    )
}

/// A table of figures and status codes, with `keys` typed by `typed` beside them.
fn block(description: &str, keys: &[&str], typed: Vec<(&str, Value)>) -> Value {
    let mut schema = open_table(description, keys, typed);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for figure in more_figures::all() {
            let what = format!("{}, in {}", figure.label, figure.unit.symbol());
            properties.insert(figure.key.to_string(), bound(figure.unit, &what));
        }
    }
    let mut patterns = Map::new();
    patterns.insert(
        STATUS_KEY.to_string(),
        bound(Unit::Count, "Answers with this status code, per run"),
    );
    schema.insert("patternProperties".into(), Value::Object(patterns));
    schema.insert("additionalProperties".into(), Value::Bool(false));
    Value::Object(schema)
}

/// `match` of `[[thresholds.when]]`: axis values, one or a list each.
fn selection() -> Value {
    json!({
        "type": "object",
        "description": "Axis values the points must have, a list being any of its values: \
                        `{ route = \"chat\", concurrency = [8, 32] }`.",
        "minProperties": 1,
        "additionalProperties": scalar_or_list(),
        "not": { "required": ["concurrency", "rate"] },
    })
}

/// The bound a figure of `unit` takes (`build_bounds::bound`), described by `what`.
fn bound(unit: Unit, what: &str) -> Value {
    let description = format!("{what}: a bound such as `{}`.", example(unit));
    let units = |list: &[&str]| format!(r"{NUMBER}\s*(?:{})?", list.join("|"));
    let limit = match unit {
        Unit::Bool => return boolean(&description),
        Unit::Ms => duration_body(),
        Unit::RequestsPerSec => units(REQUEST_RATE_UNITS),
        Unit::TokensPerSec => units(TOKEN_RATE_UNITS),
        Unit::Percent | Unit::PercentOfRequests => format!(r"{NUMBER}\s*%"),
        Unit::Count => format!(r"{NUMBER}(?:\s*%)?"),
    };
    let mut signs: Vec<&str> = Op::ALL.iter().map(|op| op.sign()).collect();
    signs.sort_by_key(|sign| std::cmp::Reverse(sign.len()));
    json!({
        "type": "string",
        "pattern": format!(r"^\s*(?:{})\s*{limit}\s*$", signs.join("|")),
        "description": description,
    })
}
