//! The metrics as people and machines read them: a console table, JSON, Markdown (a job
//! summary) and OpenMetrics (a Prometheus textfile collector or pushgateway).

use std::fmt::Write;

use super::Metrics;

fn hours(h: Option<f64>) -> String {
    h.map(|h| format!("{h:.1} h")).unwrap_or_else(|| "—".into())
}

fn rate(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1} %", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn mark(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// The three targets, one line each: (name, value, target, met).
fn targets(m: &Metrics) -> [(String, String, String, bool); 3] {
    let critical = &m.mttr_hours["critical"];
    [
        (
            "MTTR, critical".into(),
            format!(
                "{} mean, {} median ({} remediated, {} open)",
                hours(critical.mean),
                hours(critical.median),
                critical.remediated,
                critical.open
            ),
            format!("< {:.0} h", m.targets.mttr_critical_hours),
            m.met.mttr_critical,
        ),
        (
            "Recurrence rate".into(),
            format!(
                "{} ({} recurring)",
                rate(m.recurrence_rate),
                m.recurring.len()
            ),
            format!("< {:.0} %", m.targets.recurrence_rate * 100.0),
            m.met.recurrence_rate,
        ),
        (
            "Exception rate".into(),
            format!(
                "{} ({} ticket-covered)",
                rate(m.exception_rate),
                m.tickets.covered
            ),
            format!("< {:.0} %", m.targets.exception_rate * 100.0),
            m.met.exception_rate,
        ),
    ]
}

pub fn console(m: &Metrics) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "driftgate metrics {} → {}: {} run(s), {} episode(s)\n",
        m.window.from, m.window.to, m.runs, m.episodes
    );
    for (name, value, target, met) in targets(m) {
        let _ = writeln!(
            out,
            "  {:<17} {:<52} target {:<7} {}",
            name,
            value,
            target,
            mark(met)
        );
    }
    out.push_str("\n  MTTR by severity   mean      median    remediated  open\n");
    for sev in ["critical", "high", "medium", "low"] {
        let x = &m.mttr_hours[sev];
        let _ = writeln!(
            out,
            "  {:<18} {:<9} {:<9} {:<11} {}",
            sev,
            hours(x.mean),
            hours(x.median),
            x.remediated,
            x.open
        );
    }
    let _ = writeln!(
        out,
        "\n  Tickets: {} covered episode(s), {} from ticket to fix on average, {} outlived their window",
        m.tickets.covered,
        hours(m.tickets.hours_to_remediation_mean),
        m.tickets.outlived_window
    );
    if !m.recurring.is_empty() {
        out.push_str("\n  Recurring (fix the module or template that keeps producing them):\n");
        for r in &m.recurring {
            let _ = writeln!(
                out,
                "    {} {} — fixed {}, back {} as {}",
                r.block, r.policy, r.remediated_at, r.came_back_at, r.came_back_as
            );
        }
    }
    if !m.oldest_open.is_empty() {
        out.push_str("\n  Oldest open:\n");
        for o in m.oldest_open.iter().take(10) {
            let _ = writeln!(
                out,
                "    {:>8.1} h  {:<8} {} {}{}",
                o.age_hours,
                o.severity,
                o.address,
                o.policy,
                if o.ticketed { " (ticket)" } else { "" }
            );
        }
    }
    out
}

pub fn json(m: &Metrics) -> String {
    let mut s = serde_json::to_string_pretty(m).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(m: &Metrics) -> String {
    let mut out = String::new();
    let all = m.met.mttr_critical && m.met.recurrence_rate && m.met.exception_rate;
    let _ = writeln!(
        out,
        "### {} driftgate metrics — {}\n\n{} → {}: {} run(s), {} episode(s).\n",
        if all { "✅" } else { "❌" },
        if all {
            "all targets met"
        } else {
            "targets missed"
        },
        m.window.from,
        m.window.to,
        m.runs,
        m.episodes
    );
    out.push_str("| Metric | Value | Target | |\n|---|---|---|---|\n");
    for (name, value, target, met) in targets(m) {
        let _ = writeln!(
            out,
            "| {name} | {} | {target} | {} |",
            cell(&value),
            if met { "✅ met" } else { "❌ missed" }
        );
    }
    out.push_str(
        "\n| Severity | MTTR mean | median | remediated | open |\n|---|---|---|---|---|\n",
    );
    for sev in ["critical", "high", "medium", "low"] {
        let x = &m.mttr_hours[sev];
        let _ = writeln!(
            out,
            "| {sev} | {} | {} | {} | {} |",
            hours(x.mean),
            hours(x.median),
            x.remediated,
            x.open
        );
    }
    if !m.recurring.is_empty() {
        out.push_str("\n**Recurring** (the module or template that keeps producing them):\n\n");
        for r in &m.recurring {
            let _ = writeln!(
                out,
                "- `{}` {} — fixed {}, back {} as `{}`",
                cell(&r.block),
                r.policy,
                r.remediated_at,
                r.came_back_at,
                cell(&r.came_back_as)
            );
        }
    }
    if !m.oldest_open.is_empty() {
        out.push_str(
            "\n**Oldest open**\n\n| Age | Severity | Resource | Policy |\n|---|---|---|---|\n",
        );
        for o in m.oldest_open.iter().take(10) {
            let _ = writeln!(
                out,
                "| {:.1} h | {} | `{}`{} | {} |",
                o.age_hours,
                o.severity,
                cell(&o.address),
                if o.ticketed { " 🎫" } else { "" },
                o.policy
            );
        }
    }
    out
}

/// OpenMetrics text: gauges, labelled by severity where it applies, ending in `# EOF`.
pub fn openmetrics(m: &Metrics) -> String {
    let mut out = String::new();
    let gauge = |out: &mut String, name: &str, help: &str| {
        let _ = writeln!(out, "# TYPE {name} gauge\n# HELP {name} {help}");
    };
    gauge(
        &mut out,
        "driftgate_mttr_hours",
        "Mean hours from first seen to remediated, over episodes remediated in the window.",
    );
    for (sev, x) in &m.mttr_hours {
        if let Some(v) = x.mean {
            let _ = writeln!(out, "driftgate_mttr_hours{{severity=\"{sev}\"}} {v}");
        }
    }
    gauge(
        &mut out,
        "driftgate_mttr_median_hours",
        "Median hours from first seen to remediated.",
    );
    for (sev, x) in &m.mttr_hours {
        if let Some(v) = x.median {
            let _ = writeln!(out, "driftgate_mttr_median_hours{{severity=\"{sev}\"}} {v}");
        }
    }
    gauge(
        &mut out,
        "driftgate_remediated_episodes",
        "Episodes remediated in the window.",
    );
    for (sev, x) in &m.mttr_hours {
        let _ = writeln!(
            out,
            "driftgate_remediated_episodes{{severity=\"{sev}\"}} {}",
            x.remediated
        );
    }
    gauge(
        &mut out,
        "driftgate_open_episodes",
        "Episodes open at the end of the window.",
    );
    for (sev, x) in &m.mttr_hours {
        let _ = writeln!(
            out,
            "driftgate_open_episodes{{severity=\"{sev}\"}} {}",
            x.open
        );
    }
    let mut single = |name: &str, help: &str, value: Option<f64>| {
        if let Some(v) = value {
            gauge(&mut out, name, help);
            let _ = writeln!(out, "{name} {v}");
        }
    };
    single(
        "driftgate_recurrence_ratio",
        "Remediated episodes that came back, over remediated episodes.",
        m.recurrence_rate,
    );
    single(
        "driftgate_exception_ratio",
        "Episodes covered by a break-glass ticket or judged by a warn policy, over all episodes.",
        m.exception_rate,
    );
    single(
        "driftgate_runs",
        "Runs recorded in the window.",
        Some(m.runs as f64),
    );
    single(
        "driftgate_episodes",
        "Episodes in the window.",
        Some(m.episodes as f64),
    );
    gauge(
        &mut out,
        "driftgate_target_met",
        "1 when the target is met.",
    );
    for (name, met) in [
        ("mttr_critical", m.met.mttr_critical),
        ("recurrence_rate", m.met.recurrence_rate),
        ("exception_rate", m.met.exception_rate),
    ] {
        let _ = writeln!(
            out,
            "driftgate_target_met{{target=\"{name}\"}} {}",
            u8::from(met)
        );
    }
    out.push_str("# EOF\n");
    out
}
