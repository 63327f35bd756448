//! The body of an HCP Terraform run task callback (`PATCH task_result_callback_url`, JSON:API
//! `task-results`): `passed` or `failed`, a one-line message, and one outcome per drift
//! (`task-result-outcomes`: id, description, Markdown body with expected and actual, severity and
//! status tags, the policy's references). A check that could not be made is `failed`, never
//! `passed`; a check still running says so with `running`.

use serde_json::{json, Value};

use super::Report;
use crate::policy::Severity;
use crate::verdict::{Finding, Verdict};

/// HCP Terraform shows outcomes in a list; beyond this many the message says how many were left
/// out (every finding is still in the run's verdict).
pub const MAX_OUTCOMES: usize = 100;
/// Kept short: the message is one line in the run's task list.
const MAX_MESSAGE: usize = 250;
const MAX_DESCRIPTION: usize = 250;
const MAX_BODY: usize = 8_000;

/// `text` cut to `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn task_result(status: &str, message: &str, outcomes: Vec<Value>) -> Value {
    let mut data = json!({
        "type": "task-results",
        "attributes": {"status": status, "message": cut(message, MAX_MESSAGE)},
    });
    if !outcomes.is_empty() {
        data["relationships"] = json!({"outcomes": {"data": outcomes}});
    }
    json!({ "data": data })
}

/// The check is still going (sent before HCP Terraform's timeout of the task).
pub fn running(message: &str) -> Value {
    task_result("running", message, Vec::new())
}

/// The check could not be made: failed, with the reason.
pub fn could_not_check(reason: &str) -> Value {
    task_result(
        "failed",
        &format!("driftgate could not complete the check: {reason}"),
        Vec::new(),
    )
}

/// The verdict of a completed check.
pub fn verdict(report: &Report) -> Value {
    let s = &report.summary;
    let (status, head) = match report.verdict {
        Verdict::Block => ("failed", format!("{} blocking drift(s)", s.blocking)),
        Verdict::Warn => ("passed", format!("{} drift(s), none blocking", s.drifts)),
        Verdict::Pass => ("passed", "no security drift".to_string()),
    };
    let mut message = format!("{head} in {} object(s) checked", s.objects_checked);
    if s.covered_by_ticket > 0 {
        message.push_str(&format!("; {} covered by a ticket", s.covered_by_ticket));
    }
    for note in &s.notes {
        message.push_str(&format!("; {note}"));
    }
    if report.drifts.len() > MAX_OUTCOMES {
        message.push_str(&format!(
            "; {} more not listed",
            report.drifts.len() - MAX_OUTCOMES
        ));
    }
    let outcomes = report
        .drifts
        .iter()
        .take(MAX_OUTCOMES)
        .map(outcome)
        .collect();
    task_result(status, &message, outcomes)
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "info",
    }
}

fn outcome(f: &Finding) -> Value {
    let (status, status_level) = if f.blocking {
        ("Blocking", "error")
    } else if f.ticket.is_some() {
        ("Covered by ticket", "info")
    } else {
        ("Warning", "warning")
    };
    let dash = |t: &Option<String>| t.clone().unwrap_or_else(|| "—".into());
    let mut body = format!(
        "**{}** — {}\n\n| | |\n| --- | --- |\n| resource | `{}` |\n| object | `{}` ({}) |\n| drift | {}{} |\n| expected (state) | {} |\n| actual (live) | {} |\n| effect | {} |\n| policy | {} ({}) |\n",
        f.policy_title,
        super::kind_text(f),
        f.address,
        f.cloud_id,
        f.region,
        super::kind_text(f),
        f.attribute
            .as_deref()
            .map(|a| format!(" in `{a}`"))
            .unwrap_or_default(),
        dash(&f.expected_text),
        dash(&f.actual_text),
        super::effect_text(f.effect),
        f.policy,
        f.severity.as_str(),
    );
    if let Some(t) = &f.ticket {
        body.push_str(&format!(
            "| break-glass | [{} {}]({}) |\n",
            t.tracker, t.id, t.url
        ));
    }
    if !f.references.is_empty() {
        body.push_str(&format!("\nReferences: {}\n", f.references.join(", ")));
    }
    if !f.remediation.is_empty() {
        body.push_str(&format!("\n{}\n", f.remediation));
    }
    let fingerprint = super::fingerprint(f);
    json!({
        "type": "task-result-outcomes",
        "attributes": {
            "outcome-id": format!("{}-{}", f.policy, &fingerprint[..fingerprint.len().min(12)]),
            "description": cut(&format!("{}: {}", f.address, f.policy_title), MAX_DESCRIPTION),
            "body": cut(&body, MAX_BODY),
            "tags": {
                "Severity": [{"label": capitalized(f.severity.as_str()), "level": level(f.severity)}],
                "Status": [{"label": status, "level": status_level}],
            },
        },
    })
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_on_characters() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcdé", 4), "abc…");
        let v = could_not_check(&"x".repeat(1000));
        let m = v["data"]["attributes"]["message"].as_str().unwrap();
        assert_eq!(m.chars().count(), MAX_MESSAGE);
        assert_eq!(v["data"]["attributes"]["status"], "failed");
    }
}
