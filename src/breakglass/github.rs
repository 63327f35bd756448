//! GitHub issues: `GET /repos/{owner}/{repo}/issues?state=open&labels=…` with `Link` pagination,
//! `GITHUB_TOKEN`, and `GITHUB_API_URL` (set by Actions runners, GitHub Enterprise included).

use serde_json::Value;

use super::http::{base_url, env, next_link, timestamp, Client};
use super::{Fetched, RawTicket, Settings};
use crate::error::{Error, Result};

const HINT: &str = "check GITHUB_TOKEN: it needs read access to the repository's issues";

fn request(client: &Client, url: &str, token: &Option<String>) -> reqwest::RequestBuilder {
    let mut req = client
        .inner
        .get(url)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req
}

pub async fn fetch(client: &Client, repo: &str, settings: &Settings) -> Result<Fetched> {
    let base = base_url("GITHUB_API_URL", Some("https://api.github.com")).unwrap_or_default();
    let token = env("GITHUB_TOKEN");
    let name = format!("github:{repo}");
    let mut url = reqwest::Url::parse(&format!("{base}/repos/{repo}/issues"))
        .map_err(|e| Error::new(&name, format!("bad GITHUB_API_URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("state", "open")
        .append_pair("labels", &settings.label)
        .append_pair("per_page", "100");
    let mut next = Some(url.to_string());
    let mut out = Fetched::default();
    while let Some(page) = next.take() {
        let what = format!("{name} GET /repos/{repo}/issues");
        let answer = client
            .json(&what, HINT, || request(client, &page, &token))
            .await?;
        out.server_time = answer.date.or(out.server_time);
        let items = answer
            .body
            .as_array()
            .ok_or_else(|| Error::new(&what, "the answer is not a list of issues"))?;
        for item in items {
            // The issues API lists pull requests too; a pull request is not a ticket.
            if item.get("pull_request").is_some() {
                continue;
            }
            out.tickets
                .push(ticket(&name, item).map_err(|e| Error::new(&what, e))?);
        }
        next = next_link(&answer.headers);
    }
    if let Some(approval) = &settings.require_approval {
        for t in &mut out.tickets {
            t.approved = Some(approved(client, &base, repo, &token, t, approval).await?);
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
    let number = item
        .get("number")
        .and_then(Value::as_u64)
        .ok_or("an issue has no `number`")?;
    let created = item
        .get("created_at")
        .and_then(Value::as_str)
        .ok_or(format!("issue #{number} has no `created_at`"))?;
    Ok(RawTicket {
        tracker: tracker.to_string(),
        id: format!("#{number}"),
        url: text("html_url"),
        title: text("title"),
        body: text("body"),
        open: item.get("state").and_then(Value::as_str) == Some("open"),
        labels: item
            .get("labels")
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .filter_map(|l| l.get("name").and_then(Value::as_str).or(l.as_str()))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        created_at: timestamp(created).ok_or(format!(
            "issue #{number}: `created_at` {created:?} is not a timestamp"
        ))?,
        author: item
            .pointer("/user/login")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        approved: None,
    })
}

/// Was the approval label added by someone other than the ticket's author? (issue events)
async fn approved(
    client: &Client,
    base: &str,
    repo: &str,
    token: &Option<String>,
    t: &RawTicket,
    label: &str,
) -> Result<bool> {
    let number = t.id.trim_start_matches('#');
    let mut next = Some(format!(
        "{base}/repos/{repo}/issues/{number}/events?per_page=100"
    ));
    let what = format!("github:{repo} GET /repos/{repo}/issues/{number}/events");
    while let Some(page) = next.take() {
        let answer = client
            .json(&what, HINT, || request(client, &page, token))
            .await?;
        let events = answer
            .body
            .as_array()
            .ok_or_else(|| Error::new(&what, "the answer is not a list of events"))?;
        let ok = events.iter().any(|e| {
            e.get("event").and_then(Value::as_str) == Some("labeled")
                && e.pointer("/label/name").and_then(Value::as_str) == Some(label)
                && e.pointer("/actor/login")
                    .and_then(Value::as_str)
                    .is_some_and(|who| !who.is_empty() && who != t.author)
        });
        if ok {
            return Ok(true);
        }
        next = next_link(&answer.headers);
    }
    Ok(false)
}
