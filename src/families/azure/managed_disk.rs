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
use crate::families::{
    append_block, bad, hcl_literal, optional_block, remove_attribute, set_attribute_in, set_id,
    setting, setting_effect, About, Codify, CodifyRequest, Family, TextEdit,
};
use crate::model::{
    Cloud, Declarer, DriftKind, Effect, ExpectedItem, ExpectedObject, Item, LiveObject,
};
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
/// The value keeps the id as spelled (the provider validates ids case by case when it is
/// written into the code).
fn key_item(des: Option<&str>) -> Item {
    let des = des.filter(|s| !s.is_empty());
    let mut item = setting(
        "disk_encryption_set_id",
        json!(des.unwrap_or(PLATFORM_KEY)),
        des.is_none(),
    );
    item.key = item.key.to_ascii_lowercase();
    item
}

const PLATFORM_KEY: &str = "platform-managed key";

/// A disk encryption set put on the disk by hand becomes its `disk_encryption_set_id`; the
/// platform's key back again takes the attribute out.
fn codify_key(r: &CodifyRequest) -> Codify {
    let Some(live) = r
        .actual
        .get("disk_encryption_set_id")
        .and_then(Value::as_str)
    else {
        return Codify::Unsupported;
    };
    if r.kind != DriftKind::Changed {
        return Codify::Unsupported;
    }
    if live != PLATFORM_KEY {
        return set_id(
            r,
            "disk_encryption_set_id",
            live,
            (&["azurerm_disk_encryption_set"], "id"),
            &|a, b| a.eq_ignore_ascii_case(b),
        );
    }
    let want = "no `disk_encryption_set_id` (the platform-managed key)".to_string();
    match remove_attribute(r.text, r.block, "disk_encryption_set_id") {
        Ok(Some(edit)) => Codify::Edits {
            edits: vec![edit],
            summary: want,
        },
        // Already without it (written before the state caught up).
        Ok(None) => Codify::Edits {
            edits: Vec::new(),
            summary: want,
        },
        Err(offset) => Codify::Manual {
            offset,
            reason: "`disk_encryption_set_id` shares its line with other code".into(),
            want,
        },
    }
}

/// Azure Disk Encryption on or off. The live item also carries the keys ARM names
/// (`settings`: each volume's secret and key URLs with their vaults), so that a fix can write
/// the block the provider wants; only the on/off state is compared.
fn ade_item(on: bool, settings: Vec<Value>) -> Item {
    let mut item = setting(
        "encryption_settings",
        json!(if on { "enabled" } else { "disabled" }),
        !on,
    );
    if on && !settings.is_empty() {
        item.value["settings"] = Value::Array(settings);
    }
    item
}

/// ARM's `encryptionSettings` in the provider's spelling: `disk_encryption_key` (`secret_url`,
/// `source_vault_id`) and, when the secret is wrapped, `key_encryption_key` (`key_url`,
/// `source_vault_id`).
fn ade_settings(body: &Value) -> Vec<Value> {
    let pair = |v: &Value, url: &str, name: &str| {
        let url = v.get(url).and_then(Value::as_str)?;
        let vault = v.pointer("/sourceVault/id").and_then(Value::as_str)?;
        Some(json!({ name: url, "source_vault_id": vault }))
    };
    prop(body, "encryptionSettingsCollection.encryptionSettings")
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .map(|s| {
                    let mut out = json!({});
                    if let Some(d) = s
                        .get("diskEncryptionKey")
                        .and_then(|d| pair(d, "secretUrl", "secret_url"))
                    {
                        out["disk_encryption_key"] = d;
                    }
                    if let Some(k) = s
                        .get("keyEncryptionKey")
                        .and_then(|k| pair(k, "keyUrl", "key_url"))
                    {
                        out["key_encryption_key"] = k;
                    }
                    out
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Azure Disk Encryption turned on by hand becomes an `encryption_settings` block with the keys
/// ARM names (or `enabled = true` in the block of provider v2); turned off (accepted), the block
/// goes.
fn codify_ade(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    let on = match r.actual.get("encryption_settings").and_then(Value::as_str) {
        Some("enabled") => true,
        Some("disabled") => false,
        _ => return Codify::Unsupported,
    };
    if r.kind != DriftKind::Changed {
        return Codify::Unsupported;
    }
    let want = if on {
        "encryption_settings { … } (Azure Disk Encryption on)"
    } else {
        "no `encryption_settings` block (Azure Disk Encryption off)"
    };
    let at = r.block.span().map_or(0, |s| s.start);
    let manual = |offset: usize, reason: &str| Codify::Manual {
        offset,
        reason: reason.to_string(),
        want: want.to_string(),
    };
    let edits = |edits: Vec<TextEdit>| Codify::Edits {
        edits,
        summary: want.to_string(),
    };
    let found = match optional_block(r.block, "encryption_settings") {
        Ok(found) => found,
        Err((offset, reason)) => return manual(offset, &reason),
    };
    match (on, found) {
        // Off: the block goes (none left to remove: written before the state caught up).
        (false, found) => edits(
            found
                .and_then(|b| b.span())
                .map(|span| crate::families::remove_lines(r.text, span))
                .into_iter()
                .collect(),
        ),
        // Provider v2 switches the block with `enabled`.
        (true, Some(b)) if b.body.get_attribute("enabled").is_some() => {
            set_attribute_in(r, b, "enabled", "true")
        }
        (true, Some(_)) => edits(Vec::new()),
        (true, None) => {
            let settings = r.actual.get("settings").and_then(Value::as_array);
            let Some([one]) = settings.map(Vec::as_slice) else {
                return manual(at, "ARM names no single disk encryption key to write");
            };
            let mut lines = vec!["encryption_settings {".to_string()];
            for (name, url) in [
                ("disk_encryption_key", "secret_url"),
                ("key_encryption_key", "key_url"),
            ] {
                let Some(key) = one.get(name) else { continue };
                let text = |k: &str| {
                    key.get(k)
                        .and_then(hcl_literal)
                        .unwrap_or_else(|| "\"\"".into())
                };
                let (u, v) = (text(url), text("source_vault_id"));
                let pad = " ".repeat("source_vault_id".len() - url.len());
                lines.push(format!("  {name} {{"));
                lines.push(format!("    {url}{pad} = {u}"));
                lines.push(format!("    source_vault_id = {v}"));
                lines.push("  }".into());
            }
            lines.push("}".into());
            match append_block(r.text, r.block, &lines) {
                Ok(edit) => edits(vec![edit]),
                Err(why) => manual(at, why),
            }
        }
    }
}

fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    let mut out = live_specs(body, &specs());
    let des = prop(body, "encryption.diskEncryptionSetId").and_then(Value::as_str);
    out.push(("disk_encryption_set_id", key_item(des)));
    let ade = prop(body, "encryptionSettingsCollection.enabled").and_then(Value::as_bool);
    out.push((
        "encryption_settings",
        ade_item(ade == Some(true), ade_settings(body)),
    ));
    Ok(out)
}

impl Family for ManagedDisks {
    fn about(&self) -> &'static About {
        &MANAGED_DISKS
    }

    fn codify(&self, r: &CodifyRequest) -> Codify {
        match r.attribute {
            Some("disk_encryption_set_id") => codify_key(r),
            Some("encryption_settings") => codify_ade(r),
            _ => super::codify_spec(r, &specs(), "azurerm_managed_disk"),
        }
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
                item: ade_item(on, Vec::new()),
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
