//! `driftgate ticket open`: the reconciliation ticket for the current blocking drift, written
//! for the incident responder who made the change and for whoever reconciles it later. Each
//! drifted address appears as a whole token, so the ticket covers exactly those resources.

use std::time::Duration;

use serde_json::{json, Value};

use crate::breakglass::{gitlab, TrackerSpec};
use crate::error::{Error, Result};
use crate::http::{base_url, env, Client};
use crate::report::Report;

#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub title: String,
    /// Markdown (GitHub, GitLab); Jira gets the same lines as ADF paragraphs.
    pub body: String,
    pub label: String,
}

/// The ticket for the report's blocking drifts; `None` when nothing blocks.
pub fn compose(report: &Report, label: &str, max_age: Duration) -> Option<Draft> {
    let blocking: Vec<_> = report.drifts.iter().filter(|f| f.blocking).collect();
    let first = blocking.first()?;
    let mut addresses: Vec<&str> = blocking.iter().map(|f| f.address.as_str()).collect();
    addresses.dedup();
    let hours = max_age.as_secs_f64() / 3600.0;
    let title = if addresses.len() == 1 {
        format!("Break-glass: security drift on {}", first.address)
    } else {
        format!(
            "Break-glass: security drift on {} resources ({} …)",
            addresses.len(),
            first.address
        )
    };
    let mut body = format!(
        "driftgate found security-critical drift between the Terraform state and the live cloud. \
         While this ticket is open, labelled `{label}` and less than {hours}h old (by this \
         tracker's clock), the drift below does not block the pipeline. After that it blocks again.\n\n\
         ## Drifted resources\n\n"
    );
    for f in &blocking {
        body.push_str(&format!(
            "- `{}` ({} in {}): {} {}, policy {}\n",
            f.address,
            f.cloud_id,
            f.region,
            f.severity.as_str(),
            serde_json::to_value(f.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            f.policy
        ));
        if let Some(a) = &f.attribute {
            body.push_str(&format!("  - attribute: {a}\n"));
        }
        body.push_str(&format!(
            "  - expected (Terraform): {}\n  - actual (live): {}\n",
            f.expected_text.as_deref().unwrap_or("-"),
            f.actual_text.as_deref().unwrap_or("-")
        ));
    }
    body.push_str(&format!(
        "\n## Reconcile within {hours} hours\n\n\
         Either change the Terraform code to match the live change and apply it (if the change is \
         to stay), or revert the change in the cloud (if it was temporary). Then run driftgate \
         again and close this ticket. Until then, the next `terraform apply` would silently undo \
         the live change.\n\n\
         States: {}\n",
        report
            .summary
            .states
            .iter()
            .map(|s| s.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Some(Draft {
        title,
        body,
        label: label.to_string(),
    })
}

/// Creates the ticket; returns its URL.
pub async fn create(spec: &TrackerSpec, draft: &Draft, jira_issue_type: &str) -> Result<String> {
    let client = Client::new("ticket trackers")?;
    let url =
        |answer: &Value, key: &str| answer.get(key).and_then(Value::as_str).map(str::to_string);
    match spec {
        TrackerSpec::GitHub { repo } => {
            let base =
                base_url("GITHUB_API_URL", Some("https://api.github.com")).unwrap_or_default();
            let token = env("GITHUB_TOKEN")
                .ok_or_else(|| Error::new(spec.name(), "GITHUB_TOKEN is not set"))?;
            let what = format!("{} POST /repos/{repo}/issues", spec.name());
            let payload =
                json!({"title": draft.title, "body": draft.body, "labels": [draft.label]});
            let answer = client
                .create(
                    &what,
                    "GITHUB_TOKEN needs issues: write on the repository",
                    || {
                        client
                            .inner
                            .post(format!("{base}/repos/{repo}/issues"))
                            .header("Accept", "application/vnd.github+json")
                            .header("X-GitHub-Api-Version", "2022-11-28")
                            .bearer_auth(&token)
                            .json(&payload)
                    },
                )
                .await?;
            url(&answer.body, "html_url")
                .ok_or_else(|| Error::new(&what, "the answer has no `html_url`"))
        }
        TrackerSpec::GitLab { project } => {
            let base = base_url("CI_API_V4_URL", None)
                .or_else(|| base_url("GITLAB_API_URL", Some("https://gitlab.com/api/v4")))
                .unwrap_or_default();
            let token = env("GITLAB_TOKEN").ok_or_else(|| {
                Error::new(
                    spec.name(),
                    "GITLAB_TOKEN is not set (CI_JOB_TOKEN cannot create issues)",
                )
            })?;
            let seg = gitlab::project_segment(project);
            let what = format!("{} POST /projects/{seg}/issues", spec.name());
            let payload =
                json!({"title": draft.title, "description": draft.body, "labels": draft.label});
            let answer = client
                .create(
                    &what,
                    "GITLAB_TOKEN needs the api scope and Reporter access",
                    || {
                        client
                            .inner
                            .post(format!("{base}/projects/{seg}/issues"))
                            .header("PRIVATE-TOKEN", &token)
                            .json(&payload)
                    },
                )
                .await?;
            url(&answer.body, "web_url")
                .ok_or_else(|| Error::new(&what, "the answer has no `web_url`"))
        }
        TrackerSpec::Jira { project } => {
            let base = base_url("JIRA_BASE_URL", None)
                .ok_or_else(|| Error::new(spec.name(), "JIRA_BASE_URL is not set"))?;
            let (email, token) = match (env("JIRA_EMAIL"), env("JIRA_API_TOKEN")) {
                (Some(e), Some(t)) => (e, t),
                _ => {
                    return Err(Error::new(
                        spec.name(),
                        "JIRA_EMAIL and JIRA_API_TOKEN must both be set",
                    ))
                }
            };
            let what = format!("{} POST /rest/api/3/issue", spec.name());
            let paragraphs: Vec<Value> = draft
                .body
                .split("\n\n")
                .map(|p| json!({"type": "paragraph", "content": [{"type": "text", "text": p.replace('`', "")}]}))
                .collect();
            let payload = json!({"fields": {
                "project": {"key": project},
                "summary": draft.title,
                "issuetype": {"name": jira_issue_type},
                "labels": [draft.label],
                "description": {"type": "doc", "version": 1, "content": paragraphs},
            }});
            let answer = client
                .create(
                    &what,
                    "the account needs Create Issues in the project",
                    || {
                        client
                            .inner
                            .post(format!("{base}/rest/api/3/issue"))
                            .basic_auth(&email, Some(&token))
                            .json(&payload)
                    },
                )
                .await?;
            let key = url(&answer.body, "key")
                .ok_or_else(|| Error::new(&what, "the answer has no `key`"))?;
            Ok(format!("{base}/browse/{key}"))
        }
    }
}
