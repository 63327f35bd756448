//! Many AWS accounts in one run (`--aws-role`): objects of other accounts are read with a role
//! assumed there, against moto's accounts (a role assumed in account N gets credentials moto
//! serves from account N's backend).

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use common::*;
use std::path::Path;
use tracker::{serve, Reply};

use serde_json::{json, Value};

const OTHER: &str = "222222222222";
const THIRD: &str = "333333333333";
const ROLE: &str = "arn:aws:iam::{account}:role/driftgate-read";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn role_state(name: &str, account: &str) -> Value {
    json!({"arn": format!("arn:aws:iam::{account}:role/{name}"), "id": name, "name": name,
           "path": "/", "assume_role_policy": TRUST, "managed_policy_arns": [], "inline_policy": [],
           "max_session_duration": 3600, "tags": {}, "tags_all": {}})
}

fn check(m: &Moto, state: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "check",
        "--format",
        "json",
        "--state",
        state.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    driftgate(&m.url, &args, None)
}

#[tokio::test]
async fn objects_of_other_accounts_are_read_with_their_role() {
    let m = moto().await;
    let (other_ec2, other_iam) = account(&m, OTHER).await;
    let (third_ec2, _) = account(&m, THIRD).await;
    let name = unique("web");
    let (own_sg, own_vpc) = https_group(&m.ec2, &name).await;
    let (other_sg, other_vpc) = https_group(&other_ec2, &name).await;
    let (third_sg, third_vpc) = https_group(&third_ec2, &name).await;
    // The same role name in two accounts: IAM names are unique per account only.
    let role = unique("deploy");
    let own_iam = moto_client!(aws_sdk_iam, &m.url);
    for iam in [&own_iam, &other_iam] {
        iam.create_role()
            .role_name(&role)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_security_group.own",
            group_state(&own_sg, &own_vpc, &name, ACCOUNT),
        )
        .add(
            "aws_security_group.other",
            group_state(&other_sg, &other_vpc, &name, OTHER),
        )
        .add(
            "aws_security_group.third",
            group_state(&third_sg, &third_vpc, &name, THIRD),
        )
        .add("aws_iam_role.own", role_state(&role, ACCOUNT))
        .add("aws_iam_role.other", role_state(&role, OTHER))
        .write(dir.path(), "org.tfstate");

    // Without a role, another account's object is refused, and the way out is named.
    let run = check(&m, &state, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "belongs to AWS account {OTHER}, but the credentials are for account {ACCOUNT}"
        )) && run.stderr.contains("--aws-role"),
        "{}",
        run.stderr
    );

    let run = check(&m, &state, &["--aws-role", ROLE]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    // One AssumeRole per other account for the whole run, and no read of the wrong account.
    assert_eq!(
        report["summary"]["api_calls"]["sts"]["AssumeRole"], 2,
        "{:#}",
        report["summary"]["api_calls"]
    );
    assert_eq!(report["summary"]["objects_checked"], 5);

    // A console change in the other account only: ssh from anywhere, a widened trust.
    other_ec2
        .authorize_security_group_ingress()
        .group_id(&other_sg)
        .ip_permissions(perm("tcp", 22, 22, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    let wider = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#;
    other_iam
        .update_assume_role_policy()
        .role_name(&role)
        .policy_document(wider)
        .send()
        .await
        .unwrap();
    let run = check(&m, &state, &["--aws-role", ROLE]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let got: Vec<String> = run
        .drifts()
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d["address"].as_str().unwrap(),
                d["attribute"].as_str().unwrap(),
                d["account"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            format!("aws_iam_role.other assume_role_policy {OTHER}"),
            format!("aws_security_group.other ingress {OTHER}"),
        ]
    );
}

#[tokio::test]
async fn a_rule_is_read_in_the_account_of_its_provider_configuration() {
    let m = moto().await;
    let (other_ec2, _) = account(&m, OTHER).await;
    let (sg, vpc) = https_group(&other_ec2, &unique("app")).await;
    // The group is managed elsewhere; this state holds a rule of it, behind the provider alias
    // that assumes a role in the other account, and that alias's VPC, whose ARN names it.
    let state = State::new()
        .add(
            "aws_security_group_rule.https",
            sg_rule_attrs("ingress", &sg, "tcp", 443, 443, &["10.0.0.0/8"]),
        )
        .add(
            "aws_vpc.main",
            json!({"id": vpc, "arn": format!("arn:aws:ec2:{REGION}:{OTHER}:vpc/{vpc}"),
                   "cidr_block": "172.31.0.0/16", "owner_id": OTHER}),
        );
    let mut doc = state.json();
    for r in doc["resources"].as_array_mut().unwrap() {
        r["provider"] = json!("provider[\"registry.terraform.io/hashicorp/aws\"].prod");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.tfstate");
    std::fs::write(&path, doc.to_string()).unwrap();

    // Read with the run's own credentials the rule would look deleted: refused instead.
    let run = check(&m, &path, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "aws_security_group_rule.https: belongs to AWS account {OTHER} (as the other \
             resources of its provider configuration do)"
        )),
        "{}",
        run.stderr
    );
    let run = check(&m, &path, &["--aws-role", ROLE]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    other_ec2
        .revoke_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(perm("tcp", 443, 443, "10.0.0.0/8"))
        .send()
        .await
        .unwrap();
    let run = check(&m, &path, &["--aws-role", ROLE]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let drifts = run.drifts();
    assert_eq!(drifts.len(), 1, "{drifts:#?}");
    assert_eq!(drifts[0]["kind"], "missing");
    assert_eq!(drifts[0]["account"], OTHER);
}

#[tokio::test]
async fn every_drift_names_its_account_also_when_the_state_does_not() {
    let m = moto().await;
    let (sg, _) = https_group(&m.ec2, &unique("bare")).await;
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_security_group_rule.ssh",
            sg_rule_attrs("ingress", &sg, "tcp", 22, 22, &["10.0.0.0/8"]),
        )
        .write(dir.path(), "bare.tfstate");
    let run = check(&m, &state, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.drifts()[0]["account"], ACCOUNT);
    assert_eq!(
        run.json()["summary"]["api_calls"]["sts"]["GetCallerIdentity"],
        1
    );
}

#[test]
fn the_role_template_is_checked_before_any_read() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_security_group.web",
            group_state("sg-1", "vpc-1", "web", OTHER),
        )
        .write(dir.path(), "s.tfstate");
    for (template, says) in [
        (
            "arn:aws:iam::123456789012:role/x",
            "exactly once as {account}",
        ),
        (
            "arn:aws:iam::{account}:user/x",
            "is not an IAM role ARN with {account} as its account",
        ),
        ("{account}", "is not an IAM role ARN"),
        ("arn:aws:iam::{account}:role/", "is not an IAM role ARN"),
    ] {
        let run = driftgate(
            "http://127.0.0.1:9",
            &[
                "check",
                "--state",
                state.to_str().unwrap(),
                "--aws-role",
                template,
            ],
            None,
        );
        assert_eq!(run.code, 2, "{template}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("--aws-role {template}: ")) && run.stderr.contains(says),
            "{template}: {}",
            run.stderr
        );
    }
    let run = driftgate(
        "http://127.0.0.1:9",
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--aws-external-id",
            "x",
        ],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--aws-role"), "{}", run.stderr);
}

/// STS as the query protocol answers it: the caller, and a role that refuses us.
const CALLER: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA0</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#;
const DENIED: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/driftgate-read</Message></Error><RequestId>2</RequestId></ErrorResponse>"#;

#[test]
fn a_role_that_cannot_be_assumed_ends_the_run_named() {
    let xml = |r: Reply| r.header("Content-Type", "text/xml");
    let sts = serve(
        "Wed, 02 Dec 2026 10:00:00 GMT",
        vec![
            (
                "/#Action=GetCallerIdentity",
                vec![xml(Reply::status(200, CALLER))],
            ),
            ("/#Action=AssumeRole", vec![xml(Reply::status(403, DENIED))]),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_security_group.web",
            group_state("sg-1", "vpc-1", "web", OTHER),
        )
        .write(dir.path(), "s.tfstate");
    let run = driftgate_env(
        "http://127.0.0.1:9",
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--aws-role",
            ROLE,
            "--aws-external-id",
            "ext-4711",
        ],
        None,
        &[("AWS_ENDPOINT_URL_STS", Some(&sts.url))],
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "AWS sts AssumeRole arn:aws:iam::{OTHER}:role/driftgate-read (for account {OTHER})"
        )) && run.stderr.contains("AccessDenied")
            && run.stderr.contains("with this external id"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("testing"), "{}", run.stderr);
    let assume = sts
        .hits()
        .into_iter()
        .find(|r| r.body.contains("Action=AssumeRole"))
        .expect("an AssumeRole call");
    for field in [
        "RoleSessionName=driftgate",
        "ExternalId=ext-4711",
        "RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2Fdriftgate-read",
    ] {
        assert!(assume.body.contains(field), "{field}: {}", assume.body);
    }
}

/// One root module applied in two accounts: the same addresses and the same IAM names in both
/// states. Each account's objects are checked in that account, none merged into the other's.
#[tokio::test]
async fn one_module_applied_in_two_accounts() {
    let m = moto().await;
    let (_, other_iam) = account(&m, OTHER).await;
    let own_iam = moto_client!(aws_sdk_iam, &m.url);
    let role = unique("ci");
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::artifacts/*"}]}"#;
    for iam in [&own_iam, &other_iam] {
        iam.create_role()
            .role_name(&role)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap();
        iam.put_role_policy()
            .role_name(&role)
            .policy_name("read")
            .policy_document(doc)
            .send()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (env, acct) in [("prod", ACCOUNT), ("staging", OTHER)] {
        std::fs::create_dir_all(dir.path().join(env)).unwrap();
        let state = State::new()
            .add("aws_iam_role.ci", role_state(&role, acct))
            .add(
                "aws_iam_role_policy.read",
                json!({"id": format!("{role}:read"), "name": "read", "name_prefix": "",
                       "role": role, "policy": doc}),
            );
        paths.push(state.write(&dir.path().join(env), "terraform.tfstate"));
    }
    let glob = format!("{}/*/terraform.tfstate", dir.path().display());
    let run = check(&m, Path::new(&glob), &["--aws-role", ROLE]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Two roles and two inline policies: nothing merged across the accounts.
    assert_eq!(run.json()["summary"]["objects_checked"], 4);

    // The inline policy widened in the staging account only.
    other_iam
        .put_role_policy()
        .role_name(&role)
        .policy_name("read")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let run = check(&m, Path::new(&glob), &["--aws-role", ROLE]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let drifts = run.drifts();
    assert!(!drifts.is_empty());
    for d in &drifts {
        assert_eq!(d["address"], "aws_iam_role_policy.read", "{d:#}");
        assert_eq!(d["account"], OTHER, "{d:#}");
        assert_eq!(
            d["sources"],
            json!([paths[1].display().to_string()]),
            "{d:#}"
        );
    }
}

/// `--live plan` over the plans of one module in two accounts: each plan's refreshed objects are
/// compared with its own account's, never with the other's of the same name.
#[test]
fn plans_of_two_accounts_are_compared_per_account() {
    let wider = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}]});
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "check".to_string(),
        "--live".into(),
        "plan".into(),
        "--format".into(),
        "json".into(),
    ];
    for (env, acct, drifted) in [("prod", ACCOUNT, false), ("staging", OTHER, true)] {
        let recorded = State::new().add("aws_iam_role.ci", role_state("ci", acct));
        let mut live = role_state("ci", acct);
        if drifted {
            live["assume_role_policy"] = json!(wider.to_string());
        }
        let refreshed = State::new().add("aws_iam_role.ci", live);
        let path = dir.path().join(format!("{env}.json"));
        std::fs::write(&path, plan_json(&recorded, Some(&refreshed)).to_string()).unwrap();
        args.push("--state".into());
        args.push(path.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = driftgate("http://127.0.0.1:9", &args, None);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let drifts = run.drifts();
    assert_eq!(drifts.len(), 1, "{drifts:#?}");
    assert_eq!(drifts[0]["attribute"], "assume_role_policy");
    assert_eq!(drifts[0]["account"], OTHER);
    assert!(drifts[0]["sources"].to_string().contains("staging.json"));
}
