//! Which security groups guard a network interface or a load balancer: `aws_instance`
//! (`vpc_security_group_ids`, on its primary interface), `aws_network_interface`
//! (`security_groups`), `aws_network_interface_sg_attachment` (one group each), `aws_lb` /
//! `aws_alb` (`security_groups`), `aws_launch_template`, `aws_lambda_function`
//! (`vpc_config.security_group_ids`) and `aws_elasticache_cluster` /
//! `aws_elasticache_replication_group` (`security_group_ids`). A group attached by hand guards
//! the object as surely as a rule edited by hand, and changes no rule of any group.
//!
//! Every attachment is a slot of the interface it applies to, so an instance and the attachment
//! resources on its primary interface meet on one object. Where attachment resources manage an
//! interface, the instance's or interface's own list is the provider's copy of the live groups and
//! does not decide (the provider documents the two as conflicting). A live group that no resource
//! declares is `unmanaged` on the interface's owner; it weakens when the group allows any traffic,
//! and its facts are those of its widest rule (read in the same `DescribeSecurityGroups` batch for
//! all interfaces), so "admin ports from the internet" policies apply to an attached group too.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::NetworkInterface;
use aws_sdk_elasticloadbalancingv2::types::LoadBalancer;
use futures::future::BoxFuture;
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::json;

use super::security_group::{describe_groups, live_object};
use super::{reach, read_by_ids, region_account};
use crate::clients::aws::AwsContext;
use crate::clients::Clouds;
use crate::error::{Error, Result};
use crate::families::{
    bad, drop_computed_inline, str_list, About, Codify, CodifyRequest, Family, Subject,
};
use crate::model::{
    Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Exposure, Facts, Item, LiveObject, Reach,
};
use crate::state::Resource;

pub const SG_ATTACHMENTS: About = About {
    name: "sg_attachment",
    cloud: Cloud::Aws,
    label: "instance(s), interface(s), load balancer(s), functions and caches with their security groups",
    resource_types: &[
        "aws_instance",
        "aws_network_interface",
        "aws_network_interface_sg_attachment",
        "aws_lb",
        "aws_alb",
        "aws_launch_template",
        "aws_lambda_function",
        "aws_elasticache_cluster",
        "aws_elasticache_replication_group",
    ],
    batch_size: 200,
};

pub struct SgAttachments;

const ATTRIBUTE: &str = "security_groups";

/// The live rules of each attached group (`GROUP KEY`), carried beside the attachments for the
/// effect of a group nobody declared; never compared (every object ignores the attribute).
const RULES: &str = "attached_group_rules";

/// A group, with the device index of the launch template interface it guards (`None`: the
/// object itself).
type Slot = (Option<i64>, String);

/// An object read live, with the groups attached to it.
type Attached = (String, Vec<Slot>);

/// A group attached to an object, or (launch templates) to one of the interfaces it describes.
/// `facts`: those of the group's widest live rule (none for a declared group, whose rules its
/// own family compares).
fn attachment(group: &str, interface: Option<i64>, facts: Option<Facts>) -> Item {
    let (key, value, summary) = match interface {
        None => (
            group.to_string(),
            json!({ "security_group_id": group }),
            format!("security group {group}"),
        ),
        Some(n) => (
            format!("interface {n} {group}"),
            json!({ "device_index": n, "security_group_id": group }),
            format!("security group {group} on interface {n}"),
        ),
    };
    Item {
        identity: Some(key.clone()),
        key,
        value,
        summary,
        facts: facts.unwrap_or(Facts {
            grants: true,
            direction: None,
            ports: Vec::new(),
            cidrs: Vec::new(),
            labels: Vec::new(),
        }),
    }
}

/// The groups of a launch template's interfaces (`network_interfaces[].security_groups`), by
/// device index.
fn template_interfaces(r: &Resource) -> Vec<Slot> {
    let blocks = r
        .attr("network_interfaces")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let index = b
            .get("device_index")
            .and_then(crate::families::as_int)
            .unwrap_or(i as i64);
        for g in str_list(b.get("security_groups")) {
            out.push((Some(index), g));
        }
    }
    out
}

/// The object a resource's groups guard, and the groups it declares (with the device index of a
/// launch template's interface). `None`: the resource declares no groups of its own (a cache
/// cluster in a replication group has the group's, and the provider only copies them back).
fn declared(r: &Resource) -> Result<Option<Attached>> {
    let plain = |groups: Vec<String>| groups.into_iter().map(|g| (None, g)).collect::<Vec<_>>();
    let need = |name: &str| {
        r.attr_str(name)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| bad(r, &format!("has no `{name}`")))
    };
    let attached = match r.resource_type.as_str() {
        "aws_instance" => (
            need("primary_network_interface_id")?,
            plain(str_list(r.attr("vpc_security_group_ids"))),
        ),
        "aws_network_interface" => (need("id")?, plain(str_list(r.attr("security_groups")))),
        // Load balancers, functions and caches are their own objects, named by their ARN.
        "aws_lb" | "aws_alb" => (need("arn")?, plain(str_list(r.attr("security_groups")))),
        "aws_network_interface_sg_attachment" => (
            need("network_interface_id")?,
            vec![(None, need("security_group_id")?)],
        ),
        // Its latest version, as the provider reads it back.
        "aws_launch_template" => {
            let mut groups = plain(str_list(r.attr("vpc_security_group_ids")));
            groups.extend(template_interfaces(r));
            (need("id")?, groups)
        }
        // A function outside a VPC has no `vpc_config` (or one with empty lists): no groups.
        "aws_lambda_function" => {
            let config = crate::families::block(r.attr("vpc_config"));
            let groups = config.map(|c| str_list(c.get("security_group_ids")));
            (need("arn")?, plain(groups.unwrap_or_default()))
        }
        "aws_elasticache_cluster"
            if r.attr_str("replication_group_id")
                .is_some_and(|g| !g.is_empty()) =>
        {
            return Ok(None)
        }
        "aws_elasticache_cluster" | "aws_elasticache_replication_group" => {
            (need("arn")?, plain(str_list(r.attr("security_group_ids"))))
        }
        other => return Err(bad(r, &format!("unexpected type {other}"))),
    };
    Ok(Some(attached))
}

/// The facts of a group's widest rule (a group without rules allows nothing).
fn widest(rules: &[(&'static str, Item)]) -> Facts {
    Facts::widest(rules.iter().map(|(_, i)| i.facts.clone()))
}

/// One live rule of an attached group, as carried in `RULES`.
fn rule_of(group: &str, key: &str) -> Item {
    Item {
        identity: Some(format!("{group} {key}")),
        key: key.to_string(),
        value: json!({ "security_group_id": group, "rule": key }),
        summary: format!("{group}: {key}"),
        facts: Facts {
            grants: true,
            direction: None,
            ports: Vec::new(),
            cidrs: Vec::new(),
            labels: Vec::new(),
        },
    }
}

/// Does rule `wide` (a security group rule key, `direction|protocol|ports|peer`) allow all that
/// `narrow` allows? Same direction; protocol `all` or the same; ports `all`, or a range around
/// `narrow`'s (ICMP types only when equal); the same peer, or a CIDR containing `narrow`'s.
fn covers(wide: &str, narrow: &str) -> bool {
    if wide == narrow {
        return true;
    }
    let parts = |k: &str| -> Option<[String; 4]> {
        let mut it = k.splitn(4, '|').map(str::to_string);
        Some([it.next()?, it.next()?, it.next()?, it.next()?])
    };
    let (Some([wd, wp, wports, wpeer]), Some([nd, np, nports, npeer])) =
        (parts(wide), parts(narrow))
    else {
        return false;
    };
    let range = |p: &str| -> Option<(i64, i64)> {
        let (a, b) = p.split_once('-')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    };
    let protocol = wp == "all" || wp == np;
    let ports = wp == "all"
        || wports == "all"
        || wports == nports
        || matches!((range(&wports), range(&nports)), (Some((a, b)), Some((c, d))) if a <= c && d <= b);
    let peer = wpeer == npeer
        || match (wpeer.strip_prefix("cidr:"), npeer.strip_prefix("cidr:")) {
            (Some(w), Some(n)) => crate::model::cidr_contains(w, n),
            _ => false,
        };
    wd == nd && protocol && ports && peer
}

/// The list that names a resource type's groups, and the nested block it is in.
fn group_list(resource_type: &str) -> Option<(&'static [&'static str], &'static str)> {
    Some(match resource_type {
        "aws_instance" | "aws_launch_template" => (&[], "vpc_security_group_ids"),
        "aws_network_interface" | "aws_lb" | "aws_alb" => (&[], "security_groups"),
        "aws_lambda_function" => (&["vpc_config"], "security_group_ids"),
        "aws_elasticache_cluster" | "aws_elasticache_replication_group" => {
            (&[], "security_group_ids")
        }
        _ => return None,
    })
}

/// A group detached by hand leaves the list that attaches it, found as the state reads each
/// element (a literal id, or a reference such as `aws_security_group.debug.id`); an
/// `aws_network_interface_sg_attachment` goes. A group attached by hand (accepted) joins the
/// list: by reference when one security group resource of the module is that group, else as
/// its id. A launch template's per-interface groups are manual.
fn codify_attachment(r: &CodifyRequest) -> Codify {
    use hcl_edit::Span;
    let gone = r.actual.is_null();
    let item = if gone { r.expected } else { r.actual };
    let Some(group) = item["security_group_id"].as_str() else {
        return Codify::Unsupported;
    };
    let want = match gone {
        true => format!("security group {group} not attached"),
        false => format!("security group {group} attached"),
    };
    let start = r.block.span().map_or(0, |s| s.start);
    let manual = |offset: usize, reason: String| Codify::Manual {
        offset,
        reason,
        want: want.clone(),
    };
    if r.resource_type == "aws_network_interface_sg_attachment" {
        return match gone {
            true => Codify::RemoveResource {
                summary: format!("the attachment of {group} is gone"),
            },
            false => Codify::Unsupported,
        };
    }
    let Some((path, key)) = group_list(r.resource_type) else {
        return Codify::Unsupported;
    };
    if item.get("device_index").is_some() {
        return manual(
            start,
            "the group is on one of the template's network interfaces: edit that \
             `network_interfaces` block"
                .into(),
        );
    }
    let block = match crate::families::nested_block(r.block, path, &want) {
        Ok(b) => b,
        Err(manual) => return manual,
    };
    let at = block.span().map_or(start, |s| s.start);
    let elements = match crate::families::resolved_list(&block.body, key, r.refs) {
        Ok(e) => e,
        Err(offset) => {
            return manual(
                offset,
                format!("`{key}` is not a list of ids and references the state resolves"),
            )
        }
    };
    let done = |summary: String| Codify::Edits {
        edits: Vec::new(),
        summary,
    };
    if gone {
        return match crate::families::remove_resolved(r.text, &block.body, key, r.refs, group) {
            Ok(Some(edit)) => Codify::Edits {
                edits: vec![edit],
                summary: format!("{group} leaves `{key}`"),
            },
            Ok(None) => done(want.clone()),
            Err((offset, why)) => manual(offset, format!("`{key}`: {why}")),
        };
    }
    let written = elements.iter().any(|(v, _)| v.as_deref() == Some(group));
    let unknown = elements.iter().find(|(v, _)| v.is_none());
    match (written, unknown) {
        (false, Some((_, span))) => manual(
            span.start,
            "an element is a reference the state does not resolve: which one is this group \
             cannot be told"
                .into(),
        ),
        (true, _) => done(want.clone()),
        (false, None) => {
            let value = r
                .refs
                .reference_to(group, &["aws_security_group"], "id")
                .unwrap_or_else(|| format!("\"{group}\""));
            match crate::families::append_element(r.text, &block.body, at, key, &value) {
                Ok(edit) => Codify::Edits {
                    edits: vec![edit],
                    summary: format!("{value} joins `{key}`"),
                },
                Err(offset) => manual(offset, format!("`{key}` is not a literal list")),
            }
        }
    }
}

impl Family for SgAttachments {
    fn about(&self) -> &'static About {
        &SG_ATTACHMENTS
    }

    fn codify(&self, r: &CodifyRequest) -> Codify {
        match r.attribute {
            Some(ATTRIBUTE) => codify_attachment(r),
            _ => Codify::Unsupported,
        }
    }

    /// A group attached by hand weakens when it allows anything the declared groups that are
    /// attached do not (their live rules; a detached declared group's are not read, so it does
    /// not count). One that adds nothing is a difference of unknown effect, still reported.
    fn effect_of_unmanaged(
        &self,
        expected: &ExpectedObject,
        live: &LiveObject,
        attribute: &str,
        item: &Item,
    ) -> Effect {
        if attribute != ATTRIBUTE {
            return Effect::Unknown;
        }
        let group_of = |i: &Item| i.value["security_group_id"].as_str().map(str::to_string);
        let interface = item.value.get("device_index").cloned();
        let declared: BTreeSet<String> = expected
            .items
            .iter()
            .filter(|e| e.item.value.get("device_index").cloned() == interface)
            .filter_map(|e| group_of(&e.item))
            .collect();
        let rules_of = |group: &str| -> Vec<&str> {
            live.items
                .iter()
                .filter(|(a, i)| *a == RULES && group_of(i).as_deref() == Some(group))
                .map(|(_, i)| i.key.as_str())
                .collect()
        };
        let Some(group) = group_of(item) else {
            return Effect::Unknown;
        };
        let allowed: Vec<&str> = declared.iter().flat_map(|g| rules_of(g)).collect();
        let adds = rules_of(&group)
            .into_iter()
            .any(|r| !allowed.iter().any(|a| covers(a, r)));
        if adds {
            Effect::Weakens
        } else {
            Effect::Unknown
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut interfaces: BTreeMap<String, ExpectedObject> = BTreeMap::new();
        for r in resources {
            let Some((eni, groups)) = declared(r)? else {
                continue;
            };
            let obj = interfaces
                .entry(eni.clone())
                .or_insert_with(|| ExpectedObject {
                    family: SG_ATTACHMENTS.name,
                    cloud_id: eni.clone(),
                    region: None,
                    account: None,
                    owner: None,
                    items: Vec::new(),
                    tags: BTreeMap::new(),
                    is_default: false,
                    ignore: vec![RULES],
                    tolerated: Vec::new(),
                });
            let (region, account) = region_account(r);
            obj.region = obj.region.take().or(region);
            obj.account = obj.account.take().or(account);
            let separate = r.resource_type == "aws_network_interface_sg_attachment";
            if !separate {
                if let Some(prev) = &obj.owner {
                    return Err(bad(
                        r,
                        &format!(
                            "declares the groups of {eni}, which {} declares too",
                            prev.address
                        ),
                    ));
                }
                obj.owner = Some(Declarer::of(r, true));
            }
            for (interface, group) in groups {
                obj.items.push(ExpectedItem {
                    attribute: ATTRIBUTE,
                    item: attachment(&group, interface, None),
                    by: Declarer::of(r, !separate),
                });
            }
        }
        Ok(interfaces.into_values().map(drop_computed_inline).collect())
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        Box::pin(async move {
            let aws = clouds.aws()?;
            let service = |id: &String| id.split(':').nth(2).map(str::to_string);
            let (arns, rest): (Vec<String>, Vec<String>) =
                ids.iter().cloned().partition(|id| id.starts_with("arn:"));
            let (functions, arns): (Vec<String>, Vec<String>) = arns
                .into_iter()
                .partition(|id| service(id).as_deref() == Some("lambda"));
            let (caches, balancers): (Vec<String>, Vec<String>) = arns
                .into_iter()
                .partition(|id| service(id).as_deref() == Some("elasticache"));
            let (templates, interfaces): (Vec<String>, Vec<String>) =
                rest.into_iter().partition(|id| id.starts_with("lt-"));
            // (object id, attached groups with the interface of a launch template)
            let mut attached: Vec<Attached> = Vec::new();
            let found = read_by_ids(
                &format!("AWS ec2 DescribeNetworkInterfaces in {region}"),
                &interfaces,
                NetworkInterface::network_interface_id,
                |batch| describe_interfaces(aws, region, batch),
            )
            .await?;
            for eni in &found {
                let Some(id) = eni.network_interface_id() else {
                    continue;
                };
                let groups = eni
                    .groups()
                    .iter()
                    .map(|g| g.group_id().map(str::to_string));
                let groups = every_id(id, groups, region)?;
                attached.push((
                    id.to_string(),
                    groups.into_iter().map(|g| (None, g)).collect(),
                ));
            }
            // DescribeLoadBalancers takes 20 ARNs a call.
            for batch in balancers.chunks(20) {
                let found = read_by_ids(
                    &format!("AWS elbv2 DescribeLoadBalancers in {region}"),
                    batch,
                    LoadBalancer::load_balancer_arn,
                    |b| describe_balancers(aws, region, b),
                )
                .await?;
                for lb in &found {
                    let Some(arn) = lb.load_balancer_arn() else {
                        continue;
                    };
                    let groups = lb.security_groups().iter().map(|g| (None, g.clone()));
                    attached.push((arn.to_string(), groups.collect()));
                }
            }
            // Launch templates have no batch read of their latest versions: one call each.
            let latest: Vec<Option<Attached>> = stream::iter(templates)
                .map(|id| async move { latest_version(aws, region, &id).await })
                .buffered(4)
                .try_collect()
                .await?;
            attached.extend(latest.into_iter().flatten());
            if !functions.is_empty() {
                attached.extend(lambda_functions(aws, region, &functions).await?);
            }
            if !caches.is_empty() {
                attached.extend(cache_clusters(aws, region, &caches).await?);
            }
            let rules = group_rules(aws, region, &attached).await?;
            let mut out = Vec::new();
            for (id, groups) in attached {
                let mut items = Vec::new();
                let mut seen = BTreeSet::new();
                for (n, g) in &groups {
                    let (facts, keys) = match rules.get(g) {
                        Some((f, k)) => (Some(f.clone()), k.as_slice()),
                        None => (None, &[][..]),
                    };
                    items.push((ATTRIBUTE, attachment(g, *n, facts)));
                    if seen.insert(g.clone()) {
                        items.extend(keys.iter().map(|k| (RULES, rule_of(g, k))));
                    }
                }
                out.push(LiveObject {
                    cloud_id: id,
                    items,
                    is_default: false,
                });
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
        Box::pin(async move { attachments_reach(clouds.aws()?, region, objects).await })
    }
}

/// How drifted attachment objects are reached: an interface (an instance's primary one) through
/// its public address and its subnet's route, a load balancer by its scheme, then by what its
/// live groups admit together. Lambda functions and cache nodes take no connection from the
/// internet; a launch template is reached only through the instances launched from it (which
/// are objects of their own).
async fn attachments_reach(
    aws: &AwsContext,
    region: &str,
    objects: &[Subject<'_>],
) -> Result<BTreeMap<String, Reach>> {
    let service = |id: &str| id.split(':').nth(2).map(str::to_string);
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut not_public: BTreeMap<String, String> = BTreeMap::new();
    let mut out = BTreeMap::new();
    let mut interfaces = Vec::new();
    let mut balancers = Vec::new();
    for o in objects {
        let id = o.live.cloud_id.clone();
        match (id.starts_with("arn:"), service(&id).as_deref()) {
            (true, Some("lambda")) => {
                out.insert(
                    id,
                    Reach::new(
                        Exposure::Private,
                        "a Lambda function takes no connection from the internet: it is invoked \
                         through the Lambda API",
                    ),
                );
            }
            (true, Some("elasticache")) => {
                out.insert(
                    id,
                    Reach::new(
                        Exposure::Private,
                        "ElastiCache nodes have no public address: only their VPC reaches them",
                    ),
                );
            }
            (true, _) => balancers.push(id),
            (false, _) if id.starts_with("lt-") => {
                out.insert(
                    id,
                    Reach::new(
                        Exposure::Unknown,
                        "a launch template is reached through the instances launched from it, \
                         which are checked as instances",
                    ),
                );
            }
            (false, _) => interfaces.push(id),
        }
    }
    if !interfaces.is_empty() {
        let found = read_by_ids(
            &format!("AWS ec2 DescribeNetworkInterfaces in {region}"),
            &interfaces,
            NetworkInterface::network_interface_id,
            |batch| describe_interfaces(aws, region, batch),
        )
        .await?;
        let found: Vec<reach::Interface> = found.iter().map(reach::interface).collect();
        let subnets: BTreeMap<String, String> = found
            .iter()
            .filter(|i| i.public_ip.is_some() || !i.ipv6.is_empty())
            .map(|i| (i.subnet.clone(), i.vpc.clone()))
            .collect();
        let routes = if subnets.is_empty() {
            BTreeMap::new()
        } else {
            reach::subnet_routes(aws, &aws.ec2(region), region, &subnets).await?
        };
        for i in &found {
            match reach::public_path(i, &routes) {
                Some(p) => paths
                    .entry(i.id.clone())
                    .or_default()
                    .push(format!("reached at {p}")),
                None => {
                    not_public.insert(
                        i.id.clone(),
                        format!(
                            "{} has no public address in a subnet routed to an internet gateway",
                            i.id
                        ),
                    );
                }
            }
        }
    }
    for batch in balancers.chunks(20) {
        let found = read_by_ids(
            &format!("AWS elbv2 DescribeLoadBalancers in {region}"),
            batch,
            LoadBalancer::load_balancer_arn,
            |b| describe_balancers(aws, region, b),
        )
        .await?;
        for lb in &found {
            let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
            let name = lb.load_balancer_name().unwrap_or_default();
            if lb.scheme().map(|s| s.as_str()) == Some("internet-facing") {
                paths.entry(arn).or_default().push(format!(
                    "{name} is an internet-facing load balancer ({})",
                    lb.dns_name().unwrap_or_default()
                ));
            } else {
                not_public.insert(arn, format!("{name} is an internal load balancer"));
            }
        }
    }
    // What the objects' live groups admit, together.
    let groups_of = |o: &Subject| -> Vec<String> {
        o.live
            .items
            .iter()
            .filter(|(a, _)| *a == ATTRIBUTE)
            .filter_map(|(_, i)| i.value.get("security_group_id")?.as_str())
            .map(str::to_string)
            .collect()
    };
    let judged: Vec<&Subject> = objects
        .iter()
        .filter(|o| {
            paths.contains_key(&o.live.cloud_id) || not_public.contains_key(&o.live.cloud_id)
        })
        .collect();
    let groups: Vec<String> = judged
        .iter()
        .flat_map(|o| groups_of(o))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let client = aws.ec2(region);
    let mut rules: BTreeMap<String, Vec<(&'static str, Item)>> = BTreeMap::new();
    for batch in groups.chunks(200) {
        let found = read_by_ids(
            &format!("AWS ec2 DescribeSecurityGroups in {region}"),
            batch,
            aws_sdk_ec2::types::SecurityGroup::group_id,
            |b| describe_groups(aws, &client, region, b),
        )
        .await?;
        for sg in &found {
            if let Some(obj) = live_object(sg)? {
                rules.insert(obj.cloud_id, obj.items);
            }
        }
    }
    for o in judged {
        let id = o.live.cloud_id.clone();
        let admitted: Vec<(&'static str, Item)> = groups_of(o)
            .iter()
            .filter_map(|g| rules.get(g))
            .flatten()
            .cloned()
            .collect();
        let reach = crate::families::reach_by_paths(
            paths.get(&id).map(Vec::as_slice).unwrap_or_default(),
            crate::families::inbound_admits(&admitted).map(|(e, why)| {
                (
                    e,
                    why.replace("its inbound", "its security groups' inbound"),
                )
            }),
            not_public.get(&id).cloned().unwrap_or_default(),
        );
        out.insert(id, reach);
    }
    Ok(out)
}

/// Group ids of an interface; a group listed without one is a malformed answer.
fn every_id(
    eni: &str,
    groups: impl Iterator<Item = Option<String>>,
    region: &str,
) -> Result<Vec<String>> {
    groups
        .map(|g| {
            g.ok_or_else(|| {
                Error::new(
                    format!("AWS ec2 DescribeNetworkInterfaces in {region}"),
                    format!("interface {eni} lists a security group without an id"),
                )
            })
        })
        .collect()
}

/// The widest rule and the rule keys of every attached group, from `DescribeSecurityGroups` in
/// batches of 200 (for the effect of an attachment nobody declared).
async fn group_rules(
    aws: &AwsContext,
    region: &str,
    attached: &[Attached],
) -> Result<BTreeMap<String, (Facts, Vec<String>)>> {
    let groups: BTreeSet<String> = attached
        .iter()
        .flat_map(|(_, g)| g.iter().map(|(_, g)| g.clone()))
        .collect();
    let groups: Vec<String> = groups.into_iter().collect();
    let client = aws.ec2(region);
    let mut rules: BTreeMap<String, (Facts, Vec<String>)> = BTreeMap::new();
    for batch in groups.chunks(200) {
        let found = read_by_ids(
            &format!("AWS ec2 DescribeSecurityGroups in {region}"),
            batch,
            aws_sdk_ec2::types::SecurityGroup::group_id,
            |b| describe_groups(aws, &client, region, b),
        )
        .await?;
        for sg in &found {
            if let Some(obj) = live_object(sg)? {
                let keys = obj.items.iter().map(|(_, i)| i.key.clone()).collect();
                rules.insert(obj.cloud_id.clone(), (widest(&obj.items), keys));
            }
        }
    }
    Ok(rules)
}

/// From this many functions in a region, `ListFunctions` (50 a page) reads them instead of one
/// `GetFunctionConfiguration` each.
const LIST_FUNCTIONS_MIN: usize = 10;

/// The groups of these functions (their `$LATEST` `VpcConfig`, as the provider reads them).
/// Many are listed; one the listing does not show is confirmed gone by a direct read, so a
/// function created while the pages were read is not taken for deleted.
async fn lambda_functions(
    aws: &AwsContext,
    region: &str,
    arns: &[String],
) -> Result<Vec<Attached>> {
    let groups_of = |config: Option<&aws_sdk_lambda::types::VpcConfigResponse>| -> Vec<Slot> {
        config
            .map(|c| {
                c.security_group_ids()
                    .iter()
                    .map(|g| (None, g.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let client = aws.lambda(region);
    let mut found: BTreeMap<String, Vec<Slot>> = BTreeMap::new();
    if arns.len() >= LIST_FUNCTIONS_MIN {
        let wanted: BTreeSet<&str> = arns.iter().map(String::as_str).collect();
        let mut pages = client
            .list_functions()
            .max_items(50)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            aws.count("lambda", "ListFunctions");
            let page = page.map_err(|e| aws.error("lambda", "ListFunctions", region, e))?;
            for f in page.functions() {
                let Some(arn) = f.function_arn().filter(|a| wanted.contains(a)) else {
                    continue;
                };
                found.insert(arn.to_string(), groups_of(f.vpc_config()));
            }
        }
    }
    let unseen: Vec<String> = arns
        .iter()
        .filter(|a| !found.contains_key(*a))
        .cloned()
        .collect();
    let read: Vec<Option<(String, Vec<Slot>)>> = stream::iter(unseen)
        .map(|arn| {
            let client = client.clone();
            async move {
                aws.count("lambda", "GetFunctionConfiguration");
                let answer = client
                    .get_function_configuration()
                    .function_name(&arn)
                    .send()
                    .await;
                match answer {
                    Ok(f) => Ok(Some((arn, groups_of(f.vpc_config())))),
                    Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
                    Err(e) => Err(aws.error("lambda", "GetFunctionConfiguration", region, e)),
                }
            }
        })
        .buffered(4)
        .try_collect()
        .await?;
    found.extend(read.into_iter().flatten());
    Ok(found.into_iter().collect())
}

/// The groups of these cache clusters and replication groups (ARNs `...:cluster:ID`,
/// `...:replicationgroup:ID`), from one listing of the region's clusters (`DescribeCacheClusters`,
/// 100 a page): a replication group's groups are those of its member clusters (the provider reads
/// the first; a group attached to any member guards it). An id the listing does not show is
/// confirmed gone by a direct read.
async fn cache_clusters(aws: &AwsContext, region: &str, arns: &[String]) -> Result<Vec<Attached>> {
    let client = aws.elasticache(region);
    let what = |op: &str| format!("AWS elasticache {op} in {region}");
    let mut clusters: BTreeMap<String, Vec<Slot>> = BTreeMap::new();
    let mut members: BTreeMap<String, Vec<Slot>> = BTreeMap::new();
    let mut pages = client
        .describe_cache_clusters()
        .max_records(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        aws.count("elasticache", "DescribeCacheClusters");
        let page =
            page.map_err(|e| aws.error("elasticache", "DescribeCacheClusters", region, e))?;
        for c in page.cache_clusters() {
            let Some(id) = c.cache_cluster_id() else {
                return Err(Error::new(
                    what("DescribeCacheClusters"),
                    "a cache cluster is listed without its id",
                ));
            };
            let mut groups = Vec::new();
            for g in c.security_groups() {
                let g = g.security_group_id().ok_or_else(|| {
                    Error::new(
                        what("DescribeCacheClusters"),
                        format!("cluster {id} lists a security group without an id"),
                    )
                })?;
                groups.push((None, g.to_string()));
            }
            if let Some(rg) = c.replication_group_id().filter(|g| !g.is_empty()) {
                let all = members.entry(rg.to_string()).or_default();
                all.extend(groups.iter().cloned());
                all.sort();
                all.dedup();
            }
            clusters.insert(id.to_string(), groups);
        }
    }
    let mut out = Vec::new();
    for arn in arns {
        let (kind, id) = match arn.rsplitn(3, ':').collect::<Vec<_>>().as_slice() {
            [id, kind, _] => (kind.to_string(), id.to_string()),
            _ => {
                return Err(Error::new(
                    what("read"),
                    format!("`{arn}` is not an ElastiCache ARN"),
                ))
            }
        };
        let listed = match kind.as_str() {
            "cluster" => clusters.get(&id),
            "replicationgroup" => members.get(&id),
            other => {
                return Err(Error::new(
                    what("read"),
                    format!("`{arn}`: unexpected ElastiCache resource type `{other}`"),
                ))
            }
        };
        if let Some(groups) = listed {
            out.push((arn.clone(), groups.clone()));
            continue;
        }
        // Not listed: gone, or created while the pages were read.
        let exists = if kind == "cluster" {
            aws.count("elasticache", "DescribeCacheClusters");
            match client
                .describe_cache_clusters()
                .cache_cluster_id(&id)
                .send()
                .await
            {
                Ok(_) => true,
                Err(e) if e.code() == Some("CacheClusterNotFound") => false,
                Err(e) => return Err(aws.error("elasticache", "DescribeCacheClusters", region, e)),
            }
        } else {
            aws.count("elasticache", "DescribeReplicationGroups");
            match client
                .describe_replication_groups()
                .replication_group_id(&id)
                .send()
                .await
            {
                Ok(a) => a
                    .replication_groups()
                    .iter()
                    .any(|g| !g.member_clusters().is_empty()),
                Err(e) if e.code() == Some("ReplicationGroupNotFoundFault") => false,
                Err(e) => {
                    return Err(aws.error("elasticache", "DescribeReplicationGroups", region, e))
                }
            }
        };
        if exists {
            return Err(Error::new(
                what("DescribeCacheClusters"),
                format!("{arn} exists but its clusters were not in the listing; run again"),
            ));
        }
    }
    Ok(out)
}

/// The groups of a launch template's latest version; `None` when the template does not exist.
async fn latest_version(aws: &AwsContext, region: &str, id: &str) -> Result<Option<Attached>> {
    let client = aws.ec2(region);
    aws.count("ec2", "DescribeLaunchTemplateVersions");
    let answer = match client
        .describe_launch_template_versions()
        .launch_template_id(id)
        .versions("$Latest")
        .send()
        .await
    {
        Ok(a) => a,
        Err(e) if e.code() == Some("InvalidLaunchTemplateId.NotFound") => return Ok(None),
        Err(e) => return Err(aws.error("ec2", "DescribeLaunchTemplateVersions", region, e)),
    };
    let Some(data) = answer
        .launch_template_versions()
        .first()
        .and_then(|v| v.launch_template_data())
    else {
        return Err(Error::new(
            format!("AWS ec2 DescribeLaunchTemplateVersions in {region}"),
            format!("launch template {id} answered without its latest version's data"),
        ));
    };
    let mut groups: Vec<Slot> = data
        .security_group_ids()
        .iter()
        .map(|g| (None, g.clone()))
        .collect();
    for (i, nic) in data.network_interfaces().iter().enumerate() {
        let index = nic.device_index().map_or(i as i64, i64::from);
        groups.extend(nic.groups().iter().map(|g| (Some(index), g.clone())));
    }
    Ok(Some((id.to_string(), groups)))
}

/// One `DescribeLoadBalancers` by ARNs; `None` when one of them does not exist.
async fn describe_balancers(
    aws: &AwsContext,
    region: &str,
    arns: Vec<String>,
) -> Result<Option<Vec<LoadBalancer>>> {
    let client = aws.elbv2(region);
    let mut pages = client
        .describe_load_balancers()
        .set_load_balancer_arns(Some(arns))
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        aws.count("elbv2", "DescribeLoadBalancers");
        match page {
            Ok(page) => out.extend(page.load_balancers().iter().cloned()),
            Err(e) if e.code() == Some("LoadBalancerNotFound") => return Ok(None),
            Err(e) => return Err(aws.error("elbv2", "DescribeLoadBalancers", region, e)),
        }
    }
    Ok(Some(out))
}

/// One `DescribeNetworkInterfaces` by ids; `None` when one of them does not exist.
async fn describe_interfaces(
    aws: &AwsContext,
    region: &str,
    ids: Vec<String>,
) -> Result<Option<Vec<NetworkInterface>>> {
    let client = aws.ec2(region);
    let mut pages = client
        .describe_network_interfaces()
        .set_network_interface_ids(Some(ids))
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        aws.count("ec2", "DescribeNetworkInterfaces");
        match page {
            Ok(page) => out.extend(page.network_interfaces().iter().cloned()),
            Err(e) if e.code() == Some("InvalidNetworkInterfaceID.NotFound") => return Ok(None),
            Err(e) => return Err(aws.error("ec2", "DescribeNetworkInterfaces", region, e)),
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::drifts_against;
    use crate::model::{DriftKind, Effect};

    fn instance(groups: &[&str]) -> Resource {
        Resource::for_test(
            "aws_instance.web",
            "aws_instance",
            json!({"id": "i-1", "arn": "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
                   "primary_network_interface_id": "eni-1", "vpc_security_group_ids": groups}),
        )
    }

    fn open(cidr: &str, port: i32) -> Facts {
        Facts {
            grants: true,
            direction: Some("ingress"),
            ports: vec![crate::model::Ports::Range(port, port)],
            cidrs: vec![cidr.to_string()],
            labels: Vec::new(),
        }
    }

    #[test]
    fn an_extra_group_attached_by_hand_weakens_when_it_adds_access() {
        let live = |extra: &str| {
            vec![
                (ATTRIBUTE, attachment("sg-app", None, None)),
                (
                    RULES,
                    rule_of("sg-app", "ingress|tcp|443-443|cidr:10.0.0.0/8"),
                ),
                (
                    ATTRIBUTE,
                    attachment("sg-x", None, Some(open("0.0.0.0/0", 22))),
                ),
                (RULES, rule_of("sg-x", extra)),
            ]
        };
        let d = drifts_against(
            &SgAttachments,
            &instance(&["sg-app"]),
            live("ingress|tcp|22-22|cidr:0.0.0.0/0"),
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].kind, DriftKind::Unmanaged);
        assert_eq!(d[0].effect, Effect::Weakens);
        assert_eq!(d[0].address, "aws_instance.web");
        assert!(d[0].facts.as_ref().unwrap().open_to_internet());
        // A group that allows only what the declared group already allows: still a difference,
        // but not a weakening.
        let d = drifts_against(
            &SgAttachments,
            &instance(&["sg-app"]),
            live("ingress|tcp|443-443|cidr:10.1.0.0/16"),
        );
        assert_eq!((d.len(), d[0].effect), (1, Effect::Unknown), "{d:?}");
    }

    #[test]
    fn rule_coverage() {
        let all = "ingress|all|all|cidr:0.0.0.0/0";
        assert!(covers(all, "ingress|tcp|22-22|cidr:10.0.0.0/8"));
        assert!(covers(
            "ingress|tcp|0-1024|cidr:10.0.0.0/8",
            "ingress|tcp|22-22|cidr:10.1.0.0/16"
        ));
        assert!(!covers(
            "ingress|tcp|0-1024|cidr:10.0.0.0/8",
            "ingress|udp|53-53|cidr:10.1.0.0/16"
        ));
        assert!(!covers(
            "ingress|tcp|22-22|cidr:10.0.0.0/8",
            "ingress|tcp|22-22|cidr:0.0.0.0/0"
        ));
        assert!(!covers(
            "egress|all|all|cidr:0.0.0.0/0",
            "ingress|tcp|22-22|cidr:10.0.0.0/8"
        ));
        assert!(!covers(
            "ingress|tcp|22-22|sg:sg-1",
            "ingress|tcp|22-22|sg:sg-2"
        ));
        assert!(!covers(
            "ingress|icmp|icmp:8:0|cidr:0.0.0.0/0",
            "ingress|icmp|icmp:0:0|cidr:0.0.0.0/0"
        ));
    }

    #[test]
    fn a_declared_group_detached_is_a_change_on_its_declarer() {
        let d = drifts_against(
            &SgAttachments,
            &instance(&["sg-app", "sg-db"]),
            vec![(ATTRIBUTE, attachment("sg-app", None, None))],
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].kind, DriftKind::Changed);
        assert_eq!(d[0].effect, Effect::Strengthens);
        assert_eq!(d[0].address, "aws_instance.web");
    }

    #[test]
    fn attachment_resources_outrank_the_instance_copy() {
        // The instance's list is the provider's refreshed copy (it includes sg-extra, managed by
        // the attachment resource); the attachment resource decides.
        let inst = instance(&["sg-app", "sg-extra"]);
        let att = Resource::for_test(
            "aws_network_interface_sg_attachment.extra",
            "aws_network_interface_sg_attachment",
            json!({"id": "sg-extra_eni-1", "network_interface_id": "eni-1", "security_group_id": "sg-extra"}),
        );
        let objs = SgAttachments.expected(&[&inst, &att]).unwrap();
        assert_eq!(objs.len(), 1);
        let declared: Vec<&str> = objs[0].items.iter().map(|i| i.item.key.as_str()).collect();
        assert_eq!(declared, ["sg-extra"]);
        assert_eq!(objs[0].owner.as_ref().unwrap().address, "aws_instance.web");
    }

    #[test]
    fn the_widest_rule_speaks_for_the_group() {
        let rules = vec![
            (
                "ingress",
                attachment("r1", None, Some(open("10.0.0.0/8", 22))),
            ),
            (
                "ingress",
                attachment("r2", None, Some(open("0.0.0.0/0", 443))),
            ),
            (
                "ingress",
                attachment("r3", None, Some(open("0.0.0.0/0", 3389))),
            ),
        ];
        let f = widest(&rules);
        assert!(f.open_to_internet() && f.ports[0].includes(3389));
        assert!(!widest(&[]).grants);
    }
}
