//! GitLab issues: `GET /projects/{id}/issues?state=opened&labels=…`, paginated by `Link`;
//! `CI_API_V4_URL` (set in GitLab CI) or `GITLAB_API_URL`, default gitlab.com; `GITLAB_TOKEN`
//! (`PRIVATE-TOKEN`), else `CI_JOB_TOKEN` (`JOB-TOKEN`), which GitLab refuses for Issues unless
//! the project's fine-grained job token permissions allow it (an experiment): its refusal says so.

use super::{label_added_by_other, rest_issue, Fetched, IssueShape, Settings};
use crate::error::{Error, Result};
use crate::http::{base_url, env, Client};

const HINT: &str =
    "check that GITLAB_TOKEN (read_api scope, Reporter role or higher) can read the \
     project's issues";
/// GitLab lets a job token call only a few APIs (packages, releases, Terraform state…), not
/// Issues: the hint says what to give instead rather than blame the project's settings.
const JOB_TOKEN_HINT: &str = "only CI_JOB_TOKEN is set, and GitLab does not let job tokens read \
     issues: set GITLAB_TOKEN to a project or group access token with the read_api scope and the \
     Reporter role, as a masked and protected CI/CD variable";

const SHAPE: IssueShape = IssueShape {
    number: "iid",
    url: "web_url",
    body: "description",
    open_state: "opened",
    author: "/author/username",
};

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
pub fn project_segment(project: &str) -> String {
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
    let hint = match token {
        Token::Job(_) => JOB_TOKEN_HINT,
        _ => HINT,
    };
    let name = format!("gitlab:{project}");
    let seg = project_segment(project);
    let mut url = reqwest::Url::parse(&format!("{base}/projects/{seg}/issues"))
        .map_err(|e| Error::new(&name, format!("bad GitLab API URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("state", "opened")
        .append_pair("labels", &settings.label)
        .append_pair("per_page", "100");
    let what = format!("{name} GET /projects/{seg}/issues");
    let mut out = Fetched::default();
    let (_, date) = client
        .each_in_pages(
            &what,
            hint,
            url.to_string(),
            |u| request(client, u, &token),
            |item| {
                out.tickets.push(rest_issue(&name, item, &SHAPE)?);
                Ok(false)
            },
        )
        .await?;
    out.server_time = date;
    if let Some(approval) = &settings.require_approval {
        for t in &mut out.tickets {
            // Approved when someone other than the author added the label (resource label events).
            let iid = t.id.trim_start_matches('#');
            let first =
                format!("{base}/projects/{seg}/issues/{iid}/resource_label_events?per_page=100");
            let what = format!("{name} GET /projects/{seg}/issues/{iid}/resource_label_events");
            let author = t.author.clone();
            let (found, _) = client
                .each_in_pages(
                    &what,
                    hint,
                    first,
                    |u| request(client, u, &token),
                    |e| {
                        Ok(label_added_by_other(
                            e,
                            ("action", "add"),
                            "/user/username",
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
