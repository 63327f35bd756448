//! `driftgate comment`: one sticky pull request (GitHub) or merge request (GitLab) comment,
//! against loopback servers answering in the REST APIs' shapes (issue comments, merge request
//! notes, `Link` pagination).

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use common::*;
use serde_json::{json, Value};
use tracker::{serve, Reply};

const DATE: &str = "Wed, 02 Dec 2026 10:00:00 GMT";
const MARKER: &str = "<!-- driftgate:comment:driftgate -->";

fn report_file(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("driftgate.md");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn comment(args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let mut all = vec!["comment"];
    all.extend_from_slice(args);
    driftgate_env("http://127.0.0.1:9", &all, None, env)
}

fn github_comment(id: u64, body: &str) -> Value {
    json!({"id": id, "body": body, "user": {"login": "github-actions[bot]"},
           "html_url": format!("https://github.com/acme/infra/pull/12#issuecomment-{id}")})
}

#[test]
fn github_creates_the_comment_once() {
    let server = serve(
        DATE,
        vec![(
            "/repos/acme/infra/issues/12/comments",
            vec![
                // The listing: someone quoting driftgate's comment is not driftgate's comment.
                Reply::json(json!([github_comment(
                    3,
                    &format!("> {MARKER}\n> blocked, why?")
                )])),
                Reply {
                    status: 201,
                    ..Reply::json(github_comment(41, "created"))
                },
            ],
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let body = report_file(dir.path(), "### ⛔ driftgate: BLOCK\n");
    let run = comment(
        &["--body", &body, "--on", "github:acme/infra#12"],
        &[
            ("GITHUB_API_URL", Some(server.url.as_str())),
            ("GITHUB_TOKEN", Some("ghs_secret")),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("created the comment https://github.com/acme/infra/pull/12#issuecomment-41"),
        "{}",
        run.stderr
    );
    let hits = server.hits();
    let methods: Vec<&str> = hits.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["GET", "POST"]);
    assert_eq!(hits[1].header("authorization"), Some("Bearer ghs_secret"));
    let sent: Value = serde_json::from_str(&hits[1].body).unwrap();
    assert_eq!(
        sent["body"].as_str().unwrap(),
        format!("{MARKER}\n### ⛔ driftgate: BLOCK\n")
    );
    assert!(!run.stderr.contains("ghs_secret"));
}

#[test]
fn github_updates_its_comment_found_on_a_later_page() {
    let server = serve(
        DATE,
        vec![
            (
                "/repos/acme/infra/issues/12/comments#page=2",
                vec![Reply::json(json!([
                    github_comment(98, "lgtm"),
                    github_comment(99, &format!("{MARKER}\nold report")),
                ]))],
            ),
            (
                "/repos/acme/infra/issues/12/comments",
                vec![Reply::json(json!([github_comment(1, "first!")])).header(
                    "Link",
                    "<{base}/repos/acme/infra/issues/12/comments?per_page=100&page=2>; rel=\"next\"",
                )],
            ),
            (
                "/repos/acme/infra/issues/comments/99",
                vec![Reply::json(github_comment(99, "updated"))],
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let body = report_file(dir.path(), "### ✅ driftgate: PASS\n");
    let run = comment(
        &["--body", &body, "--on", "github:acme/infra#12"],
        &[
            ("GITHUB_API_URL", Some(server.url.as_str())),
            ("GITHUB_TOKEN", Some("t")),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("updated the comment"), "{}", run.stderr);
    let hits = server.hits();
    let calls: Vec<String> = hits
        .iter()
        .map(|r| format!("{} {}", r.method, r.target.split('?').next().unwrap()))
        .collect();
    assert_eq!(
        calls,
        [
            "GET /repos/acme/infra/issues/12/comments",
            "GET /repos/acme/infra/issues/12/comments",
            "PATCH /repos/acme/infra/issues/comments/99"
        ]
    );
    let sent: Value = serde_json::from_str(&hits[2].body).unwrap();
    assert!(sent["body"].as_str().unwrap().ends_with("PASS\n"));
}

#[test]
fn a_read_only_token_fails_with_the_permission_it_needs() {
    let server = serve(
        DATE,
        vec![(
            "/repos/acme/infra/issues/12/comments",
            vec![
                Reply::json(json!([])),
                Reply::status(
                    403,
                    r#"{"message":"Resource not accessible by integration"}"#,
                ),
            ],
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let body = report_file(dir.path(), "x\n");
    let run = comment(
        &["--body", &body, "--on", "github:acme/infra#12"],
        &[
            ("GITHUB_API_URL", Some(server.url.as_str())),
            ("GITHUB_TOKEN", Some("t")),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("pull-requests: write"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("github:acme/infra#12 POST"),
        "{}",
        run.stderr
    );
}

#[test]
fn gitlab_updates_its_note_and_skips_system_notes() {
    let notes = "/projects/acme%2Finfra/merge_requests/7/notes";
    let server = serve(
        DATE,
        vec![
            (
                notes,
                vec![Reply::json(json!([
                    {"id": 1, "body": format!("{MARKER}\nchanged the description"), "system": true},
                    {"id": 5, "body": format!("{MARKER}\nold"), "system": false},
                ]))],
            ),
            (
                "/projects/acme%2Finfra/merge_requests/7/notes/5",
                vec![Reply::json(json!({"id": 5, "body": "new"}))],
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let body = report_file(dir.path(), "### ⚠️ driftgate: WARN\n");
    let api = server.url.clone();
    let run = comment(
        &["--body", &body, "--on", "gitlab:acme/infra!7"],
        &[
            ("CI_API_V4_URL", Some(api.as_str())),
            ("GITLAB_TOKEN", Some("glpat-secret")),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("updated the comment on gitlab:acme/infra!7"),
        "{}",
        run.stderr
    );
    let hits = server.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].method, "PUT");
    assert_eq!(hits[1].target, format!("{notes}/5"));
    assert_eq!(hits[1].header("private-token"), Some("glpat-secret"));
    let sent: Value = serde_json::from_str(&hits[1].body).unwrap();
    assert_eq!(
        sent["body"].as_str().unwrap(),
        format!("{MARKER}\n### ⚠️ driftgate: WARN\n")
    );
}

#[test]
fn gitlab_without_an_access_token_says_which_one() {
    let dir = tempfile::tempdir().unwrap();
    let body = report_file(dir.path(), "x\n");
    let run = comment(
        &["--body", &body, "--on", "gitlab:acme/infra!7"],
        &[
            ("CI_API_V4_URL", Some("http://127.0.0.1:9")),
            ("CI_JOB_TOKEN", Some("job")),
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("GITLAB_TOKEN") && run.stderr.contains("CI_JOB_TOKEN"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let empty = report_file(dir.path(), "  \n");
    let missing = dir.path().join("nope.md").display().to_string();
    for (args, needle) in [
        (
            vec!["--body", empty.as_str(), "--on", "github:a/b#1"],
            "is empty",
        ),
        (
            vec!["--body", missing.as_str(), "--on", "github:a/b#1"],
            "nope.md",
        ),
        (
            vec!["--body", empty.as_str(), "--on", "github:a/b"],
            "no #NUMBER",
        ),
    ] {
        let run = comment(&args, &[("GITHUB_TOKEN", Some("t"))]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
}
