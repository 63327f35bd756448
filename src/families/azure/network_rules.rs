//! The resource firewall that storage accounts (`network_rules`) and key vaults (`network_acls`)
//! share: default action, trusted-service bypass, allowed IP ranges, allowed subnets. Both
//! sides become four settings named `<attribute>.…`, compared as sets without case.

use serde_json::Value;

use crate::families::{
    codify_list_in, live_setting, set_setting, setting, setting_values, str_list, Codify,
    CodifyRequest,
};
use crate::model::{
    cidr, is_private_cidr, Declarer, DriftKind, ExpectedItem, ExpectedObject, Exposure, Item, Reach,
};

/// An IP rule as Azure and Terraform both accept it: `1.2.3.4` or `1.2.3.0/24`.
fn ip_rule(raw: &str) -> String {
    let raw = raw.trim();
    if raw.contains('/') {
        cidr(raw).unwrap_or_else(|_| raw.to_string())
    } else {
        format!("{raw}/32")
    }
}

/// `AzureServices, Logging` (ARM) and `["AzureServices", "Logging"]` (Terraform) alike.
fn bypass_list(items: Vec<String>) -> Vec<String> {
    items
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty() && s != "none")
        .collect()
}

pub fn items(
    attribute: &str,
    default_action: &str,
    bypass: Vec<String>,
    ips: Vec<String>,
    subnets: Vec<String>,
) -> Vec<Item> {
    let deny = default_action.eq_ignore_ascii_case("deny");
    vec![
        setting(
            &format!("{attribute}.default_action"),
            serde_json::json!(if deny { "Deny" } else { "Allow" }),
            !deny,
        ),
        set_setting(&format!("{attribute}.bypass"), bypass_list(bypass), true),
        set_setting(
            &format!("{attribute}.ip_rules"),
            ips.iter().map(|s| ip_rule(s)).collect(),
            true,
        ),
        set_setting(
            &format!("{attribute}.virtual_network_subnet_ids"),
            subnets.iter().map(|s| s.to_ascii_lowercase()).collect(),
            true,
        ),
    ]
}

/// The expected firewall from a state block (`network_rules[0]`, `network_acls[0]`, or the
/// attributes of an `azurerm_storage_account_network_rules`).
pub fn expect(
    obj: &mut ExpectedObject,
    attribute: &'static str,
    block: &Value,
    by: Declarer,
) -> std::result::Result<(), String> {
    let action = block
        .get("default_action")
        .and_then(Value::as_str)
        .ok_or("no `default_action`")?;
    // A set of strings for storage accounts; one string (`AzureServices` or `None`) for vaults.
    let bypass = match block.get("bypass") {
        Some(Value::String(s)) => vec![s.clone()],
        other => str_list(other),
    };
    for item in items(
        attribute,
        action,
        bypass,
        str_list(block.get("ip_rules")),
        str_list(block.get("virtual_network_subnet_ids")),
    ) {
        obj.items.push(ExpectedItem {
            attribute,
            item,
            by: by.clone(),
        });
    }
    Ok(())
}

/// The live firewall from ARM's `networkAcls` (absent: open, as ARM defaults it);
/// `bypass_default` is what an absent `bypass` means for the type.
pub fn live(
    attribute: &'static str,
    acls: Option<&Value>,
    bypass_default: &[&str],
) -> Vec<(&'static str, Item)> {
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
    let bypass = match field("bypass").and_then(Value::as_str) {
        Some(s) => vec![s.to_string()],
        None => bypass_default.iter().map(|s| s.to_string()).collect(),
    };
    items(
        attribute,
        action,
        bypass,
        values("ipRules", "value"),
        values("virtualNetworkRules", "id"),
    )
    .into_iter()
    .map(|i| (attribute, i))
    .collect()
}

/// A firewall setting changed in the portal, written into the block at `path` (`["network_acls"]`
/// of a vault, `["network_rules"]` of a storage account, `[]` for the attributes of an
/// `azurerm_storage_account_network_rules`). `attribute` is the firewall's name in the family.
/// Ranges and subnets are edited as lists where written; an address is added as the bare IP
/// (storage accounts reject `/32`); the bypass is one string on vaults, a set on accounts.
pub fn codify(r: &CodifyRequest, attribute: &str, path: &[&str]) -> Codify {
    let Some((name, value)) = r.actual.as_object().and_then(|m| m.iter().next()) else {
        return Codify::Unsupported;
    };
    let Some(field) = name
        .strip_prefix(attribute)
        .and_then(|n| n.strip_prefix('.'))
    else {
        return Codify::Unsupported;
    };
    if r.kind != DriftKind::Changed {
        return Codify::Unsupported;
    }
    let live = str_list(Some(value));
    let list_want = |key: &str, values: &[String]| {
        let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
        format!("{key} = [{}]", quoted.join(", "))
    };
    let within = |want: &str| crate::families::nested_block(r.block, path, want);
    match field {
        "default_action" => crate::families::codify_setting(r, path, &["default_action"]),
        "ip_rules" => {
            let written: Vec<String> = live
                .iter()
                .map(|n| n.strip_suffix("/32").unwrap_or(n).to_string())
                .collect();
            match within(&list_want("ip_rules", &written)) {
                Ok(b) => codify_list_in(r, b, "ip_rules", &written, &ip_rule),
                Err(manual) => manual,
            }
        }
        "virtual_network_subnet_ids" => {
            let key = "virtual_network_subnet_ids";
            match within(&list_want(key, &live)) {
                Ok(b) => codify_list_in(r, b, key, &live, &|s| s.to_ascii_lowercase()),
                Err(manual) => manual,
            }
        }
        "bypass" => {
            let names: Vec<String> = live
                .iter()
                .map(|b| {
                    BYPASS
                        .iter()
                        .find(|n| n.eq_ignore_ascii_case(b))
                        .map_or_else(|| b.clone(), |n| n.to_string())
                })
                .collect();
            // A vault bypasses its trusted services or nothing: one string.
            if attribute == "network_acls" {
                let one = names.first().map_or("None", String::as_str);
                let want = format!("bypass = \"{one}\"");
                return match within(&want) {
                    Ok(b) => set_in(r, b, "bypass", &format!("\"{one}\"")),
                    Err(manual) => manual,
                };
            }
            let names = if names.is_empty() {
                vec!["None".to_string()]
            } else {
                names
            };
            match within(&list_want("bypass", &names)) {
                Ok(b) => codify_list_in(r, b, "bypass", &names, &|s| s.to_ascii_lowercase()),
                Err(manual) => manual,
            }
        }
        _ => Codify::Unsupported,
    }
}

/// The trusted-service bypasses as the provider spells them.
const BYPASS: [&str; 3] = ["AzureServices", "Logging", "Metrics"];

/// Attribute `key` of `block` made to say `value`; an expression is manual.
fn set_in(r: &CodifyRequest, block: &hcl_edit::structure::Block, key: &str, value: &str) -> Codify {
    use hcl_edit::Span;
    let start = block.span().map_or(0, |s| s.start);
    let summary = format!("{key} = {value}");
    match crate::families::attribute_edit(&block.body, start, r.text, key, value) {
        Ok(edit) => Codify::Edits {
            edits: vec![edit],
            summary,
        },
        Err(offset) => Codify::Manual {
            offset,
            reason: format!("`{key}` is an expression, not a literal of this block"),
            want: summary,
        },
    }
}

/// How a storage account or key vault is reached, from its live settings: public network access
/// off admits only private endpoints; on, its firewall's default action and IP rules decide.
/// `attribute`: the firewall's name in the family (`network_rules`, `network_acls`).
pub fn reach(name: &str, items: &[(&'static str, Item)], attribute: &str) -> Reach {
    let public = live_setting(items, "public_network_access_enabled").map(|i| i.key.as_str());
    if public == Some("false") {
        return Reach::new(
            Exposure::Private,
            format!("public network access to {name} is disabled: only private endpoints reach it"),
        );
    }
    let default = live_setting(items, &format!("{attribute}.default_action"))
        .map(|i| i.key.as_str())
        .unwrap_or("Allow");
    if default != "Deny" {
        return Reach::new(
            Exposure::Internet,
            format!(
                "public network access to {name} is enabled and its firewall allows by default"
            ),
        );
    }
    let ips: Vec<String> = live_setting(items, &format!("{attribute}.ip_rules"))
        .map(setting_values)
        .unwrap_or_default();
    if ips.iter().any(|c| c == "0.0.0.0/0") {
        return Reach::new(
            Exposure::Internet,
            format!("the firewall of {name} admits 0.0.0.0/0"),
        );
    }
    let outside: Vec<&String> = ips.iter().filter(|c| !is_private_cidr(c)).collect();
    if !outside.is_empty() {
        let shown: Vec<&str> = outside.iter().take(3).map(|s| s.as_str()).collect();
        return Reach::new(
            Exposure::Restricted,
            format!(
                "the firewall of {name} denies by default and admits {} IP range(s) ({}{})",
                outside.len(),
                shown.join(", "),
                if outside.len() > 3 { ", …" } else { "" }
            ),
        );
    }
    Reach::new(
        Exposure::Private,
        format!(
            "the firewall of {name} denies by default and admits only virtual network subnets \
             and trusted services"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach_from_public_access_and_firewall() {
        let reach = |public: bool, default: &str, ips: &[&str]| {
            let mut live: Vec<(&'static str, Item)> = vec![(
                "public_network_access_enabled",
                setting(
                    "public_network_access_enabled",
                    serde_json::json!(public),
                    public,
                ),
            )];
            for i in items(
                "network_rules",
                default,
                vec![],
                ips.iter().map(|s| s.to_string()).collect(),
                vec![],
            ) {
                live.push(("network_rules", i));
            }
            super::reach("acct", &live, "network_rules").exposure
        };
        assert_eq!(reach(false, "Allow", &[]), Exposure::Private);
        assert_eq!(reach(true, "Allow", &[]), Exposure::Internet);
        assert_eq!(reach(true, "Deny", &["203.0.113.7"]), Exposure::Restricted);
        assert_eq!(reach(true, "Deny", &["10.1.0.0/16"]), Exposure::Private);
        assert_eq!(reach(true, "Deny", &[]), Exposure::Private);
    }
}
