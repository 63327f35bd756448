//! `driftgate comment`: one sticky comment on a pull request (GitHub) or merge request (GitLab),
//! updated in place on every run, so a pull request shows the latest verdict once instead of a
//! comment per push. The comment is found by a hidden marker line at its top.

use serde_json::{json, Value};

use crate::breakglass::gitlab::project_segment;
use crate::error::{Error, Result};
use crate::http::{base_url, env, Client};

/// GitHub refuses comment bodies over 65,536 characters; GitLab allows 1,000,000. One limit for
/// both keeps the two the same, with room for the marker and the note.
const MAX_BODY: usize = 60_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `github:OWNER/REPO#NUMBER`
    GitHub { repo: String, number: u64 },
    /// `gitlab:GROUP/PROJECT!IID` (or a numeric project id)
    GitLab { project: String, iid: u64 },
}

impl Target {
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::new(
                "--on",
                format!(
                    "'{s}': {why} (expected github:OWNER/REPO#NUMBER or gitlab:GROUP/PROJECT!IID)"
                ),
            )
        };
        let number = |n: &str| {
            n.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad(&format!("'{n}' is not a pull or merge request number")))
        };
        if let Some(rest) = s.strip_prefix("github:") {
            let (repo, n) = rest.rsplit_once('#').ok_or_else(|| bad("no #NUMBER"))?;
            let parts: Vec<&str> = repo.split('/').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                return Err(bad("the repository must be OWNER/REPO"));
            }
            Ok(Target::GitHub {
                repo: repo.to_string(),
                number: number(n)?,
            })
        } else if let Some(rest) = s.strip_prefix("gitlab:") {
            let (project, n) = rest.rsplit_once('!').ok_or_else(|| bad("no !IID"))?;
            if project.is_empty() || project.starts_with('/') || project.ends_with('/') {
                return Err(bad("the project must be GROUP/PROJECT or a numeric id"));
            }
            Ok(Target::GitLab {
                project: project.to_string(),
                iid: number(n)?,
            })
        } else {
            Err(bad("unknown host"))
        }
    }

    pub fn name(&self) -> String {
        match self {
            Target::GitHub { repo, number } => format!("github:{repo}#{number}"),
            Target::GitLab { project, iid } => format!("gitlab:{project}!{iid}"),
        }
    }
}

/// The hidden first line that identifies driftgate's comment; `key` tells several gates on one
/// pull request apart (one per Terraform directory, say).
pub fn marker(key: &str) -> String {
    format!("<!-- driftgate:comment:{key} -->")
}

/// The comment as posted: the marker, then the report, cut at a line end if it is too long.
pub fn body(report: &str, key: &str) -> String {
    let marker = marker(key);
    let note = "\n\n_Cut to fit a comment; the full report is in the job's artifacts._\n";
    let mut text = report.to_string();
    if text.len() > MAX_BODY {
        let mut cut = MAX_BODY - note.len();
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let end = text[..cut].rfind('\n').unwrap_or(cut);
        text.truncate(end);
        text.push_str(note);
    }
    format!("{marker}\n{text}")
}

/// What happened: the comment's URL (GitHub gives one; a GitLab note has none of its own) and
/// whether it was updated or created.
#[derive(Debug)]
pub struct Posted {
    pub url: Option<String>,
    pub updated: bool,
}

pub async fn post(target: &Target, report: &str, key: &str) -> Result<Posted> {
    let client = Client::new("comments")?;
    let text = body(report, key);
    let marker = marker(key);
    let starts_with_marker = |item: &Value, field: &str| {
        item.get(field)
            .and_then(Value::as_str)
            .is_some_and(|b| b.starts_with(&marker))
    };
    match target {
        Target::GitHub { repo, number } => {
            let base =
                base_url("GITHUB_API_URL", Some("https://api.github.com")).unwrap_or_default();
            let token = env("GITHUB_TOKEN")
                .ok_or_else(|| Error::new(target.name(), "GITHUB_TOKEN is not set"))?;
            let hint = "GITHUB_TOKEN needs `pull-requests: write` (on a pull request from a fork \
                        the workflow's token is read-only)";
            let gh = |req: reqwest::RequestBuilder| {
                req.header("Accept", "application/vnd.github+json")
                    .header("X-GitHub-Api-Version", "2022-11-28")
                    .bearer_auth(&token)
            };
            let list = format!("{base}/repos/{repo}/issues/{number}/comments?per_page=100");
            let what = format!(
                "{} GET /repos/{repo}/issues/{number}/comments",
                target.name()
            );
            let mut existing = None;
            client
                .each_in_pages(
                    &what,
                    hint,
                    list,
                    |u| gh(client.inner.get(u)),
                    |item| {
                        if starts_with_marker(item, "body") {
                            existing = item.get("id").and_then(Value::as_u64);
                        }
                        Ok(existing.is_some())
                    },
                )
                .await?;
            let payload = json!({ "body": text });
            let answer = match existing {
                Some(id) => {
                    let what =
                        format!("{} PATCH /repos/{repo}/issues/comments/{id}", target.name());
                    let url = format!("{base}/repos/{repo}/issues/comments/{id}");
                    client
                        .json(&what, hint, || gh(client.inner.patch(&url)).json(&payload))
                        .await?
                }
                None => {
                    let what = format!(
                        "{} POST /repos/{repo}/issues/{number}/comments",
                        target.name()
                    );
                    let url = format!("{base}/repos/{repo}/issues/{number}/comments");
                    client
                        .create(&what, hint, || gh(client.inner.post(&url)).json(&payload))
                        .await?
                }
            };
            Ok(Posted {
                url: answer
                    .body
                    .get("html_url")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                updated: existing.is_some(),
            })
        }
        Target::GitLab { project, iid } => {
            let base = base_url("CI_API_V4_URL", None)
                .or_else(|| base_url("GITLAB_API_URL", Some("https://gitlab.com/api/v4")))
                .unwrap_or_default();
            let token = env("GITLAB_TOKEN").ok_or_else(|| {
                Error::new(
                    target.name(),
                    "GITLAB_TOKEN is not set (GitLab does not let CI_JOB_TOKEN write merge \
                     request notes): set it to an access token with the api scope and the \
                     Reporter role",
                )
            })?;
            let hint = "GITLAB_TOKEN needs the api scope and at least the Reporter role";
            let seg = project_segment(project);
            let notes = format!("{base}/projects/{seg}/merge_requests/{iid}/notes");
            let what = format!(
                "{} GET /projects/{seg}/merge_requests/{iid}/notes",
                target.name()
            );
            let mut existing = None;
            client
                .each_in_pages(
                    &what,
                    hint,
                    format!("{notes}?per_page=100&sort=asc&order_by=created_at"),
                    |u| client.inner.get(u).header("PRIVATE-TOKEN", &token),
                    |item| {
                        // System notes ("added 1 commit") are GitLab's own.
                        let system = item.get("system").and_then(Value::as_bool) == Some(true);
                        if !system && starts_with_marker(item, "body") {
                            existing = item.get("id").and_then(Value::as_u64);
                        }
                        Ok(existing.is_some())
                    },
                )
                .await?;
            let payload = json!({ "body": text });
            match existing {
                Some(id) => {
                    let what = format!(
                        "{} PUT /projects/{seg}/merge_requests/{iid}/notes/{id}",
                        target.name()
                    );
                    let url = format!("{notes}/{id}");
                    client
                        .json(&what, hint, || {
                            client
                                .inner
                                .put(&url)
                                .header("PRIVATE-TOKEN", &token)
                                .json(&payload)
                        })
                        .await?;
                }
                None => {
                    let what = format!(
                        "{} POST /projects/{seg}/merge_requests/{iid}/notes",
                        target.name()
                    );
                    client
                        .create(&what, hint, || {
                            client
                                .inner
                                .post(&notes)
                                .header("PRIVATE-TOKEN", &token)
                                .json(&payload)
                        })
                        .await?;
                }
            }
            Ok(Posted {
                url: None,
                updated: existing.is_some(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            Target::parse("github:acme/infra#12").unwrap(),
            Target::GitHub {
                repo: "acme/infra".into(),
                number: 12
            }
        );
        assert_eq!(
            Target::parse("gitlab:acme/platform/infra!7").unwrap(),
            Target::GitLab {
                project: "acme/platform/infra".into(),
                iid: 7
            }
        );
        for bad in [
            "github:acme#1",
            "github:acme/infra",
            "github:acme/infra#0",
            "github:acme/infra#x",
            "gitlab:!3",
            "gitlab:acme/infra#3",
            "jira:OPS-1",
        ] {
            let e = Target::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn long_reports_are_cut_at_a_line_end() {
        let report: String = (0..10_000).map(|i| format!("| row {i} |\n")).collect();
        let b = body(&report, "infra");
        assert!(b.len() <= MAX_BODY + marker("infra").len() + 1);
        assert!(b.starts_with("<!-- driftgate:comment:infra -->\n"));
        assert!(b.contains("Cut to fit"));
        let before_note = b.split("\n\n_Cut").next().unwrap();
        assert!(
            before_note.ends_with(" |"),
            "{}",
            &before_note[before_note.len() - 20..]
        );
    }
}
