//! `[thresholds]` once checked: bounds on reported figures, each with the points it selects
//! and whether it judges the median across runs or every run. `build_thresholds` builds them;
//! `judge::thresholds` checks them against a run's results.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::judge::Measure;

/// `[thresholds]`: every bound of the scenario, in file order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Thresholds {
    /// The thresholds: the scenario-wide ones, then `[thresholds.route.NAME]`'s, then each
    /// `[[thresholds.when]]`'s, each table's in file order.
    pub rules: Vec<Threshold>,
    /// End the run after the first point that fails a threshold (the reports are written,
    /// marked partial).
    pub abort_on_fail: bool,
}

impl Thresholds {
    /// Whether the scenario has no threshold.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// One bound on one figure.
#[derive(Debug, Clone, Serialize)]
pub struct Threshold {
    /// The figure bounded.
    #[serde(serialize_with = "measure_key")]
    pub figure: Measure,
    /// The bound.
    pub bound: Bound,
    /// The points it selects.
    pub scope: Scope,
    /// Judge each run, not the median across runs.
    pub every_run: bool,
}

fn measure_key<S: serde::Serializer>(m: &Measure, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&m.key())
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    /// `<`
    #[serde(rename = "<")]
    Below,
    /// `<=`
    #[serde(rename = "<=")]
    AtMost,
    /// `>`
    #[serde(rename = ">")]
    Above,
    /// `>=`
    #[serde(rename = ">=")]
    AtLeast,
    /// `==`
    #[serde(rename = "==")]
    Equal,
}

impl Op {
    /// The operators, the two-character ones first so that `<=` is not read as `<`.
    pub const ALL: [Op; 5] = [Op::AtMost, Op::AtLeast, Op::Equal, Op::Below, Op::Above];

    /// The operator as written: `<=`.
    pub fn sign(self) -> &'static str {
        match self {
            Op::Below => "<",
            Op::AtMost => "<=",
            Op::Above => ">",
            Op::AtLeast => ">=",
            Op::Equal => "==",
        }
    }

    /// Whether `value` is within `limit` this way.
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Op::Below => value < limit,
            Op::AtMost => value <= limit,
            Op::Above => value > limit,
            Op::AtLeast => value >= limit,
            Op::Equal => value == limit,
        }
    }

    /// How far `value` is inside `limit`: positive with room to spare, negative past it (0 on
    /// it). For `==`, minus the distance.
    pub fn margin(self, value: f64, limit: f64) -> f64 {
        match self {
            Op::Below | Op::AtMost => limit - value,
            Op::Above | Op::AtLeast => value - limit,
            Op::Equal => -(value - limit).abs(),
        }
    }
}

/// What a figure must be.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// A comparison with a number in the figure's unit (ms, req/s, %, a count).
    Compare {
        /// The comparison.
        op: Op,
        /// The number, in the figure's unit; for `per_100_requests`, per 100 requests.
        limit: f64,
        /// A count bounded as a share of the run's requests (`"< 1%"`): the count per 100
        /// requests is compared, not the count.
        per_100_requests: bool,
        /// The bound as written, trimmed: `< 250ms`.
        written: String,
    },
    /// A yes-or-no figure must be this (`client_bound = false`).
    Is(bool),
}

impl Bound {
    /// The bound as people read it: `< 250ms`, `false`.
    pub fn text(&self) -> String {
        match self {
            Self::Compare { written, .. } => written.clone(),
            Self::Is(flag) => flag.to_string(),
        }
    }
}

/// The points a threshold judges.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every point: `[thresholds]`.
    All,
    /// The points of one route: `[thresholds.route.NAME]`.
    Route(String),
    /// The points whose axis values match: `[[thresholds.when]]`'s `match`, each axis (in
    /// file order) with the values it accepts (as text, as in a point's `vars`).
    When(Vec<(String, Vec<String>)>),
}

impl Scope {
    /// Whether the point of `route` with axis values `vars` is selected.
    pub fn selects(&self, route: &str, vars: &BTreeMap<String, String>) -> bool {
        match self {
            Self::All => true,
            Self::Route(name) => name == route,
            Self::When(axes) => axes
                .iter()
                .all(|(axis, values)| vars.get(axis).is_some_and(|v| values.contains(v))),
        }
    }

    /// How specific the scope is: for one point and figure, only the thresholds of the most
    /// specific scopes that select the point judge it.
    pub fn rank(&self) -> u8 {
        match self {
            Self::All => 0,
            Self::Route(_) => 1,
            Self::When(_) => 2,
        }
    }

    /// The scope in words: `all points`, ``route `stream` ``, `route = chat, concurrency = 8 or 32`.
    pub fn describe(&self) -> String {
        match self {
            Self::All => "all points".into(),
            Self::Route(name) => format!("route `{name}`"),
            Self::When(axes) => axes
                .iter()
                .map(|(axis, values)| format!("{axis} = {}", values.join(" or ")))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_hold_and_measure_their_margin() {
        assert!(Op::Below.holds(249.9, 250.0) && !Op::Below.holds(250.0, 250.0));
        assert!(Op::AtMost.holds(250.0, 250.0));
        assert!(Op::AtLeast.holds(99.5, 99.5) && !Op::Above.holds(99.5, 99.5));
        assert!(Op::Equal.holds(0.0, 0.0) && !Op::Equal.holds(1.0, 0.0));
        assert_eq!(Op::Below.margin(200.0, 250.0), 50.0);
        assert_eq!(Op::AtLeast.margin(99.0, 99.5), -0.5);
        assert_eq!(Op::Equal.margin(3.0, 0.0), -3.0);
    }

    #[test]
    fn scopes_select_by_route_and_axis_values() {
        let vars: BTreeMap<String, String> = [("route", "chat"), ("concurrency", "32")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(Scope::All.selects("chat", &vars));
        assert!(Scope::Route("chat".into()).selects("chat", &vars));
        assert!(!Scope::Route("stream".into()).selects("chat", &vars));
        let when = |axis: &str, values: &[&str]| {
            Scope::When(vec![(
                axis.to_string(),
                values.iter().map(|v| v.to_string()).collect(),
            )])
        };
        assert!(when("concurrency", &["8", "32"]).selects("chat", &vars));
        assert!(!when("concurrency", &["8"]).selects("chat", &vars));
        assert!(
            !when("model", &["a"]).selects("chat", &vars),
            "an axis the point lacks"
        );
        assert_eq!(
            when("concurrency", &["8", "32"]).describe(),
            "concurrency = 8 or 32"
        );
    }
}
