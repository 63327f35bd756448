//! KMS keys against moto.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn key_policy_rotation_and_deletion() {
    let m = moto().await;
    let kms = moto_client!(aws_sdk_kms, &m.url);
    let key = kms.create_key().description("data").send().await.unwrap();
    let meta = key.key_metadata().unwrap();
    let (id, arn) = (meta.key_id().to_string(), meta.arn().unwrap().to_string());
    kms.enable_key_rotation().key_id(&id).send().await.unwrap();
    let live_policy = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    let live_policy: Value = serde_json::from_str(live_policy.policy().unwrap()).unwrap();
    // Terraform's rendering: compact, keys reordered by the provider's JSON normalization.
    let state = State::new().add(
        "aws_kms_key.data",
        json!({"arn": arn, "id": id, "key_id": id, "description": "data", "customer_master_key_spec": "SYMMETRIC_DEFAULT",
               "key_usage": "ENCRYPT_DECRYPT", "deletion_window_in_days": 7, "enable_key_rotation": true, "is_enabled": true,
               "policy": live_policy.to_string(), "tags": {}, "tags_all": {}}),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "kms.tfstate");
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    kms.disable_key_rotation().key_id(&id).send().await.unwrap();
    let mut public = live_policy.clone();
    public["Statement"].as_array_mut().unwrap().push(
        json!({"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}),
    );
    kms.put_key_policy()
        .key_id(&id)
        .policy_name("default")
        .policy(public.to_string())
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let got = drift_lines(&run, &["attribute", "effect", "policy"]);
    assert_eq!(
        got,
        [
            "enable_key_rotation weakens AWS-KMS-ROTATION-OFF",
            "policy weakens AWS-KMS-POLICY-PUBLIC"
        ]
    );

    kms.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let run = check_json(&m.url, &[&path]);
    let d = &run.drifts()[0];
    assert_eq!(
        (d["kind"].as_str(), d["policy"].as_str()),
        (Some("missing"), Some("AWS-KMS-MISSING"))
    );
}

#[tokio::test]
async fn rotation_turned_on_by_hand_strengthens() {
    let m = moto().await;
    let kms = moto_client!(aws_sdk_kms, &m.url);
    let key = kms.create_key().send().await.unwrap();
    let meta = key.key_metadata().unwrap();
    let id = meta.key_id().to_string();
    let state = State::new().add(
        "aws_kms_key.k",
        json!({"arn": meta.arn(), "id": id, "key_id": id, "enable_key_rotation": false, "is_enabled": true, "deletion_window_in_days": 30}),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "kms.tfstate");
    assert_eq!(
        check_json(&m.url, &[&path]).code,
        0,
        "a state without a policy attribute compares rotation and state only"
    );
    kms.enable_key_rotation().key_id(&id).send().await.unwrap();
    let run = check_json(&m.url, &[&path]);
    assert_eq!(run.code, 1);
    assert_eq!(
        (
            run.drifts()[0]["effect"].as_str(),
            run.drifts()[0]["policy"].as_str()
        ),
        (Some("strengthens"), Some("AWS-KMS-STATE"))
    );
}
