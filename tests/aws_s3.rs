//! S3 Block Public Access against moto.

mod common;

use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use common::*;
use serde_json::json;

fn s3(m: &Moto) -> aws_sdk_s3::Client {
    let creds = aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "tests");
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(REGION))
            .credentials_provider(creds)
            .endpoint_url(&m.url)
            .force_path_style(true)
            .build(),
    )
}

fn pab(acls: bool, policy: bool, ignore: bool, restrict: bool) -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder()
        .block_public_acls(acls)
        .block_public_policy(policy)
        .ignore_public_acls(ignore)
        .restrict_public_buckets(restrict)
        .build()
}

#[tokio::test]
async fn bucket_public_access_block() {
    let m = moto().await;
    let s3 = s3(&m);
    let bucket = format!(
        "data-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(pab(true, true, true, true))
        .send()
        .await
        .unwrap();
    let state = State::new().add(
        "module.data.aws_s3_bucket_public_access_block.this[0]",
        json!({"id": bucket, "bucket": bucket, "block_public_acls": true, "block_public_policy": true,
               "ignore_public_acls": true, "restrict_public_buckets": true, "skip_destroy": null}),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "s3.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(pab(true, false, true, true))
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let drifts = run.drifts();
    assert_eq!(drifts.len(), 1, "{drifts:#?}");
    assert_eq!(
        drifts[0]["address"],
        "module.data.aws_s3_bucket_public_access_block.this[0]"
    );
    assert_eq!(drifts[0]["attribute"], "block_public_policy");
    assert_eq!(drifts[0]["effect"], "weakens");
    assert_eq!(drifts[0]["policy"], "AWS-S3-PUBLIC-ACCESS-BLOCK");
    assert_eq!(drifts[0]["severity"], "critical");

    s3.delete_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1);
    let drifts = run.drifts();
    assert_eq!(
        (drifts[0]["kind"].as_str(), drifts[0]["policy"].as_str()),
        (Some("missing"), Some("AWS-S3-PUBLIC-ACCESS-BLOCK-MISSING"))
    );
}
