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
