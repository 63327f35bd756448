//! Compares an object's expected security view with its live view. Pure: no I/O, no policy.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::families::Family;
use crate::model::{
    Declarer, Drift, DriftKind, Effect, ExpectedItem, ExpectedObject, Item, LiveObject,
};

/// Are the values of a drift declared by `by` marked sensitive in the state? Masked by where the
/// value came from: a separate resource (a rule resource, an attachment) builds its item from its
/// own attributes, so any sensitive attribute of it masks the item (its `cidr_ipv4` feeds the
/// group's `ingress`); an item of the object's own resource comes from the attribute of that name.
fn is_sensitive(by: &Declarer, attribute: Option<&str>) -> bool {
    if by.sensitive_paths.is_empty() {
        return false;
    }
    if !by.inline {
        return true;
    }
    attribute.is_some_and(|a| {
        by.sensitive_paths
            .iter()
            .any(|p| p == a || p.starts_with(&format!("{a}.")) || a.starts_with(&format!("{p}.")))
    })
}

/// Where an item sits in an object's view: (attribute, identity, key).
type Slot<'a> = (&'static str, Option<&'a str>, &'a str);

/// The drifts of one object. `live` is `None` when the object does not exist.
pub fn compare<'a>(
    family: &dyn Family,
    expected: &'a ExpectedObject,
    region: &str,
    live: Option<&'a LiveObject>,
) -> Vec<Drift> {
    let base = |by: &Declarer, kind: DriftKind, attribute: Option<&str>| Drift {
        family: family.about().name,
        address: by.address.clone(),
        resource_type: by.resource_type.clone(),
        cloud_id: expected.cloud_id.clone(),
        region: region.to_string(),
        account: expected.account.clone(),
        kind,
        attribute: attribute.map(str::to_string),
        expected: Value::Null,
        actual: Value::Null,
        expected_summary: None,
        actual_summary: None,
        effect: Effect::Unknown,
        facts: None,
        is_default_object: expected.is_default || live.is_some_and(|l| l.is_default),
        tags: expected.tags.clone(),
        sources: by.sources.clone(),
        sensitive: is_sensitive(by, attribute),
        reach: None,
        observed: None,
    };

    let Some(live) = live else {
        // One drift for the object when its owner is in the state; otherwise each resource that
        // put rules on it learns that its rules have nowhere to live.
        let declarers: Vec<&Declarer> = match &expected.owner {
            Some(owner) => vec![owner],
            None => {
                let mut seen = BTreeSet::new();
                expected
                    .items
                    .iter()
                    .map(|i| &i.by)
                    .filter(|d| seen.insert(d.address.clone()))
                    .collect()
            }
        };
        return declarers
            .into_iter()
            .map(|by| {
                let mut d = base(by, DriftKind::Missing, None);
                d.expected = json!({ "id": expected.cloud_id });
                d.expected_summary = Some(format!(
                    "{} {}",
                    family.about().label.trim_end_matches("(s)"),
                    expected.cloud_id
                ));
                d.actual_summary = Some("does not exist".into());
                d
            })
            .collect();
    };

    // Expected items by slot: (attribute, identity, key); several resources may declare the same
    // rule. The identity is part of the slot: two settings under one attribute whose values
    // happen to be equal (`ip_rules = []` and `virtual_network_subnet_ids = []`) must never
    // stand in for each other. A separate rule resource is the more precise place to point at
    // than the owner's inline copy.
    let slot = |attribute: &'static str, item: &'a Item| {
        (attribute, item.identity.as_deref(), item.key.as_str())
    };
    let mut declared: BTreeMap<Slot<'a>, Vec<&ExpectedItem>> = BTreeMap::new();
    for e in &expected.items {
        declared
            .entry(slot(e.attribute, &e.item))
            .or_default()
            .push(e);
    }
    let live_items: Vec<&(&'static str, Item)> = live
        .items
        .iter()
        .filter(|(a, _)| !expected.ignore.contains(a))
        .filter(|(a, i)| {
            !i.identity.as_ref().is_some_and(|id| {
                expected
                    .tolerated
                    .iter()
                    .any(|(ta, tid)| ta == a && tid == id)
            })
        })
        .collect();
    let live_keys: BTreeSet<Slot<'a>> = live_items.iter().map(|(a, i)| slot(a, i)).collect();
    let live_by_identity: BTreeMap<(&str, &str), &Item> = live_items
        .iter()
        .filter_map(|(a, i)| i.identity.as_deref().map(|id| ((*a, id), i)))
        .collect();
    let declared_identities: BTreeSet<(&str, &str)> = expected
        .items
        .iter()
        .filter_map(|e| e.item.identity.as_deref().map(|id| (e.attribute, id)))
        .collect();

    let mut drifts = Vec::new();
    for (key, declarers) in &declared {
        if live_keys.contains(key) {
            continue;
        }
        let attribute = &key.0;
        let first = declarers
            .iter()
            .find(|d| !d.by.inline)
            .unwrap_or(&declarers[0]);
        let item = &first.item;
        let replaced = item
            .identity
            .as_deref()
            .and_then(|id| live_by_identity.get(&(*attribute, id)));
        let mut d = match replaced {
            Some(actual) => {
                let mut d = base(&first.by, DriftKind::Changed, Some(attribute));
                d.actual = actual.value.clone();
                d.actual_summary = Some(actual.summary.clone());
                d.effect = family.effect_of_change(attribute, item, actual);
                d.facts = Some(actual.facts.clone());
                d
            }
            None => {
                let kind = if first.by.inline {
                    DriftKind::Changed
                } else {
                    DriftKind::Missing
                };
                let mut d = base(&first.by, kind, Some(attribute));
                d.actual_summary = Some("absent".into());
                d.effect = family.effect_of_missing(expected, live, attribute, item);
                d.facts = Some(item.facts.clone());
                d
            }
        };
        d.expected = item.value.clone();
        d.expected_summary = Some(item.summary.clone());
        drifts.push(d);
    }

    // Live items nobody declares: judged only when the state manages the object itself.
    if let Some(owner) = &expected.owner {
        for (attribute, item) in live_items.iter().map(|x| (x.0, &x.1)) {
            if declared.contains_key(&slot(attribute, item)) {
                continue;
            }
            // Same slot with other content: already reported above as changed.
            if let Some(id) = item.identity.as_deref() {
                if declared_identities.contains(&(attribute, id)) {
                    continue;
                }
            }
            let mut d = base(owner, DriftKind::Unmanaged, Some(attribute));
            d.actual = item.value.clone();
            d.expected_summary = Some("absent".into());
            d.actual_summary = Some(item.summary.clone());
            d.effect = family.effect_of_unmanaged(expected, live, attribute, item);
            d.facts = Some(item.facts.clone());
            drifts.push(d);
        }
    }
    drifts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::aws::network_acl::NetworkAcls;
    use crate::families::aws::security_group::SecurityGroups;
    use crate::state::Resource;
    use serde_json::json;

    fn res(address: &str, t: &str, attrs: Value) -> Resource {
        Resource::for_test(address, t, attrs)
    }

    fn block(proto: &str, from: i64, to: i64, cidrs: &[&str]) -> Value {
        json!({"protocol": proto, "from_port": from, "to_port": to, "cidr_blocks": cidrs,
               "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false,
               "description": ""})
    }

    /// The live view of a group whose state is `live_attrs` (live and state share the model).
    fn live_of(family: &dyn Family, id: &str, live_attrs: Value) -> LiveObject {
        let r = res("live", "aws_security_group", live_attrs);
        let obj = family.expected(&[&r]).unwrap().remove(0);
        LiveObject {
            cloud_id: id.into(),
            items: obj
                .items
                .into_iter()
                .map(|e| (e.attribute, e.item))
                .collect(),
            is_default: false,
        }
    }

    fn run(resources: &[Resource], live: Option<&LiveObject>) -> Vec<Drift> {
        let refs: Vec<&Resource> = resources.iter().collect();
        let objs = SecurityGroups.expected(&refs).unwrap();
        assert_eq!(objs.len(), 1);
        compare(&SecurityGroups, &objs[0], "us-east-1", live)
    }

    #[test]
    fn reordered_and_regrouped_rules_are_not_drift() {
        let state = res(
            "aws_security_group.web",
            "aws_security_group",
            json!({"id": "sg-1", "ingress": [block("tcp", 443, 443, &["10.0.0.0/8", "0.0.0.0/0"]),
                                             block("6", 22, 22, &["10.1.0.0/16"])], "egress": []}),
        );
        let live = live_of(
            &SecurityGroups,
            "sg-1",
            json!({"id": "sg-1", "ingress": [block("tcp", 22, 22, &["10.1.0.0/16"]),
                                            block("tcp", 443, 443, &["0.0.0.0/0"]),
                                            block("tcp", 443, 443, &["10.0.0.1/8"])]}),
        );
        assert_eq!(run(&[state], Some(&live)), vec![]);
    }

    #[test]
    fn added_world_rule_is_unmanaged_and_weakens() {
        let state = res(
            "aws_security_group.web",
            "aws_security_group",
            json!({"id": "sg-1", "ingress": [block("tcp", 443, 443, &["10.0.0.0/8"])]}),
        );
        let live = live_of(
            &SecurityGroups,
            "sg-1",
            json!({"id": "sg-1", "ingress": [block("tcp", 443, 443, &["10.0.0.0/8"]),
                                            block("tcp", 22, 22, &["0.0.0.0/0"])]}),
        );
        let d = run(&[state], Some(&live));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, DriftKind::Unmanaged);
        assert_eq!(d[0].effect, Effect::Weakens);
        assert_eq!(d[0].address, "aws_security_group.web");
        assert_eq!(d[0].attribute.as_deref(), Some("ingress"));
        assert_eq!(
            d[0].actual_summary.as_deref(),
            Some("tcp port 22 from 0.0.0.0/0")
        );
        assert!(d[0].facts.as_ref().unwrap().open_to_internet());
    }

    #[test]
    fn removed_rule_is_drift_on_its_declarer() {
        let group = res(
            "aws_security_group.web",
            "aws_security_group",
            json!({"id": "sg-1"}),
        );
        let rule = res(
            "aws_security_group_rule.ssh",
            "aws_security_group_rule",
            json!({"type": "ingress", "security_group_id": "sg-1", "protocol": "tcp",
                   "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"]}),
        );
        let live = live_of(&SecurityGroups, "sg-1", json!({"id": "sg-1"}));
        let d = run(&[group, rule], Some(&live));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].address, "aws_security_group_rule.ssh");
        assert_eq!(d[0].kind, DriftKind::Missing);
        assert_eq!(d[0].effect, Effect::Strengthens);
    }

    #[test]
    fn split_rules_merge_and_stale_inline_copy_is_ignored() {
        // The group's inline `ingress` is the provider's copy from the last refresh: it still holds
        // a rule whose resource was destroyed since (10.9.0.0/16). Only rule resources count.
        let group = res(
            "aws_security_group.web",
            "aws_security_group",
            json!({"id": "sg-1", "ingress": [block("tcp", 22, 22, &["10.0.0.0/8"]),
                                             block("tcp", 80, 80, &["10.9.0.0/16"])],
                   "egress": [block("-1", 0, 0, &["0.0.0.0/0"])]}),
        );
        let rule = res(
            "aws_vpc_security_group_ingress_rule.ssh",
            "aws_vpc_security_group_ingress_rule",
            json!({"security_group_id": "sg-1", "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
                   "cidr_ipv4": "10.0.0.0/8"}),
        );
        let live = live_of(
            &SecurityGroups,
            "sg-1",
            json!({"id": "sg-1", "ingress": [block("tcp", 22, 22, &["10.0.0.0/8"])],
                   "egress": [block("all", 0, 0, &["0.0.0.0/0"])]}),
        );
        assert_eq!(run(&[group.clone(), rule.clone()], Some(&live)), vec![]);

        // A console rule beside rule resources is still named on the group.
        let live = live_of(
            &SecurityGroups,
            "sg-1",
            json!({"id": "sg-1", "ingress": [block("tcp", 22, 22, &["10.0.0.0/8"]),
                                            block("tcp", 80, 80, &["10.9.0.0/16"])],
                   "egress": [block("all", 0, 0, &["0.0.0.0/0"])]}),
        );
        let d = run(&[group, rule], Some(&live));
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].address.as_str(), d[0].kind),
            ("aws_security_group.web", DriftKind::Unmanaged)
        );
    }

    #[test]
    fn rules_on_a_group_managed_elsewhere_only_check_themselves() {
        let rule = res(
            "aws_security_group_rule.ssh",
            "aws_security_group_rule",
            json!({"type": "ingress", "security_group_id": "sg-ext", "protocol": "tcp",
                   "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"]}),
        );
        let live = live_of(
            &SecurityGroups,
            "sg-ext",
            json!({"id": "sg-ext", "ingress": [block("tcp", 22, 22, &["10.0.0.0/8"]),
                                              block("tcp", 443, 443, &["0.0.0.0/0"])]}),
        );
        assert_eq!(run(std::slice::from_ref(&rule), Some(&live)), vec![]);
        let d = run(&[rule], None);
        assert_eq!(
            (d[0].address.as_str(), d[0].kind),
            ("aws_security_group_rule.ssh", DriftKind::Missing)
        );
    }

    #[test]
    fn deleted_group_is_one_missing_drift() {
        let group = res(
            "module.edge.aws_security_group.this[\"web\"]",
            "aws_security_group",
            json!({"id": "sg-1", "ingress": [block("tcp", 22, 22, &["10.0.0.0/8"])]}),
        );
        let rule = res(
            "aws_security_group_rule.x",
            "aws_security_group_rule",
            json!({"type": "egress", "security_group_id": "sg-1", "protocol": "-1",
                   "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}),
        );
        let d = run(&[group, rule], None);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, DriftKind::Missing);
        assert_eq!(d[0].address, "module.edge.aws_security_group.this[\"web\"]");
        assert_eq!(d[0].attribute, None);
    }

    #[test]
    fn nacl_entry_changed_in_place_is_one_changed_drift() {
        let entry = |cidr: &str| {
            json!({"action": "allow", "cidr_block": cidr, "from_port": 443,
            "to_port": 443, "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": "", "protocol": "6",
            "rule_no": 100})
        };
        let acl = res(
            "aws_network_acl.private[0]",
            "aws_network_acl",
            json!({"id": "acl-1", "ingress": [entry("10.0.0.0/8")], "egress": []}),
        );
        let live_acl = res(
            "live",
            "aws_network_acl",
            json!({"id": "acl-1", "ingress": [entry("0.0.0.0/0")], "egress": []}),
        );
        let obj = NetworkAcls.expected(&[&acl]).unwrap().remove(0);
        let live_obj = NetworkAcls.expected(&[&live_acl]).unwrap().remove(0);
        let live = LiveObject {
            cloud_id: "acl-1".into(),
            items: live_obj
                .items
                .into_iter()
                .map(|e| (e.attribute, e.item))
                .collect(),
            is_default: false,
        };
        let d = compare(&NetworkAcls, &obj, "us-east-1", Some(&live));
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].kind, DriftKind::Changed);
        assert_eq!(d[0].effect, Effect::Weakens);
        assert_eq!(d[0].expected["cidr_block"], "10.0.0.0/8");
        assert_eq!(d[0].actual["cidr_block"], "0.0.0.0/0");
    }

    #[test]
    fn equal_keys_under_one_attribute_never_match_across_identities() {
        // A private-endpoint storage account: `ip_rules = []`, `virtual_network_subnet_ids = []`
        // (equal keys). Public IPs allow-listed live must not be hidden by the empty subnet list.
        use crate::families::azure::{network_rules, storage_account::StorageAccounts};
        let state = res(
            "azurerm_storage_account.a",
            "azurerm_storage_account",
            json!({"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a"}),
        );
        let mut expected =
            crate::families::azure::owned_object("azure_storage_account", "a", &state);
        let by = Declarer::of(&state, true);
        for item in network_rules::items("network_rules", "Deny", vec![], vec![], vec![]) {
            expected.items.push(ExpectedItem {
                attribute: "network_rules",
                item,
                by: by.clone(),
            });
        }
        let live = |ips: Vec<String>, bypass: Vec<String>| LiveObject {
            cloud_id: "a".into(),
            items: network_rules::items("network_rules", "Deny", bypass, ips, vec![])
                .into_iter()
                .map(|i| ("network_rules", i))
                .collect(),
            is_default: false,
        };
        let same = live(vec![], vec![]);
        assert_eq!(
            compare(&StorageAccounts, &expected, "westeurope", Some(&same)),
            vec![]
        );
        let opened = live(vec!["203.0.113.7".into()], vec![]);
        let d = compare(&StorageAccounts, &expected, "westeurope", Some(&opened));
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].kind, DriftKind::Changed);
        assert_eq!(d[0].effect, Effect::Weakens);
        assert_eq!(
            d[0].actual_summary.as_deref(),
            Some("network_rules.ip_rules = [203.0.113.7/32]")
        );
        let bypassed = live(vec![], vec!["AzureServices".into()]);
        let d = compare(&StorageAccounts, &expected, "westeurope", Some(&bypassed));
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].effect, Effect::Weakens);
    }
}
