//! IAM roles: `aws_iam_role` (trust policy, permissions boundary, managed policy attachments),
//! `aws_iam_role_policy_attachment` and the `roles` of `aws_iam_policy_attachment`, merged per role like security group rules: attachments
//! declared by separate resources make the role's own `managed_policy_arns` a refreshed copy that
//! is not used (see `drop_computed_inline`). Inline policies are the `aws_iam_role_policy` family.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::iam::{iam_region, statement_item};
use super::iam_entities;
use super::policy_document::{outside_principals, statements};
use super::str_list;
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{
    arn_region_account, bad, remove_resolved, tags_of, About, Codify, CodifyRequest, ConfigRef,
    Family, FromConfig, Subject,
};
use crate::model::{
    Cloud, ConfigItem, Declarer, Effect, ExpectedItem, ExpectedObject, Exposure, Facts, Item,
    LiveObject, Reach,
};
use crate::state::Resource;

pub const IAM_ROLES: About = About {
    name: "iam_role",
    cloud: Cloud::Aws,
    label: "IAM role(s)",
    resource_types: &[
        "aws_iam_role",
        "aws_iam_role_policy_attachment",
        "aws_iam_policy_attachment",
        "aws_iam_role_policy_attachments_exclusive",
        "aws_iam_role_policies_exclusive",
        "aws_iam_role_policy",
    ],
    // Every role at once: the reads choose between a listing and per-role calls (iam_entities).
    batch_size: usize::MAX,
};

pub struct IamRoles;

/// Every attribute of a role's view.
const ROLE_ATTRIBUTES: [&str; 4] = [
    "assume_role_policy",
    "permissions_boundary",
    "inline_policy",
    "managed_policy",
];

/// An exclusive resource owns `attribute` of an IAM principal: the principal's own inline copy of
/// it is dropped, and on a principal no resource manages, the exclusive resource becomes the
/// owner of that attribute alone (live entries it does not list are drift; the principal's other
/// attributes are someone else's).
pub(super) fn own_attribute(
    obj: &mut ExpectedObject,
    attribute: &'static str,
    by: &Declarer,
    all: &[&'static str],
) {
    obj.items
        .retain(|i| !(i.attribute == attribute && i.by.inline));
    if obj.owner.is_none() {
        obj.owner = Some(by.clone());
        obj.ignore = all.iter().copied().filter(|a| *a != attribute).collect();
    } else {
        obj.ignore.retain(|a| *a != attribute);
    }
}

/// An attached managed policy; AdministratorAccess carries the `full-admin` label.
pub(super) fn attachment(arn: &str) -> Item {
    let labels = if arn.ends_with(":policy/AdministratorAccess") {
        vec!["full-admin"]
    } else {
        vec![]
    };
    Item {
        identity: None,
        key: arn.to_string(),
        value: json!({ "policy_arn": arn }),
        summary: format!("managed policy {arn}"),
        facts: Facts {
            grants: true,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels,
        },
    }
}

/// An attachment or a permissions boundary changed by hand, written where the code declares it
/// (roles, users and groups alike).
pub(super) fn codify_principal(r: &CodifyRequest) -> Codify {
    match r.attribute {
        Some("managed_policy") => codify_attachment(r),
        Some("permissions_boundary") => codify_boundary(r),
        _ => Codify::Unsupported,
    }
}

/// A managed policy detached by hand: its `aws_iam_*_policy_attachment` goes (forgotten with a
/// `removed` block), its ARN leaves a role's `managed_policy_arns` or an exclusive resource's
/// `policy_arns`, the principal leaves an `aws_iam_policy_attachment`'s list. One attached by
/// hand (accepted) joins those lists; where the code declares attachments as separate
/// resources it is manual.
fn codify_attachment(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    let gone = r.actual.is_null();
    let Some(arn) = (if gone { r.expected } else { r.actual })["policy_arn"].as_str() else {
        return Codify::Unsupported;
    };
    let want = match gone {
        true => format!("{arn} not attached"),
        false => format!("{arn} attached"),
    };
    let start = r.block.span().map_or(0, |s| s.start);
    let manual = |offset: usize, reason: String| Codify::Manual {
        offset,
        reason,
        want: want.clone(),
    };
    let done = |summary: String| Codify::Edits {
        edits: Vec::new(),
        summary,
    };
    let list = match r.resource_type {
        "aws_iam_role_policy_attachment"
        | "aws_iam_user_policy_attachment"
        | "aws_iam_group_policy_attachment" => {
            return match gone {
                true => Codify::RemoveResource {
                    summary: format!("the attachment of {arn} is gone"),
                },
                false => Codify::Unsupported,
            }
        }
        "aws_iam_policy_attachment" if gone => {
            // It lists the principals the policy is attached to: this one leaves its list.
            let (key, name) = match r.object.split_once('/') {
                Some(("user", n)) => ("users", n),
                Some(("group", n)) => ("groups", n),
                _ => ("roles", r.object),
            };
            let summary = format!("detach {arn} from {name}");
            // The provider wants one principal at least (`AtLeastOneOf`), and its refresh drops
            // an attachment that lists nobody: without its last principal the block goes.
            let principals = ["users", "groups", "roles"]
                .iter()
                .map(|k| match r.block.body.get_attribute(k) {
                    None => Some(0),
                    Some(_) => crate::families::resolved_list(&r.block.body, k, r.refs)
                        .ok()
                        .map(|l| l.len()),
                })
                .sum::<Option<usize>>();
            return match remove_resolved(r.text, &r.block.body, key, r.refs, name) {
                Ok(Some(_)) if principals == Some(1) => Codify::RemoveResource {
                    summary: format!("{arn} is attached to nobody now"),
                },
                Ok(Some(edit)) => Codify::Edits {
                    edits: vec![edit],
                    summary,
                },
                Ok(None) => done(summary),
                Err((offset, why)) => manual(offset, format!("`{key}`: {why}")),
            };
        }
        "aws_iam_role" => "managed_policy_arns",
        t if t.ends_with("_policy_attachments_exclusive") => "policy_arns",
        _ => return Codify::Unsupported,
    };
    let not_literal = |offset: usize| {
        manual(
            offset,
            format!("`{list}` is not a list of ARNs and references the state resolves"),
        )
    };
    if gone {
        let summary = format!("{arn} leaves `{list}`");
        return match remove_resolved(r.text, &r.block.body, list, r.refs, arn) {
            Ok(Some(edit)) => Codify::Edits {
                edits: vec![edit],
                summary,
            },
            Ok(None) => done(summary),
            Err((offset, why)) => manual(offset, format!("`{list}`: {why}")),
        };
    }
    if r.block.body.get_attribute(list).is_none() {
        return manual(
            start,
            format!(
                "the block declares no `{list}`: attach the policy the way this principal's \
                 other attachments are declared (an aws_iam_*_policy_attachment)"
            ),
        );
    }
    // By reference when one policy resource of the module is that policy.
    let value = r
        .refs
        .reference_to(arn, &["aws_iam_policy"], "arn")
        .unwrap_or_else(|| format!("\"{arn}\""));
    let summary = format!("{value} joins `{list}`");
    match crate::families::resolved_list(&r.block.body, list, r.refs) {
        Ok(elements) if elements.iter().any(|(v, _)| v.as_deref() == Some(arn)) => done(summary),
        Ok(_) => {
            match crate::families::append_element(r.text, &r.block.body, start, list, &value) {
                Ok(edit) => Codify::Edits {
                    edits: vec![edit],
                    summary,
                },
                Err(offset) => not_literal(offset),
            }
        }
        Err(offset) => not_literal(offset),
    }
}

/// A permissions boundary set or changed by hand becomes the role's or user's
/// `permissions_boundary`; one removed by hand (accepted) takes the attribute out.
fn codify_boundary(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    if !matches!(r.resource_type, "aws_iam_role" | "aws_iam_user") {
        return Codify::Unsupported;
    }
    match r.actual["permissions_boundary"].as_str() {
        Some(arn) => match crate::families::hcl_literal(&json!(arn)) {
            Some(value) => crate::families::set_attribute(r, "permissions_boundary", &value),
            None => Codify::Unsupported,
        },
        None => {
            let summary = "no permissions_boundary".to_string();
            match r
                .block
                .body
                .get_attribute("permissions_boundary")
                .and_then(|a| a.span())
            {
                Some(span) => Codify::Edits {
                    edits: vec![crate::families::remove_lines(r.text, span)],
                    summary,
                },
                None => Codify::Edits {
                    edits: Vec::new(),
                    summary,
                },
            }
        }
    }
}

pub(super) fn boundary(arn: Option<&str>) -> Item {
    Item {
        identity: Some("permissions_boundary".into()),
        key: arn.unwrap_or("").to_string(),
        value: json!({ "permissions_boundary": arn }),
        summary: match arn {
            Some(a) => format!("permissions boundary {a}"),
            None => "no permissions boundary".into(),
        },
        // A boundary restricts: having one "denies" what it does not allow.
        facts: Facts {
            grants: false,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels: vec![],
        },
    }
}

/// A role's inline policy as one slot (by name): its content is the set of its statements.
fn inline_policy(name: &str, doc: &Value, who: &str) -> Result<Item> {
    let mut st = statements(doc)
        .map_err(|e| Error::new(who.to_string(), format!("inline policy {name}: {e}")))?;
    st.sort_by(|a, b| a.key.cmp(&b.key));
    let admin = st.iter().any(|s| {
        statement_item(s.clone())
            .facts
            .labels
            .contains(&"full-admin")
    });
    let key = format!(
        "{name}|{}",
        st.iter()
            .map(|s| s.key.as_str())
            .collect::<Vec<_>>()
            .join("|")
    );
    let summary = format!(
        "inline policy {name}: {}",
        st.iter()
            .map(|s| s.summary.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok(Item {
        identity: Some(name.to_string()),
        key,
        value: json!({ "name": name, "statements": st.iter().map(|s| json!({"allow": s.allow, "statement": s.value})).collect::<Vec<_>>() }),
        summary,
        facts: Facts {
            grants: true,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels: if admin { vec!["full-admin"] } else { vec![] },
        },
    })
}

fn trust_items(doc: &Value, who: &str) -> Result<Vec<Item>> {
    Ok(statements(doc)
        .map_err(|e| Error::new(who.to_string(), format!("assume_role_policy: {e}")))?
        .into_iter()
        .map(statement_item)
        .collect())
}

/// The widest outside access the live trust policy gives; the account's own principals and AWS
/// services only: private.
/// A role's live view, however it was read.
fn role_object(name: String, role: iam_entities::Role) -> Result<LiveObject> {
    let who = format!("AWS IAM role {name}");
    let mut items = Vec::new();
    for item in trust_items(&Value::String(role.trust), &who)? {
        items.push(("assume_role_policy", item));
    }
    items.push(("permissions_boundary", boundary(role.boundary.as_deref())));
    for arn in &role.attached {
        items.push(("managed_policy", attachment(arn)));
    }
    for (policy, doc) in role.inline {
        let doc = Value::String(doc);
        items.push(("inline_policy", inline_policy(&policy, &doc, &who)?));
    }
    Ok(LiveObject {
        cloud_id: name,
        items,
        is_default: false,
    })
}

fn trust_reach(o: &Subject) -> Reach {
    let name = &o.live.cloud_id;
    let mut found: Vec<(Exposure, String)> = o
        .live
        .items
        .iter()
        .filter(|(a, _)| *a == "assume_role_policy")
        .filter_map(|(_, i)| {
            outside_principals(&i.value, &i.summary, o.expected.account.as_deref())
        })
        .collect();
    found.sort();
    match found.first() {
        Some((exposure, _)) => Reach {
            exposure: *exposure,
            reasons: found
                .iter()
                .filter(|(e, _)| e == exposure)
                .map(|(_, why)| format!("the trust policy of role {name}: {why}"))
                .collect(),
        },
        None => Reach::new(
            Exposure::Private,
            format!("role {name} trusts only principals of its own account and AWS services"),
        ),
    }
}

impl Family for IamRoles {
    /// A statement revoked live leaves the document where the code writes it; attachments and
    /// the boundary are written where they are declared.
    fn codify(&self, r: &CodifyRequest) -> Codify {
        match (r.resource_type, r.attribute) {
            ("aws_iam_role" | super::policy_code::DATA, Some("assume_role_policy")) => {
                super::policy_code::codify_statement(r, "assume_role_policy")
            }
            _ => codify_principal(r),
        }
    }

    fn about(&self) -> &'static About {
        &IAM_ROLES
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut roles: BTreeMap<String, ExpectedObject> = BTreeMap::new();
        let new_object = |name: &str| ExpectedObject {
            family: IAM_ROLES.name,
            cloud_id: name.to_string(),
            region: Some(iam_region(None)),
            account: None,
            owner: None,
            items: Vec::new(),
            tags: BTreeMap::new(),
            is_default: false,
            ignore: Vec::new(),
            tolerated: Vec::new(),
        };
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "aws_iam_role")
        {
            let name = r
                .attr_str("name")
                .or_else(|| r.attr_str("id"))
                .ok_or_else(|| bad(r, "has no `name`"))?;
            let obj = roles
                .entry(name.to_string())
                .or_insert_with(|| new_object(name));
            if obj.owner.is_some() {
                return Err(bad(
                    r,
                    &format!("manages IAM role {name}, which another resource manages too"),
                ));
            }
            let arn = r.attr_str("arn");
            obj.region = Some(iam_region(arn));
            obj.account = arn.and_then(arn_region_account).and_then(|(_, a)| a);
            obj.owner = Some(Declarer::of(r, true));
            obj.tags = tags_of(r);
            let by = Declarer::of(r, true);
            let doc = r
                .attr("assume_role_policy")
                .ok_or_else(|| bad(r, "has no `assume_role_policy`"))?;
            for item in trust_items(doc, &r.address)? {
                obj.items.push(ExpectedItem {
                    attribute: "assume_role_policy",
                    item,
                    by: by.clone(),
                });
            }
            obj.items.push(ExpectedItem {
                attribute: "permissions_boundary",
                item: boundary(r.attr_str("permissions_boundary")),
                by: by.clone(),
            });
            for block in r
                .attr("inline_policy")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = block
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                else {
                    continue;
                };
                let doc = block.get("policy").cloned().unwrap_or(Value::Null);
                obj.items.push(ExpectedItem {
                    attribute: "inline_policy",
                    item: inline_policy(name, &doc, &r.address)?,
                    by: by.clone(),
                });
            }
            for arn in str_list(r.attr("managed_policy_arns")) {
                obj.items.push(ExpectedItem {
                    attribute: "managed_policy",
                    item: attachment(&arn),
                    by: by.clone(),
                });
            }
        }
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "aws_iam_role_policy_attachment")
        {
            let role = r.attr_str("role").ok_or_else(|| bad(r, "has no `role`"))?;
            let arn = r
                .attr_str("policy_arn")
                .ok_or_else(|| bad(r, "has no `policy_arn`"))?;
            let obj = roles
                .entry(role.to_string())
                .or_insert_with(|| new_object(role));
            obj.items.push(ExpectedItem {
                attribute: "managed_policy",
                item: attachment(arn),
                by: Declarer::of(r, false),
            });
        }
        // The exclusive `aws_iam_policy_attachment` declares attachments for its `roles` too.
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "aws_iam_policy_attachment")
        {
            let arn = r
                .attr_str("policy_arn")
                .ok_or_else(|| bad(r, "has no `policy_arn`"))?;
            for role in str_list(r.attr("roles")) {
                roles
                    .entry(role.clone())
                    .or_insert_with(|| new_object(&role))
                    .items
                    .push(ExpectedItem {
                        attribute: "managed_policy",
                        item: attachment(arn),
                        by: Declarer::of(r, false),
                    });
            }
        }
        // Inline policies declared by `aws_iam_role_policy` are compared by that family; here
        // they are only known names, and the role's own `inline_policy` is then a stale copy.
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "aws_iam_role_policy")
        {
            let (Some(role), Some(name)) = (r.attr_str("role"), r.attr_str("name")) else {
                continue;
            };
            let obj = roles
                .entry(role.to_string())
                .or_insert_with(|| new_object(role));
            obj.items.retain(|i| i.attribute != "inline_policy");
            obj.tolerated.push(("inline_policy", name.to_string()));
        }
        // The exclusive resources (provider 5.63+) own a whole attribute of the role: every
        // managed policy attached, every inline policy name. Beside them the role's own copy
        // (`managed_policy_arns`, `inline_policy`) is the provider's refreshed copy, and what
        // they do not list is drift even on a role managed elsewhere.
        for r in resources.iter().filter(|r| {
            matches!(
                r.resource_type.as_str(),
                "aws_iam_role_policy_attachments_exclusive" | "aws_iam_role_policies_exclusive"
            )
        }) {
            let role = r
                .attr_str("role_name")
                .ok_or_else(|| bad(r, "has no `role_name`"))?;
            let obj = roles
                .entry(role.to_string())
                .or_insert_with(|| new_object(role));
            let by = Declarer::of(r, false);
            if r.resource_type == "aws_iam_role_policy_attachments_exclusive" {
                own_attribute(obj, "managed_policy", &by, &ROLE_ATTRIBUTES);
                for arn in str_list(r.attr("policy_arns")) {
                    obj.items.push(ExpectedItem {
                        attribute: "managed_policy",
                        item: attachment(&arn),
                        by: by.clone(),
                    });
                }
            } else {
                own_attribute(obj, "inline_policy", &by, &ROLE_ATTRIBUTES);
                // Their content is the `aws_iam_role_policy` family's to compare.
                for name in str_list(r.attr("policy_names")) {
                    obj.tolerated.push(("inline_policy", name));
                }
            }
        }
        // A role known only from inline policy names (managed elsewhere) has nothing to check.
        Ok(roles
            .into_values()
            .filter(|o| o.owner.is_some() || !o.items.is_empty())
            .map(super::drop_computed_inline)
            .collect())
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
            for (name, role) in iam_entities::roles(aws, region, ids).await? {
                out.push(role_object(name, role)?);
            }
            Ok(out)
        })
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::name("AWS::IAM::Role", cloud_id)
    }

    /// `AWS::IAM::Role`: trust policy, boundary, attached and inline policies in
    /// `configuration` (documents URL-encoded).
    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for item in items {
            let r = iam_entities::from_config(item, iam_entities::Kind::Role)?;
            if !ids.contains(&r.name) {
                continue;
            }
            let role = iam_entities::Role {
                trust: r.trust,
                boundary: r.boundary,
                attached: r.attached,
                inline: r.inline,
            };
            out.seen(role_object(r.name, role)?, item);
        }
        Ok(out)
    }

    /// From the live trust policy alone (no read): who outside the account may assume the role.
    fn exposure<'a>(
        &'a self,
        _clouds: &'a Clouds,
        _region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move {
            Ok(objects
                .iter()
                .map(|o| (o.live.cloud_id.clone(), trust_reach(o)))
                .collect())
        })
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        if attribute == "inline_policy" {
            // Allow statements gained weaken; lost ones strengthen (deny statements the reverse).
            let set = |i: &Item| -> Vec<(bool, String)> {
                i.value["statements"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|s| {
                                (
                                    s["allow"].as_bool().unwrap_or(true),
                                    s["statement"].to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (e, a) = (set(expected), set(actual));
            let gained: Vec<&(bool, String)> = a.iter().filter(|s| !e.contains(s)).collect();
            let lost: Vec<&(bool, String)> = e.iter().filter(|s| !a.contains(s)).collect();
            let weakens =
                gained.iter().any(|(allow, _)| *allow) || lost.iter().any(|(allow, _)| !*allow);
            let strengthens =
                gained.iter().any(|(allow, _)| !*allow) || lost.iter().any(|(allow, _)| *allow);
            return match (weakens, strengthens) {
                (true, _) => Effect::Weakens,
                (false, true) => Effect::Strengthens,
                _ => Effect::Unknown,
            };
        }
        match (attribute, expected.key.is_empty(), actual.key.is_empty()) {
            // Losing the boundary lifts its limits; gaining one imposes them.
            ("permissions_boundary", false, true) => Effect::Weakens,
            ("permissions_boundary", true, false) => Effect::Strengthens,
            _ => Effect::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(address: &str, t: &str, attrs: Value) -> Resource {
        Resource::for_test(address, t, attrs)
    }

    #[test]
    fn attachments_from_resources_replace_the_roles_copy() {
        let role = res(
            "aws_iam_role.app",
            "aws_iam_role",
            json!({"name": "app", "arn": "arn:aws:iam::123456789012:role/app",
                   "assume_role_policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}",
                   "permissions_boundary": null,
                   // The refreshed copy still lists a policy whose attachment was destroyed.
                   "managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/Stale"]}),
        );
        let att = res(
            "aws_iam_role_policy_attachment.ro",
            "aws_iam_role_policy_attachment",
            json!({"role": "app", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "id": "app-x"}),
        );
        let objs = IamRoles.expected(&[&role, &att]).unwrap();
        let policies: Vec<&str> = objs[0]
            .items
            .iter()
            .filter(|i| i.attribute == "managed_policy")
            .map(|i| i.item.key.as_str())
            .collect();
        assert_eq!(policies, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
        assert_eq!(objs[0].account.as_deref(), Some("123456789012"));
        assert_eq!(
            attachment("arn:aws:iam::aws:policy/AdministratorAccess")
                .facts
                .labels,
            ["full-admin"]
        );
        let none = boundary(None);
        let some = boundary(Some("arn:aws:iam::1:policy/b"));
        assert_eq!(
            IamRoles.effect_of_change("permissions_boundary", &some, &none),
            Effect::Weakens
        );
        assert_eq!(
            IamRoles.effect_of_change("permissions_boundary", &none, &some),
            Effect::Strengthens
        );
    }
}
