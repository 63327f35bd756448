//! `driftgate fix --pr`: a fix set as a ready pull request (GitHub) or merge request (GitLab).
//! One branch per fix set, `driftgate/fix-<hash of the set>`, made of one commit on the base
//! branch; the body says, fix by fix, what drifted, why it matters and what `terraform plan`
//! shows once it is merged. Running again with the same set updates the open request; another
//! set opens another. A branch driftgate did not make is never written to, and the base branch's
//! files must be the ones the fixes were computed from, or nothing is written.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};

use crate::breakglass::gitlab::project_segment;
use crate::error::{Error, Result};
use crate::fix::{AfterPlan, FixSet};
use crate::http::{base_url, env, Client, COMPONENT};

/// The trailer of driftgate's commit: how a branch of this name is known to be driftgate's.
const TRAILER: &str = "Driftgate-Fix-Set:";

/// Where the request goes: `github:OWNER/REPO` or `gitlab:GROUP/PROJECT` (or a numeric id).
#[derive(Debug, Clone, PartialEq)]
pub enum Forge {
    GitHub { repo: String },
    GitLab { project: String },
}

impl Forge {
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::new(
                "--pr",
                format!("'{s}': {why} (expected github:OWNER/REPO or gitlab:GROUP/PROJECT)"),
            )
        };
        if let Some(repo) = s.strip_prefix("github:") {
            let parts: Vec<&str> = repo.split('/').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                return Err(bad("the repository must be OWNER/REPO"));
            }
            Ok(Forge::GitHub {
                repo: repo.to_string(),
            })
        } else if let Some(project) = s.strip_prefix("gitlab:") {
            if project.is_empty() || project.starts_with('/') || project.ends_with('/') {
                return Err(bad("the project must be GROUP/PROJECT or a numeric id"));
            }
            Ok(Forge::GitLab {
                project: project.to_string(),
            })
        } else {
            Err(bad("unknown host"))
        }
    }

    pub fn name(&self) -> String {
        match self {
            Forge::GitHub { repo } => format!("github:{repo}"),
            Forge::GitLab { project } => format!("gitlab:{project}"),
        }
    }
}

/// What is proposed: the changed files by their path in the repository, and the words.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// (path from the repository root, text the fixes were computed from, fixed text)
    pub files: Vec<(String, String, String)>,
    pub hash: String,
    pub branch: String,
    pub title: String,
    pub body: String,
    pub message: String,
}

/// The proposal of a fix set. File paths are named from the repository root (`repo_root`):
/// a file outside it cannot be committed, and says so.
pub fn compose(set: &FixSet, cwd: &Path, repo_root: &Path) -> Result<Proposal> {
    let mut files = Vec::new();
    for (path, (before, after)) in &set.files {
        let in_repo = crate::repo_path::in_repo(path, cwd, Some(repo_root)).ok_or_else(|| {
            Error::new(
                path.display().to_string(),
                format!(
                    "is not inside the repository at {} (run driftgate fix --pr from the checkout)",
                    repo_root.display()
                ),
            )
        })?;
        files.push((in_repo, before.clone(), after.clone()));
    }
    // The same fixes on the same code are the same set, whatever the run.
    let mut key = String::new();
    for (path, _, after) in &files {
        let _ = write!(key, "{path}\0{after}\0");
    }
    for f in &set.fixes {
        let _ = write!(key, "{}\0{}\0{}\0", f.address, f.action, f.summary);
    }
    let hash = format!("{:016x}", crate::model::stable_hash(&key));
    let hash = hash[..10].to_string();
    let branch = format!("driftgate/fix-{hash}");
    let count = set.fixes.len();
    let title = match set.fixes.first() {
        Some(f) if count == 1 => format!(
            "driftgate: write the live change of {} into the code",
            f.address
        ),
        _ => format!("driftgate: write {count} live changes into the code"),
    };
    let mut message = format!("{title}\n\n");
    for f in &set.fixes {
        let _ = writeln!(message, "- {} ({}): {}", f.address, f.action, f.summary);
    }
    let _ = write!(message, "\n{TRAILER} {hash}\n");
    let body = body(set, &hash);
    Ok(Proposal {
        files,
        hash,
        branch,
        title,
        body,
        message,
    })
}

/// A table cell: no column breaks, no line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn body(set: &FixSet, hash: &str) -> String {
    let mut out = format!("<!-- driftgate:fix:{hash} -->\n");
    out.push_str(
        "Changes made by hand in the cloud that the Terraform does not know: without this \
         change, the next `terraform apply` reverts them. driftgate wrote each one where the \
         code declares it.\n\n",
    );
    out.push_str(
        "| Resource | Change | Expected → Actual | Severity (risk) | Policy | References | Direction |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for f in &set.fixes {
        let expected = if f.expected_text.is_empty() {
            "-"
        } else {
            &f.expected_text
        };
        let actual = if f.actual_text.is_empty() {
            "-"
        } else {
            &f.actual_text
        };
        let risk = if f.risk.is_empty() {
            String::new()
        } else {
            format!(" ({})", f.risk)
        };
        let title = f.policy_title.as_str();
        let direction = match f.action {
            "codify" => "codify: the live setting is stricter",
            "accept" => "**accept**: the live change weakens, and is kept on request",
            "harden" => {
                "**harden**: the code declares a known weak pattern; the apply changes the cloud"
            }
            other => other,
        };
        let mut change = cell(&f.summary);
        if f.replaces_resource {
            change.push_str("<br>⚠️ **replaces the resource** on apply");
        }
        let _ = writeln!(
            out,
            "| `{}`<br>{}:{} | {change} | {} → {} | {}{risk} | {}<br>{} | {} | {direction} |",
            cell(&f.address),
            cell(&f.file),
            f.line,
            cell(expected),
            cell(actual),
            f.severity,
            cell(&f.policy),
            cell(title),
            if f.references.is_empty() {
                "—".to_string()
            } else {
                cell(&f.references.join(", "))
            },
        );
    }
    out.push_str("\n**After merging**, `terraform plan` should show:\n\n");
    let mut addresses: Vec<&str> = set
        .fixes
        .iter()
        .filter(|f| f.after == AfterPlan::NoChange && f.action != "harden")
        .map(|f| f.address.as_str())
        .collect();
    addresses.dedup();
    if !addresses.is_empty() {
        let list: Vec<String> = addresses.iter().map(|a| format!("`{a}`")).collect();
        let _ = writeln!(out, "- no change for {}", list.join(", "));
    }
    for f in set
        .fixes
        .iter()
        .filter(|f| f.after == AfterPlan::DeletedOutside)
    {
        let _ = writeln!(
            out,
            "- `{}` no longer declared: its live object is already gone, so the refresh reports \
             it deleted outside Terraform and nothing changes",
            f.address
        );
    }
    for f in set.fixes.iter().filter(|f| f.after == AfterPlan::Forgets) {
        let _ = writeln!(
            out,
            "- `{}` will no longer be managed by Terraform (a `removed` block with `destroy = \
             false`: its live object is already gone, nothing is destroyed); delete the \
             `removed` block once applied",
            f.address
        );
    }
    for f in set.fixes.iter().filter(|f| f.action == "harden") {
        let _ = writeln!(
            out,
            "- `{}` changed by the apply: {}{}",
            f.address,
            f.summary,
            if f.replaces_resource {
                " (**replaced**)"
            } else {
                ""
            }
        );
    }
    if set.fixes.iter().any(|f| f.replaces_resource) {
        out.push_str("- the replacements marked above\n");
    }
    if !set.manual.is_empty() {
        out.push_str("\n**By hand**: driftgate does not edit these itself, and says why:\n\n");
        for m in &set.manual {
            let place = match (&m.file, m.line) {
                (Some(f), Some(l)) => format!(" ({f}:{l})"),
                (Some(f), None) => format!(" ({f})"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "- `{}`{place}: {}; it must become: {}",
                m.address, m.reason, m.want
            );
        }
    }
    out.push_str(
        "\n_Opened by `driftgate fix --pr`. Running it again with the same fixes updates this \
         request; other fixes open another._\n",
    );
    out
}

/// What happened at the forge.
#[derive(Debug, Clone)]
pub struct Opened {
    pub url: String,
    pub branch: String,
    /// `created`, `updated` (the same set's open request), or `closed` (the same set's request
    /// was closed or merged: not opened again).
    pub outcome: &'static str,
}

/// The request of this fix set that a forge already has.
struct Request {
    /// The pull request number, the merge request iid.
    id: u64,
    url: String,
    open: bool,
}

/// What to do, from what the forge has: the request of this set, and the head commit message
/// of the branch of this set (when the branch exists).
enum Step {
    /// Nothing (the request was closed or merged).
    Done(Opened),
    /// Update the open request: the branch is there.
    Update(Request),
    /// Open a request (and make the branch first if it is not there).
    Create,
}

fn decide(
    forge: &Forge,
    p: &Proposal,
    request: Option<Request>,
    head: Option<String>,
) -> Result<Step> {
    // The branch is driftgate's if its head is driftgate's commit of this set, or if
    // driftgate's request of this set comes from it (people may have pushed on top).
    if let Some(message) = &head {
        if !message.contains(&format!("{TRAILER} {}", p.hash)) && request.is_none() {
            return Err(Error::new(
                forge.name(),
                format!(
                    "branch {} exists and driftgate did not create it: not written to (delete \
                     or rename it to let driftgate propose this fix set)",
                    p.branch
                ),
            ));
        }
    }
    Ok(match request {
        Some(r) if !r.open => Step::Done(p.opened(r.url, "closed")),
        Some(r) if head.is_some() => Step::Update(r),
        _ => Step::Create,
    })
}

impl Proposal {
    fn opened(&self, url: String, outcome: &'static str) -> Opened {
        Opened {
            url,
            branch: self.branch.clone(),
            outcome,
        }
    }
}

/// Opens (or updates) the request of `proposal` against `base` (default: the repository's
/// default branch).
pub async fn open(forge: &Forge, proposal: &Proposal, base: Option<&str>) -> Result<Opened> {
    let client = Client::new("pull requests")?;
    match forge {
        Forge::GitHub { repo } => github(&client, forge, repo, proposal, base).await,
        Forge::GitLab { project } => gitlab(&client, forge, project, proposal, base).await,
    }
}

fn text_of(what: &str, v: &Value, pointer: &str) -> Result<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::new(what, format!("the answer has no `{pointer}`")))
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// A path with each segment encoded (GitHub's contents API keeps the slashes).
fn enc_path(path: &str) -> String {
    path.split('/').map(enc).collect::<Vec<_>>().join("/")
}

/// The base branch's text must be what the fixes were computed from: otherwise the commit would
/// undo whatever changed there since the checkout.
fn same_base(
    forge: &Forge,
    path: &str,
    base: &str,
    on_base: Option<Vec<u8>>,
    before: &str,
) -> Result<()> {
    match on_base {
        None => Err(Error::new(
            forge.name(),
            format!(
                "{path} does not exist on {base}: run driftgate fix --pr from a checkout of {base}"
            ),
        )),
        Some(bytes) if bytes == before.as_bytes() => Ok(()),
        Some(_) => Err(Error::new(
            forge.name(),
            format!(
                "{path} on {base} differs from the checkout the fixes were made on: run \
                 driftgate fix --pr from an up-to-date checkout of {base} (nothing was written)"
            ),
        )),
    }
}

async fn github(
    client: &Client,
    forge: &Forge,
    repo: &str,
    p: &Proposal,
    base: Option<&str>,
) -> Result<Opened> {
    let api = base_url("GITHUB_API_URL", Some("https://api.github.com")).unwrap_or_default();
    let token =
        env("GITHUB_TOKEN").ok_or_else(|| Error::new(forge.name(), "GITHUB_TOKEN is not set"))?;
    let hint = "GITHUB_TOKEN needs `contents: write` and `pull-requests: write` (and GitHub \
                Actions must be allowed to create pull requests, in the repository's settings)";
    let auth = |req: reqwest::RequestBuilder| {
        req.header("X-GitHub-Api-Version", "2022-11-28")
            .bearer_auth(&token)
    };
    let gh =
        |req: reqwest::RequestBuilder| auth(req).header("Accept", "application/vnd.github+json");
    let name = forge.name();
    let what = |call: &str| format!("{name} {call}");
    let get = |call: String, url: String| async move {
        client
            .json_or_missing(&what(&call), hint, || gh(client.inner.get(&url)))
            .await
    };
    let base = match base {
        Some(b) => b.to_string(),
        None => {
            let call = format!("GET /repos/{repo}");
            let answer = client
                .json(&what(&call), hint, || {
                    gh(client.inner.get(format!("{api}/repos/{repo}")))
                })
                .await?;
            text_of(&what(&call), &answer.body, "/default_branch")?
        }
    };
    let owner = repo.split('/').next().unwrap_or(repo);
    // The request of this set, if one was ever opened.
    let call = format!("GET /repos/{repo}/pulls?head={owner}:{}", p.branch);
    let url = format!(
        "{api}/repos/{repo}/pulls?state=all&head={}&per_page=100",
        enc(&format!("{owner}:{}", p.branch))
    );
    let pulls = client
        .json(&what(&call), hint, || gh(client.inner.get(&url)))
        .await?;
    let pulls = pulls
        .body
        .as_array()
        .cloned()
        .ok_or_else(|| Error::new(what(&call), "the answer is not a list"))?;
    let ours = |pr: &Value| {
        pr.get("body")
            .and_then(Value::as_str)
            .is_some_and(|b| b.starts_with(&format!("<!-- driftgate:fix:{} -->", p.hash)))
    };
    let existing = pulls.iter().find(|pr| ours(pr));
    let branch_ref = get(
        format!("GET /repos/{repo}/git/ref/heads/{}", p.branch),
        format!("{api}/repos/{repo}/git/ref/heads/{}", enc_path(&p.branch)),
    )
    .await?;
    // The branch's head commit message, when the branch exists.
    let head = match &branch_ref {
        Some(r) => {
            let sha = text_of(&what("GET ref"), &r.body, "/object/sha")?;
            let call = format!("GET /repos/{repo}/git/commits/{sha}");
            let commit = client
                .json(&what(&call), hint, || {
                    gh(client
                        .inner
                        .get(format!("{api}/repos/{repo}/git/commits/{sha}")))
                })
                .await?;
            Some(
                commit
                    .body
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        }
        None => None,
    };
    let request = existing.map(|pr| Request {
        id: pr.get("number").and_then(Value::as_u64).unwrap_or(0),
        url: pr
            .get("html_url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        open: pr.get("state").and_then(Value::as_str) == Some("open"),
    });
    match decide(forge, p, request, head)? {
        Step::Done(opened) => return Ok(opened),
        Step::Update(r) => {
            let number = r.id;
            let call = format!("PATCH /repos/{repo}/pulls/{number}");
            let url = format!("{api}/repos/{repo}/pulls/{number}");
            let payload = json!({"title": p.title, "body": p.body});
            let answer = client
                .json(&what(&call), hint, || {
                    gh(client.inner.patch(&url)).json(&payload)
                })
                .await?;
            let html = text_of(&what(&call), &answer.body, "/html_url").unwrap_or(r.url);
            return Ok(p.opened(html, "updated"));
        }
        Step::Create => {}
    }
    if branch_ref.is_none() {
        let call = format!("GET /repos/{repo}/git/ref/heads/{base}");
        let base_ref = get(
            call.clone(),
            format!("{api}/repos/{repo}/git/ref/heads/{}", enc_path(&base)),
        )
        .await?
        .ok_or_else(|| {
            Error::new(
                what(&call),
                format!("the base branch {base} does not exist"),
            )
        })?;
        let base_sha = text_of(&what(&call), &base_ref.body, "/object/sha")?;
        let call = format!("GET /repos/{repo}/git/commits/{base_sha}");
        let commit = client
            .json(&what(&call), hint, || {
                gh(client
                    .inner
                    .get(format!("{api}/repos/{repo}/git/commits/{base_sha}")))
            })
            .await?;
        let base_tree = text_of(&what(&call), &commit.body, "/tree/sha")?;
        let mut tree = Vec::new();
        for (path, before, after) in &p.files {
            let call = format!("GET /repos/{repo}/contents/{path}?ref={base_sha}");
            let url = format!(
                "{api}/repos/{repo}/contents/{}?ref={base_sha}",
                enc_path(path)
            );
            let on_base = client
                .bytes_or_missing(&what(&call), hint, || {
                    auth(client.inner.get(&url)).header("Accept", "application/vnd.github.raw+json")
                })
                .await?;
            same_base(forge, path, &base, on_base, before)?;
            tree.push(json!({"path": path, "mode": "100644", "type": "blob", "content": after}));
        }
        let post = |call: String, url: String, payload: Value| async move {
            client
                .create(&what(&call), hint, || {
                    gh(client.inner.post(&url)).json(&payload)
                })
                .await
        };
        let made = post(
            format!("POST /repos/{repo}/git/trees"),
            format!("{api}/repos/{repo}/git/trees"),
            json!({"base_tree": base_tree, "tree": tree}),
        )
        .await?;
        let tree_sha = text_of(&what("POST git/trees"), &made.body, "/sha")?;
        let made = post(
            format!("POST /repos/{repo}/git/commits"),
            format!("{api}/repos/{repo}/git/commits"),
            json!({"message": p.message, "tree": tree_sha, "parents": [base_sha]}),
        )
        .await?;
        let commit_sha = text_of(&what("POST git/commits"), &made.body, "/sha")?;
        post(
            format!("POST /repos/{repo}/git/refs"),
            format!("{api}/repos/{repo}/git/refs"),
            json!({"ref": format!("refs/heads/{}", p.branch), "sha": commit_sha}),
        )
        .await?;
    }
    let call = format!("POST /repos/{repo}/pulls");
    let url = format!("{api}/repos/{repo}/pulls");
    let payload =
        json!({"title": p.title, "body": p.body, "head": p.branch, "base": base, "draft": false});
    let made = client
        .create(&what(&call), hint, || {
            gh(client.inner.post(&url)).json(&payload)
        })
        .await?;
    Ok(Opened {
        url: text_of(&what(&call), &made.body, "/html_url")?,
        branch: p.branch.clone(),
        outcome: "created",
    })
}

enum GitLabToken {
    Private(String),
    Job(String),
}

async fn gitlab(
    client: &Client,
    forge: &Forge,
    project: &str,
    p: &Proposal,
    base: Option<&str>,
) -> Result<Opened> {
    let api = base_url("CI_API_V4_URL", None)
        .or_else(|| base_url("GITLAB_API_URL", Some("https://gitlab.com/api/v4")))
        .unwrap_or_default();
    let token = match (env("GITLAB_TOKEN"), env("CI_JOB_TOKEN")) {
        (Some(t), _) => GitLabToken::Private(t),
        (None, Some(t)) => GitLabToken::Job(t),
        (None, None) => {
            return Err(Error::new(
                forge.name(),
                "neither GITLAB_TOKEN nor CI_JOB_TOKEN is set",
            ))
        }
    };
    let hint = match token {
        GitLabToken::Private(_) => {
            "GITLAB_TOKEN needs the api scope and at least the Developer role"
        }
        GitLabToken::Job(_) => {
            "only CI_JOB_TOKEN is set: GitLab lets a job token create commits and merge requests \
             only where the project's fine-grained job token permissions grant it; otherwise set \
             GITLAB_TOKEN to an access token with the api scope and the Developer role"
        }
    };
    let auth = |req: reqwest::RequestBuilder| match &token {
        GitLabToken::Private(t) => req.header("PRIVATE-TOKEN", t),
        GitLabToken::Job(t) => req.header("JOB-TOKEN", t),
    };
    let name = forge.name();
    let what = |call: &str| format!("{name} {call}");
    let seg = project_segment(project);
    let base = match base {
        Some(b) => b.to_string(),
        None => {
            let call = format!("GET /projects/{seg}");
            let answer = client
                .json(&what(&call), hint, || {
                    auth(client.inner.get(format!("{api}/projects/{seg}")))
                })
                .await?;
            text_of(&what(&call), &answer.body, "/default_branch")?
        }
    };
    let call = format!(
        "GET /projects/{seg}/merge_requests?source_branch={}",
        p.branch
    );
    let url = format!(
        "{api}/projects/{seg}/merge_requests?state=all&source_branch={}&per_page=100",
        enc(&p.branch)
    );
    let mrs = client
        .json(&what(&call), hint, || auth(client.inner.get(&url)))
        .await?;
    let mrs = mrs
        .body
        .as_array()
        .cloned()
        .ok_or_else(|| Error::new(what(&call), "the answer is not a list"))?;
    let marker = format!("<!-- driftgate:fix:{} -->", p.hash);
    let existing = mrs.iter().find(|mr| {
        mr.get("description")
            .and_then(Value::as_str)
            .is_some_and(|b| b.starts_with(&marker))
    });
    let call = format!("GET /projects/{seg}/repository/branches/{}", p.branch);
    let url = format!(
        "{api}/projects/{seg}/repository/branches/{}",
        enc(&p.branch)
    );
    let branch = client
        .json_or_missing(&what(&call), hint, || auth(client.inner.get(&url)))
        .await?;
    let head = branch.as_ref().map(|b| {
        b.body
            .pointer("/commit/message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    });
    let request = existing.map(|mr| Request {
        id: mr.get("iid").and_then(Value::as_u64).unwrap_or(0),
        url: mr
            .get("web_url")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        open: mr.get("state").and_then(Value::as_str) == Some("opened"),
    });
    match decide(forge, p, request, head)? {
        Step::Done(opened) => return Ok(opened),
        Step::Update(r) => {
            let iid = r.id;
            let call = format!("PUT /projects/{seg}/merge_requests/{iid}");
            let url = format!("{api}/projects/{seg}/merge_requests/{iid}");
            let payload = json!({"title": p.title, "description": p.body});
            let answer = client
                .json(&what(&call), hint, || {
                    auth(client.inner.put(&url)).json(&payload)
                })
                .await?;
            let web = text_of(&what(&call), &answer.body, "/web_url").unwrap_or(r.url);
            return Ok(p.opened(web, "updated"));
        }
        Step::Create => {}
    }
    if branch.is_none() {
        let call = format!("GET /projects/{seg}/repository/branches/{base}");
        let url = format!("{api}/projects/{seg}/repository/branches/{}", enc(&base));
        let base_branch = client
            .json_or_missing(&what(&call), hint, || auth(client.inner.get(&url)))
            .await?
            .ok_or_else(|| {
                Error::new(
                    what(&call),
                    format!("the base branch {base} does not exist"),
                )
            })?;
        let base_sha = text_of(&what(&call), &base_branch.body, "/commit/id")?;
        let mut actions = Vec::new();
        for (path, before, after) in &p.files {
            let call = format!("GET /projects/{seg}/repository/files/{path}/raw?ref={base_sha}");
            let url = format!(
                "{api}/projects/{seg}/repository/files/{}/raw?ref={base_sha}",
                enc(path)
            );
            let on_base = client
                .bytes_or_missing(&what(&call), hint, || auth(client.inner.get(&url)))
                .await?;
            same_base(forge, path, &base, on_base, before)?;
            actions.push(json!({"action": "update", "file_path": path, "content": after}));
        }
        let call = format!("POST /projects/{seg}/repository/commits");
        let url = format!("{api}/projects/{seg}/repository/commits");
        // From the very commit the files were compared at, not wherever the base is by now.
        let payload = json!({"branch": p.branch, "start_sha": base_sha, "commit_message": p.message, "actions": actions});
        client
            .create(&what(&call), hint, || {
                auth(client.inner.post(&url)).json(&payload)
            })
            .await?;
    }
    let call = format!("POST /projects/{seg}/merge_requests");
    let url = format!("{api}/projects/{seg}/merge_requests");
    let payload = json!({
        "source_branch": p.branch,
        "target_branch": base,
        "title": p.title,
        "description": p.body,
        "remove_source_branch": true,
    });
    let made = client
        .create(&what(&call), hint, || {
            auth(client.inner.post(&url)).json(&payload)
        })
        .await?;
    Ok(Opened {
        url: text_of(&what(&call), &made.body, "/web_url")?,
        branch: p.branch.clone(),
        outcome: "created",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::FixEntry;

    /// What the body says `terraform plan` shows: no change, forgotten with a `removed` block,
    /// or an instance gone live and no longer declared.
    #[test]
    fn the_body_says_what_the_plan_shows_per_fix() {
        let entry = |address: &str, after: AfterPlan| FixEntry {
            finding: 0,
            address: address.into(),
            action: "codify",
            file: "infra/main.tf".into(),
            line: 1,
            policy: "AWS-SG-RULES".into(),
            severity: "medium".into(),
            references: vec![],
            summary: "s".into(),
            replaces_resource: false,
            after,
            expected_text: String::new(),
            actual_text: String::new(),
            policy_title: String::new(),
            risk: String::new(),
        };
        let set = FixSet {
            fixes: vec![
                entry("aws_security_group.web", AfterPlan::NoChange),
                entry("aws_security_group_rule.rdp", AfterPlan::Forgets),
                entry(
                    r#"aws_security_group_rule.admin["rdp"]"#,
                    AfterPlan::DeletedOutside,
                ),
            ],
            manual: vec![],
            files: Default::default(),
            unsupported: vec![],
            weakening: vec![],
            covered: vec![],
        };
        let text = body(&set, "abc");
        let after = &text[text.find("**After merging**").unwrap()..];
        assert!(
            after.contains("- no change for `aws_security_group.web`\n"),
            "{after}"
        );
        assert!(after.contains("- `aws_security_group_rule.rdp` will no longer be managed"));
        assert!(after.contains(
            "- `aws_security_group_rule.admin[\"rdp\"]` no longer declared: its live object is \
             already gone"
        ));
        assert!(
            !after.contains("no change for `aws_security_group_rule"),
            "{after}"
        );
    }

    #[test]
    fn forges() {
        assert_eq!(
            Forge::parse("github:acme/infra").unwrap(),
            Forge::GitHub {
                repo: "acme/infra".into()
            }
        );
        assert_eq!(
            Forge::parse("gitlab:acme/platform/infra").unwrap(),
            Forge::GitLab {
                project: "acme/platform/infra".into()
            }
        );
        for bad in [
            "github:acme",
            "github:acme/infra/x",
            "gitlab:",
            "gitlab:/x",
            "jira:OPS",
        ] {
            let e = Forge::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }
}
