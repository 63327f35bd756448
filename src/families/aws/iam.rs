//! IAM policy documents: `aws_iam_policy` (the document of the policy's default version) and
//! the inline policies of roles, users and groups (`aws_iam_role_policy`, `aws_iam_user_policy`,
//! `aws_iam_group_policy`). Each document is a set of canonical statements
//! (see `policy_document`): an added allow statement weakens, a removed one strengthens.
//!
//! IAM is global within a partition: objects are read through the partition's first region
//! (us-east-1 for `aws`, from the ARN when there is one). IAM has no batch reads, so each object
//! is one small batch and the bound on concurrent reads keeps within IAM's throttling.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::Value;

use super::iam_entities;
use super::policy_document::{statements, Statement};
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{arn_region_account, bad, tags_of, About, ConfigRef, Family, FromConfig};
use crate::model::{
    Cloud, ConfigItem, Declarer, ExpectedItem, ExpectedObject, Facts, Item, LiveObject,
};
use crate::state::Resource;

pub const IAM_POLICIES: About = About {
    name: "iam_policy",
    cloud: Cloud::Aws,
    label: "IAM policy(ies)",
    resource_types: &["aws_iam_policy"],
    // Every policy at once: the reads choose between a listing and per-policy calls.
    batch_size: usize::MAX,
};

pub const IAM_INLINE_POLICIES: About = About {
    name: "iam_inline_policy",
    cloud: Cloud::Aws,
    label: "inline policy(ies)",
    resource_types: &[
        "aws_iam_role_policy",
        "aws_iam_user_policy",
        "aws_iam_group_policy",
    ],
    batch_size: usize::MAX,
};

pub struct IamPolicies;
/// Inline policies of roles, users and groups.
pub struct IamInlinePolicies;

/// One policy statement as a comparable item (`full-admin` when it allows `*` on `*`).
pub(super) fn statement_item(s: Statement) -> Item {
    let v = &s.value;
    let has_star = |k: &str| {
        v.get(k)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == "*"))
    };
    let mut labels = Vec::new();
    if s.allow && has_star("Action") && has_star("Resource") {
        labels.push("full-admin");
    }
    // Anyone (or any AWS account) without a condition narrowing it down.
    let public = v
        .get("Principal")
        .and_then(Value::as_object)
        .is_some_and(|p| {
            p.iter().any(|(k, ids)| {
                (k == "*" || k == "AWS")
                    && ids.as_array().is_some_and(|a| a.iter().any(|x| x == "*"))
            })
        });
    if s.allow && public && v.get("Condition").is_none() {
        labels.push("public");
    }
    Item {
        identity: None,
        key: s.key,
        value: s.value,
        summary: s.summary,
        facts: Facts {
            grants: s.allow,
            direction: None,
            ports: vec![],
            cidrs: Vec::new(),
            labels,
        },
    }
}

/// The first region of the ARN's partition: IAM's endpoint lives there.
pub(super) fn iam_region(arn: Option<&str>) -> String {
    match arn.and_then(|a| a.split(':').nth(1)) {
        Some("aws-cn") => "cn-north-1".into(),
        Some("aws-us-gov") => "us-gov-west-1".into(),
        _ => "us-east-1".into(),
    }
}

fn document_items(r: &Resource, by: &Declarer) -> Result<Vec<ExpectedItem>> {
    let doc = r.attr("policy").ok_or_else(|| bad(r, "has no `policy`"))?;
    Ok(statements(doc)
        .map_err(|e| bad(r, &format!("policy: {e}")))?
        .into_iter()
        .map(|s| ExpectedItem {
            attribute: "policy",
            item: statement_item(s),
            by: by.clone(),
        })
        .collect())
}

fn live_document(id: &str, doc: &str) -> Result<Vec<(&'static str, Item)>> {
    let st = statements(&Value::String(doc.to_string())).map_err(|e| {
        Error::new(
            format!("AWS IAM {id}"),
            format!("unexpected policy document from IAM: {e}"),
        )
    })?;
    Ok(st
        .into_iter()
        .map(|s| ("policy", statement_item(s)))
        .collect())
}

impl Family for IamPolicies {
    /// A statement revoked live leaves the document where the code writes it.
    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        match (r.resource_type, r.attribute) {
            ("aws_iam_policy" | super::policy_code::DATA, Some("policy")) => {
                super::policy_code::codify_statement(r, "policy")
            }
            _ => crate::families::Codify::Unsupported,
        }
    }

    fn about(&self) -> &'static About {
        &IAM_POLICIES
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = BTreeMap::new();
        for r in resources {
            let arn = r
                .attr_str("arn")
                .or_else(|| r.attr_str("id"))
                .ok_or_else(|| bad(r, "has no `arn`"))?;
            let by = Declarer::of(r, true);
            let account = arn_region_account(arn).and_then(|(_, a)| a);
            let obj = ExpectedObject {
                family: IAM_POLICIES.name,
                cloud_id: arn.to_string(),
                region: Some(iam_region(Some(arn))),
                account,
                owner: Some(by.clone()),
                items: document_items(r, &by)?,
                tags: tags_of(r),
                is_default: false,
                ignore: Vec::new(),
                tolerated: Vec::new(),
            };
            if out.insert(arn.to_string(), obj).is_some() {
                return Err(bad(
                    r,
                    &format!("manages IAM policy {arn}, which another resource manages too"),
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
            let mut out = Vec::new();
            for (arn, doc) in iam_entities::policies(aws, region, ids).await? {
                out.push(LiveObject {
                    items: live_document(&arn, &doc)?,
                    cloud_id: arn,
                    is_default: false,
                });
            }
            Ok(out)
        })
    }

    /// Found by name: a policy's name is unique in its account, whatever its path.
    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        let name = cloud_id.rsplit('/').next().filter(|n| !n.is_empty())?;
        ConfigRef::name("AWS::IAM::Policy", name)
    }

    /// `AWS::IAM::Policy`: the default version's document in `policyVersionList`.
    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for item in items {
            let (arn, doc) = iam_entities::policy_from_config(item)?;
            if ids.contains(&arn) {
                let obj = LiveObject {
                    items: live_document(&arn, &doc)?,
                    cloud_id: arn,
                    is_default: false,
                };
                out.seen(obj, item);
            }
        }
        Ok(out)
    }
}

/// The principal kinds that have inline policies, with their resource type and the attribute
/// that names the principal.
const INLINE: [(&str, &str, &str); 3] = [
    ("role", "aws_iam_role_policy", "role"),
    ("user", "aws_iam_user_policy", "user"),
    ("group", "aws_iam_group_policy", "group"),
];

impl Family for IamInlinePolicies {
    /// A statement revoked live leaves the document where the code writes it.
    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        match r.attribute {
            Some("policy") => super::policy_code::codify_statement(r, "policy"),
            _ => crate::families::Codify::Unsupported,
        }
    }

    fn about(&self) -> &'static About {
        &IAM_INLINE_POLICIES
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = BTreeMap::new();
        for r in resources {
            let (kind, _, field) = INLINE
                .iter()
                .find(|(_, t, _)| *t == r.resource_type)
                .ok_or_else(|| bad(r, "unexpected type"))?;
            let principal = r
                .attr_str(field)
                .ok_or_else(|| bad(r, &format!("has no `{field}`")))?;
            let name = r.attr_str("name").ok_or_else(|| bad(r, "has no `name`"))?;
            // `role/app:jobs`: IAM names cannot contain ':' or '/'.
            let id = format!("{kind}/{principal}:{name}");
            let by = Declarer::of(r, true);
            let obj = ExpectedObject {
                family: IAM_INLINE_POLICIES.name,
                cloud_id: id.clone(),
                region: Some(iam_region(None)),
                account: None,
                owner: Some(by.clone()),
                items: document_items(r, &by)?,
                tags: BTreeMap::new(),
                is_default: false,
                ignore: Vec::new(),
                tolerated: Vec::new(),
            };
            if out.insert(id.clone(), obj).is_some() {
                return Err(bad(
                    r,
                    &format!("manages the inline policy {id}, which another resource manages too"),
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
            let mut out = Vec::new();
            for (id, doc) in iam_entities::inline_policies(aws, region, ids).await? {
                out.push(LiveObject {
                    items: live_document(&id, &doc)?,
                    cloud_id: id,
                    is_default: false,
                });
            }
            Ok(out)
        })
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        iam_entities::config_ref_of_principal(cloud_id)
    }

    /// From the item of the policy's role, user or group: its `…PolicyList`. A principal
    /// recorded without the policy shows that the policy is gone.
    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for item in items {
            let Some(kind) = iam_entities::kind_of_item(item) else {
                continue;
            };
            let r = iam_entities::from_config(item, kind)?;
            for id in ids {
                let Some((k, principal, Some(name))) = iam_entities::parse_id(id) else {
                    continue;
                };
                if k != kind || principal != r.name {
                    continue;
                }
                match r.inline.iter().find(|(n, _)| n == name) {
                    Some((_, doc)) => {
                        let obj = LiveObject {
                            items: live_document(id, doc)?,
                            cloud_id: id.clone(),
                            is_default: false,
                        };
                        out.seen(obj, item);
                    }
                    None => out.gone(id, item),
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fixture_states_and_admin_label() {
        for path in [
            "tests/fixtures/shared/driftctl/state/aws_iam_policy_multiple/terraform.tfstate",
            "tests/fixtures/shared/driftctl/state/aws_iam_role_policy_multiple/terraform.tfstate",
        ] {
            let (_, resources) = crate::state::parse(path, &std::fs::read(path).unwrap()).unwrap();
            for family in [&IamPolicies as &dyn Family, &IamInlinePolicies] {
                let mine: Vec<&Resource> = crate::families::resources_of(family, &resources);
                let objs = family.expected(&mine).unwrap();
                assert_eq!(objs.len(), mine.len(), "{path}");
                assert!(objs
                    .iter()
                    .all(|o| o.region.as_deref() == Some("us-east-1")));
            }
        }
        let admin = statement_item(
            statements(&json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}))
                .unwrap()
                .remove(0),
        );
        assert_eq!(admin.facts.labels, ["full-admin"]);
        let deny = statement_item(
            statements(&json!({"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}))
                .unwrap()
                .remove(0),
        );
        assert!(deny.facts.labels.is_empty());
        assert_eq!(iam_region(Some("arn:aws-cn:iam::1:policy/p")), "cn-north-1");
    }
}
