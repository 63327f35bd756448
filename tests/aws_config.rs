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
    /// The advanced queries asked.
    queries: Vec<String>,
}

/// The quoted values of `field = '…'` or `field IN ('…', …)` in an advanced query: the only
/// shapes driftgate asks.
fn query_values(expression: &str, field: &str) -> Option<Vec<String>> {
    let clause = &expression[expression.find(" WHERE ")?..];
    let at = clause.find(&format!(" {field} "))? + field.len() + 2;
    let rest = &clause[at..];
    let end = if rest.starts_with("IN (") {
        rest.find(')')?
    } else {
        rest.find('\'')? + 1 + rest[rest.find('\'')? + 1..].find('\'')?
    };
    Some(
        rest[..=end]
            .split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect(),
    )
}

/// `SELECT resourceId, resourceName, awsRegion WHERE …` over the recorded items.
fn select(rec: &Recorder, expression: &str) -> Value {
    let one = |f: &str| query_values(expression, f).and_then(|v| v.first().cloned());
    let names = query_values(expression, "resourceName").unwrap_or_default();
    let rows: Vec<Value> = rec
        .items
        .iter()
        .filter(|(_, i)| Some(i["resourceType"].as_str().unwrap_or_default().to_string()) == one("resourceType"))
        .filter(|(_, i)| Some(i["awsAccountId"].as_str().unwrap_or_default().to_string()) == one("accountId"))
        .filter(|(_, i)| one("awsRegion").is_none_or(|r| i["awsRegion"] == r.as_str()))
        .filter(|(_, i)| names.iter().any(|n| i["resourceName"] == n.as_str()))
        .map(|(id, i)| {
            Value::String(
                json!({"resourceId": id, "resourceName": i["resourceName"], "awsRegion": i["awsRegion"]})
                    .to_string(),
            )
        })
        .collect();
    json!({"Results": rows, "QueryInfo": {"SelectFields": [{"Name": "resourceId"}, {"Name": "resourceName"}, {"Name": "awsRegion"}]}})
}

fn config_service(recorder: Arc<Mutex<Recorder>>) -> Server {
    serve_fn("Wed, 02 Dec 2026 10:00:00 GMT", move |req| {
        let target = req.header("x-amz-target").unwrap_or_default().to_string();
        let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        let mut rec = recorder.lock().unwrap();
        if target.ends_with("SelectResourceConfig")
            || target.ends_with("SelectAggregateResourceConfig")
        {
            let expression = body["Expression"].as_str().unwrap_or_default().to_string();
            if expression.len() > 4096 || !expression.starts_with("SELECT ") {
                return Reply::status(400, r#"{"__type":"InvalidExpressionException"}"#);
            }
            let answer = select(&rec, &expression);
            rec.queries.push(expression);
            return Reply::json(answer).header("Content-Type", "application/x-amz-json-1.1");
        }
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
            if aggregate
                && (item["awsAccountId"] != key["SourceAccountId"]
                    || item["awsRegion"] != key["SourceRegion"])
            {
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
        ends_the_run(&state, reply, says);
    }
}

/// The advanced query that finds items by name failing, or answering rows that are not what
/// was asked: exit 2 naming the call, never the role taken as in sync or as gone.
#[test]
fn a_failing_advanced_query_ends_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::new()
        .add(
            "aws_iam_role.app",
            json!({"arn": format!("arn:aws:iam::{ACCOUNT}:role/app"), "id": "app", "name": "app", "path": "/",
                   "assume_role_policy": "{}", "managed_policy_arns": [], "inline_policy": [], "tags": {}}),
        )
        .write(dir.path(), "s.tfstate");
    let json = |r: Reply| r.header("Content-Type", "application/x-amz-json-1.1");
    for (reply, says) in [
        (
            json(Reply::status(
                500,
                r#"{"__type":"InternalFailure","message":"boom"}"#,
            )),
            "AWS config SelectResourceConfig in us-east-1: ",
        ),
        (
            json(Reply::json(
                json!({"Results": ["{\"resourceId\": \"AROA1\"}"]}),
            )),
            "a result row is not an item's id, name and region",
        ),
        (
            json(Reply::json(json!({"Results": ["not json"]}))),
            "AWS config advanced query of AWS::IAM::Role in account 123456789012",
        ),
    ] {
        ends_the_run(&state, reply, says);
    }
}

/// A check through `config:local` whose Config answers `reply` to everything: exit 2, saying
/// `says`.
fn ends_the_run(state: &std::path::Path, reply: Reply, says: &str) {
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

const CALLER: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA0</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#;

/// A policy document as IAM and Config send it: URL-encoded.
fn encoded(doc: &str) -> String {
    let doc = percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .unwrap()
        .to_string();
    percent_encoding::utf8_percent_encode(&doc, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The items Config would record now of a role, a managed policy, a user, a bucket and a DB
/// instance, from moto's answers. IAM's are global (`awsRegion: global`) and, like RDS's, named
/// by an id the state does not hold (`AROA…`, `ANPA…`, `db-…`).
async fn record_iam_s3_rds(
    m: &Moto,
    role: &str,
    policy_arn: &str,
    user: &str,
    bucket: &str,
    db: &str,
) -> BTreeMap<String, Value> {
    let iam = moto_client!(aws_sdk_iam, &m.url);
    let s3 = s3_client(m);
    let rds = moto_client!(aws_sdk_rds, &m.url);
    let mut items = BTreeMap::new();
    let global = |t: &str, name: &str, configuration: Value| {
        json!({"resourceType": t, "resourceName": name, "awsAccountId": ACCOUNT, "awsRegion": "global",
               "configurationItemStatus": "OK", "configuration": configuration})
    };
    let attached = |list: &[aws_sdk_iam::types::AttachedPolicy]| -> Vec<Value> {
        list.iter()
            .map(|a| json!({"policyName": a.policy_name(), "policyArn": a.policy_arn()}))
            .collect()
    };

    let r = iam.get_role().role_name(role).send().await.unwrap();
    let r = r.role().unwrap();
    let on_role = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let mut inline = Vec::new();
    for name in iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap()
        .policy_names()
    {
        let doc = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .unwrap();
        inline.push(json!({"policyName": name, "policyDocument": encoded(doc.policy_document())}));
    }
    // A role without a boundary: Config leaves the key out.
    items.insert(
        r.role_id().to_string(),
        global(
            "AWS::IAM::Role",
            role,
            json!({"roleName": role, "roleId": r.role_id(), "arn": r.arn(), "path": "/",
                   "assumeRolePolicyDocument": encoded(r.assume_role_policy_document().unwrap()),
                   "attachedManagedPolicies": attached(on_role.attached_policies()),
                   "rolePolicyList": inline, "instanceProfileList": [], "tags": []}),
        ),
    );

    let p = iam
        .get_policy()
        .policy_arn(policy_arn)
        .send()
        .await
        .unwrap();
    let p = p.policy().unwrap();
    let version = p.default_version_id().unwrap();
    let doc = iam
        .get_policy_version()
        .policy_arn(policy_arn)
        .version_id(version)
        .send()
        .await
        .unwrap();
    items.insert(
        p.policy_id().unwrap().to_string(),
        global(
            "AWS::IAM::Policy",
            p.policy_name().unwrap(),
            json!({"policyName": p.policy_name(), "policyId": p.policy_id(), "arn": policy_arn, "path": "/",
                   "defaultVersionId": version, "attachmentCount": 2, "isAttachable": true,
                   "policyVersionList": [{"document": encoded(doc.policy_version().unwrap().document().unwrap()),
                                          "versionId": version, "isDefaultVersion": true}]}),
        ),
    );

    let u = iam.get_user().user_name(user).send().await.unwrap();
    let u = u.user().unwrap();
    let on_user = iam
        .list_attached_user_policies()
        .user_name(user)
        .send()
        .await
        .unwrap();
    items.insert(
        u.user_id().to_string(),
        global(
            "AWS::IAM::User",
            user,
            json!({"userName": user, "userId": u.user_id(), "arn": u.arn(), "path": "/",
                   "attachedManagedPolicies": attached(on_user.attached_policies()),
                   "userPolicyList": [], "groupList": [], "permissionsBoundary": null}),
        ),
    );

    let mut supplementary = serde_json::Map::new();
    if let Ok(pab) = s3.get_public_access_block().bucket(bucket).send().await {
        let c = pab.public_access_block_configuration().unwrap();
        supplementary.insert(
            "PublicAccessBlockConfiguration".into(),
            json!({"blockPublicAcls": c.block_public_acls(), "ignorePublicAcls": c.ignore_public_acls(),
                   "blockPublicPolicy": c.block_public_policy(), "restrictPublicBuckets": c.restrict_public_buckets()}),
        );
    }
    let policy = s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .ok()
        .and_then(|p| p.policy().map(str::to_string));
    supplementary.insert("BucketPolicy".into(), json!({ "policyText": policy }));
    let sse = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rules: Vec<Value> = sse
        .server_side_encryption_configuration()
        .unwrap()
        .rules()
        .iter()
        .map(|r| {
            let d = r.apply_server_side_encryption_by_default().unwrap();
            json!({"applyServerSideEncryptionByDefault": {"sseAlgorithm": d.sse_algorithm().as_str(),
                   "kmsMasterKeyID": d.kms_master_key_id()}, "bucketKeyEnabled": r.bucket_key_enabled()})
        })
        .collect();
    supplementary.insert(
        "ServerSideEncryptionConfiguration".into(),
        json!({ "rules": rules }),
    );
    // The ACL as Config keeps it: the AWS SDK for Java's names, JSON encoded twice.
    let acl = s3.get_bucket_acl().bucket(bucket).send().await.unwrap();
    let owner = acl.owner().and_then(|o| o.id()).unwrap_or_default();
    let grants: Vec<Value> = acl
        .grants()
        .iter()
        .map(|g| {
            let grantee = g.grantee().unwrap();
            let who = match grantee.uri() {
                Some(u) => json!(u.rsplit('/').next()),
                None => json!({"id": grantee.id(), "displayName": null}),
            };
            let permission = match g.permission().unwrap().as_str() {
                "FULL_CONTROL" => "FullControl",
                "READ" => "Read",
                "WRITE" => "Write",
                "READ_ACP" => "ReadAcp",
                _ => "WriteAcp",
            };
            json!({"grantee": who, "permission": permission})
        })
        .collect();
    let acl =
        json!({"grantSet": null, "grantList": grants, "owner": {"id": owner, "displayName": null},
                     "isRequesterCharged": false})
        .to_string();
    supplementary.insert(
        "AccessControlList".into(),
        Value::String(Value::String(acl).to_string()),
    );
    items.insert(
        bucket.to_string(),
        json!({"resourceType": "AWS::S3::Bucket", "resourceName": bucket, "awsAccountId": ACCOUNT,
               "awsRegion": REGION, "configurationItemStatus": "OK",
               "configuration": {"name": bucket, "owner": {"id": owner}},
               "supplementaryConfiguration": supplementary}),
    );

    let d = rds
        .describe_db_instances()
        .db_instance_identifier(db)
        .send()
        .await
        .unwrap();
    let d = &d.db_instances()[0];
    let groups: Vec<Value> = d
        .vpc_security_groups()
        .iter()
        .map(|g| json!({"vpcSecurityGroupId": g.vpc_security_group_id(), "status": "active"}))
        .collect();
    items.insert(
        d.dbi_resource_id().unwrap().to_string(),
        json!({"resourceType": "AWS::RDS::DBInstance", "resourceName": db, "awsAccountId": ACCOUNT,
               "awsRegion": REGION, "configurationItemStatus": "OK",
               "configuration": {"dBInstanceIdentifier": db, "dbiResourceId": d.dbi_resource_id(),
                   "publiclyAccessible": d.publicly_accessible(), "storageEncrypted": d.storage_encrypted(),
                   "kmsKeyId": d.kms_key_id(), "vpcSecurityGroups": groups, "engine": "postgres",
                   "masterUsername": "app"}}),
    );
    items
}

/// IAM (roles with their inline policies, managed policies, users), a bucket's settings and a DB
/// instance through Config, against the same objects through their APIs: found by name where
/// Config's ids are not the state's, in one advanced query per type.
#[tokio::test]
async fn iam_buckets_and_databases_through_config() {
    use aws_sdk_s3::types::{
        PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
        ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    };
    let m = moto().await;
    let iam = moto_client!(aws_sdk_iam, &m.url);
    let s3 = s3_client(&m);
    let rds = moto_client!(aws_sdk_rds, &m.url);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let read_doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let jobs_doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}"#;
    let role = unique("cfg-app");
    let user = unique("cfg-ci");
    let role_arn = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();
    let policy_name = unique("cfg-read");
    let policy_arn = iam
        .create_policy()
        .policy_name(&policy_name)
        .policy_document(read_doc)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    iam.attach_role_policy()
        .role_name(&role)
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("jobs")
        .policy_document(jobs_doc)
        .send()
        .await
        .unwrap();
    iam.create_user().user_name(&user).send().await.unwrap();
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let bucket = unique("cfg-data");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let all = |on: bool| {
        PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .block_public_policy(on)
            .ignore_public_acls(true)
            .restrict_public_buckets(true)
            .build()
    };
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(all(true))
        .send()
        .await
        .unwrap();
    let tls_only = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::{bucket}/*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(&tls_only)
        .send()
        .await
        .unwrap();
    let key_id = "0b3c4d5e-0000-4000-8000-000000000001";
    s3.put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id(format!(
                                    "arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"
                                ))
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "db").await;
    let db = format!("cfg-orders-{}", &sg[3..11]);
    rds.create_db_instance()
        .db_instance_identifier(&db)
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("app")
        .master_user_password("s3cr3t-Pa55word-never-printed")
        .publicly_accessible(false)
        .storage_encrypted(true)
        .vpc_security_group_ids(&sg)
        .send()
        .await
        .unwrap();
    let live_db = rds
        .describe_db_instances()
        .db_instance_identifier(&db)
        .send()
        .await
        .unwrap();
    let live_db = &live_db.db_instances()[0];

    let state = State::new()
        .add(
            "aws_iam_role.app",
            json!({"arn": role_arn, "id": role, "name": role, "path": "/", "assume_role_policy": trust,
                   "managed_policy_arns": [policy_arn.clone()], "inline_policy": [], "tags": {}, "tags_all": {}}),
        )
        .add(
            "aws_iam_role_policy_attachment.read",
            json!({"id": format!("{role}-read"), "role": role, "policy_arn": policy_arn}),
        )
        .add(
            "aws_iam_role_policy.jobs",
            json!({"id": format!("{role}:jobs"), "role": role, "name": "jobs", "policy": jobs_doc}),
        )
        .add(
            "aws_iam_policy.read",
            json!({"arn": policy_arn, "id": policy_arn, "name": policy_name, "path": "/", "policy": read_doc, "tags": {}}),
        )
        .add(
            "aws_iam_user.ci",
            json!({"arn": format!("arn:aws:iam::{ACCOUNT}:user/{user}"), "id": user, "name": user, "path": "/",
                   "permissions_boundary": null, "force_destroy": false, "tags": {}, "tags_all": {}}),
        )
        .add(
            "aws_iam_user_policy_attachment.ci",
            json!({"id": format!("{user}-read"), "user": user, "policy_arn": policy_arn}),
        )
        .add(
            "aws_s3_bucket_public_access_block.data",
            json!({"id": bucket, "bucket": bucket, "block_public_acls": true, "block_public_policy": true,
                   "ignore_public_acls": true, "restrict_public_buckets": true}),
        )
        .add(
            "aws_s3_bucket_policy.data",
            json!({"id": bucket, "bucket": bucket, "policy": tls_only}),
        )
        .add(
            "aws_s3_bucket_server_side_encryption_configuration.data",
            json!({"id": bucket, "bucket": bucket, "expected_bucket_owner": "",
                   "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": key_id}],
                             "bucket_key_enabled": false}]}),
        )
        .add(
            "aws_s3_bucket_acl.data",
            json!({"id": format!("{bucket},private"), "bucket": bucket, "acl": "private", "expected_bucket_owner": ""}),
        )
        .add(
            "aws_db_instance.orders",
            json!({"arn": live_db.db_instance_arn(), "id": live_db.dbi_resource_id(), "identifier": db,
                   "engine": "postgres", "instance_class": "db.t3.micro", "publicly_accessible": false,
                   "storage_encrypted": true, "kms_key_id": live_db.kms_key_id().unwrap_or(""),
                   "vpc_security_group_ids": [sg], "username": "app", "tags": {}, "tags_all": {}}),
        );
    let dir = tempfile::tempdir().unwrap();
    let path = state.write(dir.path(), "s.tfstate");

    let recorder = Arc::new(Mutex::new(Recorder::default()));
    let config = config_service(recorder.clone());
    recorder.lock().unwrap().items =
        record_iam_s3_rds(&m, &role, &policy_arn, &user, &bucket, &db).await;
    let local = ["--aws-source", "config:local"];
    let run = check(&m, &config, &path, &local);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let api_calls = &run.json()["summary"]["api_calls"];
    // Everything through Config: no IAM, S3 or RDS read, and names resolved once per type
    // (role: the role and its inline policy share one query and one item).
    for (service, op) in [
        ("iam", "GetRole"),
        ("iam", "GetPolicy"),
        ("iam", "GetRolePolicy"),
        ("iam", "GetUser"),
        ("s3", "GetBucketPolicy"),
        ("s3", "GetPublicAccessBlock"),
        ("s3", "GetBucketEncryption"),
        ("s3", "GetBucketAcl"),
        ("rds", "DescribeDBInstances"),
    ] {
        assert_eq!(calls(&run, service, op), 0, "{service} {op}: {api_calls}");
    }
    let queries = recorder.lock().unwrap().queries.clone();
    // One query per type, one item read per object of Config, whichever families it serves: the
    // bucket's item serves four, the role's two.
    assert_eq!(
        calls(&run, "config", "SelectResourceConfig"),
        4,
        "{queries:#?}"
    );
    assert_eq!(
        calls(&run, "config", "BatchGetResourceConfig"),
        5,
        "{api_calls}"
    );
    assert!(
        queries.iter().any(|q| q.contains("'AWS::IAM::Role'")
            && q.contains(&format!("resourceName IN ('{role}')"))
            && !q.contains("AND awsRegion")),
        "{queries:#?}"
    );
    assert!(
        queries
            .iter()
            .any(|q| q.contains("'AWS::RDS::DBInstance'") && q.contains("awsRegion = 'us-east-1'")),
        "{queries:#?}"
    );

    // Through an aggregator: IAM's items are asked where Config records them (`global`).
    let run = check(&m, &config, &path, &["--aws-source", "config:org"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(calls(&run, "config", "SelectAggregateResourceConfig"), 4);
    assert_eq!(calls(&run, "iam", "GetRole"), 0);
    assert_eq!(calls(&run, "iam", "GetUser"), 0);
    // A user's item without `permissionsBoundary` says nothing of it: read directly, not taken
    // as "no boundary".
    let user_id = iam
        .get_user()
        .user_name(&user)
        .send()
        .await
        .unwrap()
        .user()
        .unwrap()
        .user_id()
        .to_string();
    recorder.lock().unwrap().items.get_mut(&user_id).unwrap()["configuration"]
        .as_object_mut()
        .unwrap()
        .remove("permissionsBoundary");
    let run = check(&m, &config, &path, &local);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(calls(&run, "iam", "GetUser"), 1);
    assert_eq!(calls(&run, "iam", "GetRole"), 0);

    // The console: an inline policy widened, the user given a second policy, the bucket's policy
    // deleted and public policies allowed, the database made public.
    let admin_doc =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("jobs")
        .policy_document(admin_doc)
        .send()
        .await
        .unwrap();
    let extra = iam
        .create_policy()
        .policy_name(unique("cfg-extra"))
        .policy_document(admin_doc)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(&extra)
        .send()
        .await
        .unwrap();
    s3.delete_bucket_policy()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(all(false))
        .send()
        .await
        .unwrap();
    rds.modify_db_instance()
        .db_instance_identifier(&db)
        .publicly_accessible(true)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    recorder.lock().unwrap().items =
        record_iam_s3_rds(&m, &role, &policy_arn, &user, &bucket, &db).await;
    let api = check(&m, &config, &path, &[]);
    let run = check(&m, &config, &path, &local);
    assert_eq!(api.code, 1, "{}", api.stderr);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let fields = ["address", "kind", "effect", "actual_text"];
    assert_eq!(drift_lines(&run, &fields), drift_lines(&api, &fields));
    let lines = drift_lines(&run, &fields);
    for address in [
        "aws_iam_role_policy.jobs",
        "aws_iam_user.ci",
        "aws_s3_bucket_policy.data",
        "aws_s3_bucket_public_access_block.data",
        "aws_db_instance.orders",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(address)),
            "{address}: {lines:#?}"
        );
    }
    // Each drift seen in Config, then read again directly to confirm it; the deleted policy too.
    assert!(run
        .drifts()
        .iter()
        .all(|d| d["observed"]["source"] == "aws-config" && d["observed"]["confirmed"] == true));
}
