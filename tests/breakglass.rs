//! Break-glass end to end: a drift in moto, tickets from loopback servers answering in GitHub's,
//! GitLab's and Jira's REST shapes, the tracker's clock injected through its `Date` header.
//!
//! The tests are written at a fixed tracker clock (`NOW`); every date in them, served or
//! asserted, is moved by one offset so that `NOW` is an hour before the real clock: a ticket
//! counts only inside its window by the runner's clock too, and the hour makes the skew warning
//! show.

mod common;
#[path = "common/mutate.rs"]
mod mutate;
#[path = "common/tracker.rs"]
mod tracker;

use common::*;
use serde_json::{json, Value};
use tracker::Reply;

const ADDRESS: &str = r#"module.edge.aws_security_group.this["web"]"#;
/// The trackers' clock in these tests.
const NOW: &str = "Sat, 28 Nov 2026 12:00:00 GMT";
const TOKEN: &str = "ghp_secret_never_printed_0123456789";

/// How far every date of these tests moves: `NOW` becomes the real clock less an hour.
fn offset() -> jiff::SignedDuration {
    static OFFSET: std::sync::OnceLock<jiff::SignedDuration> = std::sync::OnceLock::new();
    *OFFSET.get_or_init(|| {
        let written = jiff::fmt::rfc2822::parse(NOW).unwrap().timestamp();
        // Whole seconds, rounded down: the runner's clock is then never less than an hour ahead.
        let real = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
        real.duration_since(written) - jiff::SignedDuration::from_hours(1)
    })
}

/// `text` with every `2026-MM-DDTHH:MM:SS` in it moved by [`offset`] (fractions and zone offsets
/// after it are kept).
fn at(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("2026-") {
        out.push_str(&rest[..i]);
        let candidate = rest.get(i..i + 19).unwrap_or_default();
        match candidate.parse::<jiff::civil::DateTime>() {
            Ok(dt) if candidate.as_bytes()[10] == b'T' => {
                let moved = dt.checked_add(offset()).unwrap();
                out.push_str(&moved.strftime("%Y-%m-%dT%H:%M:%S").to_string());
                rest = &rest[i + 19..];
            }
            _ => {
                out.push_str("2026-");
                rest = &rest[i + 5..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A tracker whose clock (`Date`, given at the tests' fixed clock) and bodies are moved by
/// [`offset`].
fn serve(date: &str, routes: Vec<(&str, Vec<Reply>)>) -> tracker::Server {
    let written = jiff::fmt::rfc2822::parse(date).unwrap().timestamp();
    let moved = written.checked_add(offset()).unwrap();
    let date = jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&moved)
        .unwrap();
    let routes = routes
        .into_iter()
        .map(|(path, replies)| {
            let replies = replies
                .into_iter()
                .map(|mut r| {
                    r.body = at(&r.body);
                    r
                })
                .collect();
            (path, replies)
        })
        .collect();
    tracker::serve(&date, routes)
}

/// A group in a module with for_each, and SSH opened to the world in the console.
async fn drifted(m: &Moto, dir: &tempfile::TempDir) -> String {
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "edge-web").await;
    m.allow_in(&sg, perm("tcp", 443, 443, "0.0.0.0/0")).await;
    m.allow_in(&sg, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let state = State::new().add(
        ADDRESS,
        sg_attrs(
            &sg,
            &vpc,
            "edge-web",
            vec![sg_block("tcp", 443, 443, &["0.0.0.0/0"])],
            vec![],
        ),
    );
    state.write(dir.path(), "s.tfstate").display().to_string()
}

fn gh_issue(number: u64, title: &str, body: &str, created: &str, author: &str) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/acme/infra/issues/{number}"),
        "html_url": format!("https://github.com/acme/infra/issues/{number}"),
        "number": number, "title": title, "body": body, "state": "open",
        "user": {"login": author, "id": 1, "type": "User"},
        "labels": [{"id": 7, "name": "break-glass", "color": "d73a4a", "default": false}],
        "created_at": created, "updated_at": created, "closed_at": null, "comments": 0,
        "author_association": "MEMBER"
    })
}

fn check(m: &Moto, state: &str, extra: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let mut args = vec!["check", "--format", "json", "--state", state];
    args.extend(extra);
    driftgate_env(&m.url, &args, None, env)
}

#[tokio::test]
async fn github_ticket_covers_within_the_window_and_blocks_after() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let state = drifted(&m, &dir).await;
    let issues = json!([
        gh_issue(
            12,
            "INC-4711: SSH opened for debugging",
            &format!("Changed `{ADDRESS}` by hand.\nWill reconcile."),
            "2026-11-27T12:00:00Z",
            "alice"
        ),
        gh_issue(
            13,
            "unrelated",
            "module.edge.aws_security_group.this[\"web2\"]",
            "2026-11-28T11:00:00Z",
            "bob"
        ),
    ]);
    let server = serve(
        NOW,
        vec![(
            "/repos/acme/infra/issues",
            vec![Reply::json(issues.clone())],
        )],
    );
    let env = [
        ("GITHUB_API_URL", Some(server.url.as_str())),
        ("GITHUB_TOKEN", Some(TOKEN)),
    ];
    let run = check(&m, &state, &["--tickets", "github:acme/infra"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["verdict"], "warn");
    let d = &report["drifts"][0];
    assert_eq!(d["blocking"], false);
    let mut ticket = d["ticket"].clone();
    // Counted on the later clock, the runner's: an hour (and the test's run time) less than the
    // tracker's 24 h.
    let left = ticket["seconds_left"].take().as_i64().unwrap();
    assert!(
        (86400 - 3600 - 600..=86400 - 3600).contains(&left),
        "{left}"
    );
    assert_eq!(
        ticket,
        json!({"tracker": "github:acme/infra", "id": "#12", "url": "https://github.com/acme/infra/issues/12",
               "created_at": at("2026-11-27T12:00:00Z"), "expires_at": at("2026-11-29T12:00:00Z"),
               "seconds_left": null})
    );
    let bg = &report["breakglass"];
    assert_eq!(bg["clock"], "tracker");
    // The runner's real clock is hours away from the tracker's injected one.
    assert!(
        bg["warnings"][0]
            .as_str()
            .unwrap()
            .contains("the runner's clock is"),
        "{bg}"
    );
    assert_eq!(bg["unused_tickets"][0]["id"], "#13");
    assert_eq!(report["summary"]["covered_by_ticket"], 1);
    // The request: open issues with the label, authenticated.
    let hits = server.hits();
    assert!(
        hits[0].target.contains("state=open") && hits[0].target.contains("labels=break-glass"),
        "{:?}",
        hits[0]
    );
    assert_eq!(
        hits[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));

    // The console says how long the exception has left.
    let human = driftgate_env(
        &m.url,
        &["check", "--state", &state, "--tickets", "github:acme/infra"],
        None,
        &env,
    );
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains("break-glass by github:acme/infra #12"),
        "{}",
        human.stdout
    );
    // Counted on the runner's clock, an hour later than the tracker's.
    // (23h 0m when the run takes less than the second it rounds away.)
    assert!(
        human.stdout.contains(": 22h 5") || human.stdout.contains(": 23h 0m"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("verdict: WARN"), "{}", human.stdout);

    // 48 hours after creation by the tracker's clock: blocks again, naming the expired ticket.
    let later = serve(
        "Sun, 29 Nov 2026 12:00:00 GMT",
        vec![("/repos/acme/infra/issues", vec![Reply::json(issues)])],
    );
    let env = [
        ("GITHUB_API_URL", Some(later.url.as_str())),
        ("GITHUB_TOKEN", Some(TOKEN)),
    ];
    let run = check(&m, &state, &["--tickets", "github:acme/infra"], &env);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = &run.json()["drifts"][0];
    assert_eq!(d["blocking"], true);
    assert_eq!(d["ticket"], Value::Null);
    assert_eq!(d["expired_tickets"][0]["id"], "#12");
    assert_eq!(d["expired_tickets"][0]["seconds_left"], 0);
    let human = driftgate_env(
        &m.url,
        &["check", "--state", &state, "--tickets", "github:acme/infra"],
        None,
        &env,
    );
    assert!(
        human
            .stdout
            .contains("#12 (https://github.com/acme/infra/issues/12) expired 0s ago"),
        "{}",
        human.stdout
    );

    // A shorter window set by the pipeline.
    let run = check(
        &m,
        &state,
        &["--tickets", "github:acme/infra", "--ticket-max-age", "12h"],
        &[("GITHUB_API_URL", Some(server.url.as_str()))],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[tokio::test]
async fn github_pages_pull_requests_and_retries() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let state = drifted(&m, &dir).await;
    // A pull request naming the address is not a ticket.
    let mut pr = gh_issue(20, ADDRESS, "", "2026-11-28T10:00:00Z", "mallory");
    pr["pull_request"] = json!({"url": "https://api.github.com/repos/acme/infra/pulls/20"});
    let page1 = json!([
        pr,
        gh_issue(21, "other", "aws_vpc.main", "2026-11-28T10:00:00Z", "bob")
    ]);
    let page2 = json!([gh_issue(
        22,
        "break glass",
        ADDRESS,
        "2026-11-28T09:00:00Z",
        "alice"
    )]);
    let server = serve(
        NOW,
        vec![
            (
                "/repos/acme/infra/issues",
                vec![
                    // Rate limited twice (429, then GitHub's secondary limit: 403 with
                    // Retry-After), then page 1 pointing at page 2.
                    Reply::status(429, "{\"message\":\"API rate limit exceeded\"}")
                        .header("Retry-After", "0"),
                    Reply::status(
                        403,
                        "{\"message\":\"You have exceeded a secondary rate limit\"}",
                    )
                    .header("Retry-After", "0"),
                    Reply::json(page1).header(
                        "Link",
                        "<{base}/page2>; rel=\"next\", <{base}/page2>; rel=\"last\"",
                    ),
                ],
            ),
            ("/page2", vec![Reply::json(page2)]),
        ],
    );
    let env = [("GITHUB_API_URL", Some(server.url.as_str()))];
    let run = check(&m, &state, &["--tickets", "github:acme/infra"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["drifts"][0]["ticket"]["id"], "#22");
    assert_eq!(server.hits().len(), 4);
}

#[tokio::test]
async fn trackers_are_not_asked_without_blocking_drift() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "quiet").await;
    let state = State::new()
        .add(
            "aws_security_group.quiet",
            sg_attrs(&sg, &vpc, "quiet", vec![], vec![]),
        )
        .write(dir.path(), "s.tfstate");
    let server = serve(NOW, vec![]);
    let env = [("GITHUB_API_URL", Some(server.url.as_str()))];
    let run = check(
        &m,
        state.to_str().unwrap(),
        &["--tickets", "github:acme/infra"],
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.hits().len(), 0);
    assert_eq!(run.json()["breakglass"]["consulted"], false);
}

#[tokio::test]
async fn tracker_failures_fail_closed() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let state = drifted(&m, &dir).await;
    let reset_in_an_hour = (jiff::fmt::rfc2822::parse(NOW).unwrap().timestamp()
        + offset()
        + jiff::SignedDuration::from_hours(1))
    .as_second()
    .to_string();
    let cases: Vec<(Vec<Reply>, &str, usize)> = vec![
        (
            vec![Reply::status(401, "{\"message\":\"Bad credentials\"}")],
            "HTTP 401: {\"message\":\"Bad credentials\"} (check GITHUB_TOKEN",
            1,
        ),
        (vec![Reply::status(500, "oops")], "HTTP 500: oops", 4),
        (
            vec![
                Reply::status(403, "{\"message\":\"API rate limit exceeded\"}")
                    .header("X-RateLimit-Remaining", "0")
                    // An hour after the tracker's clock: too long to wait.
                    .header("X-RateLimit-Reset", &reset_in_an_hour),
            ],
            "rate limited (HTTP 403)",
            1,
        ),
        (
            vec![Reply::json(json!({"message": "not a list"}))],
            "the answer is not a list",
            1,
        ),
        (
            vec![Reply::json(
                json!([{"number": 5, "title": "x", "state": "open"}]),
            )],
            "issue #5 has no `created_at`",
            1,
        ),
        (
            vec![Reply::status(200, "<html>")],
            "the answer is not the JSON expected",
            1,
        ),
    ];
    for (replies, needle, requests) in cases {
        let server = serve(NOW, vec![("/repos/acme/infra/issues", replies)]);
        let env = [
            ("GITHUB_API_URL", Some(server.url.as_str())),
            ("GITHUB_TOKEN", Some(TOKEN)),
        ];
        let run = check(&m, &state, &["--tickets", "github:acme/infra"], &env);
        assert_eq!(run.code, 2, "{needle}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("github:acme/infra GET /repos/acme/infra/issues"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
        assert!(!run.stderr.contains(TOKEN));
        assert!(run.stdout.is_empty());
        assert_eq!(server.hits().len(), requests, "{needle}");
    }
}

#[tokio::test]
async fn approval_must_come_from_someone_else() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let state = drifted(&m, &dir).await;
    let issue = json!([gh_issue(
        12,
        "INC",
        ADDRESS,
        "2026-11-28T00:00:00Z",
        "alice"
    )]);
    let labeled = |who: &str| {
        json!([
            {"id": 1, "event": "labeled", "actor": {"login": "alice"}, "label": {"name": "break-glass"}, "created_at": "2026-11-28T00:00:01Z"},
            {"id": 2, "event": "labeled", "actor": {"login": who}, "label": {"name": "approved"}, "created_at": "2026-11-28T00:05:00Z"}
        ])
    };
    for (who, code) in [("alice", 1), ("bob", 0)] {
        let server = serve(
            NOW,
            vec![
                ("/repos/acme/infra/issues", vec![Reply::json(issue.clone())]),
                (
                    "/repos/acme/infra/issues/12/events",
                    vec![Reply::json(labeled(who))],
                ),
            ],
        );
        let env = [("GITHUB_API_URL", Some(server.url.as_str()))];
        let run = check(
            &m,
            &state,
            &[
                "--tickets",
                "github:acme/infra",
                "--require-approval",
                "approved",
            ],
            &env,
        );
        assert_eq!(run.code, code, "approved by {who}: {}", run.stderr);
        if code == 1 {
            assert_eq!(
                run.json()["drifts"][0]["unapproved_tickets"][0]["id"],
                "#12"
            );
        }
    }
}

#[tokio::test]
async fn gitlab_issues_need_an_access_token_not_the_job_token() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let state = drifted(&m, &dir).await;
    let issue = |iid: u64, state: &str, created: &str| {
        json!({"id": 900 + iid, "iid": iid, "project_id": 42, "title": "Break glass: SSH for INC-9",
               "description": format!("Resources:\n- {ADDRESS}\n"), "state": state,
               "created_at": created, "updated_at": created, "closed_at": null,
               "labels": ["break-glass", "incident"], "author": {"id": 5, "username": "carol", "name": "Carol"},
               "web_url": format!("https://gitlab.example.com/acme/infra/-/issues/{iid}")})
    };
    // GitLab refuses job tokens on the Issues API: 401, as it answers for any endpoint not on
    // the job token's list. Then an access token reads them.
    let server = serve(
        NOW,
        vec![(
            "/api/v4/projects/acme%2Finfra/issues",
            vec![
                Reply::status(401, r#"{"message":"401 Unauthorized"}"#),
                Reply::json(json!([
                    issue(3, "closed", "2026-11-28T10:00:00.000Z"),
                    issue(4, "opened", "2026-11-28T08:30:00.000Z")
                ])),
            ],
        )],
    );
    let api = format!("{}/api/v4", server.url);
    let env = [
        ("CI_API_V4_URL", Some(api.as_str())),
        ("CI_JOB_TOKEN", Some("job-token-xyz")),
        ("GITLAB_TOKEN", None),
    ];
    let run = check(&m, &state, &["--tickets", "gitlab:acme/infra"], &env);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("GitLab does not let job tokens read issues: set GITLAB_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("job-token-xyz"), "{}", run.stderr);
    let env = [
        ("CI_API_V4_URL", Some(api.as_str())),
        ("CI_JOB_TOKEN", Some("job-token-xyz")),
        ("GITLAB_TOKEN", Some("glpat-reporter")),
    ];
    let run = check(&m, &state, &["--tickets", "gitlab:acme/infra"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let t = &run.json()["drifts"][0]["ticket"];
    assert_eq!(t["id"], "#4", "the closed one does not count");
    assert_eq!(t["url"], "https://gitlab.example.com/acme/infra/-/issues/4");
    let hits = server.hits();
    assert_eq!(hits[0].header("job-token"), Some("job-token-xyz"));
    assert_eq!(hits[1].header("private-token"), Some("glpat-reporter"));
    assert_eq!(hits[1].header("job-token"), None, "one token at a time");
    assert!(
        hits[1].target.contains("state=opened"),
        "{}",
        hits[1].target
    );
}

#[tokio::test]
async fn jira_ticket_with_adf_description_and_pages() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let state = drifted(&m, &dir).await;
    let issue = |key: &str, category: &str, text: &str| {
        json!({"id": "10001", "key": key, "self": format!("https://acme.atlassian.net/rest/api/3/issue/{key}"),
               "fields": {
                   "summary": "Emergency access for INC-12",
                   "created": "2026-11-28T10:15:00.000+0100",
                   "labels": ["break-glass"],
                   "status": {"name": "In Progress", "statusCategory": {"id": 4, "key": category, "name": "In Progress"}},
                   "creator": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Dana"},
                   "description": {"type": "doc", "version": 1, "content": [
                       {"type": "paragraph", "content": [
                           {"type": "text", "text": "Opened SSH on "},
                           {"type": "text", "text": text, "marks": [{"type": "code"}]},
                           {"type": "text", "text": " during the outage."}]}]}}})
    };
    let server = serve(
        NOW,
        vec![(
            "/rest/api/3/search/jql",
            vec![
                Reply::json(
                    json!({"issues": [issue("OPS-1", "done", ADDRESS)], "nextPageToken": "abc", "isLast": false}),
                ),
                Reply::json(
                    json!({"issues": [issue("OPS-2", "indeterminate", ADDRESS)], "isLast": true}),
                ),
            ],
        )],
    );
    let env = [
        ("JIRA_BASE_URL", Some(server.url.as_str())),
        ("JIRA_EMAIL", Some("ci@acme.example")),
        ("JIRA_API_TOKEN", Some("jira-token")),
    ];
    let run = check(&m, &state, &["--tickets", "jira:OPS"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let t = &run.json()["drifts"][0]["ticket"];
    assert_eq!(t["id"], "OPS-2", "OPS-1 is done");
    assert_eq!(t["created_at"], at("2026-11-28T09:15:00Z"));
    let hits = server.hits();
    assert_eq!(hits.len(), 2);
    assert!(
        hits[1].target.contains("nextPageToken=abc"),
        "{}",
        hits[1].target
    );
    assert!(hits[0]
        .header("authorization")
        .is_some_and(|a| a.starts_with("Basic ")));

    // Without credentials: exit 2, not a silent pass.
    let run = check(
        &m,
        &state,
        &["--tickets", "jira:OPS"],
        &[
            ("JIRA_BASE_URL", Some(server.url.as_str())),
            ("JIRA_EMAIL", None),
            ("JIRA_API_TOKEN", None),
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("jira:OPS: JIRA_EMAIL and JIRA_API_TOKEN must both be set"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_break_glass_flags() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::new().write(dir.path(), "s.tfstate");
    let state = state.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["--tickets", "bugzilla:x"],
            "unknown tracker `bugzilla`",
        ),
        (
            vec![
                "--tickets",
                "github:acme/infra",
                "--ticket-max-age",
                "two days",
            ],
            "--ticket-max-age",
        ),
        (
            vec!["--require-approval", "ok"],
            "the following required arguments were not provided:\n  --tickets <TRACKER>",
        ),
    ] {
        let mut a = vec!["check", "--state", state];
        a.extend(args);
        let run = driftgate("http://127.0.0.1:9", &a, None);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
}

#[tokio::test]
async fn ticket_open_creates_the_reconciliation_ticket() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let state = drifted(&m, &dir).await;

    let dry = driftgate(
        &m.url,
        &[
            "ticket",
            "open",
            "--tickets",
            "github:acme/infra",
            "--state",
            &state,
            "--dry-run",
        ],
        None,
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout
            .contains(&format!("title: Break-glass: security drift on {ADDRESS}")),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("actual (live): tcp port 22 from 0.0.0.0/0"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("Reconcile within 48 hours"),
        "{}",
        dry.stdout
    );

    let server = serve(
        NOW,
        vec![(
            "/repos/acme/infra/issues",
            vec![Reply::json(
                json!({"number": 31, "html_url": "https://github.com/acme/infra/issues/31"}),
            )
            .header("X-Status", "201")],
        )],
    );
    let env = [
        ("GITHUB_API_URL", Some(server.url.as_str())),
        ("GITHUB_TOKEN", Some(TOKEN)),
    ];
    let run = driftgate_env(
        &m.url,
        &[
            "ticket",
            "open",
            "--tickets",
            "github:acme/infra",
            "--state",
            &state,
        ],
        None,
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "https://github.com/acme/infra/issues/31");
    let hits = server.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].method, "POST");
    let sent: Value = serde_json::from_str(&hits[0].body).unwrap();
    assert_eq!(sent["labels"], json!(["break-glass"]));
    // The ticket it opens is one that covers the drift.
    let body = sent["body"].as_str().unwrap();
    assert!(
        driftgate::breakglass::names_address(body, ADDRESS),
        "{body}"
    );

    // A server error on creation is not retried (the ticket may exist) and is exit 2.
    let failing = serve(
        NOW,
        vec![(
            "/repos/acme/infra/issues",
            vec![Reply::status(502, "bad gateway")],
        )],
    );
    let env = [
        ("GITHUB_API_URL", Some(failing.url.as_str())),
        ("GITHUB_TOKEN", Some(TOKEN)),
    ];
    let run = driftgate_env(
        &m.url,
        &[
            "ticket",
            "open",
            "--tickets",
            "github:acme/infra",
            "--state",
            &state,
        ],
        None,
        &env,
    );
    assert_eq!(run.code, 2);
    assert_eq!(failing.hits().len(), 1);

    // Jira: ADF description, the issue type, basic auth.
    let jira = serve(
        NOW,
        vec![(
            "/rest/api/3/issue",
            vec![Reply::json(json!({"id": "10050", "key": "OPS-9"}))],
        )],
    );
    let env = [
        ("JIRA_BASE_URL", Some(jira.url.as_str())),
        ("JIRA_EMAIL", Some("ci@acme.example")),
        ("JIRA_API_TOKEN", Some("t")),
    ];
    let run = driftgate_env(
        &m.url,
        &[
            "ticket",
            "open",
            "--tickets",
            "jira:OPS",
            "--state",
            &state,
            "--jira-issue-type",
            "Incident",
        ],
        None,
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), format!("{}/browse/OPS-9", jira.url));
    let sent: Value = serde_json::from_str(&jira.hits()[0].body).unwrap();
    assert_eq!(sent["fields"]["issuetype"]["name"], "Incident");
    assert_eq!(sent["fields"]["project"]["key"], "OPS");
    let text = driftgate::breakglass::jira::adf_text(&sent["fields"]["description"]);
    assert!(
        driftgate::breakglass::names_address(&text, ADDRESS),
        "{text}"
    );
}

#[tokio::test]
async fn gitlab_and_jira_approvals() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let state = drifted(&m, &dir).await;
    let gl_issue = json!([{"iid": 4, "title": "INC", "description": ADDRESS, "state": "opened",
        "created_at": "2026-11-28T08:00:00.000Z", "labels": ["break-glass", "approved"],
        "author": {"username": "carol"}, "web_url": "https://gitlab.example.com/acme/infra/-/issues/4"}]);
    for (who, code) in [("carol", 1), ("dave", 0)] {
        let server = serve(
            NOW,
            vec![
                (
                    "/api/v4/projects/acme%2Finfra/issues",
                    vec![Reply::json(gl_issue.clone())],
                ),
                (
                    "/api/v4/projects/acme%2Finfra/issues/4/resource_label_events",
                    vec![Reply::json(json!([
                        {"id": 1, "action": "add", "label": {"id": 3, "name": "approved"}, "user": {"username": who}}
                    ]))],
                ),
            ],
        );
        let api = format!("{}/api/v4", server.url);
        let env = [
            ("CI_API_V4_URL", Some(api.as_str())),
            ("GITLAB_TOKEN", Some("glpat-x")),
        ];
        let run = check(
            &m,
            &state,
            &[
                "--tickets",
                "gitlab:acme/infra",
                "--require-approval",
                "approved",
            ],
            &env,
        );
        assert_eq!(run.code, code, "gitlab approved by {who}: {}", run.stderr);
        assert_eq!(server.hits()[0].header("private-token"), Some("glpat-x"));
    }

    let jira_issue = json!({"issues": [{"key": "OPS-3", "fields": {"summary": ADDRESS, "created": "2026-11-28T08:00:00.000+0000",
        "labels": ["break-glass", "approved"], "status": {"statusCategory": {"key": "new"}},
        "creator": {"accountId": "acc-author"}, "description": null}}], "isLast": true});
    for (who, code) in [("acc-author", 1), ("acc-lead", 0)] {
        let server = serve(
            NOW,
            vec![
                (
                    "/rest/api/3/search/jql",
                    vec![Reply::json(jira_issue.clone())],
                ),
                (
                    "/rest/api/3/issue/OPS-3/changelog",
                    vec![Reply::json(
                        json!({"startAt": 0, "maxResults": 100, "total": 1, "isLast": true, "values": [
                            {"id": "1", "author": {"accountId": who}, "created": "2026-11-28T08:10:00.000+0000",
                             "items": [{"field": "labels", "fieldtype": "jira", "fromString": "break-glass", "toString": "approved break-glass"}]}
                        ]}),
                    )],
                ),
            ],
        );
        let env = [
            ("JIRA_BASE_URL", Some(server.url.as_str())),
            ("JIRA_EMAIL", Some("e")),
            ("JIRA_API_TOKEN", Some("t")),
        ];
        let run = check(
            &m,
            &state,
            &["--tickets", "jira:OPS", "--require-approval", "approved"],
            &env,
        );
        assert_eq!(run.code, code, "jira approved by {who}: {}", run.stderr);
    }
}

/// A `Link: rel="next"` that points back at itself ends the run instead of looping, and one on
/// another host is not followed: the token goes only where it was configured to go.
#[tokio::test]
async fn hostile_pagination_fails_closed_without_leaking_the_token() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let state = drifted(&m, &dir).await;
    let page = json!([gh_issue(
        21,
        "other",
        "aws_vpc.main",
        "2026-11-28T10:00:00Z",
        "bob"
    )]);
    let server = serve(
        NOW,
        vec![(
            "/repos/acme/infra/issues",
            vec![Reply::json(page.clone())
                .header("Link", "<{base}/repos/acme/infra/issues>; rel=\"next\"")],
        )],
    );
    let env = [
        ("GITHUB_API_URL", Some(server.url.as_str())),
        ("GITHUB_TOKEN", Some("ghp_canary-token")),
    ];
    let run = check(&m, &state, &["--tickets", "github:acme/infra"], &env);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("in a circle"), "{}", run.stderr);
    assert!(server.hits().len() <= 2, "{} requests", server.hits().len());

    let elsewhere = serve(NOW, vec![("/steal", vec![Reply::json(json!([]))])]);
    let link = format!("<{}/steal>; rel=\"next\"", elsewhere.url);
    let server = serve(
        NOW,
        vec![(
            "/repos/acme/infra/issues",
            vec![Reply::json(page).header("Link", &link)],
        )],
    );
    let env = [
        ("GITHUB_API_URL", Some(server.url.as_str())),
        ("GITHUB_TOKEN", Some("ghp_canary-token")),
    ];
    let run = check(&m, &state, &["--tickets", "github:acme/infra"], &env);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("another host"), "{}", run.stderr);
    assert_eq!(elsewhere.hits().len(), 0);
    assert!(!run.stderr.contains("ghp_canary"), "{}", run.stderr);
}

/// Tracker answers fuzzed (seeded byte flips, cuts and inserted tokens in a page of GitHub's,
/// GitLab's and Jira's shape): every run ends in a verdict or exit 2 naming the tracker, never an
/// internal error (a panic); a mangled page never covers a drift it no longer names whole.
#[tokio::test]
async fn mangled_tracker_answers_never_panic_nor_cover() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let state = drifted(&m, &dir).await;
    let github = json!([gh_issue(
        12,
        "INC-1: SSH for debugging",
        ADDRESS,
        "2026-11-28T10:00:00Z",
        "alice"
    )]);
    let gitlab = json!([{"id": 904, "iid": 4, "project_id": 42, "title": "Break glass",
        "description": ADDRESS, "state": "opened", "created_at": "2026-11-28T08:30:00.000Z",
        "labels": ["break-glass"], "author": {"id": 5, "username": "carol"},
        "web_url": "https://gitlab.example.com/acme/infra/-/issues/4"}]);
    let jira = json!({"issues": [{"id": "10001", "key": "OPS-2",
        "self": "https://acme.atlassian.net/rest/api/3/issue/OPS-2",
        "fields": {"summary": ADDRESS, "created": "2026-11-28T10:15:00.000+0100",
            "labels": ["break-glass"],
            "status": {"name": "In Progress", "statusCategory": {"id": 4, "key": "indeterminate"}},
            "creator": {"accountId": "5b10a2844c20165700ede21g"}, "description": null}}],
        "isLast": true});
    let trackers = [
        (
            "github:acme/infra",
            "/repos/acme/infra/issues",
            github,
            "GITHUB_API_URL",
            "",
        ),
        (
            "gitlab:acme/infra",
            "/api/v4/projects/acme%2Finfra/issues",
            gitlab,
            "CI_API_V4_URL",
            "/api/v4",
        ),
        (
            "jira:OPS",
            "/rest/api/3/search/jql",
            jira,
            "JIRA_BASE_URL",
            "",
        ),
    ];
    let escaped = json!(ADDRESS).to_string();
    let named = escaped.trim_matches('"');
    let mut rng = mutate::Rng(0x5DEE_CE66_D1CE_5EED);
    let tokens = ["{", "}", "[", "]", "\"", ",", "null", "1", ":", "\\u0000"];
    for (tracker, path, page, url_var, suffix) in trackers {
        let page = page.to_string();
        let mut outcomes = std::collections::BTreeMap::new();
        for case in 0..40 {
            let body = mutate::mutate(page.as_bytes(), &mut rng, &tokens);
            let text = String::from_utf8_lossy(&body).into_owned();
            let server = serve(NOW, vec![(path, vec![Reply::status(200, &text)])]);
            let url = format!("{}{suffix}", server.url);
            let env = [
                (url_var, Some(url.as_str())),
                ("GITLAB_TOKEN", Some("gl-token")),
                ("JIRA_EMAIL", Some("ci@acme.example")),
                ("JIRA_API_TOKEN", Some("jira-token")),
            ];
            let run = check(&m, &state, &["--tickets", tracker], &env);
            assert!(
                !run.stderr.contains("internal error"),
                "{tracker} case {case} panicked on {text}:\n{}",
                run.stderr
            );
            assert!(
                (0..=2).contains(&run.code),
                "{tracker} case {case}: exit {}",
                run.code
            );
            if run.code == 2 {
                assert!(
                    run.stderr.contains(tracker),
                    "{tracker} case {case}: {}",
                    run.stderr
                );
            }
            // Covered only when the ticket still names the address whole.
            if run.code == 0 {
                assert!(
                    text.contains(named),
                    "{tracker} case {case}: covered by {text}"
                );
            }
            *outcomes.entry(run.code).or_insert(0) += 1;
        }
        // The generator reaches refusals and verdicts both.
        assert!(
            outcomes.get(&2).copied().unwrap_or(0) > 3,
            "{tracker}: {outcomes:?}"
        );
        assert!(outcomes.keys().any(|c| *c != 2), "{tracker}: {outcomes:?}");
    }
}
