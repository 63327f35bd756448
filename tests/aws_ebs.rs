//! EBS encryption against moto.

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use common::*;
use serde_json::json;
use tracker::{serve, Reply};

#[tokio::test]
async fn volume_and_default_encryption() {
    let m = moto().await;
    let enc = m
        .ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .encrypted(true)
        .send()
        .await
        .unwrap();
    let plain = m
        .ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .send()
        .await
        .unwrap();
    let vol = |v: &aws_sdk_ec2::operation::create_volume::CreateVolumeOutput, encrypted: bool| {
        let id = v.volume_id().unwrap();
        json!({"arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{id}"), "id": id, "availability_zone": "us-east-1a",
               "encrypted": encrypted, "kms_key_id": v.kms_key_id().unwrap_or(""), "size": 8, "type": "gp2", "tags": {}})
    };
    // moto (like AWS) uses a default KMS key for encrypted volumes; the state records it.
    let state = State::new()
        .add("aws_ebs_volume.data", vol(&enc, true))
        .add("aws_ebs_volume.scratch", vol(&plain, false));
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "ebs.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["summary"]["api_calls"]["ec2"]["DescribeVolumes"],
        1
    );

    // The state says the scratch volume is encrypted (it was replaced by hand with a plain one).
    let state = State::new().add("aws_ebs_volume.scratch", {
        let mut v = vol(&plain, true);
        v["kms_key_id"] =
            json!("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555");
        v
    });
    let path = state.write(dir.path(), "ebs2.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got = drift_lines(&run, &["attribute", "effect", "policy"]);
    assert_eq!(
        got,
        [
            "encrypted weakens AWS-EBS-ENCRYPTION-OFF",
            "kms_key_id weakens AWS-EBS-ENCRYPTION-OFF"
        ]
    );

    // Default encryption for the region turned off in the console.
    m.ec2
        .enable_ebs_encryption_by_default()
        .send()
        .await
        .unwrap();
    let state = State::new().add(
        "aws_ebs_encryption_by_default.this",
        json!({"id": "terraform-20260101000000000000000001", "enabled": true}),
    );
    let path = state.write(dir.path(), "default.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    m.ec2
        .disable_ebs_encryption_by_default()
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    m.ec2
        .enable_ebs_encryption_by_default()
        .send()
        .await
        .unwrap();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = &run.drifts()[0];
    assert_eq!(
        (d["attribute"].as_str(), d["effect"].as_str()),
        (Some("enabled"), Some("weakens"))
    );
    assert_eq!(d["severity"], "high");
}

/// moto does not implement GetEbsDefaultKmsKeyId (it answers HTTP 500): the check must fail
/// closed, naming the call, and never pass. The success path is tested below against a loopback
/// EC2 endpoint.
#[tokio::test]
async fn default_kms_key_unreadable_fails_closed() {
    let m = moto().await;
    let state = State::new().add(
        "aws_ebs_default_kms_key.this",
        json!({"id": "arn:aws:kms:us-east-1:123456789012:key/1234abcd", "key_arn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "k.tfstate");
    let run = driftgate(
        &m.url,
        &[
            "check",
            "--max-attempts",
            "2",
            "--state",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("AWS ec2 GetEbsDefaultKmsKeyId in us-east-1"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

/// The EC2 query protocol's answer to `action` with one response element besides `requestId`
/// (as the EC2 API Reference lists them). moto lacks GetEbsDefaultKmsKeyId and no recorded
/// answer exists, so EC2 alone goes to a loopback server (`AWS_ENDPOINT_URL_EC2`) while STS (and
/// KMS) stay on moto; the SDK parses the answer as it would AWS's.
fn ec2_answer(action: &str, element: &str, value: &str) -> Reply {
    let mut r = Reply::status(
        200,
        &format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n    <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n    <{element}>{value}</{element}>\n</{action}Response>"
        ),
    );
    r.headers
        .push(("Content-Type".into(), "text/xml;charset=UTF-8".into()));
    r
}

fn default_key_answer(key: &str) -> Reply {
    ec2_answer("GetEbsDefaultKmsKeyId", "kmsKeyId", key)
}

fn default_encryption_answer(on: bool) -> Reply {
    ec2_answer(
        "GetEbsEncryptionByDefault",
        "ebsEncryptionByDefault",
        &on.to_string(),
    )
}

#[tokio::test]
async fn default_kms_key_as_declared_and_reset_to_the_aws_managed_key() {
    let m = moto().await;
    let arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let state = State::new().add(
        "aws_ebs_default_kms_key.this",
        json!({"id": arn, "key_arn": arn}),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "k.tfstate");
    let path = path.to_str().unwrap();
    let check = |ec2: &str| {
        driftgate_env(
            &m.url,
            &["check", "--format", "json", "--state", path],
            None,
            &[("AWS_ENDPOINT_URL_EC2", Some(ec2))],
        )
    };
    let declared = serve(
        "Sat, 28 Nov 2026 10:00:00 GMT",
        vec![("/", vec![default_key_answer(arn)])],
    );
    let run = check(&declared.url);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        declared.hits()[0]
            .body
            .contains("Action=GetEbsDefaultKmsKeyId"),
        "{}",
        declared.hits()[0].body
    );
    assert_eq!(
        run.json()["summary"]["api_calls"]["ec2"]["GetEbsDefaultKmsKeyId"],
        1
    );

    // ResetEbsDefaultKmsKeyId: EC2 names the AWS-managed key by its alias.
    let reset = serve(
        "Sat, 28 Nov 2026 10:00:00 GMT",
        vec![("/", vec![default_key_answer("alias/aws/ebs")])],
    );
    let run = check(&reset.url);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.drifts().len(), 1, "{}", run.stdout);
    let d = &run.drifts()[0];
    assert_eq!(
        (
            d["attribute"].as_str(),
            d["effect"].as_str(),
            d["actual_text"].as_str()
        ),
        (
            Some("key_arn"),
            Some("weakens"),
            Some("the AWS-managed key (aws/ebs)")
        )
    );
}

/// The region's default encryption turned on and its default key swapped in the console are
/// written into the code: `enabled = true` (codify, its comment kept), the new key by reference
/// to the module's `aws_kms_key` that holds it (accept: another key is of unknown effect). Reset
/// to the AWS-managed key (accepted), the default key resource leaves the code with a
/// `removed` block, and a run before the apply finds nothing left to write.
#[tokio::test]
async fn default_encryption_and_key_changed_by_hand_are_written() {
    let m = moto().await;
    let kms = moto_client!(aws_sdk_kms, &m.url);
    let mut keys = Vec::new();
    for name in ["old", "new"] {
        let key = kms.create_key().description(name).send().await.unwrap();
        let meta = key.key_metadata().unwrap();
        let id = meta.key_id().to_string();
        let policy = kms
            .get_key_policy()
            .key_id(&id)
            .policy_name("default")
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap()
            .to_string();
        keys.push(json!({"arn": meta.arn(), "id": id, "key_id": id, "description": name,
            "customer_master_key_spec": "SYMMETRIC_DEFAULT", "key_usage": "ENCRYPT_DECRYPT",
            "enable_key_rotation": false, "is_enabled": true, "policy": policy, "tags": {}, "tags_all": {}}));
    }
    let arn = |i: usize| keys[i]["arn"].as_str().unwrap().to_string();
    let state = State::new()
        .add("aws_kms_key.old", keys[0].clone())
        .add("aws_kms_key.new", keys[1].clone())
        .add(
            "aws_ebs_encryption_by_default.this",
            json!({"id": "terraform-20260101000000000000000001", "enabled": false}),
        )
        .add(
            "aws_ebs_default_kms_key.this",
            json!({"id": arn(0), "key_arn": arn(0)}),
        );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "terraform.tfstate");
    let code = dir.path().join("infra");
    std::fs::create_dir_all(&code).unwrap();
    let keys_tf = "resource \"aws_kms_key\" \"old\" {\n  description = \"old\"\n}\n\nresource \"aws_kms_key\" \"new\" {\n  description = \"new\"\n}\n\n";
    let default_tf = |on: &str| {
        format!("resource \"aws_ebs_encryption_by_default\" \"this\" {{\n  enabled = {on} # until the AMIs are re-encrypted\n}}\n")
    };
    let key_tf = |key: &str| {
        format!("\nresource \"aws_ebs_default_kms_key\" \"this\" {{\n  key_arn = {key}\n}}\n")
    };
    std::fs::write(
        code.join("main.tf"),
        format!(
            "{keys_tf}{}{}",
            default_tf("false"),
            key_tf("aws_kms_key.old.arn")
        ),
    )
    .unwrap();
    let fix = |ec2: &str, quiet: bool| {
        let mut args = vec![
            "fix",
            "--write",
            "--format",
            "json",
            "--accept-weakening",
            "--state",
            path.to_str().unwrap(),
            "--source-dir",
            "infra",
        ];
        if quiet {
            args.push("--quiet");
        }
        let run = driftgate_at(
            dir.path(),
            &m.url,
            &args,
            None,
            &[("AWS_ENDPOINT_URL_EC2", Some(ec2))],
        );
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        (doc, run.stderr)
    };
    let lines = |doc: &serde_json::Value| {
        let mut out = fix_lines(doc, &["address", "action", "summary"]);
        out.sort();
        out
    };
    let swapped = serve(
        "Sat, 28 Nov 2026 10:00:00 GMT",
        vec![
            (
                "/#Action=GetEbsEncryptionByDefault",
                vec![default_encryption_answer(true)],
            ),
            (
                "/#Action=GetEbsDefaultKmsKeyId",
                vec![default_key_answer(&arn(1))],
            ),
        ],
    );
    let (doc, _) = fix(&swapped.url, true);
    assert_eq!(
        lines(&doc),
        [
            "aws_ebs_default_kms_key.this accept key_arn = aws_kms_key.new.arn",
            "aws_ebs_encryption_by_default.this codify enabled = true",
        ],
        "{doc:#}"
    );
    assert_eq!(doc["manual"], json!([]), "{doc:#}");
    assert_eq!(
        std::fs::read_to_string(code.join("main.tf")).unwrap(),
        format!(
            "{keys_tf}{}{}",
            default_tf("true"),
            key_tf("aws_kms_key.new.arn")
        )
    );

    let reset = serve(
        "Sat, 28 Nov 2026 10:00:00 GMT",
        vec![
            (
                "/#Action=GetEbsEncryptionByDefault",
                vec![default_encryption_answer(true)],
            ),
            (
                "/#Action=GetEbsDefaultKmsKeyId",
                vec![default_key_answer("alias/aws/ebs")],
            ),
        ],
    );
    let (doc, _) = fix(&reset.url, true);
    assert_eq!(
        lines(&doc),
        ["aws_ebs_default_kms_key.this accept the region's default key is the AWS-managed key (aws/ebs) again"],
        "{doc:#}"
    );
    let written = std::fs::read_to_string(code.join("main.tf")).unwrap();
    assert_eq!(
        written,
        format!(
            "{keys_tf}{}\nremoved {{\n  from = aws_ebs_default_kms_key.this\n\n  lifecycle {{\n    destroy = false\n  }}\n}}\n",
            default_tf("true")
        )
    );
    // Before the apply, the state still says the old key: the code already says all of it.
    let (doc, stderr) = fix(&reset.url, false);
    assert_eq!(
        (&doc["fixes"], &doc["manual"]),
        (&json!([]), &json!([])),
        "{doc:#}"
    );
    assert!(
        stderr.contains("0 fix(es) written, 0 to do by hand")
            && !stderr.contains("does not write yet"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(code.join("main.tf")).unwrap(),
        written
    );
}
