//! Charts beside the report: per route, latency (p50 and p99) and throughput against
//! concurrency, one line per combination of payload and user axis values (`S model=a`), drawn
//! by `svg`. Points that differ only in concurrency share a line; nothing else does.
//!
//! Latency lines leave out points where no request succeeded (their latency does not exist; a
//! line at 0 would read as "instant"); a chart with nothing to draw says so. File names are
//! stable and unique per route name (see `file_names`).

use super::RunReport;
use super::routes::by_route;
use super::svg::{self, Chart, Series};
use super::view::{AxisCell, PointRow, row};

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// The chart files of `route`: latency, then throughput.
///
/// A name made only of `a-z`, `0-9`, `-` and `_` is used as it is (`chart-chat-latency.svg`);
/// any other name is lowercased, its other characters turned into `_`, and a hash of the
/// exact name appended (`chart-a_b-5d2f8c1e-latency.svg` for `a.b`), so that `a.b`, `a_b` and
/// `A_b` get distinct files, also on case-insensitive file systems, run after run.
pub(crate) fn file_names(route: &str) -> [String; 2] {
    let plain = !route.is_empty()
        && route
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let stem = if plain {
        route.to_string()
    } else {
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
    };
    [
        format!("chart-{stem}-latency.svg"),
        format!("chart-{stem}-throughput.svg"),
    ]
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
        // Points stopped before their first run finished have nothing to draw.
        let rows: Vec<PointRow> = group
            .points
            .iter()
            .filter(|p| !p.runs.is_empty())
            .map(|p| row(p, &report.axes))
            .collect();
        let mut levels: Vec<u32> = group.points.iter().map(|p| p.concurrency).collect();
        levels.sort_unstable();
        levels.dedup();
        let mut lines: Vec<(&str, &[AxisCell])> = Vec::new();
        for r in &rows {
            let key = (r.payload.as_str(), r.axes.as_slice());
            if !lines.contains(&key) {
                lines.push(key);
            }
        }
        let mut latency = Vec::new();
        let mut throughput = Vec::new();
        for (i, &(payload, axes)) in lines.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let name = line_name(payload, axes);
            let of = |figure: &dyn Fn(&PointRow) -> Option<f64>| -> Vec<(u32, f64)> {
                rows.iter()
                    .filter(|r| r.payload == payload && r.axes == axes)
                    .filter_map(|r| figure(r).map(|v| (r.concurrency, v)))
                    .collect()
            };
            latency.push(Series {
                label: format!("{name} p50"),
                dashed: false,
                color,
                points: of(&|r| r.p50.map(|s| s.median)),
            });
            latency.push(Series {
                label: format!("{name} p99"),
                dashed: true,
                color,
                points: of(&|r| r.p99.map(|s| s.median)),
            });
            throughput.push(Series {
                label: name,
                dashed: false,
                color,
                points: of(&|r| r.rps.map(|s| s.median)),
            });
        }
        let [latency_file, throughput_file] = file_names(group.name);
        out.push((
            latency_file,
            svg::render(&Chart {
                title: &format!("{}: latency vs concurrency", group.name),
                y_label: "latency (ms)",
                levels: &levels,
                series: &latency,
                empty_note: "no successful requests",
            }),
        ));
        out.push((
            throughput_file,
            svg::render(&Chart {
                title: &format!("{}: throughput vs concurrency", group.name),
                y_label: "requests / s",
                levels: &levels,
                series: &throughput,
                empty_note: "no measured runs",
            }),
        ));
    }
    out
}

/// A line's legend: the payload, then each user axis as `name=value` (`S model=a`); `all`
/// for the one line of a matrix with neither (a row's payload is `-` when it has none).
fn line_name(payload: &str, axes: &[AxisCell]) -> String {
    let parts: Vec<String> = std::iter::once(payload.to_string())
        .filter(|p| p != "-")
        .chain(axes.iter().map(|a| format!("{}={}", a.name, a.value)))
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
        assert_eq!(line_name("S", &axes), "S lang=rust n=2");
        assert_eq!(line_name("-", &axes[..1]), "lang=rust");
        assert_eq!(line_name("-", &[]), "all");
    }

    #[test]
    fn file_names_are_stable_and_unique() {
        assert_eq!(
            file_names("chat"),
            ["chart-chat-latency.svg", "chart-chat-throughput.svg"]
        );
        assert_eq!(file_names("a_b")[0], "chart-a_b-latency.svg");
        let dotted = file_names("a.b");
        let upper = file_names("A_b");
        assert!(dotted[0].starts_with("chart-a_b-") && dotted[0].ends_with("-latency.svg"));
        let all = [
            file_names("a_b")[0].clone(),
            dotted[0].clone(),
            upper[0].clone(),
            file_names("a b")[0].clone(),
        ];
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
