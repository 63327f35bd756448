//! IAM policies of projects and buckets: `google_{project,storage_bucket}_iam_{member,binding,
//! policy}`.
//!
//! The three resources own different amounts of a policy, and only what a resource owns is
//! compared:
//! - `_member` is additive: its one member must hold the role; other members are not its concern.
//! - `_binding` is authoritative for one role (and condition): exactly its members hold it.
//! - `_policy` is authoritative for the whole policy: every binding is declared.
//!
//! So an object here is one role binding (`RESOURCE|ROLE|CONDITION`), owned when a `_binding`
//! declares it, or a whole policy (`RESOURCE`) owned by a `_policy`. A condition is part of the
//! binding it belongs to: the same role with another condition is another binding.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{block, last_segment};
use crate::clients::gcp::Service;
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{bad, About, Family};
use crate::model::{Cloud, Declarer, ExpectedItem, ExpectedObject, Facts, Item, LiveObject};
use crate::state::Resource;

pub const IAM_POLICIES: About = About {
    name: "gcp_iam_policy",
    cloud: Cloud::Gcp,
    label: "IAM binding(s) or policy(ies)",
    resource_types: &TYPES,
    // One policy read answers every binding of its project or bucket.
    batch_size: 500,
};

pub struct IamPolicies;

const TYPES: [&str; 6] = [
    "google_project_iam_member",
    "google_project_iam_binding",
    "google_project_iam_policy",
    "google_storage_bucket_iam_member",
    "google_storage_bucket_iam_binding",
    "google_storage_bucket_iam_policy",
];

/// Whose policy: `project/P` or `bucket/B`.
fn target(r: &Resource) -> Result<String> {
    if r.resource_type.starts_with("google_project_") {
        let p = r
            .attr_str("project")
            .ok_or_else(|| bad(r, "has no `project`"))?;
        Ok(format!("project/{}", last_segment(p)))
    } else {
        let b = r
            .attr_str("bucket")
            .ok_or_else(|| bad(r, "has no `bucket`"))?;
        // The provider records `b/NAME`; configurations may say `NAME`.
        Ok(format!("bucket/{}", b.strip_prefix("b/").unwrap_or(b)))
    }
}

/// A condition's canonical text: its expression (title and description do not change what it
/// grants, but an expression does).
fn condition_text(c: Option<&Value>) -> String {
    c.and_then(|c| c.get("expression"))
        .and_then(Value::as_str)
        .map(|e| e.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Principals whose identifiers IAM compares with case (the provider's
/// `iamMemberIsCaseSensitive`): workload and workforce identity subjects, and the two public
/// members.
fn case_sensitive(member: &str) -> bool {
    member.contains("allAuthenticatedUsers")
        || member.contains("allUsers")
        || ["principal:", "principalSet:", "principalHierarchy:"]
            .iter()
            .any(|p| member.starts_with(p))
}

/// A member as IAM compares it: without case (`user:`, `group:`,
/// `serviceAccount:`, `domain:`, also behind `deleted:`), except for case-sensitive principals,
/// which are kept exactly as written (the provider normalizes the same way).
fn canonical_member(member: &str) -> String {
    let (deleted, rest) = match member.strip_prefix("deleted:") {
        Some(rest) => ("deleted:", rest),
        None => ("", member),
    };
    if case_sensitive(rest) {
        return member.to_string();
    }
    match rest.split_once(':') {
        Some((kind, id)) => format!(
            "{deleted}{}:{}",
            kind.to_ascii_lowercase(),
            id.to_ascii_lowercase()
        ),
        None => member.to_string(),
    }
}

fn member_item(role: &str, member: &str, condition: &str) -> Item {
    // Shown as written, compared as IAM compares.
    let canonical = canonical_member(member);
    let mut labels = Vec::new();
    if member == "allUsers" || member == "allAuthenticatedUsers" {
        labels.push("public");
    }
    if matches!(role, "roles/owner" | "roles/editor") {
        labels.push("primitive-role");
    }
    let when = if condition.is_empty() {
        String::new()
    } else {
        format!(" if {condition}")
    };
    Item {
        identity: None,
        key: format!("{role}|{canonical}|{condition}"),
        value: json!({"role": role, "member": member, "condition": condition}),
        summary: format!("{member} has {role}{when}"),
        facts: Facts {
            grants: true,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels,
        },
    }
}

fn binding_id(target: &str, role: &str, condition: &str) -> String {
    if condition.is_empty() {
        format!("{target}|{role}")
    } else {
        format!("{target}|{role}|{condition}")
    }
}

/// (role, condition expression, members).
type Binding = (String, String, Vec<String>);

/// The bindings of a policy document: (role, condition, members). The `_policy` resource's
/// `policy_data` and the API's answer share this shape.
fn bindings(policy: &Value) -> std::result::Result<Vec<Binding>, String> {
    let mut out = Vec::new();
    for b in policy
        .get("bindings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = b
            .get("role")
            .and_then(Value::as_str)
            .ok_or("a binding without a role")?;
        let mut members = crate::families::str_list(b.get("members"));
        // Policies written by hand may repeat a member; it is one grant.
        members.sort();
        members.dedup();
        out.push((
            role.to_string(),
            condition_text(b.get("condition")),
            members,
        ));
    }
    Ok(out)
}

fn new_object(id: String, owner: Option<Declarer>) -> ExpectedObject {
    ExpectedObject {
        family: IAM_POLICIES.name,
        account: super::project(&id),
        cloud_id: id,
        region: Some("global".into()),
        owner,
        items: Vec::new(),
        tags: BTreeMap::new(),
        is_default: false,
        ignore: Vec::new(),
        tolerated: Vec::new(),
    }
}

/// A member revoked live (a console fix): an `_iam_member` resource goes (with a `removed`
/// block: the grant is already gone), an `_iam_binding` loses the member from its literal
/// `members` list. A whole `_iam_policy` is usually rendered by `data "google_iam_policy"`:
/// not written.
fn codify_member(r: &crate::families::CodifyRequest) -> crate::families::Codify {
    use crate::families::Codify;
    use hcl_edit::Span;
    let gone = r.actual.is_null() && r.kind != crate::model::DriftKind::Unmanaged;
    let Some(member) = r
        .expected
        .get("member")
        .and_then(Value::as_str)
        .filter(|_| gone)
    else {
        return Codify::Unsupported;
    };
    let role = r
        .expected
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or("?");
    if r.resource_type.ends_with("_iam_member") {
        return Codify::RemoveResource {
            summary: format!("{member} no longer has {role}"),
        };
    }
    let condition = r
        .expected
        .get("condition")
        .and_then(Value::as_str)
        .unwrap_or("");
    if r.resource_type == "data.google_iam_policy" {
        return in_policy_data_source(r, role, member, condition);
    }
    if r.resource_type.ends_with("_iam_policy") {
        return in_policy_data(r, role, member, condition);
    }
    if !r.resource_type.ends_with("_iam_binding") {
        return Codify::Unsupported;
    }
    let start = r.block.span().map_or(0, |s| s.start);
    let want = format!("members without {member}");
    let canonical = canonical_member(member);
    match crate::families::remove_matching(r.text, &r.block.body, start, "members", &|m| {
        canonical_member(m) == canonical
    }) {
        Err(offset) => Codify::Manual {
            offset,
            reason: "`members` is not a literal list of this resource".into(),
            want,
        },
        Ok(Some(edits)) => Codify::Edits {
            edits,
            summary: format!("remove {member} from the {role} members"),
        },
        // Already out of the code (an earlier fix).
        Ok(None) if r.block.body.get_attribute("members").is_some() => Codify::Edits {
            edits: Vec::new(),
            summary: want,
        },
        Ok(None) => Codify::Manual {
            offset: start,
            reason: "the block has no `members`".into(),
            want,
        },
    }
}

/// The member leaves its binding in `policy_data`, found by meaning (role, condition
/// expression, member as IAM compares it): written inline as `jsonencode({ bindings = [...] })`
/// or a JSON heredoc, or asked again of the `data "google_iam_policy"` that renders it. A
/// binding left without members goes whole.
fn in_policy_data(
    r: &crate::families::CodifyRequest,
    role: &str,
    member: &str,
    condition: &str,
) -> crate::families::Codify {
    use crate::families::{Codify, TextEdit};
    use hcl_edit::expr::Expression;
    use hcl_edit::Span;
    let start = r.block.span().map_or(0, |s| s.start);
    let want = format!("{role} without {member}");
    let Some(attr) = r.block.body.get_attribute("policy_data") else {
        return Codify::Manual {
            offset: start,
            reason: "the block has no `policy_data`".into(),
            want,
        };
    };
    let at = attr.value.span().map_or(start, |s| s.start);
    let canonical = canonical_member(member);
    let found = match &attr.value {
        Expression::Traversal(_) => match policy_data_source(&attr.value) {
            Some(name) => {
                return Codify::Elsewhere {
                    ident: "data",
                    labels: vec!["google_iam_policy".into(), name],
                    offset: at,
                }
            }
            None => Err(
                "`policy_data` comes from elsewhere (a variable, another resource): remove the \
                 member there"
                    .to_string(),
            ),
        },
        Expression::FuncCall(call) if call.name.name.as_str() == "jsonencode" => {
            match call.args.iter().next() {
                Some(Expression::Object(doc)) => {
                    in_jsonencode(r.text, doc, role, &canonical, condition)
                }
                _ => Err("`jsonencode` of something other than an object literal".into()),
            }
        }
        Expression::HeredocTemplate(_) => match attr.value.span() {
            Some(span) => in_heredoc(r.text, span, role, &canonical, condition),
            None => Err("the heredoc has no position".into()),
        },
        _ => Err(
            "`policy_data` is not a `jsonencode` object, a JSON heredoc or a \
             `data \"google_iam_policy\"`"
                .into(),
        ),
    };
    match found {
        Ok(Some(ranges)) => Codify::Edits {
            edits: ranges
                .into_iter()
                .map(|range| TextEdit {
                    range,
                    with: String::new(),
                })
                .collect(),
            summary: format!("remove {member} from the {role} binding"),
        },
        // Not in the code: an earlier fix removed it already.
        Ok(None) => Codify::Edits {
            edits: Vec::new(),
            summary: want,
        },
        Err(reason) => Codify::Manual {
            offset: at,
            reason,
            want,
        },
    }
}

/// The ranges that take `canonical` out of the binding of `role` (with `condition`) of a
/// `jsonencode` object: `Ok(None)` when no binding of the code holds it.
fn in_jsonencode(
    text: &str,
    doc: &hcl_edit::expr::Object,
    role: &str,
    canonical: &str,
    condition: &str,
) -> std::result::Result<Option<Vec<std::ops::Range<usize>>>, String> {
    use crate::families::json_text::{field, literal_json};
    use crate::families::remove_all_between;
    use crate::families::{remove_element, remove_elements};
    use hcl_edit::expr::Expression;
    use hcl_edit::Span;
    let Some(list) = field(doc, "bindings") else {
        return Ok(None);
    };
    let Expression::Array(list) = list else {
        return Err("`bindings` is not a literal list".into());
    };
    let spans: Vec<_> = list.iter().map(|e| e.span().unwrap_or(0..0)).collect();
    let mut opaque = false;
    for (i, e) in list.iter().enumerate() {
        let Expression::Object(b) = e else {
            opaque = true;
            continue;
        };
        let cond = match field(b, "condition") {
            None => Some(String::new()),
            Some(c) => literal_json(c).map(|c| condition_text(Some(&c))),
        };
        let (Some(Value::String(written)), Some(cond)) =
            (field(b, "role").and_then(literal_json), cond)
        else {
            opaque = true;
            continue;
        };
        if written != role || cond != condition {
            continue;
        }
        let Some(Expression::Array(members)) = field(b, "members") else {
            opaque = true;
            continue;
        };
        let member_spans: Vec<_> = members.iter().map(|m| m.span().unwrap_or(0..0)).collect();
        let gone: Vec<usize> = members
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                matches!(m, Expression::String(s) if canonical_member(s.value()) == canonical)
            })
            .map(|(j, _)| j)
            .collect();
        if gone.is_empty() {
            // A member written as a reference may be the one.
            opaque |= members.iter().any(|m| !matches!(m, Expression::String(_)));
            continue;
        }
        if gone.len() == members.len() {
            return Ok(Some(vec![remove_element(text, &spans, i)]));
        }
        return Ok(Some(
            remove_elements(text, &member_spans, &gone)
                .unwrap_or_else(|| remove_all_between(&member_spans, &gone)),
        ));
    }
    if opaque {
        return Err(
            "a binding of the policy is not a literal (a reference or a function): which one \
             holds the member cannot be told"
                .into(),
        );
    }
    Ok(None)
}

/// The ranges that take `canonical` out of the binding of `role` (with `condition`) of a JSON
/// heredoc, each element with one separator, so that the JSON stays valid.
fn in_heredoc(
    text: &str,
    span: std::ops::Range<usize>,
    role: &str,
    canonical: &str,
    condition: &str,
) -> std::result::Result<Option<Vec<std::ops::Range<usize>>>, String> {
    use crate::families::json_text::{heredoc_json, list_elements};
    use crate::families::remove_all_between;
    let (base, body, doc) = heredoc_json(text, span)?;
    let Some(bindings) = list_elements(body, "bindings") else {
        return match doc.get("bindings") {
            None => Ok(None),
            Some(_) => Err("`bindings` is not a list".into()),
        };
    };
    for (i, e) in bindings.iter().enumerate() {
        let element = &body[e.clone()];
        let Ok(b) = serde_json::from_str::<Value>(element) else {
            continue;
        };
        if b.get("role").and_then(Value::as_str) != Some(role)
            || condition_text(b.get("condition")) != condition
        {
            continue;
        }
        let members =
            list_elements(element, "members").ok_or("a binding's `members` is not a list")?;
        let gone: Vec<usize> = members
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                serde_json::from_str::<String>(&element[(*m).clone()])
                    .is_ok_and(|m| canonical_member(&m) == canonical)
            })
            .map(|(j, _)| j)
            .collect();
        if gone.is_empty() {
            continue;
        }
        let (ranges, offset) = if gone.len() == members.len() {
            (remove_all_between(&bindings, &[i]), base)
        } else {
            (remove_all_between(&members, &gone), base + e.start)
        };
        return Ok(Some(
            ranges
                .into_iter()
                .map(|r| offset + r.start..offset + r.end)
                .collect(),
        ));
    }
    Ok(None)
}

/// `data.google_iam_policy.NAME.policy_data` → `NAME`.
fn policy_data_source(expr: &hcl_edit::expr::Expression) -> Option<String> {
    crate::families::data_source_read(expr, "google_iam_policy", &["policy_data"])
}

/// The member leaves its `binding` block (role as written, no condition) of a
/// `data "google_iam_policy"`; a binding left without members goes whole.
fn in_policy_data_source(
    r: &crate::families::CodifyRequest,
    role: &str,
    member: &str,
    condition: &str,
) -> crate::families::Codify {
    use crate::families::{literal, literal_list, remove_matching, Codify};
    use hcl_edit::Span;
    let start = r.block.span().map_or(0, |s| s.start);
    let want = format!("{role} without {member}");
    if !condition.is_empty() {
        return Codify::Manual {
            offset: start,
            reason: "a conditional binding: its condition block is not matched".into(),
            want,
        };
    }
    let canonical = canonical_member(member);
    for b in r
        .block
        .body
        .blocks()
        .filter(|b| b.ident.as_str() == "binding")
    {
        let same_role = literal(&b.body, "role")
            .ok()
            .flatten()
            .is_some_and(|v| v.as_str() == Some(role));
        if !same_role || b.body.blocks().any(|c| c.ident.as_str() == "condition") {
            continue;
        }
        let b_start = b.span().map_or(start, |s| s.start);
        let everyone_gone = literal_list(&b.body, "members")
            .is_ok_and(|l| l.iter().all(|(m, _)| canonical_member(m) == canonical));
        let edits = match remove_matching(r.text, &b.body, b_start, "members", &|m| {
            canonical_member(m) == canonical
        }) {
            Err(offset) => {
                return Codify::Manual {
                    offset,
                    reason: "the binding's `members` is not a literal list".into(),
                    want,
                }
            }
            Ok(None) => continue,
            // Nobody left: the binding goes whole (a binding needs members).
            Ok(Some(_)) if everyone_gone => match b.span() {
                Some(span) => vec![crate::families::remove_lines(r.text, span)],
                None => continue,
            },
            Ok(Some(edits)) => edits,
        };
        return Codify::Edits {
            edits,
            summary: format!("remove {member} from the {role} binding"),
        };
    }
    // Not there any more (an earlier fix), unless a dynamic block may hold it.
    if r.block.body.blocks().any(|b| b.ident.as_str() == "dynamic") {
        return Codify::Manual {
            offset: start,
            reason: "the policy has dynamic bindings: which one holds the member cannot be told"
                .into(),
            want,
        };
    }
    Codify::Edits {
        edits: Vec::new(),
        summary: want,
    }
}

impl Family for IamPolicies {
    fn about(&self) -> &'static About {
        &IAM_POLICIES
    }

    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        match r.attribute {
            Some("binding") => codify_member(r),
            _ => crate::families::Codify::Unsupported,
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut objs: BTreeMap<String, ExpectedObject> = BTreeMap::new();
        let push =
            |objs: &mut BTreeMap<String, ExpectedObject>, id: String, item: Item, by: Declarer| {
                let obj = objs
                    .entry(id.clone())
                    .or_insert_with(|| new_object(id, None));
                obj.items.push(ExpectedItem {
                    attribute: "binding",
                    item,
                    by,
                });
            };
        for r in resources {
            let t = target(r)?;
            let by = Declarer::of(r, false);
            let role = || r.attr_str("role").ok_or_else(|| bad(r, "has no `role`"));
            let condition = condition_text(block(r.attr("condition")));
            if r.resource_type.ends_with("_iam_member") {
                let member = r
                    .attr_str("member")
                    .ok_or_else(|| bad(r, "has no `member`"))?;
                let role = role()?;
                push(
                    &mut objs,
                    binding_id(&t, role, &condition),
                    member_item(role, member, &condition),
                    by,
                );
            } else if r.resource_type.ends_with("_iam_binding") {
                let role = role()?;
                let id = binding_id(&t, role, &condition);
                let members = crate::families::str_list(r.attr("members"));
                // No members: the role is held by nobody, which is still a declaration.
                objs.entry(id.clone())
                    .or_insert_with(|| new_object(id.clone(), None))
                    .owner = Some(by.clone());
                for m in members {
                    push(
                        &mut objs,
                        id.clone(),
                        member_item(role, &m, &condition),
                        by.clone(),
                    );
                }
            } else {
                let data = r
                    .attr_str("policy_data")
                    .ok_or_else(|| bad(r, "has no `policy_data`"))?;
                let policy: Value = serde_json::from_str(data)
                    .map_err(|e| bad(r, &format!("`policy_data` is not JSON: {e}")))?;
                objs.entry(t.clone())
                    .or_insert_with(|| new_object(t.clone(), None))
                    .owner = Some(by.clone());
                for (role, cond, members) in bindings(&policy).map_err(|e| bad(r, &e))? {
                    for m in members {
                        push(
                            &mut objs,
                            t.clone(),
                            member_item(&role, &m, &cond),
                            by.clone(),
                        );
                    }
                }
            }
        }
        Ok(objs.into_values().collect())
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let gcp = clouds.gcp()?;
            let mut policies: BTreeMap<&str, Option<Vec<Binding>>> = BTreeMap::new();
            for id in ids {
                let t = id.split('|').next().unwrap_or(id);
                if policies.contains_key(t) {
                    continue;
                }
                let answer = match t.split_once('/') {
                    Some(("project", p)) => gcp.project_iam_policy(p).await?,
                    Some(("bucket", b)) => {
                        gcp.get(
                            Service::Storage,
                            &format!("/storage/v1/b/{b}/iam?optionsRequestedPolicyVersion=3"),
                            "buckets.getIamPolicy",
                        )
                        .await?
                    }
                    _ => {
                        return Err(Error::new(
                            "driftgate",
                            format!("internal error: IAM target {t}"),
                        ))
                    }
                };
                let parsed = answer
                    .map(|p| bindings(&p))
                    .transpose()
                    .map_err(|e| Error::new(format!("Google Cloud IAM policy of {t}"), e))?;
                policies.insert(t, parsed);
            }
            let mut out = Vec::new();
            for id in ids {
                let mut parts = id.splitn(3, '|');
                let t = parts.next().unwrap_or(id);
                let (role, cond) = (parts.next(), parts.next().unwrap_or(""));
                // The project or bucket is gone: so is every binding on it.
                let Some(Some(bs)) = policies.get(t) else {
                    continue;
                };
                let items = bs
                    .iter()
                    .filter(|(r, c, _)| role.is_none_or(|role| role == r && cond == c))
                    .flat_map(|(r, c, ms)| {
                        ms.iter().map(move |m| ("binding", member_item(r, m, c)))
                    })
                    .collect();
                out.push(LiveObject {
                    cloud_id: id.clone(),
                    items,
                    is_default: false,
                });
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(t: &str, attrs: Value) -> Resource {
        Resource::for_test(&format!("{t}.x"), t, attrs)
    }

    #[test]
    fn members_bindings_and_policies_own_what_they_declare() {
        let text = std::fs::read_to_string(
            "tests/fixtures/shared/tfstate/driftctl_google_storage_bucket_iam_member.tfstate",
        )
        .unwrap();
        let (_, members) = crate::state::parse("m.tfstate", text.as_bytes()).unwrap();
        let refs: Vec<&Resource> = members.iter().collect();
        let objs = IamPolicies.expected(&refs).unwrap();
        assert!(
            objs.iter().all(|o| o.owner.is_none()),
            "members are additive"
        );
        assert!(objs
            .iter()
            .any(|o| o.cloud_id == "bucket/dctlgstoragebucketiambinding-1|roles/storage.admin"));

        let binding = res(
            "google_project_iam_binding",
            json!({"project": "p1", "role": "roles/viewer",
            "members": ["user:A@Example.com"], "condition": [{"title": "t", "expression": "request.time <  timestamp(\"2030-01-01T00:00:00Z\")"}]}),
        );
        let objs = IamPolicies.expected(&[&binding]).unwrap();
        assert_eq!(
            objs[0].cloud_id,
            "project/p1|roles/viewer|request.time < timestamp(\"2030-01-01T00:00:00Z\")"
        );
        assert!(objs[0].owner.is_some());
        assert_eq!(
            member_item("roles/x", "User:A@Example.com", "").key,
            member_item("roles/x", "user:a@example.com", "").key
        );
        assert_eq!(objs[0].items[0].item.summary, "user:A@Example.com has roles/viewer if request.time < timestamp(\"2030-01-01T00:00:00Z\")");

        let policy = res(
            "google_storage_bucket_iam_policy",
            json!({"bucket": "b/bk",
            "policy_data": "{\"bindings\":[{\"role\":\"roles/storage.objectViewer\",\"members\":[\"allUsers\"]}]}"}),
        );
        let objs = IamPolicies.expected(&[&policy]).unwrap();
        assert_eq!(objs[0].cloud_id, "bucket/bk");
        assert_eq!(objs[0].items[0].item.facts.labels, ["public"]);
    }

    #[test]
    fn recorded_policies_parse() {
        let text = std::fs::read_to_string(
            "tests/fixtures/shared/gcp/forseti_cai_export_iam_policies.jsonl",
        )
        .unwrap();
        let mut n = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let asset: Value = serde_json::from_str(line).unwrap();
            n += bindings(&asset["iam_policy"]).unwrap().len();
        }
        assert!(n > 10);
    }

    #[test]
    fn member_case_follows_iam() {
        assert_eq!(
            canonical_member("user:Alice@Example.com"),
            "user:alice@example.com"
        );
        assert_eq!(canonical_member("domain:Example.COM"), "domain:example.com");
        assert_eq!(
            canonical_member("deleted:serviceAccount:Ci@P.iam.gserviceaccount.com?uid=1"),
            "deleted:serviceaccount:ci@p.iam.gserviceaccount.com?uid=1"
        );
        // Workload identity subjects are case-sensitive: another case is another subject.
        let a = "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/subject/repo:Acme/App:ref:refs/heads/main";
        let b = a.replace("Acme/App", "acme/app");
        assert_eq!(canonical_member(a), a);
        assert_ne!(
            member_item("roles/owner", a, "").key,
            member_item("roles/owner", &b, "").key
        );
        let set =
            "principalSet://iam.googleapis.com/locations/global/workforcePools/P/group/Admins";
        assert_eq!(canonical_member(set), set);
        assert_eq!(canonical_member("allUsers"), "allUsers");
    }

    /// What `fix` writes for `member` revoked live from `role` of the `_iam_policy` in `text`:
    /// the text after the edits, or the manual reason.
    fn revoked(
        text: &str,
        role: &str,
        member: &str,
        condition: &str,
    ) -> std::result::Result<String, String> {
        use crate::families::{Codify, CodifyRequest, NO_REFS};
        let body = hcl_edit::parser::parse_body(text).unwrap();
        let block = body.blocks().next().unwrap();
        let expected = json!({"role": role, "member": member, "condition": condition});
        let got = codify_member(&CodifyRequest {
            resource_type: "google_project_iam_policy",
            block,
            text,
            kind: crate::model::DriftKind::Changed,
            object: "",
            attribute: Some("binding"),
            refs: &NO_REFS,
            expected: &expected,
            actual: &Value::Null,
            alike: &[],
        });
        match got {
            Codify::Edits { mut edits, .. } => {
                let mut out = text.to_string();
                edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
                for e in edits {
                    out.replace_range(e.range, &e.with);
                }
                assert!(hcl_edit::parser::parse_body(&out).is_ok(), "{out}");
                Ok(out)
            }
            Codify::Manual { reason, .. } => Err(reason),
            other => panic!("{other:?}"),
        }
    }

    const EDITOR: &str = "serviceAccount:4@cloudservices.gserviceaccount.com";

    #[test]
    fn members_leave_inline_jsonencode_policies() {
        let tf = "resource \"google_project_iam_policy\" \"p\" {\n  project = \"1044\"\n  # The whole policy is ours.\n  policy_data = jsonencode({\n    bindings = [\n      {\n        role = \"roles/editor\"\n        members = [\n          \"serviceAccount:4@cloudservices.gserviceaccount.com\", # the default\n          \"serviceAccount:4-compute@developer.gserviceaccount.com\",\n          \"serviceAccount:4@CloudServices.gserviceaccount.com\",\n        ]\n      },\n      {\n        role    = \"roles/owner\"\n        members = [\"group:c_grp@forseti.test\", \"user:a_user@forseti.test\"]\n      },\n      {\n        role      = \"roles/viewer\"\n        members   = [\"user:a_user@forseti.test\"]\n        condition = { title = \"t\", expression = \"request.time < timestamp(\\\"2030-01-01T00:00:00Z\\\")\" }\n      },\n    ]\n  })\n}\n";
        // Both spellings of the member go, with the comment on its line.
        let out = revoked(tf, "roles/editor", EDITOR, "").unwrap();
        assert_eq!(
            out,
            tf.replace(
                "          \"serviceAccount:4@cloudservices.gserviceaccount.com\", # the default\n",
                ""
            )
            .replace(
                "          \"serviceAccount:4@CloudServices.gserviceaccount.com\",\n",
                ""
            )
        );
        let out = revoked(tf, "roles/owner", "user:a_user@forseti.test", "").unwrap();
        assert_eq!(
            out,
            tf.replace(
                "[\"group:c_grp@forseti.test\", \"user:a_user@forseti.test\"]",
                "[\"group:c_grp@forseti.test\"]"
            )
        );
        // The conditional binding is another binding; emptied, it goes whole.
        let cond = "request.time < timestamp(\"2030-01-01T00:00:00Z\")";
        let out = revoked(tf, "roles/viewer", "user:a_user@forseti.test", cond).unwrap();
        let from = tf
            .find("      {\n        role      = \"roles/viewer\"")
            .unwrap();
        let to = tf.find("      },\n    ]").unwrap() + "      },\n".len();
        assert_eq!(out, format!("{}{}", &tf[..from], &tf[to..]));
        assert!(
            out.contains("user:a_user@forseti.test"),
            "the owner keeps it"
        );
        // Without the condition, nothing in the code is that binding: already as live.
        assert_eq!(
            revoked(tf, "roles/viewer", "user:a_user@forseti.test", "").unwrap(),
            tf
        );
        // A member written as a reference may be the one revoked: manual.
        let referenced = tf.replace(
            "\"group:c_grp@forseti.test\", \"user:a_user@forseti.test\"",
            "\"group:${var.admins}\"",
        );
        assert!(
            revoked(&referenced, "roles/owner", "user:a_user@forseti.test", "")
                .unwrap_err()
                .contains("cannot be told")
        );
        let variable =
            "resource \"google_project_iam_policy\" \"p\" {\n  policy_data = var.policy\n}\n";
        assert!(revoked(variable, "roles/owner", EDITOR, "")
            .unwrap_err()
            .contains("elsewhere"));
    }

    #[test]
    fn members_leave_json_heredoc_policies() {
        let doc = json!({"bindings": [
            {"role": "roles/editor", "members": [EDITOR, "serviceAccount:4-compute@developer.gserviceaccount.com", EDITOR]},
            {"role": "roles/owner", "members": ["user:a_user@forseti.test"]},
        ]});
        let pretty = serde_json::to_string_pretty(&doc).unwrap();
        let tf = format!("resource \"google_project_iam_policy\" \"p\" {{\n  project     = \"1044\"\n  policy_data = <<-EOT\n{}\n  EOT\n}}\n", pretty.lines().map(|l| format!("    {l}\n")).collect::<String>().trim_end());
        let body_of = |out: &str| -> Value {
            let start = out.find("<<-EOT\n").unwrap() + "<<-EOT\n".len();
            let end = out.find("\n  EOT").unwrap();
            serde_json::from_str(&out[start..end]).unwrap()
        };
        let out = revoked(&tf, "roles/editor", EDITOR, "").unwrap();
        assert_eq!(
            body_of(&out),
            json!({"bindings": [
                {"role": "roles/editor", "members": ["serviceAccount:4-compute@developer.gserviceaccount.com"]},
                {"role": "roles/owner", "members": ["user:a_user@forseti.test"]},
            ]})
        );
        assert_eq!(out.lines().count(), tf.lines().count() - 2, "{out}");
        // The last binding emptied goes whole, and the JSON stays valid.
        let out = revoked(&tf, "roles/owner", "user:a_user@forseti.test", "").unwrap();
        assert_eq!(body_of(&out)["bindings"].as_array().unwrap().len(), 1);
        assert_eq!(body_of(&out)["bindings"][0]["role"], "roles/editor");
        // Interpolations: the JSON is only known when applied.
        let templated = tf.replace("user:a_user@forseti.test", "user:${var.owner}");
        assert!(
            revoked(&templated, "roles/owner", "user:a_user@forseti.test", "")
                .unwrap_err()
                .contains("interpolations")
        );
    }
}
