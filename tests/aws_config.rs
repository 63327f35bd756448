//! AWS Config as the live source (`--aws-source config:local | config:AGGREGATOR`): configuration
//! items served by a loopback stand-in speaking Config's JSON protocol, in the shape of the
//! recorded item in tests/fixtures/shared/aws_config_items, compared with the same objects in
//! moto's EC2 (moto's own Config covers few types, and its timestamps the Rust SDK rejects).

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{json, Value};
use tracker::{serve_fn, Reply, Server};

const OTHER: &str = "222222222222";
/// 2026-12-02T09:30:00Z, as Config's JSON protocol sends timestamps: epoch seconds.
const CAPTURED: f64 = 1796203800.0;

/// The recorded security group item (a Config rule's invoking event), as the template of the
/// items the stand-in serves.
fn recorded_group_item() -> Value {
    let event = shared_fixture("aws_config_items/sg_config_rule_invocation_event.json");
    let invoking: Value = serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
    invoking["configurationItem"].clone()
}

/// EC2's permissions in Config's shape: the API's fields in camelCase, `ipv4Ranges` and the
/// older `ipRanges` strings side by side.
fn config_permissions(perms: &[aws_sdk_ec2::types::IpPermission]) -> Value {
    perms
        .iter()
        .map(|p| {
            let v4: Vec<&str> = p.ip_ranges().iter().filter_map(|r| r.cidr_ip()).collect();
            let mut c = json!({
                "ipProtocol": p.ip_protocol(),
                "ipv4Ranges": v4.iter().map(|c| json!({"cidrIp": c})).collect::<Vec<_>>(),
                "ipRanges": v4,
                "ipv6Ranges": p.ipv6_ranges().iter().map(|r| json!({"cidrIpv6": r.cidr_ipv6()})).collect::<Vec<_>>(),
                "prefixListIds": p.prefix_list_ids().iter().map(|r| json!({"prefixListId": r.prefix_list_id()})).collect::<Vec<_>>(),
                "userIdGroupPairs": p.user_id_group_pairs().iter().map(|g| json!({"groupId": g.group_id(), "userId": g.user_id()})).collect::<Vec<_>>(),
            });
            if let Some(f) = p.from_port() {
                c["fromPort"] = json!(f);
            }
            if let Some(t) = p.to_port() {
                c["toPort"] = json!(t);
            }
            c
        })
        .collect()
}

/// The item Config would record for this group as moto holds it now.
async fn group_item(ec2: &aws_sdk_ec2::Client, id: &str, account: &str) -> Value {
    let out = ec2
        .describe_security_groups()
        .group_ids(id)
        .send()
        .await
        .unwrap();
    let sg = &out.security_groups()[0];
    let mut item = recorded_group_item();
    let c = &mut item["configuration"];
    c["groupId"] = json!(id);
    c["groupName"] = json!(sg.group_name());
    c["vpcId"] = json!(sg.vpc_id());
    c["ownerId"] = json!(account);
    c["ipPermissions"] = config_permissions(sg.ip_permissions());
    c["ipPermissionsEgress"] = config_permissions(sg.ip_permissions_egress());
    item["resourceId"] = json!(id);
    item["awsAccountId"] = json!(account);
    item["awsRegion"] = json!(REGION);
    item["ARN"] = json!(format!(
        "arn:aws:ec2:{REGION}:{account}:security-group/{id}"
    ));
    item
}

/// Config's stand-in: items by resource id (as recorded: `configuration` an object, to be sent as
/// the JSON string Config sends), ids to leave unprocessed once, and the operations asked.
#[derive(Default)]
struct Recorder {
    items: BTreeMap<String, Value>,
    unprocessed_once: Vec<String>,
}

fn config_service(recorder: Arc<Mutex<Recorder>>) -> Server {
    serve_fn("Wed, 02 Dec 2026 10:00:00 GMT", move |req| {
        let target = req.header("x-amz-target").unwrap_or_default().to_string();
        let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        let mut rec = recorder.lock().unwrap();
        let (aggregate, asked): (bool, Vec<Value>) = match target.as_str() {
            "StarlingDoveService.BatchGetResourceConfig" => (
                false,
                body["resourceKeys"].as_array().cloned().unwrap_or_default(),
            ),
            "StarlingDoveService.BatchGetAggregateResourceConfig" => (
                true,
                body["ResourceIdentifiers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            ),
            _ => return Reply::status(400, r#"{"__type":"UnknownOperationException"}"#),
        };
        let (mut items, mut unprocessed) = (Vec::new(), Vec::new());
        for key in asked {
            let id = key[if aggregate {
                "ResourceId"
            } else {
                "resourceId"
            }]
            .as_str()
            .unwrap_or_default()
            .to_string();
            if let Some(i) = rec.unprocessed_once.iter().position(|u| *u == id) {
                rec.unprocessed_once.remove(i);
                unprocessed.push(key);
                continue;
            }
            let Some(item) = rec.items.get(&id) else {
                continue;
            };
            if aggregate && item["awsAccountId"] != key["SourceAccountId"] {
                continue;
            }
            items.push(json!({
                "version": "1.3", "accountId": item["awsAccountId"],
                "configurationItemCaptureTime": CAPTURED,
                "configurationItemStatus": item["configurationItemStatus"],
                "configurationStateId": "1796203800000", "arn": item["ARN"],
                "resourceType": item["resourceType"], "resourceId": id,
                "resourceName": item["resourceName"], "awsRegion": item["awsRegion"],
                "availabilityZone": "Not Applicable",
                "configuration": item["configuration"].to_string(),
                // Config's API sends each supplementary value as a string.
                "supplementaryConfiguration": item["supplementaryConfiguration"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                        (k.clone(), Value::String(text))
                    })
                    .collect::<serde_json::Map<_, _>>(),
            }));
        }
        let answer = if aggregate {
            json!({"BaseConfigurationItems": items, "UnprocessedResourceIdentifiers": unprocessed})
        } else {
            json!({"baseConfigurationItems": items, "unprocessedResourceKeys": unprocessed})
        };
        Reply::json(answer).header("Content-Type", "application/x-amz-json-1.1")
    })
}

fn check(m: &Moto, config: &Server, state: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "check",
        "--format",
        "json",
        "--state",
        state.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    driftgate_env(
        &m.url,
        &args,
        None,
        &[("AWS_ENDPOINT_URL_CONFIG_SERVICE", Some(&config.url))],
    )
}

fn calls(run: &Run, service: &str, op: &str) -> u64 {
    run.json()["summary"]["api_calls"][service][op]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn the_recorder_gives_the_view_the_api_gives() {
    let m = moto().await;
    let (id, vpc) = https_group(&m.ec2, &unique("cfg")).await;
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    let config = config_service(recorder.clone());
    let item = group_item(&m.ec2, &id, ACCOUNT).await;
    recorder.lock().unwrap().items.insert(id.clone(), item);
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_security_group.web",
            group_state(&id, &vpc, "web", ACCOUNT),
        )
        .write(dir.path(), "s.tfstate");
    let local = ["--aws-source", "config:local"];

    // In sync through Config: one BatchGetResourceConfig, no EC2 read.
    let run = check(&m, &config, &state, &local);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(calls(&run, "config", "BatchGetResourceConfig"), 1);
    assert_eq!(calls(&run, "ec2", "DescribeSecurityGroups"), 0);

    // ssh opened from anywhere, in the cloud and (later) in Config: the same drift as the API
    // finds, confirmed by one direct read, with Config's capture time.
    m.ec2
        .authorize_security_group_ingress()
        .group_id(&id)
        .ip_permissions(perm("tcp", 22, 22, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    let api = check(&m, &config, &state, &[]);
    assert_eq!(api.code, 1, "{}", api.stderr);
    let item = group_item(&m.ec2, &id, ACCOUNT).await;
    recorder.lock().unwrap().items.insert(id.clone(), item);
    let run = check(&m, &config, &state, &local);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let fields = [
        "attribute",
        "kind",
        "effect",
        "expected_text",
        "actual_text",
    ];
    assert_eq!(drift_lines(&run, &fields), drift_lines(&api, &fields));
    for d in run.drifts() {
        assert_eq!(
            d["observed"],
            json!({"source": "aws-config", "captured_at": "2026-12-02T09:30:00Z", "confirmed": true}),
            "{d:#}"
        );
    }
    assert!(api.drifts()[0].get("observed").is_none());
    assert_eq!(calls(&run, "ec2", "DescribeSecurityGroups"), 1);

    // Config still shows the rule after a console fix: the direct read wins, nothing blocks.
    m.ec2
        .revoke_security_group_ingress()
        .group_id(&id)
        .ip_permissions(perm("tcp", 22, 22, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    let run = check(&m, &config, &state, &local);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // Throttled inside the batch: the unprocessed key is asked again.
    let item = group_item(&m.ec2, &id, ACCOUNT).await;
    recorder.lock().unwrap().items.insert(id.clone(), item);
    recorder.lock().unwrap().unprocessed_once = vec![id.clone()];
    let run = check(&m, &config, &state, &local);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(calls(&run, "config", "BatchGetResourceConfig"), 2);
    assert_eq!(calls(&run, "ec2", "DescribeSecurityGroups"), 0);

    // Not recorded (a type the recorder skips) or deleted in Config: read directly, never in
    // sync by default.
    recorder.lock().unwrap().items.clear();
    let run = check(&m, &config, &state, &local);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(calls(&run, "ec2", "DescribeSecurityGroups"), 1);
    let mut deleted = group_item(&m.ec2, &id, ACCOUNT).await;
    deleted["configurationItemStatus"] = json!("ResourceDeleted");
    recorder.lock().unwrap().items.insert(id.clone(), deleted);
    let run = check(&m, &config, &state, &local);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(calls(&run, "ec2", "DescribeSecurityGroups"), 1);
}

/// An aggregator in the security account reads another account with no role there: a drift
/// seen only through it is reported unconfirmed; what it does not hold ends the run.
#[tokio::test]
async fn an_aggregator_reads_other_accounts_without_a_role() {
    let m = moto().await;
    let (other, _) = account(&m, OTHER).await;
    let (id, vpc) = https_group(&other, &unique("agg")).await;
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    let config = config_service(recorder.clone());
    let item = group_item(&other, &id, OTHER).await;
    recorder.lock().unwrap().items.insert(id.clone(), item);
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_security_group.web",
            group_state(&id, &vpc, "web", OTHER),
        )
        .write(dir.path(), "s.tfstate");
    let org = ["--aws-source", "config:org-aggregator"];

    let run = check(&m, &config, &state, &org);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(calls(&run, "config", "BatchGetAggregateResourceConfig"), 1);
    assert_eq!(calls(&run, "sts", "AssumeRole"), 0);
    let asked = config
        .hits()
        .into_iter()
        .find(|r| r.body.contains("ResourceIdentifiers"))
        .unwrap();
    let body: Value = serde_json::from_str(&asked.body).unwrap();
    assert_eq!(body["ConfigurationAggregatorName"], "org-aggregator");
    assert_eq!(
        body["ResourceIdentifiers"][0],
        json!({"SourceAccountId": OTHER, "SourceRegion": REGION, "ResourceId": id,
               "ResourceType": "AWS::EC2::SecurityGroup"})
    );

    other
        .authorize_security_group_ingress()
        .group_id(&id)
        .ip_permissions(perm("tcp", 3389, 3389, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    let item = group_item(&other, &id, OTHER).await;
    recorder.lock().unwrap().items.insert(id.clone(), item);
    let run = check(&m, &config, &state, &org);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let d = &run.drifts()[0];
    assert_eq!(d["account"], OTHER);
    assert_eq!(d["observed"]["confirmed"], false, "{d:#}");
    assert_eq!(d["risk"]["exposure"], "unknown", "{d:#}");
    assert!(
        d["risk"]["reasons"]
            .to_string()
            .contains("seen through AWS Config only"),
        "{d:#}"
    );
    assert_eq!(calls(&run, "ec2", "DescribeSecurityGroups"), 0);
    // Every report says that the drift rests on the recorded item.
    let md = dir.path().join("report.md");
    let out = format!("markdown={}", md.display());
    let console = driftgate_env(
        &m.url,
        &[
            "check",
            "--state",
            state.to_str().unwrap(),
            "--aws-source",
            "config:org-aggregator",
            "--output",
            &out,
        ],
        None,
        &[("AWS_ENDPOINT_URL_CONFIG_SERVICE", Some(&config.url))],
    );
    let says = "seen by AWS Config only (captured 2026-12-02T09:30:00Z): unconfirmed, no credentials for account 222222222222";
    assert!(console.stdout.contains(says), "{}", console.stdout);
    assert!(std::fs::read_to_string(&md).unwrap().contains(says));

    // The aggregator has no item of it, and nothing can read it directly: exit 2, named.
    recorder.lock().unwrap().items.clear();
    let run = check(&m, &config, &state, &org);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "AWS::EC2::SecurityGroup {id} in AWS account {OTHER}, {REGION}: AWS Config has no \
             configuration item of it"
        )) && run.stderr.contains("--aws-role"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_bad_source_is_named() {
    for (source, says) in [
        ("config:", "an aggregator name is"),
        ("config:a b", "an aggregator name is"),
        ("cfg:org", "is not api, config:AGGREGATOR"),
    ] {
        let run = driftgate(
            "http://127.0.0.1:9",
            &["check", "--state", "x.tfstate", "--aws-source", source],
            None,
        );
        assert_eq!(run.code, 2, "{source}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("--aws-source {source}: ")) && run.stderr.contains(says),
            "{source}: {}",
            run.stderr
        );
    }
}

/// A network ACL, an EBS volume and a KMS key, each as Config records it (built from the EC2
/// and KMS answers moto gives, in Config's field names), give what the APIs give, drift too.
#[tokio::test]
async fn acls_volumes_and_keys_through_config() {
    let m = moto().await;
    let kms = moto_client!(aws_sdk_kms, &m.url);
    let vpc = m.ec2.describe_vpcs().send().await.unwrap().vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let acl = m
        .ec2
        .create_network_acl()
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap()
        .network_acl()
        .unwrap()
        .network_acl_id()
        .unwrap()
        .to_string();
    m.ec2
        .create_network_acl_entry()
        .network_acl_id(&acl)
        .rule_number(100)
        .protocol("6")
        .rule_action(aws_sdk_ec2::types::RuleAction::Allow)
        .egress(false)
        .cidr_block("10.0.0.0/8")
        .port_range(
            aws_sdk_ec2::types::PortRange::builder()
                .from(443)
                .to(443)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let volume = m
        .ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .encrypted(true)
        .send()
        .await
        .unwrap();
    let vol = volume.volume_id().unwrap().to_string();
    let key = kms.create_key().description("data").send().await.unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_string();
    kms.enable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    let policy = kms
        .get_key_policy()
        .key_id(&key_id)
        .policy_name("default")
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .to_string();

    let state = State::new()
        .add(
            "aws_network_acl.private",
            acl_attrs(
                &acl,
                &vpc,
                vec![acl_entry(100, "allow", "6", "10.0.0.0/8", 443, 443)],
                vec![],
            ),
        )
        .add(
            "aws_ebs_volume.data",
            json!({"arn": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{vol}"), "id": vol,
                   "availability_zone": "us-east-1a", "encrypted": true,
                   "kms_key_id": volume.kms_key_id().unwrap_or(""), "size": 8, "type": "gp2", "tags": {}}),
        )
        .add(
            "aws_kms_key.data",
            json!({"arn": key.key_metadata().unwrap().arn(), "id": key_id, "key_id": key_id,
                   "description": "data", "customer_master_key_spec": "SYMMETRIC_DEFAULT",
                   "key_usage": "ENCRYPT_DECRYPT", "enable_key_rotation": true, "is_enabled": true,
                   "policy": policy, "tags": {}, "tags_all": {}}),
        );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "s.tfstate");

    // What Config would record now, from the same answers.
    let record = |m: &Moto, kms: &aws_sdk_kms::Client| {
        let (ec2, kms, acl, vol, key_id) = (
            m.ec2.clone(),
            kms.clone(),
            acl.clone(),
            vol.clone(),
            key_id.clone(),
        );
        async move {
            let mut items = BTreeMap::new();
            let a = ec2
                .describe_network_acls()
                .network_acl_ids(&acl)
                .send()
                .await
                .unwrap();
            let a = &a.network_acls()[0];
            let entries: Vec<Value> = a
                .entries()
                .iter()
                .map(|e| {
                    let mut c = json!({"ruleNumber": e.rule_number(), "protocol": e.protocol(),
                        "ruleAction": e.rule_action().map(|r| r.as_str()), "egress": e.egress(),
                        "cidrBlock": e.cidr_block()});
                    if let Some(p) = e.port_range() {
                        c["portRange"] = json!({"from": p.from(), "to": p.to()});
                    }
                    c
                })
                .collect();
            items.insert(acl.clone(), json!({"resourceType": "AWS::EC2::NetworkAcl",
                "awsAccountId": ACCOUNT, "awsRegion": REGION, "configurationItemStatus": "OK",
                "configuration": {"networkAclId": acl, "vpcId": a.vpc_id(), "isDefault": a.is_default(),
                                  "entries": entries, "associations": [], "tags": []}}));
            let v = ec2
                .describe_volumes()
                .volume_ids(&vol)
                .send()
                .await
                .unwrap();
            let v = &v.volumes()[0];
            items.insert(vol.clone(), json!({"resourceType": "AWS::EC2::Volume",
                "awsAccountId": ACCOUNT, "awsRegion": REGION, "configurationItemStatus": "OK",
                "configuration": {"volumeId": vol, "size": v.size(), "encrypted": v.encrypted(),
                                  "kmsKeyId": v.kms_key_id(), "availabilityZone": v.availability_zone()}}));
            let meta = kms.describe_key().key_id(&key_id).send().await.unwrap();
            let meta = meta.key_metadata().unwrap();
            let policy = kms
                .get_key_policy()
                .key_id(&key_id)
                .policy_name("default")
                .send()
                .await
                .unwrap();
            let rotation = kms
                .get_key_rotation_status()
                .key_id(&key_id)
                .send()
                .await
                .unwrap();
            items.insert(
                key_id.clone(),
                json!({"resourceType": "AWS::KMS::Key",
                "awsAccountId": ACCOUNT, "awsRegion": REGION, "configurationItemStatus": "OK",
                "configuration": {"keyId": key_id, "arn": meta.arn(), "enabled": meta.enabled(),
                                  "keyState": meta.key_state().map(|s| s.as_str()),
                                  "keyUsage": meta.key_usage().map(|s| s.as_str()),
                                  "keySpec": meta.key_spec().map(|s| s.as_str())},
                // Config sends every supplementary value as a string.
                "supplementaryConfiguration": {"Policy": policy.policy(),
                    "KeyRotationStatus": rotation.key_rotation_enabled().to_string()}}),
            );
            items
        }
    };
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    let config = config_service(recorder.clone());
    let items = record(&m, &kms).await;
    recorder.lock().unwrap().items = items;
    let local = ["--aws-source", "config:local"];
    let run = check(&m, &config, &path, &local);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(calls(&run, "config", "BatchGetResourceConfig"), 3);
    assert_eq!(
        calls(&run, "ec2", "DescribeNetworkAcls"),
        0,
        "{}",
        run.json()["summary"]["api_calls"]
    );
    assert_eq!(
        calls(&run, "kms", "DescribeKey"),
        0,
        "{}",
        run.json()["summary"]["api_calls"]
    );

    // ssh let in by the ACL, rotation turned off: as the APIs see it.
    m.ec2
        .create_network_acl_entry()
        .network_acl_id(&acl)
        .rule_number(90)
        .protocol("6")
        .rule_action(aws_sdk_ec2::types::RuleAction::Allow)
        .egress(false)
        .cidr_block("0.0.0.0/0")
        .port_range(
            aws_sdk_ec2::types::PortRange::builder()
                .from(22)
                .to(22)
                .build(),
        )
        .send()
        .await
        .unwrap();
    kms.disable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    let items = record(&m, &kms).await;
    recorder.lock().unwrap().items = items;
    let api = check(&m, &config, &path, &[]);
    let run = check(&m, &config, &path, &local);
    assert_eq!(api.code, 1, "{}", api.stderr);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let fields = ["address", "attribute", "kind", "effect", "actual_text"];
    assert_eq!(drift_lines(&run, &fields), drift_lines(&api, &fields));
    assert_eq!(drift_lines(&run, &fields).len(), 2);
    assert!(run
        .drifts()
        .iter()
        .all(|d| d["observed"]["confirmed"] == true));
}

/// Config failing, throttling past the retries, or answering garbage: exit 2 naming the call,
/// never a pass on what it did not say.
#[test]
fn a_failing_config_ends_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_security_group.web",
            group_state("sg-0123456789abcdef0", "vpc-1", "web", ACCOUNT),
        )
        .write(dir.path(), "s.tfstate");
    let json = |r: Reply| r.header("Content-Type", "application/x-amz-json-1.1");
    for (reply, says) in [
        (
            json(Reply::status(
                500,
                r#"{"__type":"InternalFailure","message":"boom"}"#,
            )),
            "AWS config BatchGetResourceConfig in us-east-1: ",
        ),
        (
            json(Reply::status(
                400,
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
            )),
            "still throttled after 2 attempts",
        ),
        (
            json(Reply::status(200, "{not json")),
            "AWS config BatchGetResourceConfig",
        ),
        (
            json(Reply::json(
                json!({"baseConfigurationItems": [{"resourceId": "sg-0123456789abcdef0",
                "resourceType": "AWS::EC2::SecurityGroup", "configurationItemStatus": "OK",
                "configurationItemCaptureTime": CAPTURED, "configuration": "{\"groupId\": "}]}),
            )),
            "AWS Config item of AWS::EC2::SecurityGroup sg-0123456789abcdef0",
        ),
    ] {
        let config = serve_fn("Wed, 02 Dec 2026 10:00:00 GMT", move |_| reply.clone());
        let sts = tracker::serve(
            "Wed, 02 Dec 2026 10:00:00 GMT",
            vec![(
                "/#Action=GetCallerIdentity",
                vec![Reply::status(200, CALLER).header("Content-Type", "text/xml")],
            )],
        );
        let run = driftgate_env(
            "http://127.0.0.1:9",
            &[
                "check",
                "--state",
                state.to_str().unwrap(),
                "--aws-source",
                "config:local",
                "--max-attempts",
                "2",
            ],
            None,
            &[
                ("AWS_ENDPOINT_URL_CONFIG_SERVICE", Some(&config.url)),
                ("AWS_ENDPOINT_URL_STS", Some(&sts.url)),
            ],
        );
        assert_eq!(run.code, 2, "{says}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
    }
}

const CALLER: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA0</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#;
