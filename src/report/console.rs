//! The human report: what drifted, where, expected vs actual, how bad, what to do. Colour only
//! when asked for (the caller decides from the TTY, `NO_COLOR` and `--color`).

use std::fmt::Write;

use super::Report;
use crate::model::Exposure;
use crate::policy::Severity;
use crate::verdict::Verdict;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    fn red(&self, t: &str) -> String {
        self.paint("1;31", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint("1;33", t)
    }
    fn green(&self, t: &str) -> String {
        self.paint("1;32", t)
    }
}

pub fn render(report: &Report, color: bool) -> String {
    render_with(report, color, None)
}

/// `gitlab_sections`: in GitLab CI, each drift's details go into a collapsible log section
/// (the value is the section timestamp, Unix seconds); the one-line header stays visible.
pub fn render_with(report: &Report, color: bool, gitlab_sections: Option<i64>) -> String {
    let s = Style { on: color };
    let mut out = String::new();
    let sum = &report.summary;
    let states: Vec<&str> = sum.states.iter().map(|s| s.label.as_str()).collect();
    let _ = writeln!(
        out,
        "{} {} · {} state(s): {} · {} resource(s) checked, {} object(s) compared{}",
        s.bold("driftgate"),
        report.tool.version,
        states.len(),
        states.join(", "),
        sum.resources_checked,
        sum.objects_checked,
        if sum.regions.is_empty() {
            String::new()
        } else {
            format!(" in {}", sum.regions.join(", "))
        }
    );

    for (i, f) in report.drifts.iter().enumerate() {
        out.push('\n');
        if let Some(ts) = gitlab_sections {
            let _ = write!(
                out,
                "\x1b[0Ksection_start:{ts}:driftgate_drift_{i}[collapsed=true]\r\x1b[0K"
            );
        }
        let tag = match (f.blocking, f.ticket.is_some()) {
            (true, _) => s.red("BLOCK"),
            (false, true) => s.yellow("COVERED"),
            (false, false) => s.yellow("WARN "),
        };
        let sev = match f.severity {
            Severity::Critical | Severity::High => s.red(f.severity.as_str()),
            Severity::Medium => s.yellow(f.severity.as_str()),
            Severity::Low => f.severity.as_str().to_string(),
        };
        let _ = writeln!(
            out,
            "{tag} {sev:<8} {}  {}",
            s.bold(&f.address),
            s.dim(&format!("{} ({})", f.cloud_id, f.region))
        );
        let what = match &f.attribute {
            Some(a) => format!("{a}: {}", super::kind_text(f)),
            None => super::kind_text(f).to_string(),
        };
        let _ = writeln!(out, "    {what} — {}", super::effect_text(f.effect));
        let _ = writeln!(
            out,
            "      expected: {}",
            f.expected_text.as_deref().unwrap_or("-")
        );
        let _ = writeln!(
            out,
            "      actual:   {}",
            f.actual_text.as_deref().unwrap_or("-")
        );
        let mut why = format!("{} {}", f.policy, f.policy_title);
        if !f.references.is_empty() {
            why.push_str(&format!(" [{}]", f.references.join(", ")));
        }
        let _ = writeln!(
            out,
            "    {}",
            s.dim(&format!(
                "{why} · risk {} · {}",
                f.risk.score,
                f.risk.priority.as_str()
            ))
        );
        let exposure = super::exposure_text(f);
        let _ = writeln!(
            out,
            "    {}",
            match f.risk.exposure {
                Exposure::Internet => s.red(&exposure),
                Exposure::CrossAccount | Exposure::Restricted => s.yellow(&exposure),
                _ => exposure,
            }
        );
        if let Some(seen) = super::observed_text(f) {
            let line = format!("live side {seen}");
            let _ = writeln!(
                out,
                "    {}",
                match f.observed.as_ref().is_some_and(|o| o.confirmed) {
                    true => s.dim(&line),
                    false => s.yellow(&line),
                }
            );
        }
        if let Some(t) = &f.ticket {
            let _ = writeln!(
                out,
                "    {} by {} {} ({}): {} left, until {}",
                s.yellow("break-glass"),
                t.tracker,
                t.id,
                t.url,
                span(t.seconds_left),
                t.expires_at
            );
        }
        for t in &f.expired_tickets {
            let _ = writeln!(
                out,
                "    {} {} {} ({}) expired {} ago, at {}: reconcile the code or revert the change",
                s.red("ticket"),
                t.tracker,
                t.id,
                t.url,
                span(-t.seconds_left),
                t.expires_at
            );
        }
        for t in &f.unapproved_tickets {
            let _ = writeln!(
                out,
                "    {} {} {} ({}) names it but is not approved by someone other than its author",
                s.red("ticket"),
                t.tracker,
                t.id,
                t.url
            );
        }
        if !f.remediation.is_empty() {
            let _ = writeln!(out, "    fix: {}", f.remediation);
        }
        if let Some(fix) = super::fix_text(f) {
            let _ = writeln!(out, "    {fix}");
        }
        let declared = match &f.location {
            Some(l) => format!(
                "declared at {}:{} · state {}",
                l.file,
                l.line,
                f.sources.join(", ")
            ),
            None => format!("declared in state {}", f.sources.join(", ")),
        };
        let _ = writeln!(out, "    {}", s.dim(&declared));
        if let Some(ts) = gitlab_sections {
            let _ = writeln!(out, "\x1b[0Ksection_end:{ts}:driftgate_drift_{i}\r\x1b[0K");
        }
    }

    if let Some(bg) = &report.breakglass {
        out.push('\n');
        let trackers = bg.trackers.join(", ");
        if bg.consulted {
            let clock = match bg.clock_skew_seconds {
                Some(skew) => format!("tracker clock (runner skew {skew}s)"),
                None => "runner clock".to_string(),
            };
            let _ = writeln!(
                out,
                "break-glass: label `{}` in {trackers}, window {}h, {clock}",
                bg.label, bg.max_age_hours
            );
        } else {
            let _ = writeln!(out, "break-glass: {trackers} not asked (nothing blocks)");
        }
        for w in &bg.warnings {
            let _ = writeln!(out, "  {} {w}", s.yellow("warning:"));
        }
        for t in &bg.unused_tickets {
            let _ = writeln!(
                out,
                "  unused: {} {} ({}) names no drifted resource; close it if the work is done",
                t.tracker, t.id, t.url
            );
        }
    }

    out.push('\n');
    let verdict = match report.verdict {
        Verdict::Pass => s.green("PASS"),
        Verdict::Warn => s.yellow("WARN"),
        Verdict::Block => s.red("BLOCK"),
    };
    let detail = if sum.objects_checked == 0 {
        format!(
            "nothing checked: none of the {} resource(s) in the state(s) is one driftgate checks \
             (`driftgate policies` lists what is; --fail-on-empty makes this exit 2)",
            sum.resources_in_state
        )
    } else if sum.drifts == 0 {
        "no security drift".to_string()
    } else {
        format!(
            "{} drift(s): {} blocking, {} not blocking, {} covered by break-glass tickets",
            sum.drifts, sum.blocking, sum.warnings, sum.covered_by_ticket
        )
    };
    let _ = writeln!(
        out,
        "verdict: {verdict} — {detail} (exit {})",
        report.verdict.exit_code()
    );
    out
}

/// `2d 3h`, `13h 20m`, `45m`, `30s`.
fn span(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86400, s % 86400 / 3600, s % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Summary;

    #[test]
    fn gitlab_sections_wrap_each_drift() {
        let mut report = Report::new(Summary::default(), Vec::new(), None);
        let plain = render_with(&report, false, Some(1_700_000_000));
        assert!(!plain.contains("section_start"), "no drift, no section");
        report.drifts = crate::breakglass::tests_support::findings(2);
        let out = render_with(&report, false, Some(1_700_000_000));
        assert_eq!(
            out.matches("section_start:1700000000:driftgate_drift_")
                .count(),
            2
        );
        assert!(out.contains(
            "\x1b[0Ksection_start:1700000000:driftgate_drift_0[collapsed=true]\r\x1b[0KBLOCK"
        ));
        assert!(out.contains("\x1b[0Ksection_end:1700000000:driftgate_drift_1\r\x1b[0K\n"));
    }
}
