//! Charts beside the report, as small hand-written SVG files that GitHub renders inline:
//! per route, latency (p50 and p99) and throughput against concurrency, one line per payload.

use std::fmt::Write;

use super::RunReport;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 160.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 44.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// The chart files of `route`, as the report links them.
pub(crate) fn file_names(route: &str) -> Vec<String> {
    let safe: String = route
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    vec![
        format!("chart-{safe}-latency.svg"),
        format!("chart-{safe}-throughput.svg"),
    ]
}

/// One line of a chart.
struct Series {
    label: String,
    dashed: bool,
    color: &'static str,
    points: Vec<(u32, f64)>,
}

/// Every chart of the report: (file name, SVG text).
pub(crate) fn render(report: &RunReport) -> Vec<(String, String)> {
    let mut routes: Vec<&str> = Vec::new();
    for p in &report.points {
        if !routes.contains(&p.route.as_str()) {
            routes.push(&p.route);
        }
    }
    let mut out = Vec::new();
    for route in routes {
        let points: Vec<_> = report.points.iter().filter(|p| p.route == route).collect();
        let mut payloads: Vec<String> = Vec::new();
        for p in &points {
            let name = p.payload.clone().unwrap_or_else(|| "-".into());
            if !payloads.contains(&name) {
                payloads.push(name);
            }
        }
        let mut latency = Vec::new();
        let mut throughput = Vec::new();
        for (i, payload) in payloads.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let of = |f: &dyn Fn(&crate::metrics::PointAggregate) -> f64| -> Vec<(u32, f64)> {
                points
                    .iter()
                    .filter(|p| {
                        p.payload.as_deref().unwrap_or("-") == payload && !p.runs.is_empty()
                    })
                    .map(|p| (p.concurrency, f(&p.aggregate)))
                    .collect()
            };
            latency.push(Series {
                label: format!("{payload} p50"),
                dashed: false,
                color,
                points: of(&|a| a.latency_p50_ms.median),
            });
            latency.push(Series {
                label: format!("{payload} p99"),
                dashed: true,
                color,
                points: of(&|a| a.latency_p99_ms.median),
            });
            throughput.push(Series {
                label: payload.clone(),
                dashed: false,
                color,
                points: of(&|a| a.throughput_rps.median),
            });
        }
        let names = file_names(route);
        out.push((
            names[0].clone(),
            chart(
                &format!("{route}: latency vs concurrency"),
                "latency (ms)",
                &latency,
            ),
        ));
        out.push((
            names[1].clone(),
            chart(
                &format!("{route}: throughput vs concurrency"),
                "requests / s",
                &throughput,
            ),
        ));
    }
    out
}

/// A round step for about five ticks up to `max`.
fn tick_step(max: f64) -> f64 {
    let raw = (max / 5.0).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// A tick label with as many decimals as the step needs.
fn label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
            + usize::from(step * 10f64.powf(-step.log10().floor()) % 1.0 > 0.0)
    };
    format!("{v:.decimals$}")
}

fn chart(title: &str, y_label: &str, series: &[Series]) -> String {
    let mut xs: Vec<u32> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    xs.sort_unstable();
    xs.dedup();
    let max_y = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let step = tick_step(if max_y > 0.0 { max_y } else { 1.0 });
    let top_y = (max_y / step).ceil().max(1.0) * step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_of = |c: u32| {
        let i = xs.iter().position(|x| *x == c).unwrap_or(0) as f64;
        if xs.len() <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + i * plot_w / (xs.len() - 1) as f64
        }
    };
    let y_of = |v: f64| TOP + plot_h - v / top_y * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>
"##,
        escape(title)
    );
    let mut v = 0.0;
    while v <= top_y + step / 2.0 {
        let y = y_of(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e0e0e0"/>"##,
            LEFT + plot_w
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + 4.0,
            label(v, step)
        );
        v += step;
    }
    for &c in &xs {
        let x = x_of(c);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#999999"/>"##,
            TOP + plot_h,
            TOP + plot_h + 4.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{c}</text>"#,
            TOP + plot_h + 18.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}" stroke="#333333"/><line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333333"/>"##,
        TOP + plot_h,
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">concurrency</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 8.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="14" y="{:.1}" text-anchor="middle" transform="rotate(-90 14 {:.1})">{}</text>"#,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(y_label)
    );
    for (i, s) in series.iter().enumerate() {
        let dash = if s.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let path: Vec<String> = s
            .points
            .iter()
            .map(|(c, v)| format!("{:.1},{:.1}", x_of(*c), y_of(*v)))
            .collect();
        if !path.is_empty() {
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
                path.join(" "),
                s.color
            );
            for (c, v) in &s.points {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                    x_of(*c),
                    y_of(*v),
                    s.color
                );
            }
        }
        let ly = TOP + 8.0 + i as f64 * 18.0;
        let lx = LEFT + plot_w + 16.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"{dash}/>"#,
            lx + 22.0,
            s.color
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 28.0,
            ly + 4.0,
            escape(&s.label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(10.0), 2.0);
        assert_eq!(tick_step(1234.0), 250.0);
        assert_eq!(tick_step(0.9), 0.2);
    }
}
