//! Key vaults: `azurerm_key_vault`'s purge protection, soft-delete retention, public network
//! access, RBAC authorization and network ACLs. (Access policies are not compared yet.)

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::storage_account::network_items;
use super::{
    enabled, expect_specs, fetch_each, is_false, is_true, live_specs, owned_object, prop, same,
    ArmRead, Spec,
};
use crate::diff::Effect;
use crate::error::Result;
use crate::kinds::aws::str_list;
use crate::kinds::{
    bad, setting_effect, Cloud, Declarer, ExpectedItem, ExpectedObject, Family, Item, LiveObject,
};
use crate::live::Clouds;
use crate::state::Resource;

pub struct KeyVaults;

const API_VERSION: &str = "2023-07-01";

const READ: ArmRead = ArmRead {
    api_version: API_VERSION,
    operation: "vaults.get",
    graph_type: Some("microsoft.keyvault/vaults"),
    to_items: live_items,
};

fn never(_: &Value) -> bool {
    false
}

fn specs() -> Vec<Spec> {
    vec![
        Spec {
            attribute: "purge_protection_enabled",
            state: &["purge_protection_enabled"],
            arm: "enablePurgeProtection",
            arm_default: json!(false),
            from_arm: same,
            weak: is_false,
        },
        Spec {
            attribute: "soft_delete_retention_days",
            state: &["soft_delete_retention_days"],
            arm: "softDeleteRetentionInDays",
            arm_default: json!(90),
            from_arm: same,
            weak: never,
        },
        Spec {
            attribute: "public_network_access_enabled",
            state: &["public_network_access_enabled"],
            arm: "publicNetworkAccess",
            arm_default: json!("Enabled"),
            from_arm: enabled,
            weak: is_true,
        },
        Spec {
            attribute: "rbac_authorization_enabled",
            state: &["rbac_authorization_enabled", "enable_rbac_authorization"],
            arm: "enableRbacAuthorization",
            arm_default: json!(false),
            from_arm: same,
            weak: never,
        },
    ]
}

fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    let mut out = live_specs(body, &specs());
    let acls = prop(body, "networkAcls");
    let field = |k: &str| acls.and_then(|a| a.get(k));
    let values = |k: &str, inner: &str| -> Vec<String> {
        field(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.get(inner).and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let action = field("defaultAction")
        .and_then(Value::as_str)
        .unwrap_or("Allow");
    let bypass = field("bypass")
        .and_then(Value::as_str)
        .map(|s| vec![s.to_string()])
        // ARM's default: trusted Azure services may pass.
        .unwrap_or_else(|| vec!["AzureServices".to_string()]);
    out.extend(
        network_items(
            action,
            bypass,
            values("ipRules", "value"),
            values("virtualNetworkRules", "id"),
        )
        .into_iter()
        .map(|i| ("network_acls", rename(i))),
    );
    Ok(out)
}

/// Storage calls the block `network_rules`, Key Vault `network_acls`.
fn rename(mut item: Item) -> Item {
    let renamed = |s: &str| s.replacen("network_rules.", "network_acls.", 1);
    item.identity = item.identity.map(|s| renamed(&s));
    item.summary = renamed(&item.summary);
    if let Value::Object(m) = &item.value {
        item.value = Value::Object(m.iter().map(|(k, v)| (renamed(k), v.clone())).collect());
    }
    item
}

impl Family for KeyVaults {
    fn name(&self) -> &'static str {
        "azure_key_vault"
    }

    fn cloud(&self) -> Cloud {
        Cloud::Azure
    }

    fn label(&self) -> &'static str {
        "key vault(s)"
    }

    fn resource_types(&self) -> &'static [&'static str] {
        &["azurerm_key_vault"]
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = Vec::new();
        for r in resources {
            let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
            let mut obj = owned_object(self.name(), id, r);
            expect_specs(&mut obj, r, &specs());
            match r
                .attr("network_acls")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                Some(acls) => {
                    let action = acls
                        .get("default_action")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad(r, "`network_acls` has no `default_action`"))?;
                    let items = network_items(
                        action,
                        str_list(acls.get("bypass")),
                        str_list(acls.get("ip_rules")),
                        str_list(acls.get("virtual_network_subnet_ids")),
                    );
                    for item in items {
                        obj.items.push(ExpectedItem {
                            attribute: "network_acls",
                            item: rename(item),
                            by: Declarer::of(r, true),
                        });
                    }
                }
                None => obj.ignore.push("network_acls"),
            }
            out.push(obj);
        }
        Ok(out)
    }

    fn batch_size(&self) -> usize {
        super::BATCH
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        fetch_each(clouds, ids, &READ)
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        if attribute == "soft_delete_retention_days" {
            return match (expected.value.get(attribute), actual.value.get(attribute)) {
                (Some(e), Some(a)) if a.as_i64() < e.as_i64() => Effect::Weakens,
                (Some(e), Some(a)) if a.as_i64() > e.as_i64() => Effect::Strengthens,
                _ => Effect::Unknown,
            };
        }
        setting_effect(expected, actual)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_vaults_read_with_arm_defaults() {
        let text =
            std::fs::read_to_string("tests/fixtures/shared/azure/c7n_cassette_keyvault_get.json")
                .unwrap();
        let cassette: Value = serde_json::from_str(&text).unwrap();
        let vault = &cassette["interactions"][2]["response"]["body"]["data"];
        let items = live_items(vault).unwrap();
        let summaries: Vec<&str> = items.iter().map(|(_, i)| i.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "purge_protection_enabled = false",
                "soft_delete_retention_days = 90",
                "public_network_access_enabled = true",
                "rbac_authorization_enabled = false",
                "network_acls.default_action = Allow",
                "network_acls.bypass = [azureservices]",
                "network_acls.ip_rules = []",
                "network_acls.virtual_network_subnet_ids = []",
            ]
        );
        let f = KeyVaults;
        let days = |n: i64| crate::kinds::setting("soft_delete_retention_days", json!(n), false);
        assert_eq!(
            f.effect_of_change("soft_delete_retention_days", &days(90), &days(7)),
            Effect::Weakens
        );
    }
}
