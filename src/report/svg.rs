//! One line chart as a small hand-written SVG that GitHub renders inline: round y ticks whose
//! labels carry the decimals their step needs, categorical x positions (one per level of the
//! load axis — concurrency or rate — evenly spaced and labelled so), a legend, and a note when
//! there is nothing to draw.

use std::fmt::Write;

use super::filters::grouped;

/// Width and height when the legend fits beside the plot; longer or more legend lines widen
/// or heighten the chart.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;
/// Room right of the plot for the legend, at least.
const RIGHT: f64 = 160.0;
/// Height of one legend line.
const LEGEND_LINE: f64 = 18.0;
/// Legend text starts this far right of the plot: a gap, the line sample and a gap.
const LEGEND_TEXT: f64 = 44.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 44.0;
/// Width of a tick-label character at font-size 12, generously (digits are ~6.7 px).
const CHAR_WIDTH: f64 = 7.0;
/// Room left of the tick labels for the rotated y-axis title.
const TITLE_ROOM: f64 = 32.0;

/// One line of a chart.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// Legend text.
    pub(crate) label: String,
    /// Dashed stroke (p99 lines).
    pub(crate) dashed: bool,
    /// Stroke colour, `#rrggbb`.
    pub(crate) color: &'static str,
    /// (index into the chart's `levels`, value); non-finite values are left out.
    pub(crate) points: Vec<(usize, f64)>,
}

/// What a chart shows.
#[derive(Debug, Clone)]
pub(crate) struct Chart<'a> {
    /// Title above the plot.
    pub(crate) title: &'a str,
    /// Y-axis title.
    pub(crate) y_label: &'a str,
    /// The x positions' labels, left to right: every level of the route's load axis.
    pub(crate) levels: &'a [String],
    /// X-axis title: `concurrency (levels evenly spaced)`.
    pub(crate) x_label: &'a str,
    /// The lines.
    pub(crate) series: &'a [Series],
    /// Shown in the plot when no series has a point.
    pub(crate) empty_note: &'a str,
}

/// A round step for about five ticks up to `max`.
pub(crate) fn tick_step(max: f64) -> f64 {
    let raw = (max / 5.0).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// Decimals needed to write every multiple of `step` exactly: 250 → 0, 2.5 → 1, 0.25 → 2.
pub(crate) fn decimals(step: f64) -> usize {
    (0..9)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(9)
}

/// The y tick values and their labels for data up to `max_y`.
pub(crate) fn ticks(max_y: f64) -> Vec<(f64, String)> {
    let step = tick_step(if max_y > 0.0 { max_y } else { 1.0 });
    let count = (max_y / step).ceil().max(1.0) as usize;
    let d = decimals(step);
    (0..=count)
        .map(|i| {
            let v = i as f64 * step;
            (v, grouped(v, d))
        })
        .collect()
}

/// The SVG text of `chart`.
pub(crate) fn render(chart: &Chart<'_>) -> String {
    let lines: Vec<(&Series, Vec<(usize, f64)>)> = chart
        .series
        .iter()
        .map(|s| {
            let pts = s
                .points
                .iter()
                .copied()
                .filter(|(c, v)| v.is_finite() && *c < chart.levels.len())
                .collect();
            (s, pts)
        })
        .collect();
    let empty = lines.iter().all(|(_, pts)| pts.is_empty());
    // A chart with no data draws no lines, so it names none either: the note says why.
    let legend: &[Series] = if empty { &[] } else { chart.series };
    let max_y = lines
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let ticks = if empty { Vec::new() } else { ticks(max_y) };
    let top_y = ticks.last().map_or(1.0, |t| t.0).max(f64::MIN_POSITIVE);
    let widest = ticks.iter().map(|t| t.1.len()).max().unwrap_or(1) as f64;
    let left = (TITLE_ROOM + CHAR_WIDTH * widest).max(64.0);
    let longest_label = legend
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(0) as f64;
    let right = (LEGEND_TEXT + CHAR_WIDTH * longest_label + 8.0).max(RIGHT);
    let width = WIDTH - RIGHT + right;
    let height = (TOP + 8.0 + LEGEND_LINE * legend.len() as f64 + BOTTOM).max(HEIGHT);
    let plot_w = WIDTH - left - RIGHT;
    let plot_h = height - TOP - BOTTOM;
    let levels = chart.levels;
    let x_of = |i: usize| {
        let i = i as f64;
        if levels.len() <= 1 {
            left + plot_w / 2.0
        } else {
            left + i * plot_w / (levels.len() - 1) as f64
        }
    };
    let y_of = |v: f64| TOP + plot_h - v / top_y * plot_h;
    let bottom = TOP + plot_h;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{left:.1}" y="20" font-size="14" font-weight="bold">{}</text>
"##,
        escape(chart.title)
    );
    for (v, label) in &ticks {
        let y = y_of(*v);
        let _ = writeln!(
            svg,
            r##"<line x1="{left:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e0e0e0"/>"##,
            left + plot_w
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#,
            left - 6.0,
            y + 4.0,
        );
    }
    for (i, c) in levels.iter().enumerate() {
        let x = x_of(i);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#999999"/>"##,
            bottom + 4.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            bottom + 18.0,
            escape(c)
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{left:.1}" y1="{TOP}" x2="{left:.1}" y2="{bottom:.1}" stroke="#333333"/><line x1="{left:.1}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}" stroke="#333333"/>"##,
        left + plot_w,
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        left + plot_w / 2.0,
        height - 8.0,
        escape(chart.x_label)
    );
    let mid = TOP + plot_h / 2.0;
    let _ = writeln!(
        svg,
        r#"<text x="14" y="{mid:.1}" text-anchor="middle" transform="rotate(-90 14 {mid:.1})">{}</text>"#,
        escape(chart.y_label)
    );
    if empty {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{mid:.1}" text-anchor="middle" fill="#666666">{}</text>"##,
            left + plot_w / 2.0,
            escape(chart.empty_note)
        );
    }
    for (i, (s, pts)) in lines.iter().enumerate().take(legend.len()) {
        let dash = if s.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        if !pts.is_empty() {
            let path: Vec<String> = pts
                .iter()
                .map(|(c, v)| format!("{:.1},{:.1}", x_of(*c), y_of(*v)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
                path.join(" "),
                s.color
            );
            for (c, v) in pts {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                    x_of(*c),
                    y_of(*v),
                    s.color
                );
            }
        }
        let ly = TOP + 8.0 + i as f64 * LEGEND_LINE;
        let lx = left + plot_w + 16.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"{dash}/>"#,
            lx + 22.0,
            s.color
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            left + plot_w + LEGEND_TEXT,
            ly + 4.0,
            escape(&s.label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Text content safe in XML: markup escaped, characters XML 1.0 forbids replaced.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_labelled_with_the_decimals_of_their_step() {
        assert_eq!(tick_step(10.0), 2.0);
        assert_eq!(tick_step(1234.0), 250.0);
        assert_eq!(tick_step(0.9), 0.2);
        assert_eq!(tick_step(12.0), 2.5);
        let labels = |max: f64| ticks(max).into_iter().map(|t| t.1).collect::<Vec<_>>();
        assert_eq!(labels(12.0), ["0.0", "2.5", "5.0", "7.5", "10.0", "12.5"]);
        assert_eq!(labels(10.0), ["0", "2", "4", "6", "8", "10"]);
        assert_eq!(labels(0.9), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(
            labels(1.2),
            ["0.00", "0.25", "0.50", "0.75", "1.00", "1.25"]
        );
        assert_eq!(
            labels(1_200_000.0),
            [
                "0",
                "250,000",
                "500,000",
                "750,000",
                "1,000,000",
                "1,250,000"
            ]
        );
        assert_eq!(decimals(0.05), 2);
    }

    #[test]
    fn wide_labels_move_the_plot_right_of_the_axis_title() {
        let series = [Series {
            label: "S".into(),
            dashed: false,
            color: "#000000",
            points: vec![(0, 1_200_000.0), (1, f64::NAN)],
        }];
        let svg = render(&Chart {
            title: "t",
            y_label: "requests / s",
            x_label: "concurrency",
            levels: &["1".into(), "8".into()],
            series: &series,
            empty_note: "EMPTY NOTE",
        });
        // "1,250,000" is 9 characters: the plot starts right of 32 + 9 * 7 = 95 px.
        assert!(
            svg.contains(r#"<text x="89.0" y="40.0" text-anchor="end">1,250,000</text>"#),
            "{svg}"
        );
        assert!(!svg.contains("NaN"));
        assert!(!svg.contains("EMPTY NOTE"));
    }

    #[test]
    fn an_empty_chart_says_why_and_names_no_series() {
        let series = [Series {
            label: "S p50".into(),
            dashed: false,
            color: "#000000",
            points: vec![(0, f64::NAN)],
        }];
        let svg = render(&Chart {
            title: "a & b",
            y_label: "latency (ms)",
            x_label: "concurrency",
            levels: &["1".into(), "32".into()],
            series: &series,
            empty_note: "no successful requests",
        });
        assert!(svg.contains(">no successful requests</text>"));
        assert!(svg.contains(">a &amp; b</text>"));
        assert!(!svg.contains("S p50"), "{svg}");
        assert!(!svg.contains("#000000"), "{svg}");
    }
}
