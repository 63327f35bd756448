//! GitLab Code Quality JSON: one issue per drift, shown in merge requests.

use serde_json::{json, Value};

use super::{fingerprint, sarif, Report};
use crate::policy::Severity;

pub fn render(report: &Report) -> String {
    let issues: Vec<Value> = report
        .drifts
        .iter()
        .map(|f| {
            // Only blocking drift is raised above `info`; covered and warn-only drift is shown
            // but does not read as a merge blocker.
            let severity = match (f.blocking, f.severity) {
                (false, _) => "info",
                (true, Severity::Low) => "minor",
                (true, Severity::Medium) => "major",
                (true, Severity::High) => "critical",
                (true, Severity::Critical) => "blocker",
            };
            let (path, line) = sarif::place(f);
            json!({
                "type": "issue",
                "check_name": f.policy,
                "description": sarif::message(f),
                "categories": ["Security"],
                "fingerprint": fingerprint(f),
                "severity": severity,
                "location": {"path": path, "lines": {"begin": line}},
            })
        })
        .collect();
    serde_json::to_string_pretty(&issues).unwrap_or_default() + "\n"
}
