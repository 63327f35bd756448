//! Azure resource families (azurerm provider) and what they share: ARM resource ids, objects,
//! settings read from the ARM `properties`.
//!
//! Every family reads its objects with a GET by resource id and a pinned `api-version`; the
//! `id` in the state is the ARM id (case-insensitive in ARM, so the live answer's own id is not
//! used as the key).

pub mod key_vault;
pub mod managed_disk;
pub mod network_security_group;
pub mod role_assignment;
pub mod storage_account;

use futures::future::BoxFuture;
use serde_json::Value;

use super::{setting, tags_of, Declarer, ExpectedItem, ExpectedObject, Item, LiveObject};
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

/// Turns an ARM answer into a family's items (an error says what is unexpected in it).
pub type ToItems = fn(&Value) -> std::result::Result<Vec<(&'static str, Item)>, String>;

/// Reads each id with one ARM GET; 404 means deleted. `to_items` turns the ARM answer into the
/// family's items.
pub fn fetch_each<'a>(
    clouds: &'a Clouds,
    ids: &'a [String],
    api_version: &'static str,
    operation: &'static str,
    to_items: ToItems,
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

/// One setting of an ARM object: its state attribute(s), ARM property and the value an absent
/// property means, and which values are weak.
pub struct Spec {
    pub attribute: &'static str,
    /// State attribute names, newest provider first (v4 renamed some).
    pub state: &'static [&'static str],
    /// Dotted path under `properties`.
    pub arm: &'static str,
    /// ARM leaves unset properties out: what that means (as the azurerm provider reads it).
    pub arm_default: Value,
    /// ARM's value in the state's spelling (`"Enabled"` → `true`).
    pub from_arm: fn(&Value) -> Value,
    pub weak: fn(&Value) -> bool,
}

pub fn same(v: &Value) -> Value {
    v.clone()
}

pub fn enabled(v: &Value) -> Value {
    Value::Bool(
        v.as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("enabled")),
    )
}

pub fn is_true(v: &Value) -> bool {
    v.as_bool() == Some(true)
}

pub fn is_false(v: &Value) -> bool {
    v.as_bool() == Some(false)
}

/// The expected settings a resource records; those it does not record (older provider
/// versions) are not compared.
pub fn expect_specs(obj: &mut ExpectedObject, r: &Resource, specs: &[Spec]) {
    let by = Declarer::of(r, true);
    for spec in specs {
        let Some(v) = spec.state.iter().find_map(|a| r.attr(a)) else {
            obj.ignore.push(spec.attribute);
            continue;
        };
        obj.items.push(ExpectedItem {
            attribute: spec.attribute,
            item: setting(spec.attribute, v.clone(), (spec.weak)(v)),
            by: by.clone(),
        });
    }
}

pub fn live_specs(body: &Value, specs: &[Spec]) -> Vec<(&'static str, Item)> {
    specs
        .iter()
        .map(|spec| {
            let raw = prop(body, spec.arm)
                .cloned()
                .unwrap_or_else(|| spec.arm_default.clone());
            let v = (spec.from_arm)(&raw);
            let weak = (spec.weak)(&v);
            (spec.attribute, setting(spec.attribute, v, weak))
        })
        .collect()
}
