//! Reports: one serializable `RunReport` feeds pure renderers — `report.md` from minijinja
//! templates, `results.csv`, `results.json` (with the replaced framework's per-point objects)
//! and SVG charts — and one function, `write_all`, writes them atomically.
//!
//! Pipeline inside: `run_report` assembles the report (secrets scrubbed by `secrets`, facts
//! read back from the echo by `echo`); `view` picks each point's figures once (`routes` groups
//! them, `clients` sets clients side by side, `slo_view` the SLO verdicts and searches);
//! `markdown`, `csv_out`, `json_out` + `framework` and `charts` + `svg` render text;
//! `filters` formats numbers for all of them; `templates` loads templates; `preflight` checks
//! them before a run; `write` writes. `report` never reaches back into `runner`.

mod charts;
mod clients;
mod csv_out;
mod echo;
mod error;
mod filters;
mod framework;
mod host;
mod json_out;
mod markdown;
mod preflight;
mod routes;
mod run_report;
mod secrets;
mod slo_view;
mod summary;
mod svg;
mod templates;
mod view;
mod write;

pub use error::ReportError;
pub(crate) use filters::{
    bytes as format_bytes, grouped as format_grouped, rate as format_rate, rate_decimals, thousands,
};
pub use json_out::render as results_json;
pub use preflight::check_templates;
pub use run_report::{HostFacts, MAX_RESULTS_BYTES, RunReport, load_results, shown_target};
pub use summary::summary_table;
pub use templates::Templates;
pub use write::{OutputPlan, check_writable, write_all, write_reporting, write_results_json};
