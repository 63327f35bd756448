//! S3 bucket policy and default encryption: `aws_s3_bucket_policy` (the policy as a set of
//! statements; a public allow statement is critical) and
//! `aws_s3_bucket_server_side_encryption_configuration` (algorithm and KMS key). Since January 2023
//! S3 encrypts every bucket with SSE-S3 (AES256) when nothing else is configured, so a bucket
//! without a configuration reads as AES256, and a KMS-to-AES256 downgrade weakens.

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;
use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::config_items::with_supplementary;
use super::iam::statement_item;
use super::policy_document::statements;
use super::{kms_key_id, region_account};
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{bad, About, ConfigRef, Family, FromConfig, Subject};
use crate::model::Reach;
use crate::model::{
    Cloud, ConfigItem, Declarer, Effect, ExpectedItem, ExpectedObject, Facts, Item, LiveObject,
};
use crate::state::Resource;

pub const BUCKET_POLICIES: About = About {
    name: "s3_bucket_policy",
    cloud: Cloud::Aws,
    label: "bucket policy(ies)",
    resource_types: &["aws_s3_bucket_policy", "aws_s3_bucket"],
    batch_size: 1,
};

pub const BUCKET_ENCRYPTION: About = About {
    name: "s3_bucket_encryption",
    cloud: Cloud::Aws,
    label: "bucket encryption configuration(s)",
    resource_types: &[
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket",
    ],
    batch_size: 1,
};

pub struct BucketPolicies;
pub struct BucketEncryption;

fn object(
    family: &'static str,
    r: &Resource,
    bucket: &str,
    items: Vec<ExpectedItem>,
    by: Declarer,
) -> ExpectedObject {
    ExpectedObject {
        family,
        cloud_id: bucket.to_string(),
        region: region_account(r).0,
        account: None,
        owner: Some(by),
        items,
        tags: BTreeMap::new(),
        is_default: false,
        ignore: Vec::new(),
        tolerated: Vec::new(),
    }
}

/// The resources that say what a bucket setting should be: every resource of the separate type,
/// and the legacy inline settings of `aws_s3_bucket` (provider v3; later a refreshed copy) only for
/// buckets that no separate resource covers.
fn with_legacy<'a>(resources: &[&'a Resource], separate: &str) -> Vec<&'a Resource> {
    let covered: Vec<&str> = resources
        .iter()
        .filter(|r| r.resource_type == separate)
        .filter_map(|r| bucket_of(r).ok())
        .collect();
    resources
        .iter()
        .filter(|r| {
            r.resource_type == separate || bucket_of(r).is_ok_and(|b| !covered.contains(&b))
        })
        .copied()
        .collect()
}

fn bucket_of(r: &Resource) -> Result<&str> {
    r.attr_str("bucket")
        .or_else(|| r.attr_str("id"))
        .ok_or_else(|| bad(r, "has no `bucket`"))
}

impl Family for BucketPolicies {
    /// A statement revoked live leaves the document where the code writes it.
    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        match r.attribute {
            Some("policy") => super::policy_code::codify_statement(r, "policy"),
            _ => crate::families::Codify::Unsupported,
        }
    }

    fn about(&self) -> &'static About {
        &BUCKET_POLICIES
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = BTreeMap::new();
        for r in with_legacy(resources, "aws_s3_bucket_policy") {
            let bucket = bucket_of(r)?;
            let by = Declarer::of(r, true);
            let doc = match (r.resource_type.as_str(), r.attr("policy")) {
                ("aws_s3_bucket_policy", None) => return Err(bad(r, "has no `policy`")),
                ("aws_s3_bucket_policy", Some(d)) => d,
                // A bucket without an inline policy says nothing about one.
                (_, Some(d)) if d.as_str().is_some_and(|t| !t.trim().is_empty()) => d,
                _ => continue,
            };
            let items = statements(doc)
                .map_err(|e| bad(r, &format!("policy: {e}")))?
                .into_iter()
                .map(|s| ExpectedItem {
                    attribute: "policy",
                    item: statement_item(s),
                    by: by.clone(),
                })
                .collect();
            if out
                .insert(
                    bucket.to_string(),
                    object(BUCKET_POLICIES.name, r, bucket, items, by),
                )
                .is_some()
            {
                return Err(bad(
                    r,
                    &format!(
                        "manages the policy of bucket {bucket}, which another resource manages too"
                    ),
                ));
            }
        }
        Ok(out.into_values().collect())
    }

    fn exposure<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move {
            super::bucket_access::buckets_reach(clouds.aws()?, region, objects).await
        })
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let aws = clouds.aws()?;
            let client = aws.s3(region);
            let mut out = Vec::new();
            for bucket in ids {
                aws.count("s3", "GetBucketPolicy");
                let policy = match client.get_bucket_policy().bucket(bucket).send().await {
                    Ok(p) => p.policy().unwrap_or_default().to_string(),
                    Err(e) if matches!(e.code(), Some("NoSuchBucketPolicy" | "NoSuchBucket")) => {
                        continue
                    }
                    Err(e) => return Err(aws.error("s3", "GetBucketPolicy", region, e)),
                };
                out.push(policy_object(bucket, policy)?);
            }
            Ok(out)
        })
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::id("AWS::S3::Bucket", cloud_id)
    }

    /// The bucket item's supplementary `BucketPolicy` (`policyText`, null when the bucket has
    /// none: Config records the key for every bucket). An item without the key is left to a
    /// direct read.
    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for (f, policy) in with_supplementary(ids, items, "S3 bucket", "BucketPolicy")? {
            let item = f.item();
            match policy.get("policyText") {
                Some(Value::String(text)) => {
                    out.seen(policy_object(&item.resource_id, text.clone())?, item)
                }
                Some(Value::Null) | None => out.gone(&item.resource_id, item),
                Some(_) => return Err(f.bad("has a `BucketPolicy` whose `policyText` is not text")),
            }
        }
        Ok(out)
    }
}

/// A bucket's live policy view, however it was read.
fn policy_object(bucket: &str, policy: String) -> Result<LiveObject> {
    let items = statements(&Value::String(policy))
        .map_err(|e| {
            Error::new(
                format!("AWS S3 bucket {bucket}"),
                format!("unexpected bucket policy: {e}"),
            )
        })?
        .into_iter()
        .map(|s| ("policy", statement_item(s)))
        .collect();
    Ok(LiveObject {
        cloud_id: bucket.to_string(),
        items,
        is_default: false,
    })
}

fn sse_items(algorithm: &str, key: &str) -> Vec<(&'static str, Item)> {
    let strength = |a: &str| match a {
        "aws:kms:dsse" => 3,
        "aws:kms" => 2,
        _ => 1,
    };
    vec![
        (
            "sse_algorithm",
            Item {
                identity: Some("sse_algorithm".into()),
                key: algorithm.to_string(),
                value: json!({ "sse_algorithm": algorithm, "strength": strength(algorithm) }),
                summary: format!("sse_algorithm = {algorithm}"),
                facts: Facts {
                    grants: false,
                    direction: None,
                    ports: vec![],
                    cidrs: vec![],
                    labels: vec![],
                },
            },
        ),
        (
            "kms_master_key_id",
            Item {
                identity: Some("kms_master_key_id".into()),
                key: kms_key_id(key).to_string(),
                value: json!({ "kms_master_key_id": key }),
                summary: if key.is_empty() {
                    "no KMS key".into()
                } else {
                    format!("kms_master_key_id = {key}")
                },
                facts: Facts {
                    grants: false,
                    direction: None,
                    ports: vec![],
                    cidrs: vec![],
                    labels: vec![],
                },
            },
        ),
    ]
}

impl Family for BucketEncryption {
    fn about(&self) -> &'static About {
        &BUCKET_ENCRYPTION
    }

    /// The default encryption changed by hand (to SSE-KMS, another key), written into the
    /// `rule { apply_server_side_encryption_by_default { … } }` that declares it.
    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        let path: &[&str] = match r.resource_type {
            "aws_s3_bucket_server_side_encryption_configuration" => {
                &["rule", "apply_server_side_encryption_by_default"]
            }
            "aws_s3_bucket" => &[
                "server_side_encryption_configuration",
                "rule",
                "apply_server_side_encryption_by_default",
            ],
            _ => return crate::families::Codify::Unsupported,
        };
        match r.attribute {
            Some(a @ ("sse_algorithm" | "kms_master_key_id")) => {
                crate::families::codify_setting(r, path, &[a])
            }
            _ => crate::families::Codify::Unsupported,
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = BTreeMap::new();
        for r in with_legacy(
            resources,
            "aws_s3_bucket_server_side_encryption_configuration",
        ) {
            let bucket = bucket_of(r)?;
            let legacy = r.resource_type == "aws_s3_bucket";
            let root = if legacy {
                match r
                    .attr("server_side_encryption_configuration")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                {
                    Some(c) => c,
                    None => continue,
                }
            } else {
                &r.attributes
            };
            let rule = root
                .get("rule")
                .and_then(Value::as_array)
                .and_then(|rules| rules.first())
                .and_then(|rule| rule.get("apply_server_side_encryption_by_default"))
                .and_then(Value::as_array)
                .and_then(|d| d.first())
                .ok_or_else(|| bad(r, "has no `rule.apply_server_side_encryption_by_default`"))?;
            let algorithm = rule
                .get("sse_algorithm")
                .and_then(Value::as_str)
                .unwrap_or("AES256");
            let key = rule
                .get("kms_master_key_id")
                .and_then(Value::as_str)
                .unwrap_or("");
            let by = Declarer::of(r, true);
            let items = sse_items(algorithm, key)
                .into_iter()
                .map(|(attribute, item)| ExpectedItem {
                    attribute,
                    item,
                    by: by.clone(),
                })
                .collect();
            if out
                .insert(
                    bucket.to_string(),
                    object(BUCKET_ENCRYPTION.name, r, bucket, items, by),
                )
                .is_some()
            {
                return Err(bad(r, &format!("manages the encryption of bucket {bucket}, which another resource manages too")));
            }
        }
        Ok(out.into_values().collect())
    }

    fn exposure<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move {
            super::bucket_access::buckets_reach(clouds.aws()?, region, objects).await
        })
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let aws = clouds.aws()?;
            let client = aws.s3(region);
            let mut out = Vec::new();
            for bucket in ids {
                aws.count("s3", "GetBucketEncryption");
                let (algorithm, key) =
                    match client.get_bucket_encryption().bucket(bucket).send().await {
                        Ok(o) => {
                            // S3 always answers a configuration with a default rule; without one
                            // the answer is malformed, not "SSE-S3".
                            let default = o
                                .server_side_encryption_configuration()
                                .and_then(|c| {
                                    c.rules()
                                        .iter()
                                        .find_map(|r| r.apply_server_side_encryption_by_default())
                                })
                                .ok_or_else(|| {
                                    Error::new(
                                        format!("AWS s3 GetBucketEncryption {bucket} in {region}"),
                                        "the answer has no default encryption rule, which S3 \
                                         always returns: malformed answer",
                                    )
                                })?;
                            (
                                default.sse_algorithm().as_str().to_string(),
                                default.kms_master_key_id().unwrap_or_default().to_string(),
                            )
                        }
                        // Every bucket is encrypted with SSE-S3 when nothing else is configured.
                        Err(e)
                            if e.code()
                                == Some("ServerSideEncryptionConfigurationNotFoundError") =>
                        {
                            ("AES256".into(), String::new())
                        }
                        Err(e) if e.code() == Some("NoSuchBucket") => continue,
                        Err(e) => return Err(aws.error("s3", "GetBucketEncryption", region, e)),
                    };
                out.push(LiveObject {
                    cloud_id: bucket.clone(),
                    items: sse_items(&algorithm, &key),
                    is_default: false,
                });
            }
            Ok(out)
        })
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::id("AWS::S3::Bucket", cloud_id)
    }

    /// The bucket item's supplementary `ServerSideEncryptionConfiguration`: its default rule.
    /// An item without it (recorders before default encryption) is left to a direct read.
    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        let recorded =
            with_supplementary(ids, items, "S3 bucket", "ServerSideEncryptionConfiguration")?;
        for (f, conf) in recorded {
            let item = f.item();
            let default = f
                .list(&conf, "rules")?
                .iter()
                .find_map(|r| r.get("applyServerSideEncryptionByDefault"))
                .filter(|d| !d.is_null())
                .ok_or_else(|| f.bad("has an encryption configuration without a default rule"))?;
            let algorithm = f
                .text(default, "sseAlgorithm")
                .ok_or_else(|| f.bad("has a default encryption rule without `sseAlgorithm`"))?;
            let key = f.text(default, "kmsMasterKeyID").unwrap_or_default();
            let obj = LiveObject {
                cloud_id: item.resource_id.clone(),
                items: sse_items(&algorithm, &key),
                is_default: false,
            };
            out.seen(obj, item);
        }
        Ok(out)
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        let strength = |i: &Item| i.value.get("strength").and_then(Value::as_i64).unwrap_or(0);
        match attribute {
            "sse_algorithm" => match strength(actual).cmp(&strength(expected)) {
                std::cmp::Ordering::Less => Effect::Weakens,
                std::cmp::Ordering::Greater => Effect::Strengthens,
                std::cmp::Ordering::Equal => Effect::Unknown,
            },
            _ if actual.key.is_empty() && !expected.key.is_empty() => Effect::Weakens,
            _ if expected.key.is_empty() && !actual.key.is_empty() => Effect::Strengthens,
            _ => Effect::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_downgrades() {
        assert_eq!(
            kms_key_id("arn:aws:kms:us-east-1:1:key/845ab6f1"),
            "845ab6f1"
        );
        assert_eq!(kms_key_id("845ab6f1"), "845ab6f1");
        let kms = sse_items("aws:kms", "arn:aws:kms:us-east-1:1:key/k");
        let s3 = sse_items("AES256", "");
        let f = BucketEncryption;
        assert_eq!(
            f.effect_of_change("sse_algorithm", &kms[0].1, &s3[0].1),
            Effect::Weakens
        );
        assert_eq!(
            f.effect_of_change("sse_algorithm", &s3[0].1, &kms[0].1),
            Effect::Strengthens
        );
        assert_eq!(
            f.effect_of_change("kms_master_key_id", &kms[1].1, &s3[1].1),
            Effect::Weakens
        );
        // The same key by ARN and by id is the same slot content.
        assert_eq!(sse_items("aws:kms", "k")[1].1.key, kms[1].1.key);
    }
}
