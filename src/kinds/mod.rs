//! Resource families. Each family turns state resources into the *security view* of the live
//! objects they manage ([`ExpectedObject`]), reads the same view from the cloud ([`LiveObject`]),
//! and knows how to judge a change of one item. Everything else (diffing, policy, verdict,
//! reports) is generic over this plain data.
//!
//! A family covers several Terraform types when they manage one live object together: a security
//! group's rules come from the group's inline blocks and from separate rule resources.
//!
//! Adding a resource type: write its file here, list it in [`all`], add its policy entry.

pub mod aws;
pub mod azure;
pub mod gcp;

use std::collections::{BTreeMap, BTreeSet};

use futures::future::BoxFuture;
use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;

use crate::diff::Effect;
use crate::error::Result;
use crate::live::Clouds;
use crate::state::Resource;

/// Every family driftgate can check.
pub fn all() -> Vec<&'static dyn Family> {
    vec![
        &aws::security_group::SecurityGroups,
        &aws::network_acl::NetworkAcls,
        &aws::iam::IamPolicies,
        &aws::iam::IamInlinePolicies,
        &aws::iam_role::IamRoles,
        &aws::iam_principal::IamPrincipals,
        &aws::s3_public_access::BucketPublicAccessBlocks,
        &aws::s3_account::AccountPublicAccessBlocks,
        &aws::s3_bucket::BucketPolicies,
        &aws::s3_bucket::BucketEncryption,
        &aws::s3_acl::BucketAcls,
        &aws::ebs::EbsVolumes,
        &aws::ebs::EbsDefaultKmsKey,
        &aws::kms::KmsKeys,
        &aws::rds::DbInstances,
        &aws::rds::DbClusters,
        &aws::ebs::EbsEncryptionByDefault,
        &azure::network_security_group::NetworkSecurityGroups,
        &azure::storage_account::StorageAccounts,
        &azure::key_vault::KeyVaults,
        &azure::managed_disk::ManagedDisks,
        &azure::role_assignment::RoleAssignments,
        &gcp::firewall::Firewalls,
        &gcp::iam::IamPolicies,
        &gcp::storage_bucket::StorageBuckets,
        &gcp::compute_disk::ComputeDisks,
        &gcp::sql_instance::SqlInstances,
    ]
}

/// The port coverage of a rule, for policies such as "admin ports open to the world".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ports {
    /// Every port (protocol "all").
    All,
    Range(i32, i32),
    /// The protocol has no ports (ICMP, ESP, ...).
    None,
}

impl Ports {
    pub fn includes(&self, port: i32) -> bool {
        match *self {
            Ports::All => true,
            Ports::Range(from, to) => from <= port && port <= to,
            Ports::None => false,
        }
    }
}

/// What policies and risk scoring may ask about one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facts {
    /// The item allows something (an allow rule); false for a deny entry.
    pub grants: bool,
    pub direction: Option<&'static str>,
    /// The port ranges the item covers (an Azure rule may list several); empty: none.
    pub ports: Vec<Ports>,
    /// Canonical CIDRs the item applies to (`0.0.0.0/0` means the whole IPv4 internet).
    pub cidrs: Vec<String>,
    /// Named properties policies can ask for (`full-admin`: allows every action on every resource).
    pub labels: Vec<&'static str>,
}

impl Facts {
    pub fn open_to_internet(&self) -> bool {
        self.cidrs.iter().any(|c| c == "0.0.0.0/0" || c == "::/0")
    }
}

/// One comparable piece of an object's security view: a rule, an ACL entry, one setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Items with the same identity are the same slot (an ACL rule number, a setting's name):
    /// if their keys differ, the slot changed. Items without identity are set members.
    pub identity: Option<String>,
    /// Canonical meaning: equal keys mean equal security effect, whatever the text said.
    pub key: String,
    /// Structured form for the JSON report.
    pub value: Value,
    /// One line for humans: `tcp 22 from 0.0.0.0/0`.
    pub summary: String,
    pub facts: Facts,
}

/// The Terraform resource that declares an item or manages an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Declarer {
    pub address: String,
    pub resource_type: String,
    pub sources: Vec<String>,
    /// The item comes from a block inside the object's own resource (inline rules), not from a
    /// resource of its own. A separate resource is the more precise place to point at.
    pub inline: bool,
    pub sensitive_paths: Vec<String>,
    /// The provider configuration (`provider["registry.terraform.io/hashicorp/aws"].west`): resources
    /// of one configuration share a region, which helps resources that record none.
    pub provider: String,
}

impl Declarer {
    pub fn of(r: &Resource, inline: bool) -> Self {
        Declarer {
            address: r.address.clone(),
            resource_type: r.resource_type.clone(),
            sources: r.sources.clone(),
            inline,
            sensitive_paths: r.sensitive_paths.clone(),
            provider: r.provider.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedItem {
    pub attribute: &'static str,
    pub item: Item,
    pub by: Declarer,
}

/// What the state says one live object should look like.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedObject {
    pub family: &'static str,
    pub cloud_id: String,
    /// From the resource's ARN or `region` attribute; `None` means "the default region".
    pub region: Option<String>,
    /// From the ARN or owner attribute, to refuse reading it with another account's credentials.
    pub account: Option<String>,
    /// The resource that manages the object as a whole. Without one (only rule resources point at
    /// an object managed elsewhere), live items that no resource declares are not ours to judge.
    pub owner: Option<Declarer>,
    pub items: Vec<ExpectedItem>,
    pub tags: BTreeMap<String, String>,
    /// A default object (default security group, default ACL): stricter policies apply.
    pub is_default: bool,
    /// Attributes the state does not record for this object: their live items are not compared
    /// (only what the state knows is drift).
    pub ignore: Vec<&'static str>,
    /// Slots (attribute, identity) that live may have without drift: declared by resources of
    /// another family, which compares them (a role's inline policies declared by
    /// `aws_iam_role_policy`). Their absence is that family's drift, not this one's.
    pub tolerated: Vec<(&'static str, String)>,
}

/// The same view, read from the cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveObject {
    pub cloud_id: String,
    pub items: Vec<(&'static str, Item)>,
    pub is_default: bool,
}

/// Which provider's credentials a family reads with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Azure,
    Gcp,
}

impl Cloud {
    pub fn title(self) -> &'static str {
        match self {
            Cloud::Aws => "AWS",
            Cloud::Azure => "Azure",
            Cloud::Gcp => "Google Cloud",
        }
    }
}

pub trait Family: Send + Sync {
    /// Short stable name (`security_group`), a key in maps and messages.
    fn name(&self) -> &'static str;
    /// The cloud whose API the family reads.
    fn cloud(&self) -> Cloud {
        Cloud::Aws
    }
    /// What the objects are called in progress lines: `security group(s)`.
    fn label(&self) -> &'static str;
    /// The Terraform types this family reads from the state.
    fn resource_types(&self) -> &'static [&'static str];
    /// The security view of every object the given resources (all of this family's types) manage.
    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>>;
    /// How many ids one read may carry.
    fn batch_size(&self) -> usize;
    /// Reads the objects with these ids in one region (Azure and Google Cloud read by full
    /// resource id and take the region for display only). Ids that do not exist are absent from
    /// the result (they are reported as missing); anything that prevents knowing is an error.
    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>>;
    /// The effect of one slot changing from `expected` to `actual`.
    fn effect_of_change(&self, _attribute: &str, _expected: &Item, _actual: &Item) -> Effect {
        Effect::Unknown
    }
}

/// An error about a state resource, naming its address and state files.
pub fn bad(r: &Resource, msg: &str) -> crate::error::Error {
    crate::error::Error::new(
        format!("{} (state {})", r.address, r.sources.join(", ")),
        msg.to_string(),
    )
}

/// `region` and `account` of an ARN such as `arn:aws:ec2:us-east-1:123456789012:security-group/sg-1`.
pub fn arn_region_account(arn: &str) -> Option<(Option<String>, Option<String>)> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let _service = parts.next()?;
    let region = parts.next()?;
    let account = parts.next()?;
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Some((non_empty(region), non_empty(account)))
}

/// `tags` of a resource as plain strings (`tags_all` includes provider default tags).
pub fn tags_of(r: &Resource) -> BTreeMap<String, String> {
    let tags = r.attr("tags_all").or_else(|| r.attr("tags"));
    tags.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

// ---- Normalization shared by every cloud ----

/// Canonical CIDR: host bits cleared, IPv6 compressed and lower-case, so `10.0.0.1/8`,
/// `10.0.0.0/8` and ` 10.0.0.0/8` compare equal, as EC2 stores them.
pub fn cidr(raw: &str) -> std::result::Result<String, String> {
    let net: IpNet = raw
        .trim()
        .parse()
        .map_err(|_| format!("`{raw}` is not a CIDR block"))?;
    Ok(net.trunc().to_string())
}

/// Does `outer` contain every address of `inner`? Both canonical.
pub fn cidr_contains(outer: &str, inner: &str) -> bool {
    match (outer.parse::<IpNet>(), inner.parse::<IpNet>()) {
        (Ok(o), Ok(i)) => o.contains(&i),
        _ => false,
    }
}

/// Integers appear as numbers, and in some old states as strings.
pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A list attribute of strings; `null` and missing are empty; empty strings are skipped
/// (the provider writes `""` for "not set").
pub fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// When separate resources manage an attribute of an object (a direction of a security group or
/// ACL, an NSG's rules, a storage account's network rules, a key vault's access policies), the
/// owner's inline copy in the state is not configuration but the provider's copy of the live
/// items at the last refresh (the attribute is optional and computed). That copy goes stale when a rule
/// resource is destroyed, and it absorbs console rules on the next apply; so for that direction
/// the rule resources alone say what is expected. (Mixing inline blocks and rule resources in one
/// direction is unsupported by the provider, which fights itself on every apply.)
pub fn drop_computed_inline(mut obj: ExpectedObject) -> ExpectedObject {
    let separate: Vec<&'static str> = obj
        .items
        .iter()
        .filter(|i| !i.by.inline)
        .map(|i| i.attribute)
        .collect();
    obj.items
        .retain(|i| !(i.by.inline && separate.contains(&i.attribute)));
    obj
}

/// The first element of a nested block (`settings[0]`), Terraform's shape for single blocks.
pub fn block(v: Option<&Value>) -> Option<&Value> {
    v.and_then(Value::as_array).and_then(|a| a.first())
}

/// One named setting as an item (`min_tls_version = "TLS1_2"`). `weak`: this value lets access
/// through or turns a protection off; [`setting_effect`] judges a change by it.
pub fn setting(name: &str, value: Value, weak: bool) -> Item {
    let key = match &value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Item {
        identity: Some(name.to_string()),
        summary: format!("{name} = {key}"),
        key,
        value: serde_json::json!({ name: value }),
        facts: Facts {
            grants: weak,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels: vec![],
        },
    }
}

/// A list-valued setting (allowed IP ranges, subnet ids) compared as a set; `weak`: the list
/// widens access (an allow-list that applies), so growing it weakens.
pub fn set_setting(name: &str, mut values: Vec<String>, weak: bool) -> Item {
    values.sort();
    values.dedup();
    let mut item = setting(name, serde_json::json!(values), weak);
    item.summary = format!("{name} = [{}]", values.join(", "));
    item
}

/// The effect of a setting changing: to a weak value weakens, from one strengthens. For list
/// settings, a strict superset of an allow-list weakens and a subset strengthens.
pub fn setting_effect(expected: &Item, actual: &Item) -> Effect {
    match (expected.facts.grants, actual.facts.grants) {
        (false, true) => return Effect::Weakens,
        (true, false) => return Effect::Strengthens,
        _ => {}
    }
    let list = |i: &Item| -> Option<BTreeSet<String>> {
        i.value.as_object()?.values().next()?.as_array().map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
    };
    match (list(expected), list(actual)) {
        (Some(e), Some(a)) if expected.facts.grants && a.is_superset(&e) && a != e => {
            Effect::Weakens
        }
        (Some(e), Some(a)) if expected.facts.grants && a.is_subset(&e) && a != e => {
            Effect::Strengthens
        }
        _ => Effect::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        assert_eq!(
            arn_region_account("arn:aws:ec2:eu-west-3:047081014315:security-group/sg-9e0204ff"),
            Some((Some("eu-west-3".into()), Some("047081014315".into())))
        );
        assert_eq!(
            arn_region_account("arn:aws:iam::123456789012:role/x"),
            Some((None, Some("123456789012".into())))
        );
        assert_eq!(arn_region_account("sg-1"), None);
    }

    #[test]
    fn port_coverage() {
        assert!(Ports::All.includes(22));
        assert!(Ports::Range(0, 65535).includes(3389));
        assert!(!Ports::Range(80, 443).includes(22));
        assert!(!Ports::None.includes(22));
    }
}
