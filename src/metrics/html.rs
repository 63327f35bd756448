//! The metrics as one self-contained HTML page (no script, no network): charts drawn as inline
//! SVG, read at a glance: open findings by severity over time, MTTR per week against the 48 h
//! line, recurrence and exception rates against their targets, the oldest open findings.

use std::fmt::Write;

use super::Metrics;

const SEVERITY_COLORS: [(&str, &str); 4] = [
    ("critical", "#b91c1c"),
    ("high", "#ea580c"),
    ("medium", "#ca8a04"),
    ("low", "#2563eb"),
];
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const PAD: f64 = 40.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn x_at(i: usize, n: usize) -> f64 {
    if n <= 1 {
        PAD
    } else {
        PAD + (WIDTH - 2.0 * PAD) * i as f64 / (n - 1) as f64
    }
}

fn y_at(v: f64, max: f64) -> f64 {
    HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * (v / max.max(1e-9))
}

fn open_chart(m: &Metrics) -> String {
    let n = m.weeks.len();
    let max = m
        .weeks
        .iter()
        .flat_map(|w| w.open.values())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut svg = svg_start("open-by-severity", "Open findings by severity, weekly");
    axes(&mut svg, max, "open");
    for (sev, color) in SEVERITY_COLORS {
        let points: Vec<String> = m
            .weeks
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let v = w.open.get(sev).copied().unwrap_or(0) as f64;
                format!("{:.1},{:.1}", x_at(i, n), y_at(v, max))
            })
            .collect();
        let _ = write!(
            svg,
            r#"<polyline class="series" data-severity="{sev}" fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
    }
    week_labels(&mut svg, m);
    legend(&mut svg);
    svg.push_str("</svg>");
    svg
}

fn mttr_chart(m: &Metrics) -> String {
    let n = m.weeks.len();
    let target = m.targets.mttr_critical_hours;
    let max = m
        .weeks
        .iter()
        .filter_map(|w| w.mttr_hours)
        .fold(target * 1.25, f64::max);
    let mut svg = svg_start("mttr-weekly", "MTTR per week against the 48 h target");
    axes(&mut svg, max, "hours");
    let bar = ((WIDTH - 2.0 * PAD) / n.max(1) as f64 * 0.6).max(2.0);
    for (i, w) in m.weeks.iter().enumerate() {
        if let Some(h) = w.mttr_hours {
            let y = y_at(h, max);
            let color = if h < target { "#16a34a" } else { "#b91c1c" };
            let _ = write!(
                svg,
                r#"<rect class="bar" x="{:.1}" y="{y:.1}" width="{bar:.1}" height="{:.1}" fill="{color}"><title>{} — {h:.1} h</title></rect>"#,
                (x_at(i, n) - bar / 2.0).clamp(PAD, WIDTH - PAD - bar),
                (HEIGHT - PAD - y).max(0.5),
                esc(&w.start)
            );
        }
    }
    let ty = y_at(target, max);
    let _ = write!(
        svg,
        r##"<line class="target" x1="{PAD}" x2="{:.1}" y1="{ty:.1}" y2="{ty:.1}" stroke="#111" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" font-size="11">target {target:.0} h</text>"##,
        WIDTH - PAD,
        WIDTH - PAD - 70.0,
        ty - 4.0
    );
    week_labels(&mut svg, m);
    svg.push_str("</svg>");
    svg
}

fn rate_chart(m: &Metrics) -> String {
    let rows = [
        ("Recurrence", m.recurrence_rate, m.targets.recurrence_rate),
        ("Exceptions", m.exception_rate, m.targets.exception_rate),
    ];
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="rates" role="img" viewBox="0 0 {WIDTH} 110" width="{WIDTH}" height="110" xmlns="http://www.w3.org/2000/svg"><title>Recurrence and exception rates against their targets</title>"#
    );
    // Room on the right for the value and its target.
    let scale = WIDTH - PAD - 60.0 - 220.0;
    for (i, (name, value, target)) in rows.iter().enumerate() {
        let y = 20.0 + i as f64 * 45.0;
        let v = value.unwrap_or(0.0).min(1.0);
        let color = match value {
            Some(r) if *r >= *target => "#b91c1c",
            Some(_) => "#16a34a",
            None => "#9ca3af",
        };
        let label = value
            .map(|r| format!("{:.1} %", r * 100.0))
            .unwrap_or_else(|| "no data".into());
        let _ = write!(
            svg,
            r##"<text x="0" y="{:.1}" font-size="12">{name}</text><rect x="{:.1}" y="{y:.1}" width="{scale:.1}" height="18" fill="#e5e7eb"/><rect class="rate" x="{:.1}" y="{y:.1}" width="{:.1}" height="18" fill="{color}"/><line class="target" x1="{tx:.1}" x2="{tx:.1}" y1="{:.1}" y2="{:.1}" stroke="#111" stroke-width="2"/><text x="{:.1}" y="{:.1}" font-size="12">{label} (target &lt; {:.0} %)</text>"##,
            y + 13.0,
            PAD + 60.0,
            PAD + 60.0,
            (scale * v).max(1.0),
            y - 3.0,
            y + 21.0,
            PAD + 70.0 + scale,
            y + 13.0,
            target * 100.0,
            tx = PAD + 60.0 + scale * target,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn svg_start(id: &str, title: &str) -> String {
    format!(
        r#"<svg id="{id}" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title)
    )
}

fn axes(svg: &mut String, max: f64, unit: &str) {
    let _ = write!(
        svg,
        r##"<line x1="{PAD}" x2="{PAD}" y1="{PAD}" y2="{:.1}" stroke="#9ca3af"/><line x1="{PAD}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#9ca3af"/><text x="2" y="{:.1}" font-size="10">{max:.0} {unit}</text><text x="2" y="{:.1}" font-size="10">0</text>"##,
        HEIGHT - PAD,
        WIDTH - PAD,
        HEIGHT - PAD,
        HEIGHT - PAD,
        PAD + 4.0,
        HEIGHT - PAD
    );
}

fn week_labels(svg: &mut String, m: &Metrics) {
    let n = m.weeks.len();
    let every = (n / 8).max(1);
    for (i, w) in m.weeks.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
            x_at(i, n),
            HEIGHT - PAD + 16.0,
            esc(&w.start)
        );
    }
}

fn legend(svg: &mut String) {
    for (i, (sev, color)) in SEVERITY_COLORS.iter().enumerate() {
        let x = PAD + 10.0 + i as f64 * 90.0;
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="8" width="10" height="10" fill="{color}"/><text x="{:.1}" y="17" font-size="11">{sev}</text>"#,
            x + 14.0
        );
    }
}

pub fn render(m: &Metrics) -> String {
    let status = |met: bool| {
        if met {
            ("met", "met")
        } else {
            ("missed", "missed")
        }
    };
    let critical = &m.mttr_hours["critical"];
    let cards = [
        (
            "MTTR, critical",
            critical
                .mean
                .map(|h| format!("{h:.1} h"))
                .unwrap_or_else(|| "—".into()),
            format!("target &lt; {:.0} h", m.targets.mttr_critical_hours),
            m.met.mttr_critical,
        ),
        (
            "Recurrence",
            m.recurrence_rate
                .map(|r| format!("{:.1} %", r * 100.0))
                .unwrap_or_else(|| "—".into()),
            format!("target &lt; {:.0} %", m.targets.recurrence_rate * 100.0),
            m.met.recurrence_rate,
        ),
        (
            "Exceptions",
            m.exception_rate
                .map(|r| format!("{:.1} %", r * 100.0))
                .unwrap_or_else(|| "—".into()),
            format!("target &lt; {:.0} %", m.targets.exception_rate * 100.0),
            m.met.exception_rate,
        ),
    ];
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>driftgate metrics</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #111; max-width: 800px; }}
.cards {{ display: flex; gap: 1rem; margin: 1rem 0; }}
.card {{ border: 1px solid #d1d5db; border-radius: 6px; padding: .75rem 1rem; flex: 1; }}
.card .value {{ font-size: 1.6rem; font-weight: 600; }}
.card.missed {{ border-color: #b91c1c; background: #fef2f2; }}
.card.met {{ border-color: #16a34a; background: #f0fdf4; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #e5e7eb; padding: .3rem .5rem; text-align: left; }}
code {{ font-size: 12px; }}
</style></head><body>
<h1>driftgate metrics</h1>
<p>{} → {}: {} run(s), {} episode(s).</p>
<div class="cards">"#,
        esc(&m.window.from),
        esc(&m.window.to),
        m.runs,
        m.episodes
    );
    for (name, value, target, met) in cards {
        let (class, word) = status(met);
        let _ = write!(
            out,
            r#"<div class="card {class}" data-target="{}"><div>{name}</div><div class="value">{value}</div><div>{target} — {word}</div></div>"#,
            esc(name)
        );
    }
    out.push_str("</div>\n<h2>Open findings by severity</h2>\n");
    out.push_str(&open_chart(m));
    out.push_str("\n<h2>MTTR per week</h2>\n");
    out.push_str(&mttr_chart(m));
    out.push_str("\n<h2>Recurrence and exceptions</h2>\n");
    out.push_str(&rate_chart(m));
    out.push_str("\n<h2>Oldest open findings</h2>\n");
    if m.oldest_open.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str(
            "<table id=\"oldest\"><tr><th>Age</th><th>Severity</th><th>Resource</th><th>Policy</th></tr>\n",
        );
        for o in &m.oldest_open {
            let _ = writeln!(
                out,
                "<tr><td>{:.1} h</td><td>{}</td><td><code>{}</code>{}</td><td>{}</td></tr>",
                o.age_hours,
                esc(&o.severity),
                esc(&o.address),
                if o.ticketed { " (ticket)" } else { "" },
                esc(&o.policy)
            );
        }
        out.push_str("</table>\n");
    }
    if !m.recurring.is_empty() {
        out.push_str("<h2>Recurring</h2>\n<ul id=\"recurring\">\n");
        for r in &m.recurring {
            let _ = writeln!(
                out,
                "<li><code>{}</code> {}: fixed {}, back {} as <code>{}</code></li>",
                esc(&r.block),
                esc(&r.policy),
                esc(&r.remediated_at),
                esc(&r.came_back_at),
                esc(&r.came_back_as)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body></html>\n");
    out
}
