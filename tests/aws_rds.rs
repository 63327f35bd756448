//! RDS against moto; the password in the state never appears in any output.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn db_instance_public_access_and_deletion() {
    let m = moto().await;
    let rds = moto_client!(aws_sdk_rds, &m.url);
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "db").await;
    let id = format!("orders-{}", &sg[3..11]);
    let password = "s3cr3t-Pa55word-never-printed";
    rds.create_db_instance()
        .db_instance_identifier(&id)
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("app")
        .master_user_password(password)
        .publicly_accessible(false)
        .storage_encrypted(true)
        .vpc_security_group_ids(&sg)
        .send()
        .await
        .unwrap();
    let live = rds
        .describe_db_instances()
        .db_instance_identifier(&id)
        .send()
        .await
        .unwrap();
    let db = &live.db_instances()[0];
    let mut doc = State::new()
        .add(
            "aws_db_instance.orders",
            json!({"arn": db.db_instance_arn(), "id": db.dbi_resource_id(), "identifier": id, "engine": "postgres",
                   "instance_class": "db.t3.micro", "publicly_accessible": false, "storage_encrypted": true,
                   "kms_key_id": db.kms_key_id().unwrap_or(""), "vpc_security_group_ids": [sg], "username": "app",
                   "password": password, "deletion_protection": false, "tags": {}, "tags_all": {}}),
        )
        .json();
    doc["resources"][0]["instances"][0]["sensitive_attributes"] =
        json!([[{"type": "get_attr", "value": "password"}]]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rds.tfstate");
    std::fs::write(&path, doc.to_string()).unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    rds.modify_db_instance()
        .db_instance_identifier(&id)
        .publicly_accessible(true)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    for format in ["json", "console", "sarif", "markdown"] {
        let run = driftgate(
            &m.url,
            &[
                "check",
                "--format",
                format,
                "--state",
                path.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            !run.stdout.contains(password) && !run.stderr.contains(password),
            "{format}"
        );
    }
    let run = check_json(&m.url, &[&path]);
    let d = &run.drifts()[0];
    assert_eq!(d["attribute"], "publicly_accessible");
    assert_eq!(d["effect"], "weakens");
    assert_eq!(d["policy"], "AWS-RDS-PUBLIC");
    assert_eq!(d["severity"], "critical");
    // Publicly accessible, but in subnets no route sends to an internet gateway, behind a group
    // that admits nothing: private.
    assert_eq!(d["risk"]["exposure"], "private", "{d:#}");

    // Made public during an incident, and meant to stay: `--accept-weakening` writes it (the
    // variable behind the password is not touched, and never printed).
    let tf = "resource \"aws_db_instance\" \"orders\" {\n  identifier          = \"orders\"\n  engine              = \"postgres\"\n  publicly_accessible = false # private subnets only\n  storage_encrypted   = true\n  password            = var.db_password\n}\n";
    std::fs::write(dir.path().join("main.tf"), tf).unwrap();
    let fix = |extra: &[&str]| {
        let mut args = vec![
            "fix",
            "--state",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        driftgate_at(dir.path(), &m.url, &args, None, &[])
    };
    let run = fix(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"], json!([]), "{doc:#}");
    let run = fix(&["--accept-weakening", "--write"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["fixes"][0]["action"], "accept", "{doc:#}");
    assert_eq!(doc["fixes"][0]["summary"], "publicly_accessible = true");
    assert_eq!(doc["fixes"][0]["line"], 4);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
        tf.replace("publicly_accessible = false", "publicly_accessible = true")
    );
    assert!(!run.stdout.contains(password) && !run.stderr.contains(password));

    rds.delete_db_instance()
        .db_instance_identifier(&id)
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1);
    assert_eq!(run.drifts()[0]["policy"], "AWS-RDS-MISSING");
}

/// An Aurora writer made publicly accessible: `aws_rds_cluster_instance` is a DB instance of its
/// own, and only its public access is its own (encryption and groups are the cluster's).
#[tokio::test]
async fn cluster_instance_public_access() {
    let m = moto().await;
    let rds = moto_client!(aws_sdk_rds, &m.url);
    let cluster = unique("aurora");
    rds.create_db_cluster()
        .db_cluster_identifier(&cluster)
        .engine("aurora-postgresql")
        .master_username("app")
        .master_user_password("s3cr3t-Pa55word")
        .storage_encrypted(true)
        .send()
        .await
        .unwrap();
    let writer = format!("{cluster}-1");
    rds.create_db_instance()
        .db_instance_identifier(&writer)
        .db_cluster_identifier(&cluster)
        .db_instance_class("db.r6g.large")
        .engine("aurora-postgresql")
        .publicly_accessible(false)
        .send()
        .await
        .unwrap();
    let live = rds
        .describe_db_instances()
        .db_instance_identifier(&writer)
        .send()
        .await
        .unwrap();
    let db = &live.db_instances()[0];
    let state = State::new().add(
        "aws_rds_cluster_instance.writer",
        json!({"arn": db.db_instance_arn(), "id": writer, "identifier": writer,
               "cluster_identifier": cluster, "engine": "aurora-postgresql",
               "instance_class": "db.r6g.large", "publicly_accessible": false,
               // Computed copies of the cluster's settings: never compared here.
               "storage_encrypted": false, "kms_key_id": "", "tags": {}, "tags_all": {}}),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "aurora.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["summary"]["resources_checked"], 1);

    rds.modify_db_instance()
        .db_instance_identifier(&writer)
        .publicly_accessible(true)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        drift_lines(
            &run,
            &["address", "kind", "attribute", "effect", "severity"]
        ),
        ["aws_rds_cluster_instance.writer changed publicly_accessible weakens critical"]
    );
}
