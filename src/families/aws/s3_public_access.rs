//! S3 Block Public Access on buckets: `aws_s3_bucket_public_access_block`. Each of the four
//! settings is a slot; turning one off weakens. A bucket whose configuration was deleted (or a
//! deleted bucket) is `missing`: without the block, ACLs and policies can make it public.

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;
use futures::future::BoxFuture;
use serde_json::json;

use super::config_items::{with_supplementary, Fields};
use super::region_account;
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{
    bad, codify_flag, About, Codify, CodifyRequest, ConfigRef, Family, FromConfig, Subject,
};
use crate::model::Reach;
use crate::model::{
    Cloud, ConfigItem, Declarer, Effect, ExpectedItem, ExpectedObject, Facts, Item, LiveObject,
};
use crate::state::Resource;

pub const BUCKET_PUBLIC_ACCESS_BLOCKS: About = About {
    name: "s3_bucket_public_access_block",
    cloud: Cloud::Aws,
    label: "bucket public access block(s)",
    resource_types: &["aws_s3_bucket_public_access_block"],
    batch_size: 1,
};

pub struct BucketPublicAccessBlocks;

pub(super) const SETTINGS: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

/// The four settings of a `GetPublicAccessBlock` answer (bucket or account). S3 always answers all
/// four: an answer without the configuration or one of them is malformed, not "all off" and not
/// "deleted" (only the documented `NoSuchPublicAccessBlockConfiguration` error says that).
pub(super) fn live_settings(
    values: Option<[Option<bool>; 4]>,
    what: &str,
) -> crate::error::Result<Vec<(&'static str, Item)>> {
    let malformed = |missing: &str| {
        crate::error::Error::new(
            what,
            format!("the answer has no `{missing}`, which S3 always returns: malformed answer"),
        )
    };
    let values = values.ok_or_else(|| malformed("PublicAccessBlockConfiguration"))?;
    SETTINGS
        .iter()
        .zip(values)
        .map(|(name, v)| Ok((*name, setting(name, v.ok_or_else(|| malformed(name))?))))
        .collect()
}

/// The four settings as AWS Config records them (`blockPublicAcls`…): all four, or an error.
pub(super) fn settings_from_config(
    f: &Fields,
    v: &serde_json::Value,
) -> Result<Vec<(&'static str, Item)>> {
    const RECORDED: [&str; 4] = [
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ];
    SETTINGS
        .iter()
        .zip(RECORDED)
        .map(|(name, key)| {
            let on = f
                .flag(v, key)?
                .ok_or_else(|| f.bad(&format!("has a public access block without `{key}`")))?;
            Ok((*name, setting(name, on)))
        })
        .collect()
}

pub(super) fn setting(name: &'static str, on: bool) -> Item {
    Item {
        identity: Some(name.to_string()),
        key: on.to_string(),
        value: json!({ name: on }),
        summary: format!("{name} = {on}"),
        // An enabled setting restricts; a disabled one lets public access through.
        facts: Facts {
            grants: !on,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels: vec![],
        },
    }
}

/// The block that gives a bucket all four Block Public Access settings, after the bucket's.
fn codify_added(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    let name = r
        .block
        .labels
        .get(1)
        .map(|l| l.as_str())
        .unwrap_or_default();
    let header = format!("resource \"aws_s3_bucket_public_access_block\" \"{name}\"");
    // Written by an earlier run (the state has not caught up yet).
    if r.text.contains(&header) {
        return Codify::Edits {
            edits: Vec::new(),
            summary: format!("{header} is already declared"),
        };
    }
    let Some(span) = r.block.span() else {
        return Codify::Unsupported;
    };
    let end = r.text[span.end..]
        .find('\n')
        .map_or(r.text.len(), |i| span.end + i + 1);
    let nl = if r.text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let lead = if end == r.text.len() && !r.text.ends_with('\n') {
        format!("{nl}{nl}")
    } else {
        nl.to_string()
    };
    let mut block = format!("{lead}{header} {{{nl}  bucket = aws_s3_bucket.{name}.id{nl}{nl}");
    let width = SETTINGS.iter().map(|s| s.len()).max().unwrap_or(0);
    for setting in SETTINGS {
        block.push_str(&format!("  {setting:<width$} = true{nl}"));
    }
    block.push_str(&format!("}}{nl}"));
    Codify::Edits {
        edits: vec![crate::families::TextEdit {
            range: end..end,
            with: block,
        }],
        summary: format!("add {header} with all four settings on"),
    }
}

impl Family for BucketPublicAccessBlocks {
    /// A bucket the states declare without Block Public Access, where no account-level block
    /// with all four settings on is declared either.
    fn harden_missing(
        &self,
        resources: &[&Resource],
        all: &[&ExpectedObject],
    ) -> Vec<crate::families::Lacking> {
        let covered: std::collections::BTreeSet<&str> = all
            .iter()
            .filter(|o| o.family == BUCKET_PUBLIC_ACCESS_BLOCKS.name)
            .map(|o| o.cloud_id.as_str())
            .collect();
        let account_wide = all.iter().any(|o| {
            o.family == super::s3_account::ACCOUNT_PUBLIC_ACCESS_BLOCKS.name
                && SETTINGS.iter().all(|s| {
                    o.items
                        .iter()
                        .any(|i| i.attribute == *s && i.item.value.get(*s) == Some(&json!(true)))
                })
        });
        if account_wide {
            return Vec::new();
        }
        let mut out = Vec::new();
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "aws_s3_bucket")
        {
            let Some(bucket) = r.attr_str("bucket").or_else(|| r.attr_str("id")) else {
                continue;
            };
            if covered.contains(bucket) {
                continue;
            }
            let mut item = setting("block_public_acls", true);
            item.identity = None;
            item.value = json!({"block_public_acls": true, "block_public_policy": true,
                "ignore_public_acls": true, "restrict_public_buckets": true});
            item.summary = "all four Block Public Access settings on".into();
            let (region, account) = region_account(r);
            out.push(crate::families::Lacking {
                by: Declarer::of(r, false),
                cloud_id: bucket.to_string(),
                region,
                account,
                resource_type: "aws_s3_bucket_public_access_block",
                attribute: "public_access_block",
                item,
            });
        }
        out
    }

    fn harden(
        &self,
        _object: &crate::model::ExpectedObject,
        item: &crate::model::ExpectedItem,
        _admin: Option<&str>,
    ) -> Option<crate::families::Hardened> {
        crate::families::harden_value(
            item,
            &["aws_s3_bucket_public_access_block"],
            &SETTINGS,
            &|v| *v == serde_json::Value::Bool(false),
            serde_json::Value::Bool(true),
        )
    }

    fn about(&self) -> &'static About {
        &BUCKET_PUBLIC_ACCESS_BLOCKS
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = BTreeMap::new();
        for r in resources {
            let bucket = r
                .attr_str("bucket")
                .or_else(|| r.attr_str("id"))
                .ok_or_else(|| bad(r, "has no `bucket`"))?;
            let by = Declarer::of(r, true);
            let mut items = Vec::new();
            for name in SETTINGS {
                let on = r.attr(name).and_then(|v| v.as_bool()).unwrap_or(false);
                items.push(ExpectedItem {
                    attribute: name,
                    item: setting(name, on),
                    by: by.clone(),
                });
            }
            let obj = ExpectedObject {
                family: BUCKET_PUBLIC_ACCESS_BLOCKS.name,
                cloud_id: bucket.to_string(),
                region: region_account(r).0,
                account: None,
                owner: Some(by),
                items,
                tags: BTreeMap::new(),
                is_default: false,
                ignore: Vec::new(),
                tolerated: Vec::new(),
            };
            if out.insert(bucket.to_string(), obj).is_some() {
                return Err(bad(r, &format!("manages the public access block of {bucket}, which another resource manages too")));
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
                aws.count("s3", "GetPublicAccessBlock");
                let conf = match client.get_public_access_block().bucket(bucket).send().await {
                    Ok(o) => o.public_access_block_configuration,
                    Err(e)
                        if matches!(
                            e.code(),
                            Some("NoSuchPublicAccessBlockConfiguration" | "NoSuchBucket")
                        ) =>
                    {
                        continue
                    }
                    Err(e) => return Err(aws.error("s3", "GetPublicAccessBlock", region, e)),
                };
                let what = format!("AWS s3 GetPublicAccessBlock {bucket} in {region}");
                let values = conf.map(|c| {
                    [
                        c.block_public_acls(),
                        c.block_public_policy(),
                        c.ignore_public_acls(),
                        c.restrict_public_buckets(),
                    ]
                });
                let items = live_settings(values, &what)?;
                out.push(LiveObject {
                    cloud_id: bucket.clone(),
                    items,
                    is_default: false,
                });
            }
            Ok(out)
        })
    }

    /// A Block Public Access setting turned on by hand: `= true` in the code.
    fn codify(&self, r: &CodifyRequest) -> Codify {
        match (r.resource_type, r.attribute) {
            ("aws_s3_bucket", Some("public_access_block")) => codify_added(r),
            _ => codify_flag(r, &SETTINGS),
        }
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::id("AWS::S3::Bucket", cloud_id)
    }

    /// The bucket item's supplementary `PublicAccessBlockConfiguration`. An item without it is
    /// left to a direct read: Config leaves it out both when there is no block and when the
    /// recorder predates the setting.
    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        let recorded =
            with_supplementary(ids, items, "S3 bucket", "PublicAccessBlockConfiguration")?;
        for (f, conf) in recorded {
            let obj = LiveObject {
                cloud_id: f.item().resource_id.clone(),
                items: settings_from_config(&f, &conf)?,
                is_default: false,
            };
            out.seen(obj, f.item());
        }
        Ok(out)
    }

    fn effect_of_change(&self, _attribute: &str, expected: &Item, actual: &Item) -> Effect {
        match (expected.key.as_str(), actual.key.as_str()) {
            ("true", "false") => Effect::Weakens,
            ("false", "true") => Effect::Strengthens,
            _ => Effect::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_state() {
        let path = "tests/fixtures/shared/driftctl/state/aws_s3_bucket_public_access_block/terraform.tfstate";
        let (_, resources) = crate::state::parse(path, &std::fs::read(path).unwrap()).unwrap();
        let refs: Vec<&Resource> = resources.iter().collect();
        let objs = BucketPublicAccessBlocks.expected(&refs).unwrap();
        assert_eq!(objs[0].cloud_id, "elie-dev-driftctl");
        let keys: Vec<(&str, &str)> = objs[0]
            .items
            .iter()
            .map(|i| (i.attribute, i.item.key.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("block_public_acls", "true"),
                ("block_public_policy", "true"),
                ("ignore_public_acls", "false"),
                ("restrict_public_buckets", "false")
            ]
        );
        let f = BucketPublicAccessBlocks;
        assert_eq!(
            f.effect_of_change(
                "x",
                &setting("block_public_acls", true),
                &setting("block_public_acls", false)
            ),
            Effect::Weakens
        );
    }
}
