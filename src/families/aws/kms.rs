//! KMS keys: `aws_kms_key` — the key policy (a set of statements), automatic rotation, and whether
//! the key is enabled — and `aws_kms_key_policy`, which owns a key's whole policy: beside it the
//! key's own `policy` is the computed copy (the default policy at creation, refreshed since) and
//! is not configuration. `deletion_window_in_days` exists only in the state and is never compared.
//! Rotation applies to symmetric encryption keys only, so it is compared only for them.

use std::collections::BTreeMap;

use aws_sdk_kms::error::ProvideErrorMetadata;
use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::config_items::Fields;
use super::iam::statement_item;
use super::policy_document::statements;
use super::{arn_region_account, kms_key_id, region_account};
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{
    bad, codify_flag, tags_of, About, Codify, CodifyRequest, ConfigRef, Family, FromConfig,
};
use crate::model::{
    Cloud, ConfigItem, Declarer, Effect, ExpectedItem, ExpectedObject, Facts, Item, LiveObject,
};
use crate::state::Resource;

pub const KMS_KEYS: About = About {
    name: "kms_key",
    cloud: Cloud::Aws,
    label: "KMS key(s)",
    resource_types: &["aws_kms_key", "aws_kms_key_policy"],
    batch_size: 1,
};

pub struct KmsKeys;

fn flag(name: &str, on: bool) -> Item {
    Item {
        identity: Some(name.to_string()),
        key: on.to_string(),
        value: json!({ name: on }),
        summary: format!("{name} = {on}"),
        facts: Facts {
            grants: false,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels: vec![],
        },
    }
}

fn policy_items(doc: &Value, who: &str) -> Result<Vec<(&'static str, Item)>> {
    Ok(statements(doc)
        .map_err(|e| Error::new(who.to_string(), format!("key policy: {e}")))?
        .into_iter()
        .map(|s| ("policy", statement_item(s)))
        .collect())
}

impl Family for KmsKeys {
    fn harden(
        &self,
        _object: &crate::model::ExpectedObject,
        item: &crate::model::ExpectedItem,
        _admin: Option<&str>,
    ) -> Option<crate::families::Hardened> {
        crate::families::harden_value(
            item,
            &["aws_kms_key"],
            &["enable_key_rotation"],
            &|v| *v == serde_json::Value::Bool(false),
            serde_json::Value::Bool(true),
        )
    }

    /// Rotation turned on (or off, when accepted) by hand: `enable_key_rotation` in the code.
    fn codify(&self, r: &CodifyRequest) -> Codify {
        match r.resource_type {
            _ if r.attribute == Some("policy") => super::policy_code::codify_statement(r, "policy"),
            "aws_kms_key" => codify_flag(r, &["enable_key_rotation"]),
            _ => Codify::Unsupported,
        }
    }

    fn about(&self) -> &'static About {
        &KMS_KEYS
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = BTreeMap::new();
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "aws_kms_key")
        {
            let id = r
                .attr_str("key_id")
                .or_else(|| r.attr_str("id"))
                .ok_or_else(|| bad(r, "has no `key_id`"))?;
            let by = Declarer::of(r, true);
            let mut items = Vec::new();
            let mut ignore = Vec::new();
            match r.attr("policy") {
                Some(doc) => items.extend(policy_items(doc, &r.address)?),
                None => ignore.push("policy"),
            }
            let spec = r
                .attr_str("key_spec")
                .or_else(|| r.attr_str("customer_master_key_spec"))
                .unwrap_or("SYMMETRIC_DEFAULT");
            let usage = r.attr_str("key_usage").unwrap_or("ENCRYPT_DECRYPT");
            if spec == "SYMMETRIC_DEFAULT" && usage == "ENCRYPT_DECRYPT" {
                let rotation = r
                    .attr("enable_key_rotation")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                items.push(("enable_key_rotation", flag("enable_key_rotation", rotation)));
            }
            let enabled = r
                .attr("is_enabled")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            items.push(("is_enabled", flag("is_enabled", enabled)));
            let (region, account) = region_account(r);
            let obj = ExpectedObject {
                family: KMS_KEYS.name,
                cloud_id: id.to_string(),
                region,
                account,
                owner: Some(by.clone()),
                items: items
                    .into_iter()
                    .map(|(attribute, item)| ExpectedItem {
                        attribute,
                        item,
                        by: by.clone(),
                    })
                    .collect(),
                tags: tags_of(r),
                is_default: false,
                ignore,
                tolerated: Vec::new(),
            };
            if out.insert(id.to_string(), obj).is_some() {
                return Err(bad(
                    r,
                    &format!("manages KMS key {id}, which another resource manages too"),
                ));
            }
        }
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "aws_kms_key_policy")
        {
            let raw = r
                .attr_str("key_id")
                .ok_or_else(|| bad(r, "has no `key_id`"))?;
            let id = kms_key_id(raw);
            let doc = r.attr("policy").ok_or_else(|| bad(r, "has no `policy`"))?;
            let by = Declarer::of(r, false);
            let obj = out.entry(id.to_string()).or_insert_with(|| {
                // The key is managed elsewhere: only its policy is ours, all of it.
                let (region, account) =
                    arn_region_account(raw).unwrap_or_else(|| region_account(r));
                ExpectedObject {
                    family: KMS_KEYS.name,
                    cloud_id: id.to_string(),
                    region,
                    account,
                    owner: Some(by.clone()),
                    items: Vec::new(),
                    tags: Default::default(),
                    is_default: false,
                    ignore: vec!["enable_key_rotation", "is_enabled"],
                    tolerated: Vec::new(),
                }
            });
            if obj
                .items
                .iter()
                .any(|i| i.attribute == "policy" && !i.by.inline)
            {
                return Err(bad(
                    r,
                    &format!("sets the policy of KMS key {id}, which another resource sets too"),
                ));
            }
            obj.items.retain(|i| i.attribute != "policy");
            obj.ignore.retain(|a| *a != "policy");
            for (attribute, item) in policy_items(doc, &r.address)? {
                obj.items.push(ExpectedItem {
                    attribute,
                    item,
                    by: by.clone(),
                });
            }
        }
        Ok(out.into_values().collect())
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let aws = clouds.aws()?;
            let client = aws.kms(region);
            let mut out = Vec::new();
            for id in ids {
                aws.count("kms", "DescribeKey");
                let meta = match client.describe_key().key_id(id).send().await {
                    Ok(d) => d.key_metadata,
                    Err(e) if e.code() == Some("NotFoundException") => continue,
                    Err(e) => return Err(aws.error("kms", "DescribeKey", region, e)),
                };
                let Some(meta) = meta else {
                    return Err(Error::new(
                        format!("AWS KMS key {id}"),
                        "DescribeKey answered without metadata",
                    ));
                };
                // A key pending deletion is as good as gone for the state: report it missing.
                if meta.key_state().map(|s| s.as_str()) == Some("PendingDeletion") {
                    continue;
                }
                aws.count("kms", "GetKeyPolicy");
                let policy = client
                    .get_key_policy()
                    .key_id(id)
                    .policy_name("default")
                    .send()
                    .await
                    .map_err(|e| aws.error("kms", "GetKeyPolicy", region, e))?;
                let mut items = policy_items(
                    &Value::String(policy.policy().unwrap_or_default().to_string()),
                    &format!("AWS KMS key {id}"),
                )?;
                let symmetric = meta
                    .key_spec()
                    .map(|s| s.as_str())
                    .unwrap_or("SYMMETRIC_DEFAULT")
                    == "SYMMETRIC_DEFAULT"
                    && meta
                        .key_usage()
                        .map(|u| u.as_str())
                        .unwrap_or("ENCRYPT_DECRYPT")
                        == "ENCRYPT_DECRYPT";
                if symmetric {
                    aws.count("kms", "GetKeyRotationStatus");
                    let rotation = client
                        .get_key_rotation_status()
                        .key_id(id)
                        .send()
                        .await
                        .map_err(|e| aws.error("kms", "GetKeyRotationStatus", region, e))?;
                    items.push((
                        "enable_key_rotation",
                        flag("enable_key_rotation", rotation.key_rotation_enabled()),
                    ));
                }
                items.push(("is_enabled", flag("is_enabled", meta.enabled())));
                out.push(LiveObject {
                    cloud_id: id.clone(),
                    items,
                    is_default: false,
                });
            }
            Ok(out)
        })
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::id("AWS::KMS::Key", cloud_id)
    }

    /// `AWS::KMS::Key`: the key's metadata in `configuration`, its default policy and rotation in
    /// `supplementaryConfiguration` (`Policy`, `KeyRotationStatus`). A key without them in its
    /// item (an older recorder) is left out, to be read directly.
    fn live_from_config(&self, _ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for item in items {
            let f = Fields::of(item, "KMS key");
            let c = f.root();
            let id = f.text(c, "keyId").ok_or_else(|| f.bad("has no `keyId`"))?;
            if f.text(c, "keyState").as_deref() == Some("PendingDeletion") {
                continue;
            }
            let Some(policy) = item.supplementary.get("Policy") else {
                continue;
            };
            let policy = match policy {
                Value::String(_) => policy.clone(),
                other => Value::String(other.to_string()),
            };
            let mut live = policy_items(&policy, &format!("AWS KMS key {id}"))?;
            let spec = f
                .text(c, "keySpec")
                .or_else(|| f.text(c, "customerMasterKeySpec"));
            let symmetric = spec.as_deref().unwrap_or("SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
                && f.text(c, "keyUsage")
                    .as_deref()
                    .unwrap_or("ENCRYPT_DECRYPT")
                    == "ENCRYPT_DECRYPT";
            if symmetric {
                let rotation = match item.supplementary.get("KeyRotationStatus") {
                    Some(Value::Bool(b)) => *b,
                    Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
                    Some(_) => {
                        return Err(f.bad("has a `KeyRotationStatus` that is not true or false"))
                    }
                    None => continue,
                };
                live.push(("enable_key_rotation", flag("enable_key_rotation", rotation)));
            }
            let enabled = f
                .flag(c, "enabled")?
                .ok_or_else(|| f.bad("has no `enabled`"))?;
            live.push(("is_enabled", flag("is_enabled", enabled)));
            let obj = LiveObject {
                cloud_id: id,
                items: live,
                is_default: false,
            };
            out.seen(obj, item);
        }
        Ok(out)
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        match (attribute, expected.key.as_str(), actual.key.as_str()) {
            ("enable_key_rotation", "true", "false") => Effect::Weakens,
            ("enable_key_rotation", "false", "true") => Effect::Strengthens,
            _ => Effect::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_keys() {
        let path = "tests/fixtures/shared/driftctl/state/aws_kms_key/terraform.tfstate";
        let (_, resources) = crate::state::parse(path, &std::fs::read(path).unwrap()).unwrap();
        let refs: Vec<&Resource> = resources.iter().collect();
        let objs = KmsKeys.expected(&refs).unwrap();
        assert_eq!(objs.len(), 3);
        for o in &objs {
            let rotation = o.items.iter().any(|i| i.attribute == "enable_key_rotation");
            // Only the symmetric encryption key has a rotation slot.
            assert_eq!(
                rotation,
                o.cloud_id == "5d765f32-bfdc-4610-b6ab-f82db5d0601b",
                "{}",
                o.cloud_id
            );
            assert!(o
                .items
                .iter()
                .all(|i| i.attribute != "deletion_window_in_days"));
        }
    }

    fn res(address: &str, t: &str, attrs: Value) -> Resource {
        Resource::for_test(address, t, attrs)
    }

    fn doc(principal: &str) -> String {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "x", "Effect": "Allow",
            "Principal": {"AWS": principal}, "Action": "kms:*", "Resource": "*"}]})
        .to_string()
    }

    #[test]
    fn a_key_policy_resource_beats_the_keys_computed_copy() {
        let arn = "arn:aws:kms:eu-west-1:111122223333:key/k-1";
        let key = res(
            "aws_kms_key.k",
            "aws_kms_key",
            json!({"key_id": "k-1", "arn": arn, "policy": doc("arn:aws:iam::111122223333:root"),
                   "enable_key_rotation": true}),
        );
        let policy = res(
            "aws_kms_key_policy.k",
            "aws_kms_key_policy",
            json!({"key_id": arn, "policy": doc("arn:aws:iam::111122223333:role/admin")}),
        );
        let objs = KmsKeys.expected(&[&key, &policy]).unwrap();
        assert_eq!(objs.len(), 1);
        let policies: Vec<&ExpectedItem> = objs[0]
            .items
            .iter()
            .filter(|i| i.attribute == "policy")
            .collect();
        assert_eq!(policies.len(), 1);
        assert_eq!(policies[0].by.address, "aws_kms_key_policy.k");
        assert!(
            policies[0].item.summary.contains("role/admin"),
            "{}",
            policies[0].item.summary
        );
        assert!(objs[0]
            .items
            .iter()
            .any(|i| i.attribute == "enable_key_rotation"));
        assert!(!objs[0].ignore.contains(&"policy"));

        // A key managed elsewhere: its whole policy is the policy resource's, nothing else is.
        let objs = KmsKeys.expected(&[&policy]).unwrap();
        assert_eq!(objs[0].cloud_id, "k-1");
        assert_eq!(objs[0].region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            objs[0].owner.as_ref().unwrap().address,
            "aws_kms_key_policy.k"
        );
        assert!(objs[0].ignore.contains(&"is_enabled"));
        assert!(KmsKeys.expected(&[&policy, &policy]).is_err());
    }
}
