//! Google Cloud resource families (google provider) and what they share.
//!
//! Objects are read by their path in the REST APIs (`projects/P/global/firewalls/N`); a 404 is a
//! deleted object. Many Compute objects in one collection are listed instead (see
//! [`fetch_compute`]). Labels play the role of tags for risk scoring.

pub mod compute_disk;
pub mod firewall;
pub mod iam;
pub mod sql_instance;
pub mod storage_bucket;

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::Value;

use super::{Declarer, ExpectedObject, Item, LiveObject};
use crate::error::{Error, Result};
use crate::live::gcp::{GcpContext, Service};
use crate::live::Clouds;
use crate::state::Resource;

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
        account: None,
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

/// How a family reads its objects: GET `{prefix}{id}` of `service`, and for Compute collections
/// (`projects/P/global/firewalls/N`, `projects/P/zones/Z/disks/N`) a `list` of the parent.
pub struct GcpRead {
    pub service: Service,
    /// `/compute/v1/`, `/storage/v1/b/`, `/v1/` (Cloud SQL).
    pub prefix: &'static str,
    pub get_op: &'static str,
    /// Compute's `list` of the object's collection; `None`: always GET.
    pub list_op: Option<&'static str>,
    pub to_items: ToItems,
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
            let Some(list_op) = read.list_op.filter(|_| members.len() >= LIST_MIN) else {
                direct.extend(members.into_iter().cloned());
                continue;
            };
            let listed = list_all(gcp, parent, list_op).await?;
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
    let path = format!("{}{id}", read.prefix);
    let body = gcp.get(read.service, &path, read.get_op).await?;
    Ok(body.map(|b| (id, b)))
}

/// Every object of a collection by name, following `nextPageToken`.
async fn list_all(gcp: &GcpContext, parent: &str, op: &str) -> Result<BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = format!("/compute/v1/{parent}?maxResults=500");
        if let Some(t) = &token {
            path.push_str("&pageToken=");
            path.push_str(
                &percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC)
                    .to_string(),
            );
        }
        // A project or zone that does not exist has no objects: every id is missing.
        let Some(page) = gcp.get(Service::Compute, &path, op).await? else {
            return Ok(out);
        };
        for item in page
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = item.get("name").and_then(Value::as_str) {
                out.insert(name.to_string(), item.clone());
            }
        }
        token = page
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}
