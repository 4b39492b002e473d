//! Charts beside the report: per route and load axis, latency (p50 and p99) and throughput
//! against the axis — concurrency for closed-loop points — one line per combination of
//! payload, user axis values and client (`S model=a node`), drawn by `svg`. Points that differ
//! only in their load share a line; nothing else does.
//!
//! Latency lines leave out points where no request succeeded (their latency does not exist; a
//! line at 0 would read as "instant"); a chart with nothing to draw says so. File names are
//! stable and unique per route name (see `file_stem`).

use serde::Serialize;

use super::RunReport;
use super::routes::{RouteGroup, by_route};
use super::svg::{self, Chart, Series};
use super::view::{AxisCell, PointRow, row};

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// One chart file beside the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ChartRef {
    /// File name, `chart-chat-latency.svg`.
    pub(crate) file: String,
    /// What it shows, for alt text: `chat latency against concurrency`.
    pub(crate) alt: String,
}

/// One line of a plot, per payload and axis-values combination: its legend suffix, whether it
/// is dashed, and the figure it draws.
type Line = (&'static str, bool, fn(&PointRow) -> Option<f64>);

/// What one chart of a load axis plots.
struct Plot {
    /// File name part after the route's: `latency`.
    what: &'static str,
    /// Y-axis title.
    y_label: &'static str,
    /// Shown when nothing is drawn.
    empty_note: &'static str,
    /// The lines of one payload and axis-values combination: (legend suffix, dashed, figure).
    lines: &'static [Line],
}

const CLOSED_PLOTS: &[Plot] = &[
    Plot {
        what: "latency",
        y_label: "latency (ms)",
        empty_note: "no successful requests",
        lines: &[
            (" p50", false, |r| r.p50.map(|s| s.median)),
            (" p99", true, |r| r.p99.map(|s| s.median)),
        ],
    },
    Plot {
        what: "throughput",
        y_label: "requests / s",
        empty_note: "no measured runs",
        lines: &[("", false, |r| r.rps.map(|s| s.median))],
    },
];

const RATE_PLOTS: &[Plot] = &[
    Plot {
        what: "latency",
        y_label: "latency (ms)",
        empty_note: "no successful requests",
        lines: &[
            (" response p50", false, |r| r.p50.map(|s| s.median)),
            (" response p99", true, |r| r.p99.map(|s| s.median)),
            (" service p50", false, |r| r.service_p50.map(|s| s.median)),
            (" service p99", true, |r| r.service_p99.map(|s| s.median)),
        ],
    },
    Plot {
        what: "throughput",
        y_label: "requests / s",
        empty_note: "no measured runs",
        lines: &[
            (" offered", true, |r| r.offered_rps.map(|s| s.median)),
            (" achieved", false, |r| r.achieved_rps.map(|s| s.median)),
        ],
    },
    Plot {
        what: "ttft",
        y_label: "time to first token (ms)",
        empty_note: "no stream measured",
        lines: &[
            (" response p50", false, |r| r.ttft_p50.map(|s| s.median)),
            (" response p99", true, |r| r.ttft_p99.map(|s| s.median)),
            (" service p50", false, |r| {
                r.service_ttft_p50.map(|s| s.median)
            }),
            (" service p99", true, |r| {
                r.service_ttft_p99.map(|s| s.median)
            }),
        ],
    },
];

/// The plots of the load axis `name`, and the file name part that sets them apart from
/// another axis's (`""` for concurrency, whose charts kept their names).
fn plots(axis: &str) -> (&'static str, &'static [Plot]) {
    match axis {
        "rate" => ("rate-", RATE_PLOTS),
        _ => ("", CLOSED_PLOTS),
    }
}

/// The plots of `axis` for a route that streams or not: TTFT only for streams.
fn plots_for(axis: &str, stream: bool) -> impl Iterator<Item = &'static Plot> {
    plots(axis)
        .1
        .iter()
        .filter(move |p| stream || p.what != "ttft")
}

/// The x-axis title of `axis`.
fn x_label(axis: &str) -> String {
    match axis {
        "rate" => "rate, req/s (levels evenly spaced)".into(),
        other => format!("{other} (levels evenly spaced)"),
    }
}

/// The load axes of `points`, in order of first appearance.
fn axes_of(points: &[&crate::metrics::PointResult]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for p in points {
        let name = p.load.axis().name;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The chart files of a route's points, per load axis in order of first appearance: for
/// concurrency, latency then throughput (`chart-chat-latency.svg`, `chart-chat-throughput.svg`).
pub(crate) fn charts_of(group: &RouteGroup<'_>) -> Vec<ChartRef> {
    let stem = file_stem(group.name);
    axes_of(&group.points)
        .into_iter()
        .flat_map(|axis| {
            let part = plots(axis).0;
            let stem = &stem;
            plots_for(axis, group.stream).map(move |plot| ChartRef {
                file: format!("chart-{stem}-{part}{}.svg", plot.what),
                alt: format!("{} {} against {axis}", group.name, plot.what),
            })
        })
        .collect()
}

/// The part of a chart file name naming `route`.
///
/// A name made only of `a-z`, `0-9`, `-` and `_` is used as it is (`chart-chat-latency.svg`);
/// any other name is lowercased, its other characters turned into `_`, and a hash of the
/// exact name appended (`chart-a_b-5d2f8c1e-latency.svg` for `a.b`), so that `a.b`, `a_b` and
/// `A_b` get distinct files, also on case-insensitive file systems, run after run.
fn file_stem(route: &str) -> String {
    let plain = !route.is_empty()
        && route
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if plain {
        return route.to_string();
    }
    let safe: String = route
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}-{:08x}", fnv1a(route))
}

/// 32-bit FNV-1a: tiny, and unlike `std`'s hasher, the same in every Rust release.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Every chart of the report: (file name, SVG text).
pub(crate) fn render(report: &RunReport) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for group in by_route(&report.points) {
        let mut files = charts_of(&group).into_iter();
        for axis in axes_of(&group.points) {
            // Points stopped before their first run finished have nothing to draw.
            let rows: Vec<PointRow> = group
                .points
                .iter()
                .filter(|p| p.load.axis().name == axis)
                .filter(|p| !p.runs.is_empty())
                .map(|p| row(p, &report.axes))
                .collect();
            let mut levels: Vec<(f64, String)> = group
                .points
                .iter()
                .map(|p| p.load.axis())
                .filter(|a| a.name == axis)
                .map(|a| (a.value, a.label))
                .collect();
            levels.sort_by(|a, b| a.0.total_cmp(&b.0));
            levels.dedup();
            let labels: Vec<String> = levels.into_iter().map(|l| l.1).collect();
            let mut lines: Vec<LineKey<'_>> = Vec::new();
            for r in &rows {
                let key = (r.payload.as_str(), r.axes.as_slice(), r.client.as_deref());
                if !lines.contains(&key) {
                    lines.push(key);
                }
            }
            let x_label = x_label(axis);
            for (plot, file) in plots_for(axis, group.stream).zip(files.by_ref()) {
                let mut series = Vec::new();
                for (i, &(payload, axes, client)) in lines.iter().enumerate() {
                    let color = COLORS[i % COLORS.len()];
                    let name = line_name(payload, axes, client);
                    for &(suffix, dashed, figure) in plot.lines {
                        let points = rows
                            .iter()
                            .filter(|r| {
                                r.payload == payload
                                    && r.axes == axes
                                    && r.client.as_deref() == client
                            })
                            .filter_map(|r| {
                                let x = labels.iter().position(|l| *l == r.x.label)?;
                                figure(r).map(|v| (x, v))
                            })
                            .collect();
                        series.push(Series {
                            label: format!("{name}{suffix}"),
                            dashed,
                            color,
                            points,
                        });
                    }
                }
                let title = format!("{}: {} vs {axis}", group.name, plot.what);
                let svg = svg::render(&Chart {
                    title: &title,
                    y_label: plot.y_label,
                    x_label: &x_label,
                    levels: &labels,
                    series: &series,
                    empty_note: plot.empty_note,
                });
                out.push((file.file, svg));
            }
        }
    }
    out
}

/// What sets one line apart from another: payload, user axis values and client.
type LineKey<'a> = (&'a str, &'a [AxisCell], Option<&'a str>);

/// A line's legend: the payload, each user axis as `name=value`, then the client (`S
/// model=a node`); `all` for the one line of a matrix with none of them (a row's payload is
/// `-` when it has none).
fn line_name(payload: &str, axes: &[AxisCell], client: Option<&str>) -> String {
    let parts: Vec<String> = std::iter::once(payload.to_string())
        .filter(|p| p != "-")
        .chain(axes.iter().map(|a| format!("{}={}", a.name, a.value)))
        .chain(client.map(str::to_string))
        .collect();
    if parts.is_empty() {
        "all".into()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_names_carry_the_axis_values() {
        let axes = [
            AxisCell {
                name: "lang".into(),
                value: "rust".into(),
            },
            AxisCell {
                name: "n".into(),
                value: "2".into(),
            },
        ];
        assert_eq!(line_name("S", &axes, None), "S lang=rust n=2");
        assert_eq!(line_name("-", &axes[..1], None), "lang=rust");
        assert_eq!(line_name("-", &[], None), "all");
        assert_eq!(line_name("S", &[], Some("node")), "S node");
        assert_eq!(line_name("-", &[], Some("builtin")), "builtin");
    }

    #[test]
    fn closed_points_keep_their_chart_names() {
        let point = |c: u32| crate::metrics::PointResult {
            id: format!("chat-c{c}"),
            route: "chat".into(),
            path: "/v1/chat/completions".into(),
            payload: None,
            payload_bytes: 0,
            load: crate::scenario::LoadModel::Closed {
                concurrency: std::num::NonZeroU32::new(c).unwrap(),
            },
            stream: false,
            vars: Default::default(),
            runs: Vec::new(),
            aggregate: Default::default(),
            partial: false,
            finished_unix_ms: None,
            client: None,
        };
        let points = [point(1), point(8)];
        let group = &by_route(&points)[0];
        let files: Vec<(String, String)> = charts_of(group)
            .into_iter()
            .map(|c| (c.file, c.alt))
            .collect();
        assert_eq!(
            files,
            [
                (
                    "chart-chat-latency.svg".to_string(),
                    "chat latency against concurrency".to_string()
                ),
                (
                    "chart-chat-throughput.svg".to_string(),
                    "chat throughput against concurrency".to_string()
                ),
            ]
        );
    }

    #[test]
    fn file_names_are_stable_and_unique() {
        assert_eq!(file_stem("chat"), "chat");
        assert_eq!(file_stem("a_b"), "a_b");
        let dotted = file_stem("a.b");
        let upper = file_stem("A_b");
        assert!(dotted.starts_with("a_b-") && dotted.len() == "a_b-".len() + 8);
        let all = [file_stem("a_b"), dotted, upper, file_stem("a b")];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // Pinned to the published FNV-1a test vectors: another hash would rename every
        // committed chart of such a route.
        assert_eq!(fnv1a("a"), 0xe40c_292c);
        assert_eq!(fnv1a("foobar"), 0xbf9c_f968);
    }
}
