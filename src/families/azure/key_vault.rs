//! Key vaults: `azurerm_key_vault`'s purge protection, soft-delete retention, public network
//! access, RBAC authorization, network ACLs, and access policies (inline `access_policy` blocks
//! and `azurerm_key_vault_access_policy` resources, merged per vault; beside the resources, the
//! vault's own `access_policy` is the provider's refreshed copy and is not used).
//!
//! An access policy's slot is its principal (tenant, object, application); its meaning is the
//! set of permissions per kind, compared without case (`Get` vs `get`, `WrapKey` vs `wrapKey`).

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{
    block, enabled, expect_specs, fetch_each, is_false, is_true, live_specs, network_rules,
    owned_object, prop, same, unowned_object, ArmRead, Spec,
};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{
    bad, setting_effect, str_list, About, Codify, CodifyRequest, Family, Subject,
};
use std::collections::BTreeMap;

use crate::model::{
    Cloud, Declarer, DriftKind, Effect, ExpectedItem, ExpectedObject, Item, LiveObject, Reach,
};
use crate::state::Resource;

pub const KEY_VAULTS: About = About {
    name: "azure_key_vault",
    cloud: Cloud::Azure,
    label: "key vault(s)",
    resource_types: &["azurerm_key_vault", "azurerm_key_vault_access_policy"],
    batch_size: super::BATCH,
};

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

fn retention_days(v: &Value) -> Value {
    match v.as_i64() {
        None | Some(0) => json!(90),
        Some(_) => v.clone(),
    }
}

fn specs() -> Vec<Spec> {
    vec![
        Spec {
            attribute: "purge_protection_enabled",
            state: &["purge_protection_enabled"],
            arm: "enablePurgeProtection",
            arm_default: json!(false),
            from_arm: same,
            from_state: same,
            weak: is_false,
        },
        Spec {
            attribute: "soft_delete_retention_days",
            state: &["soft_delete_retention_days"],
            arm: "softDeleteRetentionInDays",
            arm_default: json!(90),
            // The provider reads an absent or zero retention as 90 days.
            from_arm: retention_days,
            from_state: same,
            weak: never,
        },
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
            attribute: "rbac_authorization_enabled",
            state: &["rbac_authorization_enabled", "enable_rbac_authorization"],
            arm: "enableRbacAuthorization",
            arm_default: json!(false),
            from_arm: same,
            from_state: same,
            weak: never,
        },
    ]
}

fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    let mut out = live_specs(body, &specs());
    for policy in prop(body, "accessPolicies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = |k: &str| policy.get(k).and_then(Value::as_str).unwrap_or_default();
        let permissions = policy.get("permissions");
        out.push((
            "access_policy",
            access_item(
                text("tenantId"),
                text("objectId"),
                text("applicationId"),
                &|kind, _| str_list(permissions.and_then(|p| p.get(kind))),
            ),
        ));
    }
    // ARM's default bypass for vaults: trusted Azure services may pass.
    out.extend(network_rules::live(
        "network_acls",
        prop(body, "networkAcls"),
        &["AzureServices"],
    ));
    Ok(out)
}

const PERMISSION_KINDS: [(&str, &str); 4] = [
    ("keys", "key_permissions"),
    ("secrets", "secret_permissions"),
    ("certificates", "certificate_permissions"),
    ("storage", "storage_permissions"),
];

/// One access policy. `perms(arm_kind, state_name)` gives the permissions of a kind.
fn access_item(
    tenant: &str,
    object: &str,
    application: &str,
    perms: &dyn Fn(&str, &str) -> Vec<String>,
) -> Item {
    let mut permissions = serde_json::Map::new();
    let mut text = Vec::new();
    for (kind, state_name) in PERMISSION_KINDS {
        let mut p: Vec<String> = perms(kind, state_name)
            .iter()
            .map(|x| x.to_ascii_lowercase())
            .collect();
        p.sort();
        p.dedup();
        if !p.is_empty() {
            text.push(format!("{kind}: {}", p.join(",")));
        }
        permissions.insert(kind.to_string(), json!(p));
    }
    let who = format!(
        "{}/{}/{}",
        tenant.to_ascii_lowercase(),
        object.to_ascii_lowercase(),
        application.to_ascii_lowercase()
    );
    let permissions = Value::Object(permissions);
    Item {
        identity: Some(who.clone()),
        key: format!("{who}|{permissions}"),
        value: json!({"tenant_id": tenant, "object_id": object, "application_id": application,
                      "permissions": permissions}),
        summary: format!(
            "object {object} may {}",
            if text.is_empty() {
                "nothing".to_string()
            } else {
                text.join("; ")
            }
        ),
        facts: crate::model::Facts {
            grants: true,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels: vec![],
        },
    }
}

/// The permissions as the provider spells them (its validation is case-sensitive; ARM answers in
/// lower case), per kind: what a permission the code does not spell yet is written as.
const PERMISSION_NAMES: [(&str, &[&str]); 4] = [
    (
        "keys",
        &[
            "Backup",
            "Create",
            "Decrypt",
            "Delete",
            "Encrypt",
            "Get",
            "GetRotationPolicy",
            "Import",
            "List",
            "Purge",
            "Recover",
            "Release",
            "Restore",
            "Rotate",
            "SetRotationPolicy",
            "Sign",
            "UnwrapKey",
            "Update",
            "Verify",
            "WrapKey",
        ],
    ),
    (
        "secrets",
        &[
            "Backup", "Delete", "Get", "List", "Purge", "Recover", "Restore", "Set",
        ],
    ),
    (
        "certificates",
        &[
            "Backup",
            "Create",
            "Delete",
            "DeleteIssuers",
            "Get",
            "GetIssuers",
            "Import",
            "List",
            "ListIssuers",
            "ManageContacts",
            "ManageIssuers",
            "Purge",
            "Recover",
            "Restore",
            "SetIssuers",
            "Update",
        ],
    ),
    (
        "storage",
        &[
            "Backup",
            "Delete",
            "DeleteSAS",
            "Get",
            "GetSAS",
            "List",
            "ListSAS",
            "Purge",
            "Recover",
            "RegenerateKey",
            "Restore",
            "Set",
            "SetSAS",
            "Update",
        ],
    ),
];

/// The permissions of `kind` in an access policy item's value (lower case).
fn permissions_of(value: &Value, kind: &str) -> Vec<String> {
    str_list(value.get("permissions").and_then(|p| p.get(kind)))
}

/// How the code is to spell permission `p` (lower case) of `kind`: as the code already spells
/// it, else as the provider does. `None`: the provider has no such permission (ARM's `all`).
fn spelled(kind: &str, p: &str, code: &[String]) -> Option<String> {
    code.iter()
        .find(|c| c.eq_ignore_ascii_case(p))
        .cloned()
        .or_else(|| {
            PERMISSION_NAMES
                .iter()
                .find(|(k, _)| *k == kind)
                .and_then(|(_, names)| names.iter().find(|n| n.eq_ignore_ascii_case(p)))
                .map(|n| n.to_string())
        })
}

/// The live permissions of `kind` as the code is to spell them; `Err`: the manual answer for a
/// permission the provider does not know.
fn spell_all(
    kind: &str,
    live: &[String],
    code: &[String],
    want: &str,
    at: usize,
) -> std::result::Result<Vec<String>, Codify> {
    live.iter()
        .map(|p| {
            spelled(kind, p, code).ok_or_else(|| Codify::Manual {
                offset: at,
                reason: format!(
                    "the live {kind} permission `{p}` has no name in the azurerm provider: set \
                     the permissions it stands for"
                ),
                want: want.to_string(),
            })
        })
        .collect()
}

/// An access policy changed in the portal, written where the code declares it: the
/// `azurerm_key_vault_access_policy` resource, or the vault's inline `access_policy` block
/// whose `object_id` names the principal (a literal, or a reference the state resolves). A policy gone live goes (the resource is
/// forgotten, the block removed); permissions taken away or added leave or join the lists; a
/// policy only live is added as an inline block of a vault that declares its policies inline
/// (with `--accept-weakening`).
fn codify_policy(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    // Gone live: a separate resource's policy is missing, an inline one changed to nothing.
    let (gone, added) = (r.actual.is_null(), r.expected.is_null());
    let declared = if gone { r.expected } else { r.actual };
    let object = declared["object_id"].as_str().unwrap_or_default();
    let want = match gone {
        true => format!("no access policy for object {object}"),
        false => format!(
            "an access policy for object {object} with {}",
            policy_text(r.actual)
        ),
    };
    let manual = |offset: usize, reason: &str| Codify::Manual {
        offset,
        reason: reason.into(),
        want: want.clone(),
    };
    let start = r.block.span().map_or(0, |s| s.start);
    if r.resource_type == "azurerm_key_vault_access_policy" {
        return match (gone, added) {
            (true, _) => Codify::RemoveResource {
                summary: format!("the access policy for object {object} is gone"),
            },
            (false, false) => codify_permissions(r, r.block, &want),
            (false, true) => Codify::Unsupported,
        };
    }
    if r.resource_type != "azurerm_key_vault" {
        return Codify::Unsupported;
    }
    if let Some(d) = r.block.body.get_blocks("dynamic").find(|b| {
        b.labels
            .first()
            .is_some_and(|l| l.as_str() == "access_policy")
    }) {
        return manual(
            d.span().map_or(start, |s| s.start),
            "the access policies come from a `dynamic \"access_policy\"` block",
        );
    }
    let mut found = None;
    let mut unknown = None;
    for b in r.block.body.get_blocks("access_policy") {
        match crate::families::resolved_value(&b.body, "object_id", r.refs) {
            Ok(Some(o)) if o.eq_ignore_ascii_case(object) => found = Some(b),
            Ok(_) => {}
            Err(at) => unknown = unknown.or(Some(at)),
        }
    }
    let change = match (gone, added) {
        (true, _) => DriftKind::Missing,
        (false, false) => DriftKind::Changed,
        (false, true) => DriftKind::Unmanaged,
    };
    match (change, found, unknown) {
        (DriftKind::Missing, Some(b), _) => match b.span() {
            Some(span) => Codify::Edits {
                edits: vec![crate::families::remove_lines(r.text, span)],
                summary: format!("remove the access policy for object {object}"),
            },
            None => manual(start, "the access_policy block has no position"),
        },
        (DriftKind::Changed, Some(b), _) => codify_permissions(r, b, &want),
        (DriftKind::Unmanaged, Some(_), _) => Codify::Edits {
            edits: Vec::new(),
            summary: want,
        },
        (_, None, Some(at)) => manual(
            at,
            "an access policy names its principal with an expression: which block is this \
             object's cannot be told",
        ),
        (DriftKind::Missing, None, None) => Codify::Edits {
            edits: Vec::new(),
            summary: want,
        },
        (DriftKind::Changed, None, None) => manual(
            start,
            "no access_policy block of this vault names the object as a literal",
        ),
        // Without inline policies in the code, the vault's policies may be separate resources,
        // and an inline block beside them would fight them on every apply.
        (DriftKind::Unmanaged, None, None)
            if r.block.body.get_blocks("access_policy").next().is_none() =>
        {
            manual(
                start,
                "the vault declares no inline access_policy: add the policy where the others are \
             declared (an azurerm_key_vault_access_policy)",
            )
        }
        (DriftKind::Unmanaged, None, None) => {
            let text = |k: &str| declared[k].as_str().unwrap_or_default();
            let mut lines = vec![
                "access_policy {".to_string(),
                format!("  tenant_id = \"{}\"", text("tenant_id")),
                format!("  object_id = \"{object}\""),
            ];
            if !text("application_id").is_empty() {
                lines.push(format!("  application_id = \"{}\"", text("application_id")));
            }
            for (kind, state_name) in PERMISSION_KINDS {
                let names =
                    match spell_all(kind, &permissions_of(r.actual, kind), &[], &want, start) {
                        Ok(names) => names,
                        Err(manual) => return manual,
                    };
                let names: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                if !names.is_empty() {
                    lines.push(format!("  {state_name} = [{}]", names.join(", ")));
                }
            }
            lines.push("}".into());
            match crate::families::append_block(r.text, r.block, &lines) {
                Ok(edit) => Codify::Edits {
                    edits: vec![edit],
                    summary: want,
                },
                Err(why) => manual(start, why),
            }
        }
    }
}

/// Each permission list of a policy block made to hold what is live for its kind.
fn codify_permissions(r: &CodifyRequest, block: &hcl_edit::structure::Block, want: &str) -> Codify {
    use hcl_edit::Span;
    let mut edits = Vec::new();
    for (kind, state_name) in PERMISSION_KINDS {
        let (code_side, live) = (
            permissions_of(r.expected, kind),
            permissions_of(r.actual, kind),
        );
        if code_side == live {
            continue;
        }
        let written = match crate::families::literal_list(&block.body, state_name) {
            Ok(code) => {
                let code: Vec<String> = code.into_iter().map(|(v, _)| v).collect();
                let at = block.span().map_or(0, |s| s.start);
                match spell_all(kind, &live, &code, want, at) {
                    Ok(names) => names,
                    Err(manual) => return manual,
                }
            }
            Err(offset) => {
                return Codify::Manual {
                    offset,
                    reason: format!("`{state_name}` is an expression, not a literal list"),
                    want: want.to_string(),
                }
            }
        };
        match crate::families::codify_list_in(r, block, state_name, &written, &|p| {
            p.to_ascii_lowercase()
        }) {
            Codify::Edits { edits: more, .. } => edits.extend(more),
            other => return other,
        }
    }
    Codify::Edits {
        edits,
        summary: want.to_string(),
    }
}

/// A policy's permissions in words: `keys: get, list; secrets: get`.
fn policy_text(value: &Value) -> String {
    let parts: Vec<String> = PERMISSION_KINDS
        .iter()
        .filter_map(|(kind, _)| {
            let p = permissions_of(value, kind);
            (!p.is_empty()).then(|| format!("{kind}: {}", p.join(", ")))
        })
        .collect();
    if parts.is_empty() {
        "no permissions".into()
    } else {
        parts.join("; ")
    }
}

/// Every permission of an access policy item, as `kind:permission`.
fn granted(item: &Item) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    if let Some(Value::Object(m)) = item.value.get("permissions") {
        for (kind, list) in m {
            for p in str_list(Some(list)) {
                out.insert(format!("{kind}:{p}"));
            }
        }
    }
    out
}

fn state_access_item(v: &Value) -> std::result::Result<Item, String> {
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let object = text("object_id");
    if object.is_empty() {
        return Err("an access policy without `object_id`".into());
    }
    Ok(access_item(
        &text("tenant_id"),
        &object,
        &text("application_id"),
        &|_, state_name| str_list(v.get(state_name)),
    ))
}

impl Family for KeyVaults {
    fn about(&self) -> &'static About {
        &KEY_VAULTS
    }

    fn codify(&self, r: &CodifyRequest) -> Codify {
        match r.attribute {
            Some("network_acls") if r.resource_type == "azurerm_key_vault" => {
                network_rules::codify(r, "network_acls", &["network_acls"])
            }
            Some("access_policy") => codify_policy(r),
            _ => super::codify_spec(r, &specs(), "azurerm_key_vault"),
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut vaults: std::collections::BTreeMap<String, ExpectedObject> =
            std::collections::BTreeMap::new();
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "azurerm_key_vault")
        {
            let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
            let mut obj = owned_object(self.about().name, id, r);
            expect_specs(&mut obj, r, &specs());
            match block(r.attr("network_acls")) {
                Some(acls) => {
                    network_rules::expect(&mut obj, "network_acls", acls, Declarer::of(r, true))
                        .map_err(|e| bad(r, &format!("`network_acls`: {e}")))?
                }
                None => obj.ignore.push("network_acls"),
            }
            match r.attr("access_policy").and_then(Value::as_array) {
                Some(policies) => {
                    for p in policies {
                        obj.items.push(ExpectedItem {
                            attribute: "access_policy",
                            item: state_access_item(p).map_err(|e| bad(r, &e))?,
                            by: Declarer::of(r, true),
                        });
                    }
                }
                None => obj.ignore.push("access_policy"),
            }
            vaults.insert(id.to_ascii_lowercase(), obj);
        }
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "azurerm_key_vault_access_policy")
        {
            let vault = r
                .attr_str("key_vault_id")
                .ok_or_else(|| bad(r, "has no `key_vault_id`"))?;
            let obj = vaults.entry(vault.to_ascii_lowercase()).or_insert_with(|| {
                // The vault is managed elsewhere: only the policies declared here are ours.
                unowned_object(KEY_VAULTS.name, vault, r)
            });
            obj.ignore.retain(|a| *a != "access_policy");
            obj.items.push(ExpectedItem {
                attribute: "access_policy",
                item: state_access_item(&r.attributes).map_err(|e| bad(r, &e))?,
                by: Declarer::of(r, false),
            });
        }
        Ok(vaults
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
                        network_rules::reach(name, &o.live.items, "network_acls"),
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

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        if attribute == "soft_delete_retention_days" {
            return match (expected.value.get(attribute), actual.value.get(attribute)) {
                (Some(e), Some(a)) if a.as_i64() < e.as_i64() => Effect::Weakens,
                (Some(e), Some(a)) if a.as_i64() > e.as_i64() => Effect::Strengthens,
                _ => Effect::Unknown,
            };
        }
        if attribute == "access_policy" {
            let (e, a) = (granted(expected), granted(actual));
            return match (a.is_superset(&e), e.is_superset(&a)) {
                (true, false) => Effect::Weakens,
                (false, true) => Effect::Strengthens,
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
    fn access_policies_by_principal_without_case() {
        let text = std::fs::read_to_string(
            "tests/fixtures/shared/azure/azure_specs_KeyVault_getVault.json",
        )
        .unwrap();
        let spec: Value = serde_json::from_str(&text).unwrap();
        let body = &spec["responses"]["200"]["body"];
        let live: Vec<Item> = live_items(body)
            .unwrap()
            .into_iter()
            .filter(|(a, _)| *a == "access_policy")
            .map(|(_, i)| i)
            .collect();
        assert_eq!(live.len(), 1);
        // The same policy as `azurerm_key_vault_access_policy` records it: capitalized, reordered.
        let id = body["id"].as_str().unwrap();
        let zero = "00000000-0000-0000-0000-000000000000";
        let policy = Resource {
            address: "azurerm_key_vault_access_policy.app".into(),
            resource_type: "azurerm_key_vault_access_policy".into(),
            provider: "p".into(),
            attributes: json!({"key_vault_id": id, "tenant_id": zero, "object_id": zero, "application_id": "",
                "key_permissions": ["Purge", "Encrypt", "Decrypt", "WrapKey", "UnwrapKey", "Sign", "Verify", "Get",
                    "List", "Create", "Update", "Import", "Delete", "Backup", "Restore", "Recover"],
                "secret_permissions": ["Get", "List", "Set", "Delete", "Backup", "Restore", "Recover", "Purge"],
                "certificate_permissions": ["Get", "List", "Delete", "Create", "Import", "Update", "ManageContacts",
                    "GetIssuers", "ListIssuers", "SetIssuers", "DeleteIssuers", "ManageIssuers", "Recover", "Purge"],
                "storage_permissions": []}),
            sensitive_paths: vec![],
            sources: vec!["s".into()],
        };
        let objs = KeyVaults.expected(&[&policy]).unwrap();
        assert!(objs[0].owner.is_none());
        assert_eq!(objs[0].items[0].item, live[0]);
        // Fewer permissions in the code than live: the live policy grants more.
        let mut narrower = policy.clone();
        narrower.attributes["secret_permissions"] = json!(["Get"]);
        let expected = &KeyVaults.expected(&[&narrower]).unwrap()[0].items[0].item;
        assert_eq!(
            KeyVaults.effect_of_change("access_policy", expected, &live[0]),
            Effect::Weakens
        );
        assert_eq!(
            KeyVaults.effect_of_change("access_policy", &live[0], expected),
            Effect::Strengthens
        );
    }

    #[test]
    fn network_acls_as_the_provider_records_them() {
        // azurerm keeps `bypass` as one string here (a set of strings on storage accounts).
        let vault = Resource {
            address: "azurerm_key_vault.kv".into(),
            resource_type: "azurerm_key_vault".into(),
            provider: "p".into(),
            attributes: json!({"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
                "network_acls": [{"bypass": "AzureServices", "default_action": "Deny",
                    "ip_rules": ["203.0.113.7/32"], "virtual_network_subnet_ids": []}]}),
            sensitive_paths: vec![],
            sources: vec!["s".into()],
        };
        let expected: Vec<Item> = KeyVaults.expected(&[&vault]).unwrap()[0]
            .items
            .iter()
            .filter(|i| i.attribute == "network_acls")
            .map(|i| i.item.clone())
            .collect();
        let arm = json!({"properties": {"networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny",
            "ipRules": [{"value": "203.0.113.7"}], "virtualNetworkRules": []}}});
        let live: Vec<Item> = live_items(&arm)
            .unwrap()
            .into_iter()
            .filter(|(a, _)| *a == "network_acls")
            .map(|(_, i)| i)
            .collect();
        assert_eq!(expected, live);
    }

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
        let days = |n: i64| crate::families::setting("soft_delete_retention_days", json!(n), false);
        assert_eq!(
            f.effect_of_change("soft_delete_retention_days", &days(90), &days(7)),
            Effect::Weakens
        );
    }

    #[test]
    fn zero_or_absent_retention_reads_as_ninety_days() {
        assert_eq!(retention_days(&json!(0)), json!(90));
        assert_eq!(retention_days(&Value::Null), json!(90));
        assert_eq!(retention_days(&json!(7)), json!(7));
    }
}
