//! Service-level objectives (`[slo]`) and the search for the highest rate that meets them
//! (`[search]`, the `"search"` value of the `rate` axis), as validated values. How a request
//! or a run is judged against them is `metrics::slo`; how a search is run, `runner::search`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::load::format_rate;
use super::units;

/// `[slo]`: the bounds a good request stays within, and the percentiles a good run keeps
/// within them. At least one objective is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// Latency: request start to last byte; for an open loop from the intended start
    /// (response time).
    pub latency: Option<Objective>,
    /// Time to first token, from the request's start (intended start in an open loop);
    /// stream routes only.
    pub ttft: Option<Objective>,
    /// Time per output token; stream routes only.
    pub tpot: Option<Objective>,
    /// Gaps between content events; stream routes only.
    pub itl: Option<Objective>,
    /// The lowest share of successful requests, percent (above 0, at most 100).
    pub success_rate: Option<f64>,
}

/// One time objective: `{ p = 99, max = "500ms" }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    /// The percentile of the run's distribution that must be at most `max` (above 0, at most
    /// 100; 100 is the largest value).
    pub p: f64,
    /// The bound.
    #[serde(with = "crate::scenario::units::duration_text")]
    pub max: Duration,
}

/// The time objectives of `[slo]`, by key, in the order reports list them.
pub const TIME_OBJECTIVES: [&str; 4] = ["latency", "ttft", "tpot", "itl"];

impl Slo {
    /// The time objective named `key` (one of `TIME_OBJECTIVES`).
    pub fn objective(&self, key: &str) -> Option<Objective> {
        match key {
            "latency" => self.latency,
            "ttft" => self.ttft,
            "tpot" => self.tpot,
            "itl" => self.itl,
            _ => None,
        }
    }

    /// The objectives in words, for plans and reports: `latency p99 ≤ 500ms, success ≥ 99%`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = TIME_OBJECTIVES
            .iter()
            .filter_map(|key| {
                let o = self.objective(key)?;
                Some(format!(
                    "{key} p{} ≤ {}",
                    format_rate(o.p),
                    units::format_duration(o.max)
                ))
            })
            .collect();
        if let Some(rate) = self.success_rate {
            parts.push(format!("success ≥ {}%", format_rate(rate)));
        }
        parts.join(", ")
    }
}

/// `[search]`: the bracket and precision of the search for the highest rate that meets the
/// SLOs. Every probe is an open-loop run at one fixed rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateSearch {
    /// The lowest rate tried, requests per second: the first probe.
    pub min: f64,
    /// The highest rate tried, requests per second (above `min`): the second probe.
    pub max: f64,
    /// When the bisection stops.
    pub resolution: Resolution,
    /// The measure phase of each probe (`[run]`'s warmup comes before it).
    #[serde(with = "crate::scenario::units::duration_text")]
    pub probe: Duration,
}

/// How close the highest passing and the lowest failing rate must come before a search stops.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Requests per second (`resolution = 10`).
    Absolute(f64),
    /// Percent of the highest passing rate (`resolution = "5%"`).
    Relative(f64),
}

/// Past this many bisection steps a search stops whatever its resolution: 2^-40 of the
/// bracket is finer than any rate a clock can keep.
const MAX_STEPS: u32 = 40;

impl RateSearch {
    /// Whether a bracket from `pass` (met the SLOs) to `fail` (did not) is narrow enough to
    /// stop.
    pub fn narrow_enough(&self, pass: f64, fail: f64) -> bool {
        let width = fail - pass;
        match self.resolution {
            Resolution::Absolute(rps) => width <= rps,
            Resolution::Relative(percent) => width <= percent / 100.0 * pass,
        }
    }

    /// The most probes one search can take: `min`, `max`, then bisection steps until the
    /// bracket is narrow enough. The worst case keeps failing, so the bracket's low end stays
    /// at `min`, where a relative resolution is narrowest.
    pub fn worst_case_probes(&self) -> u32 {
        let mut fail = self.max;
        let mut steps = 0;
        while !self.narrow_enough(self.min, fail) && steps < MAX_STEPS {
            fail = (self.min + fail) / 2.0;
            steps += 1;
        }
        2 + steps
    }

    /// The rate to probe between `pass` and `fail`, or `None` when the bracket is narrow
    /// enough (or the steps are used up).
    pub fn next_rate(&self, pass: f64, fail: f64, steps: u32) -> Option<f64> {
        (!self.narrow_enough(pass, fail) && steps < MAX_STEPS).then_some((pass + fail) / 2.0)
    }

    /// The search in words: `10–1000 req/s, resolution 5%, probes of 2s`.
    pub fn describe(&self) -> String {
        let resolution = match self.resolution {
            Resolution::Absolute(rps) => format!("{} req/s", format_rate(rps)),
            Resolution::Relative(percent) => format!("{}%", format_rate(percent)),
        };
        format!(
            "{}–{} req/s, resolution {resolution}, probes of {}",
            format_rate(self.min),
            format_rate(self.max),
            units::format_duration(self.probe)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(min: f64, max: f64, resolution: Resolution) -> RateSearch {
        RateSearch {
            min,
            max,
            resolution,
            probe: Duration::from_secs(1),
        }
    }

    /// Probes a search takes against a server that meets the SLOs up to `knee`.
    fn probes(s: &RateSearch, knee: f64) -> (u32, Option<f64>) {
        if s.min > knee {
            return (1, None);
        }
        if s.max <= knee {
            return (2, Some(s.max));
        }
        let (mut pass, mut fail, mut n, mut steps) = (s.min, s.max, 2, 0);
        while let Some(rate) = s.next_rate(pass, fail, steps) {
            n += 1;
            steps += 1;
            if rate <= knee {
                pass = rate
            } else {
                fail = rate
            }
        }
        (n, Some(pass))
    }

    #[test]
    fn an_absolute_resolution_halves_the_bracket_until_narrow_enough() {
        let s = search(20.0, 180.0, Resolution::Absolute(10.0));
        // 160 -> 80 -> 40 -> 20 -> 10: four steps.
        assert_eq!(s.worst_case_probes(), 6);
        for knee in [25.0, 99.0, 100.0, 179.0] {
            let (n, answer) = probes(&s, knee);
            assert!(n <= s.worst_case_probes(), "knee {knee}: {n} probes");
            let answer = answer.unwrap();
            assert!(
                answer <= knee && knee - answer <= 10.0,
                "knee {knee}: {answer}"
            );
        }
        assert_eq!(probes(&s, 10.0), (1, None), "min fails: one probe");
        assert_eq!(probes(&s, 500.0), (2, Some(180.0)), "max passes: two");
    }

    #[test]
    fn a_relative_resolution_is_narrowest_at_min() {
        let s = search(100.0, 200.0, Resolution::Relative(5.0));
        // 100 -> 50 -> 25 -> 12.5 -> 6.25 <= 5% of 100 only at 3.125: five steps.
        assert_eq!(s.worst_case_probes(), 7);
        let (n, answer) = probes(&s, 150.0);
        assert!(n <= 7);
        let answer = answer.unwrap();
        assert!(
            answer <= 150.0 && 150.0 - answer <= 0.05 * answer,
            "{answer}"
        );
    }

    #[test]
    fn a_resolution_wider_than_the_bracket_probes_only_the_ends() {
        let s = search(10.0, 20.0, Resolution::Absolute(50.0));
        assert_eq!(s.worst_case_probes(), 2);
        assert_eq!(s.next_rate(10.0, 20.0, 0), None);
    }

    #[test]
    fn objectives_read_as_written() {
        let slo = Slo {
            latency: None,
            ttft: Some(Objective {
                p: 99.0,
                max: Duration::from_millis(500),
            }),
            tpot: None,
            itl: Some(Objective {
                p: 99.9,
                max: Duration::from_millis(50),
            }),
            success_rate: Some(99.5),
        };
        assert_eq!(
            slo.describe(),
            "ttft p99 ≤ 500ms, itl p99.9 ≤ 50ms, success ≥ 99.5%"
        );
        let s = search(10.0, 1000.0, Resolution::Relative(5.0));
        assert_eq!(s.describe(), "10–1000 req/s, resolution 5%, probes of 1s");
    }
}
