//! Drawing a [`Chart`] as SVG with plain string formatting: lanes, lease bars labelled with
//! their fencing tokens, fault marks, crash lines, a time axis and a legend.
//!
//! Why it exists: the text timeline in a report shows a window of calls; this shows the whole
//! run at once, so a person sees who held which lease when, and what cut it short. Every
//! element has a `<title>`, so a browser shows the exact call on hover.

use std::fmt::Write;

use super::lanes::{Bar, BarEnd, Chart, Lane, MarkKind};

const LEFT: f64 = 96.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 78.0;
const ROW_H: f64 = 20.0;
const BAR_H: f64 = 16.0;
const LANE_PAD: f64 = 8.0;
const MARK_STRIP: f64 = 16.0;
const AXIS_H: f64 = 36.0;
/// Space below the last legend row.
const LEGEND_PAD: f64 = 16.0;
/// Approximate width of one character of the 11px label font.
const CHAR_W: f64 = 6.4;

/// Colours per process (colour-blind friendly Tableau 10).
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#e15759",
    "#bab0ac", "#ff9da7",
];

/// The picture's header: what ran and how it went.
pub struct Heading<'a> {
    /// First line (`recovery on memory, seed 3, faults light`).
    pub title: &'a str,
    /// Second line (`passed` / the failures).
    pub subtitle: &'a str,
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Scale {
    px_per_ms: f64,
}

impl Scale {
    fn x(&self, ms: u64) -> f64 {
        LEFT + ms as f64 * self.px_per_ms
    }
}

fn lane_height(lane: &Lane) -> f64 {
    LANE_PAD + lane.rows as f64 * ROW_H + MARK_STRIP
}

/// The SVG document.
pub fn render(chart: &Chart, heading: &Heading<'_>) -> String {
    let end_ms = chart.end_ms.max(1);
    let plot_w = (end_ms as f64 * 1.2).clamp(900.0, 2400.0);
    let scale = Scale {
        px_per_ms: plot_w / end_ms as f64,
    };
    let width = LEFT + plot_w + RIGHT;
    let mut body = String::new();
    let mut y = TOP;
    for (i, lane) in chart.lanes.iter().enumerate() {
        draw_lane(&mut body, chart, lane, &scale, y, i);
        y += lane_height(lane);
    }
    draw_verticals(&mut body, chart, &scale, TOP, y);
    draw_axis(&mut body, &scale, end_ms, y, width - RIGHT);
    let legend_end = draw_legend(&mut body, chart, y + AXIS_H + 8.0, width - RIGHT);
    let height = legend_end + LEGEND_PAD;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#
    );
    svg.push_str(DEFS);
    let _ = writeln!(
        svg,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>
<text x="16" y="24" font-size="16" font-weight="bold">{}</text>
<text x="16" y="44" font-size="12" fill="#444">{}</text>"##,
        esc(heading.title),
        esc(heading.subtitle)
    );
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

const DEFS: &str = r##"<defs>
<pattern id="stall" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="6" stroke="#aaaaaa" stroke-width="2"/></pattern>
</defs>
"##;

fn draw_lane(svg: &mut String, chart: &Chart, lane: &Lane, scale: &Scale, top: f64, i: usize) {
    let h = lane_height(lane);
    let band = if i.is_multiple_of(2) {
        "#eef1f5"
    } else {
        "#ffffff"
    };
    let right = scale.x(chart.end_ms.max(1));
    let _ = writeln!(
        svg,
        r##"<rect x="0" y="{top:.1}" width="{:.1}" height="{h:.1}" fill="{band}"/>
<line x1="0" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#c9ced6" stroke-width="1"/>
<text x="12" y="{:.1}" font-size="13" font-weight="bold" fill="#333">{}</text>"##,
        right + RIGHT,
        top + h,
        right + RIGHT,
        top + h,
        top + h / 2.0 + 4.0,
        esc(&lane.client)
    );
    for span in &lane.spans {
        let (fill, text) = if span.label == "stall" {
            ("url(#stall)", "#666")
        } else {
            ("#fde0dd", "#c0392b")
        };
        let (x0, x1) = (scale.x(span.from_ms), scale.x(span.to_ms));
        let _ = writeln!(
            svg,
            r#"<g><title>{} from +{}ms to +{}ms</title><rect x="{x0:.1}" y="{top:.1}" width="{:.1}" height="{h:.1}" fill="{fill}" opacity="0.9"/><text x="{:.1}" y="{:.1}" font-size="10" fill="{text}">{}</text></g>"#,
            span.label,
            span.from_ms,
            span.to_ms,
            (x1 - x0).max(1.0),
            x0 + 2.0,
            top + h - 3.0,
            span.label
        );
    }
    for bar in &lane.bars {
        draw_bar(
            svg,
            chart,
            bar,
            scale,
            top + LANE_PAD / 2.0 + bar.row as f64 * ROW_H,
        );
    }
    let strip = top + h - MARK_STRIP / 2.0;
    for at in &lane.calls_ms {
        let x = scale.x(*at);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#aaaaaa" stroke-width="1"/>"##,
            top + h - 3.0,
            top + h
        );
    }
    for mark in &lane.marks {
        draw_mark(svg, mark, scale, strip, top, h);
    }
}

fn draw_bar(svg: &mut String, chart: &Chart, bar: &Bar, scale: &Scale, y: f64) {
    let colour = chart
        .processes
        .iter()
        .position(|p| *p == bar.process_id)
        .map_or("#999999", |i| PALETTE[i % PALETTE.len()]);
    let x0 = scale.x(bar.from_ms);
    let w = (scale.x(bar.to_ms) - x0).max(2.0);
    let (stroke, stroke_w, dash) = match bar.end {
        _ if bar.fence_reused => ("#d62728", 3.0, ""),
        BarEnd::Released => ("#222222", 1.2, ""),
        BarEnd::Superseded => ("#c0392b", 2.0, ""),
        BarEnd::Expired => ("#222222", 1.2, r#" stroke-dasharray="4 3""#),
    };
    let end = match bar.end {
        BarEnd::Released => "released",
        BarEnd::Superseded => "superseded by a higher fence",
        BarEnd::Expired => "expired",
    };
    let reused = if bar.fence_reused {
        " (fence issued twice!)"
    } else {
        ""
    };
    let full = format!(
        "{} f{}{}",
        bar.process_id,
        bar.fence,
        if bar.fence_reused { "!" } else { "" }
    );
    let label = if w >= full.len() as f64 * CHAR_W + 6.0 {
        full
    } else if w >= (bar.fence.to_string().len() as f64 + 1.0) * CHAR_W + 4.0 {
        format!("f{}", bar.fence)
    } else {
        String::new()
    };
    let renewals: String = bar
        .renewals_ms
        .iter()
        .filter(|&&at| at > bar.from_ms && at < bar.to_ms)
        .map(|&at| {
            let x = scale.x(at);
            format!(
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#ffffff" stroke-width="1.5" opacity="0.8"/>"##,
                y + 1.0,
                y + BAR_H - 1.0
            )
        })
        .collect();
    let _ = writeln!(
        svg,
        r##"<g><title>{} fence {}{reused} owner {}: +{}ms..+{}ms, {end}</title><rect x="{x0:.1}" y="{y:.1}" width="{w:.1}" height="{BAR_H}" rx="3" fill="{colour}" stroke="{stroke}" stroke-width="{stroke_w}"{dash}/>{renewals}<text x="{:.1}" y="{:.1}" font-size="11" fill="#ffffff" font-weight="bold">{}</text></g>"##,
        esc(&bar.process_id),
        bar.fence,
        esc(&bar.owner),
        bar.from_ms,
        bar.to_ms,
        x0 + 3.0,
        y + BAR_H - 4.0,
        esc(&label)
    );
}

fn draw_mark(svg: &mut String, mark: &super::lanes::Mark, scale: &Scale, y: f64, top: f64, h: f64) {
    let x = scale.x(mark.at_ms);
    let (shape, what) = match &mark.kind {
        MarkKind::Unavailable => (
            format!(
                r##"<path d="M{:.1},{:.1} l7,7 m0,-7 l-7,7" stroke="#d62728" stroke-width="2"/>"##,
                x - 3.5,
                y - 3.5
            ),
            "Unavailable".to_owned(),
        ),
        MarkKind::NoAnswer => (
            format!(
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="none" stroke="#777" stroke-width="1.5"/>"##
            ),
            "no answer".to_owned(),
        ),
        MarkKind::LeaseLost => (
            format!(
                r##"<path d="M{x:.1},{:.1} l4.5,4.5 l-4.5,4.5 l-4.5,-4.5 z" fill="#8e44ad"/>"##,
                y - 4.5
            ),
            "LeaseLost (fenced off)".to_owned(),
        ),
        MarkKind::LinkFault(fault) => (
            format!(
                r##"<path d="M{:.1},{:.1} l8,0 l-4,7 z" fill="#ff7f0e"/>"##,
                x - 4.0,
                y - 4.0
            ),
            format!("link fault: {fault}"),
        ),
        MarkKind::Violation(rules) => (
            format!(
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="6.5" fill="#d62728"/><text x="{x:.1}" y="{:.1}" font-size="10" font-weight="bold" fill="#ffffff" text-anchor="middle">!</text><text x="{:.1}" y="{:.1}" font-size="11" font-weight="bold" fill="#d62728">{}</text>"##,
                y + 3.5,
                x + 9.0,
                y + 4.0,
                esc(rules)
            ),
            format!("violation of {rules}"),
        ),
        MarkKind::WorkerCrash => (
            format!(
                r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{:.1}" stroke="#111" stroke-width="3"/><text x="{:.1}" y="{:.1}" font-size="10" font-weight="bold" fill="#111">crash</text>"##,
                top + h,
                x + 3.0,
                top + 10.0
            ),
            "worker crash".to_owned(),
        ),
    };
    let _ = writeln!(
        svg,
        "<g><title>+{}ms {}: {}</title>{shape}</g>",
        mark.at_ms,
        esc(&what),
        esc(&mark.detail)
    );
}

/// Registry crashes (red, dashed) and the end of the faulty phase (grey, dotted).
fn draw_verticals(svg: &mut String, chart: &Chart, scale: &Scale, top: f64, bottom: f64) {
    let fx = scale.x(chart.faults_end_ms);
    if chart.faults_end_ms <= chart.end_ms {
        let _ = writeln!(
            svg,
            r##"<line x1="{fx:.1}" y1="{:.1}" x2="{fx:.1}" y2="{bottom:.1}" stroke="#555" stroke-width="1.5" stroke-dasharray="2 3"/>
<text x="{:.1}" y="{:.1}" font-size="11" fill="#555">faults end, settle →</text>"##,
            top - 14.0,
            fx + 4.0,
            top - 4.0
        );
    }
    for (i, at) in chart.registry_crashes.iter().enumerate() {
        let x = scale.x(*at);
        let label_y = top - 18.0 - (i % 2) as f64 * 12.0;
        let _ = writeln!(
            svg,
            r##"<g><title>registry crash at +{at}ms: calls in flight cancelled, reopened</title><line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#d62728" stroke-width="2" stroke-dasharray="6 3"/><text x="{:.1}" y="{label_y:.1}" font-size="11" font-weight="bold" fill="#d62728">registry crash</text></g>"##,
            label_y - 4.0,
            x + 3.0
        );
    }
}

fn draw_axis(svg: &mut String, scale: &Scale, end_ms: u64, y: f64, right: f64) {
    let _ = writeln!(
        svg,
        r##"<line x1="{LEFT}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="#333"/>"##
    );
    let step = tick_step(end_ms);
    let mut t = 0;
    while t <= end_ms {
        let x = scale.x(t);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{y:.1}" x2="{x:.1}" y2="{:.1}" stroke="#333"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#333">+{t}ms</text>"##,
            y + 5.0,
            y + 18.0
        );
        t += step;
    }
    let _ = writeln!(
        svg,
        r##"<text x="{right:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#666">virtual time since the start of the run</text>"##,
        y + 32.0
    );
}

/// A round tick step (1, 2 or 5 × 10^k ms) giving about 12 ticks.
pub fn tick_step(end_ms: u64) -> u64 {
    let rough = (end_ms / 12).max(1);
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= rough {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// Legend entries: (icon drawn in a 34 × 12 box ending at y = 0, text).
const LEGEND: [(&str, &str); 11] = [
    (
        r##"<rect x="0" y="-10" width="34" height="12" rx="3" fill="#4e79a7" stroke="#222"/><line x1="20" y1="-10" x2="20" y2="2" stroke="#ffffff" stroke-width="1.5"/>"##,
        "lease: process + fencing token, released (white tick: renewed)",
    ),
    (
        r##"<rect x="0" y="-10" width="34" height="12" rx="3" fill="#4e79a7" stroke="#222" stroke-dasharray="4 3"/>"##,
        "lease ran out",
    ),
    (
        r##"<rect x="0" y="-10" width="34" height="12" rx="3" fill="#4e79a7" stroke="#c0392b" stroke-width="2"/>"##,
        "superseded by a higher fence",
    ),
    (
        r##"<rect x="0" y="-10" width="34" height="12" fill="url(#stall)"/>"##,
        "worker stalled",
    ),
    (
        r##"<rect x="0" y="-10" width="34" height="12" fill="#fde0dd"/>"##,
        "partitioned",
    ),
    (
        r##"<path d="M13,-8 l7,7 m0,-7 l-7,7" stroke="#d62728" stroke-width="2"/>"##,
        "Unavailable",
    ),
    (
        r##"<circle cx="17" cy="-4" r="3.5" fill="none" stroke="#777" stroke-width="1.5"/>"##,
        "no answer",
    ),
    (
        r##"<path d="M17,-9 l4.5,4.5 l-4.5,4.5 l-4.5,-4.5 z" fill="#8e44ad"/>"##,
        "LeaseLost (fenced off)",
    ),
    (
        r##"<path d="M13,-8 l8,0 l-4,7 z" fill="#ff7f0e"/>"##,
        "link fault",
    ),
    (
        r##"<line x1="17" y1="-12" x2="17" y2="2" stroke="#d62728" stroke-width="2" stroke-dasharray="6 3"/>"##,
        "registry crash",
    ),
    (
        r##"<line x1="17" y1="-12" x2="17" y2="2" stroke="#111" stroke-width="3"/>"##,
        "worker crash",
    ),
];

/// Legend entries shown only when the run has them.
const FENCE_REUSED: (&str, &str) = (
    r##"<rect x="0" y="-10" width="34" height="12" rx="3" fill="#4e79a7" stroke="#d62728" stroke-width="3"/>"##,
    "one fencing token issued to two leases (W3)",
);
const VIOLATION: (&str, &str) = (
    r##"<circle cx="17" cy="-4" r="6.5" fill="#d62728"/><text x="17" y="0" font-size="10" font-weight="bold" fill="#ffffff" text-anchor="middle">!</text>"##,
    "the call a violation names (rule ids)",
);

/// The legend, wrapped to `right`; returns the baseline of its last row.
fn draw_legend(svg: &mut String, chart: &Chart, y: f64, right: f64) -> f64 {
    let (mut x, mut y) = (LEFT, y + 8.0);
    let reused = chart
        .lanes
        .iter()
        .flat_map(|l| &l.bars)
        .any(|b| b.fence_reused);
    let violated = chart
        .lanes
        .iter()
        .flat_map(|l| &l.marks)
        .any(|m| matches!(m.kind, MarkKind::Violation(_)));
    let extra = [(reused, FENCE_REUSED), (violated, VIOLATION)]
        .into_iter()
        .filter_map(|(shown, entry)| shown.then_some(entry));
    for (icon, text) in LEGEND.into_iter().chain(extra) {
        let w = 34.0 + 6.0 + text.len() as f64 * CHAR_W + 24.0;
        if x + w > right && x > LEFT {
            x = LEFT;
            y += 20.0;
        }
        let _ = writeln!(
            svg,
            r##"<g transform="translate({x:.1},{y:.1})" font-size="11" fill="#333">{icon}<text x="40" y="0">{text}</text></g>"##
        );
        x += w;
    }
    y
}
