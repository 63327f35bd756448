//! Which network security group filters a NIC or a subnet:
//! `azurerm_network_interface_security_group_association` and
//! `azurerm_subnet_network_security_group_association` (azurerm 2.0+ declares the association
//! only through these). A NIC or subnet holds at most one NSG, so the association is one slot:
//! removed by hand it weakens (traffic is no longer filtered), swapped for another NSG it is a
//! change of unknown effect (the other NSG's rules are that NSG's business).
//!
//! ARM ids are case-insensitive (the portal and the API spell resource groups differently): the
//! NSG ids are compared in lower case.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{fetch_each, unowned_object, ArmRead};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{bad, set_id, About, Codify, CodifyRequest, Family, Subject};
use crate::model::{
    Cloud, Declarer, DriftKind, Effect, ExpectedItem, ExpectedObject, Facts, Item, LiveObject,
    Reach,
};
use crate::state::Resource;

pub const NIC_ASSOCIATIONS: About = About {
    name: "azure_nic_nsg_association",
    cloud: Cloud::Azure,
    label: "NIC NSG association(s)",
    resource_types: &["azurerm_network_interface_security_group_association"],
    batch_size: super::BATCH,
};

pub const SUBNET_ASSOCIATIONS: About = About {
    name: "azure_subnet_nsg_association",
    cloud: Cloud::Azure,
    label: "subnet NSG association(s)",
    resource_types: &["azurerm_subnet_network_security_group_association"],
    batch_size: super::BATCH,
};

/// One association family: the resource attribute that names the NIC or subnet, and how to read
/// it.
pub struct Associations {
    about: &'static About,
    target: &'static str,
    read: &'static ArmRead,
}

pub const NIC_NSG: Associations = Associations {
    about: &NIC_ASSOCIATIONS,
    target: "network_interface_id",
    read: &NIC_READ,
};

pub const SUBNET_NSG: Associations = Associations {
    about: &SUBNET_ASSOCIATIONS,
    target: "subnet_id",
    read: &SUBNET_READ,
};

const API_VERSION: &str = "2023-09-01";
const ATTRIBUTE: &str = "network_security_group_id";

const NIC_READ: ArmRead = ArmRead {
    api_version: API_VERSION,
    operation: "networkInterfaces.get",
    graph_type: Some("microsoft.network/networkinterfaces"),
    to_items: live_items,
};

/// Subnets are not in Resource Graph's `Resources` table: one GET each.
const SUBNET_READ: ArmRead = ArmRead {
    api_version: API_VERSION,
    operation: "subnets.get",
    graph_type: None,
    to_items: live_items,
};

/// The association of one NSG. `grants: false`: an NSG filters, so losing it allows more.
fn association(nsg: &str) -> Item {
    Item {
        identity: Some(ATTRIBUTE.to_string()),
        key: nsg.to_ascii_lowercase(),
        value: json!({ ATTRIBUTE: nsg }),
        summary: format!("network security group {nsg}"),
        facts: Facts {
            grants: false,
            direction: None,
            ports: Vec::new(),
            cidrs: Vec::new(),
            labels: Vec::new(),
        },
    }
}

/// `properties.networkSecurityGroup.id` of a NIC or subnet, as ARM and Resource Graph give it.
fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    let properties = body
        .get("properties")
        .filter(|p| p.is_object())
        .ok_or("no `properties` object")?;
    match properties.get("networkSecurityGroup") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(nsg) => {
            let id = nsg
                .get("id")
                .and_then(Value::as_str)
                .ok_or("`networkSecurityGroup` without an `id`")?;
            Ok(vec![(ATTRIBUTE, association(id))])
        }
    }
}

impl Family for Associations {
    fn about(&self) -> &'static About {
        self.about
    }

    /// Another NSG put in the slot by hand (accepted) becomes the association's NSG, by reference
    /// where the code refers to one and the module declares that NSG. The provider reads the
    /// slot back into `network_security_group_id`, so the code then matches and nothing is
    /// replaced. An association removed by hand (the NIC or subnet has no NSG) leaves the code.
    fn codify(&self, r: &CodifyRequest) -> Codify {
        match (r.kind, r.attribute) {
            (DriftKind::Changed, Some(ATTRIBUTE)) => match r.actual.get(ATTRIBUTE) {
                Some(Value::String(nsg)) => set_id(
                    r,
                    ATTRIBUTE,
                    nsg,
                    (&["azurerm_network_security_group"], "id"),
                    &|a, b| a.eq_ignore_ascii_case(b),
                ),
                _ => Codify::Unsupported,
            },
            (DriftKind::Missing, Some(ATTRIBUTE)) => Codify::RemoveResource {
                summary: format!("{} has no network security group", r.object),
            },
            _ => Codify::Unsupported,
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out: Vec<ExpectedObject> = Vec::new();
        for r in resources {
            let need = |name: &str| {
                r.attr_str(name)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| bad(r, &format!("has no `{name}`")))
            };
            let id = need(self.target)?;
            let nsg = need(ATTRIBUTE)?;
            if out.iter().any(|o| o.cloud_id.eq_ignore_ascii_case(id)) {
                return Err(bad(r, &format!("associates a second NSG with {id}")));
            }
            let mut obj = unowned_object(self.about.name, id, r);
            obj.items.push(ExpectedItem {
                attribute: ATTRIBUTE,
                item: association(nsg),
                by: Declarer::of(r, false),
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
        fetch_each(clouds, ids, self.read)
    }

    fn exposure<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move {
            let azure = clouds.azure()?;
            let mut out = BTreeMap::new();
            for o in objects {
                let nsg = o
                    .live
                    .items
                    .iter()
                    .find(|(a, _)| *a == ATTRIBUTE)
                    .and_then(|(_, i)| i.value.get(ATTRIBUTE))
                    .and_then(Value::as_str);
                let reach =
                    super::network_security_group::association_reach(azure, &o.live.cloud_id, nsg)
                        .await?;
                out.insert(o.live.cloud_id.clone(), reach);
            }
            Ok(out)
        })
    }

    /// Another NSG in the slot: what it allows is for that NSG's own rules to say.
    fn effect_of_change(&self, _attribute: &str, _expected: &Item, _actual: &Item) -> Effect {
        Effect::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::drifts_against;
    use crate::model::DriftKind;

    const NSG: &str = "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/nsg";

    fn state() -> Resource {
        Resource::for_test(
            "azurerm_network_interface_security_group_association.web",
            "azurerm_network_interface_security_group_association",
            json!({"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/test-nic|/x",
                   "network_interface_id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/test-nic",
                   "network_security_group_id": NSG.replace("resourceGroups/rg1", "resourceGroups/RG1")}),
        )
    }

    #[test]
    fn recorded_nic_reads_its_nsg_in_any_case() {
        let text = std::fs::read_to_string(
            "tests/fixtures/shared/azure/azure_specs_NetworkInterfaceGet.json",
        )
        .unwrap();
        let spec: Value = serde_json::from_str(&text).unwrap();
        let live = live_items(&spec["responses"]["200"]["body"]).unwrap();
        assert_eq!(live.len(), 1);
        assert!(drifts_against(&NIC_NSG, &state(), live).is_empty());
    }

    #[test]
    fn removed_weakens_and_swapped_is_unknown() {
        let d = drifts_against(&NIC_NSG, &state(), Vec::new());
        assert_eq!(
            (d[0].kind, d[0].effect),
            (DriftKind::Missing, Effect::Weakens)
        );
        let other = association(&NSG.replace("/nsg", "/allow-all"));
        let d = drifts_against(&NIC_NSG, &state(), vec![(ATTRIBUTE, other)]);
        assert_eq!(
            (d[0].kind, d[0].effect),
            (DriftKind::Changed, Effect::Unknown)
        );
        assert!(live_items(&json!({"id": "x"})).is_err());
    }
}
