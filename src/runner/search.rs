//! The search for the highest rate that meets the SLOs: one run of a `"search"` point is a
//! series of probes, each an open-loop run (warmup, then a measure phase of `probe`) at one
//! fixed rate, judged against `[slo]`. The first probe is at `min` (failing, the answer is
//! below it), the second at `max` (passing, the answer is at least it); then bisection between
//! the highest passing and the lowest failing rate until they are within the resolution. The
//! answer is the highest passing rate; the run's figures are its probe's.
//!
//! Probes share the point's pool of workers and connections, and every request in flight at
//! a probe's end is answered before the next starts, so a probe that overloads the server
//! leaves no backlog of this client's requests to the next.

use super::events::Event;
use super::open::OpenPhase;
use super::point::Drive;
use super::transport::Connector;
use super::worker::{PhaseCommon, Worker};
use crate::metrics::{Probe, RunStats, SearchEnd, SearchRun};
use crate::report::format_rate;
use crate::scenario::{OpenLoop, PhaseLimit, RateProfile, RateSearch, load};

/// Where a search stands: the highest rate that met the SLOs and the lowest that did not.
#[derive(Debug, Clone, Copy)]
struct Bracket {
    search: RateSearch,
    /// Probes so far.
    probes: u32,
    /// The highest passing rate.
    pass: Option<f64>,
    /// The lowest failing rate.
    fail: Option<f64>,
}

impl Bracket {
    fn new(search: RateSearch) -> Self {
        Self {
            search,
            probes: 0,
            pass: None,
            fail: None,
        }
    }

    /// The next rate to probe, or how the search ended.
    fn next(&self) -> Result<f64, SearchEnd> {
        let s = &self.search;
        match (self.probes, self.pass, self.fail) {
            (0, _, _) => Ok(s.min),
            (_, None, _) => Err(SearchEnd::BelowMin),
            (_, Some(pass), None) if pass >= s.max => Err(SearchEnd::AtMax),
            (_, Some(_), None) => Ok(s.max),
            (n, Some(pass), Some(fail)) => s
                .next_rate(pass, fail, n.saturating_sub(2))
                .ok_or(SearchEnd::Converged),
        }
    }

    /// Record a probe at `rate` that met the SLOs or not.
    fn record(&mut self, rate: f64, meets: bool) {
        self.probes += 1;
        if meets {
            self.pass = Some(self.pass.map_or(rate, |p| p.max(rate)));
        } else {
            self.fail = Some(self.fail.map_or(rate, |f| f.min(rate)));
        }
    }
}

/// One run of a search point (its number in `common`): probes until the search ends, each
/// shown on the bar and logged above it. The run's figures are those of the answer's probe,
/// or of the first probe when none met the SLOs, with every probe in `search`; `None` when a
/// stop came before any probe measured.
pub(super) async fn run_search<C: Connector>(
    drive: &Drive<'_, '_, C>,
    search: &RateSearch,
    mut workers: Vec<Box<Worker<C::Transport>>>,
    common: PhaseCommon,
) -> (Vec<Box<Worker<C::Transport>>>, Option<RunStats>) {
    let Some(open) = drive.open else {
        return (workers, None);
    };
    let most = search.worst_case_probes();
    let mut bracket = Bracket::new(*search);
    let mut probes: Vec<Probe> = Vec::new();
    // The answer's probe, and the first failing probe's figures for when nothing passes.
    let (mut best, mut first): (Option<RunStats>, Option<RunStats>) = (None, None);
    let end = loop {
        let rate = match bracket.next() {
            Ok(rate) => rate,
            Err(end) => break end,
        };
        let n = bracket.probes + 1;
        let probe_loop = OpenLoop {
            rate: RateProfile::Fixed(rate),
            ..open.open.clone()
        };
        let probe_phase = OpenPhase {
            connector: open.connector,
            open: &probe_loop,
            pacing: open.pacing,
        };
        let offered = format!("{} (probe {n}, at most {most})", format_rate(rate));
        let measure = PhaseLimit {
            duration: Some(search.probe),
            requests: None,
        };
        let measured;
        (workers, measured) = drive
            .with_open(&probe_phase, offered)
            .run(workers, common.clone(), measure)
            .await;
        let Some(stats) = measured else {
            break SearchEnd::Stopped;
        };
        let probe = Probe::of(rate, &stats);
        drive.ctx.events.on(Event::Note {
            line: &probe_line(&drive.point.id, common.run, n, &probe),
        });
        let meets = probe.meets;
        probes.push(probe);
        if stats.partial {
            // A probe cut short has no verdict: it moves neither end of the bracket.
            first = first.or(Some(stats));
            break SearchEnd::Stopped;
        }
        bracket.record(rate, meets);
        // Each passing probe is above the last: the bisection only probes above `pass`.
        if meets {
            best = Some(stats);
        } else {
            first = first.or(Some(stats));
        }
    };
    let Some(mut stats) = best.or(first) else {
        return (workers, None);
    };
    stats.partial |= end == SearchEnd::Stopped;
    stats.search = Some(SearchRun {
        probes,
        answer_rps: bracket.pass,
        failed_rps: bracket.fail,
        end,
    });
    (workers, Some(stats))
}

/// The line logged above the bars after a probe: `chat-search run 1: probe 3 at 150 req/s
/// meets the SLOs, goodput 149 req/s`, or which objectives it missed.
fn probe_line(point: &str, run: u32, n: u32, p: &Probe) -> String {
    let verdict = if p.partial {
        "was cut short".to_string()
    } else if p.meets {
        "meets the SLOs".to_string()
    } else {
        let missed: Vec<String> = p
            .slo
            .checks
            .iter()
            .filter(|c| !c.meets)
            .map(|c| {
                let name = match c.p {
                    Some(p) => format!("{} p{}", c.objective, load::format_rate(p)),
                    None => c.objective.replace('_', " "),
                };
                let unit = if c.p.is_some() { " ms" } else { "%" };
                match c.value {
                    Some(v) => format!("{name} {v:.2}{unit}"),
                    None => format!("{name} not measured"),
                }
            })
            .collect();
        format!("misses the SLOs ({})", missed.join(", "))
    };
    format!(
        "{point} run {run}: probe {n} at {} req/s {verdict}, goodput {} req/s",
        format_rate(p.rate_rps),
        format_rate(p.slo.goodput_rps)
    )
}

#[cfg(test)]
mod tests;
