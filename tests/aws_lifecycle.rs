//! The other directions, family by family: console fixes (stricter than the code) and deleted
//! objects are drift too, with `effect: strengthens` or `kind: missing`.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn nacl_deny_added_by_hand_strengthens() {
    let m = moto().await;
    let vpc = m.vpc().await;
    let acl = m.acl(&vpc).await;
    m.acl_entry(&acl, 100, false, "6", "allow", "0.0.0.0/0", 443, 443)
        .await;
    let state = State::new().add(
        "aws_network_acl.public",
        acl_attrs(
            &acl,
            &vpc,
            vec![acl_entry(100, "allow", "tcp", "0.0.0.0/0", 443, 443)],
            vec![],
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "s.tfstate");
    assert_eq!(check_json(&m.url, &[&path]).code, 0);
    m.acl_entry(&acl, 90, false, "6", "deny", "203.0.113.0/24", 443, 443)
        .await;
    let run = check_json(&m.url, &[&path]);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy"]),
        ["aws_network_acl.public unmanaged strengthens AWS-NACL-ENTRIES"]
    );
}

#[tokio::test]
async fn iam_objects_deleted() {
    let m = moto().await;
    let iam = moto_client!(aws_sdk_iam, &m.url);
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;
    let policy = iam
        .create_policy()
        .policy_name(unique("p"))
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_string();
    let role = unique("r");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let user = unique("u");
    iam.create_user().user_name(&user).send().await.unwrap();
    let state = State::new()
        .add("aws_iam_policy.p", json!({"arn": arn, "id": arn, "name": "p", "policy": doc}))
        .add("aws_iam_role.r", json!({"arn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"), "id": role, "name": role, "assume_role_policy": trust, "managed_policy_arns": []}))
        .add("aws_iam_user.u", json!({"arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"), "id": user, "name": user, "permissions_boundary": null}));
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "iam.tfstate");
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
    iam.delete_role().role_name(&role).send().await.unwrap();
    iam.delete_user().user_name(&user).send().await.unwrap();
    // The account listing lacks them: each is confirmed gone by one direct read, then reported
    // once, as the per-object reads report it.
    let listed = driftgate(
        &m.url,
        &[
            "check",
            "--format",
            "json",
            "--iam-reads",
            "account",
            "--state",
            path.to_str().unwrap(),
        ],
        None,
    );
    let calls = &listed.json()["summary"]["api_calls"]["iam"];
    for confirming in ["GetPolicy", "GetRole", "GetUser"] {
        assert_eq!(calls[confirming], 1, "{calls}");
    }
    // One listing each for roles, users and groups, and managed policies.
    assert_eq!(calls["GetAccountAuthorizationDetails"], 3, "{calls}");
    let run = check_json_both_iam_reads(&m.url, &[&path]);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy"]),
        [
            "aws_iam_policy.p missing unknown AWS-IAM-MISSING",
            "aws_iam_role.r missing unknown AWS-IAM-MISSING",
            "aws_iam_user.u missing unknown AWS-IAM-MISSING",
        ]
    );
}

#[tokio::test]
async fn stricter_than_the_code_and_deleted_for_storage_and_databases() {
    let m = moto().await;
    // EBS: the state says unencrypted, the volume is encrypted (replaced by hand): strengthens.
    let vol = m
        .ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .encrypted(true)
        .send()
        .await
        .unwrap();
    let vid = vol.volume_id().unwrap().to_string();
    let state = State::new().add(
        "aws_ebs_volume.v",
        json!({"arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{vid}"), "id": vid, "encrypted": false, "kms_key_id": ""}),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "ebs.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy"]),
        [
            "aws_ebs_volume.v changed strengthens AWS-EBS-ENCRYPTION",
            "aws_ebs_volume.v changed strengthens AWS-EBS-ENCRYPTION"
        ]
    );
    m.ec2.delete_volume().volume_id(&vid).send().await.unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "a deleted volume only warns: {}", run.stderr);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy"]),
        ["aws_ebs_volume.v missing unknown AWS-EBS-MISSING"]
    );

    // S3: the code says SSE-S3, the console switched to KMS: strengthens; bucket deleted: missing.
    let s3 = s3_client(&m);
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let bucket = unique("enc");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let kms = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::AwsKms)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .build()
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(kms)
        .send()
        .await
        .unwrap();
    let state = State::new()
        .add(
            "aws_s3_bucket_server_side_encryption_configuration.b",
            json!({"id": bucket, "bucket": bucket, "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256", "kms_master_key_id": ""}]}]}),
        )
        .add("aws_s3_bucket_acl.b", json!({"id": bucket, "bucket": bucket, "acl": "private"}));
    let path = state.write(dir.path(), "s3.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(drift_lines(&run, &["address", "kind", "effect", "policy"]), ["aws_s3_bucket_server_side_encryption_configuration.b changed strengthens AWS-S3-ENCRYPTION"]);
    s3.delete_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    s3.delete_bucket().bucket(&bucket).send().await.unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy"]),
        [
            "aws_s3_bucket_acl.b missing unknown AWS-S3-BUCKET-GONE",
            "aws_s3_bucket_server_side_encryption_configuration.b missing unknown AWS-S3-BUCKET-GONE",
        ]
    );

    // RDS: the code says public, someone closed it: strengthens.
    let rds = moto_client!(aws_sdk_rds, &m.url);
    let id = unique("db")
        .replace('-', "")
        .chars()
        .take(30)
        .collect::<String>();
    rds.create_db_instance()
        .db_instance_identifier(&id)
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("app")
        .master_user_password("x-password-1")
        .publicly_accessible(false)
        .send()
        .await
        .unwrap();
    let state = State::new().add(
        "aws_db_instance.db",
        json!({"arn": format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:{id}"), "identifier": id, "publicly_accessible": true,
               "storage_encrypted": false, "kms_key_id": "", "vpc_security_group_ids": []}),
    );
    let path = state.write(dir.path(), "rds.tfstate");
    let run = check_json(&m.url, &[&path]);
    let live = rds
        .describe_db_instances()
        .db_instance_identifier(&id)
        .send()
        .await
        .unwrap();
    let groups = live.db_instances()[0].vpc_security_groups().len();
    let mut want = vec!["aws_db_instance.db changed strengthens AWS-RDS".to_string()];
    // moto attaches the VPC's default group when none is given; the state says none.
    want.extend((0..groups).map(|_| "aws_db_instance.db unmanaged weakens AWS-RDS".to_string()));
    want.sort();
    assert_eq!(
        drift_lines(&run, &["address", "kind", "effect", "policy"]),
        want
    );
}
