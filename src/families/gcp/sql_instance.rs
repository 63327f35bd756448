//! Cloud SQL instances: `google_sql_database_instance`'s `settings.ip_configuration` (public IP,
//! authorized networks, SSL mode).

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{block, fetch_objects, owned_object, Api, GcpRead};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{
    bad, live_setting, set_setting, setting, setting_values, About, Codify, CodifyRequest, Family,
    Subject,
};
use std::collections::BTreeMap;

use crate::model::{
    cidr, is_private_cidr, Cloud, Declarer, DriftKind, Effect, ExpectedItem, ExpectedObject,
    Exposure, Item, LiveObject, Reach,
};
use crate::state::Resource;

pub const SQL_INSTANCES: About = About {
    name: "gcp_sql_instance",
    cloud: Cloud::Gcp,
    label: "Cloud SQL instance(s)",
    resource_types: &["google_sql_database_instance"],
    batch_size: super::BATCH,
};

pub struct SqlInstances;

const SSL_ORDER: [&str; 3] = [
    "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
    "ENCRYPTED_ONLY",
    "TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
];

/// The item of the networks a public IP admits.
const NETWORKS: &str = "ip_configuration.authorized_networks";

/// An authorized network as the item holds it: a CIDR in canonical form, a bare address as its
/// `/32` (the API accepts both and answers as written).
fn canonical_network(n: &str) -> String {
    if n.contains('/') {
        cidr(n).unwrap_or_else(|_| n.to_string())
    } else {
        format!("{n}/32")
    }
}

/// The code's `authorized_networks` blocks made to hold what is live: a block whose network is
/// gone goes (with its comment lines), a network only live is appended as a block of its own.
/// Networks from a `dynamic` block or written as expressions are manual.
fn codify_networks(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    if r.kind != DriftKind::Changed {
        return Codify::Unsupported;
    }
    let live = setting_values(&Item {
        value: r.actual.clone(),
        ..setting(NETWORKS, Value::Null, false)
    });
    let want = format!("authorized networks {}", {
        let quoted: Vec<String> = live.iter().map(|n| format!("\"{n}\"")).collect();
        format!("[{}]", quoted.join(", "))
    });
    let ip = match crate::families::nested_block(r.block, &["settings", "ip_configuration"], &want)
    {
        Ok(b) => b,
        Err(manual) => return manual,
    };
    let at = ip.span().map_or(0, |s| s.start);
    let manual = |offset: usize, reason: &str| Codify::Manual {
        offset,
        reason: reason.into(),
        want: want.clone(),
    };
    if let Some(d) = ip.body.get_blocks("dynamic").find(|b| {
        b.labels
            .first()
            .is_some_and(|l| l.as_str() == "authorized_networks")
    }) {
        return manual(
            d.span().map_or(at, |s| s.start),
            "the networks come from a `dynamic \"authorized_networks\"` block",
        );
    }
    let mut edits = Vec::new();
    let mut written = Vec::new();
    for net in ip.body.get_blocks("authorized_networks") {
        let start = net.span().map_or(at, |s| s.start);
        let value = match crate::families::literal(&net.body, "value") {
            Ok(Some(Value::String(v))) => canonical_network(&v),
            Ok(_) => return manual(start, "an authorized network has no literal `value`"),
            Err(offset) => {
                return manual(offset, "an authorized network's `value` is an expression")
            }
        };
        if live.contains(&value) {
            written.push(value);
        } else if let Some(span) = net.span() {
            edits.push(crate::families::remove_lines(r.text, span));
        }
    }
    let lines: Vec<String> = live
        .iter()
        .filter(|n| !written.contains(n))
        .flat_map(|n| {
            [
                "authorized_networks {".to_string(),
                format!("  value = \"{n}\""),
                "}".to_string(),
            ]
        })
        .collect();
    if !lines.is_empty() {
        match crate::families::append_block(r.text, ip, &lines) {
            Ok(edit) => edits.push(edit),
            Err(why) => return manual(at, why),
        }
    }
    Codify::Edits {
        edits,
        summary: want,
    }
}

/// The SSL mode, from `ssl_mode` or the older `require_ssl` flag.
fn ssl_mode(mode: Option<&str>, require: Option<bool>) -> String {
    match mode.filter(|m| !m.is_empty()) {
        Some(m) => m.to_ascii_uppercase(),
        None if require == Some(true) => "TRUSTED_CLIENT_CERTIFICATE_REQUIRED".into(),
        None => "ALLOW_UNENCRYPTED_AND_ENCRYPTED".into(),
    }
}

fn items(public_ip: bool, networks: Vec<String>, ssl: String) -> Vec<(&'static str, Item)> {
    let networks: Vec<String> = networks.iter().map(|n| canonical_network(n)).collect();
    let mut nets = set_setting(NETWORKS, networks.clone(), public_ip);
    nets.facts.cidrs = if public_ip { networks } else { vec![] };
    let weak_ssl = ssl == SSL_ORDER[0];
    vec![
        (
            "ip_configuration",
            setting("ip_configuration.ipv4_enabled", json!(public_ip), public_ip),
        ),
        ("ip_configuration", nets),
        (
            "ip_configuration",
            setting("ip_configuration.ssl_mode", json!(ssl), weak_ssl),
        ),
    ]
}

/// A Cloud SQL instance without a public IP is reached from its VPC only; with one, from its
/// authorized networks (none: only through the Cloud SQL connectors, which authenticate with IAM).
fn sql_reach(o: &Subject) -> Reach {
    let id = &o.live.cloud_id;
    let name = id.rsplit('/').next().unwrap_or(id);
    let public = live_setting(&o.live.items, "ip_configuration.ipv4_enabled")
        .is_some_and(|i| i.key == "true");
    if !public {
        return Reach::new(
            Exposure::Private,
            format!("Cloud SQL instance {name} has no public IP"),
        );
    }
    let networks = live_setting(&o.live.items, NETWORKS)
        .map(setting_values)
        .unwrap_or_default();
    if networks.iter().any(|n| n == "0.0.0.0/0") {
        return Reach::new(
            Exposure::Internet,
            format!("Cloud SQL instance {name} has a public IP and authorizes 0.0.0.0/0"),
        );
    }
    let outside: Vec<&str> = networks
        .iter()
        .filter(|n| !is_private_cidr(n))
        .map(String::as_str)
        .collect();
    let why = if outside.is_empty() {
        format!(
            "Cloud SQL instance {name} has a public IP and no authorized network: only the Cloud \
             SQL connectors, which authenticate with IAM, reach it"
        )
    } else {
        format!(
            "Cloud SQL instance {name} has a public IP and authorizes {}",
            outside.join(", ")
        )
    };
    Reach::new(Exposure::Restricted, why)
}

const READ: GcpRead = GcpRead {
    api: Api::Sql,
    get_op: "instances.get",
    to_items: live_items,
};

fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    let ip = body.get("settings").and_then(|s| s.get("ipConfiguration"));
    let get = |k: &str| ip.and_then(|i| i.get(k));
    let networks = get("authorizedNetworks")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|n| n.get("value").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let public = get("ipv4Enabled").and_then(Value::as_bool).unwrap_or(true);
    let ssl = ssl_mode(
        get("sslMode").and_then(Value::as_str),
        get("requireSsl").and_then(Value::as_bool),
    );
    Ok(items(public, networks, ssl))
}

impl Family for SqlInstances {
    fn about(&self) -> &'static About {
        &SQL_INSTANCES
    }

    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        // The item names the setting under `ip_configuration`; the block nests it in `settings`.
        let name = r.actual.as_object().and_then(|m| m.keys().next().cloned());
        match name.as_deref() {
            Some("ip_configuration.ipv4_enabled") => crate::families::codify_setting(
                r,
                &["settings", "ip_configuration"],
                &["ipv4_enabled"],
            ),
            Some("ip_configuration.ssl_mode") => {
                crate::families::codify_setting(r, &["settings", "ip_configuration"], &["ssl_mode"])
            }
            Some(NETWORKS) => codify_networks(r),
            _ => crate::families::Codify::Unsupported,
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = Vec::new();
        for r in resources {
            let name = r.attr_str("name").ok_or_else(|| bad(r, "has no `name`"))?;
            let project = r
                .attr_str("project")
                .ok_or_else(|| bad(r, "has no `project`"))?;
            let id = format!("projects/{project}/instances/{name}");
            let region = r.attr_str("region").unwrap_or("global").to_string();
            let mut obj = owned_object(self.about().name, &id, region, r);
            // A Cloud SQL instance's labels are its settings' `user_labels`.
            if let Some(labels) = block(r.attr("settings"))
                .and_then(|s| s.get("user_labels"))
                .and_then(Value::as_object)
            {
                obj.tags.extend(
                    labels
                        .iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))),
                );
            }
            let Some(ip) = block(block(r.attr("settings")).and_then(|s| s.get("ip_configuration")))
            else {
                obj.ignore.push("ip_configuration");
                out.push(obj);
                continue;
            };
            let networks = ip
                .get("authorized_networks")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.get("value").and_then(Value::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let public = ip
                .get("ipv4_enabled")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let ssl = ssl_mode(
                ip.get("ssl_mode").and_then(Value::as_str),
                ip.get("require_ssl").and_then(Value::as_bool),
            );
            for (attribute, item) in items(public, networks, ssl) {
                obj.items.push(ExpectedItem {
                    attribute,
                    item,
                    by: Declarer::of(r, true),
                });
            }
            out.push(obj);
        }
        Ok(out)
    }

    /// From the live settings alone (no read): a public IP and the networks it admits.
    fn exposure<'a>(
        &'a self,
        _clouds: &'a Clouds,
        _region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move {
            Ok(objects
                .iter()
                .map(|o| (o.live.cloud_id.clone(), sql_reach(o)))
                .collect())
        })
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
        let rank = |i: &Item| {
            i.value
                .get("ip_configuration.ssl_mode")
                .and_then(Value::as_str)
                .and_then(|m| SSL_ORDER.iter().position(|x| *x == m))
        };
        if let (Some(e), Some(a)) = (rank(expected), rank(actual)) {
            return if a < e {
                Effect::Weakens
            } else {
                Effect::Strengthens
            };
        }
        crate::families::setting_effect(expected, actual)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach_from_public_ip_and_networks() {
        use crate::model::{ExpectedObject, Exposure};
        let reach = |public: bool, networks: &[&str]| {
            let live = LiveObject {
                cloud_id: "projects/p/instances/db".into(),
                items: items(
                    public,
                    networks.iter().map(|n| n.to_string()).collect(),
                    "ENCRYPTED_ONLY".into(),
                ),
                is_default: false,
            };
            let expected = ExpectedObject {
                family: "gcp_sql_instance",
                cloud_id: live.cloud_id.clone(),
                region: None,
                account: None,
                owner: None,
                items: vec![],
                tags: Default::default(),
                is_default: false,
                ignore: vec![],
                tolerated: vec![],
            };
            sql_reach(&Subject {
                expected: &expected,
                live: &live,
            })
            .exposure
        };
        assert_eq!(reach(false, &["0.0.0.0/0"]), Exposure::Private);
        assert_eq!(
            reach(true, &["10.0.0.0/8", "0.0.0.0/0"]),
            Exposure::Internet
        );
        assert_eq!(reach(true, &["203.0.113.0/24"]), Exposure::Restricted);
        assert_eq!(reach(true, &[]), Exposure::Restricted);
    }

    #[test]
    fn ssl_and_networks() {
        assert_eq!(
            ssl_mode(None, Some(true)),
            "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"
        );
        let strict = items(true, vec!["10.0.0.0/8".into()], "ENCRYPTED_ONLY".into());
        let loose = items(
            true,
            vec!["10.0.0.0/8".into(), "0.0.0.0/0".into()],
            ssl_mode(None, None),
        );
        let f = SqlInstances;
        assert_eq!(
            f.effect_of_change("ip_configuration", &strict[1].1, &loose[1].1),
            Effect::Weakens
        );
        assert!(loose[1].1.facts.open_to_internet());
        assert_eq!(
            f.effect_of_change("ip_configuration", &strict[2].1, &loose[2].1),
            Effect::Weakens
        );
        assert_eq!(
            items(true, vec!["1.2.3.4".into()], "ENCRYPTED_ONLY".into()),
            items(true, vec!["1.2.3.4/32".into()], "ENCRYPTED_ONLY".into())
        );
    }
}
