//! Storage accounts: `azurerm_storage_account`'s access settings (public network access, anonymous
//! blob access, minimum TLS, HTTPS only, shared key access) and its network rules.
//!
//! ARM leaves a property out when it was never set; each absent property is read as the value the
//! azurerm provider reads it as, so an account that was never touched does not drift against a
//! state written by the provider.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{
    block, enabled, expect_specs, fetch_each, is_false, is_true, live_specs, network_rules,
    owned_object, prop, same, unowned_object, ArmRead, Spec,
};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{bad, set_setting, setting_effect, About, Family, Subject};
use crate::model::{
    Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Item, LiveObject, Reach,
};
use crate::state::Resource;

pub const STORAGE_ACCOUNTS: About = About {
    name: "azure_storage_account",
    cloud: Cloud::Azure,
    label: "storage account(s)",
    resource_types: &[
        "azurerm_storage_account",
        "azurerm_storage_account_network_rules",
    ],
    batch_size: super::BATCH,
};

pub struct StorageAccounts;

const API_VERSION: &str = "2023-05-01";

const READ: ArmRead = ArmRead {
    api_version: API_VERSION,
    operation: "storageAccounts.get",
    graph_type: Some("microsoft.storage/storageaccounts"),
    to_items: live_items,
};

fn old_tls(v: &Value) -> bool {
    matches!(v.as_str(), Some("TLS1_0" | "TLS1_1"))
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
            attribute: "allow_nested_items_to_be_public",
            state: &[
                "allow_nested_items_to_be_public",
                "allow_blob_public_access",
            ],
            // Accounts older than the property answer without it; azurerm (v3 and v4) reads the
            // absent value as `false` (`pointer.From`), so that is what its state says.
            arm: "allowBlobPublicAccess",
            arm_default: json!(false),
            from_arm: same,
            from_state: same,
            weak: is_true,
        },
        Spec {
            attribute: "min_tls_version",
            state: &["min_tls_version"],
            arm: "minimumTlsVersion",
            arm_default: json!("TLS1_0"),
            from_arm: same,
            from_state: same,
            weak: old_tls,
        },
        Spec {
            attribute: "https_traffic_only_enabled",
            state: &["https_traffic_only_enabled", "enable_https_traffic_only"],
            // Absent reads as `false` in azurerm v3 and v4 (`pointer.From`), not as ARM's
            // create-time default `true`.
            arm: "supportsHttpsTrafficOnly",
            arm_default: json!(false),
            from_arm: same,
            from_state: same,
            weak: is_false,
        },
        Spec {
            attribute: "shared_access_key_enabled",
            state: &["shared_access_key_enabled"],
            arm: "allowSharedKeyAccess",
            arm_default: json!(true),
            from_arm: same,
            from_state: same,
            weak: is_true,
        },
    ]
}

/// The identity of the resource-instance rules (`private_link_access`, ARM `resourceAccessRules`):
/// resources, possibly of another tenant, let through the firewall by identity.
const PRIVATE_LINK: &str = "network_rules.private_link_access";

/// One allowed resource instance: `resource id@tenant`, without case (ARM ids keep no case).
fn private_link_entry(resource: &str, tenant: &str) -> String {
    format!(
        "{}@{}",
        resource.trim().to_ascii_lowercase(),
        tenant.trim().to_ascii_lowercase()
    )
}

/// The expected `private_link_access` of a network rules block; `None` when the state does not
/// record it (provider versions before the attribute existed).
fn expected_private_link(block: &Value) -> std::result::Result<Option<Item>, String> {
    let Some(list) = block.get("private_link_access") else {
        return Ok(None);
    };
    let mut entries = Vec::new();
    for e in list.as_array().into_iter().flatten() {
        let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default();
        if text("endpoint_resource_id").is_empty() {
            return Err("a `private_link_access` entry has no `endpoint_resource_id`".into());
        }
        entries.push(private_link_entry(
            text("endpoint_resource_id"),
            text("endpoint_tenant_id"),
        ));
    }
    Ok(Some(set_setting(PRIVATE_LINK, entries, true)))
}

fn live_private_link(acls: Option<&Value>) -> Item {
    let entries = acls
        .and_then(|a| a.get("resourceAccessRules"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
            private_link_entry(text("resourceId"), text("tenantId"))
        })
        .collect();
    set_setting(PRIVATE_LINK, entries, true)
}

/// The account's firewall from a state block: the rules both firewalls share, and the resource
/// instances only storage accounts let through.
fn expect_network_rules(
    obj: &mut ExpectedObject,
    block: &Value,
    by: Declarer,
) -> std::result::Result<(), String> {
    network_rules::expect(obj, "network_rules", block, by.clone())?;
    match expected_private_link(block)? {
        Some(item) => obj.items.push(ExpectedItem {
            attribute: "network_rules",
            item,
            by,
        }),
        None => obj
            .tolerated
            .push(("network_rules", PRIVATE_LINK.to_string())),
    }
    Ok(())
}

fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    let mut out = live_specs(body, &specs());
    let acls = prop(body, "networkAcls");
    out.extend(network_rules::live("network_rules", acls, &[]));
    out.push(("network_rules", live_private_link(acls)));
    Ok(out)
}

impl Family for StorageAccounts {
    fn harden(
        &self,
        _object: &crate::model::ExpectedObject,
        item: &crate::model::ExpectedItem,
        _admin: Option<&str>,
    ) -> Option<crate::families::Hardened> {
        crate::families::harden_value(
            item,
            &["azurerm_storage_account"],
            &["allow_nested_items_to_be_public"],
            &|v| *v == serde_json::Value::Bool(true),
            serde_json::Value::Bool(false),
        )
    }

    fn about(&self) -> &'static About {
        &STORAGE_ACCOUNTS
    }

    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        match (r.attribute, r.resource_type) {
            (Some("network_rules"), "azurerm_storage_account") => {
                network_rules::codify(r, "network_rules", &["network_rules"])
            }
            (Some("network_rules"), "azurerm_storage_account_network_rules") => {
                network_rules::codify(r, "network_rules", &[])
            }
            _ => super::codify_spec(r, &specs(), "azurerm_storage_account"),
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut accounts: BTreeMap<String, ExpectedObject> = BTreeMap::new();
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "azurerm_storage_account")
        {
            let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
            let mut obj = owned_object(self.about().name, id, r);
            expect_specs(&mut obj, r, &specs());
            match block(r.attr("network_rules")) {
                Some(rules) => expect_network_rules(&mut obj, rules, Declarer::of(r, true))
                    .map_err(|e| bad(r, &format!("`network_rules`: {e}")))?,
                None => obj.ignore.push("network_rules"),
            }
            accounts.insert(id.to_ascii_lowercase(), obj);
        }
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "azurerm_storage_account_network_rules")
        {
            let id = r
                .attr_str("storage_account_id")
                .ok_or_else(|| bad(r, "has no `storage_account_id`"))?;
            let obj = accounts.entry(id.to_ascii_lowercase()).or_insert_with(|| {
                // The account is managed elsewhere: only its network rules are ours.
                unowned_object(STORAGE_ACCOUNTS.name, id, r)
            });
            obj.ignore.retain(|a| *a != "network_rules");
            expect_network_rules(obj, &r.attributes, Declarer::of(r, false))
                .map_err(|e| bad(r, &e))?;
        }
        // With a separate network rules resource, the account's `network_rules` in the state is
        // the provider's refreshed copy, stale after that resource changes.
        Ok(accounts
            .into_values()
            .map(crate::families::drop_computed_inline)
            .collect())
    }

    /// From the live settings alone (no read): public network access and the firewall.
    fn exposure<'a>(
        &'a self,
        _clouds: &'a Clouds,
        _region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move {
            Ok(objects
                .iter()
                .map(|o| {
                    let id = &o.live.cloud_id;
                    let name = id.rsplit('/').next().unwrap_or(id);
                    (
                        id.clone(),
                        network_rules::reach(name, &o.live.items, "network_rules"),
                    )
                })
                .collect())
        })
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

    fn fixture(path: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn recorded_account_and_its_state_agree_where_both_speak() {
        // The pytest-terraform export: genuine azurerm state attributes of one account.
        let tf =
            fixture("tests/fixtures/shared/tfstate/c7n_azurerm_storage_account.tf_resources.json");
        let r = Resource::for_test(
            "azurerm_storage_account.test",
            "azurerm_storage_account",
            tf["resources"]["azurerm_storage_account"]["test"].clone(),
        );
        let objs = StorageAccounts.expected(&[&r]).unwrap();
        let summaries: Vec<&str> = objs[0]
            .items
            .iter()
            .map(|i| i.item.summary.as_str())
            .collect();
        assert_eq!(
            summaries,
            [
                "public_network_access_enabled = true",
                "allow_nested_items_to_be_public = false",
                "min_tls_version = TLS1_2",
                "https_traffic_only_enabled = true",
                "shared_access_key_enabled = true"
            ]
        );
        assert_eq!(objs[0].ignore, ["network_rules"]);
        assert_eq!(objs[0].region.as_deref(), Some("eastus"));

        // The spec example omits most properties: read as the provider reads them.
        let spec =
            fixture("tests/fixtures/shared/azure/azure_specs_StorageAccountGetProperties.json");
        let live = live_items(&spec["responses"]["200"]["body"]).unwrap();
        let get = |a: &str| {
            live.iter()
                .find(|(_, i)| i.identity.as_deref() == Some(a))
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(get("https_traffic_only_enabled").key, "false");
        assert_eq!(get("min_tls_version").key, "TLS1_0");
        assert_eq!(get("network_rules.default_action").key, "Allow");
        assert_eq!(get("network_rules.bypass").key, "[\"azureservices\"]");
        assert_eq!(
            setting_effect(
                &get("https_traffic_only_enabled"),
                &crate::families::setting("x", json!(true), false)
            ),
            Effect::Strengthens
        );
    }

    #[test]
    fn resource_graph_rows_read_like_arm() {
        // A recorded pair: the same account listed by ARM and returned by Resource Graph.
        let pair =
            fixture("tests/fixtures/shared/azure/c7n_cassette_resource_graph_vs_arm_storage.json");
        let arm = &pair["interactions"][0]["response"]["body"]["data"]["value"][0];
        let table = &pair["interactions"][1]["response"]["body"]["data"]["data"];
        let columns: Vec<&str> = table["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let row: serde_json::Map<String, Value> = columns
            .iter()
            .zip(table["rows"][0].as_array().unwrap())
            .map(|(c, v)| (c.to_string(), v.clone()))
            .collect();
        assert_eq!(row["id"], arm["id"]);
        assert_eq!(
            live_items(&Value::Object(row)).unwrap(),
            live_items(arm).unwrap()
        );
    }

    #[test]
    fn separate_network_rules_replace_the_accounts_copy() {
        let id =
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs";
        let res = |t: &str, attrs: Value| Resource::for_test(&format!("{t}.x"), t, attrs);
        // The account's copy still says Allow (refreshed before the rules resource changed).
        let account = res(
            "azurerm_storage_account",
            json!({"id": id, "location": "westeurope",
            "min_tls_version": "TLS1_2", "network_rules": [{"default_action": "Allow", "bypass": ["AzureServices"],
            "ip_rules": [], "virtual_network_subnet_ids": []}]}),
        );
        let rules = res(
            "azurerm_storage_account_network_rules",
            json!({"storage_account_id": id.to_uppercase(),
            "default_action": "Deny", "bypass": ["AzureServices"], "ip_rules": ["198.51.100.0/24"],
            "virtual_network_subnet_ids": []}),
        );
        let objs = StorageAccounts.expected(&[&account, &rules]).unwrap();
        assert_eq!(objs.len(), 1);
        assert_eq!(
            objs[0].owner.as_ref().unwrap().address,
            "azurerm_storage_account.x"
        );
        let network: Vec<(&str, &str)> = objs[0]
            .items
            .iter()
            .filter(|i| i.attribute == "network_rules")
            .map(|i| (i.item.summary.as_str(), i.by.address.as_str()))
            .collect();
        assert_eq!(
            network[0],
            (
                "network_rules.default_action = Deny",
                "azurerm_storage_account_network_rules.x"
            )
        );
        assert_eq!(network.len(), 4);
        // Only the rules resource: the account's other settings are not ours.
        let objs = StorageAccounts.expected(&[&rules]).unwrap();
        assert!(objs[0].owner.is_none() && objs[0].items.len() == 4);
    }

    #[test]
    fn network_rule_spellings_and_effects() {
        let a = network_rules::items(
            "network_rules",
            "Deny",
            vec!["AzureServices".into(), "Logging".into()],
            vec!["1.2.3.4".into()],
            vec![],
        );
        let b = network_rules::items(
            "network_rules",
            "deny",
            vec!["Logging, AzureServices".into()],
            vec!["1.2.3.4/32".into()],
            vec![],
        );
        assert_eq!(a, b);
        let wider = network_rules::items(
            "network_rules",
            "Deny",
            vec![],
            vec!["1.2.3.4".into(), "0.0.0.0/0".into()],
            vec![],
        );
        assert_eq!(setting_effect(&a[2], &wider[2]), Effect::Weakens);
        assert_eq!(setting_effect(&wider[2], &a[2]), Effect::Strengthens);
        let open = network_rules::items("network_rules", "Allow", vec![], vec![], vec![]);
        assert_eq!(setting_effect(&a[0], &open[0]), Effect::Weakens);
    }

    fn account(attrs: Value) -> Resource {
        Resource::for_test(
            "azurerm_storage_account.a",
            "azurerm_storage_account",
            attrs,
        )
    }

    fn drifts(state: &Resource, arm: &Value) -> Vec<crate::model::Drift> {
        crate::families::drifts_against(&StorageAccounts, state, live_items(arm).unwrap())
    }

    const ID: &str =
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a";

    #[test]
    fn absent_arm_properties_read_as_the_provider_reads_them() {
        // azurerm v3/v4 read an absent `supportsHttpsTrafficOnly` and `allowBlobPublicAccess` as
        // false (`pointer.From`): the state it wrote says false, and that is no drift.
        let state = account(json!({"id": ID, "https_traffic_only_enabled": false,
            "allow_nested_items_to_be_public": false, "min_tls_version": "TLS1_0",
            "public_network_access_enabled": true, "shared_access_key_enabled": true}));
        let arm = json!({"id": ID, "properties": {}});
        assert_eq!(drifts(&state, &arm), vec![]);
        // Explicitly turned on live: drift, weakening for public blob access.
        let arm = json!({"id": ID, "properties": {"allowBlobPublicAccess": true,
            "supportsHttpsTrafficOnly": true}});
        let d = drifts(&state, &arm);
        assert_eq!(d.len(), 2, "{d:#?}");
        let blob = d
            .iter()
            .find(|d| d.actual_summary.as_deref() == Some("allow_nested_items_to_be_public = true"))
            .unwrap();
        assert_eq!(blob.effect, Effect::Weakens);
    }

    #[test]
    fn resource_instance_rules_let_through_are_drift() {
        let rules = json!([{"default_action": "Deny", "bypass": [], "ip_rules": [],
            "virtual_network_subnet_ids": [], "private_link_access": [{
            "endpoint_resource_id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Synapse/workspaces/w",
            "endpoint_tenant_id": "11111111-1111-1111-1111-111111111111"}]}]);
        let state = account(json!({"id": ID, "network_rules": rules}));
        let arm = |extra: Value| {
            let mut rules = vec![json!({"tenantId": "11111111-1111-1111-1111-111111111111",
                "resourceId": "/subscriptions/S/resourceGroups/G/providers/Microsoft.Synapse/workspaces/W"})];
            if !extra.is_null() {
                rules.push(extra);
            }
            json!({"id": ID, "properties": {"networkAcls": {"defaultAction": "Deny",
                "bypass": "None", "ipRules": [], "virtualNetworkRules": [],
                "resourceAccessRules": rules}}})
        };
        // The same rule with ARM's id case: no drift.
        assert_eq!(drifts(&state, &arm(Value::Null)), vec![]);
        // A resource of another tenant let through live: weakens.
        let d = drifts(
            &state,
            &arm(json!({"tenantId": "22222222-2222-2222-2222-222222222222",
            "resourceId": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Sql/servers/*"})),
        );
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].effect, Effect::Weakens);
        assert!(d[0]
            .actual_summary
            .as_deref()
            .unwrap()
            .contains("microsoft.sql/servers/*@2222"));
        // A state without the attribute (older provider) does not judge it.
        let old = account(
            json!({"id": ID, "network_rules": [{"default_action": "Deny",
            "bypass": [], "ip_rules": [], "virtual_network_subnet_ids": []}]}),
        );
        assert_eq!(
            drifts(&old, &arm(json!({"tenantId": "t", "resourceId": "r"}))),
            vec![]
        );
    }
}
