//! The load model of a point: how its requests are driven. A closed loop keeps `concurrency`
//! workers busy, each sending its next request when the last one ended; an open loop sends
//! requests at a rate, on a schedule of arrivals (constant, Poisson or gamma), whatever the
//! answers do. The point's model gives its id part (`c32`, `r50`) and its place on the x axis
//! of charts and tables (`LoadAxis`), so that no renderer has to ask which model a point has.

use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::slo::RateSearch;

/// How a point drives load: exactly one model per point.
///
/// Serialized untagged, flattened into the point's object of `results.json`: a closed point
/// carries `concurrency`, as results have since before the model was a type; an open-loop
/// point carries `open_loop`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LoadModel {
    /// An open loop: requests start on a schedule of arrivals at a rate, each at its intended
    /// time whether or not earlier ones were answered. (First: an untagged enum is read by
    /// trying its variants in order, and `open_loop` is the more specific key.)
    Open {
        /// The rate, the arrival process and the in-flight cap.
        open_loop: OpenLoop,
    },
    /// A closed loop: `concurrency` workers, each with one request in flight, sending the next
    /// when the last one ended.
    Closed {
        /// Workers (at most `MAX_CONCURRENCY`).
        concurrency: NonZeroU32,
    },
}

/// The most requests per second a rate may ask for.
pub const MAX_RATE: f64 = 1_000_000.0;

/// What drives an open-loop point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenLoop {
    /// Requests per second: fixed, or the ramps of `[[run.stages]]`.
    pub rate: RateProfile,
    /// How arrivals are spread around the rate, and the seed of their schedule.
    pub arrival: Arrival,
    /// The most requests in flight at once; a request due while that many are in flight waits
    /// in a client-side queue, and its queue time is measured.
    pub max_in_flight: NonZeroU32,
}

/// The rate of an open-loop point over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateProfile {
    /// The same rate throughout, requests per second (`matrix.rate = [50]`).
    Fixed(f64),
    /// Stages, each ramping linearly from the rate the one before ended at (the first from 0)
    /// to its own rate, over its duration; the schedule ends with the last stage.
    Stages(Vec<Stage>),
    /// The highest rate that meets the SLOs, searched for by probes at fixed rates
    /// (`matrix.rate = ["search"]` with `[search]`).
    Search(RateSearch),
}

/// One stage of `[[run.stages]]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// How long the stage lasts (`0s` jumps to its rate at once).
    #[serde(with = "crate::scenario::units::duration_text")]
    pub duration: Duration,
    /// The rate reached at the stage's end, requests per second.
    pub rate: f64,
}

/// How arrivals are spread, and the seed that fixes their schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Arrival {
    /// The arrival process.
    pub process: ArrivalProcess,
    /// Seed of the schedule's random draws: the same seed gives the same schedule.
    pub seed: u64,
}

/// The gaps between arrivals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalProcess {
    /// Every gap is `1 / rate`.
    Constant,
    /// Exponential gaps of mean `1 / rate`: a Poisson process.
    Poisson,
    /// Gamma gaps of mean `1 / rate`, shape `burstiness` (as vLLM's `--burstiness`): 1 is
    /// Poisson, below 1 burstier, above 1 smoother.
    Gamma {
        /// The gamma distribution's shape, above 0.
        burstiness: f64,
    },
}

impl ArrivalProcess {
    /// The process's name: `constant`, `poisson`, `gamma`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Poisson => "poisson",
            Self::Gamma { .. } => "gamma",
        }
    }

    /// The process in words: `poisson`, `gamma (burstiness 0.5)`.
    pub fn describe(&self) -> String {
        match self {
            Self::Gamma { burstiness } => format!("gamma (burstiness {burstiness})"),
            other => other.name().to_string(),
        }
    }
}

impl RateProfile {
    /// The rate as written in ids and on the x axis: `50`, `0.5`, `stages`, `search`.
    pub fn label(&self) -> String {
        match self {
            Self::Fixed(rate) => format_rate(*rate),
            Self::Stages(_) => "stages".into(),
            Self::Search(_) => "search".into(),
        }
    }

    /// How long the schedule lasts: `None` for a fixed rate, which never ends, and for a
    /// search, whose probes each last a phase.
    pub fn length(&self) -> Option<Duration> {
        match self {
            Self::Fixed(_) | Self::Search(_) => None,
            Self::Stages(stages) => Some(stages.iter().map(|s| s.duration).sum()),
        }
    }

    /// The highest rate the profile asks for, requests per second.
    pub fn peak(&self) -> f64 {
        match self {
            Self::Fixed(rate) => *rate,
            Self::Stages(stages) => stages.iter().map(|s| s.rate).fold(0.0, f64::max),
            Self::Search(search) => search.max,
        }
    }
}

/// One value of the `rate` axis of `[matrix]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateValue {
    /// A fixed rate, requests per second (above 0, at most `MAX_RATE`).
    Fixed(f64),
    /// `"stages"`: the ramps of `[[run.stages]]`.
    Stages,
    /// `"search"`: the search of `[search]` for the highest rate that meets `[slo]`.
    Search,
}

/// `[run.arrival]`: what every open-loop point of the scenario shares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ArrivalSettings {
    /// The arrival process (default Poisson).
    pub process: ArrivalProcess,
    /// Seed of the schedules (default 42): the same seed gives the same schedule.
    pub seed: u64,
    /// The most requests in flight at once (default 10,000, at most `MAX_CONCURRENCY`).
    pub max_in_flight: NonZeroU32,
}

impl Default for ArrivalSettings {
    fn default() -> Self {
        Self {
            process: ArrivalProcess::Poisson,
            seed: DEFAULT_SEED,
            max_in_flight: NonZeroU32::new(DEFAULT_MAX_IN_FLIGHT).expect("a positive default"),
        }
    }
}

/// The seed of schedules when `run.arrival.seed` is not set.
pub const DEFAULT_SEED: u64 = 42;

/// `run.arrival.max_in_flight` when not set: far above what a test needs, so that the cap
/// only matters when it is set on purpose (memory grows with the requests in flight, not
/// with the cap).
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 10_000;

/// A rate as a person writes it: `50`, `0.5`, `2.25`.
pub fn format_rate(rate: f64) -> String {
    format!("{rate}")
}

/// Where a point sits on the x axis of its charts and in the load column of its tables: one
/// axis per kind of load model (`concurrency`, `rate`), so that points of different models
/// never share an axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadAxis {
    /// The axis: `concurrency` or `rate`.
    pub name: &'static str,
    /// Unit of `value`: `workers` or `req/s`.
    pub unit: &'static str,
    /// The point's value on the axis; a ramp of stages or a search sits after every fixed
    /// rate.
    pub value: f64,
    /// The value as written in ids, tables and tick labels: `32`, `0.5`, `stages`.
    pub label: String,
}

impl LoadModel {
    /// The part of the point id naming the load: `c32`, `r50`, `r0.5`, `stages`.
    pub fn id_part(&self) -> String {
        match self {
            Self::Closed { concurrency } => format!("c{concurrency}"),
            Self::Open { open_loop } => match open_loop.rate {
                RateProfile::Fixed(rate) => format!("r{}", format_rate(rate)),
                RateProfile::Stages(_) | RateProfile::Search(_) => open_loop.rate.label(),
            },
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
            Self::Open { open_loop } => LoadAxis {
                name: "rate",
                unit: "req/s",
                value: match open_loop.rate {
                    RateProfile::Fixed(rate) => rate,
                    RateProfile::Stages(_) | RateProfile::Search(_) => f64::INFINITY,
                },
                label: open_loop.rate.label(),
            },
        }
    }

    /// The closed loop's workers; `None` for other models.
    pub fn concurrency(&self) -> Option<NonZeroU32> {
        match self {
            Self::Closed { concurrency } => Some(*concurrency),
            Self::Open { .. } => None,
        }
    }

    /// The open loop's settings; `None` for other models.
    pub fn open_loop(&self) -> Option<&OpenLoop> {
        match self {
            Self::Open { open_loop } => Some(open_loop),
            Self::Closed { .. } => None,
        }
    }

    /// The most requests the point may have in flight at once: its workers, or the open
    /// loop's cap.
    pub fn max_in_flight(&self) -> u32 {
        match self {
            Self::Closed { concurrency } => concurrency.get(),
            Self::Open { open_loop } => open_loop.max_in_flight.get(),
        }
    }

    /// The model in words, for plans and reports: `32 workers`, `50 req/s poisson`,
    /// `stages, constant`, `search 10–1000 req/s, poisson`.
    pub fn describe(&self) -> String {
        match self {
            Self::Closed { concurrency } if concurrency.get() == 1 => "1 worker".into(),
            Self::Closed { concurrency } => format!("{concurrency} workers"),
            Self::Open { open_loop } => {
                let process = open_loop.arrival.process.describe();
                match open_loop.rate {
                    RateProfile::Fixed(rate) => format!("{} req/s {process}", format_rate(rate)),
                    RateProfile::Stages(_) => format!("stages, {process}"),
                    RateProfile::Search(s) => format!(
                        "search {}–{} req/s, {process}",
                        format_rate(s.min),
                        format_rate(s.max)
                    ),
                }
            }
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

    #[test]
    fn an_open_point_names_its_rate() {
        let open = |rate| LoadModel::Open {
            open_loop: OpenLoop {
                rate,
                arrival: Arrival {
                    process: ArrivalProcess::Gamma { burstiness: 0.5 },
                    seed: 42,
                },
                max_in_flight: NonZeroU32::new(100).unwrap(),
            },
        };
        let half = open(RateProfile::Fixed(0.5));
        assert_eq!(half.id_part(), "r0.5");
        assert_eq!(open(RateProfile::Fixed(50.0)).id_part(), "r50");
        assert_eq!(half.describe(), "0.5 req/s gamma (burstiness 0.5)");
        assert_eq!(half.axis().name, "rate");
        assert_eq!(half.concurrency(), None);
        let stages = open(RateProfile::Stages(vec![Stage {
            duration: Duration::from_secs(30),
            rate: 10.0,
        }]));
        assert_eq!(stages.id_part(), "stages");
        assert_eq!(
            stages.open_loop().unwrap().rate.length(),
            Some(Duration::from_secs(30))
        );
        for load in [half, stages] {
            let json = serde_json::to_value(&load).unwrap();
            assert!(json.get("open_loop").is_some(), "{json}");
            assert_eq!(serde_json::from_value::<LoadModel>(json).unwrap(), load);
        }
    }
}
