//! S3 Block Public Access against moto.

mod common;

use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use common::*;
use serde_json::json;

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
    let s3 = s3_client(&m);
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

#[tokio::test]
async fn bucket_policy_and_encryption() {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let m = moto().await;
    let s3 = s3_client(&m);
    let bucket = format!(
        "logs-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let tls_only = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(&tls_only)
        .send()
        .await
        .unwrap();
    let sse = |alg: ServerSideEncryption, key: Option<&str>| {
        let mut d = ServerSideEncryptionByDefault::builder().sse_algorithm(alg);
        if let Some(k) = key {
            d = d.kms_master_key_id(k);
        }
        ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(d.build().unwrap())
                    .build(),
            )
            .build()
            .unwrap()
    };
    let key = "arn:aws:kms:us-east-1:123456789012:key/0b3c4d5e-0000-4000-8000-000000000001";
    s3.put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(sse(ServerSideEncryption::AwsKms, Some(key)))
        .send()
        .await
        .unwrap();

    // Terraform's rendering of the same policy: other formatting, single values, key as id.
    let tf_policy = json!({"Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecure", "Effect": "Deny",
        "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": [format!("arn:aws:s3:::{bucket}/*"), format!("arn:aws:s3:::{bucket}")],
        "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}}]});
    let state = State::new()
        .add("aws_s3_bucket_policy.logs", json!({"id": bucket, "bucket": bucket, "policy": tf_policy.to_string()}))
        .add(
            "aws_s3_bucket_server_side_encryption_configuration.logs",
            json!({"id": bucket, "bucket": bucket, "expected_bucket_owner": "",
                   "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": "0b3c4d5e-0000-4000-8000-000000000001"}], "bucket_key_enabled": false}]}),
        );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "s3.tfstate");
    let run = check_json(&m.url, &[&path]);
    // "*" and {"AWS": "*"} are not the same principal: the state must say what AWS has.
    let drifts = run.drifts();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        !drifts.is_empty()
            && drifts
                .iter()
                .all(|d| d["resource_type"] == "aws_s3_bucket_policy"),
        "{drifts:#?}"
    );

    let tf_policy = json!({"Version": "2012-10-17", "Statement": [{"Sid": "DenyInsecure", "Effect": "Deny",
        "Principal": "*", "Action": "s3:*", "Resource": [format!("arn:aws:s3:::{bucket}/*"), format!("arn:aws:s3:::{bucket}")],
        "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}}]});
    let state = State::new()
        .add("aws_s3_bucket_policy.logs", json!({"id": bucket, "bucket": bucket, "policy": tf_policy.to_string()}))
        .add(
            "aws_s3_bucket_server_side_encryption_configuration.logs",
            json!({"id": bucket, "bucket": bucket,
                   "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": "0b3c4d5e-0000-4000-8000-000000000001"}], "bucket_key_enabled": false}]}),
        );
    let path = state.write(dir.path(), "s3b.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // Made public and downgraded to SSE-S3 in the console.
    let public = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}},{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(&public)
        .send()
        .await
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(sse(ServerSideEncryption::Aes256, None))
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got = drift_lines(&run, &["attribute", "effect", "policy"]);
    assert_eq!(
        got,
        [
            "kms_master_key_id weakens AWS-S3-ENCRYPTION-DOWNGRADE",
            "policy weakens AWS-S3-BUCKET-POLICY-PUBLIC",
            "sse_algorithm weakens AWS-S3-ENCRYPTION-DOWNGRADE",
        ]
    );

    s3.delete_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert!(
        run.drifts()
            .iter()
            .any(|d| d["policy"] == "AWS-S3-BUCKET-POLICY-MISSING"),
        "{:#?}",
        run.drifts()
    );
}

#[tokio::test]
async fn bucket_acl() {
    use aws_sdk_s3::types::BucketCannedAcl;
    let m = moto().await;
    let s3 = s3_client(&m);
    let bucket = format!(
        "acl-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_bucket_acl()
        .bucket(&bucket)
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    let state = State::new().add("aws_s3_bucket_acl.data", json!({"id": format!("{bucket},private"), "bucket": bucket, "acl": "private", "expected_bucket_owner": ""}));
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "acl.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    s3.put_bucket_acl()
        .bucket(&bucket)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = &run.drifts()[0];
    assert_eq!(
        (
            d["kind"].as_str(),
            d["effect"].as_str(),
            d["policy"].as_str()
        ),
        (
            Some("unmanaged"),
            Some("weakens"),
            Some("AWS-S3-ACL-PUBLIC")
        )
    );
    assert_eq!(d["actual_text"], "READ to AllUsers");

    // The code says public-read and someone made it private: a console fix the next apply reverts.
    let state = State::new().add(
        "aws_s3_bucket_acl.data",
        json!({"id": bucket, "bucket": bucket, "acl": "public-read"}),
    );
    let path = state.write(dir.path(), "acl2.tfstate");
    s3.put_bucket_acl()
        .bucket(&bucket)
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1);
    assert_eq!(
        (
            run.drifts()[0]["effect"].as_str(),
            run.drifts()[0]["policy"].as_str()
        ),
        (Some("strengthens"), Some("AWS-S3-ACL"))
    );
}

#[tokio::test]
async fn public_access_block_turned_on_by_hand_is_drift_too() {
    let m = moto().await;
    let s3 = s3_client(&m);
    let bucket = format!(
        "site-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(pab(true, false, true, false))
        .send()
        .await
        .unwrap();
    let state = State::new().add(
        "aws_s3_bucket_public_access_block.site",
        json!({"id": bucket, "bucket": bucket, "block_public_acls": true, "block_public_policy": false,
               "ignore_public_acls": true, "restrict_public_buckets": false}),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "s3.tfstate");
    assert_eq!(check_json(&m.url, &[&path]).code, 0);
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(pab(true, true, true, false))
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = &run.drifts()[0];
    assert_eq!(
        (
            d["effect"].as_str(),
            d["policy"].as_str(),
            d["severity"].as_str()
        ),
        (
            Some("strengthens"),
            Some("AWS-S3-PUBLIC-ACCESS-BLOCK-CHANGED"),
            Some("medium")
        )
    );
}

/// The test's own S3 Control client needs the same trick as driftgate's: moto is at an IP
/// address, and S3 Control prefixes the host with the account id.
#[derive(Debug, Clone)]
struct Loopback;

impl aws_smithy_runtime_api::client::dns::ResolveDns for Loopback {
    fn resolve_dns<'a>(
        &'a self,
        _name: &'a str,
    ) -> aws_smithy_runtime_api::client::dns::DnsFuture<'a> {
        aws_smithy_runtime_api::client::dns::DnsFuture::ready(Ok(vec![std::net::IpAddr::V4(
            std::net::Ipv4Addr::LOCALHOST,
        )]))
    }
}

#[tokio::test]
async fn account_public_access_block() {
    use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
    use aws_smithy_http_client::tls::Provider;
    let m = moto().await;
    let creds =
        aws_sdk_s3control::config::Credentials::new("testing", "testing", None, None, "tests");
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_with_resolver(Loopback);
    let control = aws_sdk_s3control::Client::from_conf(
        aws_sdk_s3control::config::Builder::new()
            .behavior_version(aws_sdk_s3control::config::BehaviorVersion::latest())
            .region(aws_sdk_s3control::config::Region::new(REGION))
            .credentials_provider(creds)
            .endpoint_url(&m.url)
            .http_client(http)
            .build(),
    );
    let conf = |policy: bool| {
        aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .block_public_policy(policy)
            .ignore_public_acls(true)
            .restrict_public_buckets(true)
            .build()
    };
    control
        .put_public_access_block()
        .account_id(ACCOUNT)
        .public_access_block_configuration(conf(true))
        .send()
        .await
        .unwrap();
    let state = State::new().add(
        "aws_s3_account_public_access_block.this",
        json!({"id": ACCOUNT, "account_id": ACCOUNT, "block_public_acls": true, "block_public_policy": true,
               "ignore_public_acls": true, "restrict_public_buckets": true}),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "account.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["summary"]["api_calls"]["s3control"]["GetPublicAccessBlock"],
        1
    );

    control
        .put_public_access_block()
        .account_id(ACCOUNT)
        .public_access_block_configuration(conf(false))
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    control
        .put_public_access_block()
        .account_id(ACCOUNT)
        .public_access_block_configuration(conf(true))
        .send()
        .await
        .unwrap();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let d = &run.drifts()[0];
    assert_eq!(
        (
            d["attribute"].as_str(),
            d["effect"].as_str(),
            d["policy"].as_str()
        ),
        (
            Some("block_public_policy"),
            Some("weakens"),
            Some("AWS-S3-PUBLIC-ACCESS-BLOCK")
        )
    );
}

#[tokio::test]
async fn legacy_inline_bucket_settings() {
    use aws_sdk_s3::types::{
        BucketCannedAcl, ServerSideEncryption, ServerSideEncryptionByDefault,
        ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    };
    let m = moto().await;
    let s3 = s3_client(&m);
    let bucket = format!(
        "v3-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::{bucket}/*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(&policy)
        .send()
        .await
        .unwrap();
    let sse = |alg: ServerSideEncryption| {
        ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(alg)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
            .unwrap()
    };
    s3.put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(sse(ServerSideEncryption::AwsKms))
        .send()
        .await
        .unwrap();
    // A provider v3 bucket: ACL, policy and encryption are inline.
    let v3 = json!({"arn": format!("arn:aws:s3:::{bucket}"), "bucket": bucket, "id": bucket, "region": REGION, "acl": "private",
        "policy": policy, "force_destroy": false, "grant": [], "tags": {},
        "server_side_encryption_configuration": [{"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": "", "sse_algorithm": "aws:kms"}], "bucket_key_enabled": false}]}]});
    let dir = tempfile::tempdir().unwrap();
    let path = State::new()
        .add("aws_s3_bucket.legacy", v3.clone())
        .write(dir.path(), "v3.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    s3.put_bucket_acl()
        .bucket(&bucket)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(sse(ServerSideEncryption::Aes256))
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got = drift_lines(&run, &["address", "attribute", "policy"]);
    assert_eq!(
        got,
        [
            "aws_s3_bucket.legacy grant AWS-S3-ACL-PUBLIC",
            "aws_s3_bucket.legacy sse_algorithm AWS-S3-ENCRYPTION-DOWNGRADE"
        ]
    );

    // With a separate aws_s3_bucket_policy, the bucket's `policy` is a (stale) copy: not used.
    let mut stale = v3;
    stale["policy"] = json!(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#
    );
    stale["acl"] = json!("public-read");
    stale["server_side_encryption_configuration"][0]["rule"][0]
        ["apply_server_side_encryption_by_default"][0]["sse_algorithm"] = json!("AES256");
    let path = State::new()
        .add("aws_s3_bucket.legacy", stale)
        .add(
            "aws_s3_bucket_policy.legacy",
            json!({"id": bucket, "bucket": bucket, "policy": policy}),
        )
        .write(dir.path(), "v4.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[path = "common/tracker.rs"]
mod tracker;

/// A 200 without what S3 always returns is malformed, never evidence: an empty encryption
/// configuration is not SSE-S3, an empty Block Public Access answer is not "all off". S3 alone
/// goes to a loopback server (`AWS_ENDPOINT_URL_S3`); STS stays on moto.
#[tokio::test]
async fn answers_without_what_s3_always_returns_fail_closed() {
    let m = moto().await;
    let xml =
        |body: &str| tracker::Reply::status(200, body).header("Content-Type", "application/xml");
    let cases = [
        (
            "aws_s3_bucket_server_side_encryption_configuration.logs",
            json!({"id": "logs", "bucket": "logs", "expected_bucket_owner": "",
                   "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256", "kms_master_key_id": ""}], "bucket_key_enabled": false}]}),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></ServerSideEncryptionConfiguration>",
            "no default encryption rule",
        ),
        (
            "aws_s3_bucket_public_access_block.logs",
            json!({"id": "logs", "bucket": "logs", "block_public_acls": true, "block_public_policy": true,
                   "ignore_public_acls": true, "restrict_public_buckets": true}),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>",
            "it has no `IgnorePublicAcls`, which every GetPublicAccessBlock answer holds",
        ),
    ];
    for (address, attrs, body, needle) in cases {
        let s3 = tracker::serve(
            "Tue, 01 Dec 2026 12:00:00 GMT",
            vec![("/logs/", vec![xml(body)])],
        );
        let dir = tempfile::tempdir().unwrap();
        let path = State::new()
            .add(address, attrs)
            .write(dir.path(), "s3.tfstate");
        let run = driftgate_env(
            &m.url,
            &[
                "check",
                "--format",
                "json",
                "--state",
                path.to_str().unwrap(),
            ],
            None,
            &[("AWS_ENDPOINT_URL_S3", Some(s3.url.as_str()))],
        );
        assert_eq!(run.code, 2, "{needle}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
        assert!(run.stdout.is_empty());
        assert_eq!(s3.hits().len(), 1, "{needle}");
    }
}
