//! The noise rule: whether a figure's per-run values moved between two runs by more than they
//! move from run to run. Two-sided, at `ALPHA`:
//!
//! - both sides with at least `MIN_RANK_RUNS` values: the Mann–Whitney U test (`rank_test`),
//!   which assumes nothing about the values' distribution;
//! - otherwise both sides with at least 2 values: Welch's t-test (`welch`) — with so few runs a
//!   rank test cannot reach 5% (2 against 2 runs split only 6 ways);
//! - a side with a single value: no noise estimate and no verdict; tolerances alone judge.
//!
//! For times and rates a move must also reach `FLOOR` of the base median (the noise threshold
//! criterion.rs uses): per-run percentiles are HDR bucket midpoints, so runs of one invocation
//! often agree to the microsecond, and then a drift of a few tenths of a percent between two
//! invocations passes any test without meaning anything.
//!
//! Why not "the medians differ by more than the sum of both MADs": with 2 to 4 runs a side
//! and nothing changed, it calls 25–40% of figures worse or better (the MAD of 2 values is
//! half their distance, of 3 the smaller gap), so a pull-request comment would cry wolf.

use serde::Serialize;

use super::rank_test::rank_test;
use super::welch::welch;
use crate::metrics::median_mad;

/// Significance level of both tests, two-sided.
pub const ALPHA: f64 = 0.05;
/// Values needed on each side for the rank test.
pub const MIN_RANK_RUNS: usize = 5;
/// Smallest move of a time or rate that can be beyond the noise, as a share of the base
/// median.
pub const FLOOR: f64 = 0.01;

/// Which rule judged a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Mann–Whitney U test.
    RankTest,
    /// Welch's t-test.
    TTest,
    /// A side has one value: no noise estimate.
    NoEstimate,
}

/// Which way the new values moved, when beyond the noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    /// The new values are higher.
    Up,
    /// The new values are lower.
    Down,
}

/// What the rule found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    /// The rule applied.
    pub rule: Rule,
    /// The move beyond the noise; `None` within it (or with no estimate).
    pub shift: Option<Shift>,
    /// The test's two-sided p-value; `None` with no estimate.
    pub p_value: Option<f64>,
}

/// Judge `new` against `base`, both lists of per-run values; with `floor`, a move of the
/// medians smaller than `FLOOR` of the base median is within the noise whatever the test says.
pub fn judge(base: &[f64], new: &[f64], floor: bool) -> Judgement {
    let (rule, p_value, new_higher) = if base.len() < 2 || new.len() < 2 {
        return Judgement {
            rule: Rule::NoEstimate,
            shift: None,
            p_value: None,
        };
    } else if base.len() >= MIN_RANK_RUNS && new.len() >= MIN_RANK_RUNS {
        let test = rank_test(new, base);
        (Rule::RankTest, test.p_value, test.first_higher)
    } else {
        let test = welch(new, base);
        (Rule::TTest, test.p_value, test.first_higher)
    };
    let beyond = p_value <= ALPHA && !(floor && below_floor(base, new));
    let shift = beyond.then_some(if new_higher { Shift::Up } else { Shift::Down });
    Judgement {
        rule,
        shift,
        p_value: Some(p_value),
    }
}

/// Whether the medians of `base` and `new` are less than `FLOOR` of the base median apart.
fn below_floor(base: &[f64], new: &[f64]) -> bool {
    match (median_mad(base), median_mad(new)) {
        (Some(b), Some(n)) if b.median != 0.0 => ((n.median - b.median) / b.median).abs() < FLOOR,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_runs_a_side_use_the_rank_test() {
        let base = [10.0, 10.2, 9.9, 10.1, 10.0];
        let slower = [11.0, 11.3, 10.9, 11.1, 11.2];
        let j = judge(&base, &slower, true);
        assert_eq!((j.rule, j.shift), (Rule::RankTest, Some(Shift::Up)));
        assert!(j.p_value.unwrap() < 0.01);
        let mixed = [10.1, 9.8, 10.3, 10.0, 9.9];
        let j = judge(&base, &mixed, true);
        assert_eq!((j.rule, j.shift), (Rule::RankTest, None));
        // Identical values everywhere: nothing moved.
        let same = [5.0; 6];
        assert_eq!(judge(&same, &same, true).shift, None);
        assert_eq!(judge(&same, &same, true).p_value, Some(1.0));
    }

    #[test]
    fn two_to_four_runs_use_welchs_t_test() {
        // Runs tight around 10 and around 12: beyond the noise.
        let j = judge(&[10.0, 10.1], &[12.0, 12.1], true);
        assert_eq!((j.rule, j.shift), (Rule::TTest, Some(Shift::Up)));
        // The same medians with wide runs: within it (the MAD rule would call this worse).
        let j = judge(&[9.0, 11.0], &[11.0, 13.0], true);
        assert_eq!((j.rule, j.shift), (Rule::TTest, None));
        assert_eq!(
            judge(&[3.0, 3.0], &[2.0, 2.0], true).shift,
            Some(Shift::Down)
        );
        // 4 runs against 6: one side below 5, still the t-test.
        assert_eq!(judge(&[1.0; 4], &[1.0; 6], true).rule, Rule::TTest);
    }

    #[test]
    fn times_and_rates_must_move_at_least_the_floor() {
        // Runs that agree exactly (HDR bucket midpoints) and a 0.4% drift: any test says
        // "apart"; the floor says noise.
        let (base, new) = ([1.004, 1.004], [1.000, 1.000]);
        assert_eq!(judge(&base, &new, true).shift, None);
        assert_eq!(judge(&base, &new, true).p_value, Some(0.0));
        assert_eq!(judge(&base, &new, false).shift, Some(Shift::Down));
        // 99.9% against 99.5% success: a percentage has no floor.
        assert_eq!(
            judge(&[99.9; 5], &[99.5; 5], false).shift,
            Some(Shift::Down)
        );
        // A 2% move clears it.
        assert_eq!(
            judge(&[1.0, 1.0], &[1.02, 1.02], true).shift,
            Some(Shift::Up)
        );
    }

    #[test]
    fn one_run_has_no_noise_estimate() {
        let j = judge(&[10.0], &[20.0, 21.0], true);
        assert_eq!(j.rule, Rule::NoEstimate);
        assert_eq!(j.shift, None);
    }
}
