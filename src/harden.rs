//! `driftgate fix --harden`: the well-known hardening patterns, found in what the code declares
//! (the state's view of it), also where nothing drifted: SSH and RDP from the internet, key
//! rotation off, public access on, unencrypted volumes. Each family says what its declared
//! items become (`Family::harden`); this module turns each into the finding a console fix
//! would have made, named by the policy that judges the pattern itself (the item appearing
//! live, as the gate would see it), so that `fix` writes it like any other and the reports
//! name its policy and references.

use serde_json::Value;

use crate::families::{Family, Hardened};
use crate::model::{Drift, DriftKind, Effect, ExpectedObject};
use crate::policy::PolicySet;
use crate::verdict::{self, Finding};

/// A hardening to write: the finding, and whether the change replaces the resource on apply.
#[derive(Debug, Clone)]
pub struct Harden {
    pub finding: Finding,
    pub replaces: bool,
}

/// The hardenings of every declared object. A pattern no policy judges (a policy file that
/// leaves it out) is not written: every hardening names its policy.
pub fn findings(
    expected: &[(&'static dyn Family, ExpectedObject)],
    resources: &[crate::state::Resource],
    policies: &PolicySet,
    admin: Option<&str>,
) -> Vec<Harden> {
    let mut out = Vec::new();
    for (family, object) in expected {
        for item in &object.items {
            let Some(hardened) = family.harden(object, item, admin) else {
                continue;
            };
            let (after, replaces) = match &hardened {
                Hardened::Remove => (None, false),
                Hardened::Replace { item, replaces } => (Some(item.as_ref().clone()), *replaces),
            };
            let slot = item.item.identity.is_some();
            // The pattern as the gate would meet it live: the declared item appearing where the
            // hardened one is.
            let appearing = Drift {
                family: family.about().name,
                address: item.by.address.clone(),
                resource_type: item.by.resource_type.clone(),
                cloud_id: object.cloud_id.clone(),
                region: object.region.clone().unwrap_or_default(),
                account: object.account.clone(),
                kind: if slot || after.is_some() {
                    DriftKind::Changed
                } else {
                    DriftKind::Unmanaged
                },
                attribute: Some(item.attribute.to_string()),
                expected: after.as_ref().map_or(Value::Null, |a| a.value.clone()),
                actual: item.item.value.clone(),
                expected_summary: Some(
                    after
                        .as_ref()
                        .map_or_else(|| "absent".to_string(), |a| a.summary.clone()),
                ),
                actual_summary: Some(item.item.summary.clone()),
                effect: Effect::Weakens,
                // Judged by what the item opens: a plain setting that stands for a rule (a
                // firewall disabled) carries the rule's facts in its hardened item.
                facts: Some(match &after {
                    Some(a) if item.item.facts.direction.is_none() => a.facts.clone(),
                    _ => item.item.facts.clone(),
                }),
                is_default_object: object.is_default,
                tags: object.tags.clone(),
                sources: item.by.sources.clone(),
                sensitive: false,
                reach: None,
                observed: None,
            };
            let Some(mut finding) = reversed(appearing, policies) else {
                continue;
            };
            finding.kind = if slot || after.is_some() || item.by.inline {
                DriftKind::Changed
            } else {
                DriftKind::Missing
            };
            out.push(Harden { finding, replaces });
        }
    }
    let objects: Vec<&ExpectedObject> = expected.iter().map(|(_, o)| o).collect();
    let resources: Vec<&crate::state::Resource> = resources.iter().collect();
    for family in crate::families::all() {
        for lack in family.harden_missing(&resources, &objects) {
            // Judged as the resource gone, as the gate would see its deletion.
            let gone = Drift {
                family: family.about().name,
                address: lack.by.address.clone(),
                resource_type: lack.resource_type.to_string(),
                cloud_id: lack.cloud_id.clone(),
                region: lack.region.clone().unwrap_or_default(),
                account: lack.account.clone(),
                kind: DriftKind::Missing,
                attribute: None,
                expected: lack.item.value.clone(),
                actual: Value::Null,
                expected_summary: Some(lack.item.summary.clone()),
                actual_summary: Some("absent".into()),
                effect: Effect::Unknown,
                facts: Some(lack.item.facts.clone()),
                is_default_object: false,
                tags: Default::default(),
                sources: lack.by.sources.clone(),
                sensitive: false,
                reach: None,
                observed: None,
            };
            let Some(mut finding) = reversed(gone, policies) else {
                continue;
            };
            finding.resource_type = lack.by.resource_type.clone();
            finding.attribute = Some(lack.attribute.to_string());
            // Written by the family that declares it (a bucket's missing Block Public Access
            // by the Block Public Access family), on the bucket's block.
            out.push(Harden {
                finding,
                replaces: false,
            });
        }
    }
    out
}

/// The finding of a pattern judged as the gate would meet it live (`drift` weakens), turned
/// into the console fix that writes the hardened side: its sides swapped, strengthening,
/// blocking nothing. `None`: no policy judges it.
fn reversed(drift: Drift, policies: &PolicySet) -> Option<Finding> {
    let mut finding = verdict::judge(vec![drift], policies, &Default::default()).pop()?;
    std::mem::swap(&mut finding.expected, &mut finding.actual);
    std::mem::swap(&mut finding.expected_text, &mut finding.actual_text);
    finding.effect = Effect::Strengthens;
    finding.blocking = false;
    Some(finding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families;

    /// A v4 state with these `(type, name, attributes)`.
    fn state(resources: &[(&str, &str, serde_json::Value)]) -> Vec<crate::state::Resource> {
        let provider = |t: &str| match t.split('_').next() {
            Some("azurerm") => "azurerm",
            Some("google") => "google",
            _ => "aws",
        };
        let doc = serde_json::json!({
            "version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "l", "outputs": {},
            "resources": resources.iter().map(|(t, n, a)| serde_json::json!({
                "mode": "managed", "type": t, "name": n,
                "provider": format!("provider[\"registry.terraform.io/hashicorp/{}\"]", provider(t)),
                "instances": [{"schema_version": 0, "attributes": a, "sensitive_attributes": []}]
            })).collect::<Vec<_>>()
        });
        crate::state::parse("test.tfstate", doc.to_string().as_bytes())
            .unwrap()
            .1
    }

    fn hardened(resources: &[(&str, &str, serde_json::Value)]) -> Vec<Harden> {
        hardened_to(resources, None)
    }

    fn hardened_to(
        resources: &[(&str, &str, serde_json::Value)],
        admin: Option<&str>,
    ) -> Vec<Harden> {
        let all = state(resources);
        let mut expected = Vec::new();
        for family in families::all() {
            let mine: Vec<&crate::state::Resource> = all
                .iter()
                .filter(|r| {
                    family
                        .about()
                        .resource_types
                        .contains(&r.resource_type.as_str())
                })
                .collect();
            if !mine.is_empty() {
                for obj in family.expected(&mine).unwrap() {
                    expected.push((family, obj));
                }
            }
        }
        let known: std::collections::BTreeSet<&str> = families::all()
            .iter()
            .flat_map(|f| f.about().resource_types.iter().copied())
            .collect();
        let policies = PolicySet::load(&[], &known).unwrap();
        findings(&expected, &all, &policies, admin)
    }

    fn lines(got: &[Harden]) -> Vec<String> {
        let mut out: Vec<String> = got
            .iter()
            .map(|h| {
                format!(
                    "{} {} → {} {}",
                    h.finding.address,
                    h.finding.expected_text.as_deref().unwrap_or("-"),
                    h.finding.actual_text.as_deref().unwrap_or("-"),
                    h.finding.policy,
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn admin_ports_from_the_internet_on_azure_and_google_cloud() {
        let rule = |name: &str, priority: i64, port: &str, source: &str| {
            serde_json::json!({"name": name, "priority": priority, "direction": "Inbound", "access": "Allow",
                "protocol": "Tcp", "source_port_range": "*", "destination_port_range": port,
                "source_address_prefix": source, "destination_address_prefix": "*"})
        };
        let firewall = |name: &str, ports: &[&str], ranges: &[&str]| {
            serde_json::json!({"id": format!("projects/p/global/firewalls/{name}"), "name": name, "project": "p",
                "network": "projects/p/global/networks/default", "direction": "INGRESS", "priority": 1000,
                "disabled": false, "allow": [{"protocol": "tcp", "ports": ports}], "deny": [],
                "source_ranges": ranges, "destination_ranges": [], "source_tags": null, "target_tags": ["bastion"],
                "source_service_accounts": null, "target_service_accounts": null})
        };
        let got = hardened(&[
            (
                "azurerm_network_security_group",
                "web",
                serde_json::json!({
                "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/web",
                "name": "web", "location": "eastus",
                "security_rule": [
                    rule("ssh", 100, "22", "Internet"),
                    rule("rdp", 110, "3389", "*"),
                    rule("https", 120, "443", "*"),
                    rule("ssh-office", 130, "22", "10.0.0.0/8"),
                ]}),
            ),
            (
                "google_compute_firewall",
                "ssh",
                firewall("ssh", &["22"], &["0.0.0.0/0", "35.235.240.0/20"]),
            ),
            (
                "google_compute_firewall",
                "rdp",
                firewall("rdp", &["3389"], &["0.0.0.0/0"]),
            ),
            (
                "google_compute_firewall",
                "web",
                firewall("web", &["22", "443"], &["0.0.0.0/0"]),
            ),
        ]);
        assert_eq!(
            lines(&got),
            [
                "azurerm_network_security_group.web #100 inbound allow tcp from tag:internet to * port 22 → absent AZ-NSG-ADMIN-INTERNET",
                "azurerm_network_security_group.web #110 inbound allow tcp from * to * port 3389 → absent AZ-NSG-ADMIN-INTERNET",
                "google_compute_firewall.rdp disabled = false → disabled = true GCP-FW-ADMIN-INTERNET",
                "google_compute_firewall.ssh source_ranges = [0.0.0.0/0, 35.235.240.0/20] → source_ranges = [35.235.240.0/20] GCP-FW-ADMIN-INTERNET",
            ]
        );
    }

    #[test]
    fn hardenings_are_written_into_the_code() {
        let estate = [
            (
                "azurerm_network_security_group",
                "web",
                serde_json::json!({
                "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/web",
                "name": "web", "location": "eastus",
                "security_rule": [
                    {"name": "ssh", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                     "source_port_range": "*", "destination_port_range": "22", "source_address_prefix": "Internet",
                     "destination_address_prefix": "*"},
                    {"name": "https", "priority": 120, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                     "source_port_range": "*", "destination_port_range": "443", "source_address_prefix": "*",
                     "destination_address_prefix": "*"}]}),
            ),
            (
                "google_compute_firewall",
                "ssh",
                serde_json::json!({
                "id": "projects/p/global/firewalls/ssh", "name": "ssh", "project": "p",
                "network": "projects/p/global/networks/default", "direction": "INGRESS", "priority": 1000,
                "disabled": false, "allow": [{"protocol": "tcp", "ports": ["22"]}], "deny": [],
                "source_ranges": ["0.0.0.0/0", "35.235.240.0/20"], "destination_ranges": [], "source_tags": null,
                "target_tags": ["bastion"], "source_service_accounts": null, "target_service_accounts": null}),
            ),
        ];
        let got = hardened(&estate);
        let tf = "resource \"azurerm_network_security_group\" \"web\" {\n  name = \"web\"\n\n  security_rule {\n    name                       = \"ssh\"\n    priority                   = 100\n    direction                  = \"Inbound\"\n    access                     = \"Allow\"\n    protocol                   = \"Tcp\"\n    source_port_range          = \"*\"\n    destination_port_range     = \"22\"\n    source_address_prefix      = \"Internet\"\n    destination_address_prefix = \"*\"\n  }\n\n  security_rule {\n    name                       = \"https\"\n    priority                   = 120\n    direction                  = \"Inbound\"\n    access                     = \"Allow\"\n    protocol                   = \"Tcp\"\n    source_port_range          = \"*\"\n    destination_port_range     = \"443\"\n    source_address_prefix      = \"*\"\n    destination_address_prefix = \"*\"\n  }\n}\n\nresource \"google_compute_firewall\" \"ssh\" {\n  name          = \"ssh\"\n  network       = \"default\"\n  source_ranges = [\"0.0.0.0/0\", \"35.235.240.0/20\"] # IAP\n  target_tags   = [\"bastion\"]\n\n  allow {\n    protocol = \"tcp\"\n    ports    = [\"22\"]\n  }\n}\n";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), tf).unwrap();
        let report = crate::report::Report::new(Default::default(), Vec::new(), None);
        let opts = crate::fix::FixOptions {
            harden: got,
            ..Default::default()
        };
        let set = crate::fix::plan(&report, dir.path(), &opts).unwrap();
        assert!(set.manual.is_empty(), "{:?}", set.manual);
        assert!(set.fixes.iter().all(|f| f.action == "harden"));
        let (_, after) = set.files.values().next().unwrap();
        let ssh_rule = &tf[tf.find("  security_rule {").unwrap()
            ..tf.find("  security_rule {\n    name                       = \"https\"")
                .unwrap()];
        let want = tf.replace(ssh_rule, "").replace(
            "[\"0.0.0.0/0\", \"35.235.240.0/20\"]",
            "[\"35.235.240.0/20\"]",
        );
        assert_eq!(after, &want);

        // With an admin range: the internet sources give way to it.
        let opts = crate::fix::FixOptions {
            harden: hardened_to(&estate, Some("203.0.113.0/24")),
            ..Default::default()
        };
        let set = crate::fix::plan(&report, dir.path(), &opts).unwrap();
        assert!(set.manual.is_empty(), "{:?}", set.manual);
        let (_, after) = set.files.values().next().unwrap();
        let want = tf
            .replace(
                "source_address_prefix      = \"Internet\"",
                "source_address_prefix      = \"203.0.113.0/24\"",
            )
            .replace(
                "[\"0.0.0.0/0\", \"35.235.240.0/20\"]",
                "[\"203.0.113.0/24\", \"35.235.240.0/20\"]",
            );
        assert_eq!(after, &want);
    }

    #[test]
    fn settings_are_hardened_and_named_by_their_policy() {
        let got = hardened(&[
            (
                "aws_db_instance",
                "orders",
                serde_json::json!({
                "arn": "arn:aws:rds:us-east-1:123456789012:db:orders", "id": "db-ABC", "identifier": "orders",
                "publicly_accessible": true, "storage_encrypted": true, "kms_key_id": "",
                "vpc_security_group_ids": []}),
            ),
            (
                "aws_ebs_volume",
                "scratch",
                serde_json::json!({
                "arn": "arn:aws:ec2:us-east-1:123456789012:volume/vol-1", "id": "vol-1",
                "availability_zone": "us-east-1a", "encrypted": false, "kms_key_id": "", "size": 8}),
            ),
            (
                "azurerm_storage_account",
                "logs",
                serde_json::json!({
                "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs",
                "name": "logs", "location": "eastus2", "min_tls_version": "TLS1_2",
                "https_traffic_only_enabled": true, "public_network_access_enabled": true,
                "allow_nested_items_to_be_public": true, "shared_access_key_enabled": true}),
            ),
            (
                "google_storage_bucket",
                "trail",
                serde_json::json!({
                "name": "trail", "location": "US", "uniform_bucket_level_access": true,
                "public_access_prevention": "inherited", "encryption": []}),
            ),
            // Already hard: nothing.
            (
                "google_storage_bucket",
                "locked",
                serde_json::json!({
                "name": "locked", "location": "US", "uniform_bucket_level_access": true,
                "public_access_prevention": "enforced", "encryption": []}),
            ),
        ]);
        let lines: Vec<String> = got
            .iter()
            .map(|h| {
                format!(
                    "{} {} → {} {} replaces={}",
                    h.finding.address,
                    h.finding.expected_text.as_deref().unwrap_or("-"),
                    h.finding.actual_text.as_deref().unwrap_or("-"),
                    h.finding.policy,
                    h.replaces
                )
            })
            .collect();
        let want = [
            "aws_db_instance.orders publicly_accessible = true → publicly_accessible = false AWS-RDS-PUBLIC replaces=false",
            "aws_ebs_volume.scratch encrypted = false → encrypted = true AWS-EBS-ENCRYPTION-OFF replaces=true",
            "azurerm_storage_account.logs allow_nested_items_to_be_public = true → allow_nested_items_to_be_public = false AZ-STORAGE-PUBLIC replaces=false",
            "google_storage_bucket.trail public_access_prevention = inherited → public_access_prevention = enforced GCP-BUCKET-PUBLIC replaces=false",
        ];
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(sorted, want, "{lines:#?}");
        for h in &got {
            assert_eq!(h.finding.effect, Effect::Strengthens);
            assert!(!h.finding.references.is_empty(), "{}", h.finding.policy);
        }
    }
}
