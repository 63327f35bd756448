//! GitHub issues: `GET /repos/{owner}/{repo}/issues?state=open&labels=…` with `Link` pagination,
//! `GITHUB_TOKEN`, and `GITHUB_API_URL` (set by Actions runners, GitHub Enterprise included).

use super::{label_added_by_other, rest_issue, Fetched, IssueShape, Settings};
use crate::error::{Error, Result};
use crate::http::{base_url, env, Client};

const HINT: &str = "check GITHUB_TOKEN: it needs read access to the repository's issues";

const SHAPE: IssueShape = IssueShape {
    number: "number",
    url: "html_url",
    body: "body",
    open_state: "open",
    author: "/user/login",
};

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
    let what = format!("{name} GET /repos/{repo}/issues");
    let mut out = Fetched::default();
    let (_, date) = client
        .each_in_pages(
            &what,
            HINT,
            url.to_string(),
            |u| request(client, u, &token),
            |item| {
                // The issues API lists pull requests too; a pull request is not a ticket.
                if item.get("pull_request").is_none() {
                    out.tickets.push(rest_issue(&name, item, &SHAPE)?);
                }
                Ok(false)
            },
        )
        .await?;
    out.server_time = date;
    if let Some(approval) = &settings.require_approval {
        for t in &mut out.tickets {
            // Approved when someone other than the author added the label (issue events).
            let number = t.id.trim_start_matches('#');
            let first = format!("{base}/repos/{repo}/issues/{number}/events?per_page=100");
            let what = format!("{name} GET /repos/{repo}/issues/{number}/events");
            let author = t.author.clone();
            let (found, _) = client
                .each_in_pages(
                    &what,
                    HINT,
                    first,
                    |u| request(client, u, &token),
                    |e| {
                        Ok(label_added_by_other(
                            e,
                            ("event", "labeled"),
                            "/actor/login",
                            approval,
                            &author,
                        ))
                    },
                )
                .await?;
            t.approved = Some(found);
        }
    }
    Ok(out)
}
