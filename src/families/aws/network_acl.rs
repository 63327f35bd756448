//! Network ACLs: `aws_network_acl` and `aws_default_network_acl` (inline `ingress` and `egress`
//! blocks) and `aws_network_acl_rule`, merged per ACL like security group rules.
//!
//! Entries are identified by direction and rule number: an ACL is evaluated in rule-number order,
//! so the number is part of the meaning, and the same number with other content is a *changed*
//! entry. The implicit final deny entries (rule number 32767, and 32768 for IPv6) are not
//! configurable and are left out.

use std::collections::BTreeMap;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{NetworkAcl, NetworkAclEntry};
use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::config_items::Fields;
use super::{
    as_int, icmp, int_attr, is_not_found, ports, ports_json, ports_text, protocol, reach,
    read_by_ids, region_account,
};
use crate::clients::aws::AwsContext;
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{
    attribute_edit, bad, literal, tags_of, About, Codify, CodifyRequest, ConfigRef, Family,
    FromConfig, Subject,
};
use crate::model::{
    cidr, cidr_contains, Cloud, ConfigItem, Declarer, Effect, ExpectedItem, ExpectedObject,
    Exposure, Facts, Item, LiveObject, Ports, Reach,
};
use crate::state::Resource;

pub const NETWORK_ACLS: About = About {
    name: "network_acl",
    cloud: Cloud::Aws,
    label: "network ACL(s)",
    resource_types: &[
        "aws_network_acl",
        "aws_default_network_acl",
        "aws_network_acl_rule",
    ],
    batch_size: 200,
};

pub struct NetworkAcls;

const ACL_TYPES: [&str; 2] = ["aws_network_acl", "aws_default_network_acl"];
const FIRST_IMPLICIT_RULE: i64 = 32767;

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    direction: &'static str,
    rule_no: i64,
    allow: bool,
    protocol: String,
    ports: Ports,
    icmp: Option<(i64, i64)>,
    cidr: String,
}

/// The raw fields of an entry, whichever shape they came from.
struct Raw<'a> {
    direction: &'static str,
    rule_no: Option<i64>,
    action: Option<&'a str>,
    protocol: Option<&'a str>,
    from: Option<i64>,
    to: Option<i64>,
    icmp_type: Option<i64>,
    icmp_code: Option<i64>,
    cidr4: Option<&'a str>,
    cidr6: Option<&'a str>,
}

impl Raw<'_> {
    fn entry(&self) -> std::result::Result<Entry, String> {
        let rule_no = self.rule_no.ok_or("an entry has no rule number")?;
        let allow = match self.action.map(str::to_ascii_lowercase).as_deref() {
            Some("allow") => true,
            Some("deny") => false,
            other => {
                return Err(format!(
                    "rule {rule_no}: action {other:?} is neither allow nor deny"
                ))
            }
        };
        let protocol = protocol(self.protocol.unwrap_or("-1"))?;
        let cidr = match (
            self.cidr4.filter(|c| !c.is_empty()),
            self.cidr6.filter(|c| !c.is_empty()),
        ) {
            (Some(c), None) | (None, Some(c)) => cidr(c)?,
            (Some(_), Some(_)) => {
                return Err(format!("rule {rule_no} has both an IPv4 and an IPv6 CIDR"))
            }
            (None, None) => return Err(format!("rule {rule_no} has no CIDR block")),
        };
        Ok(Entry {
            direction: self.direction,
            rule_no,
            allow,
            ports: ports(&protocol, self.from, self.to),
            icmp: icmp(&protocol, self.icmp_type, self.icmp_code),
            protocol,
            cidr,
        })
    }
}

impl Entry {
    fn item(&self) -> Item {
        let action = if self.allow { "allow" } else { "deny" };
        let port_key = match (self.ports, self.icmp) {
            (_, Some((t, c))) => format!("icmp:{t}:{c}"),
            (Ports::Range(a, b), None) => format!("{a}-{b}"),
            (Ports::All, None) => "all".into(),
            (Ports::None, None) => "-".into(),
        };
        let (from, to) = ports_json(self.ports);
        let (icmp_type, icmp_code) = match self.icmp {
            Some((t, c)) => (json!(t), json!(c)),
            None => (Value::Null, Value::Null),
        };
        let cidr_field = if self.cidr.contains(':') {
            "ipv6_cidr_block"
        } else {
            "cidr_block"
        };
        let what = match (self.protocol.as_str(), self.icmp) {
            ("all", _) => "all traffic".to_string(),
            (p, Some((t, c))) => format!("{p} type {t} code {c}"),
            (p, None) if self.ports == Ports::None => format!("protocol {p}"),
            (p, None) => format!("{p} {}", ports_text(self.ports)),
        };
        let prep = if self.direction == "ingress" {
            "from"
        } else {
            "to"
        };
        Item {
            identity: Some(format!("{}#{}", self.direction, self.rule_no)),
            key: format!(
                "{}|{}|{}|{}|{}|{}",
                self.direction, self.rule_no, action, self.protocol, port_key, self.cidr
            ),
            value: json!({
                "direction": self.direction,
                "rule_no": self.rule_no,
                "action": action,
                "protocol": self.protocol,
                "from_port": from,
                "to_port": to,
                "icmp_type": icmp_type,
                "icmp_code": icmp_code,
                cidr_field: self.cidr,
            }),
            summary: format!("#{} {action} {what} {prep} {}", self.rule_no, self.cidr),
            facts: Facts {
                grants: self.allow,
                direction: Some(self.direction),
                ports: vec![self.ports],
                cidrs: vec![self.cidr.clone()],
                labels: Vec::new(),
            },
        }
    }
}

fn inline_entries(r: &Resource, direction: &'static str) -> Result<Vec<Entry>> {
    let blocks = match r.attr(direction) {
        None => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad(r, &format!("`{direction}` is not a list"))),
    };
    blocks
        .iter()
        .map(|b| {
            let int = |k: &str| b.get(k).and_then(as_int);
            let text = |k: &str| b.get(k).and_then(Value::as_str);
            Raw {
                direction,
                rule_no: int("rule_no"),
                action: text("action"),
                protocol: text("protocol"),
                from: int("from_port"),
                to: int("to_port"),
                icmp_type: int("icmp_type"),
                icmp_code: int("icmp_code"),
                cidr4: text("cidr_block"),
                cidr6: text("ipv6_cidr_block"),
            }
            .entry()
            .map_err(|e| bad(r, &e))
        })
        .collect()
}

fn rule_resource(r: &Resource) -> Result<(String, Entry)> {
    let acl = r
        .attr_str("network_acl_id")
        .ok_or_else(|| bad(r, "has no `network_acl_id`"))?;
    let direction = match r.attr("egress").and_then(Value::as_bool) {
        Some(true) => "egress",
        _ => "ingress",
    };
    let entry = Raw {
        direction,
        rule_no: int_attr(r, "rule_number"),
        action: r.attr_str("rule_action"),
        protocol: r.attr_str("protocol"),
        from: int_attr(r, "from_port"),
        to: int_attr(r, "to_port"),
        icmp_type: int_attr(r, "icmp_type"),
        icmp_code: int_attr(r, "icmp_code"),
        cidr4: r.attr_str("cidr_block"),
        cidr6: r.attr_str("ipv6_cidr_block"),
    }
    .entry()
    .map_err(|e| bad(r, &e))?;
    Ok((acl.to_string(), entry))
}

fn live_entry(acl_id: &str, e: &NetworkAclEntry) -> Result<Option<Entry>> {
    if e.rule_number().map(i64::from).unwrap_or(0) >= FIRST_IMPLICIT_RULE {
        return Ok(None);
    }
    let raw = Raw {
        direction: if e.egress() == Some(true) {
            "egress"
        } else {
            "ingress"
        },
        rule_no: e.rule_number().map(i64::from),
        action: e.rule_action().map(|a| a.as_str()),
        protocol: e.protocol(),
        from: e.port_range().and_then(|p| p.from()).map(i64::from),
        to: e.port_range().and_then(|p| p.to()).map(i64::from),
        icmp_type: e.icmp_type_code().and_then(|i| i.r#type()).map(i64::from),
        icmp_code: e.icmp_type_code().and_then(|i| i.code()).map(i64::from),
        cidr4: e.cidr_block(),
        cidr6: e.ipv6_cidr_block(),
    };
    raw.entry().map(Some).map_err(|m| {
        Error::new(
            format!("AWS network ACL {acl_id}"),
            format!("unexpected entry from the EC2 API: {m}"),
        )
    })
}

/// One `DescribeNetworkAcls` by ids; `None` when one of them does not exist. (moto does not
/// implement the `network-acl-id` filter that would tolerate missing ids.)
async fn describe(
    aws: &AwsContext,
    client: &aws_sdk_ec2::Client,
    region: &str,
    ids: Vec<String>,
) -> Result<Option<Vec<NetworkAcl>>> {
    let mut pages = client
        .describe_network_acls()
        .set_network_acl_ids(Some(ids))
        .into_paginator()
        .send();
    let mut acls = Vec::new();
    while let Some(page) = pages.next().await {
        aws.count("ec2", "DescribeNetworkAcls");
        match page {
            Ok(page) => acls.extend(page.network_acls().iter().cloned()),
            Err(e) if is_not_found(e.code()) => return Ok(None),
            Err(e) => return Err(aws.error("ec2", "DescribeNetworkAcls", region, e)),
        }
    }
    Ok(Some(acls))
}

/// How drifted ACLs are reached: through the subnets associated with them that route to an
/// internet gateway, then by the inbound entries that apply (an allow behind a lower-numbered
/// deny of all traffic from everywhere never applies). No subnet: unused.
async fn acls_reach(
    aws: &AwsContext,
    region: &str,
    objects: &[Subject<'_>],
) -> Result<BTreeMap<String, Reach>> {
    let client = aws.ec2(region);
    let ids: Vec<String> = objects.iter().map(|o| o.live.cloud_id.clone()).collect();
    let acls = read_by_ids(
        &format!("AWS ec2 DescribeNetworkAcls in {region}"),
        &ids,
        NetworkAcl::network_acl_id,
        |batch| describe(aws, &client, region, batch),
    )
    .await?;
    // acl → its subnets, and subnet → VPC for the routes.
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut subnets: BTreeMap<String, String> = BTreeMap::new();
    for acl in &acls {
        let id = acl.network_acl_id().unwrap_or_default().to_string();
        for a in acl.associations() {
            if let Some(s) = a.subnet_id() {
                members.entry(id.clone()).or_default().push(s.to_string());
                subnets.insert(s.to_string(), acl.vpc_id().unwrap_or_default().to_string());
            }
        }
    }
    let routes = if subnets.is_empty() {
        BTreeMap::new()
    } else {
        reach::subnet_routes(aws, &client, region, &subnets).await?
    };
    let mut out = BTreeMap::new();
    for o in objects {
        let id = o.live.cloud_id.as_str();
        let mine = members.get(id).cloned().unwrap_or_default();
        if mine.is_empty() {
            out.insert(
                id.to_string(),
                Reach::new(
                    Exposure::Unused,
                    format!("no subnet is associated with {id}"),
                ),
            );
            continue;
        }
        let paths: Vec<String> = mine
            .iter()
            .filter_map(|s| {
                let r = routes.get(s)?;
                let (dest, igw) = match (&r.igw_v4, &r.igw_v6) {
                    (Some(g), _) => ("0.0.0.0/0", g),
                    (None, Some(g)) => ("::/0", g),
                    _ => return None,
                };
                Some(format!(
                    "{id} guards subnet {s}, which routes {dest} to {igw}"
                ))
            })
            .collect();
        let applying = applying_inbound(&o.live.items);
        out.insert(
            id.to_string(),
            crate::families::reach_by_paths(
                &paths,
                crate::families::inbound_admits(&applying),
                format!(
                    "{id} guards {} subnet(s) ({}), none routed to an internet gateway",
                    mine.len(),
                    mine.join(", ")
                ),
            ),
        );
    }
    Ok(out)
}

/// The inbound allow entries that can apply: those numbered before any deny of all traffic from
/// the whole internet of their address family.
fn applying_inbound(items: &[(&'static str, Item)]) -> Vec<(&'static str, Item)> {
    let mut inbound: Vec<&(&'static str, Item)> =
        items.iter().filter(|(a, _)| *a == "ingress").collect();
    let number = |i: &Item| i.value.get("rule_no").and_then(Value::as_i64).unwrap_or(0);
    inbound.sort_by_key(|(_, i)| number(i));
    let mut out = Vec::new();
    let mut closed: Vec<&str> = Vec::new();
    for (a, i) in inbound {
        let world = i
            .facts
            .cidrs
            .iter()
            .find(|c| *c == "0.0.0.0/0" || *c == "::/0");
        if !i.facts.grants {
            if let Some(w) = world.filter(|_| i.facts.ports.contains(&Ports::All)) {
                closed.push(w);
            }
            continue;
        }
        let v6 = i.facts.cidrs.iter().any(|c| c.contains(':'));
        let family_closed = closed.iter().any(|c| c.contains(':') == v6);
        if !family_closed {
            out.push((*a, i.clone()));
        }
    }
    out
}

fn live_object(acl: &NetworkAcl) -> Result<Option<LiveObject>> {
    let Some(id) = acl.network_acl_id() else {
        return Ok(None);
    };
    let mut items = Vec::new();
    for e in acl.entries() {
        if let Some(entry) = live_entry(id, e)? {
            items.push((entry.direction, entry.item()));
        }
    }
    Ok(Some(LiveObject {
        cloud_id: id.to_string(),
        items,
        is_default: acl.is_default() == Some(true),
    }))
}

/// Parses the canonical parts back out of an item's structured value.
fn entry_of(item: &Item) -> (bool, &str, Ports, &str) {
    let v = &item.value;
    let cidr = v
        .get("cidr_block")
        .or_else(|| v.get("ipv6_cidr_block"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let protocol = v
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or_default();
    (
        item.facts.grants,
        protocol,
        item.facts.ports.first().copied().unwrap_or(Ports::None),
        cidr,
    )
}

/// Does entry `a` match every packet that entry `b` matches?
fn covers(a: &Item, b: &Item) -> bool {
    let (_, pa, porta, ca) = entry_of(a);
    let (_, pb, portb, cb) = entry_of(b);
    let proto = pa == "all" || pa == pb;
    let ports = match (porta, portb) {
        (Ports::All, _) => true,
        (Ports::Range(a1, a2), Ports::Range(b1, b2)) => a1 <= b1 && b2 <= a2,
        (x, y) => x == y && a.value.get("icmp_type") == b.value.get("icmp_type"),
    };
    proto && ports && cidr_contains(ca, cb)
}

/// An ACL as AWS Config records it (`AWS::EC2::NetworkAcl`: the EC2 answer in camelCase), in
/// the EC2 SDK's shape, so that both sources give one live view.
fn acl_from_config(item: &ConfigItem) -> Result<NetworkAcl> {
    use aws_sdk_ec2::types::{IcmpTypeCode, PortRange, RuleAction};
    let f = Fields::of(item, "network ACL");
    let c = f.root();
    let id = f
        .text(c, "networkAclId")
        .ok_or_else(|| f.bad("has no `networkAclId`"))?;
    let mut acl = NetworkAcl::builder()
        .network_acl_id(id)
        .set_vpc_id(f.text(c, "vpcId"))
        .set_is_default(f.flag(c, "isDefault")?);
    for e in f.list(c, "entries")? {
        let mut entry = NetworkAclEntry::builder()
            .set_rule_number(f.int(e, "ruleNumber")?)
            .set_protocol(f.text(e, "protocol"))
            .set_rule_action(
                f.text(e, "ruleAction")
                    .map(|a| RuleAction::from(a.as_str())),
            )
            .set_egress(f.flag(e, "egress")?)
            .set_cidr_block(f.text(e, "cidrBlock"))
            .set_ipv6_cidr_block(f.text(e, "ipv6CidrBlock"));
        if let Some(p) = e.get("portRange").filter(|p| !p.is_null()) {
            entry = entry.port_range(
                PortRange::builder()
                    .set_from(f.int(p, "from")?)
                    .set_to(f.int(p, "to")?)
                    .build(),
            );
        }
        if let Some(i) = e.get("icmpTypeCode").filter(|i| !i.is_null()) {
            entry = entry.icmp_type_code(
                IcmpTypeCode::builder()
                    .set_code(f.int(i, "code")?)
                    .set_type(f.int(i, "type")?)
                    .build(),
            );
        }
        acl = acl.entries(entry.build());
    }
    Ok(acl.build())
}

// ---- Codify: an entry removed or changed by hand, written into the code ----

/// The live entry's fields as HCL literals, by the inline block's key (`action`…), for the keys
/// where it differs from the declared one. `None`: it cannot be written as literals (a CIDR of
/// the other family).
fn changed_fields(expected: &Value, actual: &Value) -> Option<Vec<(&'static str, String)>> {
    if expected.get("cidr_block").is_some() != actual.get("cidr_block").is_some() {
        return None;
    }
    let mut out = Vec::new();
    for key in [
        "action",
        "protocol",
        "from_port",
        "to_port",
        "icmp_type",
        "icmp_code",
        "cidr_block",
        "ipv6_cidr_block",
    ] {
        let (e, a) = (&expected[key], &actual[key]);
        if e == a {
            continue;
        }
        let literal = match (key, a) {
            ("protocol", Value::String(p)) if p == "all" => "\"-1\"".to_string(),
            ("from_port" | "to_port", Value::Null) => "0".to_string(),
            (_, Value::String(t)) => format!("\"{t}\""),
            (_, Value::Number(n)) => n.to_string(),
            // An ICMP field the live entry does not have: left as the code says.
            (_, Value::Null) => continue,
            _ => return None,
        };
        out.push((key, literal));
    }
    Some(out)
}

fn codify_entry(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    let want = r.expected;
    let direction = want["direction"].as_str().unwrap_or_default();
    let rule_no = want["rule_no"].clone();
    let gone = r.actual.is_null();
    let describe = |v: &Value| {
        format!(
            "#{} {} {} {}",
            v["rule_no"],
            v["action"].as_str().unwrap_or("?"),
            v["protocol"].as_str().unwrap_or("?"),
            v["cidr_block"]
                .as_str()
                .or(v["ipv6_cidr_block"].as_str())
                .unwrap_or("?")
        )
    };
    let fields = if gone {
        Vec::new()
    } else {
        match changed_fields(want, r.actual) {
            Some(f) => f,
            None => {
                return Codify::Manual {
                    offset: r.block.span().map_or(0, |s| s.start),
                    reason: "the live entry cannot be written over this one".into(),
                    want: format!("{direction} entry {}", describe(r.actual)),
                }
            }
        }
    };
    match r.resource_type {
        "aws_network_acl" | "aws_default_network_acl" => {
            let mut found = None;
            for block in r
                .block
                .body
                .blocks()
                .filter(|b| b.ident.as_str() == direction)
            {
                match literal(&block.body, "rule_no") {
                    Ok(None) => {}
                    Ok(Some(n)) if n.is_number() => {
                        if n.as_i64() == rule_no.as_i64() {
                            found = Some(block);
                        }
                    }
                    Ok(Some(_)) | Err(_) => {
                        let at = block
                            .body
                            .get_attribute("rule_no")
                            .and_then(|a| a.value.span())
                            .map_or(0, |s| s.start);
                        return Codify::Manual {
                            offset: at,
                            reason: "an entry's `rule_no` is not a literal".into(),
                            want: format!("{direction} entry {}", describe(r.actual)),
                        };
                    }
                }
            }
            let Some(block) = found else {
                return Codify::Manual {
                    offset: r.block.span().map_or(0, |s| s.start),
                    reason: format!(
                        "no {direction} block of this resource has rule_no {rule_no} (dynamic \
                         blocks are not edited)"
                    ),
                    want: format!("{direction} entry {}", describe(r.actual)),
                };
            };
            let Some(span) = block.span() else {
                return Codify::Unsupported;
            };
            if gone {
                return Codify::Edits {
                    edits: vec![crate::families::remove_lines(r.text, span)],
                    summary: format!("remove the {direction} entry {}", describe(want)),
                };
            }
            edits_of(
                &block.body,
                span.start,
                r.text,
                &fields,
                direction,
                r.actual,
                |k| k,
            )
        }
        "aws_network_acl_rule" if gone => Codify::RemoveResource {
            summary: format!("the {direction} entry {} is gone", describe(want)),
        },
        "aws_network_acl_rule" => {
            let start = r.block.span().map_or(0, |s| s.start);
            edits_of(
                &r.block.body,
                start,
                r.text,
                &fields,
                direction,
                r.actual,
                |k| match k {
                    "action" => "rule_action",
                    other => other,
                },
            )
        }
        _ => Codify::Unsupported,
    }
}

/// The edits that write `fields` into a block, with `name` mapping a field to the block's key.
fn edits_of(
    body: &hcl_edit::structure::Body,
    start: usize,
    text: &str,
    fields: &[(&'static str, String)],
    direction: &str,
    actual: &Value,
    name: impl Fn(&'static str) -> &'static str,
) -> Codify {
    let mut edits = Vec::new();
    for (field, literal) in fields {
        match attribute_edit(body, start, text, name(field), literal) {
            Ok(e) => edits.push(e),
            Err(offset) => {
                return Codify::Manual {
                    offset,
                    reason: format!("`{}` is an expression, not a literal", name(field)),
                    want: format!("{} = {literal}", name(field)),
                }
            }
        }
    }
    if edits.is_empty() {
        return Codify::Unsupported;
    }
    let what: Vec<String> = fields
        .iter()
        .map(|(f, l)| format!("{} = {l}", name(f)))
        .collect();
    Codify::Edits {
        edits,
        summary: format!(
            "{direction} entry #{}: {}",
            actual["rule_no"],
            what.join(", ")
        ),
    }
}

impl Family for NetworkAcls {
    /// An entry removed by hand leaves the code; an entry changed by hand is written over the
    /// declared one, field by field.
    fn codify(&self, r: &CodifyRequest) -> Codify {
        match r.attribute {
            Some("ingress" | "egress") if r.kind != crate::model::DriftKind::Unmanaged => {
                codify_entry(r)
            }
            _ => Codify::Unsupported,
        }
    }

    fn config_ref(&self, cloud_id: &str) -> Option<ConfigRef> {
        ConfigRef::id("AWS::EC2::NetworkAcl", cloud_id)
    }

    fn live_from_config(&self, _ids: &[String], items: &[ConfigItem]) -> Result<FromConfig> {
        let mut out = FromConfig::default();
        for item in items {
            if let Some(obj) = live_object(&acl_from_config(item)?)? {
                out.seen(obj, item);
            }
        }
        Ok(out)
    }

    fn about(&self) -> &'static About {
        &NETWORK_ACLS
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut acls: BTreeMap<String, ExpectedObject> = BTreeMap::new();
        let new_object = |id: &str| ExpectedObject {
            family: NETWORK_ACLS.name,
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
        for r in resources
            .iter()
            .filter(|r| ACL_TYPES.contains(&r.resource_type.as_str()))
        {
            let id = r
                .attr_str("id")
                .or_else(|| r.attr_str("default_network_acl_id"))
                .ok_or_else(|| bad(r, "has no `id`"))?
                .to_string();
            let obj = acls.entry(id.clone()).or_insert_with(|| new_object(&id));
            if let Some(prev) = &obj.owner {
                return Err(bad(
                    r,
                    &format!(
                        "manages network ACL {id}, which {} manages too",
                        prev.address
                    ),
                ));
            }
            let (region, account) = region_account(r);
            obj.region = region;
            obj.account = account;
            obj.owner = Some(Declarer::of(r, true));
            obj.tags = tags_of(r);
            obj.is_default = r.resource_type == "aws_default_network_acl";
            for direction in ["ingress", "egress"] {
                for entry in inline_entries(r, direction)? {
                    obj.items.push(ExpectedItem {
                        attribute: direction,
                        item: entry.item(),
                        by: Declarer::of(r, true),
                    });
                }
            }
        }
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "aws_network_acl_rule")
        {
            let (acl, entry) = rule_resource(r)?;
            let obj = acls.entry(acl.clone()).or_insert_with(|| new_object(&acl));
            if obj.region.is_none() {
                obj.region = region_account(r).0;
            }
            obj.items.push(ExpectedItem {
                attribute: entry.direction,
                item: entry.item(),
                by: Declarer::of(r, false),
            });
        }
        Ok(acls
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
            let acls = read_by_ids(
                &format!("AWS ec2 DescribeNetworkAcls in {region}"),
                ids,
                NetworkAcl::network_acl_id,
                |batch| describe(aws, &client, region, batch),
            )
            .await?;
            let mut out = Vec::new();
            for acl in &acls {
                if let Some(obj) = live_object(acl)? {
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
        Box::pin(async move { acls_reach(clouds.aws()?, region, objects).await })
    }

    fn effect_of_change(&self, _attribute: &str, expected: &Item, actual: &Item) -> Effect {
        match (expected.facts.grants, actual.facts.grants) {
            (true, false) => Effect::Strengthens,
            (false, true) => Effect::Weakens,
            // Both allow: wider is weaker. Both deny: wider is stronger.
            (allow, _) => {
                let (wider, narrower) = (covers(actual, expected), covers(expected, actual));
                match (wider, narrower, allow) {
                    (true, false, true) | (false, true, false) => Effect::Weakens,
                    (false, true, true) | (true, false, false) => Effect::Strengthens,
                    _ => Effect::Unknown,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{PortRange, RuleAction};
    use serde_json::json;

    fn res(t: &str, attrs: Value) -> Resource {
        Resource::for_test(&format!("{t}.x"), t, attrs)
    }

    #[test]
    fn inline_rule_resource_and_live_entry_agree() {
        let acl = res(
            "aws_network_acl",
            json!({"id": "acl-1", "arn": "arn:aws:ec2:us-east-1:929327065333:network-acl/acl-1",
                "ingress": [{"action": "allow", "cidr_block": "172.31.0.0/16", "from_port": 80,
                    "icmp_code": 0, "icmp_type": 0, "ipv6_cidr_block": "", "protocol": "6",
                    "rule_no": 100, "to_port": 80}], "egress": []}),
        );
        let rule = res(
            "aws_network_acl_rule",
            json!({"network_acl_id": "acl-2", "rule_number": 100, "egress": false, "protocol": "tcp",
                "rule_action": "allow", "cidr_block": "172.31.0.0/16", "from_port": 80, "to_port": 80,
                "icmp_code": null, "icmp_type": null, "ipv6_cidr_block": ""}),
        );
        let objs = NetworkAcls.expected(&[&acl, &rule]).unwrap();
        assert_eq!(objs.len(), 2);
        assert_eq!(
            objs[0].items[0].item.key,
            objs[1].items[0].item.key.replace("acl-2", "acl-1")
        );
        let live = NetworkAclEntry::builder()
            .rule_number(100)
            .protocol("6")
            .rule_action(RuleAction::Allow)
            .egress(false)
            .cidr_block("172.31.0.0/16")
            .port_range(PortRange::builder().from(80).to(80).build())
            .build();
        let entry = live_entry("acl-1", &live).unwrap().unwrap();
        assert_eq!(entry.item().key, objs[0].items[0].item.key);
        assert_eq!(entry.item().identity.as_deref(), Some("ingress#100"));
    }

    #[test]
    fn implicit_deny_entries_are_ignored() {
        let e = NetworkAclEntry::builder()
            .rule_number(32767)
            .protocol("-1")
            .rule_action(RuleAction::Deny)
            .egress(false)
            .cidr_block("0.0.0.0/0")
            .build();
        assert_eq!(live_entry("acl-1", &e).unwrap(), None);
    }

    fn item(action: &str, proto: &str, from: i64, to: i64, cidr: &str) -> Item {
        Raw {
            direction: "ingress",
            rule_no: Some(100),
            action: Some(action),
            protocol: Some(proto),
            from: Some(from),
            to: Some(to),
            icmp_type: None,
            icmp_code: None,
            cidr4: Some(cidr),
            cidr6: None,
        }
        .entry()
        .unwrap()
        .item()
    }

    #[test]
    fn changed_entries_say_which_way() {
        let narrow = item("allow", "tcp", 443, 443, "10.0.0.0/8");
        let world = item("allow", "tcp", 443, 443, "0.0.0.0/0");
        let all = item("allow", "-1", 0, 0, "10.0.0.0/8");
        let deny = item("deny", "tcp", 443, 443, "10.0.0.0/8");
        let other = item("allow", "tcp", 22, 22, "192.168.0.0/16");
        let n = NetworkAcls;
        assert_eq!(
            n.effect_of_change("ingress", &narrow, &world),
            Effect::Weakens
        );
        assert_eq!(
            n.effect_of_change("ingress", &world, &narrow),
            Effect::Strengthens
        );
        assert_eq!(
            n.effect_of_change("ingress", &narrow, &all),
            Effect::Weakens
        );
        assert_eq!(
            n.effect_of_change("ingress", &narrow, &deny),
            Effect::Strengthens
        );
        assert_eq!(
            n.effect_of_change("ingress", &deny, &narrow),
            Effect::Weakens
        );
        assert_eq!(
            n.effect_of_change("ingress", &narrow, &other),
            Effect::Unknown
        );
    }

    #[test]
    fn fixture_states_parse() {
        let (_, resources) = crate::state::parse(
            "driftctl_default_network_acl",
            include_bytes!(
                "../../../tests/fixtures/shared/driftctl/state/aws_default_network_acl/terraform.tfstate"
            ),
        )
        .unwrap();
        let refs: Vec<&Resource> = resources.iter().collect();
        let objs = NetworkAcls.expected(&refs).unwrap();
        assert_eq!(objs.len(), 1);
        assert!(objs[0].is_default);
        // protocol "17" with ports 0-0 and "tcp" 0-0 are kept as written: EC2 stores them so.
        let mut keys: Vec<&str> = objs[0].items.iter().map(|i| i.item.key.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "egress|100|allow|udp|0-0|0.0.0.0/0",
                "ingress|100|allow|tcp|0-0|0.0.0.0/0",
                "ingress|90|deny|tcp|80-80|0.0.0.0/0"
            ]
        );
    }
}
