//! Jira Cloud: `GET /rest/api/3/search/jql` (token pagination) with JQL for the project, label and
//! a status category other than Done; `JIRA_BASE_URL`, `JIRA_EMAIL` + `JIRA_API_TOKEN` (basic
//! auth). v3 descriptions are Atlassian Document Format: their text is extracted node by node.

use serde_json::Value;

use super::{Fetched, RawTicket, Settings};
use crate::error::{Error, Result};
use crate::http::{base_url, env, timestamp, Client};

const HINT: &str =
    "check JIRA_EMAIL and JIRA_API_TOKEN, and that the account can browse the project";

struct Auth {
    email: String,
    token: String,
}

fn request(client: &Client, url: &str, auth: &Auth) -> reqwest::RequestBuilder {
    client
        .inner
        .get(url)
        .header("Accept", "application/json")
        .basic_auth(&auth.email, Some(&auth.token))
}

pub async fn fetch(client: &Client, project: &str, settings: &Settings) -> Result<Fetched> {
    let name = format!("jira:{project}");
    let base = base_url("JIRA_BASE_URL", None).ok_or_else(|| {
        Error::new(
            &name,
            "JIRA_BASE_URL is not set (e.g. https://example.atlassian.net)",
        )
    })?;
    let auth = match (env("JIRA_EMAIL"), env("JIRA_API_TOKEN")) {
        (Some(email), Some(token)) => Auth { email, token },
        _ => {
            return Err(Error::new(
                &name,
                "JIRA_EMAIL and JIRA_API_TOKEN must both be set",
            ))
        }
    };
    let jql = format!(
        "project = \"{project}\" AND labels = \"{}\" AND statusCategory != Done ORDER BY created DESC",
        settings.label.replace('"', "\\\"")
    );
    let what = format!("{name} GET /rest/api/3/search/jql");
    let mut out = Fetched::default();
    let mut token: Option<String> = None;
    loop {
        let mut url = reqwest::Url::parse(&format!("{base}/rest/api/3/search/jql"))
            .map_err(|e| Error::new(&name, format!("bad JIRA_BASE_URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("jql", &jql)
            .append_pair(
                "fields",
                "summary,description,created,status,labels,creator,reporter",
            )
            .append_pair("maxResults", "100");
        if let Some(t) = &token {
            url.query_pairs_mut().append_pair("nextPageToken", t);
        }
        let page = url.to_string();
        let answer = client
            .json(&what, HINT, || request(client, &page, &auth))
            .await?;
        out.server_time = answer.date.or(out.server_time);
        let issues = answer
            .body
            .get("issues")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::new(&what, "the answer has no `issues` list"))?;
        for issue in issues {
            out.tickets
                .push(ticket(&name, &base, issue).map_err(|e| Error::new(&what, e))?);
        }
        token = answer
            .body
            .get("nextPageToken")
            .and_then(Value::as_str)
            .map(str::to_string);
        let last = answer
            .body
            .get("isLast")
            .and_then(Value::as_bool)
            .unwrap_or(token.is_none());
        if last || token.is_none() {
            break;
        }
    }
    if let Some(approval) = &settings.require_approval {
        for t in &mut out.tickets {
            t.approved = Some(approved(client, &base, &name, &auth, t, approval).await?);
        }
    }
    Ok(out)
}

fn ticket(tracker: &str, base: &str, issue: &Value) -> std::result::Result<RawTicket, String> {
    let key = issue
        .get("key")
        .and_then(Value::as_str)
        .ok_or("an issue has no `key`")?;
    let f = issue
        .get("fields")
        .ok_or(format!("{key} has no `fields`"))?;
    let created = f
        .get("created")
        .and_then(Value::as_str)
        .ok_or(format!("{key} has no `fields.created`"))?;
    let category = f
        .pointer("/status/statusCategory/key")
        .and_then(Value::as_str);
    Ok(RawTicket {
        tracker: tracker.to_string(),
        id: key.to_string(),
        url: format!("{base}/browse/{key}"),
        title: f
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        body: match f.get("description") {
            Some(Value::String(s)) => s.clone(),
            Some(doc @ Value::Object(_)) => adf_text(doc),
            _ => String::new(),
        },
        open: category.is_some_and(|c| c != "done"),
        labels: f
            .get("labels")
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        created_at: timestamp(created)
            .ok_or(format!("{key}: `created` {created:?} is not a timestamp"))?,
        author: f
            .pointer("/creator/accountId")
            .or_else(|| f.pointer("/reporter/accountId"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        approved: None,
    })
}

/// Plain text of an Atlassian Document Format node: text nodes, with block nodes and hard breaks
/// separated by newlines, mentions and cards by their text or URL.
pub fn adf_text(node: &Value) -> String {
    let mut out = String::new();
    walk(node, &mut out);
    out
}

fn walk(node: &Value, out: &mut String) {
    let kind = node.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "text" => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or_default()),
        "hardBreak" => out.push('\n'),
        "mention" | "emoji" => out.push_str(
            node.pointer("/attrs/text")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ),
        "inlineCard" | "blockCard" | "embedCard" => out.push_str(
            node.pointer("/attrs/url")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ),
        _ => {}
    }
    if let Some(children) = node.get("content").and_then(Value::as_array) {
        for child in children {
            walk(child, out);
        }
        if !matches!(kind, "text" | "doc" | "") {
            out.push('\n');
        }
    }
}

/// Was the approval label added by someone other than the creator? (the issue's changelog)
async fn approved(
    client: &Client,
    base: &str,
    name: &str,
    auth: &Auth,
    t: &RawTicket,
    label: &str,
) -> Result<bool> {
    let what = format!("{name} GET /rest/api/3/issue/{}/changelog", t.id);
    let mut start = 0u64;
    loop {
        let page = format!(
            "{base}/rest/api/3/issue/{}/changelog?startAt={start}&maxResults=100",
            t.id
        );
        let answer = client
            .json(&what, HINT, || request(client, &page, auth))
            .await?;
        let values = answer
            .body
            .get("values")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::new(&what, "the answer has no `values` list"))?;
        let added = |item: &Value| {
            let has = |k: &str| {
                item.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.split_whitespace().any(|l| l == label))
            };
            item.get("field").and_then(Value::as_str) == Some("labels")
                && has("toString")
                && !has("fromString")
        };
        if values.iter().any(|h| {
            h.pointer("/author/accountId")
                .and_then(Value::as_str)
                .is_some_and(|who| !who.is_empty() && who != t.author)
                && h.get("items")
                    .and_then(Value::as_array)
                    .is_some_and(|items| items.iter().any(added))
        }) {
            return Ok(true);
        }
        let count = values.len() as u64;
        let last = answer
            .body
            .get("isLast")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if last || count == 0 {
            return Ok(false);
        }
        start += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn adf_text_keeps_addresses_whole() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Incident 42: opened "},
                {"type": "text", "text": "module.edge.aws_security_group.this[\"web\"]", "marks": [{"type": "code"}]},
                {"type": "hardBreak"},
                {"type": "mention", "attrs": {"id": "1", "text": "@oncall"}}
            ]},
            {"type": "bulletList", "content": [{"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "aws_network_acl.private[0]"}]}]}]}
        ]});
        let text = adf_text(&doc);
        assert!(
            super::super::names_address(&text, "module.edge.aws_security_group.this[\"web\"]"),
            "{text}"
        );
        assert!(
            super::super::names_address(&text, "aws_network_acl.private[0]"),
            "{text}"
        );
        assert!(text.contains("@oncall"));
    }
}
