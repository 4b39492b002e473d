//! Measurement: recorders (HDR histograms in integer µs plus counters), one per runtime thread
//! (`per_thread`), their merge, run summaries, the median/MAD aggregate across runs, the client's watch on itself, and the
//! records of external clients' runs (`external`).
//!
//! Owns numbers only; it never sends a request (that is `runner`) nor formats one (`report`).

pub mod aggregate;
pub mod attempt;
pub mod external;
pub mod open_loop;
pub(crate) mod per_thread;
pub mod recorder;
pub mod samples;
pub mod search;
pub mod selfwatch;
pub mod slo;
pub mod summary;

pub use aggregate::{aggregate, basis, median_mad};
pub use attempt::{FailureKind, NOT_STREAMED_GAP_US, Observation, Phase, StreamObservation, Usage};
pub use external::{ClientRecord, ExternalFigures};
pub use open_loop::{Dispatched, LATE_SEND_US, OpenLoopAggregate, OpenLoopStats, Sending};
pub(crate) use per_thread::{PerThread, ThreadRecorders};
pub use recorder::Recorder;
pub use samples::{ErrorSample, ErrorSamples};
pub use search::{Probe, SearchAggregate, SearchEnd, SearchRun};
pub use selfwatch::SelfWatch;
pub use slo::{CheckAggregate, RequestGoals, SloAggregate, SloCheck, SloVerdict};
pub use summary::{
    ClientStats, LatencySummary, OutcomeCounts, PointAggregate, PointResult, RunStats, Spread,
    StreamAggregate, StreamSummary, Totals, UsageTotals,
};
