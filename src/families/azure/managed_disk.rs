//! Managed disks: `azurerm_managed_disk`'s encryption (customer-managed key through a disk
//! encryption set, Azure Disk Encryption settings) and network access (public network access,
//! network access policy for export and import).

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{
    enabled, expect_specs, fetch_each, is_true, live_specs, owned_object, prop, same, ArmRead, Spec,
};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{bad, setting, setting_effect, About, Family};
use crate::model::{Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Item, LiveObject};
use crate::state::Resource;

pub const MANAGED_DISKS: About = About {
    name: "azure_managed_disk",
    cloud: Cloud::Azure,
    label: "managed disk(s)",
    resource_types: &["azurerm_managed_disk"],
    batch_size: super::BATCH,
};

pub struct ManagedDisks;

const API_VERSION: &str = "2024-03-02";

const READ: ArmRead = ArmRead {
    api_version: API_VERSION,
    operation: "disks.get",
    graph_type: Some("microsoft.compute/disks"),
    to_items: live_items,
};

fn allow_all(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("AllowAll"))
}

fn access_policy(v: &Value) -> Value {
    match v.as_str() {
        None | Some("") => json!("AllowAll"),
        Some(_) => v.clone(),
    }
}

fn specs() -> Vec<Spec> {
    vec![
        Spec {
            attribute: "public_network_access_enabled",
            state: &["public_network_access_enabled"],
            arm: "publicNetworkAccess",
            arm_default: json!("Enabled"),
            from_arm: enabled,
            from_state: same,
            weak: is_true,
        },
        Spec {
            attribute: "network_access_policy",
            state: &["network_access_policy"],
            arm: "networkAccessPolicy",
            arm_default: json!("AllowAll"),
            // The provider writes `""` when ARM leaves the policy out; ARM applies `AllowAll`.
            from_arm: access_policy,
            from_state: access_policy,
            weak: allow_all,
        },
    ]
}

/// The key that encrypts the disk at rest: a disk encryption set (customer-managed key), or the
/// platform's key. Lower-case: ARM ids are case-insensitive.
fn key_item(des: Option<&str>) -> Item {
    let des = des.filter(|s| !s.is_empty()).map(str::to_ascii_lowercase);
    let weak = des.is_none();
    setting(
        "disk_encryption_set_id",
        json!(des.unwrap_or_else(|| "platform-managed key".into())),
        weak,
    )
}

fn ade_item(on: bool) -> Item {
    setting(
        "encryption_settings",
        json!(if on { "enabled" } else { "disabled" }),
        !on,
    )
}

fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    let mut out = live_specs(body, &specs());
    let des = prop(body, "encryption.diskEncryptionSetId").and_then(Value::as_str);
    out.push(("disk_encryption_set_id", key_item(des)));
    let ade = prop(body, "encryptionSettingsCollection.enabled").and_then(Value::as_bool);
    out.push(("encryption_settings", ade_item(ade == Some(true))));
    Ok(out)
}

impl Family for ManagedDisks {
    fn about(&self) -> &'static About {
        &MANAGED_DISKS
    }

    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        super::codify_spec(r, &specs(), "azurerm_managed_disk")
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = Vec::new();
        for r in resources {
            let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
            let mut obj = owned_object(self.about().name, id, r);
            expect_specs(&mut obj, r, &specs());
            let by = Declarer::of(r, true);
            // `null` and "" both mean the platform key.
            obj.items.push(ExpectedItem {
                attribute: "disk_encryption_set_id",
                item: key_item(r.attr_str("disk_encryption_set_id")),
                by: by.clone(),
            });
            let ade = r
                .attr("encryption_settings")
                .and_then(Value::as_array)
                .and_then(|a| a.first());
            // Provider v2 had `enabled` in the block; v3+ means enabled by the block's presence.
            let on = ade.is_some_and(|b| b.get("enabled").and_then(Value::as_bool) != Some(false));
            obj.items.push(ExpectedItem {
                attribute: "encryption_settings",
                item: ade_item(on),
                by,
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
        fetch_each(clouds, ids, &READ)
    }

    fn effect_of_change(&self, _attribute: &str, expected: &Item, actual: &Item) -> Effect {
        setting_effect(expected, actual)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_disks() {
        let text = std::fs::read_to_string("tests/fixtures/shared/azure/azure_specs_Disk_Get.json")
            .unwrap();
        let spec: Value = serde_json::from_str(&text).unwrap();
        let items = live_items(&spec["responses"]["200"]["body"]).unwrap();
        let summaries: Vec<&str> = items.iter().map(|(_, i)| i.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "public_network_access_enabled = true",
                "network_access_policy = AllowAll",
                "disk_encryption_set_id = platform-managed key",
                "encryption_settings = enabled",
            ]
        );
        let text =
            std::fs::read_to_string("tests/fixtures/shared/azure/c7n_cassette_disks_list.json")
                .unwrap();
        let cassette: Value = serde_json::from_str(&text).unwrap();
        for disk in cassette["interactions"][0]["response"]["body"]["data"]["value"]
            .as_array()
            .unwrap()
        {
            assert_eq!(live_items(disk).unwrap().len(), 4);
        }
        let cmk = key_item(Some(
            "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/diskEncryptionSets/des",
        ));
        assert_eq!(setting_effect(&cmk, &key_item(None)), Effect::Weakens);
        assert_eq!(key_item(Some("")), key_item(None));
    }

    #[test]
    fn unset_network_access_policy_is_allow_all_on_both_sides() {
        // The provider writes `""` when ARM leaves the policy out; ARM applies AllowAll.
        assert_eq!(access_policy(&json!("")), json!("AllowAll"));
        assert_eq!(access_policy(&Value::Null), json!("AllowAll"));
        assert_eq!(access_policy(&json!("DenyAll")), json!("DenyAll"));
        let items = live_items(&json!({"properties": {}})).unwrap();
        assert!(items
            .iter()
            .any(|(_, i)| i.summary == "network_access_policy = AllowAll"));
    }
}
