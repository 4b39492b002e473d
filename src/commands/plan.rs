//! `nitro-scenario plan FILE`: the expanded points (with their client, on a client axis),
//! their phases and the estimated wall time.

use std::fmt::Write;
use std::process::ExitCode;
use std::time::Duration;

use super::validate::{print_problems, print_warnings};
use crate::cli::PlanArgs;
use crate::report;
use crate::scenario::load::format_rate;
use crate::scenario::{
    self, BUILTIN_CLIENT, BaseUrl, BodyCheck, ClientRef, Overrides, PhaseLimit, Point, Scenario,
    ScenarioError, units,
};

/// Carry out `plan`: print the plan on stdout; problems and warnings go to stderr like
/// `validate`'s.
pub(super) fn plan(args: PlanArgs) -> anyhow::Result<ExitCode> {
    match load_and_expand(&args) {
        Ok((scenario, overrides, points)) => {
            print_warnings(&scenario);
            print!("{}", render(&scenario, &overrides.shown(), &points));
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            print_problems(&err);
            Ok(ExitCode::from(super::EXIT_ERROR))
        }
    }
}

fn load_and_expand(args: &PlanArgs) -> Result<(Scenario, Overrides, Vec<Point>), ScenarioError> {
    let overrides = Overrides::from_args_and_env(&args.set)?;
    let scenario = scenario::load(&args.file, &overrides)?;
    let points = scenario::expand(&scenario)?;
    Ok((scenario, overrides, points))
}

/// The plan as text: header (with the overrides in effect, secrets redacted), one aligned row
/// per point, totals.
pub(crate) fn render(scenario: &Scenario, overrides: &[String], points: &[Point]) -> String {
    let mut out = String::new();
    let target = match &scenario.target.base_url {
        BaseUrl::Mock => "mock (built-in, started for the run)".to_string(),
        BaseUrl::Url { display, .. } => display.to_string(),
    };
    let _ = writeln!(out, "scenario   {}", scenario.name);
    let _ = writeln!(out, "target     {target}");
    if !overrides.is_empty() {
        let _ = writeln!(out, "overrides  {}", overrides.join(", "));
    }
    let warmup = scenario
        .run
        .warmup
        .map_or_else(|| "none".to_string(), |w| phase(&w));
    let _ = writeln!(
        out,
        "phases     warmup {warmup}, measure {}, {} run(s) per point",
        phase(&scenario.run.measure),
        scenario.run.runs
    );
    if points.iter().any(|p| p.load.open_loop().is_some()) {
        let a = &scenario.run.arrival;
        let _ = writeln!(
            out,
            "arrival    {}, seed {}, at most {} in flight",
            a.process.describe(),
            a.seed,
            report::thousands(u64::from(a.max_in_flight.get()))
        );
    }
    if !scenario.run.stages.is_empty() {
        let stages: Vec<String> = scenario
            .run
            .stages
            .iter()
            .map(|s| {
                format!(
                    "{} to {} req/s",
                    units::format_duration(s.duration),
                    format_rate(s.rate)
                )
            })
            .collect();
        let _ = writeln!(out, "stages     from 0 req/s: {}", stages.join(", "));
    }
    if let Some(slo) = &scenario.slo {
        let _ = writeln!(out, "slo        {}", slo.describe());
    }
    if let Some(search) = &scenario.search {
        let _ = writeln!(
            out,
            "search     {}: at most {} probes per run",
            search.describe(),
            search.worst_case_probes()
        );
    }
    client_lines(&mut out, scenario);
    let _ = writeln!(out);
    // The client column only when the matrix has a client axis: plans without one stay as
    // they were.
    let with_client = !scenario.matrix.client.is_empty();
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let mut row = row(scenario, p).to_vec();
            if with_client {
                row.insert(CLIENT_COLUMN, client_cell(scenario, p));
            }
            row
        })
        .collect();
    let mut header = vec!["point", "request", "payload", "load", "time", "answer"];
    if with_client {
        header.insert(CLIENT_COLUMN, "client");
    }
    let time_column = header.iter().position(|h| *h == "time");
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if Some(i) == time_column {
                let _ = write!(s, "{cell:>w$}  ");
            } else {
                let _ = write!(s, "{cell:<w$}  ");
            }
        }
        s.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(&header));
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let _ = writeln!(out, "{}", line(&cells));
    }
    let estimate = scenario::estimate(scenario, points);
    let _ = writeln!(out);
    let _ = write!(
        out,
        "{} points x {} run(s); estimated wall time ",
        points.len(),
        scenario.run.runs
    );
    if estimate.lower_bound {
        let _ = write!(
            out,
            "at least {} (closed-loop phases that end after a number of requests are not counted)",
            format_estimate(estimate.wall)
        );
    } else {
        let _ = write!(out, "{}", format_estimate(estimate.wall));
    }
    if estimate.worst_case {
        let _ = write!(out, "; searches counted at their most probes");
    }
    if estimate.longest > estimate.wall {
        let _ = write!(
            out,
            "; at most {} if every external client runs until its timeout",
            format_estimate(estimate.longest)
        );
    }
    let _ = writeln!(out);
    out
}

/// Where the client column goes: after the load.
const CLIENT_COLUMN: usize = 4;

/// The client of a point.
fn client_cell(scenario: &Scenario, p: &Point) -> String {
    match p.client {
        ClientRef::Builtin => BUILTIN_CLIENT.to_string(),
        ClientRef::External(i) => scenario.clients[i].name.clone(),
    }
}

/// The header lines of the external clients the matrix runs: name, command, time allowance.
fn client_lines(out: &mut String, scenario: &Scenario) {
    for (i, spec) in scenario.clients.iter().enumerate() {
        if !scenario.matrix.client.contains(&ClientRef::External(i)) {
            continue;
        }
        let label = spec
            .lang
            .as_ref()
            .map_or(String::new(), |lang| format!(", lang {lang}"));
        let _ = writeln!(
            out,
            "client     {}: {} (timeout {} past its phases{label})",
            spec.name,
            spec.command.join(" "),
            units::format_duration(spec.timeout)
        );
    }
}

/// One row: id, request, payload and body size, load model, estimated time of its runs, and
/// what a good answer is.
fn row(scenario: &Scenario, p: &Point) -> [String; 6] {
    let size = p.request.body.len();
    let payload = format!("{} ({size} B body)", p.payload.as_deref().unwrap_or("-"));
    let check = match p.request.expect.body {
        BodyCheck::Json => "json",
        BodyCheck::Sse => "sse",
        BodyCheck::Any => "any",
    };
    let estimate = scenario::point_estimate(scenario, p);
    let bound = match (estimate.lower_bound, estimate.worst_case) {
        (true, _) => "≥ ",
        (false, true) => "≤ ",
        (false, false) => "",
    };
    let time = format!("{bound}{}", format_estimate(estimate.wall));
    let answer = if p.request.expect.status.is_empty() {
        check.to_string()
    } else {
        let codes: Vec<String> = p.request.expect.status.iter().map(u16::to_string).collect();
        format!("{check}, status {}", codes.join("|"))
    };
    [
        p.id.clone(),
        format!("{} {}", p.request.method, p.request.path),
        payload,
        p.load.describe(),
        time,
        answer,
    ]
}

fn phase(limit: &PhaseLimit) -> String {
    match (limit.duration, limit.requests) {
        (Some(d), Some(n)) => format!("{} or {n} requests", units::format_duration(d)),
        (Some(d), None) => units::format_duration(d),
        (None, Some(n)) => format!("{n} requests"),
        (None, None) => "unbounded".into(),
    }
}

/// An estimate as precise as it is useful: `0.6s`, `42s`, `7m30s`, `7h30m`, `3d4h`.
fn format_estimate(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 9_950 {
        return format!("{:.1}s", d.as_secs_f64());
    }
    let joined = |big: u128, big_unit: &str, small: u128, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit}{small}{small_unit}")
        }
    };
    let secs = (ms + 500) / 1000;
    if secs < 60 {
        return format!("{secs}s");
    }
    if secs < 3600 {
        return joined(secs / 60, "m", secs % 60, "s");
    }
    let mins = (secs + 30) / 60;
    if mins < 24 * 60 {
        return joined(mins / 60, "h", mins % 60, "m");
    }
    let hours = (mins + 30) / 60;
    if hours >= 1000 * 24 {
        return "more than 1000 days".into();
    }
    joined(hours / 24, "d", hours % 24, "h")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_keep_sub_minute_precision() {
        let ms = Duration::from_millis;
        assert_eq!(format_estimate(Duration::ZERO), "0s");
        assert_eq!(format_estimate(ms(600)), "0.6s");
        assert_eq!(format_estimate(ms(6_040)), "6.0s");
        assert_eq!(format_estimate(ms(42_400)), "42s");
        assert_eq!(format_estimate(ms(90_000)), "1m30s");
        assert_eq!(format_estimate(ms(120_000)), "2m");
        assert_eq!(format_estimate(ms(27_006_000)), "7h30m");
        assert_eq!(format_estimate(ms(3_599_800)), "1h");
        assert_eq!(format_estimate(ms(97_200_000)), "1d3h");
        assert_eq!(format_estimate(Duration::MAX), "more than 1000 days");
    }
}
