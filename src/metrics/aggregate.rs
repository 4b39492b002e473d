//! Median and median absolute deviation of a point's headline figures across its runs.

use super::summary::{PointAggregate, RunStats, Spread};

/// Median and MAD of `values` (empty gives zeros).
pub fn median_mad(_values: &[f64]) -> Spread {
    todo!("metrics helper")
}

/// The headline figures of `runs`, each as median and MAD, plus totals.
pub fn aggregate(_runs: &[RunStats]) -> PointAggregate {
    todo!("metrics helper")
}
