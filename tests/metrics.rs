//! `driftgate metrics` over histories with hand-computed answers, and `check --history` end to
//! end against moto's S3.

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use common::*;
use serde_json::{json, Value};

const T0: i64 = 1_793_491_200; // 2026-11-01T00:00:00Z

fn at(hours: f64) -> String {
    let t = jiff::Timestamp::from_second(T0 + (hours * 3600.0) as i64).unwrap();
    t.to_string()
}

fn finding(fp: &str, address: &str, policy: &str, severity: &str, lineage: Option<&str>) -> Value {
    json!({
        "fingerprint": fp, "address": address, "resource_type": "aws_security_group",
        "cloud_id": format!("sg-{fp}"), "policy": policy, "severity": severity,
        "effect": "weakens", "kind": "added", "blocking": true, "enforcement": "block",
        "risk": {"score": 9.0, "exposure": "internet", "priority": "urgent"},
        "ticket": null, "lineage": lineage,
    })
}

fn run(hours: f64, lineage: Option<&str>, checked: &[&str], findings: Vec<Value>) -> Value {
    json!({
        "version": 1, "run_at": at(hours), "tool_version": "0.1.0",
        "pipeline": {"provider": "github-actions", "url": null, "commit": null, "ref": null},
        "states": [{"label": "terraform.tfstate", "lineage": lineage, "serial": 1}],
        "checked": checked, "findings": findings, "verdict": "block",
    })
}

/// Writes records where `check --history DIR` would, each under its day.
fn history(records: &[Value]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (i, r) in records.iter().enumerate() {
        let t: jiff::Timestamp = r["run_at"].as_str().unwrap().parse().unwrap();
        let day = dir
            .path()
            .join("runs")
            .join(t.strftime("%Y/%m/%d").to_string());
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(
            day.join(format!("{}-{i:08x}.json", t.strftime("%Y-%m-%dT%H:%M:%SZ"))),
            serde_json::to_vec(r).unwrap(),
        )
        .unwrap();
    }
    dir
}

fn metrics(dir: &std::path::Path, extra: &[&str]) -> Run {
    let path = dir.display().to_string();
    let mut args = vec![
        "metrics",
        "--history",
        &path,
        "--until",
        "2026-11-30",
        "--since",
        "30d",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    driftgate("http://127.0.0.1:9", &args, None)
}

/// The estate of the hand computation in the comments below.
fn estate() -> Vec<Value> {
    let prod = Some("L-prod");
    let dev = Some("L-dev");
    let a = [
        "aws_security_group.web",
        "aws_security_group.db",
        "aws_kms_key.k",
        "aws_security_group.app[\"a\"]",
        "aws_security_group.app[\"b\"]",
    ];
    let web = || {
        finding(
            "f1",
            "aws_security_group.web",
            "AWS-SG-ADMIN-IPV4",
            "critical",
            prod,
        )
    };
    let mut db = finding(
        "f2",
        "aws_security_group.db",
        "AWS-SG-DB-OPEN",
        "high",
        prod,
    );
    db["blocking"] = json!(false);
    db["ticket"] = json!({"tracker": "github:acme/incidents", "id": "#7",
        "url": "https://github.com/acme/incidents/issues/7",
        "created_at": at(-1.0), "expires_at": at(47.0)});
    let app = |key: &str, fp: &str| {
        finding(
            fp,
            &format!("aws_security_group.app[\"{key}\"]"),
            "AWS-SG-APP",
            "high",
            prod,
        )
    };
    let mut kms = finding("f4", "aws_kms_key.k", "AWS-KMS-ROTATION", "medium", dev);
    kms["enforcement"] = json!("warn");
    kms["blocking"] = json!(false);
    // An older record shape: no verdict, no lineage, no ticket expiry.
    let mut minimal = run(50.0, None, &["aws_kms_key.k"], vec![]);
    minimal.as_object_mut().unwrap().remove("verdict");
    vec![
        // Pipeline A (prod): web open 0→20 h (E1), db ticketed 0→60 h (E2), app["a"] 10→20 h
        // (E5), web back 100→130 h (E3), app["b"] from 60 h, still open (E6).
        run(0.0, prod, &a, vec![web(), db.clone()]),
        run(10.0, prod, &a, vec![web(), db.clone(), app("a", "f5")]),
        run(20.0, prod, &a, vec![db.clone()]),
        run(60.0, prod, &a, vec![app("b", "f6")]),
        run(100.0, prod, &a, vec![web(), app("b", "f6")]),
        run(130.0, prod, &a, vec![app("b", "f6")]),
        // Pipeline B (dev), interleaved: the key under a warn policy 5→15 h (E4). Its run at
        // 15 h checks an address named like prod's web group, but in another state: prod's
        // finding stays open.
        run(
            5.0,
            dev,
            &["aws_kms_key.k", "aws_security_group.web"],
            vec![kms],
        ),
        run(
            15.0,
            dev,
            &["aws_kms_key.k", "aws_security_group.web"],
            vec![],
        ),
        // A run that did not check db: not its remediation.
        minimal,
    ]
}

#[test]
fn hand_computed_history() {
    let dir = history(&estate());
    let out = metrics(dir.path(), &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let m = out.json();
    assert_eq!(m["runs"], 9);
    assert_eq!(m["episodes"], 6);
    let mttr = &m["mttr_hours"];
    // critical: E1 20 h, E3 30 h.
    assert_eq!(
        mttr["critical"],
        json!({"mean": 25.0, "median": 25.0, "remediated": 2, "open": 0})
    );
    // high: E2 60 h, E5 10 h; E6 open.
    assert_eq!(
        mttr["high"],
        json!({"mean": 35.0, "median": 35.0, "remediated": 2, "open": 1})
    );
    assert_eq!(
        mttr["medium"],
        json!({"mean": 10.0, "median": 10.0, "remediated": 1, "open": 0})
    );
    assert_eq!(mttr["low"]["remediated"], 0);
    // E1 came back as E3 (same fingerprint), E5 as E6 (same policy, another instance of the
    // block): 2 of 5 remediated.
    assert_eq!(m["recurrence_rate"], 0.4);
    let recurring: Vec<&str> = m["recurring"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["block"].as_str().unwrap())
        .collect();
    assert_eq!(
        recurring,
        ["aws_security_group.web", "aws_security_group.app"]
    );
    // E2 (ticket) and E4 (warn) of 6.
    assert_eq!(m["exception_rate"], 0.3333);
    // The ticket: created at -1 h, fixed at 60 h, its window ended at 47 h.
    assert_eq!(
        m["tickets"],
        json!({"covered": 1, "hours_to_remediation_mean": 61.0, "outlived_window": 1})
    );
    assert_eq!(
        m["met"],
        json!({"mttr_critical": true, "recurrence_rate": false, "exception_rate": false})
    );
    // E6, open from 2026-11-03T12:00Z to the end of 2026-11-30.
    assert_eq!(
        m["oldest_open"][0]["address"],
        "aws_security_group.app[\"b\"]"
    );
    assert_eq!(m["oldest_open"][0]["age_hours"], 660.0);
    assert_eq!(m["window"]["to"], "2026-11-30T23:59:59Z");

    // The other formats say the same.
    let console = metrics(dir.path(), &[]);
    assert!(console.stdout.contains("25.0 h mean"), "{}", console.stdout);
    assert!(console.stdout.contains("40.0 %") && console.stdout.contains("MISSED"));
    let md = metrics(dir.path(), &["--format", "markdown"]);
    assert!(
        md.stdout
            .contains("| Recurrence rate | 40.0 % (2 recurring) | < 5 % | ❌ missed |"),
        "{}",
        md.stdout
    );
    let om = metrics(dir.path(), &["--format", "openmetrics"]);
    for line in [
        "driftgate_mttr_hours{severity=\"critical\"} 25",
        "driftgate_recurrence_ratio 0.4",
        "driftgate_exception_ratio 0.3333",
        "driftgate_target_met{target=\"mttr_critical\"} 1",
        "driftgate_open_episodes{severity=\"high\"} 1",
    ] {
        assert!(
            om.stdout.lines().any(|l| l == line),
            "{line} in\n{}",
            om.stdout
        );
    }
    assert!(om.stdout.ends_with("# EOF\n"));

    // --fail-on-target: missed targets are exit 1, the report still printed.
    let gate = metrics(dir.path(), &["--fail-on-target", "--format", "json"]);
    assert_eq!(gate.code, 1);
    assert_eq!(gate.json()["met"]["recurrence_rate"], false);
}

#[test]
fn a_critical_left_open_misses_the_target() {
    // Fixing nothing must not look better than fixing slowly.
    let prod = Some("L");
    let sg = ["aws_security_group.web"];
    let web = finding(
        "f1",
        "aws_security_group.web",
        "AWS-SG-ADMIN-IPV4",
        "critical",
        prod,
    );
    let dir = history(&[
        run(0.0, prod, &sg, vec![web.clone()]),
        run(72.0, prod, &sg, vec![web]),
    ]);
    let m = metrics(dir.path(), &["--format", "json", "--fail-on-target"]);
    assert_eq!(m.code, 1);
    let m = m.json();
    assert_eq!(m["mttr_hours"]["critical"]["open"], 1);
    assert_eq!(m["mttr_hours"]["critical"]["mean"], Value::Null);
    assert_eq!(m["met"]["mttr_critical"], false);

    // Flapping: seen, gone, seen, gone: two episodes, one recurrence.
    let flap = finding(
        "f9",
        "aws_security_group.web",
        "AWS-SG-ADMIN-IPV4",
        "critical",
        prod,
    );
    let dir = history(&[
        run(0.0, prod, &sg, vec![flap.clone()]),
        run(1.0, prod, &sg, vec![]),
        run(2.0, prod, &sg, vec![flap]),
        run(3.0, prod, &sg, vec![]),
    ]);
    let out = metrics(dir.path(), &["--format", "json", "--fail-on-target"]);
    let m = out.json();
    assert_eq!(m["episodes"], 2);
    assert_eq!(m["mttr_hours"]["critical"]["mean"], 1.0);
    assert_eq!(m["recurrence_rate"], 0.5);
    assert_eq!(out.code, 1);

    // An empty window misses nothing (a clean run long before it).
    let dir = history(&[run(-2000.0, prod, &sg, vec![])]);
    let out = metrics(dir.path(), &["--format", "json", "--fail-on-target"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["episodes"], 0);
    assert_eq!(out.json()["runs"], 0);
    // A history with no record at all is a wrong destination, not a clean record: exit 2.
    let dir = history(&[]);
    std::fs::create_dir_all(dir.path().join("runs")).unwrap();
    let out = metrics(dir.path(), &["--format", "json", "--fail-on-target"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("no history record"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn an_unreadable_history_is_named_never_skipped() {
    let good = run(0.0, None, &[], vec![]);
    for (name, bytes, needle) in [
        (
            "runs/2026/11/01/broken.json",
            b"{\"version\": 1,".to_vec(),
            "not JSON",
        ),
        (
            "runs/2026/11/01/future.json",
            br#"{"version": 2, "run_at": "2026-11-01T00:00:00Z"}"#.to_vec(),
            "newer than this driftgate reads",
        ),
        (
            "runs/notes.txt",
            b"hello".to_vec(),
            "not a history record name",
        ),
        (
            "runs/2026/11/01/badsev.json",
            serde_json::to_vec(&{
                let mut r = run(
                    1.0,
                    None,
                    &[],
                    vec![finding("x", "a.b", "P", "severe", None)],
                );
                r["version"] = json!(1);
                r
            })
            .unwrap(),
            "unknown severity `severe`",
        ),
    ] {
        let dir = history(std::slice::from_ref(&good));
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let out = metrics(dir.path(), &[]);
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains(name.rsplit('/').next().unwrap()) && out.stderr.contains(needle),
            "{name}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty());
    }
    let out = metrics(std::path::Path::new("/nonexistent/history"), &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no such directory"), "{}", out.stderr);
}

/// `check --history s3://…` over a drift, its ticket and its fix, then `metrics` from S3.
#[tokio::test]
async fn check_records_each_run_in_s3() {
    use aws_sdk_ec2::types::IpPermission;
    let m = moto().await;
    let s3 = s3_client(&m);
    let bucket = unique("drift-history");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "hist").await;
    let ssh: IpPermission = perm("tcp", 22, 22, "0.0.0.0/0");
    m.allow_in(&sg, ssh.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_security_group.web",
            sg_attrs(&sg, &vpc, "hist", vec![], vec![]),
        )
        .write(dir.path(), "terraform.tfstate");
    let dest = format!("s3://{bucket}/prod");
    // The break-glass ticket opened for the drift, an hour old at the tracker's clock.
    let now = jiff::Timestamp::now();
    let created = (now - jiff::SignedDuration::from_hours(1)).to_string();
    let tracker = tracker::serve(
        &now.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        vec![(
            "/repos/acme/incidents/issues",
            vec![tracker::Reply::json(json!([{
                "url": "https://api.github.com/repos/acme/incidents/issues/7",
                "html_url": "https://github.com/acme/incidents/issues/7",
                "number": 7, "title": "SSH opened during the incident",
                "body": "aws_security_group.web", "state": "open",
                "user": {"login": "alice", "id": 1, "type": "User"},
                "labels": [{"id": 7, "name": "break-glass"}],
                "created_at": created, "updated_at": created
            }]))],
        )],
    );
    let check = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--state",
            state.to_str().unwrap(),
            "--history",
            &dest,
        ];
        args.extend_from_slice(extra);
        driftgate_env(
            &m.url,
            &args,
            None,
            &[
                ("GITHUB_API_URL", Some(tracker.url.as_str())),
                ("GITHUB_TOKEN", Some("t")),
            ],
        )
    };
    let first = check(&[]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(
        first
            .stderr
            .contains(&format!("recorded the run in s3://{bucket}/prod/runs/")),
        "{}",
        first.stderr
    );
    // The ticket covers it: the run passes, and the history says why.
    let covered = check(&["--tickets", "github:acme/incidents"]);
    assert_eq!(covered.code, 0, "{}", covered.stderr);
    // The fix.
    m.ec2
        .revoke_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(ssh)
        .send()
        .await
        .unwrap();
    let second = check(&[]);
    assert_eq!(second.code, 0, "{}", second.stderr);

    let listed = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("prod/runs/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    let record: Value = serde_json::from_slice(
        &s3.get_object()
            .bucket(&bucket)
            .key(keys[0])
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes(),
    )
    .unwrap();
    // The names sort in the order of the runs (milliseconds): the first is the blocked run.
    assert_eq!(record["verdict"], "block");
    assert_eq!(record["version"], 1);
    assert_eq!(record["checked"], json!(["aws_security_group.web"]));
    assert_eq!(record["findings"][0]["policy"], "AWS-SG-ADMIN-IPV4");
    assert_eq!(record["findings"][0]["severity"], "critical");
    // The account from the group's ARN.
    assert_eq!(record["findings"][0]["account"], ACCOUNT);
    assert_eq!(record["pipeline"]["provider"], "local");
    // Every record matches the published schema (schemas/history-record-v1.json).
    let py = std::env::var("DRIFTGATE_PYTHON").expect("DRIFTGATE_PYTHON (scripts/test.sh)");
    for key in &keys {
        let bytes = s3
            .get_object()
            .bucket(&bucket)
            .key(*key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        let file = dir.path().join("record.json");
        std::fs::write(&file, &bytes).unwrap();
        let out = std::process::Command::new(&py)
            .args([
                "-c",
                "import json,sys,jsonschema; jsonschema.Draft202012Validator(json.load(open(sys.argv[1])), format_checker=jsonschema.FormatChecker()).validate(json.load(open(sys.argv[2])))",
                concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/history-record-v1.json"),
                file.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let until = jiff::Timestamp::now().to_string();
    let out = driftgate(
        &m.url,
        &[
            "metrics",
            "--history",
            &dest,
            "--until",
            &until,
            "--format",
            "json",
            "--quiet",
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let metrics = out.json();
    assert_eq!(metrics["runs"], 3);
    assert_eq!(metrics["episodes"], 1);
    assert_eq!(metrics["mttr_hours"]["critical"]["remediated"], 1);
    // The one episode was covered by a ticket at one run: an exception.
    assert_eq!(metrics["exception_rate"], 1.0);
    assert_eq!(metrics["tickets"]["covered"], 1);
    assert_eq!(metrics["tickets"]["outlived_window"], 0);
    let to_fix = metrics["tickets"]["hours_to_remediation_mean"]
        .as_f64()
        .unwrap();
    assert!((0.9..1.2).contains(&to_fix), "{to_fix}");

    // A history that cannot be written is exit 2, whatever the verdict, and leaves no report
    // that a later step (an upload) would take for this run's result.
    let report = dir.path().join("report.json");
    let output = format!("json={}", report.display());
    let out = driftgate(
        &m.url,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--history",
            "s3://no-such-bucket-dg/x",
            "--output",
            &output,
        ],
        None,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(!report.exists());
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("history s3://no-such-bucket-dg/x/runs/"),
        "{}",
        out.stderr
    );
}

/// The SQL of docs/history.md (sql/metrics.sql), run by DuckDB over the same histories as
/// `driftgate metrics`: the same numbers.
#[test]
fn the_sql_gives_the_same_numbers() {
    let py = std::env::var("DRIFTGATE_PYTHON").unwrap_or_else(|_| {
        panic!(
            "DRIFTGATE_PYTHON is not set: run the suite with scripts/test.sh (it provides duckdb)"
        )
    });
    let sql = concat!(env!("CARGO_MANIFEST_DIR"), "/sql/metrics.sql");
    let code = r#"
import duckdb, json, sys
sql = open(sys.argv[1]).read()
for k, v in (("records", sys.argv[2] + "/runs/*/*/*/*.json"), ("from", sys.argv[3]), ("to", sys.argv[4])):
    sql = sql.replace("{{" + k + "}}", "'" + v + "'")
cur = duckdb.connect().execute(sql)
row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
print(json.dumps({k: (float(v) if v is not None and not isinstance(v, int) else v) for k, v in row.items()}))
"#;
    let prod = Some("L");
    let sg = ["aws_security_group.web"];
    let flap = finding(
        "f9",
        "aws_security_group.web",
        "AWS-SG-ADMIN-IPV4",
        "critical",
        prod,
    );
    let histories = [
        estate(),
        vec![
            run(0.0, prod, &sg, vec![flap.clone()]),
            run(1.0, prod, &sg, vec![]),
            run(2.0, prod, &sg, vec![flap.clone()]),
            run(3.0, prod, &sg, vec![]),
        ],
        // The same drift in two workspaces: fixed in one, open in the other.
        {
            let dev = finding(
                "f9",
                "aws_security_group.web",
                "AWS-SG-ADMIN-IPV4",
                "critical",
                Some("D"),
            );
            vec![
                run(0.0, prod, &sg, vec![flap.clone()]),
                run(0.5, Some("D"), &sg, vec![dev.clone()]),
                run(5.0, prod, &sg, vec![]),
                run(6.0, Some("D"), &sg, vec![dev]),
            ]
        },
    ];
    for (i, records) in histories.iter().enumerate() {
        let dir = history(records);
        let rust = metrics(dir.path(), &["--format", "json"]).json();
        let from = rust["window"]["from"].as_str().unwrap();
        let to = rust["window"]["to"].as_str().unwrap();
        let out = std::process::Command::new(&py)
            .args(["-c", code, sql, &dir.path().display().to_string(), from, to])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sql: Value = serde_json::from_slice(&out.stdout).unwrap();
        let open: u64 = ["critical", "high", "medium", "low"]
            .iter()
            .map(|s| rust["mttr_hours"][s]["open"].as_u64().unwrap())
            .sum();
        if i == 2 {
            // Fixed in prod after 5 h; still open in dev, whose runs never remediate prod's.
            assert_eq!(
                rust["mttr_hours"]["critical"],
                json!({"mean": 5.0, "median": 5.0, "remediated": 1, "open": 1})
            );
        }
        assert_eq!(sql["runs"], rust["runs"], "history {i}");
        assert_eq!(sql["episodes"], rust["episodes"], "history {i}");
        assert_eq!(sql["open_episodes"], json!(open), "history {i}");
        assert_eq!(
            sql["mttr_critical_mean"], rust["mttr_hours"]["critical"]["mean"],
            "history {i}"
        );
        assert_eq!(
            sql["mttr_critical_median"], rust["mttr_hours"]["critical"]["median"],
            "history {i}"
        );
        assert_eq!(
            sql["mttr_high_mean"], rust["mttr_hours"]["high"]["mean"],
            "history {i}"
        );
        assert_eq!(
            sql["recurrence_rate"], rust["recurrence_rate"],
            "history {i}"
        );
        assert_eq!(sql["exception_rate"], rust["exception_rate"], "history {i}");
    }
}

/// The HTML page in a real headless Chromium (Debian's, driven by playwright-core): it renders
/// its charts and cards and logs no console error.
#[test]
fn the_html_page_renders_in_a_browser() {
    let modules = std::env::var("DRIFTGATE_NODE_MODULES").unwrap_or_else(|_| {
        panic!("DRIFTGATE_NODE_MODULES is not set: run the suite with scripts/test.sh")
    });
    let chromium =
        std::env::var("DRIFTGATE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let dir = history(&estate());
    let page = dir.path().join("metrics.html");
    let out = metrics(
        dir.path(),
        &["--output", &format!("html={}", page.display())],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing fetched from anywhere.
    for needle in ["<script", "http://", "https://", "src=", "@import"] {
        let found = html.replace("http://www.w3.org/2000/svg", "");
        assert!(!found.contains(needle), "the page refers to {needle}");
    }
    let script = dir.path().join("check.mjs");
    std::fs::write(
        &script,
        r##"
import { createRequire } from "node:module";
const require = createRequire(process.env.DRIFTGATE_NODE_MODULES + "/");
const { chromium } = require("playwright-core");
const browser = await chromium.launch({
  executablePath: process.env.DRIFTGATE_CHROMIUM,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage();
const problems = [];
page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(m.text()); });
page.on("pageerror", (e) => problems.push(String(e)));
page.on("request", (r) => { if (!r.url().startsWith("file:")) problems.push("request " + r.url()); });
await page.goto("file://" + process.argv[2]);
const seen = await page.evaluate(() => ({
  series: [...document.querySelectorAll("#open-by-severity polyline.series")]
    .filter((p) => p.getBBox().width > 0).length,
  bars: document.querySelectorAll("#mttr-weekly rect.bar").length,
  target: document.querySelectorAll("#mttr-weekly line.target").length,
  rates: [...document.querySelectorAll("#rates rect.rate")].filter((r) => r.getBBox().width > 0).length,
  missed: document.querySelectorAll(".card.missed").length,
  met: document.querySelectorAll(".card.met").length,
  oldest: document.querySelectorAll("#oldest tr").length,
  height: document.body.scrollHeight,
}));
await page.screenshot({ path: process.argv[3], fullPage: true });
await browser.close();
console.log(JSON.stringify({ seen, problems }));
"##,
    )
    .unwrap();
    let shot = dir.path().join("metrics.png");
    let run = std::process::Command::new("node")
        .arg(&script)
        .arg(&page)
        .arg(&shot)
        .env("DRIFTGATE_NODE_MODULES", &modules)
        .env("DRIFTGATE_CHROMIUM", &chromium)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let result: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(result["problems"], json!([]), "{result}");
    let seen = &result["seen"];
    assert_eq!(seen["series"], 4, "{result}");
    // All remediations of the history fall in its first week.
    assert_eq!(seen["bars"], 1, "{result}");
    assert_eq!(seen["target"], 1);
    assert_eq!(seen["rates"], 2);
    // MTTR met; recurrence and exceptions missed (the hand-computed history).
    assert_eq!(seen["missed"], 2);
    assert_eq!(seen["met"], 1);
    assert_eq!(seen["oldest"], 2, "a header and the one open finding");
    assert!(seen["height"].as_u64().unwrap() > 600, "{result}");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    if let Ok(keep) = std::env::var("DRIFTGATE_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}
