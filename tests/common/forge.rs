//! Loopback GitHub and GitLab that keep a repository: commits, trees and branches, pull and merge
//! requests, in the REST shapes of GitHub's git data, contents and pulls APIs and GitLab's
//! branches, repository files, commits-with-actions and merge requests APIs. Stateful, so that a
//! second run sees what the first one made. `fail` makes one call answer an error.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::tracker::{serve_fn, Reply, Server};

pub const DATE: &str = "Thu, 03 Dec 2026 10:00:00 GMT";

/// path → text
pub type Files = BTreeMap<String, String>;
/// (message, files, parent)
pub type Commit = (String, Files, Option<String>);

#[derive(Default)]
pub struct Git {
    /// sha → commit
    pub commits: BTreeMap<String, Commit>,
    /// tree sha → files
    pub trees: BTreeMap<String, BTreeMap<String, String>>,
    pub branches: BTreeMap<String, String>,
    /// GitHub pulls / GitLab merge requests, as answered.
    pub requests: Vec<Value>,
    /// "METHOD /path" (without query) → status answered instead.
    pub fail: Option<(String, u16)>,
    next: u64,
}

impl Git {
    fn sha(&mut self) -> String {
        self.next += 1;
        format!("{:040x}", 0xc0ffee00 + self.next)
    }

    /// A commit with these files on top of `parent`.
    pub fn commit(
        &mut self,
        message: &str,
        files: BTreeMap<String, String>,
        parent: Option<String>,
    ) -> String {
        let sha = self.sha();
        self.commits
            .insert(sha.clone(), (message.into(), files, parent));
        sha
    }

    pub fn files_at(&self, branch: &str) -> BTreeMap<String, String> {
        let sha = &self.branches[branch];
        self.commits[sha].1.clone()
    }
}

pub struct Forge {
    pub server: Server,
    pub git: Arc<Mutex<Git>>,
}

impl Forge {
    pub fn url(&self) -> String {
        self.server.url.clone()
    }
    /// Requests that change something (not GETs), as `METHOD /path`.
    pub fn writes(&self) -> Vec<String> {
        self.server
            .hits()
            .iter()
            .filter(|r| r.method != "GET")
            .map(|r| format!("{} {}", r.method, r.target.split('?').next().unwrap_or("")))
            .collect()
    }
}

fn seeded(files: &[(&str, &str)]) -> Arc<Mutex<Git>> {
    let mut git = Git::default();
    let files = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    let sha = git.commit("initial", files, None);
    git.branches.insert("main".into(), sha);
    Arc::new(Mutex::new(git))
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn query(target: &str, key: &str) -> Option<String> {
    let q = target.split_once('?')?.1;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| decode(v))
}

fn created(body: Value) -> Reply {
    Reply {
        status: 201,
        ..Reply::json(body)
    }
}

fn not_found() -> Reply {
    Reply::status(404, "{\"message\":\"Not Found\"}")
}

/// GitHub with repository `acme/infra`, branch `main` holding `files`.
pub fn github(files: &[(&str, &str)]) -> Forge {
    let git = seeded(files);
    let state = git.clone();
    let server = serve_fn(DATE, move |r| {
        let mut g = state.lock().unwrap();
        let path = r.target.split('?').next().unwrap_or("").to_string();
        if let Some((call, status)) = &g.fail {
            if *call == format!("{} {path}", r.method) {
                return Reply::status(*status, "{\"message\":\"Server Error\"}");
            }
        }
        if r.header("authorization").is_none() {
            return Reply::status(401, "{\"message\":\"Requires authentication\"}");
        }
        let Some(rest) = path.strip_prefix("/repos/acme/infra") else {
            return not_found();
        };
        let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        match (r.method.as_str(), rest) {
            ("GET", "") => {
                Reply::json(json!({"full_name": "acme/infra", "default_branch": "main"}))
            }
            ("GET", p) if p.starts_with("/git/ref/heads/") => {
                let name = decode(&p["/git/ref/heads/".len()..]);
                match g.branches.get(&name) {
                    Some(sha) => Reply::json(json!({"ref": format!("refs/heads/{name}"),
                        "object": {"sha": sha, "type": "commit"}})),
                    None => not_found(),
                }
            }
            ("GET", p) if p.starts_with("/git/commits/") => {
                let sha = &p["/git/commits/".len()..];
                match g.commits.get(sha) {
                    Some((message, _, parent)) => {
                        Reply::json(json!({"sha": sha, "message": message,
                        "tree": {"sha": format!("tree-{sha}")},
                        "parents": parent.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>()}))
                    }
                    None => not_found(),
                }
            }
            ("GET", p) if p.starts_with("/contents/") => {
                assert_eq!(r.header("accept"), Some("application/vnd.github.raw+json"));
                let file = decode(&p["/contents/".len()..]);
                let at = query(&r.target, "ref").unwrap_or_default();
                match g.commits.get(&at).and_then(|c| c.1.get(&file)) {
                    Some(text) => Reply {
                        headers: vec![("Content-Type".into(), "application/vnd.github.raw".into())],
                        ..Reply::status(200, text)
                    },
                    None => not_found(),
                }
            }
            ("POST", "/git/trees") => {
                let base = body["base_tree"]
                    .as_str()
                    .unwrap_or("")
                    .trim_start_matches("tree-");
                let mut files = g.commits[base].1.clone();
                for e in body["tree"].as_array().unwrap() {
                    assert_eq!(e["mode"], "100644");
                    files.insert(
                        e["path"].as_str().unwrap().into(),
                        e["content"].as_str().unwrap().into(),
                    );
                }
                let sha = g.sha();
                g.trees.insert(sha.clone(), files);
                created(json!({"sha": sha}))
            }
            ("POST", "/git/commits") => {
                let files = g.trees[body["tree"].as_str().unwrap()].clone();
                let parent = body["parents"][0].as_str().map(str::to_string);
                let sha = g.commit(body["message"].as_str().unwrap(), files, parent);
                created(json!({"sha": sha}))
            }
            ("POST", "/git/refs") => {
                let name = body["ref"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("refs/heads/")
                    .to_string();
                if g.branches.contains_key(&name) {
                    return Reply::status(422, "{\"message\":\"Reference already exists\"}");
                }
                g.branches
                    .insert(name, body["sha"].as_str().unwrap().into());
                created(json!({"ref": body["ref"], "object": {"sha": body["sha"]}}))
            }
            ("GET", "/pulls") => {
                let head = query(&r.target, "head").unwrap_or_default();
                let list: Vec<Value> = g
                    .requests
                    .iter()
                    .filter(|p| format!("acme:{}", p["head"]["ref"].as_str().unwrap()) == head)
                    .cloned()
                    .collect();
                Reply::json(json!(list))
            }
            ("POST", "/pulls") => {
                let branch = body["head"].as_str().unwrap().to_string();
                if !g.branches.contains_key(&branch) {
                    return Reply::status(422, "{\"message\":\"Validation Failed\"}");
                }
                let number = g.requests.len() as u64 + 1;
                let pr = json!({"number": number, "state": "open", "draft": body["draft"],
                    "title": body["title"], "body": body["body"],
                    "html_url": format!("https://github.com/acme/infra/pull/{number}"),
                    "head": {"ref": branch}, "base": {"ref": body["base"]}});
                g.requests.push(pr.clone());
                created(pr)
            }
            ("PATCH", p) if p.starts_with("/pulls/") => {
                let n: usize = p["/pulls/".len()..].parse().unwrap();
                let pr = &mut g.requests[n - 1];
                pr["title"] = body["title"].clone();
                pr["body"] = body["body"].clone();
                Reply::json(pr.clone())
            }
            _ => not_found(),
        }
    });
    Forge { server, git }
}

/// GitLab with project `acme/infra` (API at `{url}/api/v4`), branch `main` holding `files`.
pub fn gitlab(files: &[(&str, &str)]) -> Forge {
    let git = seeded(files);
    let state = git.clone();
    let server = serve_fn(DATE, move |r| {
        let mut g = state.lock().unwrap();
        let path = r.target.split('?').next().unwrap_or("").to_string();
        if let Some((call, status)) = &g.fail {
            if *call == format!("{} {path}", r.method) {
                return Reply::status(*status, "{\"message\":\"500 Internal Server Error\"}");
            }
        }
        if r.header("private-token").is_none() && r.header("job-token").is_none() {
            return Reply::status(401, "{\"message\":\"401 Unauthorized\"}");
        }
        let Some(rest) = path.strip_prefix("/api/v4/projects/acme%2Finfra") else {
            return not_found();
        };
        let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        match (r.method.as_str(), rest) {
            ("GET", "") => Reply::json(
                json!({"id": 7, "path_with_namespace": "acme/infra", "default_branch": "main"}),
            ),
            ("GET", p) if p.starts_with("/repository/branches/") => {
                let name = decode(&p["/repository/branches/".len()..]);
                match g.branches.get(&name) {
                    Some(sha) => Reply::json(json!({"name": name,
                        "commit": {"id": sha, "message": g.commits[sha].0}})),
                    None => Reply::status(404, "{\"message\":\"404 Branch Not Found\"}"),
                }
            }
            ("GET", p) if p.starts_with("/repository/files/") && p.ends_with("/raw") => {
                let file = decode(&p["/repository/files/".len()..p.len() - "/raw".len()]);
                let at = query(&r.target, "ref").unwrap_or_default();
                match g.commits.get(&at).and_then(|c| c.1.get(&file)) {
                    Some(text) => Reply {
                        headers: vec![("Content-Type".into(), "text/plain".into())],
                        ..Reply::status(200, text)
                    },
                    None => Reply::status(404, "{\"message\":\"404 File Not Found\"}"),
                }
            }
            ("POST", "/repository/commits") => {
                let branch = body["branch"].as_str().unwrap().to_string();
                if g.branches.contains_key(&branch) {
                    return Reply::status(
                        400,
                        "{\"message\":\"A branch called this already exists\"}",
                    );
                }
                let start = body["start_sha"].as_str().unwrap().to_string();
                let mut files = g.commits[&start].1.clone();
                for a in body["actions"].as_array().unwrap() {
                    assert_eq!(a["action"], "update");
                    let file = a["file_path"].as_str().unwrap().to_string();
                    assert!(
                        files.contains_key(&file),
                        "update of a file that is not there"
                    );
                    files.insert(file, a["content"].as_str().unwrap().into());
                }
                let sha = g.commit(body["commit_message"].as_str().unwrap(), files, Some(start));
                g.branches.insert(branch, sha.clone());
                created(json!({"id": sha}))
            }
            ("GET", "/merge_requests") => {
                let source = query(&r.target, "source_branch").unwrap_or_default();
                let list: Vec<Value> = g
                    .requests
                    .iter()
                    .filter(|m| m["source_branch"] == source.as_str())
                    .cloned()
                    .collect();
                Reply::json(json!(list))
            }
            ("POST", "/merge_requests") => {
                let iid = g.requests.len() as u64 + 1;
                let mr = json!({"iid": iid, "state": "opened", "draft": false,
                    "title": body["title"], "description": body["description"],
                    "source_branch": body["source_branch"], "target_branch": body["target_branch"],
                    "web_url": format!("https://gitlab.com/acme/infra/-/merge_requests/{iid}")});
                g.requests.push(mr.clone());
                created(mr)
            }
            ("PUT", p) if p.starts_with("/merge_requests/") => {
                let n: usize = p["/merge_requests/".len()..].parse().unwrap();
                let mr = &mut g.requests[n - 1];
                mr["title"] = body["title"].clone();
                mr["description"] = body["description"].clone();
                Reply::json(mr.clone())
            }
            _ => not_found(),
        }
    });
    Forge { server, git }
}
