//! AWS Config as a live source (`--aws-source config:…`): configuration items by resource id,
//! through an aggregator (every account and region it collects, read in the aggregator's region)
//! or an account's own recorder (per region). A family turns the items into its live view
//! (`Family::live_from_config`); what Config does not hold (never discovered, a type the recorder
//! skips, deleted, or still unprocessed after the retries) comes back as not recorded, for the
//! caller to read directly.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_config::types::{
    AggregateResourceIdentifier, BaseConfigurationItem, ConfigurationItemStatus, ResourceKey,
    ResourceType,
};
use serde_json::Value;

use crate::clients::aws::{AwsContext, AwsSource};
use crate::error::{Error, Result};
use crate::model::ConfigItem;

/// Resource identifiers per BatchGet call (the API's limit).
pub const BATCH: usize = 100;

/// Calls for the identifiers Config leaves unprocessed (throttled inside the batch).
const UNPROCESSED_ATTEMPTS: usize = 5;

/// What Config answered for some ids: the items it holds, and the ids it does not (with why).
#[derive(Debug, Default)]
pub struct Recorded {
    pub items: Vec<ConfigItem>,
    pub missing: Vec<(String, String)>,
}

/// The configuration items of `ids` (Config resource ids) of `resource_type` in `account` and
/// `region`. `aws` is the context of the account's own credentials for `config:local`, the run's
/// (the aggregator's account) for an aggregator.
pub async fn read(
    aws: &AwsContext,
    account: &str,
    region: &str,
    resource_type: &str,
    ids: &[String],
) -> Result<Recorded> {
    let mut recorded = Recorded::default();
    for chunk in ids.chunks(BATCH) {
        let mut pending: Vec<String> = chunk.to_vec();
        let mut delays = backoff();
        for attempt in 1..=UNPROCESSED_ATTEMPTS {
            let (items, unprocessed) = match aws.source() {
                AwsSource::Aggregator(name) => {
                    aggregate(aws, name, account, region, resource_type, &pending).await?
                }
                _ => local(aws, region, resource_type, &pending).await?,
            };
            for item in &items {
                let id = item.resource_id().unwrap_or_default().to_string();
                if !pending.contains(&id) {
                    continue;
                }
                match item.configuration_item_status() {
                    Some(
                        ConfigurationItemStatus::Ok | ConfigurationItemStatus::ResourceDiscovered,
                    ) => recorded
                        .items
                        .push(parse(item, account, region, resource_type)?),
                    other => recorded.missing.push((
                        id,
                        format!(
                            "AWS Config records it as {}",
                            other.map_or("without a status", |s| s.as_str())
                        ),
                    )),
                }
            }
            let answered: Vec<String> = items
                .iter()
                .filter_map(|i| i.resource_id().map(str::to_string))
                .collect();
            let unanswered: Vec<String> = pending
                .iter()
                .filter(|id| !answered.contains(id))
                .cloned()
                .collect();
            // An id neither answered nor unprocessed is one Config has no item of.
            for id in &unanswered {
                if !unprocessed.contains(id) {
                    recorded.missing.push((
                        id.clone(),
                        "AWS Config has no configuration item of it (not discovered, or a type \
                         its recorder skips)"
                            .into(),
                    ));
                }
            }
            pending = unprocessed;
            if pending.is_empty() {
                break;
            }
            if attempt == UNPROCESSED_ATTEMPTS {
                for id in pending.drain(..) {
                    recorded.missing.push((
                        id,
                        format!(
                            "AWS Config left it unprocessed {UNPROCESSED_ATTEMPTS} times (throttled)"
                        ),
                    ));
                }
                break;
            }
            tokio::time::sleep(delays.next().unwrap_or(Duration::from_secs(2))).await;
        }
    }
    Ok(recorded)
}

async fn aggregate(
    aws: &AwsContext,
    aggregator: &str,
    account: &str,
    region: &str,
    resource_type: &str,
    ids: &[String],
) -> Result<(Vec<BaseConfigurationItem>, Vec<String>)> {
    // The aggregator lives in one region, the credentials': every account's items are asked there.
    let home = aws.default_region().unwrap_or_else(|| region.to_string());
    let client = aws.config(&home);
    let identifiers: Vec<AggregateResourceIdentifier> = ids
        .iter()
        .map(|id| {
            AggregateResourceIdentifier::builder()
                .source_account_id(account)
                .source_region(region)
                .resource_id(id)
                .resource_type(ResourceType::from(resource_type))
                .build()
                .map_err(|e| {
                    Error::new("AWS config BatchGetAggregateResourceConfig", e.to_string())
                })
        })
        .collect::<Result<_>>()?;
    aws.count("config", "BatchGetAggregateResourceConfig");
    let out = client
        .batch_get_aggregate_resource_config()
        .configuration_aggregator_name(aggregator)
        .set_resource_identifiers(Some(identifiers))
        .send()
        .await
        .map_err(|e| aws.error("config", "BatchGetAggregateResourceConfig", &home, e))?;
    let unprocessed = out
        .unprocessed_resource_identifiers()
        .iter()
        .map(|u| u.resource_id().to_string())
        .collect();
    Ok((out.base_configuration_items().to_vec(), unprocessed))
}

async fn local(
    aws: &AwsContext,
    region: &str,
    resource_type: &str,
    ids: &[String],
) -> Result<(Vec<BaseConfigurationItem>, Vec<String>)> {
    let client = aws.config(region);
    let keys: Vec<ResourceKey> = ids
        .iter()
        .map(|id| {
            ResourceKey::builder()
                .resource_type(ResourceType::from(resource_type))
                .resource_id(id)
                .build()
                .map_err(|e| Error::new("AWS config BatchGetResourceConfig", e.to_string()))
        })
        .collect::<Result<_>>()?;
    aws.count("config", "BatchGetResourceConfig");
    let out = client
        .batch_get_resource_config()
        .set_resource_keys(Some(keys))
        .send()
        .await
        .map_err(|e| aws.error("config", "BatchGetResourceConfig", region, e))?;
    let unprocessed = out
        .unprocessed_resource_keys()
        .iter()
        .map(|k| k.resource_id().to_string())
        .collect();
    Ok((out.base_configuration_items().to_vec(), unprocessed))
}

/// One item as plain data. `configuration` must be JSON (it is the object itself); a
/// supplementary value is parsed where it is JSON (Config sends most of them as JSON strings).
fn parse(
    item: &BaseConfigurationItem,
    account: &str,
    region: &str,
    resource_type: &str,
) -> Result<ConfigItem> {
    let id = item.resource_id().unwrap_or_default().to_string();
    let what = || format!("AWS Config item of {resource_type} {id} ({account}, {region})");
    let configuration = match item.configuration() {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| Error::new(what(), format!("its `configuration` is not JSON: {e}")))?,
        None => return Err(Error::new(what(), "it has no `configuration`")),
    };
    let captured_at = item
        .configuration_item_capture_time()
        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
        .ok_or_else(|| Error::new(what(), "it has no `configurationItemCaptureTime`"))?;
    let supplementary: BTreeMap<String, Value> = item
        .supplementary_configuration()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.clone()));
            (k.clone(), value)
        })
        .collect();
    Ok(ConfigItem {
        account: item.account_id().unwrap_or(account).to_string(),
        region: item.aws_region().unwrap_or(region).to_string(),
        resource_type: resource_type.to_string(),
        resource_id: id,
        resource_name: item.resource_name().map(str::to_string),
        captured_at,
        configuration,
        supplementary,
    })
}

/// Delays between calls for unprocessed identifiers: 0.5 s, 1 s, 2 s… with jitter.
fn backoff() -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(500))
        .with_factor(2.0)
        .with_max_delay(Duration::from_secs(8))
        .with_max_times(UNPROCESSED_ATTEMPTS)
        .with_jitter()
        .build()
}

/// Reading one item's `configuration` into an SDK shape: its fields by name, and errors that
/// name the item. A field of the wrong type is an error, never a missing rule.
pub struct Fields<'a> {
    item: &'a ConfigItem,
    label: &'static str,
}

impl<'a> Fields<'a> {
    /// `label`: what the item is, in errors ("security group").
    pub fn of(item: &'a ConfigItem, label: &'static str) -> Self {
        Fields { item, label }
    }

    pub fn root(&self) -> &'a Value {
        &self.item.configuration
    }

    pub fn bad(&self, what: &str) -> Error {
        Error::new(
            format!(
                "AWS Config item of {} {} ({}, {})",
                self.label, self.item.resource_id, self.item.account, self.item.region
            ),
            format!("its configuration {what}"),
        )
    }

    pub fn text(&self, v: &Value, k: &str) -> Option<String> {
        v.get(k).and_then(Value::as_str).map(str::to_string)
    }

    /// A list field; absent or null is empty.
    pub fn list(&self, v: &'a Value, k: &str) -> Result<&'a [Value]> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(self.bad(&format!("has a `{k}` that is not a list"))),
        }
    }

    pub fn int(&self, v: &Value, k: &str) -> Result<Option<i32>> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(n) => n
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.bad(&format!("has a `{k}` that is not a whole number"))),
        }
    }

    pub fn flag(&self, v: &Value, k: &str) -> Result<Option<bool>> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.bad(&format!("has a `{k}` that is not true or false"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::{all, Family};

    fn recorded(rel: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/shared/aws_config_items/{rel}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// A recorded item as `parse` leaves it: `configuration` parsed, supplementary values parsed
    /// where they are JSON.
    fn item(ci: &Value, resource_type: &str) -> ConfigItem {
        let configuration = match &ci["configuration"] {
            Value::String(s) => serde_json::from_str(s).unwrap(),
            v => v.clone(),
        };
        let supplementary = ci["supplementaryConfiguration"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => serde_json::from_str(s).unwrap_or(v.clone()),
                    v => v.clone(),
                };
                (k.clone(), v)
            })
            .collect();
        ConfigItem {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            resource_type: resource_type.into(),
            resource_id: ci["resourceId"].as_str().unwrap_or_default().into(),
            resource_name: None,
            captured_at: "2026-12-02T09:30:00Z".into(),
            configuration,
            supplementary,
        }
    }

    fn family(config_type: &str) -> &'static dyn Family {
        all()
            .into_iter()
            .find(|f| f.config_type() == Some(config_type))
            .unwrap()
    }

    fn summaries(family: &dyn Family, item: &ConfigItem) -> Vec<String> {
        let objs = family.live_from_config(std::slice::from_ref(item)).unwrap();
        assert_eq!(objs.len(), 1, "{objs:?}");
        assert_eq!(objs[0].cloud_id, item.resource_id);
        objs[0]
            .items
            .iter()
            .map(|(a, i)| format!("{a}: {}", i.summary))
            .collect()
    }

    #[test]
    fn recorded_items_give_the_live_view() {
        // A security group: `ipRanges` repeats `ipv4Ranges` and is not a second rule.
        let event = recorded("sg_config_rule_invocation_event.json");
        let invoking: Value =
            serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
        let sg = item(&invoking["configurationItem"], "AWS::EC2::SecurityGroup");
        assert_eq!(
            summaries(family("AWS::EC2::SecurityGroup"), &sg),
            [
                "ingress: tcp port 22 from 0.0.0.0/0",
                "egress: all traffic to 0.0.0.0/0"
            ]
        );
        // A default network ACL: the implicit 32767 entries are not rules of the state.
        let acl = item(
            &recorded("rdk_example_ci_AWS_EC2_NetworkAcl.json"),
            "AWS::EC2::NetworkAcl",
        );
        let objs = family("AWS::EC2::NetworkAcl")
            .live_from_config(std::slice::from_ref(&acl))
            .unwrap();
        assert!(objs[0].is_default);
        assert_eq!(objs[0].items.len(), 2, "{:?}", objs[0].items);
        // A volume: encrypted, with the default key.
        let history = recorded("ebs_volume_GetResourceConfigHistory.json");
        let volume = item(
            &history["data"]["configurationItems"][1],
            "AWS::EC2::Volume",
        );
        let got = summaries(family("AWS::EC2::Volume"), &volume);
        assert!(got.iter().any(|s| s.contains("true")), "{got:?}");
        // A KMS key: its policy and rotation from the supplementary configuration.
        let select = recorded("kms_key_SelectResourceConfig.json");
        let results = select["data"]["Results"]
            .as_array()
            .or(select["Results"].as_array())
            .unwrap();
        let key: Value = serde_json::from_str(results[0].as_str().unwrap()).unwrap();
        let key = item(&key, "AWS::KMS::Key");
        let got = summaries(family("AWS::KMS::Key"), &key);
        assert!(
            got.contains(&"enable_key_rotation: enable_key_rotation = false".to_string()),
            "{got:?}"
        );
        assert!(got.iter().any(|s| s.starts_with("policy")), "{got:?}");
        // Without the supplementary configuration the key is left to a direct read.
        let mut bare = key.clone();
        bare.supplementary.clear();
        assert!(family("AWS::KMS::Key")
            .live_from_config(&[bare])
            .unwrap()
            .is_empty());
        // A field of the wrong type is an error naming the item, not a rule less.
        let mut broken = sg.clone();
        broken.configuration["ipPermissions"] = Value::String("22".into());
        let e = family("AWS::EC2::SecurityGroup")
            .live_from_config(&[broken])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("AWS Config item of security group sg-e2fb6999")
                && e.contains("`ipPermissions` that is not a list"),
            "{e}"
        );
    }
}
