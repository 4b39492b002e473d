//! The external client driver: one run of a point is one run of a client program
//! (`crate::external::run_client`), told the point's protocol values — the target's base URL
//! (the built-in mock's address for `"mock"`), the route path, the workers, the warmup and
//! measure seconds, the payload's name and the exact body bytes the built-in engine sends, the
//! model, whether the route streams, and the request headers (secrets included, through a
//! private file only). A completed run's figures become a `RunStats`
//! (`metrics::external::run_stats`); every run, however it ended, joins the point's
//! `ClientRecord`. Nothing here fails: a bad client is a failed run, with its reason.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use super::events::Event;
use super::point::{RunCtx, RunEnd};
use crate::external::{ClientPoint, ClientSpec, Outcome, run_client};
use crate::metrics::ClientRecord;
use crate::metrics::external::{ClientPhases, run_stats};
use crate::scenario::Point;

/// Runs a point's runs with an external client.
pub(crate) struct ClientDriver<'a, 'c> {
    spec: &'a ClientSpec,
    ctx: &'a RunCtx<'c>,
    /// What every run of the point tells the client.
    point: ClientPoint,
    phases: ClientPhases,
    /// Every run so far.
    record: ClientRecord,
}

impl<'a, 'c> ClientDriver<'a, 'c> {
    /// The driver of `point` with the client `spec`.
    pub(crate) fn new(spec: &'a ClientSpec, point: &Point, ctx: &'a RunCtx<'c>) -> Self {
        let run = &ctx.scenario.run;
        // Validation lets an external client run only closed loops whose phases are bounded
        // by time.
        let phases = ClientPhases {
            warmup: run
                .warmup
                .and_then(|w| w.duration)
                .unwrap_or(Duration::ZERO),
            measure: run.measure.duration.unwrap_or(Duration::ZERO),
        };
        let model = point
            .vars
            .get("model")
            .cloned()
            .unwrap_or_else(|| ctx.scenario.target.model.clone());
        let headers: BTreeMap<String, String> = point
            .request
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), value.resolved.clone()))
            .collect();
        let client_point = ClientPoint {
            base: ctx.base.as_str().to_string(),
            route: point.request.path.clone(),
            concurrency: point.load.concurrency().map_or(1, NonZeroU32::get),
            warmup: phases.warmup,
            measure: phases.measure,
            payload_name: point.payload.clone().unwrap_or_default(),
            payload: point.request.body.to_vec(),
            model: Some(model),
            stream: point.request.stream,
            headers,
        };
        Self {
            spec,
            ctx,
            point: client_point,
            phases,
            record: ClientRecord::new(
                spec.name.clone(),
                spec.lang.clone().unwrap_or_else(|| spec.name.clone()),
            ),
        }
    }

    /// Run number `run`: start the client, wait for it (or stop it), read its figures.
    pub(crate) async fn run(&mut self, run: u32) -> RunEnd {
        let runs = self.ctx.scenario.run.runs.get();
        self.ctx.events.on(Event::ClientStarted {
            client: &self.spec.name,
            run,
            runs,
            expected: self.phases.warmup + self.phases.measure,
        });
        let record = run_client(self.spec, &self.point, &self.ctx.stop).await;
        self.ctx.events.on(Event::ClientFinished {
            run,
            runs,
            record: &record,
        });
        let end = RunEnd {
            stats: run_stats(run, &record, self.phases),
            stopped: matches!(record.outcome, Outcome::Stopped),
            // A program that is not installed will not be there for the next run either.
            last: matches!(record.outcome, Outcome::Skipped { .. }),
        };
        self.record.push(record);
        end
    }

    /// Every run, as it went.
    pub(crate) fn finish(self) -> ClientRecord {
        self.record
    }
}
