//! S3 bucket ACLs: `aws_s3_bucket_acl`, as a canned `acl` or an `access_control_policy`. Grants
//! are compared as a set, without the owner's own FULL_CONTROL (implied by every ACL), so that a
//! canned `private` equals the owner-only grant list S3 returns. A grant to everyone
//! (AllUsers) or to every AWS account (AuthenticatedUsers) is labelled `public`.

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;
use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::config_items::{with_supplementary, Fields};
use super::region_account;
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{bad, About, Codify, CodifyRequest, ConfigRef, Family, FromConfig, Subject};
use crate::model::Reach;
use crate::model::{
    Cloud, ConfigItem, Declarer, ExpectedItem, ExpectedObject, Facts, Item, LiveObject,
};
use crate::state::Resource;
use hcl_edit::Span;

pub const BUCKET_ACLS: About = About {
    name: "s3_bucket_acl",
    cloud: Cloud::Aws,
    label: "bucket ACL(s)",
    resource_types: &["aws_s3_bucket_acl", "aws_s3_bucket"],
    batch_size: 1,
};

pub struct BucketAcls;

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

/// One grant: a grantee (`uri:…`, `id:…` or `email:…`) and a permission.
fn grant(grantee: &str, permission: &str) -> Item {
    let public = grantee == format!("uri:{ALL_USERS}") || grantee == format!("uri:{AUTHENTICATED}");
    Item {
        identity: None,
        key: format!("{grantee}|{permission}"),
        value: json!({ "grantee": grantee, "permission": permission }),
        summary: format!(
            "{permission} to {}",
            grantee.rsplit('/').next().unwrap_or(grantee)
        ),
        facts: Facts {
            grants: true,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels: if public { vec!["public"] } else { vec![] },
        },
    }
}

/// The non-owner grants of a canned ACL.
fn canned(acl: &str) -> std::result::Result<Vec<Item>, String> {
    let g = |uri: &str, p: &str| grant(&format!("uri:{uri}"), p);
    Ok(match acl {
        "private" | "bucket-owner-full-control" | "bucket-owner-read" => vec![],
        "public-read" => vec![g(ALL_USERS, "READ")],
        "public-read-write" => vec![g(ALL_USERS, "READ"), g(ALL_USERS, "WRITE")],
        "authenticated-read" => vec![g(AUTHENTICATED, "READ")],
        "log-delivery-write" => vec![g(LOG_DELIVERY, "WRITE"), g(LOG_DELIVERY, "READ_ACP")],
        "aws-exec-read" => vec![],
        other => return Err(format!("unknown canned ACL `{other}`")),
    })
}

/// The canned ACLs, in the order a name is chosen for a set of grants (`private` for none).
const CANNED: [&str; 5] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "log-delivery-write",
];

/// A grant's key (`grantee|permission`) from a drift's value.
fn key_of(v: &Value) -> Option<String> {
    Some(format!(
        "{}|{}",
        v.get("grantee")?.as_str()?,
        v.get("permission")?.as_str()?
    ))
}

/// The grants live, as `codify` is told them: the code's, less those gone, plus those added.
fn live_keys(mut keys: Vec<String>, r: &CodifyRequest) -> Vec<String> {
    for (_, expected, actual) in r.alike {
        match (key_of(expected), key_of(actual)) {
            (Some(gone), None) => keys.retain(|k| *k != gone),
            (None, Some(added)) if !keys.contains(&added) => keys.push(added),
            _ => {}
        }
    }
    keys.sort();
    keys
}

fn grants_text(keys: &[String]) -> String {
    let named: Vec<String> = keys
        .iter()
        .filter_map(|k| {
            let (who, permission) = k.rsplit_once('|')?;
            Some(grant(who, permission).summary)
        })
        .collect();
    match named.is_empty() {
        true => "no grant but the owner's".into(),
        false => named.join(", "),
    }
}

/// What the drifts of `alike` change: `without READ to AllUsers, with WRITE to LogDelivery`.
fn changes_text(r: &CodifyRequest) -> String {
    let parts: Vec<String> = r
        .alike
        .iter()
        .filter_map(
            |(_, expected, actual)| match (key_of(expected), key_of(actual)) {
                (Some(gone), None) => Some(format!("without {}", grants_text(&[gone]))),
                (None, Some(added)) => Some(format!("with {}", grants_text(&[added]))),
                _ => None,
            },
        )
        .collect();
    format!("the ACL {}", parts.join(", "))
}

/// A canned `acl` written anew: the canned ACL whose grants are the live ones.
fn codify_canned(r: &CodifyRequest, acl: &str) -> Codify {
    let keys = |name: &str| -> Vec<String> {
        let mut k: Vec<String> = canned(name)
            .unwrap_or_default()
            .into_iter()
            .map(|g| g.key)
            .collect();
        k.sort();
        k
    };
    let start = r.block.span().map_or(0, |s| s.start);
    if canned(acl).is_err() {
        return Codify::Manual {
            offset: start,
            reason: format!("`acl = \"{acl}\"` is not a canned ACL driftgate knows"),
            want: "the ACL that is live".into(),
        };
    }
    let live = live_keys(keys(acl), r);
    match CANNED.iter().find(|name| keys(name) == live) {
        Some(name) if *name == acl || keys(acl) == live => Codify::Edits {
            edits: Vec::new(),
            summary: format!("acl = \"{acl}\""),
        },
        Some(name) => crate::families::set_attribute(r, "acl", &format!("\"{name}\"")),
        None => Codify::Manual {
            offset: r
                .block
                .body
                .get_attribute("acl")
                .and_then(|a| a.span())
                .map_or(start, |s| s.start),
            reason: "no canned ACL grants what is live: write an `access_control_policy` \
                     (an `aws_s3_bucket_acl`)"
                .into(),
            want: grants_text(&live),
        },
    }
}

/// A grant of an `access_control_policy` block as its key; `Err(offset)`: a field is not a
/// literal.
fn block_key(grant: &hcl_edit::structure::Block) -> std::result::Result<String, usize> {
    use crate::families::literal;
    let at = grant.span().map_or(0, |s| s.start);
    let text =
        |body: &hcl_edit::structure::Body, k: &str| -> std::result::Result<Option<String>, usize> {
            Ok(literal(body, k)?
                .and_then(|v| v.as_str().map(str::to_string))
                .filter(|s| !s.is_empty()))
        };
    let permission = text(&grant.body, "permission")?.ok_or(at)?;
    let grantee = grant.body.get_blocks("grantee").next().ok_or(at)?;
    let who = match (
        text(&grantee.body, "uri")?,
        text(&grantee.body, "id")?,
        text(&grantee.body, "email_address")?,
    ) {
        (Some(u), _, _) => format!("uri:{u}"),
        (_, Some(id), _) => format!("id:{id}"),
        (_, _, Some(e)) => format!("email:{e}"),
        _ => return Err(at),
    };
    Ok(format!("{who}|{permission}"))
}

/// A grant of an `access_control_policy` revoked live (its `grant` block goes) or added live
/// (a `grant` block is written).
fn codify_policy(r: &CodifyRequest, policy: &hcl_edit::structure::Block) -> Codify {
    let at = policy.span().map_or(0, |s| s.start);
    let (gone, added) = (key_of(r.expected), key_of(r.actual));
    let want = match (&gone, &added) {
        (Some(g), None) => format!("no grant {}", grants_text(std::slice::from_ref(g))),
        (None, Some(a)) => format!("a grant {}", grants_text(std::slice::from_ref(a))),
        _ => return Codify::Unsupported,
    };
    let manual = |offset: usize, reason: &str| Codify::Manual {
        offset,
        reason: reason.into(),
        want: want.clone(),
    };
    if policy
        .body
        .get_blocks("dynamic")
        .any(|b| b.labels.first().is_some_and(|l| l.as_str() == "grant"))
    {
        return manual(at, "the grants are a `dynamic \"grant\"` block");
    }
    let grants: Vec<(
        &hcl_edit::structure::Block,
        std::result::Result<String, usize>,
    )> = policy
        .body
        .get_blocks("grant")
        .map(|g| (g, block_key(g)))
        .collect();
    let unknown = grants.iter().find_map(|(_, k)| k.as_ref().err().copied());
    let key = gone.as_ref().or(added.as_ref()).map_or("", String::as_str);
    let written = grants
        .iter()
        .find(|(_, k)| k.as_deref() == Ok(key))
        .map(|(g, _)| *g);
    match (gone.is_some(), written, unknown) {
        (true, Some(g), _) => match g.span() {
            Some(span) => Codify::Edits {
                edits: vec![crate::families::remove_lines(r.text, span)],
                summary: want,
            },
            None => manual(at, "the grant block has no position"),
        },
        (_, None, Some(offset)) => manual(
            offset,
            "a grant is written with expressions: which one it is cannot be told",
        ),
        // Already as live (a fix written before the state caught up).
        (true, None, None) | (false, Some(_), _) => Codify::Edits {
            edits: Vec::new(),
            summary: want,
        },
        (false, None, None) => {
            let Some((who, permission)) = key.rsplit_once('|') else {
                return Codify::Unsupported;
            };
            let (field, kind, value) = match who.split_once(':') {
                Some(("uri", v)) => ("uri", "Group", v),
                Some(("id", v)) => ("id", "CanonicalUser", v),
                Some(("email", v)) => ("email_address", "AmazonCustomerByEmail", v),
                _ => return Codify::Unsupported,
            };
            let lines = [
                "grant {".to_string(),
                "  grantee {".to_string(),
                format!("    type = \"{kind}\""),
                format!("    {field} = \"{value}\""),
                "  }".to_string(),
                format!("  permission = \"{permission}\""),
                "}".to_string(),
            ];
            match crate::families::append_block(r.text, policy, &lines) {
                Ok(edit) => Codify::Edits {
                    edits: vec![edit],
                    summary: want,
                },
                Err(why) => manual(at, why),
            }
        }
    }
}

fn state_grants(r: &Resource) -> Result<Vec<Item>> {
    if let Some(acl) = r.attr_str("acl") {
        return canned(acl).map_err(|e| bad(r, &e));
    }
    let policy = r
        .attr("access_control_policy")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .ok_or_else(|| bad(r, "has neither `acl` nor `access_control_policy`"))?;
    let owner = policy
        .pointer("/owner/0/id")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut out = Vec::new();
    for g in policy
        .get("grant")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let permission = g.get("permission").and_then(Value::as_str).unwrap_or("");
        let grantee = g
            .pointer("/grantee/0")
            .ok_or_else(|| bad(r, "a grant has no grantee"))?;
        let text = |k: &str| {
            grantee
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let who = match (text("uri"), text("id"), text("email_address")) {
            (Some(u), _, _) => format!("uri:{u}"),
            (_, Some(id), _) if id == owner && permission == "FULL_CONTROL" => continue,
            (_, Some(id), _) => format!("id:{id}"),
            (_, _, Some(e)) => format!("email:{e}"),
            _ => return Err(bad(r, "a grantee has no uri, id or email")),
        };
        out.push(grant(&who, permission));
    }
    Ok(out)
}

impl Family for BucketAcls {
    fn about(&self) -> &'static About {
        &BUCKET_ACLS
    }

    /// A grant revoked or added live: a canned `acl` becomes the canned ACL of what is live
    /// (from every grant that drifted, `alike`), an `access_control_policy` loses or gains the
    /// `grant` block.
    fn codify(&self, r: &CodifyRequest) -> Codify {
        if r.attribute != Some("grant") {
            return Codify::Unsupported;
        }
        let start = r.block.span().map_or(0, |s| s.start);
        match crate::families::literal(&r.block.body, "acl") {
            Ok(Some(Value::String(acl))) => return codify_canned(r, &acl),
            Ok(_) => {}
            Err(offset) => {
                return Codify::Manual {
                    offset,
                    reason: "`acl` is an expression, not a literal of this resource".into(),
                    want: changes_text(r),
                }
            }
        }
        match r.block.body.get_blocks("access_control_policy").next() {
            Some(policy) => codify_policy(r, policy),
            // No `acl` in the code: the provider's default, `private` (provider v3 buckets).
            None if r.resource_type == "aws_s3_bucket" => codify_canned(r, "private"),
            None => Codify::Manual {
                offset: start,
                reason: "the block has neither a literal `acl` nor an `access_control_policy`"
                    .into(),
                want: changes_text(r),
            },
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let covered: Vec<&str> = resources
            .iter()
            .filter(|r| r.resource_type == "aws_s3_bucket_acl")
            .filter_map(|r| r.attr_str("bucket"))
            .collect();
        let mut out = BTreeMap::new();
        for r in resources {
            // `aws_s3_bucket`'s own canned `acl` (provider v3) for buckets no separate ACL
            // resource covers; its `grant` copies name the owner by an id the state does not
            // tell apart, so they are not used.
            if r.resource_type == "aws_s3_bucket"
                && (r.attr_str("acl").is_none()
                    || r.attr_str("bucket").is_some_and(|b| covered.contains(&b)))
            {
                continue;
            }
            let bucket = r
                .attr_str("bucket")
                .ok_or_else(|| bad(r, "has no `bucket`"))?;
            let by = Declarer::of(r, true);
            let items = state_grants(r)?
                .into_iter()
                .map(|item| ExpectedItem {
                    attribute: "grant",
                    item,
                    by: by.clone(),
                })
                .collect();
            let obj = ExpectedObject {
                family: BUCKET_ACLS.name,
                cloud_id: bucket.to_string(),
                region: region_account(r).0,
                account: None,
                owner: Some(by),
                items,
                tags: BTreeMap::new(),
                is_default: false,
                ignore: Vec::new(),
                tolerated: Vec::new(),
            };
            if out.insert(bucket.to_string(), obj).is_some() {
                return Err(bad(
                    r,
                    &format!(
                        "manages the ACL of bucket {bucket}, which another resource manages too"
                    ),
                ));
            }
        }
        Ok(out.into_values().collect())
    }

    fn exposure<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move {
            super::bucket_access::buckets_reach(clouds.aws()?, region, objects).await
        })
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let aws = clouds.aws()?;
            let client = aws.s3(region);
            let mut out = Vec::new();
            for bucket in ids {
                aws.count("s3", "GetBucketAcl");
                let acl = match client.get_bucket_acl().bucket(bucket).send().await {
                    Ok(a) => a,
                    Err(e) if e.code() == Some("NoSuchBucket") => continue,
                    Err(e) => return Err(aws.error("s3", "GetBucketAcl", region, e)),
                };
                let owner = acl.owner().and_then(|o| o.id()).unwrap_or("");
                let mut items = Vec::new();
                for g in acl.grants() {
                    let permission = g.permission().map(|p| p.as_str()).unwrap_or("");
                    let Some(grantee) = g.grantee() else { continue };
                    let who = match (grantee.uri(), grantee.id(), grantee.email_address()) {
                        (Some(u), _, _) => format!("uri:{u}"),
                        (_, Some(id), _) if id == owner && permission == "FULL_CONTROL" => continue,
                        (_, Some(id), _) => format!("id:{id}"),
                        (_, _, Some(e)) => format!("email:{e}"),
                        _ => continue,
                    };
                    items.push(("grant", grant(&who, permission)));
                }
                out.push(LiveObject {
                    cloud_id: bucket.clone(),
                    items,
                    is_default: false,
                });
            }
            Ok(out)
        })
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::id("AWS::S3::Bucket", cloud_id)
    }

    /// The bucket item's supplementary `AccessControlList` (JSON encoded twice), in the AWS SDK
    /// for Java's names: a grantee is `{id}`, `{emailAddress}` or a group (`AllUsers`), a
    /// permission `FullControl`, `Read`… A grant in any other shape leaves the bucket to a
    /// direct read rather than a guess.
    fn live_from_config(&self, ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for (f, acl) in with_supplementary(ids, items, "S3 bucket", "AccessControlList")? {
            let item = f.item();
            let acl = match acl {
                Value::String(s) => serde_json::from_str(&s)
                    .map_err(|_| f.bad("has an `AccessControlList` that is not JSON"))?,
                v => v,
            };
            if let Some(grants) = recorded_grants(&f, &acl)? {
                let obj = LiveObject {
                    cloud_id: item.resource_id.clone(),
                    items: grants.into_iter().map(|g| ("grant", g)).collect(),
                    is_default: false,
                };
                out.seen(obj, item);
            }
        }
        Ok(out)
    }
}

/// The non-owner grants of an ACL as Config records it; `None` when a grant is in a shape not
/// known here.
fn recorded_grants(f: &Fields, acl: &Value) -> Result<Option<Vec<Item>>> {
    let owner = acl
        .get("owner")
        .and_then(|o| f.text(o, "id"))
        .unwrap_or_default();
    let mut out = Vec::new();
    for g in f.list(acl, "grantList")? {
        let permission = match g.get("permission").and_then(Value::as_str) {
            Some("FullControl" | "FULL_CONTROL") => "FULL_CONTROL",
            Some("Read" | "READ") => "READ",
            Some("Write" | "WRITE") => "WRITE",
            Some("ReadAcp" | "READ_ACP") => "READ_ACP",
            Some("WriteAcp" | "WRITE_ACP") => "WRITE_ACP",
            _ => return Ok(None),
        };
        let who = match g.get("grantee") {
            Some(Value::String(group)) => match group.as_str() {
                "AllUsers" => format!("uri:{ALL_USERS}"),
                "AuthenticatedUsers" => format!("uri:{AUTHENTICATED}"),
                "LogDelivery" => format!("uri:{LOG_DELIVERY}"),
                uri if uri.starts_with("http://acs.amazonaws.com/groups/") => format!("uri:{uri}"),
                _ => return Ok(None),
            },
            Some(grantee @ Value::Object(_)) => {
                match (f.text(grantee, "id"), f.text(grantee, "emailAddress")) {
                    (Some(id), _) if id == owner && permission == "FULL_CONTROL" => continue,
                    (Some(id), _) => format!("id:{id}"),
                    (_, Some(e)) => format!("email:{e}"),
                    _ => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        out.push(grant(&who, permission));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls() {
        assert!(canned("private").unwrap().is_empty());
        let rw = canned("public-read-write").unwrap();
        assert_eq!(rw.len(), 2);
        assert!(rw.iter().all(|g| g.facts.labels == ["public"]));
        assert!(canned("log-delivery-write")
            .unwrap()
            .iter()
            .all(|g| g.facts.labels.is_empty()));
        assert!(canned("everyone-please").is_err());
    }
}
