//! Network security groups: `azurerm_network_security_group` (inline `security_rule` blocks) and
//! `azurerm_network_security_rule`, merged per NSG like AWS rule resources.
//!
//! A rule's slot is its direction and priority (unique per direction in an NSG, like an ACL rule
//! number); its meaning is access, protocol, addresses and ports, each normalized: protocol case
//! (`TCP`, `Tcp`), the single and list forms of prefixes and ports (`source_address_prefix` vs
//! `source_address_prefixes`), `0-65535` vs `*`, CIDR host bits, service-tag case. Names and
//! descriptions are not security. Azure's default rules (priority 65000+) are not compared.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{fetch_each, owned_object, prop, unowned_object, ArmRead};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{
    attribute_edit, bad, literal, literal_list, str_list, About, Codify, CodifyRequest, Family,
    Subject,
};
use crate::model::{
    cidr, cidr_contains, Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Exposure, Facts,
    Item, LiveObject, Ports, Reach,
};
use crate::state::Resource;

pub const NETWORK_SECURITY_GROUPS: About = About {
    name: "azure_network_security_group",
    cloud: Cloud::Azure,
    label: "network security group(s)",
    resource_types: &[
        "azurerm_network_security_group",
        "azurerm_network_security_rule",
    ],
    batch_size: super::BATCH,
};

pub struct NetworkSecurityGroups;

const API_VERSION: &str = "2024-05-01";

const READ: ArmRead = ArmRead {
    api_version: API_VERSION,
    operation: "networkSecurityGroups.get",
    graph_type: Some("microsoft.network/networksecuritygroups"),
    to_items: live_items,
};

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    inbound: bool,
    priority: i64,
    allow: bool,
    protocol: String,
    sources: Vec<String>,
    source_ports: Vec<String>,
    destinations: Vec<String>,
    destination_ports: Vec<String>,
}

/// The fields of a rule in either spelling (Terraform snake_case, ARM camelCase).
struct Raw<'a> {
    v: &'a Value,
    arm: bool,
}

impl Raw<'_> {
    fn field(&self, snake: &str, camel: &str) -> Option<&Value> {
        self.v
            .get(if self.arm { camel } else { snake })
            .filter(|v| !v.is_null())
    }

    fn text(&self, snake: &str, camel: &str) -> Option<String> {
        self.field(snake, camel)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// The single form and the list form together (Azure accepts either, never both).
    fn both(&self, single: (&str, &str), list: (&str, &str)) -> Vec<String> {
        let mut out = str_list(self.field(list.0, list.1));
        if let Some(s) = self.text(single.0, single.1).filter(|s| !s.is_empty()) {
            out.push(s);
        }
        out
    }

    /// Application security groups: ids in Terraform, `[{id}]` in ARM.
    fn asgs(&self, snake: &str, camel: &str) -> Vec<String> {
        let Some(Value::Array(list)) = self.field(snake, camel) else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|v| v.as_str().or_else(|| v.get("id").and_then(Value::as_str)))
            .map(|id| format!("asg:{}", id.to_ascii_lowercase()))
            .collect()
    }

    fn rule(&self) -> std::result::Result<Rule, String> {
        let priority = self
            .field("priority", "priority")
            .and_then(crate::families::as_int)
            .ok_or("a security rule has no priority")?;
        let direction = self.text("direction", "direction").unwrap_or_default();
        let inbound = match direction.to_ascii_lowercase().as_str() {
            "inbound" => true,
            "outbound" => false,
            _ => {
                return Err(format!(
                    "rule {priority}: direction `{direction}` is neither Inbound nor Outbound"
                ))
            }
        };
        let access = self.text("access", "access").unwrap_or_default();
        let allow = match access.to_ascii_lowercase().as_str() {
            "allow" => true,
            "deny" => false,
            _ => {
                return Err(format!(
                    "rule {priority}: access `{access}` is neither Allow nor Deny"
                ))
            }
        };
        let protocol = protocol(&self.text("protocol", "protocol").unwrap_or_default())
            .map_err(|e| format!("rule {priority}: {e}"))?;
        let addresses = |single, single_c, list, list_c, asg, asg_c| {
            let mut a = self
                .both((single, single_c), (list, list_c))
                .iter()
                .map(|s| address(s))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            a.extend(self.asgs(asg, asg_c));
            Ok::<_, String>(canonical_set(a))
        };
        let port_list = |single, single_c, list, list_c| {
            self.both((single, single_c), (list, list_c))
                .iter()
                .map(|s| port_range(s))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(canonical_ports)
        };
        Ok(Rule {
            inbound,
            priority,
            allow,
            sources: addresses(
                "source_address_prefix",
                "sourceAddressPrefix",
                "source_address_prefixes",
                "sourceAddressPrefixes",
                "source_application_security_group_ids",
                "sourceApplicationSecurityGroups",
            )
            .map_err(|e| format!("rule {priority}: {e}"))?,
            destinations: addresses(
                "destination_address_prefix",
                "destinationAddressPrefix",
                "destination_address_prefixes",
                "destinationAddressPrefixes",
                "destination_application_security_group_ids",
                "destinationApplicationSecurityGroups",
            )
            .map_err(|e| format!("rule {priority}: {e}"))?,
            source_ports: port_list(
                "source_port_range",
                "sourcePortRange",
                "source_port_ranges",
                "sourcePortRanges",
            )
            .map_err(|e| format!("rule {priority}: {e}"))?,
            destination_ports: port_list(
                "destination_port_range",
                "destinationPortRange",
                "destination_port_ranges",
                "destinationPortRanges",
            )
            .map_err(|e| format!("rule {priority}: {e}"))?,
            protocol,
        })
    }
}

/// `Tcp`, `TCP` → `tcp`; `*` → `all`. ARM's protocols: Tcp, Udp, Icmp, Esp, Ah, *.
fn protocol(raw: &str) -> std::result::Result<String, String> {
    let p = raw.trim().to_ascii_lowercase();
    match p.as_str() {
        "*" | "all" | "any" => Ok("all".into()),
        "tcp" | "udp" | "icmp" | "esp" | "ah" => Ok(p),
        _ => Err(format!("unknown protocol `{raw}`")),
    }
}

/// A CIDR or IP canonical (`10.0.0.1` is `10.0.0.1/32`), `*` as is, service tags lower-case.
fn address(raw: &str) -> std::result::Result<String, String> {
    let a = raw.trim();
    if a == "*" || a.eq_ignore_ascii_case("any") {
        return Ok("*".into());
    }
    if let Ok(ip) = a.parse::<std::net::IpAddr>() {
        return Ok(match ip {
            std::net::IpAddr::V4(_) => format!("{ip}/32"),
            std::net::IpAddr::V6(_) => format!("{ip}/128"),
        });
    }
    if a.contains('/') {
        return cidr(a);
    }
    if a.is_empty()
        || !a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
    {
        return Err(format!("`{raw}` is not an address prefix or service tag"));
    }
    Ok(format!("tag:{}", a.to_ascii_lowercase()))
}

/// `*` or `0-65535` → `*`; `22-22` → `22`; `88-90`.
fn port_range(raw: &str) -> std::result::Result<String, String> {
    let p = raw.trim();
    if p == "*" {
        return Ok("*".into());
    }
    let parse = |s: &str| {
        s.trim()
            .parse::<u16>()
            .map_err(|_| format!("`{raw}` is not a port or port range"))
    };
    let (a, b) = match p.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => (parse(p)?, parse(p)?),
    };
    Ok(match (a, b) {
        (0, 65535) => "*".into(),
        (a, b) if a == b => a.to_string(),
        (a, b) => format!("{a}-{b}"),
    })
}

fn canonical_set(mut v: Vec<String>) -> Vec<String> {
    if v.iter().any(|a| a == "*") {
        return vec!["*".into()];
    }
    v.sort();
    v.dedup();
    v
}

fn canonical_ports(v: Vec<String>) -> Vec<String> {
    let mut v = canonical_set(v);
    if v.is_empty() {
        // Azure requires a port; a missing one (protocols without ports) means any.
        v.push("*".into());
    }
    v.sort_by_key(|p| bounds(p));
    v
}

fn bounds(p: &str) -> (i32, i32) {
    if p == "*" {
        return (0, 65535);
    }
    let n = |s: &str| s.parse::<i32>().unwrap_or(0);
    match p.split_once('-') {
        Some((a, b)) => (n(a), n(b)),
        None => (n(p), n(p)),
    }
}

/// The CIDRs an address list reaches, for policies: `*` and `Internet` are the whole internet.
fn reach(addresses: &[String]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for a in addresses {
        match a.as_str() {
            "*" => {
                out.insert("0.0.0.0/0".to_string());
                out.insert("::/0".to_string());
            }
            "tag:internet" => {
                out.insert("0.0.0.0/0".to_string());
            }
            c if !c.starts_with("tag:") && !c.starts_with("asg:") => {
                out.insert(c.to_string());
            }
            _ => {}
        }
    }
    out.into_iter().collect()
}

impl Rule {
    fn direction(&self) -> &'static str {
        if self.inbound {
            "inbound"
        } else {
            "outbound"
        }
    }

    fn item(&self) -> Item {
        let access = if self.allow { "allow" } else { "deny" };
        let has_ports = matches!(self.protocol.as_str(), "tcp" | "udp" | "all");
        let ports: Vec<Ports> = if has_ports {
            self.destination_ports
                .iter()
                .map(|p| match bounds(p) {
                    (0, 65535) => Ports::All,
                    (a, b) => Ports::Range(a, b),
                })
                .collect()
        } else {
            Vec::new()
        };
        let (sp, dp) = if has_ports {
            (
                self.source_ports.join(","),
                self.destination_ports.join(","),
            )
        } else {
            ("-".to_string(), "-".to_string())
        };
        let remote = if self.inbound {
            &self.sources
        } else {
            &self.destinations
        };
        Item {
            identity: Some(format!("{}#{}", self.direction(), self.priority)),
            key: format!(
                "{}|{}|{access}|{}|{}|{sp}|{}|{dp}",
                self.direction(),
                self.priority,
                self.protocol,
                self.sources.join(","),
                self.destinations.join(","),
            ),
            value: json!({
                "direction": self.direction(),
                "priority": self.priority,
                "access": access,
                "protocol": self.protocol,
                "source_addresses": self.sources,
                "source_ports": self.source_ports,
                "destination_addresses": self.destinations,
                "destination_ports": self.destination_ports,
            }),
            summary: format!(
                "#{} {} {access} {} from {} to {} port {}",
                self.priority,
                self.direction(),
                self.protocol,
                self.sources.join(","),
                self.destinations.join(","),
                dp
            ),
            facts: Facts {
                grants: self.allow,
                direction: Some(if self.inbound { "ingress" } else { "egress" }),
                ports,
                cidrs: reach(remote),
                labels: Vec::new(),
            },
        }
    }
}

/// The NSG id of an `azurerm_network_security_rule` id (`…/networkSecurityGroups/N/securityRules/R`).
fn nsg_of_rule(rule_id: &str) -> Option<&str> {
    let lower = rule_id.to_ascii_lowercase();
    let at = lower.rfind("/securityrules/")?;
    Some(&rule_id[..at])
}

fn list(v: Option<&Value>) -> Vec<&Value> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Does every address/port of `b` fall inside `a`'s? (Service tags and ASGs only cover
/// themselves and are covered by `*`.)
fn covers(a: &Item, b: &Item) -> bool {
    let strs = |i: &Item, k: &str| -> Vec<String> { str_list(i.value.get(k)) };
    let addr_in = |outer: &[String], inner: &[String]| {
        inner.iter().all(|x| {
            outer.iter().any(|o| {
                o == "*"
                    || o == x
                    || (!x.starts_with("tag:") && !x.starts_with("asg:") && cidr_contains(o, x))
            })
        })
    };
    let ports_in = |outer: &[String], inner: &[String]| {
        inner.iter().all(|x| {
            let (x1, x2) = bounds(x);
            outer.iter().any(|o| {
                let (o1, o2) = bounds(o);
                o1 <= x1 && x2 <= o2
            })
        })
    };
    let (pa, pb) = (
        a.value.get("protocol").and_then(Value::as_str),
        b.value.get("protocol").and_then(Value::as_str),
    );
    (pa == Some("all") || pa == pb)
        && addr_in(&strs(a, "source_addresses"), &strs(b, "source_addresses"))
        && addr_in(
            &strs(a, "destination_addresses"),
            &strs(b, "destination_addresses"),
        )
        && ports_in(&strs(a, "source_ports"), &strs(b, "source_ports"))
        && ports_in(&strs(a, "destination_ports"), &strs(b, "destination_ports"))
}

fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    list(prop(body, "securityRules"))
        .into_iter()
        .map(|r| {
            let props = r
                .get("properties")
                .ok_or("a security rule has no properties")?;
            Ok((
                "security_rule",
                Raw {
                    v: props,
                    arm: true,
                }
                .rule()?
                .item(),
            ))
        })
        .collect()
}

/// The network API version of an interface or public IP: those of scale set instances are
/// served only by the older scale set API.
fn network_api(id: &str) -> &'static str {
    if id
        .to_ascii_lowercase()
        .contains("/providers/microsoft.compute/virtualmachinescalesets/")
    {
        "2018-10-01"
    } else {
        API_VERSION
    }
}

fn last(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Interfaces read once per run, by id: their public addresses, in words (`nic-1 (vm1), with
/// public IP 20.1.2.3`), or `None` when they have none.
#[derive(Default)]
struct NicCache {
    seen: BTreeMap<String, Option<Option<String>>>,
}

impl NicCache {
    /// `None`: the interface is gone (deleted since the association was read).
    async fn public(
        &mut self,
        azure: &crate::clients::azure::AzureContext,
        nic: &str,
    ) -> Result<Option<Option<String>>> {
        let key = nic.to_ascii_lowercase();
        if let Some(known) = self.seen.get(&key) {
            return Ok(known.clone());
        }
        let api = network_api(nic);
        let answer = match azure.get(nic, api, "networkInterfaces.get").await? {
            None => None,
            Some(body) => {
                let mut addresses = Vec::new();
                let configs = body
                    .pointer("/properties/ipConfigurations")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for c in configs {
                    let Some(ip_id) = c
                        .pointer("/properties/publicIPAddress/id")
                        .and_then(Value::as_str)
                    else {
                        continue;
                    };
                    let api = network_api(ip_id);
                    let ip = azure.get(ip_id, api, "publicIPAddresses.get").await?;
                    // A dynamic address not allocated yet (its machine stopped) reaches nothing
                    // now; it is named anyway, since starting the machine gives it one.
                    let address = ip
                        .as_ref()
                        .and_then(|b| b.pointer("/properties/ipAddress"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    match (ip, address) {
                        (None, _) => {}
                        (Some(_), Some(a)) => addresses.push(format!("public IP {a}")),
                        (Some(_), None) => addresses.push(format!(
                            "public IP {} (dynamic, not allocated now)",
                            last(ip_id)
                        )),
                    }
                }
                let vm = body
                    .pointer("/properties/virtualMachine/id")
                    .and_then(Value::as_str)
                    .map(|v| format!(" ({})", last(v)))
                    .unwrap_or_default();
                Some(
                    (!addresses.is_empty())
                        .then(|| format!("{}{vm}, with {}", last(nic), addresses.join(" and "))),
                )
            }
        };
        self.seen.insert(key, answer.clone());
        Ok(answer)
    }
}

/// How a drifted NSG is reached: through the interfaces associated with it and those in the
/// subnets associated with it, by their public IPs (Azure routes the internet to any public IP
/// by default), then by what its inbound rules admit. No interface and no subnet: unused.
/// The ids of an ARM object's sub-resources listed under `key` (`/properties/subnets`).
fn ids_at(key: &str, v: &Value) -> Vec<String> {
    v.pointer(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("id").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The interfaces with an IP configuration in a subnet (one `subnets.get`); none when the subnet
/// is gone.
async fn interfaces_in_subnet(
    azure: &crate::clients::azure::AzureContext,
    subnet: &str,
) -> Result<Vec<String>> {
    let Some(body) = azure.get(subnet, API_VERSION, "subnets.get").await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for config in ids_at("/properties/ipConfigurations", &body) {
        // `…/networkInterfaces/NIC/ipConfigurations/NAME`: the interface is the prefix.
        let lower = config.to_ascii_lowercase();
        if let Some(at) = lower.find("/ipconfigurations/") {
            if lower[..at].contains("/networkinterfaces/")
                && !out.contains(&config[..at].to_string())
            {
                out.push(config[..at].to_string());
            }
        }
    }
    Ok(out)
}

/// How a NIC or subnet whose NSG association drifted is reached: its interfaces' public IPs,
/// then what the NSG associated with it now admits. With none, nothing at this level filters:
/// only an NSG at the other level (the subnet's or the interface's), if any, does.
pub(super) async fn association_reach(
    azure: &crate::clients::azure::AzureContext,
    target: &str,
    nsg: Option<&str>,
) -> Result<Reach> {
    let name = last(target);
    let subnet = target.to_ascii_lowercase().contains("/subnets/");
    let members = if subnet {
        interfaces_in_subnet(azure, target).await?
    } else {
        vec![target.to_string()]
    };
    let mut nics = NicCache::default();
    let mut paths = Vec::new();
    for nic in &members {
        if let Some(Some(how)) = nics.public(azure, nic).await? {
            paths.push(if subnet {
                format!("subnet {name} holds {how}")
            } else {
                format!("the interface is {how}")
            });
        }
    }
    let admits = match nsg {
        Some(id) => match azure
            .get(id, API_VERSION, "networkSecurityGroups.get")
            .await?
        {
            Some(body) => {
                let items = live_items(&body).map_err(|e| {
                    crate::error::Error::new(
                        format!("Azure networkSecurityGroups.get {id}"),
                        format!("unexpected answer: {e}"),
                    )
                })?;
                crate::families::inbound_admits(&items).map(|(e, why)| {
                    let whose = format!("the inbound rules of {} admit", last(id));
                    (e, why.replace("its inbound rules admit", &whose))
                })
            }
            None => None,
        },
        None => Some((
            Exposure::Internet,
            format!(
                "no NSG filters {name} at this level: only an NSG on the {} filters inbound \
                 traffic, if there is one",
                if subnet { "interfaces" } else { "subnet" }
            ),
        )),
    };
    Ok(crate::families::reach_by_paths(
        &paths,
        admits,
        format!(
            "{name}: {} interface(s), none with a public IP",
            members.len()
        ),
    ))
}

async fn nsg_reach(
    azure: &crate::clients::azure::AzureContext,
    nics: &mut NicCache,
    o: &Subject<'_>,
) -> Result<Reach> {
    let id = &o.live.cloud_id;
    let name = last(id);
    let Some(nsg) = azure
        .get(id, API_VERSION, "networkSecurityGroups.get")
        .await?
    else {
        return Ok(Reach::new(
            Exposure::Unused,
            format!("{name} no longer exists"),
        ));
    };
    let mut members: Vec<(String, Option<String>)> = ids_at("/properties/networkInterfaces", &nsg)
        .into_iter()
        .map(|n| (n, None))
        .collect();
    let subnets = ids_at("/properties/subnets", &nsg);
    for subnet in &subnets {
        for nic in interfaces_in_subnet(azure, subnet).await? {
            members.push((nic, Some(last(subnet).to_string())));
        }
    }
    if members.is_empty() {
        return Ok(Reach::new(
            Exposure::Unused,
            format!("no network interface or subnet is associated with {name}"),
        ));
    }
    let mut paths = Vec::new();
    let mut private = 0;
    for (nic, subnet) in &members {
        match nics.public(azure, nic).await? {
            Some(Some(how)) => paths.push(match subnet {
                Some(s) => format!("{name} guards subnet {s}, where {how}"),
                None => format!("{name} guards {how}"),
            }),
            Some(None) => private += 1,
            None => {}
        }
    }
    Ok(crate::families::reach_by_paths(
        &paths,
        crate::families::inbound_admits(&o.live.items),
        format!(
            "{name} guards {private} network interface(s) ({} subnet(s)), none with a public IP",
            subnets.len()
        ),
    ))
}

/// A rule deleted in the portal leaves the code: its inline `security_rule` block (found by its
/// literal priority and direction) or its `azurerm_network_security_rule`. A rule changed in the
/// portal is manual: its address and port fields have singular and plural spellings that a
/// literal edit would have to choose between.
fn codify_rule(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    let want = r.expected;
    let (priority, direction) = (want["priority"].as_i64(), want["direction"].as_str());
    let text = format!(
        "#{} {} {}",
        want["priority"],
        direction.unwrap_or("?"),
        want["access"].as_str().unwrap_or("?")
    );
    let start = r.block.span().map_or(0, |s| s.start);
    let changed = !r.actual.is_null();
    let rewrite = |block: &hcl_edit::structure::Block| match changed {
        true => codify_changed(r, block, &text),
        false => match block.span() {
            Some(span) => Codify::Edits {
                edits: vec![crate::families::remove_lines(r.text, span)],
                summary: format!("remove the security_rule {text}"),
            },
            None => Codify::Unsupported,
        },
    };
    match r.resource_type {
        "azurerm_network_security_rule" if changed => codify_changed(r, r.block, &text),
        "azurerm_network_security_rule" => Codify::RemoveResource {
            summary: format!("the rule {text} is gone"),
        },
        "azurerm_network_security_group" => {
            let mut found = None;
            for block in r
                .block
                .body
                .blocks()
                .filter(|b| b.ident.as_str() == "security_rule")
            {
                match (
                    literal(&block.body, "priority"),
                    literal(&block.body, "direction"),
                ) {
                    (Ok(p), Ok(d)) => {
                        let p = p.and_then(|p| p.as_i64().or_else(|| p.as_str()?.parse().ok()));
                        let d = d.and_then(|d| d.as_str().map(str::to_ascii_lowercase));
                        if p == priority && d.as_deref() == direction {
                            found = Some(block);
                        }
                    }
                    (Err(at), _) | (_, Err(at)) => {
                        return Codify::Manual {
                            offset: at,
                            reason: "a rule's priority or direction is not a literal".into(),
                            want: format!("no rule {text}"),
                        }
                    }
                }
            }
            match found {
                Some(block) => rewrite(block),
                None => Codify::Manual {
                    offset: start,
                    reason: "no security_rule block of this resource has that priority and \
                             direction (dynamic blocks are not edited)"
                        .into(),
                    want: format!("no rule {text}"),
                },
            }
        }
        _ => Codify::Unsupported,
    }
}

/// A rule changed in the portal (same priority and direction), written field by field where
/// the block spells the field as a literal: access, protocol, addresses and ports. A list
/// written in the singular attribute (`source_address_prefix`) stays singular when one value is
/// live; the other spelling, service tags the code does not already spell, and application
/// security groups are manual.
fn codify_changed(r: &CodifyRequest, block: &hcl_edit::structure::Block, text: &str) -> Codify {
    use hcl_edit::Span;
    let (want, live) = (r.expected, r.actual);
    let start = block.span().map_or(0, |s| s.start);
    let code = r.text;
    let manual = |offset: usize, reason: String| Codify::Manual {
        offset,
        reason,
        want: format!("rule {text} as live: {}", summary_of(live)),
    };
    let mut edits = Vec::new();
    let mut said = Vec::new();
    let quoted = |v: &str| format!("\"{v}\"");
    if want["access"] != live["access"] {
        let access = match live["access"].as_str() {
            Some("allow") => "Allow",
            _ => "Deny",
        };
        match attribute_edit(&block.body, start, code, "access", &quoted(access)) {
            Ok(e) => edits.push(e),
            Err(at) => return manual(at, "`access` is not a literal".into()),
        }
        said.push(format!("access = {access}"));
    }
    if want["protocol"] != live["protocol"] {
        let protocol = match live["protocol"].as_str().unwrap_or_default() {
            "all" => "*",
            "tcp" => "Tcp",
            "udp" => "Udp",
            "icmp" => "Icmp",
            "esp" => "Esp",
            "ah" => "Ah",
            other => return manual(start, format!("unknown protocol `{other}`")),
        };
        match attribute_edit(&block.body, start, code, "protocol", &quoted(protocol)) {
            Ok(e) => edits.push(e),
            Err(at) => return manual(at, "`protocol` is not a literal".into()),
        }
        said.push(format!("protocol = {protocol}"));
    }
    for (field, single, plural) in [
        (
            "source_addresses",
            "source_address_prefix",
            "source_address_prefixes",
        ),
        (
            "destination_addresses",
            "destination_address_prefix",
            "destination_address_prefixes",
        ),
        ("source_ports", "source_port_range", "source_port_ranges"),
        (
            "destination_ports",
            "destination_port_range",
            "destination_port_ranges",
        ),
    ] {
        if want[field] == live[field] {
            continue;
        }
        let values: Vec<&str> = live[field]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        // The code's own spelling of each value: service tags are compared without case.
        let written: Vec<String> = [single, plural]
            .iter()
            .flat_map(|k| {
                literal_list(&block.body, k)
                    .map(|l| l.into_iter().map(|(v, _)| v).collect::<Vec<_>>())
                    .or_else(|_| {
                        literal(&block.body, k).map(|v| {
                            v.and_then(|v| v.as_str().map(str::to_string))
                                .into_iter()
                                .collect()
                        })
                    })
                    .unwrap_or_default()
            })
            .collect();
        let mut spelled = Vec::new();
        for v in &values {
            let out = match v.strip_prefix("tag:") {
                Some(tag) => match written.iter().find(|w| w.eq_ignore_ascii_case(tag)) {
                    Some(w) => w.clone(),
                    None => {
                        return manual(
                            start,
                            format!("the service tag `{tag}` is not spelled in the code yet"),
                        )
                    }
                },
                None if v.starts_with("asg:") => {
                    return manual(
                        start,
                        "application security groups are written by reference".into(),
                    )
                }
                None => v.to_string(),
            };
            spelled.push(out);
        }
        let has_single = block.body.get_attribute(single).is_some();
        let has_plural = block.body.get_attribute(plural).is_some();
        let edit = match (spelled.as_slice(), has_single, has_plural) {
            ([one], true, _) => attribute_edit(&block.body, start, code, single, &quoted(one)),
            (many, _, true) => {
                let list: Vec<String> = many.iter().map(|v| quoted(v)).collect();
                attribute_edit(
                    &block.body,
                    start,
                    code,
                    plural,
                    &format!("[{}]", list.join(", ")),
                )
            }
            _ => {
                return manual(
                    start,
                    format!(
                        "`{single}` holds one value and {} are live: write `{plural}`",
                        spelled.len()
                    ),
                )
            }
        };
        match edit {
            Ok(e) => edits.push(e),
            Err(at) => return manual(at, format!("`{single}`/`{plural}` is not a literal")),
        }
        said.push(format!("{field} = {}", spelled.join(",")));
    }
    if edits.is_empty() {
        return Codify::Unsupported;
    }
    Codify::Edits {
        edits,
        summary: format!("rule {text}: {}", said.join("; ")),
    }
}

fn summary_of(v: &Value) -> String {
    let list = |k: &str| {
        v[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default()
    };
    format!(
        "{} {} from {} to {} port {}",
        v["access"].as_str().unwrap_or("?"),
        v["protocol"].as_str().unwrap_or("?"),
        list("source_addresses"),
        list("destination_addresses"),
        list("destination_ports")
    )
}

impl Family for NetworkSecurityGroups {
    /// `--harden`: an inbound allow rule for SSH or RDP only, from the internet (`*`,
    /// `Internet`, `0.0.0.0/0`), goes.
    fn harden(
        &self,
        _object: &ExpectedObject,
        item: &crate::model::ExpectedItem,
        admin: Option<&str>,
    ) -> Option<crate::families::Hardened> {
        let i = &item.item;
        let protocol = i.value.get("protocol").and_then(Value::as_str);
        let admin_only = !i.facts.ports.is_empty()
            && i.facts.ports.iter().all(|p| {
                matches!(p, crate::model::Ports::Range(a, b) if a == b && [22, 3389].contains(a))
            });
        let hardens = item.attribute == "security_rule"
            && i.facts.direction == Some("ingress")
            && i.facts.grants
            && admin_only
            && matches!(protocol, Some("tcp" | "all"))
            && i.facts.open_to_internet();
        if !hardens {
            return None;
        }
        // With an admin range, the internet sources give way to it (written field by field).
        let narrowed = admin.and_then(|a| cidr(a).ok()).map(|a| {
            let mut new = i.clone();
            new.value["source_addresses"] = json!([a]);
            new.facts.cidrs = vec![a.clone()];
            new.summary = format!("{} (from {a})", i.summary);
            new
        });
        Some(match narrowed {
            Some(item) => crate::families::Hardened::Replace {
                item: Box::new(item),
                replaces: false,
            },
            None => crate::families::Hardened::Remove,
        })
    }

    fn codify(&self, r: &CodifyRequest) -> Codify {
        match r.attribute {
            Some("security_rule") if r.kind != crate::model::DriftKind::Unmanaged => codify_rule(r),
            _ => Codify::Unsupported,
        }
    }

    fn about(&self) -> &'static About {
        &NETWORK_SECURITY_GROUPS
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut nsgs: BTreeMap<String, ExpectedObject> = BTreeMap::new();
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "azurerm_network_security_group")
        {
            let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
            let mut obj = owned_object(self.about().name, id, r);
            for block in list(r.attr("security_rule")) {
                let rule = Raw {
                    v: block,
                    arm: false,
                }
                .rule()
                .map_err(|e| bad(r, &e))?;
                obj.items.push(ExpectedItem {
                    attribute: "security_rule",
                    item: rule.item(),
                    by: Declarer::of(r, true),
                });
            }
            let key = id.to_ascii_lowercase();
            if let Some(prev) = nsgs.insert(key, obj) {
                return Err(bad(
                    r,
                    &format!(
                        "manages network security group {id}, which {} manages too",
                        prev.owner.map(|o| o.address).unwrap_or_default()
                    ),
                ));
            }
        }
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "azurerm_network_security_rule")
        {
            let rule_id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
            let nsg = nsg_of_rule(rule_id)
                .ok_or_else(|| bad(r, "`id` is not a security rule id (…/securityRules/NAME)"))?;
            let rule = Raw {
                v: &r.attributes,
                arm: false,
            }
            .rule()
            .map_err(|e| bad(r, &e))?;
            let obj = nsgs.entry(nsg.to_ascii_lowercase()).or_insert_with(|| {
                // The NSG is managed elsewhere: only the rules declared here are ours to judge.
                unowned_object(NETWORK_SECURITY_GROUPS.name, nsg, r)
            });
            obj.items.push(ExpectedItem {
                attribute: "security_rule",
                item: rule.item(),
                by: Declarer::of(r, false),
            });
        }
        // With rule resources, the NSG's `security_rule` in the state is the provider's refreshed
        // copy of all rules (optional + computed), stale after a rule resource is destroyed.
        Ok(nsgs
            .into_values()
            .map(crate::families::drop_computed_inline)
            .collect())
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        fetch_each(clouds, ids, &READ)
    }

    fn exposure<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move {
            let azure = clouds.azure()?;
            let mut nics = NicCache::default();
            let mut out = BTreeMap::new();
            for o in objects {
                out.insert(
                    o.live.cloud_id.clone(),
                    nsg_reach(azure, &mut nics, o).await?,
                );
            }
            Ok(out)
        })
    }

    fn effect_of_change(&self, _attribute: &str, expected: &Item, actual: &Item) -> Effect {
        match (expected.facts.grants, actual.facts.grants) {
            (true, false) => Effect::Strengthens,
            (false, true) => Effect::Weakens,
            // Allowing what came from private ranges from the internet (`Internet` is a tag, not
            // a CIDR that containment could judge).
            (true, true)
                if actual.facts.open_to_internet() && !expected.facts.open_to_internet() =>
            {
                Effect::Weakens
            }
            (allow, _) => match (covers(actual, expected), covers(expected, actual), allow) {
                (true, false, true) | (false, true, false) => Effect::Weakens,
                (false, true, true) | (true, false, false) => Effect::Strengthens,
                _ => Effect::Unknown,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Value {
        let text = std::fs::read_to_string(path).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn res(t: &str, attrs: Value) -> Resource {
        Resource {
            address: format!("{t}.x"),
            resource_type: t.into(),
            provider: "provider[\"registry.terraform.io/hashicorp/azurerm\"]".into(),
            attributes: attrs,
            sensitive_paths: vec![],
            sources: vec!["s".into()],
        }
    }

    #[test]
    fn spellings_of_one_rule_agree() {
        // ARM as recorded (protocol `TCP`, empty list forms) and Terraform (`Tcp`, single forms).
        let arm = json!({"protocol": "TCP", "sourcePortRange": "*", "destinationPortRange": "22",
            "sourceAddressPrefix": "10.0.0.0/16", "destinationAddressPrefix": "*", "access": "Deny",
            "priority": 320, "direction": "Inbound", "sourcePortRanges": [], "destinationPortRanges": [],
            "sourceAddressPrefixes": [], "destinationAddressPrefixes": []});
        let tf = json!({"protocol": "Tcp", "source_port_range": "", "source_port_ranges": ["0-65535"],
            "destination_port_range": "", "destination_port_ranges": ["22-22"],
            "source_address_prefix": "", "source_address_prefixes": ["10.0.5.7/16"],
            "destination_address_prefix": "*", "destination_address_prefixes": [],
            "access": "Deny", "priority": 320, "direction": "Inbound", "name": "other-name"});
        let a = Raw { v: &arm, arm: true }.rule().unwrap().item();
        let b = Raw { v: &tf, arm: false }.rule().unwrap().item();
        assert_eq!(a.key, b.key);
        assert_eq!(a.identity.as_deref(), Some("inbound#320"));
    }

    #[test]
    fn recorded_nsg_and_state_rule_shapes() {
        let cassette = fixture("tests/fixtures/shared/azure/c7n_cassette_nsg_list.json");
        let nsg = &cassette["interactions"][0]["response"]["body"]["data"]["value"][0];
        let items = live_items(nsg).unwrap();
        let keys: Vec<&str> = items.iter().map(|(_, i)| i.summary.as_str()).collect();
        assert_eq!(
            keys,
            [
                "#320 inbound deny tcp from 10.0.0.0/16 to * port 22",
                "#300 outbound allow tcp from * to * port 22",
                "#330 inbound allow all from * to * port 88-90",
            ]
        );
        // The spec example: `*` source opens to the whole internet, on port 80 only.
        let spec = fixture("tests/fixtures/shared/azure/azure_specs_NetworkSecurityGroupGet.json");
        let items = live_items(&spec["responses"]["200"]["body"]).unwrap();
        assert_eq!(items.len(), 1, "default rules are not compared");
        let f = &items[0].1.facts;
        assert!(f.open_to_internet());
        assert!(f.ports.iter().any(|p| p.includes(80)) && !f.ports.iter().any(|p| p.includes(22)));
    }

    #[test]
    fn rule_resources_replace_the_computed_inline_copy() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n";
        let rule = |prio: i64| {
            json!({"protocol": "Tcp", "source_port_range": "*", "destination_port_range": "443",
                "source_address_prefix": "*", "destination_address_prefix": "*", "access": "Allow",
                "priority": prio, "direction": "Inbound"})
        };
        let nsg = res(
            "azurerm_network_security_group",
            json!({"id": id, "location": "West Europe", "security_rule": [rule(100), rule(200)]}),
        );
        let mut r = rule(100);
        r["id"] = json!(format!("{}/securityRules/https", id.to_lowercase()));
        let sep = res("azurerm_network_security_rule", r);
        let objs = NetworkSecurityGroups.expected(&[&nsg, &sep]).unwrap();
        assert_eq!(objs.len(), 1, "ids compare case-insensitively");
        assert_eq!(objs[0].region.as_deref(), Some("westeurope"));
        let by: Vec<&str> = objs[0]
            .items
            .iter()
            .map(|i| i.by.address.as_str())
            .collect();
        assert_eq!(by, ["azurerm_network_security_rule.x"]);
    }

    #[test]
    fn application_security_groups_by_id_without_case() {
        let asg = "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Network/applicationSecurityGroups/web";
        let tf = json!({"protocol": "Tcp", "source_port_range": "*", "destination_port_range": "443",
            "source_address_prefix": "", "source_application_security_group_ids": [asg],
            "destination_address_prefix": "*", "access": "Allow", "priority": 200, "direction": "Inbound"});
        let arm = json!({"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "443",
            "sourceApplicationSecurityGroups": [{"id": asg.to_lowercase()}], "sourceAddressPrefixes": [],
            "destinationAddressPrefix": "*", "access": "Allow", "priority": 200, "direction": "Inbound"});
        let a = Raw { v: &tf, arm: false }.rule().unwrap().item();
        let b = Raw { v: &arm, arm: true }.rule().unwrap().item();
        assert_eq!(a.key, b.key);
        assert!(!a.facts.open_to_internet(), "an ASG is not the internet");
    }

    #[test]
    fn effects() {
        let item = |src: &str, port: &str, access: &str| {
            Raw {
                v: &json!({"protocol": "Tcp", "source_port_range": "*", "destination_port_range": port,
                    "source_address_prefix": src, "destination_address_prefix": "*",
                    "access": access, "priority": 100, "direction": "Inbound"}),
                arm: false,
            }
            .rule()
            .unwrap()
            .item()
        };
        let f = NetworkSecurityGroups;
        let narrow = item("10.0.0.0/8", "22", "Allow");
        assert_eq!(
            f.effect_of_change("security_rule", &narrow, &item("*", "22", "Allow")),
            Effect::Weakens
        );
        assert_eq!(
            f.effect_of_change("security_rule", &narrow, &item("Internet", "22", "Allow")),
            Effect::Weakens
        );
        assert_eq!(
            f.effect_of_change(
                "security_rule",
                &narrow,
                &item("VirtualNetwork", "22", "Allow")
            ),
            Effect::Unknown
        );
        assert_eq!(
            f.effect_of_change(
                "security_rule",
                &narrow,
                &item("10.1.0.0/16", "22", "Allow")
            ),
            Effect::Strengthens
        );
        assert_eq!(
            f.effect_of_change(
                "security_rule",
                &narrow,
                &item("10.0.0.0/8", "20-25", "Allow")
            ),
            Effect::Weakens
        );
        assert_eq!(
            f.effect_of_change("security_rule", &narrow, &item("10.0.0.0/8", "22", "Deny")),
            Effect::Strengthens
        );
        assert!(item("Internet", "3389", "Allow").facts.open_to_internet());
        assert!(address("not a prefix!").is_err());
        assert!(port_range("70000").is_err());
    }
}
