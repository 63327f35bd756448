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

/// The EC2 query protocol's answer to GetEbsDefaultKmsKeyId, with the response elements the EC2
/// API Reference lists (`requestId`, `kmsKeyId`). moto lacks the call and no recorded answer
/// exists, so EC2 alone goes to a loopback server (`AWS_ENDPOINT_URL_EC2`) while STS stays on
/// moto; the SDK parses the answer as it would AWS's.
fn default_key_answer(key: &str) -> Reply {
    let mut r = Reply::status(
        200,
        &format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GetEbsDefaultKmsKeyIdResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n    <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n    <kmsKeyId>{key}</kmsKeyId>\n</GetEbsDefaultKmsKeyIdResponse>"
        ),
    );
    r.headers
        .push(("Content-Type".into(), "text/xml;charset=UTF-8".into()));
    r
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
