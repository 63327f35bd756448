//! EBS encryption: `aws_ebs_volume` (`encrypted`, `kms_key_id`), `aws_ebs_encryption_by_default`
//! (the region's default for new volumes) and `aws_ebs_default_kms_key` (the key that default
//! uses). Turning encryption off, or dropping a customer-managed key, weakens. A fix writes the
//! live setting or key into the block (a key by reference to the module's `aws_kms_key` where
//! the code refers to one).

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::json;

use super::config_items::Fields;
use super::{is_not_found, kms_key_id, read_by_ids, region_account};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{
    bad, codify_setting, set_id, tags_of, About, Codify, CodifyRequest, ConfigRef, Family,
    FromConfig,
};
use crate::model::{
    Cloud, ConfigItem, Declarer, DriftKind, Effect, ExpectedItem, ExpectedObject, Facts, Item,
    LiveObject,
};
use crate::state::Resource;
use aws_sdk_ec2::error::ProvideErrorMetadata;

pub const EBS_VOLUMES: About = About {
    name: "ebs_volume",
    cloud: Cloud::Aws,
    label: "EBS volume(s)",
    resource_types: &["aws_ebs_volume"],
    batch_size: 200,
};

pub const EBS_ENCRYPTION_BY_DEFAULT: About = About {
    name: "ebs_encryption_by_default",
    cloud: Cloud::Aws,
    label: "EBS default encryption setting(s)",
    resource_types: &["aws_ebs_encryption_by_default"],
    batch_size: 1,
};

pub const EBS_DEFAULT_KMS_KEY: About = About {
    name: "ebs_default_kms_key",
    cloud: Cloud::Aws,
    label: "EBS default KMS key setting(s)",
    resource_types: &["aws_ebs_default_kms_key"],
    batch_size: 1,
};

pub struct EbsVolumes;
pub struct EbsEncryptionByDefault;
pub struct EbsDefaultKmsKey;

/// A setting slot, compared by its text (`true`, a key id) and carrying its JSON value (a bool
/// stays a bool, so that a fix writes `encrypted = true`, not a string); `restricts` says
/// whether its expected value is the safer one.
fn slot(name: &str, value: serde_json::Value, restricts: bool) -> Item {
    let key = match &value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Item {
        identity: Some(name.to_string()),
        summary: if key.is_empty() {
            format!("{name} not set")
        } else {
            format!("{name} = {key}")
        },
        key,
        value: json!({ name: value }),
        facts: Facts {
            grants: !restricts,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels: vec![],
        },
    }
}

/// Encryption on is safer than off; a customer-managed key is safer than none.
fn change(attribute: &str, expected: &Item, actual: &Item) -> Effect {
    match (attribute, expected.key.as_str(), actual.key.as_str()) {
        ("encrypted" | "enabled", "true", "false") => Effect::Weakens,
        ("encrypted" | "enabled", "false", "true") => Effect::Strengthens,
        ("kms_key_id", e, "") if !e.is_empty() => Effect::Weakens,
        ("kms_key_id", "", a) if !a.is_empty() => Effect::Strengthens,
        _ => Effect::Unknown,
    }
}

fn volume_items(encrypted: bool, key: &str) -> Vec<(&'static str, Item)> {
    vec![
        ("encrypted", slot("encrypted", json!(encrypted), encrypted)),
        (
            "kms_key_id",
            slot("kms_key_id", json!(key), !key.is_empty()),
        ),
    ]
}

/// The key a volume or the region's default uses, written as the live says: by reference to
/// the module's `aws_kms_key` when the code refers to a key, else the ARN. No key at all is the
/// attribute's removal, which needs the volume replaced: manual.
fn codify_key(r: &CodifyRequest, key: &str) -> Codify {
    if r.kind != DriftKind::Changed {
        return Codify::Unsupported;
    }
    match r.actual.get(key).and_then(serde_json::Value::as_str) {
        Some("") => Codify::Manual {
            offset: r
                .block
                .body
                .get_attribute(key)
                .and_then(|a| hcl_edit::Span::span(&a.value))
                .map_or(0, |s| s.start),
            reason: "the live object has no customer-managed key: the attribute goes".into(),
            want: format!("no `{key}`"),
        },
        Some(live) => set_id(r, key, live, (&["aws_kms_key"], "arn"), &|a, b| {
            kms_key_id(a) == kms_key_id(b)
        }),
        None => Codify::Unsupported,
    }
}

impl Family for EbsVolumes {
    fn codify(&self, r: &CodifyRequest) -> Codify {
        match (r.resource_type, r.attribute) {
            ("aws_ebs_volume", Some("encrypted")) => codify_setting(r, &[], &["encrypted"]),
            ("aws_ebs_volume", Some("kms_key_id")) => codify_key(r, "kms_key_id"),
            _ => Codify::Unsupported,
        }
    }

    fn harden(
        &self,
        _object: &crate::model::ExpectedObject,
        item: &crate::model::ExpectedItem,
        _admin: Option<&str>,
    ) -> Option<crate::families::Hardened> {
        // Encryption cannot be turned on in place: the volume is replaced on apply.
        match crate::families::harden_value(
            item,
            &["aws_ebs_volume"],
            &["encrypted"],
            &|v| v.as_str() == Some("false") || *v == serde_json::Value::Bool(false),
            serde_json::Value::Bool(true),
        ) {
            Some(crate::families::Hardened::Replace { item, .. }) => {
                Some(crate::families::Hardened::Replace {
                    item,
                    replaces: true,
                })
            }
            other => other,
        }
    }

    fn about(&self) -> &'static About {
        &EBS_VOLUMES
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = BTreeMap::new();
        for r in resources {
            let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
            let by = Declarer::of(r, true);
            let encrypted = r
                .attr("encrypted")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            let key = r.attr_str("kms_key_id").unwrap_or("");
            let (region, account) = region_account(r);
            let items = volume_items(encrypted, key)
                .into_iter()
                .map(|(attribute, item)| ExpectedItem {
                    attribute,
                    item,
                    by: by.clone(),
                })
                .collect();
            let obj = ExpectedObject {
                family: EBS_VOLUMES.name,
                cloud_id: id.to_string(),
                region,
                account,
                owner: Some(by),
                items,
                tags: tags_of(r),
                is_default: false,
                ignore: Vec::new(),
                tolerated: Vec::new(),
            };
            if out.insert(id.to_string(), obj).is_some() {
                return Err(bad(
                    r,
                    &format!("manages volume {id}, which another resource manages too"),
                ));
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
            let client = aws.ec2(region);
            let what = format!("AWS ec2 DescribeVolumes in {region}");
            let id_of = aws_sdk_ec2::types::Volume::volume_id;
            let volumes = read_by_ids(&what, ids, id_of, |batch| {
                let client = client.clone();
                async move {
                    let mut pages = client
                        .describe_volumes()
                        .set_volume_ids(Some(batch))
                        .into_paginator()
                        .send();
                    let mut vols = Vec::new();
                    while let Some(page) = pages.next().await {
                        aws.count("ec2", "DescribeVolumes");
                        match page {
                            Ok(p) => vols.extend(p.volumes().iter().cloned()),
                            Err(e) if is_not_found(e.code()) => return Ok(None),
                            Err(e) => return Err(aws.error("ec2", "DescribeVolumes", region, e)),
                        }
                    }
                    Ok(Some(vols))
                }
            })
            .await?;
            Ok(volumes
                .iter()
                .filter_map(|v| {
                    let id = v.volume_id()?;
                    ids.contains(&id.to_string()).then(|| LiveObject {
                        cloud_id: id.to_string(),
                        items: volume_items(
                            v.encrypted().unwrap_or(false),
                            v.kms_key_id().unwrap_or(""),
                        ),
                        is_default: false,
                    })
                })
                .collect())
        })
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        change(attribute, expected, actual)
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::id("AWS::EC2::Volume", cloud_id)
    }

    /// `AWS::EC2::Volume`: the EC2 answer in camelCase (`volumeId`, `encrypted`, `kmsKeyId`).
    fn live_from_config(&self, _ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for item in items {
            let f = Fields::of(item, "volume");
            let c = f.root();
            let id = f
                .text(c, "volumeId")
                .ok_or_else(|| f.bad("has no `volumeId`"))?;
            let encrypted = f
                .flag(c, "encrypted")?
                .ok_or_else(|| f.bad("has no `encrypted`"))?;
            let key = f.text(c, "kmsKeyId").unwrap_or_default();
            let obj = LiveObject {
                cloud_id: id,
                items: volume_items(encrypted, &key),
                is_default: false,
            };
            out.seen(obj, item);
        }
        Ok(out)
    }
}

impl Family for EbsEncryptionByDefault {
    fn codify(&self, r: &CodifyRequest) -> Codify {
        match r.attribute {
            Some("enabled") => codify_setting(r, &[], &["enabled"]),
            _ => Codify::Unsupported,
        }
    }

    fn about(&self) -> &'static About {
        &EBS_ENCRYPTION_BY_DEFAULT
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        resources
            .iter()
            .map(|r| {
                // The setting is per region; the state's id is Terraform's own, unique per instance.
                let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
                let enabled = r.attr("enabled").and_then(|v| v.as_bool()).unwrap_or(true);
                let by = Declarer::of(r, true);
                Ok(ExpectedObject {
                    family: EBS_ENCRYPTION_BY_DEFAULT.name,
                    cloud_id: id.to_string(),
                    region: region_account(r).0,
                    account: None,
                    owner: Some(by.clone()),
                    items: vec![ExpectedItem {
                        attribute: "enabled",
                        item: slot("enabled", json!(enabled), enabled),
                        by,
                    }],
                    tags: BTreeMap::new(),
                    is_default: false,
                    ignore: Vec::new(),
                    tolerated: Vec::new(),
                })
            })
            .collect()
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let aws = clouds.aws()?;
            aws.count("ec2", "GetEbsEncryptionByDefault");
            let out = aws
                .ec2(region)
                .get_ebs_encryption_by_default()
                .send()
                .await
                .map_err(|e| aws.error("ec2", "GetEbsEncryptionByDefault", region, e))?;
            let enabled = out.ebs_encryption_by_default().unwrap_or(false);
            Ok(ids
                .iter()
                .map(|id| LiveObject {
                    cloud_id: id.clone(),
                    items: vec![("enabled", slot("enabled", json!(enabled), enabled))],
                    is_default: false,
                })
                .collect())
        })
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        change(attribute, expected, actual)
    }
}

/// The key of `aws_ebs_default_kms_key`, as an ARN or bare id: the same key either way.
fn default_key_item(key: &str) -> Item {
    // EC2 names the AWS-managed default `alias/aws/ebs` (or its alias ARN); the state has no key.
    let key = if key == "alias/aws/ebs" || key.ends_with(":alias/aws/ebs") {
        ""
    } else {
        key
    };
    let id = kms_key_id(key);
    let mut item = slot("key_arn", json!(id), true);
    item.value = json!({ "key_arn": key });
    item.summary = if key.is_empty() {
        "the AWS-managed key (aws/ebs)".into()
    } else {
        format!("key_arn = {key}")
    };
    item
}

impl Family for EbsDefaultKmsKey {
    /// Back to the AWS-managed key, the region has no default of its own for the code to name:
    /// the resource goes (forgotten, so that nothing is reset on apply).
    fn codify(&self, r: &CodifyRequest) -> Codify {
        match (r.kind, r.attribute) {
            (DriftKind::Changed, Some("key_arn"))
                if r.actual.get("key_arn") == Some(&json!("")) =>
            {
                Codify::RemoveResource {
                    summary: "the region's default key is the AWS-managed key (aws/ebs) again"
                        .into(),
                }
            }
            (_, Some("key_arn")) => codify_key(r, "key_arn"),
            _ => Codify::Unsupported,
        }
    }

    fn about(&self) -> &'static About {
        &EBS_DEFAULT_KMS_KEY
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        resources
            .iter()
            .map(|r| {
                let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
                let key = r
                    .attr_str("key_arn")
                    .ok_or_else(|| bad(r, "has no `key_arn`"))?;
                let by = Declarer::of(r, true);
                Ok(ExpectedObject {
                    family: EBS_DEFAULT_KMS_KEY.name,
                    cloud_id: id.to_string(),
                    region: region_account(r).0,
                    account: None,
                    owner: Some(by.clone()),
                    items: vec![ExpectedItem {
                        attribute: "key_arn",
                        item: default_key_item(key),
                        by,
                    }],
                    tags: BTreeMap::new(),
                    is_default: false,
                    ignore: Vec::new(),
                    tolerated: Vec::new(),
                })
            })
            .collect()
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let aws = clouds.aws()?;
            aws.count("ec2", "GetEbsDefaultKmsKeyId");
            let out = aws
                .ec2(region)
                .get_ebs_default_kms_key_id()
                .send()
                .await
                .map_err(|e| aws.error("ec2", "GetEbsDefaultKmsKeyId", region, e))?;
            let key = out.kms_key_id().unwrap_or_default().to_string();
            Ok(ids
                .iter()
                .map(|id| LiveObject {
                    cloud_id: id.clone(),
                    items: vec![("key_arn", default_key_item(&key))],
                    is_default: false,
                })
                .collect())
        })
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        // Back to the AWS-managed key loses the customer-managed key's policy and rotation.
        change(
            if attribute == "key_arn" {
                "kms_key_id"
            } else {
                attribute
            },
            expected,
            actual,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_key_by_arn_or_id() {
        let arn = default_key_item("arn:aws:kms:us-east-1:123456789012:key/1234abcd");
        assert_eq!(arn.key, default_key_item("1234abcd").key);
        let aws_managed = default_key_item("");
        assert_eq!(default_key_item("alias/aws/ebs"), aws_managed);
        assert_eq!(
            default_key_item("arn:aws:kms:us-east-1:123456789012:alias/aws/ebs"),
            aws_managed
        );
        assert_eq!(
            EbsDefaultKmsKey.effect_of_change("key_arn", &arn, &aws_managed),
            Effect::Weakens
        );
    }

    #[test]
    fn fixture_states_and_effects() {
        let path = "tests/fixtures/shared/driftctl/state/aws_ec2_ebs_volume/terraform.tfstate";
        let (_, resources) = crate::state::parse(path, &std::fs::read(path).unwrap()).unwrap();
        let refs: Vec<&Resource> = resources
            .iter()
            .filter(|r| r.resource_type == "aws_ebs_volume")
            .collect();
        let objs = EbsVolumes.expected(&refs).unwrap();
        assert_eq!(objs[0].region.as_deref(), Some("eu-west-3"));
        assert_eq!(objs[0].items[0].item.key, "false");
        let on = slot("encrypted", json!(true), true);
        let off = slot("encrypted", json!(false), false);
        assert_eq!(change("encrypted", &on, &off), Effect::Weakens);
        assert_eq!(
            change(
                "kms_key_id",
                &slot("kms_key_id", json!("arn:k"), true),
                &slot("kms_key_id", json!(""), false)
            ),
            Effect::Weakens
        );
        assert_eq!(
            change(
                "kms_key_id",
                &slot("kms_key_id", json!("arn:a"), true),
                &slot("kms_key_id", json!("arn:b"), true)
            ),
            Effect::Unknown
        );
    }
}
