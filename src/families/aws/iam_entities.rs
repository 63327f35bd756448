//! IAM entities as read from AWS, for the role, user/group, managed policy and inline policy
//! families: per object (`GetRole`, `ListAttachedRolePolicies`, `GetPolicy` + `GetPolicyVersion`…,
//! two to four calls each) or for the whole account at once with `GetAccountAuthorizationDetails`
//! (pages of up to 1,000 entities with their trust and inline policies, attachments, boundaries and
//! policy versions). `--iam-reads auto` lists the account when the run checks more than
//! `LISTING_ABOVE` IAM objects in all; each listing is read once per run and entity kind and
//! shared by every family that needs it.
//!
//! A listing is a snapshot: an object the state declares and the listing lacks (created or renamed
//! since, or named in another case) is read directly before it is called missing.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{AttachedPolicy, EntityType};
use futures::{stream, StreamExt, TryStreamExt};

use serde_json::Value;

use super::config_items::Fields;
use crate::clients::aws::{AwsContext, IamReads};
use crate::error::{Error, Result};
use crate::families::ConfigRef;
use crate::model::ConfigItem;

/// Above this many IAM objects in a run, `auto` lists the account instead of reading each:
/// per-object reads cost 2–4 calls each, a listing page holds 1,000 entities.
pub const LISTING_ABOVE: usize = 10;

/// IAM reads at once on the per-object path (IAM's request rate is low; the SDK backs off on
/// throttling beyond that).
const PER_OBJECT_CONCURRENCY: usize = 4;

/// A role: its trust policy, boundary, attached managed policies and inline policies (name and
/// document).
#[derive(Debug, Clone, Default)]
pub struct Role {
    pub trust: String,
    pub boundary: Option<String>,
    pub attached: Vec<String>,
    pub inline: Vec<(String, String)>,
}

/// A user or a group: boundary (users only), attached managed policies, inline policy names.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    pub boundary: Option<String>,
    pub attached: Vec<String>,
    pub inline: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Role,
    User,
    Group,
}

impl Kind {
    /// The AWS Config resource type of entities of this kind.
    pub fn config_type(self) -> &'static str {
        match self {
            Kind::Role => "AWS::IAM::Role",
            Kind::User => "AWS::IAM::User",
            Kind::Group => "AWS::IAM::Group",
        }
    }

    fn parse(kind: &str) -> Option<Kind> {
        match kind {
            "role" => Some(Kind::Role),
            "user" => Some(Kind::User),
            "group" => Some(Kind::Group),
            _ => None,
        }
    }
}

/// What one account-wide listing returned for the entity types it asked for.
#[derive(Debug, Default)]
struct Listing {
    roles: HashMap<String, Role>,
    users: HashMap<String, Principal>,
    groups: HashMap<String, Principal>,
    /// Customer managed policies: ARN → default version's document.
    policies: HashMap<String, String>,
    /// Inline policy documents by (kind, principal, policy name).
    inline: HashMap<(Kind, String, String), String>,
}

/// The listings a run can need; each is read at most once.
#[derive(Debug, Clone, Copy)]
enum Part {
    Roles,
    UsersAndGroups,
    Policies,
}

impl Part {
    fn key(self) -> &'static str {
        match self {
            Part::Roles => "iam-listing-roles",
            Part::UsersAndGroups => "iam-listing-users-groups",
            Part::Policies => "iam-listing-policies",
        }
    }

    fn filter(self) -> &'static [EntityType] {
        match self {
            Part::Roles => &[EntityType::Role],
            Part::UsersAndGroups => &[EntityType::User, EntityType::Group],
            Part::Policies => &[EntityType::LocalManagedPolicy],
        }
    }
}

/// The IAM families, whose objects count together for `auto`.
const IAM_FAMILIES: [&str; 4] = [
    super::iam::IAM_POLICIES.name,
    super::iam::IAM_INLINE_POLICIES.name,
    super::iam_role::IAM_ROLES.name,
    super::iam_principal::IAM_PRINCIPALS.name,
];

/// Listing or per-object reads, for the whole run: once the run checks more than a handful of
/// IAM objects in all, every IAM family lists (a listing costs the same whoever asks first, and a
/// family of two users should not add per-object calls beside it).
fn listed(aws: &AwsContext, count: usize) -> bool {
    match aws.iam_reads() {
        IamReads::Auto => count.max(aws.planned(&IAM_FAMILIES)) > LISTING_ABOVE,
        IamReads::Account => true,
        IamReads::Object => false,
    }
}

/// The account-wide listing of `part`, read once per run.
async fn listing(aws: &AwsContext, region: &str, part: Part) -> Result<Arc<Listing>> {
    aws.once(part.key(), read_listing(aws, region, part)).await
}

async fn read_listing(aws: &AwsContext, region: &str, part: Part) -> Result<Listing> {
    let _turn = aws.iam_turn().await;
    let client = aws.iam(region);
    let mut request = client.get_account_authorization_details().max_items(1000);
    for f in part.filter() {
        request = request.filter(f.clone());
    }
    let mut pages = request.into_paginator().send();
    let mut out = Listing::default();
    let call = "GetAccountAuthorizationDetails";
    let policy_doc = |who: &str, doc: Option<&str>| {
        doc.map(str::to_string).ok_or_else(|| {
            Error::new(
                format!("AWS iam {call} in {region}"),
                format!("{who} is listed without its policy document"),
            )
        })
    };
    while let Some(page) = pages.next().await {
        aws.count("iam", call);
        let page = page.map_err(|e| aws.error("iam", call, region, e))?;
        for r in page.role_detail_list() {
            let Some(name) = r.role_name() else { continue };
            let mut role = Role {
                trust: policy_doc(&format!("role {name}"), r.assume_role_policy_document())?,
                boundary: r
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_string),
                attached: arns(r.attached_managed_policies()),
                inline: Vec::new(),
            };
            for p in r.role_policy_list() {
                let Some(policy) = p.policy_name() else {
                    continue;
                };
                let doc = policy_doc(&format!("role {name} policy {policy}"), p.policy_document())?;
                out.inline.insert(
                    (Kind::Role, name.to_string(), policy.to_string()),
                    doc.clone(),
                );
                role.inline.push((policy.to_string(), doc));
            }
            out.roles.insert(name.to_string(), role);
        }
        for u in page.user_detail_list() {
            let Some(name) = u.user_name() else { continue };
            let mut user = Principal {
                boundary: u
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_string),
                attached: arns(u.attached_managed_policies()),
                inline: Vec::new(),
            };
            for p in u.user_policy_list() {
                let Some(policy) = p.policy_name() else {
                    continue;
                };
                let doc = policy_doc(&format!("user {name} policy {policy}"), p.policy_document())?;
                out.inline
                    .insert((Kind::User, name.to_string(), policy.to_string()), doc);
                user.inline.push(policy.to_string());
            }
            out.users.insert(name.to_string(), user);
        }
        for g in page.group_detail_list() {
            let Some(name) = g.group_name() else { continue };
            let mut group = Principal {
                boundary: None,
                attached: arns(g.attached_managed_policies()),
                inline: Vec::new(),
            };
            for p in g.group_policy_list() {
                let Some(policy) = p.policy_name() else {
                    continue;
                };
                let doc = policy_doc(
                    &format!("group {name} policy {policy}"),
                    p.policy_document(),
                )?;
                out.inline
                    .insert((Kind::Group, name.to_string(), policy.to_string()), doc);
                group.inline.push(policy.to_string());
            }
            out.groups.insert(name.to_string(), group);
        }
        for p in page.policies() {
            let Some(arn) = p.arn() else { continue };
            let default = p
                .policy_version_list()
                .iter()
                .find(|v| v.is_default_version());
            let doc = policy_doc(
                &format!("policy {arn} (default version)"),
                default.and_then(|v| v.document()),
            )?;
            out.policies.insert(arn.to_string(), doc);
        }
    }
    Ok(out)
}

fn arns(attached: &[AttachedPolicy]) -> Vec<String> {
    attached
        .iter()
        .filter_map(|p| p.policy_arn())
        .map(str::to_string)
        .collect()
}

/// Reads `ids` with `read_one` (absent: `None`) at bounded concurrency, in order.
async fn per_object<T, F, Fut>(ids: Vec<String>, read_one: F) -> Result<Vec<(String, T)>>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let found: Vec<Option<(String, T)>> = stream::iter(ids)
        .map(|id| {
            let read = read_one(id.clone());
            async move { Ok::<_, Error>(read.await?.map(|v| (id, v))) }
        })
        .buffered(PER_OBJECT_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// Takes from the listing what it holds; reads the rest directly (a snapshot's absence is not
/// proof of deletion).
async fn from_listing<T, F, Fut>(
    ids: &[String],
    listed: impl Fn(&str) -> Option<T>,
    read_one: F,
) -> Result<Vec<(String, T)>>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let mut out = Vec::new();
    let mut unlisted = Vec::new();
    for id in ids {
        match listed(id) {
            Some(v) => out.push((id.clone(), v)),
            None => unlisted.push(id.clone()),
        }
    }
    out.extend(per_object(unlisted, read_one).await?);
    Ok(out)
}

/// Roles by name; roles that do not exist are absent.
pub async fn roles(
    aws: &AwsContext,
    region: &str,
    names: &[String],
) -> Result<Vec<(String, Role)>> {
    let read = |n: String| async move { read_role(aws, region, &n).await };
    if listed(aws, names.len()) {
        let all = listing(aws, region, Part::Roles).await?;
        return from_listing(names, |n| all.roles.get(n).cloned(), read).await;
    }
    per_object(names.to_vec(), read).await
}

/// Users and groups by `user/NAME` or `group/NAME`; those that do not exist are absent.
pub async fn principals(
    aws: &AwsContext,
    region: &str,
    ids: &[String],
) -> Result<Vec<(String, Principal)>> {
    let read = |id: String| async move { read_principal(aws, region, &id).await };
    if listed(aws, ids.len()) {
        let all = listing(aws, region, Part::UsersAndGroups).await?;
        let find = |id: &str| match principal_id(id)? {
            (Kind::User, name) => all.users.get(name).cloned(),
            (_, name) => all.groups.get(name).cloned(),
        };
        return from_listing(ids, find, read).await;
    }
    per_object(ids.to_vec(), read).await
}

/// Customer managed policies by ARN: the default version's document.
pub async fn policies(
    aws: &AwsContext,
    region: &str,
    arns: &[String],
) -> Result<Vec<(String, String)>> {
    let read = |a: String| async move { read_policy(aws, region, &a).await };
    if listed(aws, arns.len()) {
        let all = listing(aws, region, Part::Policies).await?;
        return from_listing(arns, |a| all.policies.get(a).cloned(), read).await;
    }
    per_object(arns.to_vec(), read).await
}

/// Inline policy documents by `kind/principal:name`.
pub async fn inline_policies(
    aws: &AwsContext,
    region: &str,
    ids: &[String],
) -> Result<Vec<(String, String)>> {
    let read = |id: String| async move { read_inline(aws, region, &id).await };
    if listed(aws, ids.len()) {
        let kinds: Vec<Kind> = ids
            .iter()
            .filter_map(|id| inline_id(id).map(|p| p.0))
            .collect();
        let roles = match kinds.contains(&Kind::Role) {
            true => Some(listing(aws, region, Part::Roles).await?),
            false => None,
        };
        let principals = match kinds.iter().any(|k| *k != Kind::Role) {
            true => Some(listing(aws, region, Part::UsersAndGroups).await?),
            false => None,
        };
        let find = |id: &str| {
            let (kind, principal, name) = inline_id(id)?;
            let all = match kind {
                Kind::Role => roles.as_ref()?,
                _ => principals.as_ref()?,
            };
            all.inline
                .get(&(kind, principal.to_string(), name.to_string()))
                .cloned()
        };
        return from_listing(ids, find, read).await;
    }
    per_object(ids.to_vec(), read).await
}

/// `user/ci` → (user, ci); `group/ops` → (group, ops).
fn principal_id(id: &str) -> Option<(Kind, &str)> {
    let (kind, name) = id.split_once('/')?;
    Kind::parse(kind)
        .filter(|k| *k != Kind::Role)
        .map(|k| (k, name))
}

/// `role/app:jobs` → (role, app, jobs). IAM names cannot contain ':' or '/'.
fn inline_id(id: &str) -> Option<(Kind, &str, &str)> {
    let (kind, rest) = id.split_once('/')?;
    let (principal, name) = rest.split_once(':')?;
    Some((Kind::parse(kind)?, principal, name))
}

fn not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("NoSuchEntity")
}

async fn read_role(aws: &AwsContext, region: &str, name: &str) -> Result<Option<Role>> {
    let _turn = aws.iam_turn().await;
    let client = aws.iam(region);
    aws.count("iam", "GetRole");
    let answer = match client.get_role().role_name(name).send().await {
        Ok(r) => r,
        Err(e) if not_found(&e) => return Ok(None),
        Err(e) => return Err(aws.error("iam", "GetRole", region, e)),
    };
    let Some(r) = answer.role() else {
        return Err(Error::new(
            format!("AWS IAM role {name}"),
            "GetRole answered without a role",
        ));
    };
    let mut role = Role {
        trust: r
            .assume_role_policy_document()
            .unwrap_or_default()
            .to_string(),
        boundary: r
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string),
        ..Role::default()
    };
    let mut pages = client
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        aws.count("iam", "ListAttachedRolePolicies");
        let page = page.map_err(|e| aws.error("iam", "ListAttachedRolePolicies", region, e))?;
        role.attached.extend(arns(page.attached_policies()));
    }
    let mut names = Vec::new();
    let mut pages = client
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        aws.count("iam", "ListRolePolicies");
        let page = page.map_err(|e| aws.error("iam", "ListRolePolicies", region, e))?;
        names.extend(page.policy_names().iter().cloned());
    }
    for policy in names {
        aws.count("iam", "GetRolePolicy");
        let doc = client
            .get_role_policy()
            .role_name(name)
            .policy_name(&policy)
            .send()
            .await
            .map_err(|e| aws.error("iam", "GetRolePolicy", region, e))?;
        role.inline
            .push((policy, doc.policy_document().to_string()));
    }
    Ok(Some(role))
}

async fn read_principal(aws: &AwsContext, region: &str, id: &str) -> Result<Option<Principal>> {
    let Some((kind, name)) = principal_id(id) else {
        return Err(Error::new(
            format!("AWS IAM {id}"),
            "not a user/NAME or group/NAME id",
        ));
    };
    let _turn = aws.iam_turn().await;
    let client = aws.iam(region);
    let mut out = Principal::default();
    if kind == Kind::User {
        aws.count("iam", "GetUser");
        let user = match client.get_user().user_name(name).send().await {
            Ok(u) => u,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(aws.error("iam", "GetUser", region, e)),
        };
        out.boundary = user
            .user()
            .and_then(|u| u.permissions_boundary())
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string);
        let mut pages = client
            .list_attached_user_policies()
            .user_name(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            aws.count("iam", "ListAttachedUserPolicies");
            let page = page.map_err(|e| aws.error("iam", "ListAttachedUserPolicies", region, e))?;
            out.attached.extend(arns(page.attached_policies()));
        }
        let mut pages = client
            .list_user_policies()
            .user_name(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            aws.count("iam", "ListUserPolicies");
            let page = page.map_err(|e| aws.error("iam", "ListUserPolicies", region, e))?;
            out.inline.extend(page.policy_names().iter().cloned());
        }
        return Ok(Some(out));
    }
    // Groups have no Get call that lists both: a missing group shows in its first list.
    let mut pages = client
        .list_group_policies()
        .group_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        aws.count("iam", "ListGroupPolicies");
        match page {
            Ok(page) => out.inline.extend(page.policy_names().iter().cloned()),
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(aws.error("iam", "ListGroupPolicies", region, e)),
        }
    }
    let mut pages = client
        .list_attached_group_policies()
        .group_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        aws.count("iam", "ListAttachedGroupPolicies");
        match page {
            Ok(page) => out.attached.extend(arns(page.attached_policies())),
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(aws.error("iam", "ListAttachedGroupPolicies", region, e)),
        }
    }
    Ok(Some(out))
}

async fn read_policy(aws: &AwsContext, region: &str, arn: &str) -> Result<Option<String>> {
    let _turn = aws.iam_turn().await;
    let client = aws.iam(region);
    aws.count("iam", "GetPolicy");
    let policy = match client.get_policy().policy_arn(arn).send().await {
        Ok(p) => p,
        Err(e) if not_found(&e) => return Ok(None),
        Err(e) => return Err(aws.error("iam", "GetPolicy", region, e)),
    };
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .ok_or_else(|| {
            Error::new(
                format!("AWS IAM {arn}"),
                "GetPolicy answered without a default version",
            )
        })?;
    aws.count("iam", "GetPolicyVersion");
    match client
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
    {
        Ok(v) => Ok(Some(
            v.policy_version()
                .and_then(|v| v.document())
                .unwrap_or_default()
                .to_string(),
        )),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(aws.error("iam", "GetPolicyVersion", region, e)),
    }
}

async fn read_inline(aws: &AwsContext, region: &str, id: &str) -> Result<Option<String>> {
    let Some((kind, principal, name)) = inline_id(id) else {
        return Err(Error::new(
            format!("AWS IAM {id}"),
            "not a kind/principal:policy id",
        ));
    };
    let _turn = aws.iam_turn().await;
    let client = aws.iam(region);
    let answer = match kind {
        Kind::Role => {
            aws.count("iam", "GetRolePolicy");
            match client
                .get_role_policy()
                .role_name(principal)
                .policy_name(name)
                .send()
                .await
            {
                Ok(p) => Some(p.policy_document().to_string()),
                Err(e) if not_found(&e) => None,
                Err(e) => return Err(aws.error("iam", "GetRolePolicy", region, e)),
            }
        }
        Kind::User => {
            aws.count("iam", "GetUserPolicy");
            match client
                .get_user_policy()
                .user_name(principal)
                .policy_name(name)
                .send()
                .await
            {
                Ok(p) => Some(p.policy_document().to_string()),
                Err(e) if not_found(&e) => None,
                Err(e) => return Err(aws.error("iam", "GetUserPolicy", region, e)),
            }
        }
        Kind::Group => {
            aws.count("iam", "GetGroupPolicy");
            match client
                .get_group_policy()
                .group_name(principal)
                .policy_name(name)
                .send()
                .await
            {
                Ok(p) => Some(p.policy_document().to_string()),
                Err(e) if not_found(&e) => None,
                Err(e) => return Err(aws.error("iam", "GetGroupPolicy", region, e)),
            }
        }
    };
    Ok(answer)
}

/// A role, user or group as AWS Config records it (`AWS::IAM::Role`, `…::User`, `…::Group`):
/// the same facts the IAM reads give, documents URL-encoded as IAM sends them.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub name: String,
    pub trust: String,
    pub boundary: Option<String>,
    /// Whether the item says anything of the boundary: a role's item leaves it out when there is
    /// none; AWS Config's schema of users does not list it, so a user's item without it is left
    /// to a direct read rather than taken as "no boundary".
    pub boundary_recorded: bool,
    pub attached: Vec<String>,
    /// Inline policies: name and document.
    pub inline: Vec<(String, String)>,
}

/// The entity of `kind` in `item`.
pub fn from_config(item: &ConfigItem, kind: Kind) -> Result<Recorded> {
    let (label, name_key, inline_key) = match kind {
        Kind::Role => ("IAM role", "roleName", "rolePolicyList"),
        Kind::User => ("IAM user", "userName", "userPolicyList"),
        Kind::Group => ("IAM group", "groupName", "groupPolicyList"),
    };
    let f = Fields::of(item, label);
    let c = f.root();
    let name = f
        .text(c, name_key)
        .ok_or_else(|| f.bad(&format!("has no `{name_key}`")))?;
    let trust = match kind {
        Kind::Role => document(
            &f,
            c.get("assumeRolePolicyDocument")
                .ok_or_else(|| f.bad("has no `assumeRolePolicyDocument`"))?,
        )?,
        _ => String::new(),
    };
    let boundary_recorded = kind == Kind::Role || c.get("permissionsBoundary").is_some();
    let boundary = match c.get("permissionsBoundary") {
        None | Some(Value::Null) => None,
        Some(b) => Some(
            f.text(b, "permissionsBoundaryArn")
                .ok_or_else(|| f.bad("has a `permissionsBoundary` without its ARN"))?,
        ),
    };
    let mut attached = Vec::new();
    for a in f.list(c, "attachedManagedPolicies")? {
        attached.push(
            f.text(a, "policyArn")
                .ok_or_else(|| f.bad("has an attached policy without `policyArn`"))?,
        );
    }
    let mut inline = Vec::new();
    for p in f.list(c, inline_key)? {
        let policy = f
            .text(p, "policyName")
            .ok_or_else(|| f.bad(&format!("has a `{inline_key}` entry without `policyName`")))?;
        let doc = p
            .get("policyDocument")
            .ok_or_else(|| f.bad(&format!("has inline policy {policy} without its document")))?;
        inline.push((policy, document(&f, doc)?));
    }
    Ok(Recorded {
        name,
        trust,
        boundary,
        boundary_recorded,
        attached,
        inline,
    })
}

/// A customer managed policy as AWS Config records it (`AWS::IAM::Policy`): its ARN and the
/// document of its default version.
pub fn policy_from_config(item: &ConfigItem) -> Result<(String, String)> {
    let f = Fields::of(item, "IAM policy");
    let c = f.root();
    let arn = f.text(c, "arn").ok_or_else(|| f.bad("has no `arn`"))?;
    let default = f.text(c, "defaultVersionId");
    let versions = f.list(c, "policyVersionList")?;
    let version = versions
        .iter()
        .find(|v| {
            v.get("isDefaultVersion") == Some(&Value::Bool(true))
                || (default.is_some() && f.text(v, "versionId") == default)
        })
        .ok_or_else(|| f.bad("has no default version in `policyVersionList`"))?;
    let doc = version
        .get("document")
        .ok_or_else(|| f.bad("has a default version without its `document`"))?;
    Ok((arn, document(&f, doc)?))
}

/// A policy document as text: Config sends it URL-encoded, as IAM does, or (in some recorded
/// items) as the JSON itself, alone or as a list of one.
fn document(f: &Fields, doc: &Value) -> Result<String> {
    match doc {
        Value::String(s) => Ok(s.clone()),
        Value::Object(_) => Ok(doc.to_string()),
        Value::Array(a) if a.len() == 1 && a[0].is_object() => Ok(a[0].to_string()),
        _ => Err(f.bad("has a policy document that is neither text nor a JSON document")),
    }
}

/// Where Config keeps the item of a `role/NAME`, `user/NAME` or `group/NAME` id, and of the
/// principal of a `kind/principal:policy` inline policy id.
pub fn config_ref_of_principal(id: &str) -> Option<ConfigRef> {
    let (kind, rest) = id.split_once('/')?;
    let kind = Kind::parse(kind)?;
    let principal = rest.split_once(':').map_or(rest, |(p, _)| p);
    ConfigRef::name(kind.config_type(), principal)
}

/// The kind and principal name an id names, and the inline policy name when it has one.
pub fn parse_id(id: &str) -> Option<(Kind, &str, Option<&str>)> {
    let (kind, rest) = id.split_once('/')?;
    let kind = Kind::parse(kind)?;
    Some(match rest.split_once(':') {
        Some((p, n)) => (kind, p, Some(n)),
        None => (kind, rest, None),
    })
}

/// The kind of entity an item records.
pub fn kind_of_item(item: &ConfigItem) -> Option<Kind> {
    [Kind::Role, Kind::User, Kind::Group]
        .into_iter()
        .find(|k| k.config_type() == item.resource_type)
}
