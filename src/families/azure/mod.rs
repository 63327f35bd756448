//! Azure resource families (azurerm provider) and what they share: ARM resource ids, objects,
//! settings read from the ARM `properties`.
//!
//! Every family reads its objects with a GET by resource id and a pinned `api-version`; the
//! `id` in the state is the ARM id (case-insensitive in ARM, so the live answer's own id is not
//! used as the key).

pub mod key_vault;
pub mod managed_disk;
pub mod network_rules;
pub mod network_security_group;
pub mod nsg_association;
pub mod role_assignment;
pub mod storage_account;

use futures::future::BoxFuture;
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::Value;

pub use super::block;
use super::{setting, tags_of};
use crate::clients::Clouds;
use crate::error::Result;
use crate::model::{Declarer, ExpectedItem, ExpectedObject, Item, LiveObject};
use crate::state::Resource;

/// A new expected object for the resource that manages it as a whole.
pub fn owned_object(family: &'static str, id: &str, r: &Resource) -> ExpectedObject {
    ExpectedObject {
        family,
        cloud_id: id.to_string(),
        region: Some(location(r)),
        // The subscription, as an account: reports name it for every drift.
        account: subscription(id),
        owner: Some(Declarer::of(r, true)),
        items: Vec::new(),
        tags: tags_of(r),
        is_default: false,
        ignore: Vec::new(),
        tolerated: Vec::new(),
    }
}

/// An object managed elsewhere (only a part, such as rules, is declared here): live content
/// nobody declares is not ours to judge.
pub fn unowned_object(family: &'static str, id: &str, r: &Resource) -> ExpectedObject {
    let mut o = owned_object(family, id, r);
    o.owner = None;
    o.tags = Default::default();
    o
}

/// The subscription id of an ARM resource id (`/subscriptions/<id>/resourceGroups/…`).
pub fn subscription(id: &str) -> Option<String> {
    let mut parts = id.split('/').filter(|s| !s.is_empty());
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("subscriptions") {
            return parts.next().map(str::to_ascii_lowercase);
        }
    }
    None
}

/// The Azure region shown in reports (`westeurope`), or `global` for resources without one.
pub fn location(r: &Resource) -> String {
    r.attr_str("location")
        .map(|l| l.replace(' ', "").to_ascii_lowercase())
        .unwrap_or_else(|| "global".to_string())
}

/// Turns an ARM answer into a family's items (an error says what is unexpected in it).
pub type ToItems = fn(&Value) -> std::result::Result<Vec<(&'static str, Item)>, String>;

/// How a family reads its objects from ARM.
pub struct ArmRead {
    pub api_version: &'static str,
    /// Names the GET in the API-call summary (`networkSecurityGroups.get`).
    pub operation: &'static str,
    /// The type in Resource Graph's `Resources` table (`microsoft.network/networksecuritygroups`);
    /// `None`: the type is not there (role assignments), always GET.
    pub graph_type: Option<&'static str>,
    pub to_items: ToItems,
}

/// Ids per read: large enough for Resource Graph to pay off.
pub const BATCH: usize = 100;
/// From this many objects of a type, Resource Graph reads them (one query per 100) instead of
/// one GET each.
pub const GRAPH_MIN: usize = 10;
/// GETs in flight at once within one batch (batches themselves run `--concurrency` at once; ARM
/// throttles per identity, and 429s are retried after `Retry-After`).
const GET_CONCURRENCY: usize = 4;

/// Reads the objects with these ids: through Resource Graph when there are enough of them and the
/// type is there, by GET otherwise and for every id Resource Graph does not know (it may lag
/// behind ARM: a new object, or one deleted). 404 means deleted.
pub fn fetch_each<'a>(
    clouds: &'a Clouds,
    ids: &'a [String],
    read: &'a ArmRead,
) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
    Box::pin(async move {
        let azure = clouds.azure()?;
        let object = |id: &String, body: &Value| {
            let items = (read.to_items)(body).map_err(|e| {
                crate::error::Error::new(
                    format!("Azure {} {id}", read.operation),
                    format!("unexpected answer from ARM: {e}"),
                )
            })?;
            Ok::<_, crate::error::Error>(LiveObject {
                cloud_id: id.clone(),
                items,
                is_default: false,
            })
        };
        let mut out = Vec::new();
        let mut direct: Vec<String> = ids.to_vec();
        if let Some(t) = read.graph_type {
            if ids.len() >= GRAPH_MIN && azure.graph_enabled() {
                let found = azure.graph(t, ids).await?;
                direct.clear();
                for id in ids {
                    match found.get(&id.to_ascii_lowercase()) {
                        Some(row) => out.push(object(id, row)?),
                        None => direct.push(id.clone()),
                    }
                }
            }
        }
        let fetched: Vec<Option<(String, Value)>> = stream::iter(direct)
            .map(move |id| get_one(azure, id, read))
            .buffer_unordered(GET_CONCURRENCY)
            .try_collect()
            .await?;
        for (id, body) in fetched.into_iter().flatten() {
            out.push(object(&id, &body)?);
        }
        Ok(out)
    })
}

async fn get_one(
    azure: &crate::clients::azure::AzureContext,
    id: String,
    read: &ArmRead,
) -> Result<Option<(String, Value)>> {
    let body = azure.get(&id, read.api_version, read.operation).await?;
    Ok(body.map(|b| (id, b)))
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
    /// ARM's value in the state's spelling (`"Enabled"` → `true`), as the provider reads it.
    pub from_arm: fn(&Value) -> Value,
    /// The state's value in canonical form, where the provider writes one meaning two ways
    /// (`""` for an unset policy that ARM applies as its default).
    pub from_state: fn(&Value) -> Value,
    pub weak: fn(&Value) -> bool,
}

/// A setting of `resource_type` turned stricter in the portal, written into its block under the
/// name the block uses (its spec's state names: azurerm v4 renamed some).
pub fn codify_spec(
    r: &crate::families::CodifyRequest,
    specs: &[Spec],
    resource_type: &str,
) -> crate::families::Codify {
    match specs.iter().find(|s| Some(s.attribute) == r.attribute) {
        Some(spec) if r.resource_type == resource_type => {
            crate::families::codify_setting(r, &[], spec.state)
        }
        _ => crate::families::Codify::Unsupported,
    }
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
        let v = (spec.from_state)(v);
        obj.items.push(ExpectedItem {
            attribute: spec.attribute,
            item: setting(spec.attribute, v.clone(), (spec.weak)(&v)),
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

#[cfg(test)]
mod account_tests {
    use super::subscription;

    #[test]
    fn the_account_of_an_id() {
        assert_eq!(subscription("/subscriptions/EA42F556-5106-4743-99B0-C129BFA71A47/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg"), Some("ea42f556-5106-4743-99b0-c129bfa71a47".into()));
        assert_eq!(
            subscription("/providers/Microsoft.Management/managementGroups/mg"),
            None
        );
    }
}
