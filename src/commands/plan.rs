//! `nitro-scenario plan FILE`: the expanded points, their phases and the estimated wall time.

use std::fmt::Write;
use std::process::ExitCode;

use crate::cli::PlanArgs;
use crate::scenario::{self, BaseUrl, Overrides, PhaseLimit, Point, Scenario, units};

/// Carry out `plan`: print the plan on stdout.
pub(super) fn plan(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides::from_args_and_env(&args.set)?;
    let scenario = scenario::load(&args.file, &overrides)?;
    let points = scenario::expand(&scenario)?;
    print!("{}", render(&scenario, &points));
    Ok(ExitCode::SUCCESS)
}

/// The plan as text: header, one aligned row per point, totals.
pub(crate) fn render(scenario: &Scenario, points: &[Point]) -> String {
    let mut out = String::new();
    let target = match &scenario.target.base_url {
        BaseUrl::Mock => "mock (built-in, started for the run)".to_string(),
        BaseUrl::Url { display, .. } => display.to_string(),
    };
    let _ = writeln!(out, "scenario  {}", scenario.name);
    let _ = writeln!(out, "target    {target}");
    let warmup = scenario
        .run
        .warmup
        .map_or_else(|| "none".to_string(), |w| phase(&w));
    let _ = writeln!(
        out,
        "phases    warmup {warmup}, measure {}, {} run(s) per point",
        phase(&scenario.run.measure),
        scenario.run.runs
    );
    let _ = writeln!(out);
    let rows: Vec<[String; 5]> = points
        .iter()
        .map(|p| {
            let payload = match &p.payload {
                Some(name) => format!("{name} ({} B body)", p.request.body.len()),
                None => format!("- ({} B body)", p.request.body.len()),
            };
            let kind = if p.request.stream { "sse" } else { "json" };
            [
                p.id.clone(),
                format!("{} {}", p.request.method, p.request.path),
                payload,
                p.concurrency.to_string(),
                kind.into(),
            ]
        })
        .collect();
    let header = ["point", "request", "payload", "concurrency", "answer"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 3 {
                let _ = write!(s, "{cell:>w$}  ");
            } else {
                let _ = write!(s, "{cell:<w$}  ");
            }
        }
        s.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(header));
    for row in &rows {
        let _ = writeln!(
            out,
            "{}",
            line([&row[0], &row[1], &row[2], &row[3], &row[4]].map(String::as_str))
        );
    }
    let estimate = scenario::estimate(scenario, points);
    let bound = if estimate.lower_bound {
        "at least "
    } else {
        ""
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} points x {} run(s); estimated wall time {bound}{}",
        points.len(),
        scenario.run.runs,
        units::format_duration(std::time::Duration::from_secs(estimate.wall.as_secs()))
    );
    out
}

fn phase(limit: &PhaseLimit) -> String {
    match (limit.duration, limit.requests) {
        (Some(d), Some(n)) => format!("{} or {n} requests", units::format_duration(d)),
        (Some(d), None) => units::format_duration(d),
        (None, Some(n)) => format!("{n} requests"),
        (None, None) => "unbounded".into(),
    }
}
