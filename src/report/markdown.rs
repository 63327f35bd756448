//! A Markdown summary: the verdict first, then a compact table (for GitHub job summaries and
//! merge request comments).

use std::fmt::Write;

use super::{kind_text, Report};
use crate::risk::Priority;
use crate::verdict::Verdict;

/// Table cells must not break the table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report) -> String {
    let sum = &report.summary;
    let mut out = String::new();
    let icon = match report.verdict {
        Verdict::Pass => "✅",
        Verdict::Warn => "⚠️",
        Verdict::Block => "⛔",
    };
    let _ = writeln!(
        out,
        "### {icon} driftgate: {} — {} blocking, {} not blocking ({} covered by break-glass tickets)\n",
        report.verdict.as_str().to_uppercase(),
        sum.blocking,
        sum.warnings,
        sum.covered_by_ticket
    );
    let _ = writeln!(
        out,
        "{} resource(s) checked, {} object(s) compared, {} API call(s).\n",
        sum.resources_checked,
        sum.objects_checked,
        sum.api_calls.values().flat_map(|m| m.values()).sum::<u64>()
    );
    if sum.objects_checked == 0 {
        let _ = writeln!(
            out,
            "Nothing checked: none of the {} resource(s) in the state(s) is one driftgate checks.",
            sum.resources_in_state
        );
        return out;
    }
    if report.drifts.is_empty() {
        out.push_str("No security drift.\n");
        return out;
    }
    out.push_str(
        "| | Resource | Attribute | Expected → Actual | Severity | Exposure | Policy | Ticket |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for f in &report.drifts {
        let mark = match (f.blocking, f.ticket.is_some()) {
            (true, _) => "⛔",
            (false, true) => "🎫",
            (false, false) => "⚠️",
        };
        let ticket = match (&f.ticket, f.expired_tickets.first()) {
            (Some(t), _) => format!("[{} {}]({}) until {}", t.tracker, t.id, t.url, t.expires_at),
            (None, Some(t)) => format!("expired: [{}]({})", t.id, t.url),
            (None, None) => "—".into(),
        };
        let where_ = match &f.location {
            Some(l) => format!("`{}`<br>{}:{}", cell(&f.address), cell(&l.file), l.line),
            None => format!("`{}`", cell(&f.address)),
        };
        let where_ = match super::fix_text(f) {
            Some(fix) => format!("{where_}<br><sub>{}</sub>", cell(fix)),
            None => where_,
        };
        let mut exposure = format!("**{}**", f.risk.exposure.as_str());
        for r in &f.risk.reasons {
            exposure.push_str(&format!("<br>{}", cell(r)));
        }
        let mut actual = cell(f.actual_text.as_deref().unwrap_or("-"));
        if let Some(seen) = super::observed_text(f) {
            actual.push_str(&format!("<br><sub>{}</sub>", cell(&seen)));
        }
        let severity = match f.risk.priority {
            Priority::Urgent => format!("{} (**urgent**)", f.severity.as_str()),
            Priority::AcceptCandidate => format!("{} (accept-candidate)", f.severity.as_str()),
            Priority::Normal => f.severity.as_str().to_string(),
        };
        let _ = writeln!(
            out,
            "| {mark} | {where_} | {} ({}) | {} → {} | {severity} | {exposure} | {} | {} |",
            f.attribute.as_deref().unwrap_or("—"),
            kind_text(f),
            cell(f.expected_text.as_deref().unwrap_or("-")),
            actual,
            f.policy,
            cell(&ticket)
        );
    }
    if report.verdict == Verdict::Block {
        out.push_str(&unblock(report));
    }
    out
}

/// What the reader of a blocked pull request can do next, with the settings of this run.
fn unblock(report: &Report) -> String {
    let mut out = String::from(
        "\n**To unblock**, for each ⛔ resource:\n\n\
         - **Keep the live change**: change the Terraform to declare it (the next apply would \
         undo it otherwise), merge, apply.\n\
         - **Drop the live change**: revert it in the cloud (or apply the code as it is), then \
         run the check again.\n",
    );
    let addresses: Vec<&str> = report
        .drifts
        .iter()
        .filter(|f| f.blocking)
        .map(|f| f.address.as_str())
        .collect();
    match &report.breakglass {
        Some(bg) => {
            let approval = match &bg.require_approval {
                Some(a) => format!(", and someone other than its author adds `{a}`"),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "- **Emergency**: open a ticket in {} labelled `{}` that names the resource \
                 (`{}`){approval}: it lets the drift pass for {} h after its creation. \
                 `driftgate ticket open` writes it.",
                bg.trackers.join(" or "),
                bg.label,
                addresses.first().copied().unwrap_or_default(),
                bg.max_age_hours
            );
        }
        None => out.push_str(
            "- **Emergency**: this pipeline accepts no break-glass tickets (no `--tickets` \
             tracker is configured).\n",
        ),
    }
    out
}

/// The summary, cut to fit GitHub's 1 MiB step summary limit with a note saying so.
pub fn truncated(report: &Report, limit: usize) -> String {
    let full = render(report);
    if full.len() <= limit {
        return full;
    }
    let note =
        "\n\n_Truncated to fit the job summary; the full report is in the JSON/SARIF output._\n";
    let mut cut = limit.saturating_sub(note.len());
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    // Cut at a line end so the table stays well formed.
    let end = full[..cut].rfind('\n').unwrap_or(cut);
    format!("{}{note}", &full[..end])
}
