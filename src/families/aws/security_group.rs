//! Security groups: `aws_security_group` and `aws_default_security_group` (inline `ingress` and
//! `egress` blocks), `aws_security_group_rule`, `aws_vpc_security_group_ingress_rule` and
//! `aws_vpc_security_group_egress_rule`. All of them contribute rules to one live group.
//!
//! Rules are compared as a set of *atomic* rules (direction, protocol, ports, one peer): EC2 groups
//! permissions by protocol and ports with lists of peers, Terraform by block or resource; neither
//! grouping means anything, so both sides are exploded before comparison. Descriptions are not
//! part of a rule's meaning.

use std::collections::BTreeMap;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{IpPermission, SecurityGroup};
use futures::future::BoxFuture;
use serde_json::{json, Map, Value};

use super::config_items::Fields;
use super::{
    as_int, icmp, int_attr, is_not_found, ports, ports_json, ports_text, protocol, reach,
    read_by_ids, region_account, str_list,
};
use crate::clients::aws::AwsContext;
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{
    bad, literal, literal_list, remove_element, tags_of, About, Codify, CodifyRequest, ConfigRef,
    Family, FromConfig, Subject, TextEdit,
};
use crate::model::{
    cidr, Cloud, ConfigItem, Declarer, ExpectedItem, ExpectedObject, Exposure, Facts, Item,
    LiveObject, Ports, Reach,
};
use crate::state::Resource;

pub const SECURITY_GROUPS: About = About {
    name: "security_group",
    cloud: Cloud::Aws,
    label: "security group(s)",
    resource_types: &[
        "aws_security_group",
        "aws_default_security_group",
        "aws_security_group_rule",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
    ],
    // EC2 accepts up to 200 values in one filter.
    batch_size: 200,
};

pub struct SecurityGroups;

const GROUP_TYPES: [&str; 2] = ["aws_security_group", "aws_default_security_group"];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    Cidr(String),
    PrefixList(String),
    Group(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    direction: &'static str,
    protocol: String,
    ports: Ports,
    icmp: Option<(i64, i64)>,
    peer: Peer,
}

impl Rule {
    fn item(&self) -> Item {
        let port_key = match (self.ports, self.icmp) {
            (_, Some((t, c))) => format!("icmp:{t}:{c}"),
            (Ports::Range(a, b), None) => format!("{a}-{b}"),
            (Ports::All, None) => "all".into(),
            (Ports::None, None) => "-".into(),
        };
        let (peer_key, peer_field, peer_value) = match &self.peer {
            Peer::Cidr(c) if c.contains(':') => (format!("cidr:{c}"), "cidr_ipv6", c.clone()),
            Peer::Cidr(c) => (format!("cidr:{c}"), "cidr_ipv4", c.clone()),
            Peer::PrefixList(p) => (format!("pl:{p}"), "prefix_list_id", p.clone()),
            Peer::Group(g) => (format!("sg:{g}"), "referenced_security_group_id", g.clone()),
        };
        let key = format!(
            "{}|{}|{}|{}",
            self.direction, self.protocol, port_key, peer_key
        );

        let mut value = Map::new();
        value.insert("direction".into(), json!(self.direction));
        value.insert("ip_protocol".into(), json!(self.protocol));
        let (from, to) = match self.icmp {
            Some((t, c)) => (json!(t), json!(c)),
            None => ports_json(self.ports),
        };
        value.insert("from_port".into(), from);
        value.insert("to_port".into(), to);
        value.insert(peer_field.into(), json!(peer_value));

        let what = match (self.protocol.as_str(), self.icmp) {
            ("all", _) => "all traffic".to_string(),
            (p, Some((-1, _))) => format!("{p} all types"),
            (p, Some((t, -1))) => format!("{p} type {t}"),
            (p, Some((t, c))) => format!("{p} type {t} code {c}"),
            (p, None) if self.ports == Ports::None => format!("protocol {p}"),
            (p, None) => format!("{p} {}", ports_text(self.ports)),
        };
        let prep = if self.direction == "ingress" {
            "from"
        } else {
            "to"
        };
        let summary = format!("{what} {prep} {peer_value}");

        let cidrs = match &self.peer {
            Peer::Cidr(c) => vec![c.clone()],
            _ => Vec::new(),
        };
        Item {
            identity: None,
            key,
            value: Value::Object(value),
            summary,
            facts: Facts {
                grants: true,
                direction: Some(self.direction),
                ports: vec![self.ports],
                cidrs,
                labels: Vec::new(),
            },
        }
    }
}

/// Builds atomic rules from one rule description, whichever resource shape it came from.
struct RuleSpec<'a> {
    direction: &'static str,
    protocol: &'a str,
    from: Option<i64>,
    to: Option<i64>,
    peers: Vec<Peer>,
}

impl RuleSpec<'_> {
    fn rules(&self) -> std::result::Result<Vec<Rule>, String> {
        let protocol = protocol(self.protocol)?;
        let ports = ports(&protocol, self.from, self.to);
        let icmp = icmp(&protocol, self.from, self.to);
        let mut peers = self.peers.clone();
        peers.sort();
        peers.dedup();
        Ok(peers
            .into_iter()
            .map(|peer| Rule {
                direction: self.direction,
                protocol: protocol.clone(),
                ports,
                icmp,
                peer,
            })
            .collect())
    }
}

fn cidr_peers(values: Vec<String>) -> std::result::Result<Vec<Peer>, String> {
    values.iter().map(|c| cidr(c).map(Peer::Cidr)).collect()
}

/// `123456789012/sg-1` (a group of another account) and `sg-1` name the same group.
fn group_peer(raw: &str) -> Peer {
    Peer::Group(raw.rsplit('/').next().unwrap_or(raw).to_string())
}

/// The inline `ingress`/`egress` blocks of a group resource.
fn inline_rules(r: &Resource, group_id: &str, direction: &'static str) -> Result<Vec<Rule>> {
    let blocks = match r.attr(direction) {
        None => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad(r, &format!("`{direction}` is not a list"))),
    };
    let mut out = Vec::new();
    for block in blocks {
        let f = |k: &str| block.get(k).filter(|v| !v.is_null());
        let mut peers = cidr_peers(str_list(f("cidr_blocks"))).map_err(|e| bad(r, &e))?;
        peers.extend(cidr_peers(str_list(f("ipv6_cidr_blocks"))).map_err(|e| bad(r, &e))?);
        peers.extend(
            str_list(f("prefix_list_ids"))
                .into_iter()
                .map(Peer::PrefixList),
        );
        peers.extend(str_list(f("security_groups")).iter().map(|g| group_peer(g)));
        if f("self").and_then(Value::as_bool) == Some(true) {
            peers.push(Peer::Group(group_id.to_string()));
        }
        let spec = RuleSpec {
            direction,
            protocol: f("protocol").and_then(Value::as_str).unwrap_or("-1"),
            from: f("from_port").and_then(as_int),
            to: f("to_port").and_then(as_int),
            peers,
        };
        out.extend(spec.rules().map_err(|e| bad(r, &e))?);
    }
    Ok(out)
}

/// `aws_security_group_rule`: one resource, possibly several CIDRs.
fn legacy_rule(r: &Resource) -> Result<(String, Vec<Rule>)> {
    let group = required(r, "security_group_id")?;
    let direction = match r.attr_str("type") {
        Some("ingress") => "ingress",
        Some("egress") => "egress",
        other => {
            return Err(bad(
                r,
                &format!("`type` is {other:?}, expected ingress or egress"),
            ))
        }
    };
    let mut peers = cidr_peers(str_list(r.attr("cidr_blocks"))).map_err(|e| bad(r, &e))?;
    peers.extend(cidr_peers(str_list(r.attr("ipv6_cidr_blocks"))).map_err(|e| bad(r, &e))?);
    peers.extend(
        str_list(r.attr("prefix_list_ids"))
            .into_iter()
            .map(Peer::PrefixList),
    );
    if let Some(src) = r.attr_str("source_security_group_id") {
        peers.push(group_peer(src));
    }
    if r.attr("self").and_then(Value::as_bool) == Some(true) {
        peers.push(Peer::Group(group.clone()));
    }
    let spec = RuleSpec {
        direction,
        protocol: r.attr_str("protocol").unwrap_or("-1"),
        from: int_attr(r, "from_port"),
        to: int_attr(r, "to_port"),
        peers,
    };
    Ok((group, spec.rules().map_err(|e| bad(r, &e))?))
}

/// `aws_vpc_security_group_ingress_rule` / `_egress_rule`: exactly one peer each.
fn vpc_rule(r: &Resource, direction: &'static str) -> Result<(String, Vec<Rule>)> {
    let group = required(r, "security_group_id")?;
    let mut peers = Vec::new();
    if let Some(c) = r.attr_str("cidr_ipv4") {
        peers.push(Peer::Cidr(cidr(c).map_err(|e| bad(r, &e))?));
    }
    if let Some(c) = r.attr_str("cidr_ipv6") {
        peers.push(Peer::Cidr(cidr(c).map_err(|e| bad(r, &e))?));
    }
    if let Some(p) = r.attr_str("prefix_list_id") {
        peers.push(Peer::PrefixList(p.to_string()));
    }
    if let Some(g) = r.attr_str("referenced_security_group_id") {
        peers.push(group_peer(g));
    }
    let spec = RuleSpec {
        direction,
        protocol: r.attr_str("ip_protocol").unwrap_or("-1"),
        from: int_attr(r, "from_port"),
        to: int_attr(r, "to_port"),
        peers,
    };
    Ok((group, spec.rules().map_err(|e| bad(r, &e))?))
}

fn required(r: &Resource, name: &str) -> Result<String> {
    r.attr_str(name)
        .map(str::to_string)
        .ok_or_else(|| bad(r, &format!("has no `{name}`")))
}

fn live_rules(
    group_id: &str,
    perms: &[IpPermission],
    direction: &'static str,
) -> Result<Vec<Rule>> {
    let mut out = Vec::new();
    for p in perms {
        let mut peers = Vec::new();
        for r in p.ip_ranges() {
            if let Some(c) = r.cidr_ip() {
                peers.push(c.to_string());
            }
        }
        for r in p.ipv6_ranges() {
            if let Some(c) = r.cidr_ipv6() {
                peers.push(c.to_string());
            }
        }
        let mut peers = cidr_peers(peers).map_err(|e| live_bad(group_id, &e))?;
        peers.extend(
            p.prefix_list_ids()
                .iter()
                .filter_map(|pl| pl.prefix_list_id())
                .map(|pl| Peer::PrefixList(pl.to_string())),
        );
        peers.extend(
            p.user_id_group_pairs()
                .iter()
                .filter_map(|g| g.group_id())
                .map(group_peer),
        );
        let spec = RuleSpec {
            direction,
            protocol: p.ip_protocol().unwrap_or("-1"),
            from: p.from_port().map(i64::from),
            to: p.to_port().map(i64::from),
            peers,
        };
        out.extend(spec.rules().map_err(|e| live_bad(group_id, &e))?);
    }
    Ok(out)
}

fn live_bad(group_id: &str, msg: &str) -> Error {
    Error::new(
        format!("AWS security group {group_id}"),
        format!("unexpected rule from the EC2 API: {msg}"),
    )
}

pub(super) fn live_object(sg: &SecurityGroup) -> Result<Option<LiveObject>> {
    let Some(id) = sg.group_id() else {
        return Ok(None);
    };
    let mut items = Vec::new();
    for rule in live_rules(id, sg.ip_permissions(), "ingress")? {
        items.push(("ingress", rule.item()));
    }
    for rule in live_rules(id, sg.ip_permissions_egress(), "egress")? {
        items.push(("egress", rule.item()));
    }
    Ok(Some(LiveObject {
        cloud_id: id.to_string(),
        items,
        is_default: sg.group_name() == Some("default"),
    }))
}

/// A group as AWS Config records it (`AWS::EC2::SecurityGroup`: the EC2 answer's fields in
/// camelCase, `ipv4Ranges` beside the older `ipRanges` strings), in the EC2 SDK's shape, so that
/// both sources give one live view.
fn group_from_config(item: &ConfigItem) -> Result<SecurityGroup> {
    use aws_sdk_ec2::types::{IpRange, Ipv6Range, PrefixListId, UserIdGroupPair};
    let f = Fields::of(item, "security group");
    let permission = |p: &Value| -> Result<IpPermission> {
        let mut b = IpPermission::builder()
            .set_ip_protocol(f.text(p, "ipProtocol"))
            .set_from_port(f.int(p, "fromPort")?)
            .set_to_port(f.int(p, "toPort")?);
        // `ipRanges` (plain strings) is the older copy of `ipv4Ranges`: one of them, not both.
        if p.get("ipv4Ranges").is_some() {
            for r in f.list(p, "ipv4Ranges")? {
                b = b.ip_ranges(IpRange::builder().set_cidr_ip(f.text(r, "cidrIp")).build());
            }
        } else {
            for r in f.list(p, "ipRanges")? {
                let cidr = r
                    .as_str()
                    .ok_or_else(|| f.bad("has an `ipRanges` entry that is not a string"))?;
                b = b.ip_ranges(IpRange::builder().cidr_ip(cidr).build());
            }
        }
        for r in f.list(p, "ipv6Ranges")? {
            b = b.ipv6_ranges(
                Ipv6Range::builder()
                    .set_cidr_ipv6(f.text(r, "cidrIpv6"))
                    .build(),
            );
        }
        for r in f.list(p, "prefixListIds")? {
            let id = f.text(r, "prefixListId");
            b = b.prefix_list_ids(PrefixListId::builder().set_prefix_list_id(id).build());
        }
        for r in f.list(p, "userIdGroupPairs")? {
            b = b.user_id_group_pairs(
                UserIdGroupPair::builder()
                    .set_group_id(f.text(r, "groupId"))
                    .set_user_id(f.text(r, "userId"))
                    .build(),
            );
        }
        Ok(b.build())
    };
    let c = f.root();
    let id = f
        .text(c, "groupId")
        .ok_or_else(|| f.bad("has no `groupId`"))?;
    let mut group = SecurityGroup::builder()
        .group_id(id)
        .set_group_name(f.text(c, "groupName"))
        .set_vpc_id(f.text(c, "vpcId"));
    for p in f.list(c, "ipPermissions")? {
        group = group.ip_permissions(permission(p)?);
    }
    for p in f.list(c, "ipPermissionsEgress")? {
        group = group.ip_permissions_egress(permission(p)?);
    }
    Ok(group.build())
}

// ---- Codify: a rule revoked live leaves the code ----

/// The peer lists a rule block may hold, by the key of the state's item.
const PEER_LISTS: [(&str, &str); 4] = [
    ("cidr_ipv4", "cidr_blocks"),
    ("cidr_ipv6", "ipv6_cidr_blocks"),
    ("prefix_list_id", "prefix_list_ids"),
    ("referenced_security_group_id", "security_groups"),
];

/// Does this rule block (an inline `ingress`/`egress` or an `aws_security_group_rule`) have the
/// protocol and ports of `want`? `Err(offset)`: they are not literals.
fn same_rule(body: &hcl_edit::structure::Body, want: &Value) -> std::result::Result<bool, usize> {
    let protocol = literal(body, "protocol")?
        .and_then(|p| {
            p.as_str()
                .map(str::to_string)
                .or_else(|| p.as_i64().map(|n| n.to_string()))
        })
        .and_then(|p| super::protocol(&p).ok());
    if protocol.as_deref() != want["ip_protocol"].as_str() {
        return Ok(false);
    }
    if want["from_port"].is_null() {
        return Ok(true);
    }
    Ok(
        literal(body, "from_port")? == Some(want["from_port"].clone())
            && literal(body, "to_port")? == Some(want["to_port"].clone()),
    )
}

/// Where the rule's peer is in this block: the element spans of the list it is in, its index,
/// and how many peers the block has in all (the block goes with its last one).
type PeerAt = (Vec<std::ops::Range<usize>>, usize, usize);

fn find_peer(
    body: &hcl_edit::structure::Body,
    want: &Value,
) -> std::result::Result<Option<PeerAt>, usize> {
    let mut total = usize::from(literal(body, "self")? == Some(json!(true)));
    let mut found = None;
    for (field, list) in PEER_LISTS {
        let elements = literal_list(body, list)?;
        total += elements.len();
        let Some(peer) = want[field].as_str() else {
            continue;
        };
        let same = |v: &str| match field {
            "cidr_ipv4" | "cidr_ipv6" => crate::model::cidr(v).ok().as_deref() == Some(peer),
            _ => v == peer,
        };
        if let Some(i) = elements.iter().position(|(v, _)| same(v)) {
            found = Some((elements.into_iter().map(|(_, s)| s).collect(), i));
        }
    }
    Ok(found.map(|(spans, i)| (spans, i, total)))
}

fn codify_rule(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    let want = r.expected;
    let direction = want["direction"].as_str().unwrap_or_default();
    let manual = |offset: usize| Codify::Manual {
        offset,
        reason: "the rule's protocol, ports or peers are not literals in this block".into(),
        want: format!("no {direction} rule {}", rule_text(want)),
    };
    match r.resource_type {
        "aws_security_group" | "aws_default_security_group" => {
            let mut candidates = Vec::new();
            for block in r
                .block
                .body
                .blocks()
                .filter(|b| b.ident.as_str() == direction)
            {
                match same_rule(&block.body, want).and_then(|same| {
                    same.then(|| find_peer(&block.body, want))
                        .transpose()
                        .map(Option::flatten)
                }) {
                    Err(at) => return manual(at),
                    Ok(Some(found)) => candidates.push((block, found)),
                    Ok(None) => {}
                }
            }
            let [(block, (spans, i, total))] = candidates.as_slice() else {
                return match candidates.len() {
                    // Not in the code, and no dynamic block could hold it: the code already
                    // says what is wanted (written by an earlier fix).
                    0 if !has_dynamic(&r.block.body, direction) => Codify::Edits {
                        edits: Vec::new(),
                        summary: format!("no {direction} rule {}", rule_text(want)),
                    },
                    0 => Codify::Manual {
                        offset: r.block.span().map_or(0, |s| s.start),
                        reason: format!(
                            "no {direction} block of this resource declares the rule (dynamic \
                             blocks are not edited)"
                        ),
                        want: format!("no {direction} rule {}", rule_text(want)),
                    },
                    _ => manual(r.block.span().map_or(0, |s| s.start)),
                };
            };
            let Some(span) = block.span() else {
                return manual(0);
            };
            if *total == 1 {
                Codify::Edits {
                    edits: vec![crate::families::remove_lines(r.text, span)],
                    summary: format!("remove the {direction} block {}", rule_text(want)),
                }
            } else {
                Codify::Edits {
                    edits: vec![TextEdit {
                        range: remove_element(r.text, spans, *i),
                        with: String::new(),
                    }],
                    summary: format!("remove {} from the {direction} block", peer_text(want)),
                }
            }
        }
        "aws_security_group_rule" => match find_peer(&r.block.body, want) {
            Err(at) => manual(at),
            Ok(Some((_, _, 1))) => Codify::RemoveResource {
                summary: format!("the {direction} rule {} is gone", rule_text(want)),
            },
            Ok(Some((spans, i, _))) => Codify::Edits {
                edits: vec![TextEdit {
                    range: remove_element(r.text, &spans, i),
                    with: String::new(),
                }],
                summary: format!("remove {} from the rule", peer_text(want)),
            },
            Ok(None) => manual(r.block.span().map_or(0, |s| s.start)),
        },
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => {
            Codify::RemoveResource {
                summary: format!("the {direction} rule {} is gone", rule_text(want)),
            }
        }
        _ => Codify::Unsupported,
    }
}

fn peer_text(want: &Value) -> String {
    PEER_LISTS
        .iter()
        .find_map(|(field, _)| want[*field].as_str())
        .unwrap_or("the peer")
        .to_string()
}

fn rule_text(want: &Value) -> String {
    let ports = match (want["from_port"].as_i64(), want["to_port"].as_i64()) {
        (Some(a), Some(b)) if a == b => format!(" port {a}"),
        (Some(a), Some(b)) => format!(" ports {a}-{b}"),
        _ => String::new(),
    };
    format!(
        "{}{ports} {}",
        want["ip_protocol"].as_str().unwrap_or("?"),
        peer_text(want)
    )
}

/// The declared peer of `want` replaced by the peer of `with` (same direction, protocol and
/// ports): SSH narrowed from the internet to an admin range. A peer already in the list is not
/// written twice: the old one just goes.
fn codify_narrow(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    let (want, with) = (r.expected, r.actual);
    let (Some(old), Some(new)) = (want["cidr_ipv4"].as_str(), with["cidr_ipv4"].as_str()) else {
        return Codify::Unsupported;
    };
    let same_rule_fields = ["direction", "ip_protocol", "from_port", "to_port"]
        .iter()
        .all(|k| want[k] == with[k]);
    if !same_rule_fields {
        return Codify::Unsupported;
    }
    let summary = format!(
        "narrow {old} to {new} in the {} rule {}",
        want["direction"].as_str().unwrap_or("?"),
        rule_text(want)
    );
    let start = r.block.span().map_or(0, |s| s.start);
    let manual = |offset: usize| Codify::Manual {
        offset,
        reason: "the rule's protocol, ports or peers are not literals in this block".into(),
        want: summary.clone(),
    };
    let replace =
        |body: &hcl_edit::structure::Body| -> std::result::Result<Option<TextEdit>, usize> {
            let elements = literal_list(body, "cidr_blocks")?;
            let Some(i) = elements
                .iter()
                .position(|(v, _)| cidr(v).ok().as_deref() == Some(old))
            else {
                return Ok(None);
            };
            let spans: Vec<std::ops::Range<usize>> =
                elements.iter().map(|(_, s)| s.clone()).collect();
            let present = elements
                .iter()
                .any(|(v, _)| cidr(v).ok().as_deref() == Some(new));
            Ok(Some(if present {
                TextEdit {
                    range: remove_element(r.text, &spans, i),
                    with: String::new(),
                }
            } else {
                TextEdit {
                    range: spans[i].clone(),
                    with: format!("\"{new}\""),
                }
            }))
        };
    match r.resource_type {
        "aws_security_group" | "aws_default_security_group" => {
            let direction = want["direction"].as_str().unwrap_or_default();
            let mut edits = Vec::new();
            for block in r
                .block
                .body
                .blocks()
                .filter(|b| b.ident.as_str() == direction)
            {
                match same_rule(&block.body, want) {
                    Err(at) => return manual(at),
                    Ok(false) => {}
                    Ok(true) => match replace(&block.body) {
                        Err(at) => return manual(at),
                        Ok(Some(edit)) => edits.push(edit),
                        Ok(None) => {}
                    },
                }
            }
            match edits.len() {
                1 => Codify::Edits { edits, summary },
                // Already narrowed (an earlier fix), unless a dynamic block may hold it.
                0 if !has_dynamic(&r.block.body, direction) => Codify::Edits { edits, summary },
                _ => manual(start),
            }
        }
        "aws_security_group_rule" => match replace(&r.block.body) {
            Ok(Some(edit)) => Codify::Edits {
                edits: vec![edit],
                summary,
            },
            // Already narrowed: the new peer is there and the old one is not.
            Ok(None)
                if literal_list(&r.block.body, "cidr_blocks")
                    .is_ok_and(|l| l.iter().any(|(v, _)| cidr(v).ok().as_deref() == Some(new))) =>
            {
                Codify::Edits {
                    edits: Vec::new(),
                    summary,
                }
            }
            Ok(None) => manual(start),
            Err(at) => manual(at),
        },
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => {
            match crate::families::set_attribute(r, "cidr_ipv4", &format!("\"{new}\"")) {
                Codify::Edits { edits, .. } => Codify::Edits { edits, summary },
                other => other,
            }
        }
        _ => Codify::Unsupported,
    }
}

/// A rule added live, accepted into the code (`--accept-weakening`): its CIDR or prefix list
/// joins the literal list of an inline block with the same protocol and ports, or a new inline
/// block is written before the group's closing brace. A group whose rules of that direction are
/// separate resources (in the same file) is manual, as is a rule naming another group (the code
/// would name it by reference, not by id).
fn codify_added(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    let rule = r.actual;
    let direction = rule["direction"].as_str().unwrap_or_default();
    let start = r.block.span().map_or(0, |s| s.start);
    let want = format!("a {direction} rule {}", rule_text(rule));
    let manual = |offset: usize, reason: &str| Codify::Manual {
        offset,
        reason: reason.into(),
        want: want.clone(),
    };
    if !GROUP_TYPES.contains(&r.resource_type) {
        return Codify::Unsupported;
    }
    let Some((list, peer)) = PEER_LISTS
        .iter()
        .filter(|(field, _)| *field != "referenced_security_group_id")
        .find_map(|(field, list)| rule[*field].as_str().map(|p| (*list, p.to_string())))
    else {
        return manual(
            start,
            "the rule names another security group: write it by reference",
        );
    };
    // An inline block with the same protocol and ports takes the peer.
    for block in r
        .block
        .body
        .blocks()
        .filter(|b| b.ident.as_str() == direction)
    {
        if same_rule(&block.body, rule) != Ok(true) {
            continue;
        }
        let Ok(elements) = literal_list(&block.body, list) else {
            continue;
        };
        if elements
            .iter()
            .any(|(v, _)| cidr(v).ok().as_deref() == Some(&peer) || *v == peer)
        {
            return Codify::Edits {
                edits: Vec::new(),
                summary: want,
            };
        }
        let edit = match elements.last() {
            Some((_, last)) => TextEdit {
                range: last.end..last.end,
                with: format!(", \"{peer}\""),
            },
            None => match crate::families::attribute_edit(
                &block.body,
                block.span().map_or(start, |s| s.start),
                r.text,
                list,
                &format!("[\"{peer}\"]"),
            ) {
                Ok(edit) => edit,
                Err(_) => continue,
            },
        };
        return Codify::Edits {
            edits: vec![edit],
            summary: format!("add {peer} to the {direction} block {}", rule_text(rule)),
        };
    }
    let name = r
        .block
        .labels
        .get(1)
        .map(|l| l.as_str())
        .unwrap_or_default();
    let separate = [
        "resource \"aws_security_group_rule\"",
        &format!("resource \"aws_vpc_security_group_{direction}_rule\""),
    ];
    let inline = r.block.body.blocks().any(|b| b.ident.as_str() == direction);
    if !inline
        && separate.iter().any(|t| r.text.contains(*t))
        && r.text.contains(&format!("aws_security_group.{name}.id"))
    {
        return manual(
            start,
            &format!("the group's {direction} rules are separate resources: add one like them"),
        );
    }
    let (protocol, from, to) = match rule["ip_protocol"].as_str() {
        Some("all") => ("-1".to_string(), 0, 0),
        Some(p) => (
            p.to_string(),
            rule["from_port"].as_i64().unwrap_or(0),
            rule["to_port"].as_i64().unwrap_or(0),
        ),
        None => return manual(start, "the rule has no protocol"),
    };
    let lines = [
        format!("{direction} {{"),
        format!("  from_port   = {from}"),
        format!("  to_port     = {to}"),
        format!("  protocol    = \"{protocol}\""),
        format!("  {list} = [\"{peer}\"]"),
        "}".to_string(),
    ];
    match crate::families::append_block(r.text, r.block, &lines) {
        Ok(edit) => Codify::Edits {
            edits: vec![edit],
            summary: format!("add the {direction} block {}", rule_text(rule)),
        },
        Err(why) => manual(start, why),
    }
}

/// Whether the block has `dynamic "{direction}"` blocks, whose rules are not edited.
fn has_dynamic(body: &hcl_edit::structure::Body, direction: &str) -> bool {
    body.blocks().any(|b| {
        b.ident.as_str() == "dynamic" && b.labels.first().is_some_and(|l| l.as_str() == direction)
    })
}

/// The ports `--harden` closes to the internet: SSH and RDP, as single-port TCP rules (a wider
/// range or all traffic opens more than administration, and is left to the gate's policies).
const ADMIN_PORTS: [i32; 2] = [22, 3389];

impl Family for SecurityGroups {
    /// A rule revoked live (a console fix) leaves the code: its peer from the block's list, or
    /// the block or rule resource with its last peer. A rule narrowed to another CIDR (with
    /// `--harden --admin-cidr`) has its peer replaced.
    fn codify(&self, r: &CodifyRequest) -> Codify {
        // Declared, absent live: `changed` to absent for an inline block, `missing` for a rule
        // resource.
        let gone = r.actual.is_null() && r.kind != crate::model::DriftKind::Unmanaged;
        match r.attribute {
            Some("ingress" | "egress") if gone => codify_rule(r),
            Some("ingress" | "egress") if r.kind == crate::model::DriftKind::Changed => {
                codify_narrow(r)
            }
            Some("ingress" | "egress")
                if r.kind == crate::model::DriftKind::Unmanaged && !r.actual.is_null() =>
            {
                codify_added(r)
            }
            _ => Codify::Unsupported,
        }
    }

    /// SSH or RDP from `0.0.0.0/0` or `::/0`: removed, or (IPv4, with `admin`) narrowed.
    fn harden(
        &self,
        _object: &ExpectedObject,
        item: &ExpectedItem,
        admin: Option<&str>,
    ) -> Option<crate::families::Hardened> {
        let i = &item.item;
        let admin_port = matches!(i.facts.ports.as_slice(), [Ports::Range(a, b)] if a == b && ADMIN_PORTS.contains(a));
        let open = i.facts.open_to_internet();
        if item.attribute != "ingress"
            || !i.facts.grants
            || !admin_port
            || !open
            || i.value["ip_protocol"] != "tcp"
        {
            return None;
        }
        let narrowed = admin
            .filter(|_| i.value["cidr_ipv4"] == "0.0.0.0/0")
            .and_then(|a| cidr(a).ok())
            .filter(|a| !a.contains(':'));
        Some(match narrowed {
            Some(a) => {
                let mut new = i.clone();
                new.value["cidr_ipv4"] = json!(a);
                new.key = new.key.replace("cidr:0.0.0.0/0", &format!("cidr:{a}"));
                new.summary = new.summary.replace("0.0.0.0/0", &a);
                new.facts.cidrs = vec![a];
                crate::families::Hardened::Replace {
                    item: Box::new(new),
                    replaces: false,
                }
            }
            None => crate::families::Hardened::Remove,
        })
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::id("AWS::EC2::SecurityGroup", cloud_id)
    }

    fn live_from_config(&self, _ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for item in items {
            if let Some(obj) = live_object(&group_from_config(item)?)? {
                out.seen(obj, item);
            }
        }
        Ok(out)
    }

    fn about(&self) -> &'static About {
        &SECURITY_GROUPS
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut groups: BTreeMap<String, ExpectedObject> = BTreeMap::new();
        let new_object = |id: &str| ExpectedObject {
            family: SECURITY_GROUPS.name,
            cloud_id: id.to_string(),
            region: None,
            account: None,
            owner: None,
            items: Vec::new(),
            tags: BTreeMap::new(),
            is_default: false,
            ignore: Vec::new(),
            tolerated: Vec::new(),
        };
        // Groups first, so that rule resources can take their region from the group.
        for r in resources
            .iter()
            .filter(|r| GROUP_TYPES.contains(&r.resource_type.as_str()))
        {
            let id = required(r, "id")?;
            let obj = groups.entry(id.clone()).or_insert_with(|| new_object(&id));
            if let Some(prev) = &obj.owner {
                return Err(bad(
                    r,
                    &format!(
                        "manages security group {id}, which {} manages too",
                        prev.address
                    ),
                ));
            }
            let (region, account) = region_account(r);
            obj.region = region;
            obj.account = account;
            obj.owner = Some(Declarer::of(r, true));
            obj.tags = tags_of(r);
            obj.is_default = r.resource_type == "aws_default_security_group"
                || r.attr_str("name") == Some("default");
            for direction in ["ingress", "egress"] {
                for rule in inline_rules(r, &id, direction)? {
                    obj.items.push(ExpectedItem {
                        attribute: direction,
                        item: rule.item(),
                        by: Declarer::of(r, true),
                    });
                }
            }
        }
        for r in resources
            .iter()
            .filter(|r| !GROUP_TYPES.contains(&r.resource_type.as_str()))
        {
            let (group, rules) = match r.resource_type.as_str() {
                "aws_security_group_rule" => legacy_rule(r)?,
                "aws_vpc_security_group_ingress_rule" => vpc_rule(r, "ingress")?,
                "aws_vpc_security_group_egress_rule" => vpc_rule(r, "egress")?,
                other => return Err(bad(r, &format!("unexpected type {other}"))),
            };
            let obj = groups
                .entry(group.clone())
                .or_insert_with(|| new_object(&group));
            let (region, account) = region_account(r);
            if obj.region.is_none() {
                obj.region = region;
            }
            if obj.account.is_none() {
                obj.account = account;
            }
            for rule in rules {
                obj.items.push(ExpectedItem {
                    attribute: rule.direction,
                    item: rule.item(),
                    by: Declarer::of(r, false),
                });
            }
        }
        Ok(groups
            .into_values()
            .map(super::drop_computed_inline)
            .collect())
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let aws = clouds.aws()?;
            let client = aws.ec2(region);
            let groups = read_by_ids(
                &format!("AWS ec2 DescribeSecurityGroups in {region}"),
                ids,
                SecurityGroup::group_id,
                |batch| describe_groups(aws, &client, region, batch),
            )
            .await?;
            let mut out = Vec::new();
            for sg in &groups {
                if let Some(obj) = live_object(sg)? {
                    if ids.contains(&obj.cloud_id) {
                        out.push(obj);
                    }
                }
            }
            Ok(out)
        })
    }

    fn exposure<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async move { groups_reach(clouds.aws()?, region, objects).await })
    }
}

/// How drifted groups are reached: through the network interfaces that use them (a public
/// address in a subnet routed to an internet gateway) and the internet-facing load balancers they
/// guard, then by what their live inbound rules admit. No interface and no load balancer: unused.
async fn groups_reach(
    aws: &AwsContext,
    region: &str,
    objects: &[Subject<'_>],
) -> Result<BTreeMap<String, Reach>> {
    let ec2 = aws.ec2(region);
    let ids: Vec<String> = objects.iter().map(|o| o.live.cloud_id.clone()).collect();
    let interfaces = reach::interfaces_of_groups(aws, &ec2, region, &ids).await?;
    // Only addresses that could be public need a route.
    let subnets: BTreeMap<String, String> = interfaces
        .iter()
        .filter(|i| i.public_ip.is_some() || !i.ipv6.is_empty())
        .map(|i| (i.subnet.clone(), i.vpc.clone()))
        .collect();
    let routes = if subnets.is_empty() {
        BTreeMap::new()
    } else {
        reach::subnet_routes(aws, &ec2, region, &subnets).await?
    };
    let mut paths: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut users: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for i in &interfaces {
        let path = reach::public_path(i, &routes);
        for g in &i.groups {
            users.entry(g.as_str()).or_default().push(i.id.as_str());
            if let Some(p) = &path {
                paths
                    .entry(g.as_str())
                    .or_default()
                    .push(format!("{g} is attached to {p}"));
            }
        }
    }
    // Load balancers only for groups no interface already shows reachable: real internet-facing
    // load balancers have public interfaces of their own, but not every estate shows them.
    let unseen: std::collections::BTreeSet<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|g| !paths.contains_key(g))
        .collect();
    let balancers = if unseen.is_empty() {
        Vec::new()
    } else {
        reach::internet_facing_load_balancers(aws, region, &unseen).await?
    };
    for (g, lb) in &balancers {
        if let Some(g) = ids.iter().find(|x| *x == g) {
            paths
                .entry(g.as_str())
                .or_default()
                .push(format!("{g} guards the {lb}"));
        }
    }
    let mut out = BTreeMap::new();
    for o in objects {
        let id = o.live.cloud_id.as_str();
        let used = users.get(id).map_or(0, Vec::len);
        let reach = match paths.get(id) {
            None if used == 0 => Reach::new(
                Exposure::Unused,
                format!("no network interface or load balancer uses {id}"),
            ),
            found => {
                let mut shown: Vec<&str> = users.get(id).cloned().unwrap_or_default();
                let more = shown.len().saturating_sub(3);
                shown.truncate(3);
                let tail = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                crate::families::reach_by_paths(
                    found.map(Vec::as_slice).unwrap_or_default(),
                    crate::families::inbound_admits(&o.live.items),
                    format!(
                        "{id} is used by {used} network interface(s) ({}{tail}), none with a \
                         public address in a subnet routed to an internet gateway",
                        shown.join(", ")
                    ),
                )
            }
        };
        out.insert(id.to_string(), reach);
    }
    Ok(out)
}

/// One `DescribeSecurityGroups` by ids; `None` when one of them does not exist. (A `group-id`
/// filter would tolerate missing ids, but filters are evaluated against every group of the
/// region: moto needs ~20 s for 200 ids among 2,500 groups, lookups by id a fraction of a second.)
pub(super) async fn describe_groups(
    aws: &AwsContext,
    client: &aws_sdk_ec2::Client,
    region: &str,
    ids: Vec<String>,
) -> Result<Option<Vec<SecurityGroup>>> {
    let mut pages = client
        .describe_security_groups()
        .set_group_ids(Some(ids))
        .into_paginator()
        .send();
    let mut groups = Vec::new();
    while let Some(page) = pages.next().await {
        aws.count("ec2", "DescribeSecurityGroups");
        match page {
            Ok(page) => groups.extend(page.security_groups().iter().cloned()),
            Err(e) if is_not_found(e.code()) => return Ok(None),
            Err(e) => return Err(aws.error("ec2", "DescribeSecurityGroups", region, e)),
        }
    }
    Ok(Some(groups))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{IpRange, Ipv6Range, UserIdGroupPair};
    use serde_json::json;

    fn res(t: &str, attrs: Value) -> Resource {
        Resource::for_test(&format!("{t}.x"), t, attrs)
    }

    fn keys(items: &[ExpectedItem]) -> Vec<String> {
        let mut k: Vec<String> = items.iter().map(|i| i.item.key.clone()).collect();
        k.sort();
        k.dedup();
        k
    }

    #[test]
    fn inline_blocks_explode_into_atomic_rules() {
        let sg = res(
            "aws_security_group",
            json!({"id": "sg-1", "arn": "arn:aws:ec2:eu-west-3:047081014315:security-group/sg-1",
                "ingress": [{"cidr_blocks": ["10.0.0.1/8", "0.0.0.0/0"], "ipv6_cidr_blocks": ["::/0"],
                    "from_port": 443, "to_port": 443, "protocol": "6", "prefix_list_ids": [],
                    "security_groups": ["123456789012/sg-9"], "self": true, "description": "x"}],
                "egress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 0, "to_port": 0, "protocol": "-1",
                    "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false}]}),
        );
        let objs = SecurityGroups.expected(&[&sg]).unwrap();
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].region.as_deref(), Some("eu-west-3"));
        assert_eq!(objs[0].account.as_deref(), Some("047081014315"));
        assert_eq!(
            keys(&objs[0].items),
            [
                "egress|all|all|cidr:0.0.0.0/0",
                "ingress|tcp|443-443|cidr:0.0.0.0/0",
                "ingress|tcp|443-443|cidr:10.0.0.0/8",
                "ingress|tcp|443-443|cidr:::/0",
                "ingress|tcp|443-443|sg:sg-1",
                "ingress|tcp|443-443|sg:sg-9",
            ]
        );
    }

    #[test]
    fn the_three_rule_shapes_agree() {
        let legacy = res(
            "aws_security_group_rule",
            json!({"type": "ingress", "security_group_id": "sg-1", "protocol": "tcp",
                "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"], "self": false,
                "source_security_group_id": null, "ipv6_cidr_blocks": null, "prefix_list_ids": null}),
        );
        let vpc = res(
            "aws_vpc_security_group_ingress_rule",
            json!({"security_group_id": "sg-1", "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
                "cidr_ipv4": "0.0.0.0/0", "cidr_ipv6": null, "prefix_list_id": null,
                "referenced_security_group_id": null,
                "arn": "arn:aws:ec2:us-east-1:123456789012:security-group-rule/sgr-1"}),
        );
        let a = SecurityGroups.expected(&[&legacy]).unwrap();
        let b = SecurityGroups.expected(&[&vpc]).unwrap();
        assert_eq!(keys(&a[0].items), keys(&b[0].items));
        assert!(
            a[0].owner.is_none(),
            "rule resources alone do not own the group"
        );
        assert_eq!(b[0].region.as_deref(), Some("us-east-1"));

        let live = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .ip_ranges(
                IpRange::builder()
                    .cidr_ip("0.0.0.0/0")
                    .description("ssh")
                    .build(),
            )
            .build();
        let rules = live_rules("sg-1", &[live], "ingress").unwrap();
        assert_eq!(rules[0].item().key, a[0].items[0].item.key);
    }

    #[test]
    fn self_and_source_group_together_are_one_rule() {
        // The provider records `source_security_group_id` = the group itself when `self = true`.
        let r = res(
            "aws_security_group_rule",
            json!({"type": "ingress", "security_group_id": "sg-0254", "protocol": "icmp",
                "from_port": 0, "to_port": 0, "self": true, "source_security_group_id": "sg-0254"}),
        );
        let objs = SecurityGroups.expected(&[&r]).unwrap();
        assert_eq!(keys(&objs[0].items), ["ingress|icmp|icmp:0:0|sg:sg-0254"]);
    }

    #[test]
    fn live_permissions_group_peers_but_mean_the_same() {
        let perm = IpPermission::builder()
            .ip_protocol("-1")
            .from_port(-1)
            .to_port(-1)
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build())
            .user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id("sg-2")
                    .user_id("1")
                    .build(),
            )
            .build();
        let mut k: Vec<String> = live_rules("sg-1", &[perm], "egress")
            .unwrap()
            .iter()
            .map(|r| r.item().key)
            .collect();
        k.sort();
        assert_eq!(
            k,
            [
                "egress|all|all|cidr:0.0.0.0/0",
                "egress|all|all|cidr:::/0",
                "egress|all|all|sg:sg-2"
            ]
        );
    }

    #[test]
    fn bad_state_values_name_the_resource() {
        let r = res(
            "aws_security_group_rule",
            json!({"type": "ingress", "security_group_id": "sg-1", "protocol": "tcp",
                "from_port": 22, "to_port": 22, "cidr_blocks": ["not-a-cidr"]}),
        );
        let e = SecurityGroups.expected(&[&r]).unwrap_err().to_string();
        assert!(
            e.contains("aws_security_group_rule.x") && e.contains("not a CIDR"),
            "{e}"
        );
        let r = res(
            "aws_security_group_rule",
            json!({"type": "sideways", "security_group_id": "sg-1"}),
        );
        assert!(SecurityGroups.expected(&[&r]).is_err());
    }
}
