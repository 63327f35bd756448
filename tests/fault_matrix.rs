//! Every AWS operation driftgate calls, under every fault the fault proxy makes: the run ends with
//! exit 2 naming the call, or with exactly the verdict and drifts of the run without faults. Never a
//! pass that hides drift, never drift that is not there.
//!
//! The estate (scripts/mixed_estate.py) holds a few objects of every AWS family, in moto accounts of
//! its own (so its account-wide settings are nobody else's): one with a console change in every
//! family, one clean. The operations under test are the ones the clean run's `summary.api_calls`
//! lists, so a family that starts calling a new operation is covered without editing this file.

mod common;

#[path = "common/fault_proxy.rs"]
mod fault_proxy;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use fault_proxy::{fault_proxy, Fault};
use serde_json::Value;

struct Estate {
    /// A file, or an `s3://` URL.
    state: PathBuf,
    key_id: String,
    secret: String,
}

/// Seeds an estate with scripts/mixed_estate.py in `account`.
fn seed(endpoint: &str, dir: &Path, account: &str, drift: bool) -> Estate {
    let python = std::env::var("DRIFTGATE_PYTHON").unwrap_or_else(|_| {
        panic!(
            "DRIFTGATE_PYTHON is not set: run the suite with scripts/test.sh (it provides boto3)"
        )
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mixed_estate.py");
    let state = dir.join(format!("{account}.tfstate"));
    let prefix = unique("faults");
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg(endpoint)
        .arg(&state)
        .args(["--account", account, "--prefix", &prefix])
        .args([
            "--groups", "3", "--rules", "2", "--acls", "2", "--roles", "2",
        ])
        .args(["--policies", "2", "--buckets", "2", "--keys", "2"])
        .args(["--volumes", "2", "--databases", "1", "--instances", "2"])
        .args(["--balancers", "2", "--templates", "2"])
        // Eleven functions: listed, with the deleted one confirmed by a direct read.
        .args(["--functions", "11", "--caches", "2"]);
    if drift {
        cmd.arg("--drift");
    } else {
        // The clean twin's state is remote: its download is an operation under test too.
        cmd.args(["--state-bucket", &format!("{prefix}-states")]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "mixed_estate.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let credentials = &summary["credentials"];
    Estate {
        state: summary["state_url"].as_str().map_or(state, PathBuf::from),
        key_id: credentials["access_key_id"].as_str().unwrap().to_string(),
        secret: credentials["secret_access_key"]
            .as_str()
            .unwrap()
            .to_string(),
    }
}

/// A check with short timeouts (a stalled attempt is cut after 2 s), or, with `patient`, ones
/// that leave room for every backoff of a call throttled on each attempt, and for the adaptive
/// retry mode of S3 (after a throttle it slows the client down for seconds).
fn check_with(estate: &Estate, endpoint: &str, extra: &[&str], patient: bool) -> Run {
    let mut args = vec![
        "check",
        "--format",
        "json",
        "--state",
        estate.state.to_str().unwrap(),
        "--max-attempts",
        "3",
        "--timeout",
        if patient { "15" } else { "2" },
    ];
    args.extend(extra);
    driftgate_env(
        endpoint,
        &args,
        None,
        &[
            ("AWS_ACCESS_KEY_ID", Some(&estate.key_id)),
            ("AWS_SECRET_ACCESS_KEY", Some(&estate.secret)),
        ],
    )
}

fn check(estate: &Estate, endpoint: &str, extra: &[&str]) -> Run {
    check_with(estate, endpoint, extra, false)
}

/// What a verdict consists of: the exit code and every drift's identity and judgement.
fn outcome(run: &Run) -> (i32, BTreeSet<String>) {
    let drifts = run
        .drifts()
        .iter()
        .map(|d| {
            format!(
                "{} {} {} {} {} blocking={}",
                d["address"], d["attribute"], d["kind"], d["effect"], d["policy"], d["blocking"]
            )
        })
        .collect();
    (run.code, drifts)
}

fn operations(run: &Run) -> Vec<(String, String)> {
    let calls = &run.json()["summary"]["api_calls"];
    let mut ops = Vec::new();
    for (service, by_op) in calls.as_object().unwrap() {
        for op in by_op.as_object().unwrap().keys() {
            ops.push((service.clone(), op.clone()));
        }
    }
    ops
}

/// Runs `estate` (with `extra` arguments) with `fault` on each operation of `ops`; returns the
/// failures as readable lines.
fn judge(
    estate: &Estate,
    m: &Moto,
    (baseline, extra): (&Run, &[&str]),
    ops: Vec<(String, String)>,
    faults: &[Fault],
) -> Vec<String> {
    let expected = outcome(baseline);
    let mut cases = Vec::new();
    for (service, op) in ops {
        for fault in faults {
            cases.push((service.clone(), op.clone(), *fault));
        }
    }
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((service, op, fault)) = cases.get(i) else {
                    break;
                };
                let proxy = fault_proxy(&m.url, service, op, *fault);
                let started = std::time::Instant::now();
                // S3 retries in the SDK's adaptive mode, which waits seconds after a throttle.
                let adaptive = service == "s3" && matches!(fault, Fault::Throttle(_));
                let run = check_with(estate, &proxy.url, extra, adaptive);
                eprintln!("{service} {op} {fault:?}: {:.1} s", started.elapsed().as_secs_f64());
                let case = format!("{service} {op} under {fault:?}");
                let mut wrong = Vec::new();
                if proxy.hits.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                    wrong.push("the proxy never saw the operation".to_string());
                }
                let transient = matches!(fault, Fault::Throttle(_) | Fault::StallOnce(_));
                if run.stderr.contains("panicked") {
                    wrong.push("panicked".into());
                }
                match run.code {
                    2 if transient => wrong.push("a transient fault was not retried".into()),
                    2 => {
                        let named = format!("AWS {service} {op}");
                        if !run.stderr.contains(&named) {
                            wrong.push(format!("exit 2 without naming {named:?}"));
                        }
                        if !run.stdout.is_empty() {
                            wrong.push("a report was written for a check not done".into());
                        }
                    }
                    _ if outcome(&run) == expected => {}
                    _ => {
                        let got = outcome(&run);
                        wrong.push(format!(
                            "exit {} (expected {} with the same drifts, or 2); drifts missing: {:?}; drifts added: {:?}",
                            got.0,
                            expected.0,
                            expected.1.difference(&got.1).collect::<Vec<_>>(),
                            got.1.difference(&expected.1).collect::<Vec<_>>()
                        ))
                    }
                }
                if !wrong.is_empty() {
                    failures.lock().unwrap().push(format!(
                        "{case}: {}\n    stderr: {}",
                        wrong.join("; "),
                        run.stderr.trim().replace('\n', "\n    ")
                    ));
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

/// The IAM account listing, as `summary.api_calls` names it.
const GAAD: (&str, &str) = ("iam", "GetAccountAuthorizationDetails");

/// Operations moto does not implement, or not as AWS answers them (tested against loopback
/// servers): a replication group's member clusters are names only in moto, never listed, so
/// driftgate's confirming `DescribeReplicationGroups` would find them missing from the listing.
const NOT_IN_MOTO: &[&str] = &[
    "GetEbsDefaultKmsKeyId",
    "DescribeReplicationGroups",
    // moto's Config serves few types and timestamps the SDK refuses: AWS Config is read from a
    // stand-in, and its faults are tested there (tests/aws_config.rs).
    "BatchGetResourceConfig",
    "BatchGetAggregateResourceConfig",
    "SelectResourceConfig",
    "SelectAggregateResourceConfig",
];

/// Every `(service, operation)` the source counts with `count("service", "Operation")`.
fn counted_operations() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for call in text.split("count(\"").skip(1) {
                let mut quoted = call.split('"');
                let (Some(service), Some(comma), Some(op)) =
                    (quoted.next(), quoted.next(), quoted.next())
                else {
                    continue;
                };
                if comma.trim() == "," && !op.is_empty() {
                    found.insert((service.to_string(), op.to_string()));
                }
            }
        }
    }
    assert!(found.len() > 20, "the source scan found {found:?}");
    found
}

#[tokio::test]
async fn every_operation_under_every_fault() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let drifted = seed(&m.url, dir.path(), "210987654321", true);
    let clean = seed(&m.url, dir.path(), "210987654322", false);

    let baseline = check(&drifted, &m.url, &[]);
    assert_eq!(baseline.code, 1, "{}\n{}", baseline.stdout, baseline.stderr);
    // One console change per family, each reported (scripts/mixed_estate.py --drift).
    let addresses: BTreeSet<String> = baseline
        .drifts()
        .iter()
        .map(|d| d["address"].as_str().unwrap().to_string())
        .collect();
    for family in [
        "aws_launch_template",
        "aws_instance",
        "aws_lb",
        "aws_lambda_function",
        "aws_security_group",
        "aws_network_acl",
        "aws_iam_policy",
        "aws_iam_role",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_kms_key",
        "aws_db_instance",
        "aws_ebs_encryption_by_default",
        "aws_s3_account_public_access_block",
    ] {
        assert!(
            addresses.iter().any(|a| a.contains(family)),
            "no drift on {family}: {addresses:?}"
        );
    }
    let quiet = check(&clean, &m.url, &[]);
    assert_eq!(quiet.code, 0, "{}\n{}", quiet.stdout, quiet.stderr);
    // Every operation a family counts (`count("service", "Operation")` in src/) is exercised.
    let mut exercised: BTreeSet<(String, String)> = operations(&quiet).into_iter().collect();
    exercised.extend(operations(&baseline));
    // The drift history's writes and reads have a test of their own (below).
    let missing: Vec<_> = counted_operations()
        .into_iter()
        .filter(|op| {
            !exercised.contains(op)
                && !NOT_IN_MOTO.contains(&op.1.as_str())
                && !HISTORY_OPERATIONS.contains(&op.1.as_str())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "operations driftgate calls that the estate does not exercise: {missing:?}"
    );

    let every = [
        Fault::Cut,
        Fault::Empty,
        Fault::Reset,
        Fault::Throttle(2),
        Fault::StallOnce(Duration::from_millis(2500)),
    ];
    let mut failures = judge(
        &drifted,
        &m,
        (&baseline, &[]),
        operations(&baseline),
        &every,
    );
    // Faults that could invent drift, on the clean estate.
    failures.extend(judge(
        &clean,
        &m,
        (&quiet, &[]),
        operations(&quiet),
        &[Fault::Cut, Fault::Empty],
    ));
    // IAM through the account listing: the same verdict, and the same faults on the listing
    // (an empty or partial listing is made good by direct reads, never read as deletions).
    let listing = ["--iam-reads", "account"];
    let listed = check(&drifted, &m.url, &listing);
    assert_eq!(outcome(&listed), outcome(&baseline), "{}", listed.stderr);
    let gaad = (GAAD.0.to_string(), GAAD.1.to_string());
    failures.extend(judge(&drifted, &m, (&listed, &listing), vec![gaad], &every));
    // Throttled on every attempt: retried with backoff, then exit 2 naming the call.
    let proxy = fault_proxy(&m.url, GAAD.0, GAAD.1, Fault::Throttle(usize::MAX));
    let run = check_with(&drifted, &proxy.url, &listing, true);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "AWS iam GetAccountAuthorizationDetails in us-east-1: Throttling: Rate exceeded \
             (still throttled after 3 attempts with backoff)"
        ),
        "{}",
        run.stderr
    );
    // Three attempts of the listing that failed first; the other listings in flight (roles,
    // users and groups, policies) may be cut short by that failure.
    let hits = proxy.hits.load(std::sync::atomic::Ordering::SeqCst);
    assert!((3..=9).contains(&hits), "{hits} listing attempts");
    assert!(
        failures.is_empty(),
        "{} case(s) went wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The S3 operations of the drift history (`check --history`, `metrics`), beside the check's own.
const HISTORY_OPERATIONS: [&str; 2] = ["PutObject", "ListObjectsV2"];

/// The drift history under every fault: a check either records its run exactly once and keeps
/// its verdict, or ends with exit 2 naming the call; `metrics` either gives the numbers of the
/// run without faults or ends with exit 2 naming the call. Never a record lost in silence, never
/// numbers from part of the history.
#[tokio::test]
async fn the_history_under_every_fault() {
    let m = moto().await;
    let s3 = s3_client(&m);
    let bucket = unique("faults-history");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "hist-faults").await;
    m.allow_in(&sg, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_security_group.web",
            sg_attrs(&sg, &vpc, "hist-faults", vec![], vec![]),
        )
        .write(dir.path(), "terraform.tfstate");
    let check = |endpoint: &str, prefix: &str| {
        let dest = format!("s3://{bucket}/{prefix}");
        driftgate(
            endpoint,
            &[
                "check",
                "--format",
                "json",
                "--state",
                state.to_str().unwrap(),
                "--history",
                &dest,
                "--max-attempts",
                "3",
                "--timeout",
                "15",
            ],
            None,
        )
    };
    let records = |prefix: String| {
        let s3 = s3.clone();
        let bucket = bucket.clone();
        async move {
            let out = s3
                .list_objects_v2()
                .bucket(&bucket)
                .prefix(format!("{prefix}/runs/"))
                .send()
                .await
                .unwrap();
            out.contents().len()
        }
    };
    let baseline = check(&m.url, "baseline");
    assert_eq!(baseline.code, 1, "{}", baseline.stderr);
    assert_eq!(records("baseline".into()).await, 1);
    let every = [
        Fault::Cut,
        Fault::Empty,
        Fault::Reset,
        Fault::Throttle(2),
        Fault::StallOnce(Duration::from_millis(2500)),
    ];
    let mut failures = Vec::new();
    for (i, fault) in every.iter().enumerate() {
        let prefix = format!("put-{i}");
        let proxy = fault_proxy(&m.url, "s3", "PutObject", *fault);
        let run = check(&proxy.url, &prefix);
        let written = records(prefix.clone()).await;
        let case = format!("s3 PutObject under {fault:?}");
        if proxy.hits.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            failures.push(format!("{case}: the proxy never saw the operation"));
        }
        match run.code {
            2 => {
                if !run.stderr.contains("AWS s3 PutObject") || !run.stderr.contains("history s3://")
                {
                    failures.push(format!(
                        "{case}: exit 2 without naming the call: {}",
                        run.stderr
                    ));
                }
                if !run.stdout.is_empty() {
                    failures.push(format!("{case}: exit 2 with a report on stdout"));
                }
            }
            _ if outcome(&run) != outcome(&baseline) => {
                failures.push(format!("{case}: another verdict: {}", run.stderr));
            }
            _ if written != 1 => failures.push(format!("{case}: passed with {written} record(s)")),
            _ => {}
        }
    }

    // Reading: three records under one prefix, listed in pages of one (the fault hits a page).
    for _ in 0..2 {
        assert_eq!(check(&m.url, "read").code, 1);
    }
    let until = jiff::Timestamp::now().to_string();
    let metrics = |endpoint: &str| {
        let dest = format!("s3://{bucket}/read");
        driftgate(
            endpoint,
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
        )
    };
    let expected = metrics(&m.url);
    assert_eq!(expected.code, 0, "{}", expected.stderr);
    assert_eq!(expected.json()["runs"], 2);
    for op in ["ListObjectsV2", "GetObject"] {
        for fault in &every {
            let proxy = fault_proxy(&m.url, "s3", op, *fault);
            let run = metrics(&proxy.url);
            let case = format!("s3 {op} under {fault:?} (metrics)");
            if proxy.hits.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                failures.push(format!("{case}: the proxy never saw the operation"));
            }
            let transient = matches!(fault, Fault::Throttle(_) | Fault::StallOnce(_));
            match run.code {
                2 if transient => failures.push(format!("{case}: not retried: {}", run.stderr)),
                2 if !run.stderr.contains(&format!("AWS s3 {op}")) => failures.push(format!(
                    "{case}: exit 2 without naming the call: {}",
                    run.stderr
                )),
                2 => {}
                0 if run.stdout == expected.stdout => {}
                code => failures.push(format!(
                    "{case}: exit {code} with other numbers:\n{}",
                    run.stdout
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) went wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
