//! GitLab issues: `GET /projects/{id}/issues?state=opened&labels=…`, paginated by `Link`;
//! `CI_API_V4_URL` (set in GitLab CI) or `GITLAB_API_URL`, default gitlab.com; `GITLAB_TOKEN`
//! (`PRIVATE-TOKEN`) or `CI_JOB_TOKEN` (`JOB-TOKEN`).

use serde_json::Value;

use super::http::{base_url, env, next_link, timestamp, Client};
use super::{Fetched, RawTicket, Settings};
use crate::error::{Error, Result};

const HINT: &str = "check GITLAB_TOKEN (read_api scope) or CI_JOB_TOKEN access to the project";

enum Token {
    Private(String),
    Job(String),
    None,
}

fn request(client: &Client, url: &str, token: &Token) -> reqwest::RequestBuilder {
    let req = client.inner.get(url);
    match token {
        Token::Private(t) => req.header("PRIVATE-TOKEN", t),
        Token::Job(t) => req.header("JOB-TOKEN", t),
        Token::None => req,
    }
}

/// `group/project` is addressed URL-encoded as one path segment; numeric ids as they are.
pub(super) fn project_segment(project: &str) -> String {
    project
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn fetch(client: &Client, project: &str, settings: &Settings) -> Result<Fetched> {
    let base = base_url("CI_API_V4_URL", None)
        .or_else(|| base_url("GITLAB_API_URL", Some("https://gitlab.com/api/v4")))
        .unwrap_or_default();
    let token = match (env("GITLAB_TOKEN"), env("CI_JOB_TOKEN")) {
        (Some(t), _) => Token::Private(t),
        (None, Some(t)) => Token::Job(t),
        _ => Token::None,
    };
    let name = format!("gitlab:{project}");
    let seg = project_segment(project);
    let mut url = reqwest::Url::parse(&format!("{base}/projects/{seg}/issues"))
        .map_err(|e| Error::new(&name, format!("bad GitLab API URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("state", "opened")
        .append_pair("labels", &settings.label)
        .append_pair("per_page", "100");
    let mut next = Some(url.to_string());
    let mut out = Fetched::default();
    let what = format!("{name} GET /projects/{seg}/issues");
    while let Some(page) = next.take() {
        let answer = client
            .json(&what, HINT, || request(client, &page, &token))
            .await?;
        out.server_time = answer.date.or(out.server_time);
        let items = answer
            .body
            .as_array()
            .ok_or_else(|| Error::new(&what, "the answer is not a list of issues"))?;
        for item in items {
            out.tickets
                .push(ticket(&name, item).map_err(|e| Error::new(&what, e))?);
        }
        next = next_link(&answer.headers);
    }
    if let Some(approval) = &settings.require_approval {
        for t in &mut out.tickets {
            let iid = t.id.trim_start_matches('#');
            let events_url =
                format!("{base}/projects/{seg}/issues/{iid}/resource_label_events?per_page=100");
            let what = format!("{name} GET /projects/{seg}/issues/{iid}/resource_label_events");
            let mut next = Some(events_url);
            let mut ok = false;
            while let (Some(page), false) = (next.take(), ok) {
                let answer = client
                    .json(&what, HINT, || request(client, &page, &token))
                    .await?;
                let events = answer
                    .body
                    .as_array()
                    .ok_or_else(|| Error::new(&what, "the answer is not a list of label events"))?;
                ok = events.iter().any(|e| {
                    e.get("action").and_then(Value::as_str) == Some("add")
                        && e.pointer("/label/name").and_then(Value::as_str)
                            == Some(approval.as_str())
                        && e.pointer("/user/username")
                            .and_then(Value::as_str)
                            .is_some_and(|who| !who.is_empty() && who != t.author)
                });
                next = next_link(&answer.headers);
            }
            t.approved = Some(ok);
        }
    }
    Ok(out)
}

fn ticket(tracker: &str, item: &Value) -> std::result::Result<RawTicket, String> {
    let text = |k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let iid = item
        .get("iid")
        .and_then(Value::as_u64)
        .ok_or("an issue has no `iid`")?;
    let created = item
        .get("created_at")
        .and_then(Value::as_str)
        .ok_or(format!("issue #{iid} has no `created_at`"))?;
    Ok(RawTicket {
        tracker: tracker.to_string(),
        id: format!("#{iid}"),
        url: text("web_url"),
        title: text("title"),
        body: text("description"),
        open: item.get("state").and_then(Value::as_str) == Some("opened"),
        labels: item
            .get("labels")
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .filter_map(|l| l.as_str().or_else(|| l.get("name").and_then(Value::as_str)))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        created_at: timestamp(created).ok_or(format!(
            "issue #{iid}: `created_at` {created:?} is not a timestamp"
        ))?,
        author: item
            .pointer("/author/username")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        approved: None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn project_paths_are_one_segment() {
        assert_eq!(
            super::project_segment("group/sub/project"),
            "group%2Fsub%2Fproject"
        );
        assert_eq!(super::project_segment("1234"), "1234");
    }
}
