//! S3 Block Public Access for the whole account: `aws_s3_account_public_access_block`, read through
//! S3 Control. The same four settings as a bucket's; turning one off weakens every bucket.

use std::collections::BTreeMap;

use aws_sdk_s3control::error::ProvideErrorMetadata;
use futures::future::BoxFuture;

use super::config_items::Fields;
use super::s3_public_access::{setting, SETTINGS};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{
    bad, codify_flag, About, Codify, CodifyRequest, ConfigRef, Family, FromConfig,
};
use crate::model::{
    Cloud, ConfigItem, Declarer, Effect, ExpectedItem, ExpectedObject, Item, LiveObject,
};
use crate::state::Resource;

pub const ACCOUNT_PUBLIC_ACCESS_BLOCKS: About = About {
    name: "s3_account_public_access_block",
    cloud: Cloud::Aws,
    label: "account public access block(s)",
    resource_types: &["aws_s3_account_public_access_block"],
    batch_size: 1,
};

pub struct AccountPublicAccessBlocks;

impl Family for AccountPublicAccessBlocks {
    fn harden(
        &self,
        _object: &crate::model::ExpectedObject,
        item: &crate::model::ExpectedItem,
        _admin: Option<&str>,
    ) -> Option<crate::families::Hardened> {
        crate::families::harden_value(
            item,
            &["aws_s3_account_public_access_block"],
            &SETTINGS,
            &|v| *v == serde_json::Value::Bool(false),
            serde_json::Value::Bool(true),
        )
    }

    fn about(&self) -> &'static About {
        &ACCOUNT_PUBLIC_ACCESS_BLOCKS
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = BTreeMap::new();
        for r in resources {
            let account = r
                .attr_str("account_id")
                .or_else(|| r.attr_str("id"))
                .ok_or_else(|| bad(r, "has no `account_id`"))?;
            let by = Declarer::of(r, true);
            let items = SETTINGS
                .iter()
                .map(|name| ExpectedItem {
                    attribute: name,
                    item: setting(
                        name,
                        r.attr(name).and_then(|v| v.as_bool()).unwrap_or(false),
                    ),
                    by: by.clone(),
                })
                .collect();
            let obj = ExpectedObject {
                family: ACCOUNT_PUBLIC_ACCESS_BLOCKS.name,
                cloud_id: account.to_string(),
                region: super::region_account(r).0,
                account: Some(account.to_string()),
                owner: Some(by),
                items,
                tags: BTreeMap::new(),
                is_default: false,
                ignore: Vec::new(),
                tolerated: Vec::new(),
            };
            if out.insert(account.to_string(), obj).is_some() {
                return Err(bad(r, &format!("manages the public access block of account {account}, which another resource manages too")));
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
            let client = aws.s3control(region);
            let mut out = Vec::new();
            for account in ids {
                aws.count("s3control", "GetPublicAccessBlock");
                let conf = match client
                    .get_public_access_block()
                    .account_id(account)
                    .send()
                    .await
                {
                    Ok(o) => o.public_access_block_configuration,
                    Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => continue,
                    Err(e) => {
                        return Err(aws.error("s3control", "GetPublicAccessBlock", region, e))
                    }
                };
                let values = conf.map(|c| {
                    [
                        c.block_public_acls(),
                        c.block_public_policy(),
                        c.ignore_public_acls(),
                        c.restrict_public_buckets(),
                    ]
                });
                let what = format!("AWS s3control GetPublicAccessBlock {account} in {region}");
                let items = super::s3_public_access::live_settings(values, &what)?;
                out.push(LiveObject {
                    cloud_id: account.clone(),
                    items,
                    is_default: false,
                });
            }
            Ok(out)
        })
    }

    /// A setting turned on by hand for the whole account: `= true` in the code.
    fn codify(&self, r: &CodifyRequest) -> Codify {
        codify_flag(r, &SETTINGS)
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::id("AWS::S3::AccountPublicAccessBlock", cloud_id)
    }

    /// `AWS::S3::AccountPublicAccessBlock`: the four settings are the item's `configuration`.
    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for item in items.iter().filter(|i| ids.contains(&i.resource_id)) {
            let f = Fields::of(item, "account public access block");
            let obj = LiveObject {
                cloud_id: item.resource_id.clone(),
                items: super::s3_public_access::settings_from_config(&f, f.root())?,
                is_default: false,
            };
            out.seen(obj, item);
        }
        Ok(out)
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        super::s3_public_access::BucketPublicAccessBlocks
            .effect_of_change(attribute, expected, actual)
    }
}
