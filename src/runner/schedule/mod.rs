//! The open loop's schedule: when each request is due, as an offset from the phase's start.
//! Request `i` is due at `t_i`, an absolute time computed from the ones before, never "a gap
//! after the last one was sent", so a late send does not push the rest of the schedule.
//!
//! Two steps, each its own file: `gaps` draws a unit-rate arrival sequence `u_0 = 0,
//! u_{i+1} = u_i + g_i` from a seeded generator (gaps of mean 1: constant, exponential or
//! gamma); `warp` maps it through the inverse of the cumulative rate `Λ(t)` of the point's
//! rate profile, `t_i = Λ⁻¹(u_i)`, so a fixed rate and ramps of stages work alike for every
//! process. Drawing a time allocates nothing.

mod gaps;
mod times;
mod warp;

pub(crate) use times::Schedule;
