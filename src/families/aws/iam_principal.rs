//! IAM users and groups: `aws_iam_user` (permissions boundary) and the managed policies attached
//! to users and groups, from `aws_iam_user_policy_attachment`, `aws_iam_group_policy_attachment`
//! and the exclusive `aws_iam_policy_attachment` (its `users` and `groups`). A policy attached by
//! hand to a user or group the state manages is drift; AdministratorAccess is critical.
//! Inline policies are the `aws_iam_user_policy`/`aws_iam_group_policy` family.

use std::collections::BTreeMap;

use aws_sdk_iam::error::ProvideErrorMetadata;
use futures::future::BoxFuture;

use super::iam::iam_region;
use super::iam_role::{attachment, boundary};
use super::str_list;
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{arn_region_account, bad, tags_of, About, Family};
use crate::model::{Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Item, LiveObject};
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
    ],
    batch_size: 1,
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
        ignore: Vec::new(),
        tolerated: Vec::new(),
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
            let _turn = aws.iam_turn().await;
            let client = aws.iam(region);
            let mut out = Vec::new();
            'ids: for id in ids {
                let Some((kind, name)) = id.split_once('/') else {
                    return Err(Error::new(
                        format!("AWS IAM {id}"),
                        "not a user/NAME or group/NAME id",
                    ));
                };
                let mut items = Vec::new();
                if kind == "user" {
                    aws.count("iam", "GetUser");
                    let user = match client.get_user().user_name(name).send().await {
                        Ok(u) => u,
                        Err(e) if e.code() == Some("NoSuchEntity") => continue 'ids,
                        Err(e) => return Err(aws.error("iam", "GetUser", region, e)),
                    };
                    let b = user
                        .user()
                        .and_then(|u| u.permissions_boundary())
                        .and_then(|b| b.permissions_boundary_arn());
                    items.push(("permissions_boundary", boundary(b)));
                    let mut pages = client
                        .list_attached_user_policies()
                        .user_name(name)
                        .into_paginator()
                        .send();
                    while let Some(page) = pages.next().await {
                        aws.count("iam", "ListAttachedUserPolicies");
                        let page = page
                            .map_err(|e| aws.error("iam", "ListAttachedUserPolicies", region, e))?;
                        items.extend(
                            page.attached_policies()
                                .iter()
                                .filter_map(|p| p.policy_arn())
                                .map(|a| ("managed_policy", attachment(a))),
                        );
                    }
                } else {
                    let mut pages = client
                        .list_attached_group_policies()
                        .group_name(name)
                        .into_paginator()
                        .send();
                    while let Some(page) = pages.next().await {
                        aws.count("iam", "ListAttachedGroupPolicies");
                        match page {
                            Ok(page) => items.extend(
                                page.attached_policies()
                                    .iter()
                                    .filter_map(|p| p.policy_arn())
                                    .map(|a| ("managed_policy", attachment(a))),
                            ),
                            Err(e) if e.code() == Some("NoSuchEntity") => continue 'ids,
                            Err(e) => {
                                return Err(aws.error(
                                    "iam",
                                    "ListAttachedGroupPolicies",
                                    region,
                                    e,
                                ))
                            }
                        }
                    }
                }
                out.push(LiveObject {
                    cloud_id: id.clone(),
                    items,
                    is_default: false,
                });
            }
            Ok(out)
        })
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        super::iam_role::IamRoles.effect_of_change(attribute, expected, actual)
    }
}
