//! Google Cloud resource families (google provider) and what they share.
//!
//! Objects are read by their path in the REST APIs (`projects/P/global/firewalls/N`); a 404 is a
//! deleted object. Many Compute objects in one collection are listed instead (see
//! [`fetch_compute`]). Labels play the role of tags for risk scoring.

pub mod compute_disk;
pub mod firewall;
pub mod iam;
pub mod instance;
pub mod sql_instance;
pub mod storage_bucket;

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::Value;

use crate::clients::gcp::{GcpContext, Service};
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::model::{Declarer, ExpectedObject, Item, LiveObject};
use crate::state::Resource;

/// What a setting holds when the object is encrypted with Google's own key.
pub const GOOGLE_MANAGED: &str = "Google-managed key";

/// A customer-managed key set or dropped by hand (a bucket's default key, a disk's key), written
/// into the nested block that holds it: the key set as `nested { attr = … }` (the block added
/// where the code has none), or the block gone when the live object uses Google's key again.
/// The drift's value is named `nested.attr`, as [`crate::families::setting`] names it.
pub fn codify_key(
    r: &crate::families::CodifyRequest,
    nested: &str,
    attr: &str,
) -> crate::families::Codify {
    use crate::families::{append_block, hcl_literal, set_id_in, Codify};
    use hcl_edit::Span;
    if r.kind != crate::model::DriftKind::Changed {
        return Codify::Unsupported;
    }
    let Some(live) = r
        .actual
        .get(format!("{nested}.{attr}"))
        .and_then(Value::as_str)
    else {
        return Codify::Unsupported;
    };
    let want = if live == GOOGLE_MANAGED {
        format!("no `{nested}` block ({GOOGLE_MANAGED})")
    } else {
        format!("{nested} {{ {attr} = \"{live}\" }}")
    };
    let found = match crate::families::optional_block(r.block, nested) {
        Ok(found) => found,
        Err((offset, reason)) => {
            return Codify::Manual {
                offset,
                reason,
                want,
            }
        }
    };
    match (live == GOOGLE_MANAGED, found) {
        // Google's key: the block goes (none left to remove: written before the state caught
        // up).
        (true, found) => Codify::Edits {
            edits: found
                .and_then(|b| b.span())
                .map(|span| crate::families::remove_lines(r.text, span))
                .into_iter()
                .collect(),
            summary: want,
        },
        (false, Some(b)) => set_id_in(
            r,
            b,
            attr,
            live,
            (&["google_kms_crypto_key"], "id"),
            &|a, b| a == b,
        ),
        (false, None) => {
            let value = hcl_literal(&Value::String(live.to_string())).unwrap_or_default();
            let lines = [
                format!("{nested} {{"),
                format!("  {attr} = {value}"),
                "}".to_string(),
            ];
            match append_block(r.text, r.block, &lines) {
                Ok(edit) => Codify::Edits {
                    edits: vec![edit],
                    summary: want,
                },
                Err(why) => Codify::Manual {
                    offset: r.block.span().map_or(0, |s| s.start),
                    reason: why.into(),
                    want,
                },
            }
        }
    }
}

/// The project of a resource name (`projects/<p>/global/firewalls/…`, or an IAM policy's
/// `project/<p>|<role>`).
pub fn project(id: &str) -> Option<String> {
    let mut parts = id.split(['/', '|']).filter(|s| !s.is_empty());
    while let Some(p) = parts.next() {
        if p == "projects" || p == "project" {
            return parts.next().map(str::to_string);
        }
    }
    None
}

/// A new expected object for the resource that manages it as a whole.
pub fn owned_object(
    family: &'static str,
    id: &str,
    region: String,
    r: &Resource,
) -> ExpectedObject {
    ExpectedObject {
        family,
        cloud_id: id.to_string(),
        region: Some(region),
        // The project, as an account: reports name it for every drift.
        account: project(id),
        owner: Some(Declarer::of(r, true)),
        items: Vec::new(),
        tags: labels(r),
        is_default: false,
        ignore: Vec::new(),
        tolerated: Vec::new(),
    }
}

/// `labels` (or `effective_labels`, which adds provider defaults) as tags.
pub fn labels(r: &Resource) -> BTreeMap<String, String> {
    r.attr("effective_labels")
        .or_else(|| r.attr("labels"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

pub use super::block;

/// `projects/P/...` → P.
pub fn project_of(path: &str) -> Option<&str> {
    path.strip_prefix("projects/")?.split('/').next()
}

/// The last path segment of a self link or id (`.../zones/us-central1-c` → `us-central1-c`).
pub fn last_segment(s: &str) -> &str {
    s.trim_end_matches('/').rsplit('/').next().unwrap_or(s)
}

/// Turns an API object into a family's items (an error says what is unexpected).
pub type ToItems = fn(&Value) -> std::result::Result<Vec<(&'static str, Item)>, String>;

/// How a family reads its objects.
pub struct GcpRead {
    pub api: Api,
    pub get_op: &'static str,
    pub to_items: ToItems,
}

pub enum Api {
    /// The official Compute client (`projects/P/global/firewalls/N`,
    /// `projects/P/zones/Z/disks/N`), listing the collection when it holds many of the ids.
    Compute { list_op: &'static str },
    /// The official Cloud SQL Admin client (`projects/P/instances/I`).
    Sql,
    /// JSON GET of `{prefix}{id}` from `service` (`/storage/v1/b/`).
    Rest {
        service: Service,
        prefix: &'static str,
    },
}

/// Ids per read: all of a family's objects at once, so that each collection is listed once.
pub const BATCH: usize = 100_000;
/// From this many objects in one collection (a project's firewalls, a zone's disks), one list
/// call (500 per page) reads them instead of one GET each. Lists are consistent: an object not
/// listed does not exist.
pub const LIST_MIN: usize = 10;
const GET_CONCURRENCY: usize = 8;

/// Reads the objects with these ids: listed when there are enough in one collection, GET
/// otherwise (a few at once). 404 means deleted.
pub fn fetch_objects<'a>(
    clouds: &'a Clouds,
    ids: &'a [String],
    read: &'a GcpRead,
) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
    Box::pin(async move {
        let gcp = clouds.gcp()?;
        let object = |id: &str, body: &Value| {
            let items = (read.to_items)(body).map_err(|e| {
                Error::new(
                    format!("Google Cloud {} {id}", read.get_op),
                    format!("unexpected answer from the API: {e}"),
                )
            })?;
            Ok::<_, Error>(LiveObject {
                cloud_id: id.to_string(),
                items,
                is_default: false,
            })
        };
        let mut by_parent: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for id in ids {
            let parent = id.rsplit_once('/').map(|(p, _)| p).unwrap_or(id);
            by_parent.entry(parent).or_default().push(id);
        }
        let mut out = Vec::new();
        let mut direct = Vec::new();
        for (parent, members) in by_parent {
            let list_op = match read.api {
                Api::Compute { list_op } if members.len() >= LIST_MIN => list_op,
                _ => {
                    direct.extend(members.into_iter().cloned());
                    continue;
                }
            };
            let listed = gcp.compute_list(parent, list_op).await?;
            for id in members {
                if let Some(body) = listed.get(last_segment(id)) {
                    out.push(object(id, body)?);
                }
            }
        }
        let fetched: Vec<Option<(String, Value)>> = stream::iter(direct)
            .map(move |id| get_one(gcp, id, read))
            .buffer_unordered(GET_CONCURRENCY)
            .try_collect()
            .await?;
        for (id, body) in fetched.into_iter().flatten() {
            out.push(object(&id, &body)?);
        }
        Ok(out)
    })
}

async fn get_one(gcp: &GcpContext, id: String, read: &GcpRead) -> Result<Option<(String, Value)>> {
    let body = match read.api {
        Api::Compute { .. } => gcp.compute_get(&id, read.get_op).await?,
        Api::Sql => gcp.sql_instance(&id).await?,
        Api::Rest { service, prefix } => {
            gcp.get(service, &format!("{prefix}{id}"), read.get_op)
                .await?
        }
    };
    Ok(body.map(|b| (id, b)))
}

#[cfg(test)]
mod account_tests {
    use super::project;

    #[test]
    fn the_account_of_an_id() {
        assert_eq!(
            project("projects/acme-prod/global/firewalls/allow-ssh"),
            Some("acme-prod".into())
        );
        assert_eq!(project("//storage.googleapis.com/b"), None);
        assert_eq!(project("project/1044|roles/editor"), Some("1044".into()));
    }
}
