//! Fail closed: every way of not knowing ends with exit 2 and a message naming the input, never a
//! pass, never a panic. Cloud failures that moto cannot produce (throttling, hanging connections,
//! garbage answers) come from small loopback servers speaking the EC2 wire format.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;

fn write(dir: &tempfile::TempDir, name: &str, body: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn assert_exit2(run: &Run, needle: &str) {
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains(needle),
        "stderr should contain {needle:?}:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "no report when the check could not be done: {}",
        run.stdout
    );
}

/// A state whose only resource records no ARN: no account check, straight to EC2.
fn rule_only_state(dir: &tempfile::TempDir) -> PathBuf {
    let state = State::new().add(
        "aws_security_group_rule.ssh",
        sg_rule_attrs(
            "ingress",
            "sg-0123456789abcdef0",
            "tcp",
            22,
            22,
            &["10.0.0.0/8"],
        ),
    );
    state.write(dir.path(), "s.tfstate")
}

const UNUSED_ENDPOINT: &str = "http://127.0.0.1:9";

#[test]
fn bad_state_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let full = State::new()
        .add(
            "aws_security_group.web",
            sg_attrs("sg-1", "vpc-1", "web", vec![], vec![]),
        )
        .json()
        .to_string();
    let truncated = write(
        &dir,
        "truncated.tfstate",
        &full.as_bytes()[..full.len() / 2],
    );
    let v3 = write(
        &dir,
        "v3.tfstate",
        br#"{"version": 3, "terraform_version": "0.11.14", "modules": []}"#,
    );
    let hcl = write(&dir, "main.tf", b"resource \"aws_vpc\" \"main\" {}\n");
    let numeric = write(
        &dir,
        "plan.json",
        br#"{"format_version": 1.2, "terraform_version": "1.9.0", "values": {}}"#,
    );
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![truncated.display().to_string()],
            "the JSON ends early (truncated file?)",
        ),
        (
            vec![v3.display().to_string()],
            "state format version 3 is not supported",
        ),
        (
            vec![hcl.display().to_string()],
            "main.tf: this is Terraform code, not a state",
        ),
        (
            vec![numeric.display().to_string()],
            "`format_version` is a number, expected a string",
        ),
        (
            vec!["/nonexistent/terraform.tfstate".into()],
            "state /nonexistent/terraform.tfstate: no such file. A state kept in a backend can \
             be saved with `terraform state pull > terraform.tfstate`",
        ),
        (
            vec!["ftp://bucket/key".into()],
            "state backend `ftp://` is not supported (s3://, gs://, azurerm://, tfc:// and https:// are)",
        ),
        (
            vec!["-".into(), "-".into()],
            "standard input can be given only once",
        ),
    ];
    for (states, needle) in cases {
        let mut args = vec!["check"];
        for s in &states {
            args.extend(["--state", s.as_str()]);
        }
        assert_exit2(&driftgate(UNUSED_ENDPOINT, &args, Some(b"{}")), needle);
    }
    // Mangled documents never read as an empty estate ("0 resources checked", exit 0).
    let sg = r#"{"mode": "managed", "type": "aws_security_group", "name": "a", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": [{"schema_version": 1, "attributes": {"id": "sg-1"}}]}"#;
    let show = |values: &str| {
        format!(r#"{{"format_version": "1.0", "terraform_version": "1.9.0", "values": {values}}}"#)
    };
    let res = r#"{"address": "aws_security_group.a", "mode": "managed", "type": "aws_security_group", "name": "a", "provider_name": "registry.terraform.io/hashicorp/aws", "values": {"id": "sg-1"}}"#;
    let mangled: Vec<(String, &str)> = vec![
        (
            format!(r#"{{"version": 4, "resources": [{}]}}"#, sg.replace("managed", "manged")),
            "`resources[0].mode` is `manged`, expected `managed` or `data`",
        ),
        (r#"{"version": 4, "serial": 1}"#.into(), "missing field `resources`"),
        (
            r#"{"version": 4, "resources": [{"mode": "managed", "type": "aws_security_group", "name": "a", "provider": "p"}]}"#.into(),
            "missing field `instances`",
        ),
        (
            r#"{"version": 4, "resources": [{"mode": "managed", "type": "aws_security_group", "name": "a", "provider": "p", "instances": [{"attributes": {"id": "sg-1"}, "sensitive_attributes": {"x": 1}}]}]}"#.into(),
            "malformed state v4",
        ),
        (show(&format!(r#"{{"root_module": {{"resources": {{"a": {res}}}}}}}"#)), "`values.root_module.resources` is an object, expected an array"),
        (show(&format!("[{res}]")), "`values` is an array, expected an object"),
        (show(&format!(r#"{{"root_module": [{res}]}}"#)), "`values.root_module` is an array"),
        (
            show(&format!(r#"{{"root_module": {{"resources": [{}]}}}}"#, res.replace(r#""mode": "managed""#, r#""mode": null"#))),
            "`values.root_module.resources[0].mode` is missing or not a string",
        ),
        (show(r#"{"root_module": {"resources": [null]}}"#), "`values.root_module.resources[0]` is null"),
        (
            show(&format!(r#"{{"root_module": {{"child_modules": {{"m": {{"resources": [{res}]}}}}}}}}"#)),
            "`values.root_module.child_modules` is an object",
        ),
        (
            r#"{"format_version": "1.2", "prior_state": "values"}"#.into(),
            "`prior_state` is a string, expected an object",
        ),
    ];
    for (i, (text, needle)) in mangled.into_iter().enumerate() {
        let path = write(&dir, &format!("mangled-{i}.json"), text.as_bytes());
        let run = driftgate(
            UNUSED_ENDPOINT,
            &["check", "--state", path.to_str().unwrap()],
            None,
        );
        assert_exit2(&run, needle);
    }
    // Empty stdin is not an empty estate.
    assert_exit2(
        &driftgate(UNUSED_ENDPOINT, &["check", "--state", "-"], Some(b"")),
        "the file is empty",
    );
}

#[test]
fn bad_policy_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    let policy = write(&dir, "p.yaml", b"version: 1\npolicies:\n  - id: X\n    title: t\n    resource_types: [aws_security_group]\n    severity: extreme\n");
    let run = driftgate(
        UNUSED_ENDPOINT,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ],
        None,
    );
    assert_exit2(&run, &format!("policy {}:6:", policy.display()));
    let run = driftgate(
        UNUSED_ENDPOINT,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--output",
            "xml=x",
        ],
        None,
    );
    assert_exit2(&run, "--output xml=x");
    let run = driftgate(UNUSED_ENDPOINT, &["check"], None);
    assert_eq!(run.code, 2, "usage errors are exit 2 too: {}", run.stderr);
    // A ticket window without a tracker would decide nothing: a usage error, not ignored.
    for flag in [
        ["--ticket-max-age", "2h"],
        ["--ticket-label", "incident"],
        ["--require-approval", "approved"],
    ] {
        let mut args = vec!["check", "--state", state.to_str().unwrap()];
        args.extend(flag);
        let run = driftgate(UNUSED_ENDPOINT, &args, None);
        assert_eq!(run.code, 2, "{flag:?}: {}", run.stderr);
        assert!(run.stderr.contains("--tickets <TRACKER>"), "{}", run.stderr);
    }
}

#[test]
fn a_state_with_nothing_to_check_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_vpc.main",
            serde_json::json!({"id": "vpc-1", "cidr_block": "10.0.0.0/16"}),
        )
        .write(dir.path(), "vpc.tfstate");
    let path = state.to_str().unwrap();
    // Formats are matched ignoring case, as users type them.
    let run = driftgate(
        UNUSED_ENDPOINT,
        &["check", "--state", path, "--format", "CONSOLE"],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "nothing checked: none of the 1 resource(s) in the state(s) is one driftgate checks"
        ),
        "the report itself says so, not only stderr: {}",
        run.stdout
    );
    let run = driftgate(
        UNUSED_ENDPOINT,
        &["check", "--state", path, "--format", "Markdown"],
        None,
    );
    assert!(run.stdout.contains("Nothing checked"), "{}", run.stdout);
    let run = driftgate(
        UNUSED_ENDPOINT,
        &["check", "--state", path, "--fail-on-empty"],
        None,
    );
    assert_exit2(
        &run,
        "--fail-on-empty: the state(s) hold 1 resource(s), none that driftgate checks",
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn unreachable_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    let run = driftgate(
        UNUSED_ENDPOINT,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--max-attempts",
            "2",
            "--timeout",
            "5",
        ],
        None,
    );
    assert_exit2(&run, "AWS ec2 DescribeSecurityGroups in us-east-1");

    // With an ARN in the state, the account check is the first call to fail.
    let state = State::new()
        .add(
            "aws_security_group.web",
            sg_attrs("sg-1", "vpc-1", "web", vec![], vec![]),
        )
        .write(dir.path(), "arn.tfstate");
    let run = driftgate(
        UNUSED_ENDPOINT,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--max-attempts",
            "1",
        ],
        None,
    );
    assert_exit2(&run, "AWS sts GetCallerIdentity in us-east-1");
}

#[test]
fn no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    let run = driftgate_env(
        UNUSED_ENDPOINT,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--max-attempts",
            "1",
            "--timeout",
            "5",
        ],
        None,
        &[("AWS_ACCESS_KEY_ID", None), ("AWS_SECRET_ACCESS_KEY", None)],
    );
    assert_exit2(
        &run,
        "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE",
    );
    // Said once: no second hint repeating the variables.
    assert_eq!(
        run.stderr.matches("AWS_PROFILE").count(),
        1,
        "{}",
        run.stderr
    );
    // One line a newcomer can read, not the SDK's debug dump of the provider chain.
    assert!(!run.stderr.contains("DispatchFailure"), "{}", run.stderr);
    assert!(run.stderr.len() < 600, "{}", run.stderr);
}

#[test]
fn a_named_profile_that_does_not_exist_is_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile dev]\nregion = us-east-1\n[profile prod]\n",
    )
    .unwrap();
    let missing = dir.path().join("credentials");
    let run = driftgate_env(
        UNUSED_ENDPOINT,
        &["check", "--state", state.to_str().unwrap()],
        None,
        &[
            ("AWS_PROFILE", Some("prdo")),
            ("AWS_CONFIG_FILE", config.to_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", missing.to_str()),
        ],
    );
    assert_exit2(
        &run,
        "AWS_PROFILE=prdo: no such profile in the AWS config files",
    );
    assert!(
        run.stderr.contains("they define: dev, prod"),
        "{}",
        run.stderr
    );
    // Nothing was asked of AWS: the typo is caught before the first call.
    assert!(
        !run.stderr.contains("DescribeSecurityGroups"),
        "{}",
        run.stderr
    );
}

#[test]
fn no_region_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    let run = driftgate_env(
        UNUSED_ENDPOINT,
        &["check", "--state", state.to_str().unwrap()],
        None,
        &[("AWS_REGION", None)],
    );
    assert_exit2(
        &run,
        "aws_security_group_rule.ssh: cannot tell which AWS region sg-0123456789abcdef0 is in",
    );
}

#[tokio::test]
async fn resource_of_another_account() {
    let m = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let mut attrs = sg_attrs("sg-1", "vpc-1", "web", vec![], vec![]);
    attrs["arn"] = json!("arn:aws:ec2:us-east-1:111111111111:security-group/sg-1");
    let state = State::new()
        .add("aws_security_group.web", attrs)
        .write(dir.path(), "s.tfstate");
    let run = driftgate(&m.url, &["check", "--state", state.to_str().unwrap()], None);
    assert_exit2(&run, "aws_security_group.web: belongs to AWS account 111111111111, but the credentials are for account 123456789012");
}

/// Serves `response` to every connection (or never answers when `None`) and counts requests.
fn serve(response: Option<&'static str>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 65536];
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let _ = stream.read(&mut buf);
            match response {
                Some(body) => {
                    let (status, body) = body.split_once('\n').unwrap();
                    let reply = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes());
                }
                // Hold the connection open without answering.
                None => std::thread::sleep(Duration::from_secs(30)),
            }
        }
    });
    (url, hits)
}

const THROTTLED: &str = "503 Service Unavailable\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>5d1b6e3e-0000-4000-8000-000000000000</RequestID></Response>";
const DENIED: &str = "403 Forbidden\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>5d1b6e3e-0000-4000-8000-000000000001</RequestID></Response>";
const GARBAGE: &str = "200 OK\n<html><body>captive portal</body></html>";

#[test]
fn throttled_after_retries() {
    let (url, hits) = serve(Some(THROTTLED));
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    let run = driftgate(
        &url,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--max-attempts",
            "3",
        ],
        None,
    );
    assert_exit2(&run, "RequestLimitExceeded: Request limit exceeded. (still throttled after 3 attempts with backoff)");
    assert_eq!(hits.load(Ordering::SeqCst), 3, "the SDK retried");
}

#[test]
fn access_denied() {
    let (url, _) = serve(Some(DENIED));
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    let run = driftgate(&url, &["check", "--state", state.to_str().unwrap()], None);
    assert_exit2(&run, "UnauthorizedOperation");
    assert!(
        run.stderr.contains("lack ec2:DescribeSecurityGroups"),
        "{}",
        run.stderr
    );
}

#[test]
fn garbage_answer() {
    let (url, _) = serve(Some(GARBAGE));
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    let run = driftgate(
        &url,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--max-attempts",
            "1",
        ],
        None,
    );
    assert_exit2(&run, "AWS ec2 DescribeSecurityGroups in us-east-1");
}

#[test]
fn hanging_endpoint_times_out() {
    let (url, _) = serve(None);
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    let run = driftgate(
        &url,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--max-attempts",
            "1",
            "--timeout",
            "1",
        ],
        None,
    );
    assert_exit2(&run, "timed out");
}

#[tokio::test]
async fn sensitive_attributes_are_never_printed() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "secretive").await;
    m.allow_in(&sg, perm("tcp", 22, 22, "203.0.113.7/32")).await;
    let dir = tempfile::tempdir().unwrap();
    let mut doc = State::new()
        .add(
            "aws_security_group.s",
            sg_attrs(&sg, &vpc, "secretive", vec![], vec![]),
        )
        .json();
    doc["resources"][0]["instances"][0]["sensitive_attributes"] =
        json!([[{"type": "get_attr", "value": "ingress"}]]);
    let state = write(&dir, "s.tfstate", doc.to_string().as_bytes());
    for format in ["json", "console"] {
        let run = driftgate(
            &m.url,
            &[
                "check",
                "--format",
                format,
                "--state",
                state.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(!run.stdout.contains("203.0.113.7"), "{}", run.stdout);
        assert!(
            run.stdout.contains("sensitive value hidden"),
            "{}",
            run.stdout
        );
    }
}

/// A value marked sensitive on a separate rule resource (`cidr_blocks`, `cidr_ipv4`) never reaches
/// any output, though the drift is named on the group's `ingress`.
#[tokio::test]
async fn sensitive_values_of_rule_resources_are_never_printed() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "rule-secrets").await;
    let dir = tempfile::tempdir().unwrap();
    let mut doc = State::new()
        .add(
            "aws_security_group_rule.office",
            sg_rule_attrs("ingress", &sg, "tcp", 22, 22, &["198.51.100.77/32"]),
        )
        .add(
            "aws_vpc_security_group_ingress_rule.vpn",
            vpc_rule_attrs(&sg, "tcp", Some(443), Some(443), "198.51.100.88/32"),
        )
        .json();
    doc["resources"][0]["instances"][0]["sensitive_attributes"] =
        json!([[{"type": "get_attr", "value": "cidr_blocks"}]]);
    doc["resources"][1]["instances"][0]["sensitive_attributes"] =
        json!([[{"type": "get_attr", "value": "cidr_ipv4"}]]);
    let state = write(&dir, "s.tfstate", doc.to_string().as_bytes());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let summary = out.join("summary.md");
    let github_output = out.join("github_output");
    let st = state.to_str().unwrap();
    let outputs: Vec<String> = ["json", "sarif", "junit", "markdown", "gitlab"]
        .iter()
        .map(|f| format!("{f}={}", out.join(f).display()))
        .collect();
    let mut args = vec!["check", "--state", st];
    for o in &outputs {
        args.extend(["--output", o.as_str()]);
    }
    let run = driftgate_env(
        &m.url,
        &args,
        None,
        &[
            ("GITHUB_ACTIONS", Some("true")),
            ("GITHUB_STEP_SUMMARY", summary.to_str()),
            ("GITHUB_OUTPUT", github_output.to_str()),
        ],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let dry = driftgate(
        &m.url,
        &[
            "ticket",
            "open",
            "--tickets",
            "github:acme/infra",
            "--state",
            st,
            "--dry-run",
        ],
        None,
    );
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let mut texts = vec![run.stdout.clone(), run.stderr.clone(), dry.stdout.clone()];
    for entry in std::fs::read_dir(&out).unwrap() {
        texts.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    assert!(texts[0].contains("sensitive value hidden"), "{}", texts[0]);
    for text in &texts {
        assert!(!text.contains("198.51.100.77"), "{text}");
        assert!(!text.contains("198.51.100.88"), "{text}");
    }
}

/// `.driftgate.yaml` is on the branch under check: its report paths must not forge GitHub step
/// outputs (a line break in a path) nor write outside the working directory.
#[test]
fn config_report_paths_are_refused_when_hostile() {
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    for (yaml, needle) in [
        (
            "output: [\"json=drift.json\\nverdict=pass\"]\n",
            "control character",
        ),
        (
            "output: [json=../../outside.json]\n",
            "inside the working directory",
        ),
        (
            "output: [json=/tmp/outside.json]\n",
            "inside the working directory",
        ),
    ] {
        let config = dir.path().join("config.yaml");
        std::fs::write(&config, yaml).unwrap();
        let run = driftgate_env(
            UNUSED_ENDPOINT,
            &[
                "check",
                "--config",
                config.to_str().unwrap(),
                "--state",
                state.to_str().unwrap(),
            ],
            None,
            &[("GITHUB_ACTIONS", Some("true"))],
        );
        assert_exit2(&run, needle);
        assert!(run.stderr.contains("config `output`"), "{}", run.stderr);
    }
}

/// `iam_reads` in the config file is one of its three values, or an error naming the key.
#[test]
fn config_iam_reads_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let state = rule_only_state(&dir);
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "iam_reads: sideways\n").unwrap();
    let run = driftgate(
        UNUSED_ENDPOINT,
        &[
            "check",
            "--config",
            config.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ],
        None,
    );
    assert_exit2(
        &run,
        "config `iam_reads`: `sideways` is not auto, account or object",
    );
}

#[path = "common/fault_proxy.rs"]
mod fault_proxy;

/// An answer cut short with valid framing is not evidence: a `DescribeSecurityGroups` body that
/// ends just before the item that holds SSH from the world ends the run with exit 2, never a pass.
#[tokio::test]
async fn a_cut_answer_with_valid_framing_fails_closed() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "cut-short").await;
    m.allow_in(&sg, perm("tcp", 443, 443, "10.0.0.0/8")).await;
    m.allow_in(&sg, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_security_group.web",
            sg_attrs(
                &sg,
                &vpc,
                "cut-short",
                vec![sg_block("tcp", 443, 443, &["10.0.0.0/8"])],
                vec![],
            ),
        )
        .write(dir.path(), "s.tfstate");
    // Straight to moto: the world-open SSH rule is found.
    let run = check_json(&m.url, &[&state]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let proxy = fault_proxy::cutting_proxy(&m.url, "DescribeSecurityGroups");
    let run = driftgate(
        &proxy,
        &[
            "check",
            "--format",
            "json",
            "--state",
            state.to_str().unwrap(),
            "--max-attempts",
            "2",
        ],
        None,
    );
    assert_exit2(&run, "AWS ec2 DescribeSecurityGroups");
    assert!(run.stderr.contains("incomplete answer"), "{}", run.stderr);

    // A connection reset on every attempt: retried, then exit 2 naming the call.
    let proxy = fault_proxy::fault_proxy(
        &m.url,
        "ec2",
        "DescribeSecurityGroups",
        fault_proxy::Fault::Reset,
    )
    .url;
    let run = driftgate(
        &proxy,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--max-attempts",
            "2",
        ],
        None,
    );
    assert_exit2(&run, "AWS ec2 DescribeSecurityGroups");
}
