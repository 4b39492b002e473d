//! The load model of a point: how its requests are driven. A closed loop keeps `concurrency`
//! workers busy, each sending its next request when the last one ended. The point's model
//! gives its id part (`c32`) and its place on the x axis of charts and tables (`LoadAxis`), so
//! that no renderer has to ask which model a point has.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

/// How a point drives load: exactly one model per point.
///
/// Serialized untagged, flattened into the point's object of `results.json`: a closed point
/// carries `concurrency`, as results have since before the model was a type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LoadModel {
    /// A closed loop: `concurrency` workers, each with one request in flight, sending the next
    /// when the last one ended.
    Closed {
        /// Workers (at most `MAX_CONCURRENCY`).
        concurrency: NonZeroU32,
    },
}

/// Where a point sits on the x axis of its charts and in the load column of its tables: one
/// axis per kind of load model (`concurrency`, and later `rate`), so that points of different
/// models never share an axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadAxis {
    /// The axis: `concurrency`.
    pub name: &'static str,
    /// Unit of `value`: `workers`.
    pub unit: &'static str,
    /// The point's value on the axis.
    pub value: f64,
    /// The value as written in ids, tables and tick labels: `32`.
    pub label: String,
}

impl LoadModel {
    /// The part of the point id naming the load: `c32`.
    pub fn id_part(&self) -> String {
        match self {
            Self::Closed { concurrency } => format!("c{concurrency}"),
        }
    }

    /// The point's place on the x axis.
    pub fn axis(&self) -> LoadAxis {
        match self {
            Self::Closed { concurrency } => LoadAxis {
                name: "concurrency",
                unit: "workers",
                value: f64::from(concurrency.get()),
                label: concurrency.to_string(),
            },
        }
    }

    /// The closed loop's workers; `None` for other models.
    pub fn concurrency(&self) -> Option<NonZeroU32> {
        match self {
            Self::Closed { concurrency } => Some(*concurrency),
        }
    }

    /// The most requests the point may have in flight at once: its workers.
    pub fn max_in_flight(&self) -> u32 {
        match self {
            Self::Closed { concurrency } => concurrency.get(),
        }
    }

    /// The model in words, for plans and reports: `32 workers`.
    pub fn describe(&self) -> String {
        match self {
            Self::Closed { concurrency } if concurrency.get() == 1 => "1 worker".into(),
            Self::Closed { concurrency } => format!("{concurrency} workers"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_point_keeps_its_concurrency_in_ids_and_json() {
        let load = LoadModel::Closed {
            concurrency: NonZeroU32::new(32).unwrap(),
        };
        assert_eq!(load.id_part(), "c32");
        assert_eq!(load.axis().label, "32");
        assert_eq!(load.describe(), "32 workers");
        let json = serde_json::to_value(&load).unwrap();
        assert_eq!(json, serde_json::json!({ "concurrency": 32 }));
        assert_eq!(serde_json::from_value::<LoadModel>(json).unwrap(), load);
    }
}
