//! Persistent disks: `google_compute_disk`'s customer-managed encryption key.
//!
//! The Compute API names the key version in use (`…/cryptoKeys/K/cryptoKeyVersions/3`) where
//! the state names the key: versions rotate without drift. A key set or dropped by hand is
//! written into `disk_encryption_key` (see [`super::codify_key`]).

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{block, fetch_objects, last_segment, owned_object, project_of, Api, GcpRead};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{bad, setting, setting_effect, About, Family};
use crate::model::{Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Item, LiveObject};
use crate::state::Resource;

pub const COMPUTE_DISKS: About = About {
    name: "gcp_compute_disk",
    cloud: Cloud::Gcp,
    label: "persistent disk(s)",
    resource_types: &["google_compute_disk"],
    batch_size: super::BATCH,
};

pub struct ComputeDisks;

const READ: GcpRead = GcpRead {
    api: Api::Compute {
        list_op: "disks.list",
    },
    get_op: "disks.get",
    to_items: live_items,
};

fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    let key = body
        .get("diskEncryptionKey")
        .and_then(|k| k.get("kmsKeyName"))
        .and_then(Value::as_str);
    Ok(vec![("disk_encryption_key", key_item(key))])
}

/// The key without version, without the `https://…/v1/` of a self link.
fn key_name(raw: Option<&str>) -> Option<String> {
    let k = raw.filter(|k| !k.is_empty())?;
    let k = k.split("/cryptoKeyVersions/").next().unwrap_or(k);
    let k = k.find("projects/").map(|at| &k[at..]).unwrap_or(k);
    Some(k.to_string())
}

fn key_item(raw: Option<&str>) -> Item {
    let key = key_name(raw);
    let weak = key.is_none();
    setting(
        "disk_encryption_key.kms_key_self_link",
        json!(key.unwrap_or_else(|| super::GOOGLE_MANAGED.into())),
        weak,
    )
}

impl Family for ComputeDisks {
    fn about(&self) -> &'static About {
        &COMPUTE_DISKS
    }

    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        match r.attribute {
            Some("disk_encryption_key") => {
                super::codify_key(r, "disk_encryption_key", "kms_key_self_link")
            }
            _ => crate::families::Codify::Unsupported,
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = Vec::new();
        for r in resources {
            let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
            if project_of(id).is_none() || !id.contains("/disks/") {
                return Err(bad(r, "`id` is not projects/PROJECT/zones/ZONE/disks/NAME"));
            }
            let zone = r
                .attr_str("zone")
                .map(last_segment)
                .unwrap_or("global")
                .to_string();
            let mut obj = owned_object(self.about().name, id, zone, r);
            let dek = block(r.attr("disk_encryption_key"));
            let key = dek.and_then(|d| {
                d.get("kms_key_self_link")
                    .or_else(|| d.get("kms_key_name"))
                    .and_then(Value::as_str)
            });
            obj.items.push(ExpectedItem {
                attribute: "disk_encryption_key",
                item: key_item(key),
                by: Declarer::of(r, true),
            });
            out.push(obj);
        }
        Ok(out)
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        fetch_objects(clouds, ids, &READ)
    }

    fn effect_of_change(&self, _attribute: &str, expected: &Item, actual: &Item) -> Effect {
        setting_effect(expected, actual)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_versions_and_self_links() {
        let state = key_item(Some(
            "https://www.googleapis.com/compute/v1/projects/p/locations/l/keyRings/r/cryptoKeys/k",
        ));
        let live = key_item(Some(
            "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/3",
        ));
        assert_eq!(state, live);
        assert_eq!(setting_effect(&state, &key_item(None)), Effect::Weakens);
        let text =
            std::fs::read_to_string("tests/fixtures/shared/gcp/c7n_flight_compute_disks_list.json")
                .unwrap();
        let flight: Value = serde_json::from_str(&text).unwrap();
        let disk = &flight["body"]["items"][0];
        assert!(
            disk.get("diskEncryptionKey").is_none(),
            "recorded disk uses the Google-managed key"
        );
    }
}
