//! IAM users and groups: `aws_iam_user` (permissions boundary) and the managed policies attached
//! to users and groups, from `aws_iam_user_policy_attachment`, `aws_iam_group_policy_attachment`
//! and the exclusive `aws_iam_policy_attachment` (its `users` and `groups`). A policy attached by
//! hand to a user or group the state manages is drift; AdministratorAccess is critical.
//! The exclusive resources (provider 5.63+) own a whole attribute: `aws_iam_user_policy_attachments_exclusive`
//! and `aws_iam_group_policy_attachments_exclusive` every attached managed policy,
//! `aws_iam_user_policies_exclusive` and `aws_iam_group_policies_exclusive` every inline policy
//! name (an inline policy they do not list is drift). The content of inline policies is the
//! `aws_iam_user_policy`/`aws_iam_group_policy` family's.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::json;

use super::iam::iam_region;
use super::iam_entities;
use super::iam_role::{attachment, boundary};
use super::str_list;
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{arn_region_account, bad, tags_of, About, ConfigRef, Family, FromConfig};
use crate::model::{
    Cloud, ConfigItem, Declarer, Effect, ExpectedItem, ExpectedObject, Facts, Item, LiveObject,
};
use crate::state::Resource;

pub const IAM_PRINCIPALS: About = About {
    name: "iam_principal",
    cloud: Cloud::Aws,
    label: "IAM user(s) and group(s)",
    resource_types: &[
        "aws_iam_user",
        "aws_iam_group",
        "aws_iam_user_policy_attachment",
        "aws_iam_group_policy_attachment",
        "aws_iam_policy_attachment",
        "aws_iam_user_policy_attachments_exclusive",
        "aws_iam_group_policy_attachments_exclusive",
        "aws_iam_user_policies_exclusive",
        "aws_iam_group_policies_exclusive",
    ],
    // Every user and group at once: the reads choose between a listing and per-object calls.
    batch_size: usize::MAX,
};

pub struct IamPrincipals;

fn new_object(id: &str) -> ExpectedObject {
    ExpectedObject {
        family: IAM_PRINCIPALS.name,
        cloud_id: id.to_string(),
        region: Some(iam_region(None)),
        account: None,
        owner: None,
        items: Vec::new(),
        tags: BTreeMap::new(),
        is_default: false,
        // Inline policy names are judged only where an exclusive resource owns them.
        ignore: vec!["inline_policy"],
        tolerated: Vec::new(),
    }
}

/// Every attribute of a user's or group's view.
const PRINCIPAL_ATTRIBUTES: [&str; 3] = ["permissions_boundary", "managed_policy", "inline_policy"];

/// An inline policy of a user or group, by name (its content is another family's).
/// A user's or group's live view, however it was read.
fn principal_object(id: String, principal: &iam_entities::Principal) -> LiveObject {
    let mut items = Vec::new();
    if id.starts_with("user/") {
        items.push((
            "permissions_boundary",
            boundary(principal.boundary.as_deref()),
        ));
    }
    for arn in &principal.attached {
        items.push(("managed_policy", attachment(arn)));
    }
    for name in &principal.inline {
        items.push(("inline_policy", inline_name(name)));
    }
    LiveObject {
        cloud_id: id,
        items,
        is_default: false,
    }
}

fn inline_name(name: &str) -> Item {
    Item {
        identity: Some(name.to_string()),
        key: name.to_string(),
        value: json!({ "policy_name": name }),
        summary: format!("inline policy {name}"),
        facts: Facts {
            grants: true,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels: vec![],
        },
    }
}

impl Family for IamPrincipals {
    fn about(&self) -> &'static About {
        &IAM_PRINCIPALS
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut objs: BTreeMap<String, ExpectedObject> = BTreeMap::new();
        for r in resources
            .iter()
            .filter(|r| matches!(r.resource_type.as_str(), "aws_iam_user" | "aws_iam_group"))
        {
            let kind = if r.resource_type == "aws_iam_user" {
                "user"
            } else {
                "group"
            };
            let name = r
                .attr_str("name")
                .or_else(|| r.attr_str("id"))
                .ok_or_else(|| bad(r, "has no `name`"))?;
            let id = format!("{kind}/{name}");
            let obj = objs.entry(id.clone()).or_insert_with(|| new_object(&id));
            if obj.owner.is_some() {
                return Err(bad(
                    r,
                    &format!("manages IAM {kind} {name}, which another resource manages too"),
                ));
            }
            let arn = r.attr_str("arn");
            obj.region = Some(iam_region(arn));
            obj.account = arn.and_then(arn_region_account).and_then(|(_, a)| a);
            obj.owner = Some(Declarer::of(r, true));
            obj.tags = tags_of(r);
            if kind == "user" {
                obj.items.push(ExpectedItem {
                    attribute: "permissions_boundary",
                    item: boundary(r.attr_str("permissions_boundary")),
                    by: Declarer::of(r, true),
                });
            }
        }
        for r in resources.iter() {
            let targets: Vec<String> = match r.resource_type.as_str() {
                "aws_iam_user_policy_attachment" => {
                    vec![format!(
                        "user/{}",
                        r.attr_str("user").ok_or_else(|| bad(r, "has no `user`"))?
                    )]
                }
                "aws_iam_group_policy_attachment" => {
                    vec![format!(
                        "group/{}",
                        r.attr_str("group")
                            .ok_or_else(|| bad(r, "has no `group`"))?
                    )]
                }
                "aws_iam_policy_attachment" => str_list(r.attr("users"))
                    .into_iter()
                    .map(|u| format!("user/{u}"))
                    .chain(
                        str_list(r.attr("groups"))
                            .into_iter()
                            .map(|g| format!("group/{g}")),
                    )
                    .collect(),
                _ => continue,
            };
            let arn = r
                .attr_str("policy_arn")
                .ok_or_else(|| bad(r, "has no `policy_arn`"))?;
            for id in targets {
                objs.entry(id.clone())
                    .or_insert_with(|| new_object(&id))
                    .items
                    .push(ExpectedItem {
                        attribute: "managed_policy",
                        item: attachment(arn),
                        by: Declarer::of(r, false),
                    });
            }
        }
        for r in resources.iter() {
            let (kind, owns) = match r.resource_type.as_str() {
                "aws_iam_user_policy_attachments_exclusive" => ("user", "managed_policy"),
                "aws_iam_group_policy_attachments_exclusive" => ("group", "managed_policy"),
                "aws_iam_user_policies_exclusive" => ("user", "inline_policy"),
                "aws_iam_group_policies_exclusive" => ("group", "inline_policy"),
                _ => continue,
            };
            let name_attr = if kind == "user" {
                "user_name"
            } else {
                "group_name"
            };
            let name = r
                .attr_str(name_attr)
                .ok_or_else(|| bad(r, &format!("has no `{name_attr}`")))?;
            let id = format!("{kind}/{name}");
            let obj = objs.entry(id.clone()).or_insert_with(|| new_object(&id));
            let by = Declarer::of(r, false);
            super::iam_role::own_attribute(obj, owns, &by, &PRINCIPAL_ATTRIBUTES);
            if owns == "managed_policy" {
                for arn in str_list(r.attr("policy_arns")) {
                    obj.items.push(ExpectedItem {
                        attribute: "managed_policy",
                        item: attachment(&arn),
                        by: by.clone(),
                    });
                }
            } else {
                for name in str_list(r.attr("policy_names")) {
                    obj.tolerated.push(("inline_policy", name));
                }
            }
        }
        Ok(objs.into_values().collect())
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
            for (id, principal) in iam_entities::principals(aws, region, ids).await? {
                out.push(principal_object(id, &principal));
            }
            Ok(out)
        })
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        iam_entities::config_ref_of_principal(cloud_id)
    }

    /// `AWS::IAM::User` and `AWS::IAM::Group`: boundary, attached policies and inline policy
    /// names in `configuration`.
    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for item in items {
            let Some(kind) = iam_entities::kind_of_item(item) else {
                continue;
            };
            let r = iam_entities::from_config(item, kind)?;
            let prefix = if kind == iam_entities::Kind::User {
                "user"
            } else {
                "group"
            };
            let id = format!("{prefix}/{}", r.name);
            if !ids.contains(&id) || (kind == iam_entities::Kind::User && !r.boundary_recorded) {
                continue;
            }
            let principal = iam_entities::Principal {
                boundary: r.boundary,
                attached: r.attached,
                inline: r.inline.into_iter().map(|(n, _)| n).collect(),
            };
            out.seen(principal_object(id, &principal), item);
        }
        Ok(out)
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        super::iam_role::IamRoles.effect_of_change(attribute, expected, actual)
    }

    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        super::iam_role::codify_principal(r)
    }
}
