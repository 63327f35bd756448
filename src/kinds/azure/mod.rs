//! Azure resource families (azurerm provider) and what they share: ARM resource ids, objects,
//! settings read from the ARM `properties`.
//!
//! Every family reads its objects with a GET by resource id and a pinned `api-version`; the
//! `id` in the state is the ARM id (case-insensitive in ARM, so the live answer's own id is not
//! used as the key).

pub mod network_security_group;

use futures::future::BoxFuture;
use serde_json::Value;

use super::{tags_of, Declarer, ExpectedObject, Item, LiveObject};
use crate::error::Result;
use crate::live::Clouds;
use crate::state::Resource;

/// A new expected object for the resource that manages it as a whole.
pub fn owned_object(family: &'static str, id: &str, r: &Resource) -> ExpectedObject {
    ExpectedObject {
        family,
        cloud_id: id.to_string(),
        region: Some(location(r)),
        account: None,
        owner: Some(Declarer::of(r, true)),
        items: Vec::new(),
        tags: tags_of(r),
        is_default: false,
        ignore: Vec::new(),
        tolerated: Vec::new(),
    }
}

/// The Azure region shown in reports (`westeurope`), or `global` for resources without one.
pub fn location(r: &Resource) -> String {
    r.attr_str("location")
        .map(|l| l.replace(' ', "").to_ascii_lowercase())
        .unwrap_or_else(|| "global".to_string())
}

/// Reads each id with one ARM GET; 404 means deleted. `to_items` turns the ARM answer into the
/// family's items.
pub fn fetch_each<'a>(
    clouds: &'a Clouds,
    ids: &'a [String],
    api_version: &'static str,
    operation: &'static str,
    to_items: fn(&Value) -> std::result::Result<Vec<(&'static str, Item)>, String>,
) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
    Box::pin(async move {
        let azure = clouds.azure()?;
        let mut out = Vec::new();
        for id in ids {
            let Some(body) = azure.get(id, api_version, operation).await? else {
                continue;
            };
            let items = to_items(&body).map_err(|e| {
                crate::error::Error::new(
                    format!("Azure {operation} {id}"),
                    format!("unexpected answer from ARM: {e}"),
                )
            })?;
            out.push(LiveObject {
                cloud_id: id.clone(),
                items,
                is_default: false,
            });
        }
        Ok(out)
    })
}

/// `properties.<path>` of an ARM answer (dotted path).
pub fn prop<'v>(body: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(body.get("properties")?, |v, k| v.get(k))
        .filter(|v| !v.is_null())
}
