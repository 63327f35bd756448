//! VPC firewall rules: `google_compute_firewall`. One firewall is one rule with several parts:
//! its `allow`/`deny` protocol and port entries (a set), the ranges, tags and service accounts it
//! applies to, priority and `disabled`.
//!
//! Normalized: protocol names and numbers (`tcp`/`6`), port lists (`["22", "80-81"]`, an empty
//! list meaning all ports), CIDR host bits, the order of every list.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{fetch_objects, last_segment, owned_object, project_of, Api, GcpRead};
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{
    bad, codify_flag, codify_list, set_setting, setting, str_list, About, Codify, CodifyRequest,
    Family, Subject,
};
use crate::model::{
    cidr, cidr_contains, Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Exposure, Facts,
    Item, LiveObject, Ports, Reach,
};
use crate::state::Resource;

pub const FIREWALLS: About = About {
    name: "gcp_firewall",
    cloud: Cloud::Gcp,
    label: "firewall rule(s)",
    resource_types: &["google_compute_firewall"],
    batch_size: super::BATCH,
};

pub struct Firewalls;

const READ: GcpRead = GcpRead {
    api: Api::Compute {
        list_op: "firewalls.list",
    },
    get_op: "firewalls.get",
    to_items: live_items,
};

fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    Ok(Rule::from(body, true)?.items())
}

/// A protocol and its port ranges (empty: every port).
type Entry = (String, Vec<(i32, i32)>);

/// The parts of one firewall, in either spelling (state snake_case, API camelCase).
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    ingress: bool,
    allow: bool,
    /// (protocol, port ranges; empty = all ports).
    entries: Vec<Entry>,
    /// Source and destination ranges, with the API's defaults filled in. Compute applies both
    /// in either direction: an ingress rule's destination ranges narrow which of the instances'
    /// addresses it reaches.
    sources: Vec<String>,
    destinations: Vec<String>,
    source_tags: Vec<String>,
    target_tags: Vec<String>,
    source_accounts: Vec<String>,
    target_accounts: Vec<String>,
    priority: i64,
    disabled: bool,
}

fn protocol(raw: &str) -> std::result::Result<String, String> {
    let p = raw.trim().to_ascii_lowercase();
    Ok(match p.as_str() {
        "all" => "all".into(),
        "tcp" | "6" => "tcp".into(),
        "udp" | "17" => "udp".into(),
        "icmp" | "1" => "icmp".into(),
        "esp" | "50" => "esp".into(),
        "ah" | "51" => "ah".into(),
        "sctp" | "132" => "sctp".into(),
        "ipip" | "4" => "ipip".into(),
        other => match other.parse::<u8>() {
            Ok(n) => n.to_string(),
            Err(_) => return Err(format!("unknown protocol `{raw}`")),
        },
    })
}

fn port_ranges(ports: &[String]) -> std::result::Result<Vec<(i32, i32)>, String> {
    let mut out = Vec::new();
    for p in ports {
        let n = |s: &str| {
            s.trim()
                .parse::<u16>()
                .map(i32::from)
                .map_err(|_| format!("`{p}` is not a port or port range"))
        };
        let r = match p.split_once('-') {
            Some((a, b)) => (n(a)?, n(b)?),
            None => (n(p)?, n(p)?),
        };
        out.push(r);
    }
    out.sort();
    out.dedup();
    if out.contains(&(0, 65535)) {
        out.clear();
    }
    Ok(out)
}

fn entries(list: Option<&Value>, proto_key: &str) -> std::result::Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    for e in list.and_then(Value::as_array).into_iter().flatten() {
        let proto = protocol(e.get(proto_key).and_then(Value::as_str).unwrap_or_default())?;
        let ports = port_ranges(&str_list(e.get("ports")))?;
        out.push((proto, ports));
    }
    Ok(out)
}

fn canonical(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

impl Rule {
    fn from(v: &Value, api: bool) -> std::result::Result<Rule, String> {
        let k = |snake: &'static str, camel: &'static str| if api { camel } else { snake };
        let list = |snake, camel| str_list(v.get(k(snake, camel)));
        let direction = v
            .get("direction")
            .and_then(Value::as_str)
            .unwrap_or("INGRESS");
        let ingress = !direction.eq_ignore_ascii_case("EGRESS");
        let allowed = entries(v.get(k("allow", "allowed")), k("protocol", "IPProtocol"))?;
        let denied = entries(v.get(k("deny", "denied")), k("protocol", "IPProtocol"))?;
        if !allowed.is_empty() && !denied.is_empty() {
            return Err("a firewall has both allow and deny entries".into());
        }
        let source_tags = list("source_tags", "sourceTags");
        let source_accounts = list("source_service_accounts", "sourceServiceAccounts");
        let mut sources = list("source_ranges", "sourceRanges");
        let mut destinations = list("destination_ranges", "destinationRanges");
        // The API's defaults: a rule without destination ranges reaches every destination, and
        // one without any source (no ranges, and for ingress no source tags or accounts) comes
        // from everywhere: 0.0.0.0/0 (the API may answer with it; the state may keep the empty
        // list).
        if sources.is_empty()
            && (!ingress || (source_tags.is_empty() && source_accounts.is_empty()))
        {
            sources.push("0.0.0.0/0".to_string());
        }
        if destinations.is_empty() {
            destinations.push("0.0.0.0/0".to_string());
        }
        let canonical_ranges = |v: Vec<String>| -> std::result::Result<Vec<String>, String> {
            Ok(canonical(
                v.iter()
                    .map(|c| cidr(c))
                    .collect::<std::result::Result<_, _>>()?,
            ))
        };
        Ok(Rule {
            ingress,
            allow: denied.is_empty(),
            entries: if denied.is_empty() { allowed } else { denied },
            sources: canonical_ranges(sources)?,
            destinations: canonical_ranges(destinations)?,
            source_tags: canonical(source_tags),
            target_tags: canonical(list("target_tags", "targetTags")),
            source_accounts: canonical(source_accounts),
            target_accounts: canonical(list("target_service_accounts", "targetServiceAccounts")),
            priority: v
                .get("priority")
                .and_then(crate::families::as_int)
                .unwrap_or(1000),
            disabled: v.get("disabled").and_then(Value::as_bool).unwrap_or(false),
        })
    }

    fn direction(&self) -> &'static str {
        if self.ingress {
            "ingress"
        } else {
            "egress"
        }
    }

    fn ports(&self) -> Vec<Ports> {
        self.entries
            .iter()
            .flat_map(|(proto, ranges)| match proto.as_str() {
                "all" | "tcp" | "udp" | "sctp" if ranges.is_empty() => vec![Ports::All],
                "all" | "tcp" | "udp" | "sctp" => {
                    ranges.iter().map(|(a, b)| Ports::Range(*a, *b)).collect()
                }
                _ => vec![],
            })
            .collect()
    }

    /// The facts every part of this rule shares: a disabled rule allows nothing.
    fn facts(&self) -> Facts {
        Facts {
            grants: self.allow && !self.disabled,
            direction: Some(self.direction()),
            ports: self.ports(),
            // The remote side: where ingress comes from, where egress goes.
            cidrs: if self.ingress {
                self.sources.clone()
            } else {
                self.destinations.clone()
            },
            labels: vec![],
        }
    }

    fn items(&self) -> Vec<(&'static str, Item)> {
        let action: &'static str = if self.allow { "allow" } else { "deny" };
        let mut out = Vec::new();
        for (proto, ranges) in &self.entries {
            let ports: Vec<String> = ranges
                .iter()
                .map(|(a, b)| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}-{b}")
                    }
                })
                .collect();
            let port_text = if ports.is_empty() {
                "all ports".to_string()
            } else {
                ports.join(",")
            };
            let mut facts = self.facts();
            facts.ports = Rule {
                entries: vec![(proto.clone(), ranges.clone())],
                ..self.clone()
            }
            .ports();
            out.push((
                action,
                Item {
                    identity: None,
                    key: format!("{action}|{proto}|{}", ports.join(",")),
                    value: json!({"protocol": proto, "ports": ports}),
                    summary: format!("{action} {proto} {port_text}"),
                    facts,
                },
            ));
        }
        // Every list carries the rule's facts: widening where a world-open SSH rule comes from,
        // where it goes or which instances it applies to is as critical as widening its ranges.
        for (attr, values) in [
            ("source_ranges", &self.sources),
            ("destination_ranges", &self.destinations),
            ("source_tags", &self.source_tags),
            ("target_tags", &self.target_tags),
            ("source_service_accounts", &self.source_accounts),
            ("target_service_accounts", &self.target_accounts),
        ] {
            let mut item = set_setting(attr, values.clone(), self.allow);
            item.facts = self.facts();
            out.push((attr, item));
        }
        out.push((
            "direction",
            setting("direction", json!(self.direction()), false),
        ));
        out.push(("priority", setting("priority", json!(self.priority), false)));
        // Disabling an allow rule allows less; disabling a deny rule allows more.
        out.push((
            "disabled",
            setting(
                "disabled",
                json!(self.disabled),
                self.disabled != self.allow,
            ),
        ));
        out
    }
}

/// What a live firewall (the Compute API's JSON) applies to, for the families that decide which
/// firewalls reach an object (an instance's network tags and service account).
#[derive(Debug, Clone)]
pub struct Targeting {
    pub name: String,
    /// The network's path, `projects/P/global/networks/N`.
    pub network: String,
    pub allow: bool,
    pub target_tags: Vec<String>,
    pub target_accounts: Vec<String>,
    /// The facts of its widest entry; a disabled firewall allows nothing and denies nothing.
    pub facts: Facts,
    pub disabled: bool,
}

impl Targeting {
    pub fn from_api(body: &Value) -> std::result::Result<Targeting, String> {
        let rule = Rule::from(body, true)?;
        let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
        let network = body
            .get("network")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let facts = Facts::widest(
            rule.items()
                .into_iter()
                .filter_map(|(a, i)| (a == "allow" || a == "deny").then_some(i.facts)),
        );
        Ok(Targeting {
            name: name.to_string(),
            network: network_path(network),
            allow: rule.allow,
            target_tags: rule.target_tags.clone(),
            target_accounts: rule.target_accounts.clone(),
            facts: Facts {
                grants: rule.allow && !rule.disabled,
                ..facts
            },
            disabled: rule.disabled,
        })
    }
}

/// An instance as far as firewalls go: the networks of its interfaces, its network tags, its
/// service accounts, and its external addresses.
pub struct Host {
    pub name: String,
    pub networks: Vec<String>,
    pub tags: Vec<String>,
    pub accounts: Vec<String>,
    pub external: Vec<String>,
}

pub fn host(name: &str, body: &Value) -> Host {
    let strs = |v: Option<&Value>| str_list(v);
    let interfaces = body
        .get("networkInterfaces")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut networks = Vec::new();
    let mut external = Vec::new();
    for i in &interfaces {
        if let Some(n) = i.get("network").and_then(Value::as_str) {
            networks.push(network_path(n));
        }
        for key in ["accessConfigs", "ipv6AccessConfigs"] {
            for c in i.get(key).and_then(Value::as_array).into_iter().flatten() {
                let ip = c
                    .get("natIP")
                    .or_else(|| c.get("externalIpv6"))
                    .and_then(Value::as_str)
                    .filter(|ip| !ip.is_empty());
                // An access config without an address is an ephemeral one of a stopped
                // instance: starting it gives it one, so it counts.
                external.push(match ip {
                    Some(ip) => ip.to_string(),
                    None => "an ephemeral one (none assigned now)".to_string(),
                });
            }
        }
    }
    Host {
        name: name.to_string(),
        networks,
        tags: strs(body.pointer("/tags/items")),
        accounts: body
            .get("serviceAccounts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("email").and_then(Value::as_str))
            .map(str::to_string)
            .collect(),
        external,
    }
}

/// Does the firewall apply to the instance: same network, and no targets (every instance of
/// the network), a target tag it carries, or a target service account it runs as.
pub fn selects(f: &Targeting, h: &Host) -> bool {
    h.networks.contains(&f.network)
        && ((f.target_tags.is_empty() && f.target_accounts.is_empty())
            || f.target_tags.iter().any(|t| h.tags.contains(t))
            || f.target_accounts.iter().any(|a| h.accounts.contains(a)))
}

/// How drifted firewalls are reached: through the instances of their project they apply to
/// (one aggregated instance listing per project, 500 a page) and those instances' external
/// addresses, then by what the firewall admits. No instance selected: unused.
async fn firewalls_reach(
    clouds: &Clouds,
    objects: &[Subject<'_>],
) -> Result<BTreeMap<String, Reach>> {
    let gcp = clouds.gcp()?;
    let mut out = BTreeMap::new();
    let mut wanted: BTreeMap<String, Vec<(&Subject, Targeting)>> = BTreeMap::new();
    for o in objects {
        let id = o.live.cloud_id.as_str();
        let Some(body) = gcp.compute_get(id, "firewalls.get").await? else {
            out.insert(
                id.to_string(),
                Reach::new(Exposure::Unused, format!("{id} no longer exists")),
            );
            continue;
        };
        let f = Targeting::from_api(&body).map_err(|e| {
            Error::new(
                format!("Google Cloud compute.firewalls.get {id}"),
                format!("unexpected answer from the API: {e}"),
            )
        })?;
        let project = project_of(id).unwrap_or_default().to_string();
        wanted.entry(project).or_default().push((o, f));
    }
    for (project, firewalls) in wanted {
        let parent = format!("projects/{project}/aggregated/instances");
        let hosts: Vec<Host> = gcp
            .compute_list(&parent, "instances.aggregatedList")
            .await?
            .iter()
            .map(|(name, body)| host(name, body))
            .collect();
        for (o, f) in firewalls {
            let id = o.live.cloud_id.clone();
            let selected: Vec<&Host> = hosts.iter().filter(|h| selects(&f, h)).collect();
            let reach = if f.disabled {
                Reach::new(
                    Exposure::Private,
                    format!("firewall {} is disabled: it applies to nothing", f.name),
                )
            } else if selected.is_empty() {
                Reach::new(
                    Exposure::Unused,
                    format!(
                        "no instance of project {project} in network {} is selected by firewall \
                         {} (instances of Shared VPC service projects are not read)",
                        last_segment(&f.network),
                        f.name
                    ),
                )
            } else {
                let paths: Vec<String> = selected
                    .iter()
                    .filter(|h| !h.external.is_empty())
                    .map(|h| {
                        format!(
                            "firewall {} applies to instance {}, with external IP {}",
                            f.name,
                            h.name,
                            h.external.join(", ")
                        )
                    })
                    .collect();
                let rules: Vec<(&'static str, Item)> = o
                    .live
                    .items
                    .iter()
                    .filter(|(a, _)| *a == "allow")
                    .cloned()
                    .collect();
                crate::families::reach_by_paths(
                    &paths,
                    crate::families::inbound_admits(&rules),
                    format!(
                        "firewall {} applies to {} instance(s), none with an external IP",
                        f.name,
                        selected.len()
                    ),
                )
            };
            out.insert(id, reach);
        }
    }
    Ok(out)
}

/// A network's self link or path as `projects/P/global/networks/N`.
pub fn network_path(link: &str) -> String {
    match link.find("projects/") {
        Some(i) => link[i..].trim_end_matches('/').to_string(),
        None => link.to_string(),
    }
}

/// Does every range of `inner` fall inside some range of `outer`?
fn ranges_cover(outer: &[String], inner: &[String]) -> bool {
    inner
        .iter()
        .all(|i| outer.iter().any(|o| cidr_contains(o, i)))
}

fn list_of(item: &Item, attr: &str) -> Vec<String> {
    str_list(item.value.get(attr))
}

impl Family for Firewalls {
    /// `--harden`: an enabled ingress allow firewall for SSH or RDP only, from `0.0.0.0/0` or
    /// `::/0`: those ranges leave `source_ranges` (replaced by `admin`); when nothing would be
    /// left, the firewall is disabled instead, since an ingress firewall without source ranges
    /// or tags applies to every source.
    fn harden(
        &self,
        object: &ExpectedObject,
        item: &crate::model::ExpectedItem,
        admin: Option<&str>,
    ) -> Option<crate::families::Hardened> {
        let sources = object
            .items
            .iter()
            .find(|i| i.attribute == "source_ranges")?;
        let f = &sources.item.facts;
        let admin_only = !f.ports.is_empty()
            && f.ports.iter().all(|p| {
                matches!(p, crate::model::Ports::Range(a, b) if a == b && [22, 3389].contains(a))
            });
        let disabled = object
            .items
            .iter()
            .any(|i| i.attribute == "disabled" && i.item.value["disabled"] == json!(true));
        let has_source_tags = object.items.iter().any(|i| {
            i.attribute == "source_tags" || i.attribute == "source_service_accounts"
        } && !crate::families::setting_values(&i.item).is_empty());
        if f.direction != Some("ingress")
            || !f.grants
            || !admin_only
            || disabled
            || !f.open_to_internet()
        {
            return None;
        }
        let mut kept: Vec<String> = crate::families::setting_values(&sources.item)
            .into_iter()
            .filter(|r| r != "0.0.0.0/0" && r != "::/0")
            .collect();
        kept.extend(admin.map(str::to_string));
        kept.sort();
        kept.dedup();
        match item.attribute {
            "source_ranges" if !kept.is_empty() || has_source_tags => {
                let mut new = set_setting("source_ranges", kept.clone(), true);
                new.facts = Facts {
                    cidrs: kept,
                    ..f.clone()
                };
                Some(crate::families::Hardened::Replace {
                    item: Box::new(new),
                    replaces: false,
                })
            }
            "disabled" if kept.is_empty() && !has_source_tags => {
                let mut new = setting("disabled", json!(true), false);
                new.facts = f.clone();
                Some(crate::families::Hardened::Replace {
                    item: Box::new(new),
                    replaces: false,
                })
            }
            _ => None,
        }
    }

    /// Ranges, tags or service accounts narrowed by hand are written into the code's lists; a
    /// rule disabled by hand becomes `disabled = true`.
    fn codify(&self, r: &CodifyRequest) -> Codify {
        if r.resource_type != "google_compute_firewall" {
            return Codify::Unsupported;
        }
        match r.attribute {
            Some(
                key @ ("source_ranges"
                | "destination_ranges"
                | "source_tags"
                | "target_tags"
                | "source_service_accounts"
                | "target_service_accounts"),
            ) => match r.actual.get(key).and_then(|v| v.as_array()) {
                Some(live) => {
                    let live: Vec<String> = live
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect();
                    codify_list(r, key, &live)
                }
                None => Codify::Unsupported,
            },
            Some("disabled") => codify_flag(r, &["disabled"]),
            _ => Codify::Unsupported,
        }
    }

    fn about(&self) -> &'static About {
        &FIREWALLS
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = Vec::new();
        for r in resources {
            let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
            if project_of(id).is_none() {
                return Err(bad(r, "`id` is not projects/PROJECT/global/firewalls/NAME"));
            }
            let rule = Rule::from(&r.attributes, false).map_err(|e| bad(r, &e))?;
            let mut obj = owned_object(self.about().name, id, "global".into(), r);
            obj.tags = Default::default();
            for (attribute, item) in rule.items() {
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

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        fetch_objects(clouds, ids, &READ)
    }

    fn exposure<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move { firewalls_reach(clouds, objects).await })
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        let allow = expected.facts.grants || actual.facts.grants;
        let (e, a) = (list_of(expected, attribute), list_of(actual, attribute));
        // Which of the two is wider, for an allow rule (a deny rule's effect is the reverse).
        let wider = match attribute {
            "source_ranges" | "destination_ranges" => (ranges_cover(&a, &e), ranges_cover(&e, &a)),
            // No targets means every instance of the network: removing the last target tag
            // widens the rule to all of them.
            "target_tags" | "target_service_accounts" => {
                let covers = |outer: &[String], inner: &[String]| {
                    outer.is_empty()
                        || (!inner.is_empty() && inner.iter().all(|i| outer.contains(i)))
                };
                (covers(&a, &e), covers(&e, &a))
            }
            _ => return crate::families::setting_effect(expected, actual),
        };
        match (wider, allow) {
            ((true, false), true) | ((false, true), false) => Effect::Weakens,
            ((false, true), true) | ((true, false), false) => Effect::Strengthens,
            _ => Effect::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_firewall() -> Resource {
        let text = std::fs::read_to_string(
            "tests/fixtures/shared/tfstate/driftctl_google_compute_firewall.tfstate",
        )
        .unwrap();
        let (_, resources) = crate::state::parse("fw.tfstate", text.as_bytes()).unwrap();
        resources.into_iter().next().unwrap()
    }

    #[test]
    fn state_and_api_spellings_agree() {
        let r = state_firewall();
        let objs = Firewalls.expected(&[&r]).unwrap();
        let summaries: Vec<&str> = objs[0]
            .items
            .iter()
            .map(|i| i.item.summary.as_str())
            .collect();
        assert_eq!(
            summaries[..2],
            ["allow tcp 80,1000-2000,8080", "allow icmp all ports"]
        );
        // The same firewall as the Compute API spells it, entries and ports reordered.
        let api = json!({"direction": "INGRESS", "priority": 1000, "disabled": false,
            "sourceTags": ["web"], "allowed": [{"IPProtocol": "icmp"},
            {"IPProtocol": "tcp", "ports": ["8080", "1000-2000", "80"]}]});
        let live = Rule::from(&api, true).unwrap().items();
        let mut a: Vec<String> = objs[0].items.iter().map(|i| i.item.key.clone()).collect();
        let mut b: Vec<String> = live.iter().map(|(_, i)| i.key.clone()).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn recorded_firewall_open_to_the_world() {
        let text = std::fs::read_to_string(
            "tests/fixtures/shared/gcp/c7n_flight_compute_firewalls_get.json",
        )
        .unwrap();
        let flight: Value = serde_json::from_str(&text).unwrap();
        let items = Rule::from(&flight["body"], true).unwrap().items();
        let allow = &items[0].1;
        assert_eq!(allow.summary, "allow all all ports");
        assert!(allow.facts.open_to_internet() && allow.facts.ports.iter().any(|p| p.includes(22)));
        let f = Firewalls;
        let ranges = |v: &[&str]| {
            let mut i = set_setting(
                "source_ranges",
                v.iter().map(|s| s.to_string()).collect(),
                true,
            );
            i.facts.grants = true;
            i
        };
        assert_eq!(
            f.effect_of_change(
                "source_ranges",
                &ranges(&["10.0.0.0/8"]),
                &ranges(&["0.0.0.0/0"])
            ),
            Effect::Weakens
        );
        assert_eq!(
            f.effect_of_change(
                "source_ranges",
                &ranges(&["0.0.0.0/0"]),
                &ranges(&["10.1.0.0/16"])
            ),
            Effect::Strengthens
        );
        assert_eq!(port_ranges(&["0-65535".into()]).unwrap(), vec![]);
        // Egress without destination ranges reaches everything, as the API fills it in.
        let state = json!({"direction": "EGRESS", "allow": [{"protocol": "tcp", "ports": ["25"]}], "destination_ranges": []});
        let api = json!({"direction": "EGRESS", "allowed": [{"IPProtocol": "tcp", "ports": ["25"]}], "destinationRanges": ["0.0.0.0/0"]});
        assert_eq!(
            Rule::from(&state, false).unwrap(),
            Rule::from(&api, true).unwrap()
        );
        assert!(Rule::from(&state, false)
            .unwrap()
            .facts()
            .open_to_internet());
        assert!(protocol("bogus").is_err());
    }

    fn drifts(state: Value, api: Value) -> Vec<crate::model::Drift> {
        let r = Resource::for_test(
            "google_compute_firewall.ssh",
            "google_compute_firewall",
            state,
        );
        crate::families::drifts_against(&Firewalls, &r, live_items(&api).unwrap())
    }

    const ID: &str = "projects/p/global/firewalls/ssh";

    #[test]
    fn ingress_destination_ranges_are_compared() {
        let state = json!({"id": ID, "direction": "INGRESS", "allow": [{"protocol": "tcp",
            "ports": ["22"]}], "source_ranges": ["0.0.0.0/0"], "destination_ranges": ["10.0.0.5/32"]});
        let api = |dest: Value| {
            json!({"direction": "INGRESS", "allowed": [{"IPProtocol": "tcp",
            "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"], "destinationRanges": dest})
        };
        assert_eq!(drifts(state.clone(), api(json!(["10.0.0.5/32"]))), vec![]);
        let d = drifts(state.clone(), api(json!(["10.0.0.0/16"])));
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].attribute.as_deref(), Some("destination_ranges"));
        assert_eq!(d[0].effect, Effect::Weakens);
        // Facts name the remote side, so "SSH from the world" policies still see it.
        assert!(d[0].facts.as_ref().unwrap().open_to_internet());
        // Destination ranges removed: the rule reaches every address again.
        let d = drifts(state, api(Value::Null));
        assert_eq!(d[0].effect, Effect::Weakens);
        // No destination ranges on either side: the API's default, no drift.
        let plain = json!({"id": ID, "direction": "INGRESS", "allow": [{"protocol": "tcp"}],
            "source_ranges": ["10.0.0.0/8"], "destination_ranges": []});
        let api = json!({"direction": "INGRESS", "allowed": [{"IPProtocol": "tcp"}],
            "sourceRanges": ["10.0.0.0/8"]});
        assert_eq!(drifts(plain, api), vec![]);
    }

    #[test]
    fn fewer_targets_can_mean_wider() {
        let state = |tags: Value| {
            json!({"id": ID, "direction": "INGRESS",
            "allow": [{"protocol": "tcp", "ports": ["22"]}], "source_ranges": ["0.0.0.0/0"],
            "target_tags": tags})
        };
        let api = |tags: Value| {
            json!({"direction": "INGRESS", "allowed": [{"IPProtocol": "tcp",
            "ports": ["22"]}], "sourceRanges": ["0.0.0.0/0"], "targetTags": tags})
        };
        let effect = |s: Value, a: Value| {
            let d = drifts(state(s), api(a));
            assert_eq!(d.len(), 1, "{d:#?}");
            d[0].effect
        };
        // Targets removed: the rule applies to every instance of the network.
        assert_eq!(effect(json!(["bastion"]), Value::Null), Effect::Weakens);
        let d = drifts(state(json!(["bastion"])), api(Value::Null));
        let facts = d[0].facts.as_ref().unwrap();
        assert!(facts.open_to_internet() && facts.ports.iter().any(|p| p.includes(22)));
        assert_eq!(facts.direction, Some("ingress"));
        assert_eq!(
            effect(json!(["bastion"]), json!(["bastion", "web"])),
            Effect::Weakens
        );
        assert_eq!(effect(Value::Null, json!(["bastion"])), Effect::Strengthens);
        assert_eq!(
            effect(json!(["bastion", "web"]), json!(["web"])),
            Effect::Strengthens
        );
        assert_eq!(effect(json!(["bastion"]), json!(["web"])), Effect::Unknown);
    }
}
