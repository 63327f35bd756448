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

/// Where Config keeps the items of resources it names by something the state may not know (an
/// IAM role's `AROA…` id): by resource name, the id and the region of its item.
#[derive(Debug, Default)]
pub struct Resolved {
    /// (name, resource id, region of the item)
    pub found: Vec<(String, String, String)>,
    pub missing: Vec<(String, String)>,
}

/// The longest expression Select accepts, with room for the quotes and commas of one more name.
const EXPRESSION_MAX: usize = 4096 - 200;

/// The resource ids of the items named `names` of `resource_type` in `account` (in `region`, or
/// wherever Config records a global type such as IAM's: `global`, or a region under older
/// recorders), through one advanced query per 100 names (`SelectAggregateResourceConfig` or
/// `SelectResourceConfig`): cheaper than listing every item of the type.
pub async fn resolve(
    aws: &AwsContext,
    account: &str,
    region: &str,
    resource_type: &str,
    names: &[String],
) -> Result<Resolved> {
    let mut resolved = Resolved::default();
    // IAM and Config names hold no quotes; one that does cannot be asked, so it is not found.
    let (names, odd): (Vec<&String>, Vec<&String>) = names
        .iter()
        .partition(|n| !n.contains(['\'', '\\']) && !n.is_empty());
    for n in odd {
        resolved.missing.push((
            n.clone(),
            "its name cannot be asked of AWS Config's advanced query".into(),
        ));
    }
    let head = format!(
        "SELECT resourceId, resourceName, awsRegion WHERE resourceType = '{resource_type}' AND \
         accountId = '{account}'{} AND resourceName IN (",
        if global(resource_type) {
            String::new()
        } else {
            format!(" AND awsRegion = '{region}'")
        }
    );
    let mut chunks: Vec<Vec<&String>> = Vec::new();
    let mut length = head.len();
    for name in names {
        match chunks.last_mut() {
            Some(chunk) if chunk.len() < BATCH && length + name.len() + 4 < EXPRESSION_MAX => {
                chunk.push(name);
                length += name.len() + 4;
            }
            _ => {
                chunks.push(vec![name]);
                length = head.len() + name.len() + 4;
            }
        }
    }
    let home = aws.default_region().unwrap_or_else(|| region.to_string());
    for chunk in chunks {
        let list: Vec<String> = chunk.iter().map(|n| format!("'{n}'")).collect();
        let expression = format!("{head}{})", list.join(", "));
        let rows = select(aws, &home, region, &expression).await?;
        let mut seen: BTreeMap<String, (String, String)> = BTreeMap::new();
        for row in rows {
            let what = || {
                Error::new(
                    format!("AWS config advanced query of {resource_type} in account {account}"),
                    format!("a result row is not an item's id, name and region: {row}"),
                )
            };
            let v: Value = serde_json::from_str(&row).map_err(|_| what())?;
            let (Some(id), Some(name), Some(at)) = (
                v["resourceId"].as_str(),
                v["resourceName"].as_str(),
                v["awsRegion"].as_str(),
            ) else {
                return Err(what());
            };
            // Older recorders keep a global resource in every region they run in: one is enough,
            // `global` where there is one.
            let keep = seen.get(name).is_none_or(|(_, r)| r != "global");
            if keep {
                seen.insert(name.to_string(), (id.to_string(), at.to_string()));
            }
        }
        for name in chunk {
            match seen.remove(name.as_str()) {
                Some((id, at)) => resolved.found.push((name.clone(), id, at)),
                None => resolved.missing.push((
                    name.clone(),
                    "AWS Config has no configuration item of it (not discovered, or a type its \
                     recorder skips)"
                        .into(),
                )),
            }
        }
    }
    Ok(resolved)
}

/// IAM's types are global: their items are not in the region the objects are read through.
fn global(resource_type: &str) -> bool {
    resource_type.starts_with("AWS::IAM::")
}

/// Every result row of an advanced query, through the aggregator or the account's recorder.
async fn select(
    aws: &AwsContext,
    home: &str,
    region: &str,
    expression: &str,
) -> Result<Vec<String>> {
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (page, next) = match aws.source() {
            AwsSource::Aggregator(name) => {
                aws.count("config", "SelectAggregateResourceConfig");
                let out = aws
                    .config(home)
                    .select_aggregate_resource_config()
                    .configuration_aggregator_name(name)
                    .expression(expression)
                    .limit(100)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| aws.error("config", "SelectAggregateResourceConfig", home, e))?;
                (out.results().to_vec(), out.next_token().map(str::to_string))
            }
            _ => {
                aws.count("config", "SelectResourceConfig");
                let out = aws
                    .config(region)
                    .select_resource_config()
                    .expression(expression)
                    .limit(100)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| aws.error("config", "SelectResourceConfig", region, e))?;
                (out.results().to_vec(), out.next_token().map(str::to_string))
            }
        };
        rows.extend(page);
        match next.filter(|t| !t.is_empty()) {
            Some(t) if Some(&t) != token.as_ref() => token = Some(t),
            _ => return Ok(rows),
        }
    }
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

/// The items of `ids` that hold the supplementary value `key`, with it parsed: what one bucket
/// family reads of each bucket's item. Items without it are left out (read directly).
pub fn with_supplementary<'a>(
    ids: &[String],
    items: &'a [ConfigItem],
    label: &'static str,
    key: &str,
) -> Result<Vec<(Fields<'a>, Value)>> {
    let mut out = Vec::new();
    for item in items.iter().filter(|i| ids.contains(&i.resource_id)) {
        let f = Fields::of(item, label);
        if let Some(v) = f.supplementary(key)? {
            out.push((f, v));
        }
    }
    Ok(out)
}

impl<'a> Fields<'a> {
    /// The item these fields are read from.
    pub fn item(&self) -> &'a ConfigItem {
        self.item
    }

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

    /// A supplementary configuration value as JSON (some, like a bucket's `AccessControlList`,
    /// are JSON encoded twice); `None` when the item does not have it.
    pub fn supplementary(&self, key: &str) -> Result<Option<Value>> {
        match self.item.supplementary.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| {
                Error::new(
                    format!(
                        "AWS Config item of {} {} ({}, {})",
                        self.label, self.item.resource_id, self.item.account, self.item.region
                    ),
                    format!("its supplementary `{key}` is not JSON"),
                )
            }),
            Some(v) => Ok(Some(v.clone())),
        }
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
    use crate::families::{all, Family, FromConfig};
    use serde_json::json;

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
            .find(|f| f.config_ref("x").map(|r| r.resource_type) == Some(config_type))
            .unwrap()
    }

    /// The view of the object `id` from `item`.
    fn view(family: &dyn Family, id: &str, item: &ConfigItem) -> FromConfig {
        family
            .live_from_config(&[id.to_string()], std::slice::from_ref(item))
            .unwrap()
    }

    fn summaries(family: &dyn Family, item: &ConfigItem) -> Vec<String> {
        summaries_of(family, &item.resource_id, item)
    }

    fn summaries_of(family: &dyn Family, id: &str, item: &ConfigItem) -> Vec<String> {
        let view = view(family, id, item);
        let objs = view.objects;
        assert_eq!(objs.len(), 1, "{objs:?}");
        assert_eq!(objs[0].cloud_id, id);
        assert_eq!(view.captured[id], item.captured_at);
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
        let objs = view(family("AWS::EC2::NetworkAcl"), &acl.resource_id, &acl).objects;
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
        let left = view(family("AWS::KMS::Key"), &key.resource_id, &bare);
        assert!(left.objects.is_empty() && left.absent.is_empty());
        // A field of the wrong type is an error naming the item, not a rule less.
        let mut broken = sg.clone();
        broken.configuration["ipPermissions"] = Value::String("22".into());
        let e = family("AWS::EC2::SecurityGroup")
            .live_from_config(std::slice::from_ref(&sg.resource_id), &[broken])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("AWS Config item of security group sg-e2fb6999")
                && e.contains("`ipPermissions` that is not a list"),
            "{e}"
        );
    }

    #[test]
    fn recorded_iam_rds_and_bucket_items_give_the_live_view() {
        // A role by name (its item's id is the `AROA…` one), trust policy URL-encoded.
        let select = recorded("iam_role_SelectResourceConfig.json");
        let row: Value =
            serde_json::from_str(select["data"]["Results"][0].as_str().unwrap()).unwrap();
        let mut role = item(&row, "AWS::IAM::Role");
        role.resource_name = Some("custodian-testing".into());
        let roles = family("AWS::IAM::Role");
        assert_eq!(
            roles.config_ref("custodian-testing").unwrap().key,
            crate::families::ConfigKey::Name("custodian-testing".into())
        );
        let got = summaries_of(roles, "custodian-testing", &role);
        assert!(
            got.iter()
                .any(|s| s.starts_with("assume_role_policy") && s.contains("lambda.amazonaws.com")),
            "{got:?}"
        );
        assert!(
            got.iter().any(|s| s.starts_with("managed_policy")
                && s.contains("arn:aws:iam::644160558196:policy/DeleteMe")),
            "{got:?}"
        );
        // An id the batch did not ask for is not an object of it.
        assert!(view(roles, "someone-else", &role).objects.is_empty());
        // A managed policy: its default version's document.
        let policy = item(
            &recorded("rdk_example_ci_AWS_IAM_Policy.json"),
            "AWS::IAM::Policy",
        );
        let arn = "arn:aws:iam::264683526309:policy/ELB-policy";
        let policies = family("AWS::IAM::Policy");
        assert_eq!(
            policies.config_ref(arn).unwrap().key,
            crate::families::ConfigKey::Name("ELB-policy".into())
        );
        let got = summaries_of(policies, arn, &policy);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("elasticloadbalancing:describe*"), "{got:?}");
        // An RDS instance by its identifier: public, unencrypted, one group.
        let event = recorded("rds_dbinstance_config_rule_event.json");
        let invoking: Value =
            serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
        let mut db = item(&invoking["configurationItem"], "AWS::RDS::DBInstance");
        db.resource_name = Some("c7n-data-index".into());
        let got = summaries_of(family("AWS::RDS::DBInstance"), "c7n-data-index", &db);
        for want in [
            "publicly_accessible = true",
            "storage_encrypted = false",
            "sg-837620f1",
        ] {
            assert!(got.iter().any(|s| s.contains(want)), "{want}: {got:?}");
        }
        // A bucket of an older recorder: no policy (recorded as null) is a policy gone; the ACL
        // is the owner's alone; Block Public Access and encryption are not recorded, so they are
        // left to a direct read.
        let bucket = item(&recorded("s3_bucket_ci.json"), "AWS::S3::Bucket");
        let name = "config-rule-sanity";
        let policy = view(&super::super::s3_bucket::BucketPolicies, name, &bucket);
        assert!(policy.objects.is_empty());
        assert_eq!(policy.absent, [name]);
        assert_eq!(policy.captured[name], bucket.captured_at);
        let acl = view(&super::super::s3_acl::BucketAcls, name, &bucket);
        assert_eq!(acl.objects.len(), 1);
        assert!(
            acl.objects[0].items.is_empty(),
            "{:?}",
            acl.objects[0].items
        );
        for left in [
            view(
                &super::super::s3_public_access::BucketPublicAccessBlocks,
                name,
                &bucket,
            ),
            view(&super::super::s3_bucket::BucketEncryption, name, &bucket),
        ] {
            assert!(left.objects.is_empty() && left.absent.is_empty());
        }
        // A public grant in Config's names is the public grant the API shows.
        let mut public = bucket.clone();
        public.supplementary.insert(
            "AccessControlList".into(),
            Value::String(
                json!({"grantList": [{"grantee": "AllUsers", "permission": "Read"}],
                       "owner": {"id": "o"}})
                .to_string(),
            ),
        );
        let acl = view(&super::super::s3_acl::BucketAcls, name, &public);
        assert_eq!(acl.objects[0].items[0].1.facts.labels, ["public"]);
        assert_eq!(
            acl.objects[0].items[0].1.key,
            "uri:http://acs.amazonaws.com/groups/global/AllUsers|READ"
        );
        // A grantee shape not known here is not guessed at.
        public.supplementary.insert(
            "AccessControlList".into(),
            json!({"grantList": [{"grantee": {"type": "x"}, "permission": "Read"}]}),
        );
        let acl = view(&super::super::s3_acl::BucketAcls, name, &public);
        assert!(acl.objects.is_empty() && acl.absent.is_empty());
    }
}
